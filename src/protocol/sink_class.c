// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * What kind of output descriptor a writer has: both the VMM (its console
 * and serial sinks, before its jail) and the library (an exec's, for the
 * jailed VMM, which may not look) ask here.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm_protocol.h"

enum vmm_sink_class proto_sink_classify(int fd, bool *tty, int *own_fd)
{
	char path[32];
	struct stat st;

	*own_fd = -1;
	*tty = isatty(fd);
	if (fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode))
		return VMM_SINK_SOCKET;
	if (fstat(fd, &st) == 0 && (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)))
		return VMM_SINK_FILE;
	/* A pipe or terminal: a description of our own, so that O_NONBLOCK
	 * never reaches the caller's, which other processes may share. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	*own_fd = open(path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	return *own_fd >= 0 ? VMM_SINK_NONBLOCK : VMM_SINK_POLLED;
}
