// SPDX-License-Identifier: LGPL-2.1-or-later
/* Network backends, library side (net.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib.h"
#include "net.h"

#define PASST_FD 3
#define PASST_ARGS_MAX (24 + 2 * NET_MAX_FORWARDS)
#define PASST_START_MS 5000
#define NOBODY "65534:65534"

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errlen, const char *fmt,
						      ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static bool parse_port(const char *s, size_t len, uint16_t *port)
{
	unsigned long v = 0;

	if (len == 0 || len > 5)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return false;
	*port = (uint16_t)v;
	return true;
}

int net_forward_parse(const char *spec, struct net_forward *f, char *err, size_t errlen)
{
	const char *end = spec + strlen(spec), *slash = strchr(spec, '/'), *last, *prev;
	struct in_addr a;

	memset(f, 0, sizeof(*f));
	f->proto = NET_PROTO_TCP;
	if (slash) {
		if (!strcmp(slash, "/udp"))
			f->proto = NET_PROTO_UDP;
		else if (strcmp(slash, "/tcp"))
			return fail(err, errlen, "--publish '%s': the protocol is /tcp or /udp", spec);
		end = slash;
	}
	last = memrchr(spec, ':', (size_t)(end - spec));
	if (!last)
		return fail(err, errlen,
			    "--publish '%s': expected [HOSTADDR:]HOSTPORT:GUESTPORT[/tcp|/udp]", spec);
	prev = memrchr(spec, ':', (size_t)(last - spec));
	if (!parse_port(last + 1, (size_t)(end - last - 1), &f->guest_port) ||
	    !parse_port(prev ? prev + 1 : spec, (size_t)(last - (prev ? prev + 1 : spec)),
			&f->host_port))
		return fail(err, errlen, "--publish '%s': ports are numbers from 1 to 65535", spec);
	if (prev) {
		size_t n = (size_t)(prev - spec);
		if (n == 0 || n >= sizeof(f->host_addr))
			return fail(err, errlen, "--publish '%s': bad host address", spec);
		memcpy(f->host_addr, spec, n);
		f->host_addr[n] = '\0';
		if (inet_pton(AF_INET, f->host_addr, &a) != 1)
			return fail(err, errlen, "--publish '%s': the host address is an IPv4 address",
				    spec);
	}
	return 0;
}

int net_mac_parse(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	char tail;

	if (strlen(s) != 17 || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
				      &b[4], &b[5], &tail) != 6)
		return -EINVAL;
	if (b[0] & 1)
		return -EINVAL; /* multicast */
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

static bool valid_ipv4(const char *s)
{
	struct in_addr a;

	return inet_pton(AF_INET, s, &a) == 1;
}

static bool valid_cidr(const char *s)
{
	char buf[32];
	const char *slash = strchr(s, '/');
	char *end;
	long p;

	if (!slash || (size_t)(slash - s) >= sizeof(buf))
		return false;
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = '\0';
	p = strtol(slash + 1, &end, 10);
	return valid_ipv4(buf) && slash[1] && !*end && p >= 1 && p <= 32;
}

/* One "key=value" of --net tap=NAME,... */
static int tap_option(struct net_config *c, const char *spec, char *kv, char *err,
		      size_t errlen)
{
	char *v = strchr(kv, '=');

	if (!v)
		return fail(err, errlen, "--net '%s': '%s' is not KEY=VALUE", spec, kv);
	*v++ = '\0';
	if (!strcmp(kv, "mac")) {
		if (net_mac_parse(v, c->mac))
			return fail(err, errlen, "--net '%s': mac= wants a unicast AA:BB:CC:DD:EE:FF",
				    spec);
		c->mac_set = true;
	} else if (!strcmp(kv, "ip")) {
		if (!valid_cidr(v) || strlen(v) >= sizeof(c->ip))
			return fail(err, errlen, "--net '%s': ip= wants A.B.C.D/PREFIX", spec);
		strcpy(c->ip, v);
	} else if (!strcmp(kv, "gw") || !strcmp(kv, "dns")) {
		char *dst = kv[0] == 'g' ? c->gateway : c->dns;
		if (!valid_ipv4(v))
			return fail(err, errlen, "--net '%s': %s= wants an IPv4 address", spec, kv);
		strcpy(dst, v);
	} else {
		return fail(err, errlen, "--net '%s': unknown option '%s' (mac, ip, gw, dns)", spec,
			    kv);
	}
	return 0;
}

