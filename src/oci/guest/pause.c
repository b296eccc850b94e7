// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * alcatraz-oci-pause, static, so that it runs in any image:
 *
 *   alcatraz-oci-pause
 *       the main command of a container's VM. It only waits: the
 *       container's own process runs as an exec beside it, and the VM
 *       ends when the supervisor kills it.
 *   alcatraz-oci-pause [--fork] [--hostname NAME] [--rlimit RES:SOFT:HARD]...
 *                      [--groups GID,...] [--user UID:GID] -- ARGV...
 *       what the container's process is started through when config.json
 *       asks for what an exec cannot do itself: it sets the guest's
 *       hostname and the resource limits, becomes UID:GID with those
 *       supplementary groups (none without --groups) and executes ARGV
 *       with a PATH search. Status 125 when it cannot, 126/127 as a
 *       shell's when ARGV is not executable / not found. With
 *       --tty ROWS:COLS (0:0: the default size) ARGV gets a terminal of
 *       the guest's own (its session's controlling tty) while this
 *       process relays its stdin and stdout to the pty's master and
 *       passes on the signals it gets (but a SIGWINCH that alcatraz-init
 *       queues carries the host terminal's new size, which it sets on
 *       the pty); it exits with ARGV's status (128+n for signal n).
 *       With --fork (the container's process, not an exec's) ARGV runs
 *       as a child in a process group of its own, to which this process
 *       passes on every signal it gets: as runc's kill, a signal reaches
 *       the process, not its children. It exits with ARGV's status.
 *   alcatraz-oci-pause --install SIZE:MODE:ro|rw:DEST...
 *       copies SIZE bytes of stdin to each DEST in turn (its parent
 *       directories made, a symlink there replaced) with permission bits
 *       MODE (octal), and makes a "ro" one a read-only bind mount of
 *       itself: the bind mounts of files of config.json.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

/* alcatraz-init's, for a process without PATH. */
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static int __attribute__((noreturn)) wait_forever(void)
{
	struct sigaction sa = { .sa_handler = SIG_IGN };

	/* A stray kill -1 in the guest must not end the VM under its container. */
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &sa, NULL);
	for (;;)
		pause();
}

static int parse_id(const char *s, const char *end, unsigned int *out)
{
	unsigned long v = 0;

	if (s == end || end - s > 10)
		return -1;
	for (const char *p = s; p < end; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v >= UINT_MAX)
		return -1;
	*out = (unsigned int)v;
	return 0;
}

/* execv of ARGV[0] along PATH; returns the status when nothing ran. */
static int exec_path(char **argv)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];
	int err = ENOENT;

	if (strchr(argv[0], '/')) {
		execv(argv[0], argv);
		err = errno;
	} else {
		if (!path || !*path)
			path = DEFAULT_PATH;
		for (const char *d = path; *d;) {
			const char *e = strchrnul(d, ':');
			int n = snprintf(buf, sizeof(buf), "%.*s/%s", (int)(e - d), d, argv[0]);
			if (n > 0 && n < (int)sizeof(buf)) {
				execv(buf, argv);
				if (errno != ENOENT && errno != ENOTDIR)
					err = errno;
			}
			d = *e ? e + 1 : e;
		}
	}
	fprintf(stderr, "%s: %s\n", argv[0], strerror(err));
	return err == ENOENT || err == ENOTDIR ? 127 : 126;
}

#define MAX_GROUPS 32

/* "RES:SOFT:HARD", numbers; set at once. */
static int set_rlimit(const char *spec)
{
	unsigned long long soft, hard;
	struct rlimit rl;
	int res, n = 0;

	if (sscanf(spec, "%d:%llu:%llu%n", &res, &soft, &hard, &n) != 3 || spec[n] || soft > hard)
		return -EINVAL;
	rl.rlim_cur = (rlim_t)soft;
	rl.rlim_max = (rlim_t)hard;
	return setrlimit(res, &rl) < 0 ? -errno : 0;
}

static int parse_groups(const char *s, gid_t *gids, size_t *n)
{
	*n = 0;
	while (*s) {
		const char *e = strchrnul(s, ',');
		unsigned int g;
		if (*n == MAX_GROUPS || parse_id(s, e, &g))
			return -1;
		gids[(*n)++] = g;
		s = *e ? e + 1 : e;
	}
	return 0;
}

/* ---- --install ---- */

static int make_parents(char *path)
{
	for (char *p = strchr(path + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		int ret = mkdir(path, 0755) < 0 && errno != EEXIST ? -errno : 0;
		*p = '/';
		if (ret)
			return ret;
	}
	return 0;
}

static int copy_in(int fd, unsigned long long size)
{
	char buf[16384];

	while (size) {
		size_t want = size < sizeof(buf) ? (size_t)size : sizeof(buf);
		ssize_t n = read(STDIN_FILENO, buf, want);
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(fd, buf + off, (size_t)(n - off));
			if (w < 0)
				return -errno;
			off += w;
		}
		size -= (unsigned long long)n;
	}
	return 0;
}

