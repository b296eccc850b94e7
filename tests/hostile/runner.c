// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Runs the hostile guest's cases (cases.def), each in a fresh VM with the
 * platform devices (a test-hooks VMM: platform_raw.c), jailed and with
 * --insecure-no-sandbox's in-process VMM, and checks the VMM's exact
 * answer: how the VM ended, the guest's own checks (serial output ending in
 * "alive"), the console sink, and the disk images. One line per case and
 * mode, then "N passed, N failed".
 *
 *   hostile-runner IMAGE [--sandbox|--no-sandbox] [CASE-NAME-OR-NUMBER...]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "alcatraz/alcatraz.h"
#include "vmm.h"

int alcatraz_test_config_set_raw_platform(struct alcatraz_config *cfg);
int alcatraz_test_config_set_net_fd(struct alcatraz_config *cfg, int fd);
#include "layout.h"
#include "hang.h"

#define F_NOCTL 1u   /* no command: no control channel, console output dropped */
#define F_CONSOLE 2u /* the console sink must hold exactly CONSOLE_TEXT */
#define F_DISKW 4u   /* the read-write disk's DISK_WRITE_SECTOR was written */
#define F_HOST 8u    /* host_extra_check() for this case */
#define F_NET 16u    /* a virtio-net device; the runner is its backend (struct netpeer) */
/* On kvm_pvm, whose KVM emulates the guest's CPL0, KVM may stop the case
 * with an instruction-emulation failure instead: the same kind, that message. */
#define F_PVM_EMUL 32u
#define PVM_EMUL_MSG "KVM internal error 1 (instruction emulation failed)"

static bool on_kvm_pvm; /* alcatraz_kvm_probe() said -ALCATRAZ_E_SLOWKVM */

#define VM_TIMEOUT_MS 60000
/* A VM that has not ended this long after its own timeout is a hang of the
 * VMM (or of KVM): the runner reports what every thread is doing and stops,
 * rather than hanging until meson kills the whole suite. */
#define HANG_MS (VM_TIMEOUT_MS + 30000)

struct hcase {
	const char *name;
	unsigned int flags;
	enum alcatraz_exit_kind kind;
	int status;
	const char *msg;
};

static const struct hcase cases[] = {
#define HCASE(name, flags, kind, status, msg) { #name, flags, ALCATRAZ_EXIT_##kind, status, msg },
#include "cases.def"
#undef HCASE
};
#define NR_CASES (sizeof(cases) / sizeof(cases[0]))

/*
 * The backend of an F_NET case's virtio-net device: a stream socket
 * speaking passt's protocol (each frame after its length, 32 bits big
 * endian), given to the in-process VMM directly and to the jailed one
 * through the library's test hook. A thread reads every frame the device
 * sends, checks it (layout.h: NETF_*) and answers "give" requests.
 */
#define STREAM_LEN 4
#define FRAME_MAX (14 + 4 + 65535)
#define PEER_BUF (1u << 20)

struct netpeer {
	int fd;                    /* ours */
	int vmm_fd;                /* the VMM's end until it takes it */
	pthread_t thread;
	bool started;
	volatile bool stop;
	uint8_t *buf;              /* stream bytes not yet parsed */
	size_t len;
	uint32_t good, host_seq;
	bool done;
	char err[200];             /* the first problem */
};

struct run {
	int serial, console, log;
	struct netpeer net;
	char rw_path[256], ro_path[256];
	struct alcatraz_result res;
	char *serial_text, *console_text, *log_text;
	size_t serial_len, console_len;
};

static int make_disk(char *path, size_t len, const char *tmp, unsigned int sectors, bool ro)
{
	uint8_t sector[512];
	int fd;

	snprintf(path, len, "%s/hostile-disk-XXXXXX", tmp);
	fd = mkstemp(path);
	if (fd < 0)
		return -errno;
	for (unsigned int s = 0; s < sectors; s++) {
		for (unsigned int i = 0; i < 512; i++)
			sector[i] = ro ? DISK_RO_BYTE(s, i) : DISK_BYTE(s, i);
		if (write(fd, sector, 512) != 512) {
			close(fd);
			return -EIO;
		}
	}
	close(fd);
	return 0;
}