int net_mode_parse(const char *spec, struct net_config *c, char *err, size_t errlen)
{
	char buf[256], *save = NULL, *kv;
	const char *name;
	int ret;

	c->mode = NET_MODE_NONE;
	c->mac_set = false;
	c->tap_name[0] = c->ip[0] = c->gateway[0] = c->dns[0] = '\0';
	if (!strcmp(spec, "none"))
		return 0;
	if (!strcmp(spec, "user")) {
		c->mode = NET_MODE_USER;
		return 0;
	}
	if (strncmp(spec, "tap=", 4) || strlen(spec) >= sizeof(buf))
		return fail(err, errlen, "--net wants user, tap=NAME[,mac=M][,ip=A/P][,gw=G]"
			    "[,dns=D] or none, not '%s'", spec);
	strcpy(buf, spec + 4);
	name = strtok_r(buf, ",", &save);
	if (!name || strlen(name) >= sizeof(c->tap_name) || strchr(name, '/'))
		return fail(err, errlen, "--net '%s': bad interface name", spec);
	strcpy(c->tap_name, name);
	while ((kv = strtok_r(NULL, ",", &save)))
		if ((ret = tap_option(c, spec, kv, err, errlen)))
			return ret;
	if ((c->gateway[0] || c->dns[0]) && !c->ip[0])
		return fail(err, errlen, "--net '%s': gw= and dns= need ip=", spec);
	c->mode = NET_MODE_TAP;
	return 0;
}

const char *passt_path(void)
{
	const char *e = secure_getenv("ALCATRAZ_PASST");

	return e && *e ? e : PASST_PATH;
}

/* ------------------------------------------------------------------ tap */

static int tap_open(const struct net_config *c, struct net_backend *b, char *err, size_t errlen)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
	int fd;

	/* Looked up in the caller's network namespace (a /sys mounted
	 * elsewhere could show another's). */
	if (if_nametoindex(c->tap_name) == 0) {
		fail(err, errlen, "tap device '%s' does not exist", c->tap_name);
		return -ENODEV;
	}
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		fail(err, errlen, "/dev/net/tun: %s", strerror(e));
		return -e;
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", c->tap_name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int e = errno;
		close(fd);
		if (e == EINVAL) {
			fail(err, errlen, "'%s' is not a tap device", c->tap_name);
			return -ENODEV;
		}
		fail(err, errlen, "attaching to tap device '%s': %s", c->tap_name, strerror(e));
		return -e;
	}
	b->fd = fd;
	b->kind = VMM_NET_TAP;
	if (c->ip[0]) {
		int n = snprintf(b->cmdline, sizeof(b->cmdline), "alcatraz.net=ip=%s", c->ip);
		if (c->gateway[0])
			n += snprintf(b->cmdline + n, sizeof(b->cmdline) - (size_t)n, ",gw=%s",
				      c->gateway);
		if (c->dns[0])
			snprintf(b->cmdline + n, sizeof(b->cmdline) - (size_t)n, ",dns=%s", c->dns);
	}
	return 0;
}

/* ---------------------------------------------------------------- passt */

/* A published port must be free before passt starts: its own message
 * about a failed bind is not a clear one-line error. */
static int port_free(const struct net_forward *f, char *err, size_t errlen)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(f->host_port) };
	int fd = socket(AF_INET, (f->proto == NET_PROTO_UDP ? SOCK_DGRAM : SOCK_STREAM) |
				     SOCK_CLOEXEC, 0);
	int ret = 0;

	if (f->host_addr[0])
		inet_pton(AF_INET, f->host_addr, &sa.sin_addr);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		fail(err, errlen, "published port %s%s%u/%s: %s", f->host_addr,
		     f->host_addr[0] ? ":" : "", f->host_port,
		     f->proto == NET_PROTO_UDP ? "udp" : "tcp",
		     ret == -EADDRINUSE ? "already in use" : strerror(-ret));
	}
	close(fd);
	return ret;
}

