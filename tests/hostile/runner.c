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
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "alcatraz/alcatraz.h"
#include "vmm.h"

int alcatraz_test_config_set_raw_platform(struct alcatraz_config *cfg);
#include "layout.h"

#define F_NOCTL 1u   /* no command: no control channel, console output dropped */
#define F_CONSOLE 2u /* the console sink must hold exactly CONSOLE_TEXT */
#define F_DISKW 4u   /* the read-write disk's DISK_WRITE_SECTOR was written */
#define F_HOST 8u    /* host_extra_check() for this case */

#define VM_TIMEOUT_MS 60000

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

struct run {
	int serial, console, log;
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

static char *slurp(int fd, size_t *len)
{
	off_t end = lseek(fd, 0, SEEK_END);
	char *s = malloc(end > 0 ? (size_t)end + 1 : 1);

	*len = 0;
	if (!s)
		return NULL;
	if (end > 0 && pread(fd, s, (size_t)end, 0) == end)
		*len = (size_t)end;
	s[*len] = 0;
	return s;
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

/* The same VM through the library: alcatraz-vmm-testhooks, jailed. */
static int run_jailed(const char *image, const char *cmdline, bool control, struct run *r)
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
	    !(ret = alcatraz_config_add_disk(cfg, r->ro_path, true)) && control &&
	    !(ret = alcatraz_config_set_command(cfg, argv)))
		ret = alcatraz_config_set_stdio(cfg, -1, r->console, -1);
	if (!ret)
		ret = alcatraz_vm_create(cfg, &vm);
	alcatraz_config_free(cfg);
	if (ret)
		return ret;
	ret = alcatraz_vm_start(vm);
	if (!ret)
		ret = alcatraz_vm_wait(vm, -1);
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
		return run_jailed(image, cmdline, !(c->flags & F_NOCTL), r);
	}
	struct vm *vm;
	ret = vm_create(&vc, &vm); /* takes vc's fds and lists */
	if (ret)
		return ret;
	ret = vm_start(vm);
	if (!ret)
		ret = vm_wait(vm, -1);
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
	if (c->msg && !strstr(r->res.message, c->msg)) {
		snprintf(why, sizeof(why), "message \"%s\", want \"%s\"", r->res.message, c->msg);
		return why;
	}
	if (strstr(r->serial_text, "FAIL"))
		return "the guest reported a failed check";
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

static void dump(const char *what, const char *text)
{
	if (!text || !*text)
		return;
	printf("  --- %s:\n", what);
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		int len = nl ? (int)(nl - p) : (int)strlen(p);
		printf("  | %.*s\n", len, p);
		p += len + (nl ? 1 : 0);
	}
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
	r.serial = memfd_create("serial", MFD_CLOEXEC);
	r.console = memfd_create("console", MFD_CLOEXEC);
	r.log = memfd_create("log", MFD_CLOEXEC);
	if (r.serial < 0 || r.console < 0 || r.log < 0 ||
	    make_disk(r.rw_path, sizeof(r.rw_path), tmp, DISK_SECTORS, false) ||
	    make_disk(r.ro_path, sizeof(r.ro_path), tmp, DISK_RO_SECTORS, true)) {
		bad = "cannot set up the case's files";
	} else {
		ret = run_vm(image, n, sandbox, &r);
		if (ret) {
			static char why[128];
			snprintf(why, sizeof(why), "the VM did not run: %s", alcatraz_strerror(ret));
			bad = why;
		}
	}
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
