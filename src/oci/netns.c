// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The network namespace config.json's linux.namespaces names (a path the
 * bundle's author chose: hostile). It is first opened O_PATH, which opens
 * nothing (a FIFO does not block, a device sees no open), and must be on
 * nsfs; only then is it opened for setns, and its type asked of the kernel.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "oci.h"

int oci_netns_open(const char *path, char *err, size_t errlen)
{
	char self[64];
	struct statfs sfs;
	int pfd, fd, type;

	pfd = open(path, O_PATH | O_CLOEXEC);
	if (pfd < 0) {
		snprintf(err, errlen, "linux.namespaces network path %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstatfs(pfd, &sfs) < 0 || sfs.f_type != NSFS_MAGIC) {
		close(pfd);
		snprintf(err, errlen, "linux.namespaces network path %s: not a network namespace",
			 path);
		return -1;
	}
	snprintf(self, sizeof(self), "/proc/self/fd/%d", pfd);
	fd = open(self, O_RDONLY | O_CLOEXEC);
	close(pfd);
	if (fd < 0) {
		snprintf(err, errlen, "linux.namespaces network path %s: %s", path, strerror(errno));
		return -1;
	}
	type = ioctl(fd, NS_GET_NSTYPE);
	if (type != CLONE_NEWNET) {
		close(fd);
		snprintf(err, errlen, "linux.namespaces network path %s: not a network namespace",
			 path);
		return -1;
	}
	return fd;
}