/* Every sector as written, but the written one in a write case. */
static const char *check_disk(const char *path, unsigned int sectors, bool ro, bool written)
{
	uint8_t sector[512];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	const char *bad = NULL;

	if (fd < 0)
		return "cannot open a disk image";
	for (unsigned int s = 0; s < sectors && !bad; s++) {
		if (pread(fd, sector, 512, (off_t)s * 512) != 512) {
			bad = "disk image shorter than before";
			break;
		}
		for (unsigned int i = 0; i < 512 && !bad; i++) {
			uint8_t want = ro ? DISK_RO_BYTE(s, i) : DISK_BYTE(s, i);
			if (written && s == DISK_WRITE_SECTOR)
				want = DISK_WRITE_BYTE(i);
			if (sector[i] != want)
				bad = ro ? "the read-only disk changed"
				    : written ? "the written sector (or another) is not what the guest wrote"
					      : "the read-write disk changed";
		}
	}
	close(fd);
	return bad;
}

static char **strv1(const char *a)
{
	char **v = calloc(2, sizeof(*v));
	if (v)
		v[0] = strdup(a);
	return v;
}

static void free_vc_copies(struct vm_config *vc)
{
	if (vc->argv) {
		free(vc->argv[0]);
		free(vc->argv);
		if (vc->stdout_fd >= 0)
			close(vc->stdout_fd);
	}
	for (unsigned int i = 0; i < vc->nr_disks; i++)
		free(vc->disks[i].path);
	free(vc->disks);
	if (vc->serial_fd >= 0)
		close(vc->serial_fd);
	if (vc->log_fd >= 0)
		close(vc->log_fd);
}

/* ----------------------------------------------------- the net backend */

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

__attribute__((format(printf, 2, 3)))
static void net_err(struct netpeer *p, const char *fmt, ...)
{
	va_list ap;

	if (p->err[0])
		return;
	va_start(ap, fmt);
	vsnprintf(p->err, sizeof(p->err), fmt, ap);
	va_end(ap);
}