/* passt's argument vector; the strings live in `store`. */
static void passt_argv(const struct net_config *c, const char *path, char *argv[],
		       char store[][64])
{
	unsigned int n = 0, s = 0;

	argv[n++] = (char *)path;
	argv[n++] = "--foreground";
	argv[n++] = "--quiet";
	argv[n++] = "--fd";
	argv[n++] = "3";
	argv[n++] = "--ipv4-only";
	argv[n++] = "--address";
	argv[n++] = NET_USER_GUEST_IP;
	argv[n++] = "--netmask";
	argv[n++] = "24";
	argv[n++] = "--gateway";
	argv[n++] = NET_USER_GATEWAY;
	argv[n++] = "--dns-forward";
	argv[n++] = NET_USER_DNS;
	/* As root passt drops to nobody itself, by name: not every system
	 * (a minimal root) can look the name up. */
	if (geteuid() == 0) {
		argv[n++] = "--runas";
		argv[n++] = NOBODY;
	}
	for (unsigned int i = 0; i < c->nr_fwd; i++) {
		const struct net_forward *f = &c->fwd[i];
		argv[n++] = f->proto == NET_PROTO_UDP ? "-u" : "-t";
		snprintf(store[s], 64, "%s%s%u:%u", f->host_addr, f->host_addr[0] ? "/" : "",
			 f->host_port, f->guest_port);
		argv[n++] = store[s++];
	}
	argv[n] = NULL;
}

static void __attribute__((noreturn))
passt_child(const char *path, char *const argv[], int sock, int log_fd, int status_fd)
{
	static char *const envp[] = { NULL };
	int null, e;

	/* Out of the way of the numbers they are moved to (any may be 0-4). */
	sock = fcntl(sock, F_DUPFD_CLOEXEC, PASST_FD + 8);
	status_fd = fcntl(status_fd, F_DUPFD_CLOEXEC, PASST_FD + 8);
	log_fd = log_fd >= 0 ? fcntl(log_fd, F_DUPFD_CLOEXEC, PASST_FD + 8) : -1;
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (sock < 0 || status_fd < 0 || null < 0)
		goto out;
	/* Its own session: no signal of the caller's terminal reaches it. */
	setsid();
	if (dup2(null, 0) < 0 || dup2(log_fd >= 0 ? log_fd : null, 1) < 0 ||
	    dup2(log_fd >= 0 ? log_fd : null, 2) < 0 || dup2(sock, PASST_FD) < 0 ||
	    dup3(status_fd, PASST_FD + 1, O_CLOEXEC) < 0)
		goto out;
	status_fd = PASST_FD + 1;
	/* Only stdio, its socket and the exec-status pipe (CLOEXEC) survive. */
	syscall(SYS_close_range, PASST_FD + 2, ~0U, 0);
	execve(path, argv, envp);
out:
	e = errno;
	if (status_fd >= 0)
		(void)!write(status_fd, &e, sizeof(e));
	_exit(127);
}

/* Waits until every published port is bound (passt has set them up) or
 * passt exited; 0 or -ECHILD. */
static int passt_wait_ready(const struct net_config *c, pid_t pid)
{
	for (int waited = 0; waited < PASST_START_MS; waited += 10) {
		unsigned int bound = 0;
		int st;

		if (waitpid(pid, &st, WNOHANG) == pid)
			return -ECHILD;
		for (unsigned int i = 0; i < c->nr_fwd; i++)
			bound += port_free(&c->fwd[i], NULL, 0) == -EADDRINUSE;
		if (bound == c->nr_fwd)
			return 0;
		poll(NULL, 0, 10);
	}
	return 0; /* slow but alive: the VMM sees a hang-up if it fails */
}

static int passt_start(const struct net_config *c, int log_fd, struct net_backend *b, char *err,
		       size_t errlen)
{
	static char store[NET_MAX_FORWARDS][64];
	const char *path = passt_path();
	char *argv[PASST_ARGS_MAX];
	int sv[2], st[2], e = 0, ret;
	pid_t pid;

	if (access(path, X_OK)) {
		fail(err, errlen, "user-mode networking needs passt (Debian package passt): %s: %s",
		     path, strerror(errno));
		return -ENOENT;
	}
	for (unsigned int i = 0; i < c->nr_fwd; i++)
		if ((ret = port_free(&c->fwd[i], err, errlen)))
			return ret;
	passt_argv(c, path, argv, store);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	if (pipe2(st, O_CLOEXEC) < 0) {
		e = errno;
		close(sv[0]);
		close(sv[1]);
		return -e;
	}
	pid = fork();
	if (pid == 0)
		passt_child(path, argv, sv[1], log_fd, st[1]);
	close(sv[1]);
	close(st[1]);
	if (pid < 0 || read(st[0], &e, sizeof(e)) == sizeof(e)) {
		e = pid < 0 ? errno : e;
		close(st[0]);
		close(sv[0]);
		if (pid > 0)
			waitpid(pid, NULL, 0);
		fail(err, errlen, "starting passt (%s): %s", path, strerror(e));
		return -e;
	}
	close(st[0]);
	if (passt_wait_ready(c, pid)) {
		close(sv[0]);
		fail(err, errlen, "passt exited at start (its messages are in the log)");
		return -ECHILD;
	}
	b->fd = sv[0];
	b->kind = VMM_NET_STREAM;
	b->passt = pid;
	b->mtu = NET_USER_MTU;
	snprintf(b->cmdline, sizeof(b->cmdline),
		 "alcatraz.net=ip=%s/%d,gw=%s,dns=%s,mtu=%d,host=%s", NET_USER_GUEST_IP,
		 NET_USER_PREFIX, NET_USER_GATEWAY, NET_USER_DNS, NET_USER_MTU, NET_USER_GATEWAY);
	return 0;
}

