// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * --console-socket: the terminal of a container's process (or an exec's)
 * when process.terminal is true. As runc does, the runtime makes a pty and
 * sends its master over the unix socket the shim listens on (SCM_RIGHTS,
 * the master's name as the message); the slave becomes the process's
 * stdio. Here the slave carries bytes to and from the VM only: it is raw,
 * and the guest helper (alcatraz-oci-pause --tty) gives the guest's process
 * a pty of the guest's own, which does the echo and line editing, so
 * nothing is done twice.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "oci.h"

#define PTMX "/dev/ptmx"

int oci_console_open(int *master, int *slave)
{
	struct termios t;
	char name[64];
	int m, s, err;

	m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0)
		return -errno;
	if (grantpt(m) < 0 || unlockpt(m) < 0 || ptsname_r(m, name, sizeof(name)))
		goto fail;
	s = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s < 0)
		goto fail;
	if (tcgetattr(s, &t) == 0) {
		cfmakeraw(&t);
		tcsetattr(s, TCSANOW, &t);
	}
	*master = m;
	*slave = s;
	return 0;
fail:
	err = -errno;
	close(m);
	return err ? err : -EIO;
}

int oci_console_send(const char *path, int master)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = (void *)PTMX, .iov_len = sizeof(PTMX) - 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
			      .msg_controllen = sizeof(ctl.buf) };
	struct cmsghdr *c;
	int sock, err = 0;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return -errno;
	memset(&ctl, 0, sizeof(ctl));
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &master, sizeof(int));
	if (connect(sock, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    sendmsg(sock, &msg, MSG_NOSIGNAL) < 0)
		err = -errno;
	close(sock);
	return err;
}