static uint16_t csum_fold(const uint8_t *b, size_t len)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	if (i < len)
		sum += (uint32_t)b[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Sends the guest count frames of len bytes ("host", numbered on). */
static void net_give(struct netpeer *p, uint32_t count, uint32_t len)
{
	static uint8_t f[STREAM_LEN + NETF_GIVE_MAX];

	if (count > 16 || len < NETF_MIN || len > NETF_GIVE_MAX) {
		net_err(p, "the guest asked for %u frames of %u bytes", count, len);
		return;
	}
	for (uint32_t k = 0; k < count; k++) {
		uint8_t *e = f + STREAM_LEN;
		uint32_t seq = p->host_seq++, be = htonl(len);
		ssize_t w;

		for (uint32_t i = 0; i < len; i++)
			e[i] = NETF_BYTE(seq, i);
		memset(e, 0xff, 6);
		memcpy(e + 6, "\x02\x00\x00\x00\x00\x02", 6);
		e[12] = NETF_ETYPE >> 8;
		e[13] = NETF_ETYPE & 0xff;
		memcpy(e + NETF_TAG, NETF_HOST, 4);
		memcpy(e + NETF_SEQ, &seq, 4);
		memcpy(e + NETF_LEN, &len, 4);
		memcpy(f, &be, STREAM_LEN);
		w = send(p->fd, f, STREAM_LEN + len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w != (ssize_t)(STREAM_LEN + len))
			net_err(p, "sending the guest frame %u: %zd", seq, w);
	}
}

/* One frame the device sent: only the guest's good ones (and requests). */
static void net_frame(struct netpeer *p, const uint8_t *f, size_t len)
{
	bool csum;

	if (len < NETF_MIN || len > FRAME_MAX || f[12] != NETF_ETYPE >> 8 ||
	    f[13] != (NETF_ETYPE & 0xff)) {
		net_err(p, "the backend got a frame that is not the guest's (%zu bytes)", len);
		return;
	}
	if (p->done) {
		net_err(p, "a frame after the guest's last one (%zu bytes)", len);
		return;
	}
	if (!memcmp(f + NETF_TAG, NETF_GIVE, 4)) {
		net_give(p, get32(f + NETF_SEQ), get32(f + NETF_LEN));
		return;
	}
	if (!memcmp(f + NETF_TAG, NETF_DONE, 4)) {
		if (get32(f + NETF_SEQ) != p->good)
			net_err(p, "the guest sent %u good frames, %u reached the backend",
				get32(f + NETF_SEQ), p->good);
		p->done = true;
		return;
	}
	csum = !memcmp(f + NETF_TAG, NETF_CSUM, 4);
	if (!csum && memcmp(f + NETF_TAG, NETF_GOOD, 4)) {
		net_err(p, "a frame the device had to drop reached the backend (%zu bytes)", len);
		return;
	}
	if (get32(f + NETF_SEQ) != p->good || get32(f + NETF_LEN) != len) {
		net_err(p, "good frame %u (or its length) arrived where frame %u was due",
			get32(f + NETF_SEQ), p->good);
		return;
	}
	for (size_t i = NETF_MIN; i < len; i++) {
		if (csum && (i == NETF_CSUM_AT || i == NETF_CSUM_AT + 1))
			continue;
		if (f[i] != NETF_BYTE(p->good, i)) {
			net_err(p, "good frame %u changed at byte %zu", p->good, i);
			return;
		}
	}
	if (csum && csum_fold(f + NETF_CSUM_START, len - NETF_CSUM_START))
		net_err(p, "frame %u: the device did not complete its checksum", p->good);
	p->good++;
}

/* Whole length-prefixed frames out of the stream bytes. */
static void net_stream(struct netpeer *p)
{
	size_t off = 0;

	while (p->len - off >= STREAM_LEN && !p->err[0]) {
		uint32_t be, l;

		memcpy(&be, p->buf + off, STREAM_LEN);
		l = ntohl(be);
		if (l < 14 || l > FRAME_MAX) {
			net_err(p, "a stream length of %u bytes reached the backend", l);
			return;
		}
		if (p->len - off < STREAM_LEN + (size_t)l)
			break;
		net_frame(p, p->buf + off + STREAM_LEN, l);
		off += STREAM_LEN + l;
	}
	memmove(p->buf, p->buf + off, p->len - off);
	p->len -= off;
}

static void *net_thread(void *arg)
{
	struct netpeer *p = arg;

	for (;;) {
		struct pollfd pfd = { .fd = p->fd, .events = POLLIN };
		ssize_t r;
		int n = poll(&pfd, 1, 100);

		if (n == 0 && p->stop)
			break;
		if (n <= 0)
			continue;
		r = recv(p->fd, p->buf + p->len, PEER_BUF - p->len, 0);
		if (r > 0) {
			p->len += (size_t)r;
			net_stream(p);
			if (p->len == PEER_BUF)
				net_err(p, "a stream frame longer than %u bytes", PEER_BUF);
			/* Past a failed check the stream is only drained, so that
			 * the guest does not stall on a backend that stopped. */
			if (p->err[0])
				p->len = 0;
		}
		if (r == 0)
			break; /* the VMM closed its end */
		if (r < 0 && errno != EINTR && errno != EAGAIN) {
			net_err(p, "reading the backend: %s", strerror(errno));
			break;
		}
	}
	return NULL;
}

/* The case's backend: one end of a socketpair for the VMM. */
static int net_start(struct netpeer *p)
{
	int sv[2];

	memset(p, 0, sizeof(*p));
	p->fd = p->vmm_fd = -1;
	p->buf = malloc(PEER_BUF);
	if (!p->buf)
		return -ENOMEM;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	p->vmm_fd = sv[0];
	p->fd = sv[1];
	if (pthread_create(&p->thread, NULL, net_thread, p))
		return -EAGAIN;
	p->started = true;
	return 0;
}

static void net_stop(struct netpeer *p)
{
	p->stop = true;
	if (p->started)
		pthread_join(p->thread, NULL);
	p->started = false;
	if (p->fd >= 0)
		close(p->fd);
	if (p->vmm_fd >= 0)
		close(p->vmm_fd);
	p->fd = p->vmm_fd = -1;
	free(p->buf);
	p->buf = NULL;
}

/* The VM outlived its own timeout by HANG_MS: say where everything is and
 * stop the run (destroying the VM would wait for the stuck threads). */
static _Noreturn void hang_report(unsigned int n, bool sandbox, const struct vm *vm,
				  const struct run *r)
{
	printf("FAIL %2u %-24s %-10s the VM had not ended after %d s (its own timeout: %d s)\n",
	       n, cases[n].name, sandbox ? "sandbox" : "no-sandbox", HANG_MS / 1000,
	       VM_TIMEOUT_MS / 1000);
	hang_dump(vm, r->serial, r->log);
}

/* The same VM through the library: alcatraz-vmm-testhooks, jailed. */
static int run_jailed(unsigned int n, const char *image, const char *cmdline, bool control,
		      struct run *r)
{
	const char *argv[] = { HOSTILE_ARGV0, NULL };
	struct alcatraz_config *cfg;
	struct alcatraz_vm *vm;
	int ret;

	ret = alcatraz_config_new(&cfg);
	if (ret)
		return ret;
	if (!(ret = alcatraz_config_set_guest_image(cfg, image)) &&
	    !(ret = alcatraz_test_config_set_raw_platform(cfg)) &&
	    !(ret = alcatraz_config_set_vcpus(cfg, HOSTILE_VCPUS)) &&
	    !(ret = alcatraz_config_set_memory_mib(cfg, HOSTILE_MEM_BYTES >> 20)) &&
	    !(ret = alcatraz_config_set_cmdline(cfg, cmdline)) &&
	    !(ret = alcatraz_config_set_timeout_ms(cfg, VM_TIMEOUT_MS)) &&
	    !(ret = alcatraz_config_set_irqchip(cfg, ALCATRAZ_IRQCHIP_ON)) &&
	    !(ret = alcatraz_config_set_serial_fd(cfg, r->serial)) &&
	    !(ret = alcatraz_config_set_log_fd(cfg, r->log)) &&
	    !(ret = alcatraz_config_add_disk(cfg, r->rw_path, false)) &&
	    !(ret = alcatraz_config_add_disk(cfg, r->ro_path, true)) &&
	    (!r->net.started || !(ret = alcatraz_test_config_set_net_fd(cfg, r->net.vmm_fd))) &&
	    control &&
	    !(ret = alcatraz_config_set_command(cfg, argv)))
		ret = alcatraz_config_set_stdio(cfg, -1, r->console, -1);
	if (!ret)
		ret = alcatraz_vm_create(cfg, &vm);
	alcatraz_config_free(cfg);
	if (ret)
		return ret;
	ret = alcatraz_vm_start(vm);
	if (!ret)
		ret = alcatraz_vm_wait(vm, HANG_MS);
	if (ret == -ETIMEDOUT)
		hang_report(n, true, NULL, r);
	if (!ret)
		ret = alcatraz_vm_result(vm, &r->res);
	alcatraz_vm_destroy(vm);
	return ret;
}

/* One VM for case n; fills r. 0, or a host-side failure to set it up. */
static int run_vm(const char *image, unsigned int n, bool sandbox, struct run *r)
{
	const struct hcase *c = &cases[n];
	struct vm_config vc;
	char cmdline[16];
	int ret;

	vm_config_defaults(&vc);
	snprintf(cmdline, sizeof(cmdline), "%u", n);
	vc.vcpus = HOSTILE_VCPUS;
	vc.mem_bytes = HOSTILE_MEM_BYTES;
	vc.image_path = (char *)image;
	vc.cmdline = cmdline;
	vc.timeout_ms = VM_TIMEOUT_MS;
	vc.irqchip = ALCATRAZ_IRQCHIP_ON;
	vc.seccomp = sandbox;
	vc.test_raw_platform = true;
	vc.serial_fd = fcntl(r->serial, F_DUPFD_CLOEXEC, 3);
	vc.log_fd = fcntl(r->log, F_DUPFD_CLOEXEC, 3);
	vc.stdin_fd = vc.stdout_fd = -1;
	if (!(c->flags & F_NOCTL)) {
		vc.argv = strv1(HOSTILE_ARGV0);
		vc.stdout_fd = fcntl(r->console, F_DUPFD_CLOEXEC, 3);
	}
	vc.disks = calloc(2, sizeof(*vc.disks));
	if (vc.disks) {
		vc.disks[0] = (struct vm_disk){ .path = strdup(r->rw_path), .fd = -1 };
		vc.disks[1] = (struct vm_disk){ .path = strdup(r->ro_path), .fd = -1,
						 .readonly = true };
		vc.nr_disks = 2;
	}
	if (!vc.disks || !vc.disks[0].path || !vc.disks[1].path ||
	    (!(c->flags & F_NOCTL) && (!vc.argv || !vc.argv[0]))) {
		free_vc_copies(&vc);
		return -ENOMEM;
	}

	if (sandbox) {
		free_vc_copies(&vc);
		return run_jailed(n, image, cmdline, !(c->flags & F_NOCTL), r);
	}
	struct vm *vm;
	if (r->net.started) {
		vc.net_backend = NET_BACKEND_STREAM;
		vc.net_fd = r->net.vmm_fd;
		vc.net_mtu = NET_TEST_MTU;
		memcpy(vc.net_mac, "\x02\x00\x00\x00\x00\x01", 6);
		r->net.vmm_fd = -1;
	}
	ret = vm_create(&vc, &vm); /* takes vc's fds and lists */
	if (ret)
		return ret;
	ret = vm_start(vm);
	if (!ret)
		ret = vm_wait(vm, HANG_MS);
	if (ret == -ETIMEDOUT)
		hang_report(n, false, vm, r);
	if (!ret) {
		pthread_mutex_lock(&vm->lock);
		r->res = vm->result;
		pthread_mutex_unlock(&vm->lock);
	}
	vm_destroy(vm);
	return ret;
}

static const char *ends_alive(const struct run *r)
{
	static const char tail[] = "alive\n";
	size_t t = sizeof(tail) - 1;

	if (r->serial_len < t || memcmp(r->serial_text + r->serial_len - t, tail, t))
		return "the guest did not report \"alive\" last";
	return NULL;
}

/* Per-case checks of the output the VMM passed on. */
static const char *host_extra_check(const struct hcase *c, const struct run *r)
{
	if (!strcmp(c->name, "l_serial_long")) {
		/* 1500 'x' then a newline: split only at the 1024-byte buffer. */
		const char *p = strstr(r->serial_text, "xxxx");
		size_t n = 0;
		while (p && p[n] == 'x')
			n++;
		if (n != 1500 || p[n] != '\n')
			return "the 1500-byte serial line did not come through whole";
	} else if (!strcmp(c->name, "m_console_len")) {
		/* Only whole "tick"s: never bytes from past the 4-byte buffer. */
		if (r->console_len % 4)
			return "the console sink holds a partial write";
		for (size_t i = 0; i < r->console_len; i += 4)
			if (memcmp(r->console_text + i, "tick", 4))
				return "the console sink holds bytes the guest did not queue";
	} else if (!strcmp(c->name, "l_rep_outs")) {
		if (!strstr(r->serial_text, "rep outsb reached the serial port\n"))
			return "REP OUTSB text missing from the serial output";
	}
	return NULL;
}

static const char *verdict(const struct hcase *c, const struct run *r)
{
	static char why[512];
	const char *bad;

	/* A bad frame at the backend first: what followed may be its effect. */
	if ((c->flags & F_NET) && r->net.err[0])
		return r->net.err;
	if (r->res.kind != c->kind) {
		snprintf(why, sizeof(why), "ended as %s (%s), want %s",
			 alcatraz_exit_kind_name(r->res.kind), r->res.message,
			 alcatraz_exit_kind_name(c->kind));
		return why;
	}
	if ((c->kind == ALCATRAZ_EXIT_STATUS || c->kind == ALCATRAZ_EXIT_SIGNALED) &&
	    r->res.status != c->status) {
		snprintf(why, sizeof(why), "status %d (%s), want %d", r->res.status,
			 r->res.message, c->status);
		return why;
	}
	if (c->msg && !strstr(r->res.message, c->msg) &&
	    !(on_kvm_pvm && (c->flags & F_PVM_EMUL) && strstr(r->res.message, PVM_EMUL_MSG))) {
		snprintf(why, sizeof(why), "message \"%s\", want \"%s\"", r->res.message, c->msg);
		return why;
	}
	if (strstr(r->serial_text, "FAIL"))
		return "the guest reported a failed check";
	if ((c->flags & F_NET) && !r->net.done)
		return "the guest's last frame never reached the backend";
	if (c->kind == ALCATRAZ_EXIT_STATUS && c->status == 0 && (bad = ends_alive(r)))
		return bad;
	if ((c->flags & F_CONSOLE) &&
	    (r->console_len != strlen(CONSOLE_TEXT) || memcmp(r->console_text, CONSOLE_TEXT, r->console_len)))
		return "the console sink does not hold exactly the text the guest queued";
	if ((bad = check_disk(r->ro_path, DISK_RO_SECTORS, true, false)))
		return bad;
	if ((bad = check_disk(r->rw_path, DISK_SECTORS, false, c->flags & F_DISKW)))
		return bad;
	if ((c->flags & F_HOST) && (bad = host_extra_check(c, r)))
		return bad;
	return NULL;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* 1 = passed */
static int run_case(const char *image, const char *tmp, unsigned int n, bool sandbox)
{
	const struct hcase *c = &cases[n];
	struct run r;
	const char *bad = NULL;
	double t0 = now_s();
	int ret;

	memset(&r, 0, sizeof(r));
	r.net.fd = r.net.vmm_fd = -1;
	r.serial = memfd_create("serial", MFD_CLOEXEC);
	r.console = memfd_create("console", MFD_CLOEXEC);
	r.log = memfd_create("log", MFD_CLOEXEC);
	if (r.serial < 0 || r.console < 0 || r.log < 0 ||
	    make_disk(r.rw_path, sizeof(r.rw_path), tmp, DISK_SECTORS, false) ||
	    make_disk(r.ro_path, sizeof(r.ro_path), tmp, DISK_RO_SECTORS, true)) {
		bad = "cannot set up the case's files";
	} else if ((c->flags & F_NET) && net_start(&r.net)) {
		bad = "cannot set up the network backend";
	} else {
		ret = run_vm(image, n, sandbox, &r);
		if (ret) {
			static char why[128];
			snprintf(why, sizeof(why), "the VM did not run: %s", alcatraz_strerror(ret));
			bad = why;
		}
	}
	net_stop(&r.net);
	r.serial_text = r.serial >= 0 ? slurp(r.serial, &r.serial_len) : NULL;
	r.console_text = r.console >= 0 ? slurp(r.console, &r.console_len) : NULL;
	size_t loglen;
	r.log_text = r.log >= 0 ? slurp(r.log, &loglen) : NULL;
	if (!bad && (!r.serial_text || !r.console_text || !r.log_text))
		bad = "out of memory";
	if (!bad)
		bad = verdict(c, &r);
	printf("%-4s %2u %-24s %-10s %6.2f s%s%s\n", bad ? "FAIL" : "ok", n, c->name,
	       sandbox ? "sandbox" : "no-sandbox", now_s() - t0, bad ? ": " : "", bad ? bad : "");
	/* The guest's "note: " lines (race outcomes) are worth seeing. */
	for (const char *p = r.serial_text; p && (p = strstr(p, "note: ")); p++) {
		const char *nl = strchr(p, '\n');
		printf("     %.*s\n", nl ? (int)(nl - p) : (int)strlen(p), p);
	}
	if (bad) {
		dump("serial", r.serial_text);
		dump("VMM log", r.log_text);
		dump("console", r.console_text);
	}
	fflush(stdout);
	unlink(r.rw_path);
	unlink(r.ro_path);
	free(r.serial_text);
	free(r.console_text);
	free(r.log_text);
	if (r.serial >= 0)
		close(r.serial);
	if (r.console >= 0)
		close(r.console);
	if (r.log >= 0)
		close(r.log);
	return !bad;
}

static int find_case(const char *arg)
{
	char *end;
	unsigned long v = strtoul(arg, &end, 10);

	if (*arg && !*end)
		return v < NR_CASES ? (int)v : -1;
	for (unsigned int i = 0; i < NR_CASES; i++)
		if (!strcmp(cases[i].name, arg))
			return (int)i;
	return -1;
}

/*
 * Keeps one KVM VM for the whole run, so kvm's static keys flip once
 * rather than at every case's VM (in the 2-CPU lab their patching under
 * emulation is what is slow and fragile; tests/e2e/e2e.sh does the same).
 */
static int hold_kvm(void)
{
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return -1;
	int vmfd = ioctl(kvm, KVM_CREATE_VM, 0);
	close(kvm);
	return vmfd;
}

int main(int argc, char **argv)
{
	bool modes[2] = { true, true }; /* [0] sandbox, [1] no sandbox */
	bool want[NR_CASES];
	unsigned int pass = 0, fail = 0, picked = 0;
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char msg[200];
	double t0 = now_s();

	if (argc < 2) {
		fprintf(stderr, "usage: %s IMAGE [--sandbox|--no-sandbox] [CASE...]\n", argv[0]);
		return 2;
	}
	memset(want, 0, sizeof(want));
	for (int i = 2; i < argc; i++) {
		int n;
		if (!strcmp(argv[i], "--sandbox")) {
			modes[1] = false;
		} else if (!strcmp(argv[i], "--no-sandbox")) {
			modes[0] = false;
		} else if ((n = find_case(argv[i])) >= 0) {
			want[n] = true;
			picked++;
		} else {
			fprintf(stderr, "%s: no case '%s'\n", argv[0], argv[i]);
			return 2;
		}
	}
	if (access(argv[1], R_OK)) {
		fprintf(stderr, "%s: %s: %s\n", argv[0], argv[1], strerror(errno));
		return 2;
	}
	int ret = alcatraz_kvm_probe(msg, sizeof(msg));
	if (ret && ret != -ALCATRAZ_E_SLOWKVM) { /* tiny guests run on kvm_pvm too */
		printf("SKIP: %s\n", msg);
		return 77;
	}
	on_kvm_pvm = ret == -ALCATRAZ_E_SLOWKVM;
	int holder = hold_kvm();
	for (unsigned int n = 0; n < NR_CASES; n++) {
		if (picked && !want[n])
			continue;
		for (int m = 0; m < 2; m++) {
			if (!modes[m])
				continue;
			if (run_case(argv[1], tmp, n, m == 0))
				pass++;
			else
				fail++;
		}
	}
	if (holder >= 0)
		close(holder);

	printf("%u passed, %u failed (%.1f s)\n", pass, fail, now_s() - t0);
	return fail ? 1 : 0;
}
