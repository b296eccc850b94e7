// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A bare kernel gives PID 1 an empty rootfs; what commands take for
 * granted (/proc, /dev, /tmp, a hostname, a working lo) is set up here.
 * Every step only logs its failure: a command that needs none of it should
 * still run.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "init.h"

static void mount_fs(const char *src, const char *target, const char *type,
		     unsigned long flags, const char *data)
{
	if (mkdir(target, 0755) < 0 && errno != EEXIST)
		klog(4, "mkdir %s: %s", target, strerror(errno));
	/* EBUSY: already there, e.g. devtmpfs automounted on a disk root. */
	if (mount(src, target, type, flags, data) < 0 && errno != EBUSY)
		klog(4, "mount %s on %s: %s", type, target, strerror(errno));
}

void setup_system(void)
{
	static const char *const links[][2] = {
		{ "/proc/self/fd", "/dev/fd" },
		{ "/proc/self/fd/0", "/dev/stdin" },
		{ "/proc/self/fd/1", "/dev/stdout" },
		{ "/proc/self/fd/2", "/dev/stderr" },
	};
	struct ifreq ifr;
	int fd;

	mount_fs("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
	/* Before anything else opens a file: fds 0-2 must not be free, or the
	 * control socket could end up as some child's stdout. */
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		for (int i = 0; i < 3; i++)
			if (fd != i)
				dup2(fd, i);
		if (fd > 2)
			close(fd);
	}
	g.kmsg = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	mount_fs("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	mount_fs("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	mount_fs("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "mode=0620,ptmxmode=0666");
	mount_fs("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
	mount_fs("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
	mount_fs("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		if (symlink(links[i][0], links[i][1]) < 0 && errno != EEXIST)
			klog(4, "symlink %s: %s", links[i][1], strerror(errno));

	if (sethostname("alcatraz", 8) < 0)
		klog(4, "sethostname: %s", strerror(errno));

	/* Programs expect a working localhost even without a network. */
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
		if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
			ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
			if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
				klog(4, "bringing up lo: %s", strerror(errno));
		}
		close(fd);
	}
}

/* A rootfs with busybox but no applet links gets them now. */
void install_busybox_links(void)
{
	pid_t pid;
	int st;

	if (access("/bin/sh", X_OK) == 0 || access("/bin/busybox", X_OK) != 0)
		return;
	pid = fork();
	if (pid == 0) {
		execl("/bin/busybox", "busybox", "--install", "-s", "/bin", (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, &st, 0);
}
