// SPDX-License-Identifier: GPL-2.0-only
/*
 * alcatraz-init: PID 1 of an Alcatraz microVM.
 *
 * Mounts the basic file systems, fetches the command from the VMM over
 * AF_VSOCK (see control_proto.h), runs it with its stdio on the virtio
 * console, reaps every process, reports how the command ended and powers
 * the VM off.
 *
 * Linked statically against glibc: it only uses system-call wrappers and
 * string functions, nothing that would pull in NSS or dlopen.
 *
 * Kernel command line parameters read from /proc/cmdline (the kernel does
 * not pass dotted parameters to init):
 *   alcatraz.cmd=ARG,ARG,...   fallback command when vsock is unavailable
 *                              (quote the value for spaces: "sh,-c,echo hi")
 *   alcatraz.cmd64=BASE64      fallback command, NUL-separated argv
 *   alcatraz.novsock           do not try the control channel at all
 *   alcatraz.poweroff          power off even without an ACPI DSDT
 *   alcatraz.debug             trace what init does to the kernel log
 *
 * For host-side tests it also runs as an ordinary process:
 *   alcatraz-init --test --control-fd N --console PATH [--cmdline STRING]
 * which skips mounts and power-off, and exits with 0 after reporting.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/vm_sockets.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "control_proto.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define HVC_PATH "/dev/hvc0"
#define RELAY_BUF (64 * 1024)

/* What went wrong in the child before or at execve. */
enum child_stage { STAGE_SETUP = 0, STAGE_EXEC = 1 };

struct command {
	char **argv;
	size_t argc, argv_cap;
	char **envp;
	size_t envc, envp_cap;
	char *workdir;
	uint32_t stdio;
	size_t total;
	bool have_workdir, have_stdio;
};