static int install_one(const char *spec)
{
	unsigned long long size;
	unsigned int mode;
	char ro[3], path[PATH_MAX];
	struct stat st;
	int n = 0, fd, ret;

	if (sscanf(spec, "%llu:%o:%2[row]:%n", &size, &mode, ro, &n) != 3 || !n ||
	    spec[n] != '/' || strlen(spec + n) >= sizeof(path) || mode > 07777 ||
	    (strcmp(ro, "ro") && strcmp(ro, "rw")))
		return fprintf(stderr, "alcatraz-oci-pause: bad --install '%s'\n", spec), 125;
	strcpy(path, spec + n);
	if ((ret = make_parents(path)))
		goto fail;
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode) && unlink(path) < 0)
		goto fail_errno;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		goto fail_errno;
	ret = copy_in(fd, size);
	if (!ret && fchmod(fd, mode) < 0)
		ret = -errno;
	close(fd);
	if (ret)
		goto fail;
	if (!strcmp(ro, "ro") &&
	    (mount(path, path, NULL, MS_BIND, NULL) < 0 ||
	     mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0))
		goto fail_errno;
	return 0;
fail_errno:
	ret = -errno;
fail:
	fprintf(stderr, "alcatraz-oci-pause: %s: %s\n", path, strerror(-ret));
	return 125;
}

static int install(int argc, char **argv)
{
	for (int i = 2; i < argc; i++) {
		int ret = install_one(argv[i]);
		if (ret)
			return ret;
	}
	return 0;
}

/* ---- --tty ---- */

static volatile pid_t tty_child;
static int tty_master = -1;

static void pass_signal(int sig)
{
	if (tty_child > 0)
		kill(tty_child, sig);
}

/*
 * The host's terminal was resized: alcatraz-init queues SIGWINCH with the
 * new size as its value (rows << 16 | cols, control_proto.h EXEC_WINSIZE).
 * Setting it on our terminal makes the kernel send SIGWINCH to the
 * foreground process group, so it is not passed on as well. Any other
 * SIGWINCH is passed on as the other signals are.
 */
static void on_winch(int sig, siginfo_t *si, void *uc)
{
	uint32_t v = (uint32_t)si->si_value.sival_int;
	struct winsize ws = { .ws_row = (unsigned short)(v >> 16),
			      .ws_col = (unsigned short)(v & 0xffff) };

	(void)uc;
	if (si->si_code == SI_QUEUE && si->si_pid == 1 && ws.ws_row && ws.ws_col &&
	    tty_master >= 0)
		ioctl(tty_master, TIOCSWINSZ, &ws);
	else
		pass_signal(sig);
}

static int write_all(int fd, const char *buf, ssize_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, buf, (size_t)n);
		if (w < 0 && errno != EINTR)
			return -1;
		if (w > 0) {
			buf += w;
			n -= w;
		}
	}
	return 0;
}

/* Relays stdin to the master and the master to stdout until the child
 * has ended and its output is drained; exits with its status. */
static void __attribute__((noreturn)) tty_relay(int m)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCONT };
	struct sigaction sa = { .sa_handler = pass_signal },
			 winch = { .sa_sigaction = on_winch, .sa_flags = SA_SIGINFO };
	struct pollfd p[2] = { { .fd = STDIN_FILENO, .events = POLLIN }, { .fd = m, .events = POLLIN } };
	char buf[4096];
	int wst = 0;
	bool ended = false;

	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	tty_master = m;
	sigaction(SIGWINCH, &winch, NULL);
	fcntl(m, F_SETFL, O_NONBLOCK);
	for (;;) {
		if (!ended && waitpid(tty_child, &wst, WNOHANG) == tty_child)
			ended = true;
		int r = poll(p, 2, ended ? 0 : 100);
		if (r < 0 && errno != EINTR)
			break;
		if (r > 0 && p[0].revents) {
			ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n <= 0 || write_all(m, buf, n) < 0)
				p[0].fd = -1; /* stdin ended: the terminal stays */
		}
		if (r > 0 && p[1].revents) {
			ssize_t n = read(m, buf, sizeof(buf));
			if (n > 0)
				write_all(STDOUT_FILENO, buf, n);
			else if (n == 0 || errno != EAGAIN)
				break; /* EIO: every holder of the slave is gone */
		} else if (ended && r == 0) {
			break; /* drained */
		}
	}
	if (!ended)
		while (waitpid(tty_child, &wst, 0) < 0 && errno == EINTR)
			;
	_exit(WIFSIGNALED(wst) ? 128 + WTERMSIG(wst) : WEXITSTATUS(wst));
}

