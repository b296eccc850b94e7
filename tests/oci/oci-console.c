// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * oci-console [-r ROWS:COLS:TEXT] SOCKET OUT [INPUT]: the shim's end of
 * --console-socket, as containerd's console socket takes it: listens on the
 * unix socket SOCKET, receives one descriptor with SCM_RIGHTS, checks that
 * it is a pty master, writes INPUT to it and copies what it says to the
 * file OUT until every holder of its slave is gone. With -r, once the
 * output holds TEXT, it resizes the terminal to ROWS x COLS as the shim's
 * ResizePty does (TIOCSWINSZ on the master), once. Exit 0, or 1 with a
 * line on stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define TIMEOUT_S 900

static int die(const char *what)
{
	fprintf(stderr, "oci-console: %s: %s\n", what, strerror(errno));
	return 1;
}

static int recv_fd(int conn, char *name, size_t len)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = name, .iov_len = len - 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
			      .msg_controllen = sizeof(ctl.buf) };
	struct cmsghdr *c;
	ssize_t n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
	int fd;

	if (n < 0)
		return -1;
	name[n] = '\0';
	c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int))) {
		errno = EPROTO;
		return -1;
	}
	memcpy(&fd, CMSG_DATA(c), sizeof(fd));
	return fd;
}

/* Keeps the last bytes seen so that TEXT split across reads is found. */
static bool seen(char *tail, size_t cap, const char *buf, size_t n, const char *text)
{
	size_t have = strlen(tail);

	for (size_t i = 0; i < n; i++) {
		if (have == cap - 1) {
			memmove(tail, tail + 1, cap - 2);
			have--;
		}
		tail[have++] = buf[i] ? buf[i] : ' ';
		tail[have] = '\0';
		if (strstr(tail, text))
			return true;
	}
	return false;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char name[256], buf[4096], text[128] = "", tail[256] = "";
	unsigned int ptn, rows = 0, cols = 0;
	int s, conn, m, out, n_ = 0;
	ssize_t n;

	if (argc > 2 && !strcmp(argv[1], "-r")) {
		if (sscanf(argv[2], "%u:%u:%n", &rows, &cols, &n_) != 2 || !n_ || !argv[2][n_] ||
		    strlen(argv[2] + n_) >= sizeof(text) || !rows || !cols || rows > 65535 ||
		    cols > 65535) {
			fprintf(stderr, "oci-console: bad -r '%s'\n", argv[2]);
			return 1;
		}
		strcpy(text, argv[2] + n_);
		argv += 2;
		argc -= 2;
	}
	if (argc < 3 || argc > 4 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: oci-console [-r ROWS:COLS:TEXT] SOCKET OUT [INPUT]\n");
		return 1;
	}
	alarm(TIMEOUT_S);
	strcpy(sa.sun_path, argv[1]);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s, 1) < 0)
		return die(argv[1]);
	out = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (out < 0)
		return die(argv[2]);
	conn = accept(s, NULL, NULL);
	if (conn < 0 || (m = recv_fd(conn, name, sizeof(name))) < 0)
		return die("receiving the master");
	close(conn);
	if (ioctl(m, TIOCGPTN, &ptn) < 0)
		return die("not a pty master");
	dprintf(STDERR_FILENO, "oci-console: got a pty master (%s)\n", name);
	if (argc == 4 && write(m, argv[3], strlen(argv[3])) != (ssize_t)strlen(argv[3]))
		return die("writing the input");
	while ((n = read(m, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR)) {
		if (n > 0 && write(out, buf, (size_t)n) != n)
			return die(argv[2]);
		if (n > 0 && text[0] && seen(tail, sizeof(tail), buf, (size_t)n, text)) {
			struct winsize ws = { .ws_row = (unsigned short)rows,
					      .ws_col = (unsigned short)cols };
			if (ioctl(m, TIOCSWINSZ, &ws) < 0)
				return die("resizing the terminal");
			dprintf(STDERR_FILENO, "oci-console: resized to %u %u\n", rows, cols);
			text[0] = '\0';
		}
	}
	/* EIO: the slave's last holder is gone. */
	return 0;
}