static struct {
	bool test;            /* not PID 1: host-side test run */
	bool debug;           /* alcatraz.debug: trace to the kernel log */
	int kmsg;             /* /dev/kmsg, or stderr in test mode */
	int ctl;              /* control connection, -1 in fallback mode */
	const char *console;  /* path of the command's console */
	char cmdline[4096];   /* kernel command line */
	uint64_t t_start;
} g = { .kmsg = -1, .ctl = -1 };

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Diagnostics go to the kernel log (the serial port), never the console. */
__attribute__((format(printf, 2, 3)))
static void klog(int level, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	if (g.kmsg < 0)
		return;
	n = snprintf(buf, sizeof(buf), g.test ? "alcatraz-init: " : "<%d>alcatraz-init: ", level);
	if (n < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	va_end(ap);
	n = (int)strlen(buf);
	if (n < (int)sizeof(buf) - 1)
		buf[n++] = '\n';
	if (write(g.kmsg, buf, (size_t)n) < 0) {
		/* nowhere left to complain */
	}
}

/* Traces at KERN_ERR so they pass "quiet"; only with alcatraz.debug. */
#define dbg(...) do { if (g.debug) klog(3, "debug: " __VA_ARGS__); } while (0)

static int write_full(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* 0 on success, -EPIPE on a clean EOF before len bytes, -errno otherwise. */
static int read_full(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* ---- control channel ---------------------------------------------------- */

static void ctl_send(uint32_t type, const uint8_t *payload, uint32_t len)
{
	uint8_t rec[ALCATRAZ_CTL_HDR_SIZE + 16];

	if (g.ctl < 0 || len > 16)
		return;
	alcatraz_ctl_put_hdr(rec, type, len);
	memcpy(rec + ALCATRAZ_CTL_HDR_SIZE, payload, len);
	if (write_full(g.ctl, rec, ALCATRAZ_CTL_HDR_SIZE + len) < 0)
		klog(4, "control channel write failed: %s", strerror(errno));
}

static void send_event(uint32_t ev, uint64_t t)
{
	uint8_t p[ALCATRAZ_CTL_EVENT_LEN];

	alcatraz_ctl_put_le32(p, ev);
	alcatraz_ctl_put_le32(p + 4, 0);
	alcatraz_ctl_put_le64(p + 8, t);
	ctl_send(ALCATRAZ_CTL_EVENT, p, sizeof(p));
}

static void send_status(uint32_t kind, int32_t value)
{
	uint8_t p[ALCATRAZ_CTL_STATUS_LEN];

	alcatraz_ctl_put_le32(p, kind);
	alcatraz_ctl_put_le32(p + 4, (uint32_t)value);
	alcatraz_ctl_put_le64(p + 8, now_ns());
	ctl_send(ALCATRAZ_CTL_STATUS, p, sizeof(p));
}

static int ctl_connect(void)
{
	struct sockaddr_vm sa = {
		.svm_family = AF_VSOCK,
		.svm_cid = ALCATRAZ_CTL_HOST_CID,
		.svm_port = ALCATRAZ_CTL_VSOCK_PORT,
	};
	int fd, err = 0;

	/*
	 * The VMM listens before the vCPUs start, so a refusal means a
	 * transport still coming up; retry briefly rather than fail the run.
	 */
	for (int attempt = 0; attempt < 50; attempt++) {
		fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
		err = errno;
		close(fd);
		if (err != ECONNREFUSED && err != ECONNRESET && err != EINTR && err != EAGAIN)
			break;
		usleep(20 * 1000);
	}
	return -err;
}

static int push(char ***vec, size_t *n, size_t *cap, char *s)
{
	if (*n + 2 > *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		char **nv = realloc(*vec, ncap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		*vec = nv;
		*cap = ncap;
	}
	(*vec)[(*n)++] = s;
	(*vec)[*n] = NULL;
	return 0;
}

/*
 * Read ARG/ENV/WORKDIR/STDIO records up to END.  Everything is checked
 * against the limits of control_proto.h even though the host is the
 * trusted side: a bug there should fail loudly, not overflow here.
 */
static int recv_command(int fd, struct command *cmd)
{
	for (;;) {
		uint8_t hdr[ALCATRAZ_CTL_HDR_SIZE];
		uint32_t type, len;
		char *p;
		int r;

		r = read_full(fd, hdr, sizeof(hdr));
		if (r)
			return r == -EPIPE ? -ECONNRESET : r;
		if (alcatraz_ctl_check_hdr(hdr, 0, &type, &len))
			return -EPROTO;
		if (type == ALCATRAZ_CTL_STDIN_EOF || type == ALCATRAZ_CTL_SIGNAL ||
		    type == ALCATRAZ_CTL_WINSIZE)
			return -EPROTO;
		p = malloc((size_t)len + 1);
		if (!p)
			return -ENOMEM;
		r = read_full(fd, p, len);
		if (r) {
			free(p);
			return r == -EPIPE ? -ECONNRESET : r;
		}
		p[len] = '\0';
		switch (type) {
		case ALCATRAZ_CTL_ARG:
		case ALCATRAZ_CTL_ENV:
			cmd->total += (size_t)len + 1;
			if (memchr(p, '\0', len) || cmd->total > ALCATRAZ_CTL_MAX_TOTAL)
				goto proto;
			if (type == ALCATRAZ_CTL_ARG) {
				if (cmd->argc >= ALCATRAZ_CTL_MAX_ARGS)
					goto proto;
				r = push(&cmd->argv, &cmd->argc, &cmd->argv_cap, p);
			} else {
				char *eq = strchr(p, '=');

				if (!eq || eq == p || cmd->envc >= ALCATRAZ_CTL_MAX_ENVS)
					goto proto;
				r = push(&cmd->envp, &cmd->envc, &cmd->envp_cap, p);
			}
			if (r) {
				free(p);
				return r;
			}
			break;
		case ALCATRAZ_CTL_WORKDIR:
			if (cmd->have_workdir || p[0] != '/' || memchr(p, '\0', len))
				goto proto;
			cmd->workdir = p;
			cmd->have_workdir = true;
			break;
		case ALCATRAZ_CTL_STDIO:
			cmd->stdio = alcatraz_ctl_get_le32((uint8_t *)p);
			free(p);
			if (cmd->have_stdio || (cmd->stdio & ~ALCATRAZ_CTL_STDIO_ALL))
				return -EPROTO;
			cmd->have_stdio = true;
			break;
		case ALCATRAZ_CTL_END:
			free(p);
			return cmd->argc ? 0 : -EPROTO;
		default:
			goto proto;
		}
		continue;
proto:
		free(p);
		return -EPROTO;
	}
}

/* ---- kernel command line fallback ---------------------------------------- */

/*
 * Find `key=` (or a bare `key` when want_flag) in the kernel command line,
 * honouring the kernel's double quotes.  Copies the value without quotes.
 */
static bool cmdline_get(const char *key, char *val, size_t valsz)
{
	const char *p = g.cmdline;
	size_t klen = strlen(key);

	while (*p) {
		char tok[sizeof(g.cmdline)];
		size_t t = 0;
		bool quoted = false;

		while (*p == ' ' || *p == '\n' || *p == '\t')
			p++;
		if (!*p)
			break;
		while (*p && (quoted || (*p != ' ' && *p != '\n' && *p != '\t'))) {
			if (*p == '"')
				quoted = !quoted;
			else if (t < sizeof(tok) - 1)
				tok[t++] = *p;
			p++;
		}
		tok[t] = '\0';
		if (strncmp(tok, key, klen))
			continue;
		if (tok[klen] == '\0') {
			if (val && valsz)
				val[0] = '\0';
			return true;
		}
		if (tok[klen] == '=') {
			if (val && valsz)
				snprintf(val, valsz, "%s", tok + klen + 1);
			return true;
		}
	}
	return false;
}

static int b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/* Decode standard or URL-safe base64 in place; returns the length or -1. */
static ssize_t b64decode(char *s)
{
	size_t o = 0;
	unsigned int acc = 0;
	int bits = 0;

	for (char *p = s; *p && *p != '='; p++) {
		int v = b64val((unsigned char)*p);

		if (v < 0)
			return -1;
		acc = (acc << 6) | (unsigned int)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			s[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	return (ssize_t)o;
}

static int fallback_command(struct command *cmd)
{
	static char val[sizeof(g.cmdline)];
	char *p, *end;
	ssize_t n;

	if (cmdline_get("alcatraz.cmd64", val, sizeof(val))) {
		n = b64decode(val);
		if (n <= 0)
			return -EINVAL;
		end = val + n;
		*end = '\0';
		for (p = val; p < end; p += strlen(p) + 1)
			if (push(&cmd->argv, &cmd->argc, &cmd->argv_cap, p))
				return -ENOMEM;
	} else if (cmdline_get("alcatraz.cmd", val, sizeof(val))) {
		for (p = val; p; p = end) {
			end = strchr(p, ',');
			if (end)
				*end++ = '\0';
			if (push(&cmd->argv, &cmd->argc, &cmd->argv_cap, p))
				return -ENOMEM;
		}
	} else {
		return -ENOENT;
	}
	if (!cmd->argc || !cmd->argv[0][0])
		return -EINVAL;
	static char term[] = "TERM=linux", home[] = "HOME=/";
	if (push(&cmd->envp, &cmd->envc, &cmd->envp_cap, term) ||
	    push(&cmd->envp, &cmd->envc, &cmd->envp_cap, home))
		return -ENOMEM;
	/* Manual runs are interactive: a cooked console with job control. */
	cmd->stdio = ALCATRAZ_CTL_STDIO_TTY;
	return 0;
}

/* ---- system setup ---------------------------------------------------------- */

static void mount_fs(const char *src, const char *target, const char *type,
		     unsigned long flags, const char *data)
{
	if (mkdir(target, 0755) < 0 && errno != EEXIST)
		klog(4, "mkdir %s: %s", target, strerror(errno));
	/* EBUSY: already there, e.g. devtmpfs automounted on a disk root. */
	if (mount(src, target, type, flags, data) < 0 && errno != EBUSY)
		klog(4, "mount %s on %s: %s", type, target, strerror(errno));
}

static void setup_system(void)
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
static void install_busybox_links(void)
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

static bool has_virtio_console(void)
{
	DIR *d = opendir("/sys/bus/virtio/drivers/virtio_console");
	struct dirent *de;
	bool found = false;

	if (!d)
		return false;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, "virtio", 6))
			found = true;
	closedir(d);
	return found;
}

/*
 * Multiport virtio-console ports are announced asynchronously by the
 * device, so a port (or hvc0 itself) may show up a little after PID 1
 * starts.  Poll briefly instead of failing.
 */
static bool wait_for(bool (*ready)(void *), void *arg, int timeout_ms)
{
	for (int waited = 0;; waited += 5) {
		if (ready(arg))
			return true;
		if (waited >= timeout_ms)
			return false;
		usleep(5 * 1000);
	}
}

static bool path_exists(void *path)
{
	return access(path, F_OK) == 0;
}

static bool find_port(void *out)
{
	char *dev = out, path[PATH_MAX], name[64];
	DIR *d = opendir("/sys/class/virtio-ports");
	struct dirent *de;
	bool found = false;

	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		int fd;
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/class/virtio-ports/%s/name", de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, name, sizeof(name) - 1);
		close(fd);
		if (n <= 0)
			continue;
		name[n] = '\0';
		name[strcspn(name, "\n")] = '\0';
		if (!strcmp(name, ALCATRAZ_CTL_STDERR_PORT_NAME)) {
			snprintf(dev, PATH_MAX, "/dev/%s", de->d_name);
			found = true;
		}
	}
	closedir(d);
	return found;
}

static const char *pick_console(void)
{
	if (g.test)
		return g.console;
	if (has_virtio_console() && wait_for(path_exists, HVC_PATH, 2000))
		return HVC_PATH;
	klog(4, "no virtio console, using /dev/console for the command");
	return "/dev/console";
}

/* ---- running the command ----------------------------------------------- */

/*
 * execvp(3) with the *command's* PATH rather than init's, reporting the
 * errno a shell would base 126/127 on: EACCES if any candidate was found
 * but not executable, else ENOENT.
 */
static int exec_search(char **argv, char **envp)
{
	const char *file = argv[0], *path = DEFAULT_PATH;
	bool eacces = false;
	char buf[PATH_MAX];

	if (!*file)
		return ENOENT;
	if (strchr(file, '/')) {
		execve(file, argv, envp);
		return errno;
	}
	for (char **e = envp; *e; e++)
		if (!strncmp(*e, "PATH=", 5))
			path = *e + 5;
	for (const char *p = path;; p++) {
		const char *colon = strchrnul(p, ':');
		size_t dl = (size_t)(colon - p);
		int n;

		/* An empty element means the current directory. */
		n = snprintf(buf, sizeof(buf), "%.*s%s%s", (int)dl, p, dl ? "/" : "", file);
		if (n > 0 && (size_t)n < sizeof(buf)) {
			execve(buf, argv, envp);
			switch (errno) {
			case EACCES:
				eacces = true;
				break;
			case ENOENT:
			case ENOTDIR:
			case ENAMETOOLONG:
			case ELOOP:
			case ESTALE:
				break;
			default:
				return errno;
			}
		}
		p = colon;
		if (!*p)
			break;
	}
	return eacces ? EACCES : ENOENT;
}

static void child_fail(int errfd, enum child_stage stage, int err)
{
	int msg[2] = { stage, err };

	if (write(errfd, msg, sizeof(msg)) < 0) {
		/* the parent will see a bare exit status */
	}
	_exit(127);
}

/*
 * In the child: become a session leader, wire up stdio and exec.
 * Pipe mode: stdin is `in_fd` (the relay pipe), stdout/stderr the console,
 * opened afresh (blocking, and no controlling tty: see control_proto.h).
 * TTY mode: `in_fd` is a pty slave that becomes the controlling terminal
 * and all of stdio; init copies between its master and the console.
 */
static __attribute__((noreturn))
void child_run(struct command *cmd, int errfd, int in_fd, const char *stderr_port)
{
	bool tty = cmd->stdio & ALCATRAZ_CTL_STDIO_TTY;
	sigset_t none;
	int out, errout;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if (setsid() < 0)
		child_fail(errfd, STAGE_SETUP, errno);
	if (tty) {
		if (ioctl(in_fd, TIOCSCTTY, 0) < 0)
			child_fail(errfd, STAGE_SETUP, errno);
		out = in_fd;
	} else {
		out = open(g.console, O_RDWR | O_NOCTTY);
		if (out < 0)
			child_fail(errfd, STAGE_SETUP, errno);
	}
	errout = out;
	if (stderr_port) {
		errout = open(stderr_port, O_WRONLY | O_NOCTTY);
		if (errout < 0)
			errout = out;
	}
	if (dup2(in_fd, 0) < 0 || dup2(out, 1) < 0 || dup2(errout, 2) < 0)
		child_fail(errfd, STAGE_SETUP, errno);
	if (errout > 2 && errout != out)
		close(errout);
	if (out > 2 && out != in_fd)
		close(out);
	if (in_fd > 2)
		close(in_fd);
	if (cmd->workdir && chdir(cmd->workdir) < 0)
		child_fail(errfd, STAGE_SETUP, errno);
	child_fail(errfd, STAGE_EXEC, exec_search(cmd->argv, cmd->envp));
	__builtin_unreachable();
}

/*
 * A one-way byte pump between non-blocking descriptors, driven by the
 * poll loop: console -> stdin pipe or pty master, pty master -> console.
 */
struct pump {
	int in, out;      /* not owned; out = -1 once the pump is done */
	bool reading;     /* still taking bytes from `in` */
	bool counted;     /* stop after `target` bytes (STDIN_EOF) */
	bool close_out;   /* close `out` when done: the stdin pipe's EOF */
	uint64_t target, got;
	size_t off, len;
	uint8_t buf[RELAY_BUF];
};

static void pump_done_out(struct pump *p)
{
	if (p->out >= 0)
		dbg("pump %d->%d: done after %llu bytes", p->in, p->out, (unsigned long long)p->got);
	if (p->out >= 0 && p->close_out)
		close(p->out);
	p->out = -1;
	p->len = p->off = 0;
}

static void pump_check_done(struct pump *p)
{
	if (p->counted && p->got >= p->target)
		p->reading = false;
	if (!p->reading && p->len == 0)
		pump_done_out(p);
}

static void pump_read(struct pump *p)
{
	size_t want = sizeof(p->buf);
	ssize_t n;

	if (p->counted && p->target - p->got < want)
		want = (size_t)(p->target - p->got);
	n = read(p->in, p->buf, want);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	dbg("pump %d->%d: read %zd (%s), %llu so far", p->in, p->out, n,
	    n < 0 ? strerror(errno) : "ok", (unsigned long long)(p->got + (n > 0 ? (uint64_t)n : 0)));
	if (n <= 0) {
		/* EOF, or EIO from a hung-up tty / a pty without slaves. */
		p->reading = false;
	} else {
		p->got += (uint64_t)n;
		/* With the reader gone, keep consuming so the host never
		 * blocks on a full queue, but drop the bytes. */
		if (p->out >= 0) {
			p->off = 0;
			p->len = (size_t)n;
		}
	}
	pump_check_done(p);
}

static void pump_write(struct pump *p)
{
	ssize_t n = write(p->out, p->buf + p->off, p->len);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		/* EPIPE: the command closed its stdin. */
		bool keep_reading = p->reading;

		pump_done_out(p);
		p->reading = keep_reading;
		return;
	}
	p->off += (size_t)n;
	p->len -= (size_t)n;
	pump_check_done(p);
}

/*
 * After the command ended: move what the pty still holds to the console,
 * for at most `ms`, since background processes may keep writing.
 */
static void pump_drain(struct pump *p, int ms)
{
	uint64_t deadline = now_ns() + (uint64_t)ms * 1000000u;
	int timeout_ms = 20; /* quiet this long: nothing more is coming */

	while (p->out >= 0 && now_ns() < deadline) {
		struct pollfd pfd = { .fd = p->len ? p->out : p->in,
				      .events = p->len ? POLLOUT : POLLIN };

		if (!p->len && !p->reading)
			break;
		if (poll(&pfd, 1, timeout_ms) <= 0)
			break;
		if (p->len)
			pump_write(p);
		else
			pump_read(p);
	}
}

/* Records after END, read incrementally so the loop never blocks on them. */
struct ctl_in {
	uint8_t buf[ALCATRAZ_CTL_HDR_SIZE + 8];
	size_t have;
	bool open;
};

static void handle_post_end(struct ctl_in *c, struct pump *in, pid_t child,
			    bool child_alive, int winsize_fd)
{
	uint32_t type, len;
	size_t need = ALCATRAZ_CTL_HDR_SIZE;
	ssize_t n;

	if (c->have >= ALCATRAZ_CTL_HDR_SIZE) {
		if (alcatraz_ctl_check_hdr(c->buf, 0, &type, &len))
			goto proto;
		need += len;
	}
	n = read(g.ctl, c->buf + c->have, need - c->have);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		c->open = false;
		return;
	}
	c->have += (size_t)n;
	if (c->have < ALCATRAZ_CTL_HDR_SIZE)
		return;
	if (alcatraz_ctl_check_hdr(c->buf, 0, &type, &len))
		goto proto;
	if (type != ALCATRAZ_CTL_STDIN_EOF && type != ALCATRAZ_CTL_SIGNAL &&
	    type != ALCATRAZ_CTL_WINSIZE)
		goto proto;
	if (c->have < ALCATRAZ_CTL_HDR_SIZE + len)
		return;
	{
		const uint8_t *p = c->buf + ALCATRAZ_CTL_HDR_SIZE;

		switch (type) {
		case ALCATRAZ_CTL_STDIN_EOF:
			/* In tty mode end of input is the user's ^D, in band. */
			dbg("STDIN_EOF %llu", (unsigned long long)alcatraz_ctl_get_le64(p));
			if (in && in->close_out && !in->counted) {
				in->counted = true;
				in->target = alcatraz_ctl_get_le64(p);
				pump_check_done(in);
			}
			break;
		case ALCATRAZ_CTL_SIGNAL: {
			uint32_t sig = alcatraz_ctl_get_le32(p);

			if (sig < 1 || sig > ALCATRAZ_CTL_MAX_SIGNO || sig > (uint32_t)SIGRTMAX)
				goto proto;
			if (child_alive && kill(-child, (int)sig) < 0)
				klog(4, "forwarding signal %u: %s", sig, strerror(errno));
			break;
		}
		case ALCATRAZ_CTL_WINSIZE: {
			struct winsize ws = {
				.ws_row = alcatraz_ctl_get_le16(p),
				.ws_col = alcatraz_ctl_get_le16(p + 2),
			};

			/* On the pty master this also signals SIGWINCH. */
			if (winsize_fd >= 0)
				ioctl(winsize_fd, TIOCSWINSZ, &ws);
			break;
		}
		}
	}
	c->have = 0;
	return;
proto:
	klog(3, "protocol error from the host after END; ignoring the control channel");
	c->open = false;
}

/* Translate a wait status into a STATUS record. */
static void status_of(int wst, uint32_t *kind, int32_t *value)
{
	if (WIFSIGNALED(wst)) {
		*kind = ALCATRAZ_CTL_ST_SIGNALED;
		*value = WTERMSIG(wst);
	} else {
		*kind = ALCATRAZ_CTL_ST_EXITED;
		*value = WEXITSTATUS(wst);
	}
}

/* A pty pair without glibc's grantpt (which may consult NSS). */
static int open_pty(int *master, int *slave)
{
	int unlock = 0;

	*master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	if (*master < 0)
		return -errno;
	if (ioctl(*master, TIOCSPTLCK, &unlock) < 0)
		goto fail;
	*slave = ioctl(*master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*slave < 0)
		goto fail;
	return 0;
fail:
	unlock = -errno;
	close(*master);
	return unlock;
}

/*
 * Run the command and wait for it, reaping every other process on the
 * way.  Returns the STATUS kind/value.
 */
static void run_command(struct command *cmd, uint32_t *kind, int32_t *value)
{
	bool tty = cmd->stdio & ALCATRAZ_CTL_STDIO_TTY;
	static char stderr_port[PATH_MAX];
	static struct pump in, out;
	const char *port = NULL;
	struct ctl_in cin = { .open = g.ctl >= 0 };
	int errpipe[2], child_in = -1, dest = -1, master = -1, cons, sfd = -1, msg[2], r;
	struct pump *pumps[2] = { &in, NULL };
	sigset_t mask;
	pid_t child;
	ssize_t n;
	bool alive = true;

	*kind = ALCATRAZ_CTL_ST_INIT_ERROR;
	*value = 0;

	cons = open(g.console, O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	if (cons < 0) {
		*value = errno;
		klog(3, "opening console %s: %s", g.console, strerror(errno));
		return;
	}
	if (isatty(cons)) {
		struct termios t;

		/* Byte-exact in both directions: no echo, no CR/LF rewriting,
		 * no signal characters.  In tty mode the pty does the cooking. */
		if (tcgetattr(cons, &t) == 0) {
			cfmakeraw(&t);
			t.c_cc[VMIN] = 1;
			t.c_cc[VTIME] = 0;
			tcsetattr(cons, TCSANOW, &t);
		}
	}
	if ((cmd->stdio & ALCATRAZ_CTL_STDIO_STDERR_PORT) &&
	    wait_for(find_port, stderr_port, 1000))
		port = stderr_port;

	if (tty) {
		r = open_pty(&master, &child_in);
		if (r) {
			*value = -r;
			klog(3, "allocating a pty: %s", strerror(-r));
			goto out;
		}
		dest = master;
		out = (struct pump){ .in = master, .out = cons, .reading = true };
		pumps[1] = &out;
	} else {
		int p[2];

		if (pipe2(p, O_CLOEXEC) < 0) {
			*value = errno;
			goto out;
		}
		child_in = p[0];
		dest = p[1];
		fcntl(dest, F_SETFL, O_NONBLOCK);
	}
	in = (struct pump){ .in = cons, .out = dest, .reading = true, .close_out = !tty };
	if (pipe2(errpipe, O_CLOEXEC) < 0) {
		*value = errno;
		goto out;
	}

	dbg("starting %s (%zu args, %zu env) on %s, %s mode", cmd->argv[0], cmd->argc,
	    cmd->envc, g.console, tty ? "tty" : "pipe");
	send_event(ALCATRAZ_CTL_EV_CMD_START, now_ns());
	child = fork();
	if (child < 0) {
		*value = errno;
		close(errpipe[0]);
		close(errpipe[1]);
		goto out;
	}
	if (child == 0)
		child_run(cmd, errpipe[1], child_in, port);
	close(errpipe[1]);
	close(child_in);
	child_in = -1;

	/* EOF means execve succeeded (the pipe is close-on-exec). */
	do
		n = read(errpipe[0], msg, sizeof(msg));
	while (n < 0 && errno == EINTR);
	close(errpipe[0]);
	if (n == (ssize_t)sizeof(msg)) {
		int wst;

		while (waitpid(child, &wst, 0) < 0 && errno == EINTR)
			;
		*kind = msg[0] == STAGE_EXEC ? ALCATRAZ_CTL_ST_EXEC_FAILED :
					       ALCATRAZ_CTL_ST_INIT_ERROR;
		*value = msg[1];
		klog(6, "%s %s: %s", msg[0] == STAGE_EXEC ? "exec" : "setting up",
		     cmd->argv[0], strerror(msg[1]));
		goto out;
	}

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		klog(3, "signalfd: %s", strerror(errno));
		*value = errno;
		goto out;
	}
	if (g.ctl >= 0)
		fcntl(g.ctl, F_SETFL, fcntl(g.ctl, F_GETFL) | O_NONBLOCK);

	while (alive) {
		struct pollfd pfd[6];
		int np = 0, i_sig, i_ctl = -1, idx[2][2] = { { -1, -1 }, { -1, -1 } };

		pfd[np] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		i_sig = np++;
		if (cin.open) {
			pfd[np] = (struct pollfd){ .fd = g.ctl, .events = POLLIN };
			i_ctl = np++;
		}
		for (int k = 0; k < 2; k++) {
			struct pump *p = pumps[k];

			if (!p)
				continue;
			if (p->reading && p->len == 0) {
				pfd[np] = (struct pollfd){ .fd = p->in, .events = POLLIN };
				idx[k][0] = np++;
			}
			if (p->out >= 0 && p->len > 0) {
				pfd[np] = (struct pollfd){ .fd = p->out, .events = POLLOUT };
				idx[k][1] = np++;
			}
		}
		if (poll(pfd, (nfds_t)np, -1) < 0) {
			if (errno == EINTR)
				continue;
			klog(3, "poll: %s", strerror(errno));
			break;
		}
		if (pfd[i_sig].revents) {
			struct signalfd_siginfo si;
			int wst;
			pid_t pid;

			while (read(sfd, &si, sizeof(si)) > 0)
				;
			while ((pid = waitpid(-1, &wst, WNOHANG)) > 0) {
				dbg("reaped %d, status 0x%x", (int)pid, wst);
				if (pid == child) {
					status_of(wst, kind, value);
					alive = false;
				}
			}
		}
		if (i_ctl >= 0 && pfd[i_ctl].revents)
			handle_post_end(&cin, &in, child, alive, master);
		for (int k = 0; k < 2; k++) {
			if (idx[k][0] >= 0 && pfd[idx[k][0]].revents)
				pump_read(pumps[k]);
			if (idx[k][1] >= 0 && pfd[idx[k][1]].revents)
				pump_write(pumps[k]);
		}
	}
	/*
	 * Whatever the command wrote to the pty before exiting is still in
	 * the pty; background processes may keep it open, so only take what
	 * is there now.
	 */
	if (tty)
		pump_drain(&out, 1000);
out:
	if (sfd >= 0)
		close(sfd);
	if (child_in >= 0)
		close(child_in);
	if (in.close_out)
		pump_done_out(&in);
	if (master >= 0)
		close(master);
	close(cons);
}

/* ---- the end ------------------------------------------------------------ */

static __attribute__((noreturn)) void power_off(void)
{
	if (g.test)
		exit(0);
	sync();
	/*
	 * Without ACPI the kernel has no way to power off and RB_POWER_OFF
	 * silently degrades to a halt the VMM cannot see (HLT stays inside
	 * KVM).  A reboot always leaves the VM: i8042 reset or triple fault,
	 * both of which the VMM treats as the end.  A DSDT is the sign of a
	 * VMM (or QEMU) that implements ACPI sleep states.
	 */
	if (cmdline_get("alcatraz.poweroff", NULL, 0) ||
	    access("/sys/firmware/acpi/tables/DSDT", F_OK) == 0)
		reboot(RB_POWER_OFF);
	reboot(RB_AUTOBOOT);
	for (;;)
		pause();
}

static __attribute__((noreturn)) void finish(uint32_t kind, int32_t value, bool fallback)
{
	int fd;

	/* The host may tear the VM down as soon as STATUS arrives: flush the
	 * disks and the console first. */
	sync();
	fd = open(g.console ? g.console : "/dev/console", O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	if (fd >= 0) {
		if (isatty(fd))
			tcdrain(fd);
		if (fallback) {
			char line[128];
			int n = snprintf(line, sizeof(line), "\r\nalcatraz-init: %s %d\r\n",
					 kind == ALCATRAZ_CTL_ST_EXITED ? "exited" :
					 kind == ALCATRAZ_CTL_ST_SIGNALED ? "signaled" :
					 kind == ALCATRAZ_CTL_ST_EXEC_FAILED ? "exec-failed" :
					 "init-error", value);

			if (n > 0 && write_full(fd, line, (size_t)n) == 0 && isatty(fd))
				tcdrain(fd);
		}
		close(fd);
	}
	klog(6, "command ended: kind %u value %d after %llu ms", kind, value,
	     (unsigned long long)((now_ns() - g.t_start) / 1000000));
	if (g.ctl >= 0) {
		/* The poll loop made the socket non-blocking; STATUS must not be
		 * dropped for want of vsock credit. */
		fcntl(g.ctl, F_SETFL, fcntl(g.ctl, F_GETFL) & ~O_NONBLOCK);
		send_status(kind, value);
		dbg("STATUS sent");
	}
	if (g.ctl >= 0 && !g.test) {
		/*
		 * A vsock write only queues the packet for a kernel worker, and
		 * a reboot now could stop the CPUs before it reaches the virtqueue.
		 * The host ends the VM as soon as it has STATUS; give it a moment
		 * to do so (or to close the connection) before rebooting anyway.
		 */
		struct pollfd pfd = { .fd = g.ctl, .events = POLLIN | POLLRDHUP };
		uint64_t deadline = now_ns() + 1000000000ull;
		bool closed = false;
		char sink[256];

		fcntl(g.ctl, F_SETFL, fcntl(g.ctl, F_GETFL) | O_NONBLOCK);
		while (!closed && now_ns() < deadline &&
		       poll(&pfd, 1, (int)((deadline - now_ns()) / 1000000) + 1) > 0) {
			ssize_t n = read(g.ctl, sink, sizeof(sink));

			closed = n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR);
		}
		if (!closed)
			klog(4, "the host did not end the VM within 1 s of STATUS; rebooting");
	} else if (g.ctl >= 0) {
		shutdown(g.ctl, SHUT_WR);
		close(g.ctl);
	}
	power_off();
}

static void usage_exit(void)
{
	fprintf(stderr, "alcatraz-init is PID 1 of an Alcatraz microVM.\n"
		"test mode: alcatraz-init --test --console PATH [--control-fd N] [--cmdline STRING]\n");
	exit(2);
}

static void parse_test_args(int argc, char **argv)
{
	bool test = false;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--test")) {
			test = true;
		} else if (!strcmp(argv[i], "--control-fd") && i + 1 < argc) {
			g.ctl = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--console") && i + 1 < argc) {
			g.console = argv[++i];
		} else if (!strcmp(argv[i], "--cmdline") && i + 1 < argc) {
			snprintf(g.cmdline, sizeof(g.cmdline), "%s", argv[++i]);
		} else {
			usage_exit();
		}
	}
	if (!test || !g.console)
		usage_exit();
	if (g.ctl >= 0)
		fcntl(g.ctl, F_SETFD, FD_CLOEXEC);
}