/* Returns in the child, on the new terminal; the parent relays. */
static int tty_setup(const char *size)
{
	unsigned int rows, cols, unlock = 0;
	int n = 0, m, s;

	if (sscanf(size, "%u:%u%n", &rows, &cols, &n) != 2 || size[n] || rows > 65535 ||
	    cols > 65535)
		return fprintf(stderr, "alcatraz-oci-pause: bad --tty '%s'\n", size), -1;
	m = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0 || ioctl(m, TIOCSPTLCK, &unlock) < 0 ||
	    (s = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY)) < 0)
		return fprintf(stderr, "alcatraz-oci-pause: a terminal: %s\n", strerror(errno)), -1;
	if (rows && cols) {
		struct winsize ws = { .ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols };
		ioctl(m, TIOCSWINSZ, &ws);
	}
	tty_child = fork();
	if (tty_child < 0)
		return fprintf(stderr, "alcatraz-oci-pause: fork: %s\n", strerror(errno)), -1;
	if (tty_child > 0) {
		close(s);
		tty_relay(m);
	}
	close(m);
	if (setsid() < 0 || ioctl(s, TIOCSCTTY, 0) < 0 || dup2(s, 0) < 0 || dup2(s, 1) < 0 ||
	    dup2(s, 2) < 0)
		return fprintf(stderr, "alcatraz-oci-pause: the terminal: %s\n", strerror(errno)), -1;
	if (s > 2)
		close(s);
	return 0;
}

/* ---- --fork ---- */

static volatile pid_t fork_child;

static void pass_to_child(int sig)
{
	if (fork_child > 0)
		kill(fork_child, sig);
}

/*
 * runc's kill signals the container's process alone, never its children,
 * but alcatraz-init signals an exec's whole process group (a shell's
 * foreground child too). So ARGV runs as a child in a process group of
 * its own, and this process, alone in the exec's group, passes each signal
 * it gets on to that child. Returns in the child; the parent exits with
 * the child's status (128+n for signal n).
 */
static int fork_alone(void)
{
	struct sigaction sa = { .sa_handler = pass_to_child };
	sigset_t all, old;
	int wst;

	/* No signal handled between fork and the handlers: none lost. */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	fork_child = fork();
	if (fork_child < 0) {
		fprintf(stderr, "alcatraz-oci-pause: fork: %s\n", strerror(errno));
		return -1;
	}
	if (fork_child == 0) {
		setpgid(0, 0);
		sigprocmask(SIG_SETMASK, &old, NULL);
		return 0;
	}
	setpgid(fork_child, fork_child);
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP && sig != SIGCHLD)
			sigaction(sig, &sa, NULL); /* (EINVAL for libc's own: left) */
	sigprocmask(SIG_SETMASK, &old, NULL);
	while (waitpid(fork_child, &wst, 0) < 0)
		if (errno != EINTR)
			_exit(125);
	_exit(WIFSIGNALED(wst) ? 128 + WTERMSIG(wst) : WEXITSTATUS(wst));
}

static int launch(int argc, char **argv)
{
	const char *host = NULL;
	unsigned int uid = 0, gid = 0;
	gid_t groups[MAX_GROUPS];
	size_t ngroups = 0;
	bool user = false;
	int i, ret;

	for (i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		const char *colon;
		if (!strcmp(argv[i], "--tty") && i + 1 < argc) {
			if (tty_setup(argv[++i]))
				return 125;
		} else if (!strcmp(argv[i], "--fork")) {
			if (fork_alone())
				return 125;
		} else if (!strcmp(argv[i], "--hostname") && i + 1 < argc) {
			host = argv[++i];
		} else if (!strcmp(argv[i], "--rlimit") && i + 1 < argc) {
			if ((ret = set_rlimit(argv[++i]))) {
				fprintf(stderr, "alcatraz-oci-pause: rlimit '%s': %s\n", argv[i],
					strerror(-ret));
				return 125;
			}
		} else if (!strcmp(argv[i], "--groups") && i + 1 < argc &&
			   !parse_groups(argv[i + 1], groups, &ngroups)) {
			i++;
		} else if (!strcmp(argv[i], "--user") && i + 1 < argc &&
			   (colon = strchr(argv[i + 1], ':')) &&
			   !parse_id(argv[i + 1], colon, &uid) &&
			   !parse_id(colon + 1, colon + 1 + strlen(colon + 1), &gid)) {
			user = true;
			i++;
		} else {
			fprintf(stderr, "alcatraz-oci-pause: bad option '%s'\n", argv[i]);
			return 125;
		}
	}
	if (i + 1 >= argc) {
		fprintf(stderr, "alcatraz-oci-pause: no command after --\n");
		return 125;
	}
	if (host && sethostname(host, strlen(host)) < 0) {
		fprintf(stderr, "alcatraz-oci-pause: hostname '%s': %s\n", host, strerror(errno));
		return 125;
	}
	if ((user || ngroups) && setgroups(ngroups, groups) < 0) {
		fprintf(stderr, "alcatraz-oci-pause: groups: %s\n", strerror(errno));
		return 125;
	}
	if (user && (setgid(gid) < 0 || setuid(uid) < 0)) {
		fprintf(stderr, "alcatraz-oci-pause: user %u:%u: %s\n", uid, gid, strerror(errno));
		return 125;
	}
	return exec_path(argv + i + 1);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--install"))
		return install(argc, argv);
	return argc > 1 ? launch(argc, argv) : wait_forever();
}