int net_open(const struct net_config *c, int log_fd, struct net_backend *b, char *err,
	     size_t errlen)
{
	int ret = 0;

	memset(b, 0, sizeof(*b));
	b->fd = -1;
	if (c->nr_fwd && c->mode != NET_MODE_USER)
		return fail(err, errlen, "published ports need user-mode networking (--net user)");
	if (c->mode == NET_MODE_NONE)
		return 0;
	if (c->mac_set) {
		memcpy(b->mac, c->mac, 6);
	} else {
		/* Random, locally administered, unicast. */
		if (getrandom(b->mac, 6, 0) != 6)
			return -EIO;
		b->mac[0] = (uint8_t)((b->mac[0] & 0xfe) | 0x02);
	}
	if (c->mode == NET_MODE_TAP)
		ret = tap_open(c, b, err, errlen);
	else if (c->mode == NET_MODE_USER)
		ret = passt_start(c, log_fd, b, err, errlen);
#ifdef ALCATRAZ_TEST_HOOKS
	else if (c->mode == NET_MODE_TEST_FD && (b->fd = fcntl(c->test_fd, F_DUPFD_CLOEXEC, 3)) < 0)
		ret = -errno;
	else if (c->mode == NET_MODE_TEST_FD)
		b->kind = VMM_NET_STREAM;
#endif
	else
		ret = fail(err, errlen, "unknown network mode");
	if (ret)
		b->fd = -1;
	return ret;
}

void net_close(struct net_backend *b)
{
	if (b->fd >= 0)
		close(b->fd);
	b->fd = -1;
	if (b->passt > 0) {
		kill(b->passt, SIGTERM);
		waitpid(b->passt, NULL, 0);
		b->passt = 0;
	}
}

/* ------------------------------------------------------------ the API */

int alcatraz_config_set_net_user(struct alcatraz_config *cfg)
{
	if (!cfg)
		return -EINVAL;
	return net_mode_parse("user", &cfg->net, NULL, 0);
}

int alcatraz_config_set_net_tap(struct alcatraz_config *cfg, const char *spec)
{
	char buf[300];
	struct net_config c;

	if (!cfg || !spec || strlen(spec) + 5 > sizeof(buf))
		return -EINVAL;
	c = cfg->net;
	snprintf(buf, sizeof(buf), "tap=%s", spec);
	if (net_mode_parse(buf, &c, NULL, 0))
		return -EINVAL;
	cfg->net = c;
	return 0;
}

#ifdef ALCATRAZ_TEST_HOOKS
/* Test builds only: the backend is the caller's stream socket, which
 * speaks passt's protocol (tests/hostile). */
int alcatraz_test_config_set_net_fd(struct alcatraz_config *cfg, int fd);
int alcatraz_test_config_set_net_fd(struct alcatraz_config *cfg, int fd)
{
	if (!cfg || fd < 0)
		return -EINVAL;
	cfg->net.mode = NET_MODE_TEST_FD;
	cfg->net.test_fd = fd;
	return 0;
}
#endif

int alcatraz_config_add_port_forward(struct alcatraz_config *cfg, const char *spec)
{
	if (!cfg || !spec)
		return -EINVAL;
	if (cfg->net.nr_fwd >= NET_MAX_FORWARDS)
		return -ENOSPC;
	if (net_forward_parse(spec, &cfg->net.fwd[cfg->net.nr_fwd], NULL, 0))
		return -EINVAL;
	cfg->net.nr_fwd++;
	return 0;
}