int main(int argc, char **argv)
{
	struct command cmd = { 0 };
	bool fallback = false;
	uint32_t kind;
	int32_t value;
	sigset_t mask;
	int r;

	g.t_start = now_ns();
	g.test = getpid() != 1;
	if (g.test) {
		parse_test_args(argc, argv);
		g.kmsg = 2;
		/* Stand in for PID 1: orphans are reparented to us. */
		prctl(PR_SET_CHILD_SUBREAPER, 1);
	} else {
		setup_system();
		int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);

		if (fd >= 0) {
			ssize_t n = read(fd, g.cmdline, sizeof(g.cmdline) - 1);

			g.cmdline[n > 0 ? n : 0] = '\0';
			close(fd);
		}
	}
	g.debug = cmdline_get("alcatraz.debug", NULL, 0);
	dbg("started, control channel %s", g.ctl >= 0 || !g.test ? "expected" : "absent");
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);

	if (!g.test) {
		if (cmdline_get("alcatraz.novsock", NULL, 0)) {
			klog(6, "control channel disabled on the command line");
		} else {
			r = ctl_connect();
			if (r < 0)
				klog(3, "connecting to the host on vsock %u:%u: %s",
				     ALCATRAZ_CTL_HOST_CID, ALCATRAZ_CTL_VSOCK_PORT, strerror(-r));
			else
				g.ctl = r;
		}
		/* Tell the host at once: its boot timings should not include
		 * the waits below. */
		if (g.ctl >= 0)
			send_event(ALCATRAZ_CTL_EV_INIT_START, g.t_start);
		install_busybox_links();
	}
	g.console = pick_console();
	dbg("console %s, control fd %d", g.console, g.ctl);

	if (g.test && g.ctl >= 0)
		send_event(ALCATRAZ_CTL_EV_INIT_START, g.t_start);
	if (g.ctl >= 0) {
		r = recv_command(g.ctl, &cmd);
		if (r) {
			klog(3, "receiving the command: %s", strerror(-r));
			finish(ALCATRAZ_CTL_ST_INIT_ERROR, -r, false);
		}
	} else {
		r = fallback_command(&cmd);
		if (r) {
			klog(3, "no control channel and %s alcatraz.cmd= on the kernel command line",
			     r == -ENOENT ? "no" : "an unusable");
			finish(ALCATRAZ_CTL_ST_INIT_ERROR, -r, true);
		}
		fallback = true;
	}

	bool has_path = false;
	for (size_t i = 0; i < cmd.envc; i++)
		if (!strncmp(cmd.envp[i], "PATH=", 5))
			has_path = true;
	static char default_path[] = "PATH=" DEFAULT_PATH;
	if (!has_path && push(&cmd.envp, &cmd.envc, &cmd.envp_cap, default_path))
		finish(ALCATRAZ_CTL_ST_INIT_ERROR, ENOMEM, fallback);

	run_command(&cmd, &kind, &value);
	finish(kind, value, fallback);
}
