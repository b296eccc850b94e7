// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Description: snapshot and restore on /dev/kvm (issue 18), in-process on
 * the VMM core: the counter guest is snapshotted mid-way, goes on to its
 * end, and two clones restored from the files at the same time each go on
 * from the snapshot's tick (not from the start) to the same end; with and
 * without the in-kernel irqchip. Bad state and memory files are refused
 * with nothing leaked. argv[1]: the tiny guests' directory.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vmm.h"
#include "check_main.h"
#include "counter_output.h"

#define MEM_BYTES (16ull << 20)
#define NR_VCPUS 2
#define SNAP_AT_TICK 5
#define STR_(x) #x
#define ASTR(x) STR_(x)

static const char *guest_dir;
static char tmpdir[] = "/tmp/alcatraz-snapshot-XXXXXX";

struct run {
	struct vm *vm;
	int out;              /* read end of the serial pipe */
	char text[8192];
	size_t len;
};

static char *guest_path(const char *name)
{
	static char path[4096];

	snprintf(path, sizeof(path), "%s/%s.img", guest_dir, name);
	return path;
}

static void config(struct vm_config *vc, const char *guest, enum alcatraz_irqchip irq,
		   int serial_fd)
{
	vm_config_defaults(vc);
	vc->image_path = guest_path(guest);
	vc->vcpus = NR_VCPUS;
	vc->mem_bytes = MEM_BYTES;
	vc->irqchip = irq;
	vc->serial_fd = serial_fd;
	vc->log_fd = fcntl_dup_cloexec(2);
	vc->timeout_ms = 120000;
}

static int open_file(const char *name, int flags)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	return open(path, flags | O_CLOEXEC, 0600);
}

/* vm_create() for a boot (state NULL) or a restore from the named files. */
static int create(struct run *r, const char *guest, enum alcatraz_irqchip irq, const char *state,
		  const char *mem, unsigned int vcpus)
{
	struct vm_config vc;
	int p[2];

	memset(r, 0, sizeof(*r));
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	config(&vc, guest, irq, p[1]);
	vc.vcpus = vcpus;
	if (state) {
		vc.restore = true;
		vc.snap_state_fd = open_file(state, O_RDONLY);
		vc.snap_mem_fd = open_file(mem, O_RDONLY);
		ck_assert_int_ge(vc.snap_state_fd, 0);
		ck_assert_int_ge(vc.snap_mem_fd, 0);
	}
	r->out = p[0];
	int ret = vm_create(&vc, &r->vm);
	if (ret) {
		close(p[0]);
		r->vm = NULL;
	}
	return ret;
}

/* Reads serial output until `want` appears (or the pipe closes). */
static void read_until(struct run *r, const char *want)
{
	serial_read_until(r->out, r->text, sizeof(r->text), &r->len, want);
}

/* Waits for the end and collects the rest of the output. */
static void finish(struct run *r, struct alcatraz_result *res)
{
	ck_assert_int_eq(vm_wait(r->vm, 120000), 0);
	*res = r->vm->result;
	vm_destroy(r->vm);
	r->vm = NULL;
	read_until(r, "\xff"); /* to the end of the pipe */
	close(r->out);
}

/* Snapshots a counter guest at SNAP_AT_TICK into "state"/"mem"; the
 * original goes on to its end. */
static void take_snapshot(enum alcatraz_irqchip irq)
{
	struct alcatraz_result res;
	struct run orig;
	char why[200] = "";

	double t0 = now_ms();
	ck_assert_int_eq(create(&orig, "counter", irq, NULL, NULL, NR_VCPUS), 0);
	printf("irqchip %d: booted VM created in %.1f ms\n", irq, now_ms() - t0);
	ck_assert_int_eq(vm_start(orig.vm), 0);
	read_until(&orig, "tick " ASTR(SNAP_AT_TICK) "\n");
	int sfd = open_file("state", O_RDWR | O_CREAT | O_TRUNC);
	int mfd = open_file("mem", O_RDWR | O_CREAT | O_TRUNC);
	t0 = now_ms();
	ck_assert_msg(vm_snapshot(orig.vm, sfd, mfd, why, sizeof(why)) == 0, "%s", why);
	printf("irqchip %d: snapshot in %.1f ms\n", irq, now_ms() - t0);
	close(sfd);
	close(mfd);
	finish(&orig, &res);
	ck_assert_int_eq(res.kind, ALCATRAZ_EXIT_STATUS);
	ck_assert_int_eq(res.status, COUNTER_STATUS);
	ck_assert_uint_eq(counter_check_ticks(orig.text), 1);
}

static void snapshot_and_clones(enum alcatraz_irqchip irq)
{
	struct alcatraz_result res[2];
	struct run clone[2];
	struct stat st;
	char path[256];

	take_snapshot(irq);
	snprintf(path, sizeof(path), "%s/mem", tmpdir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_size, (off_t)MEM_BYTES);
	printf("irqchip %d: memory file %lld KiB on disk of %llu KiB\n", irq,
	       (long long)st.st_blocks / 2, (unsigned long long)(MEM_BYTES >> 10));
	ck_assert_int_lt(st.st_blocks * 512, (off_t)MEM_BYTES); /* zero pages are holes */

	for (int i = 0; i < 2; i++) {
		double t0 = now_ms();
		ck_assert_int_eq(create(&clone[i], "counter", irq, "state", "mem", NR_VCPUS), 0);
		printf("irqchip %d: clone %d restored in %.1f ms\n", irq, i, now_ms() - t0);
	}
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(vm_start(clone[i].vm), 0);
	for (int i = 0; i < 2; i++)
		finish(&clone[i], &res[i]);
	for (int i = 0; i < 2; i++) {
		ck_assert_msg(res[i].kind == ALCATRAZ_EXIT_STATUS, "clone %d: %s", i,
			      res[i].message);
		ck_assert_int_eq(res[i].status, COUNTER_STATUS);
		unsigned int first = counter_check_ticks(clone[i].text);
		/* Not from the start: from after the tick the snapshot saw. */
		ck_assert_uint_gt(first, SNAP_AT_TICK);
		printf("irqchip %d: clone %d went on from tick %u\n", irq, i, first);
	}
}

START_TEST(restore_no_irqchip)
{
	snapshot_and_clones(ALCATRAZ_IRQCHIP_OFF);
}
END_TEST

START_TEST(restore_irqchip)
{
	snapshot_and_clones(ALCATRAZ_IRQCHIP_ON);
}
END_TEST

/* Copies "state" to name, cut to len bytes (or whole) and with the byte at
 * flip (if any) changed. */
static void bad_copy(const char *from, const char *name, off_t len, off_t flip)
{
	char buf[1 << 16];
	int in = open_file(from, O_RDONLY), out = open_file(name, O_RDWR | O_CREAT | O_TRUNC);
	ssize_t n = read(in, buf, sizeof(buf));

	ck_assert_int_gt(n, 0);
	if (len >= 0 && len < n)
		n = len;
	if (flip >= 0)
		buf[flip] ^= 0x20;
	ck_assert_int_eq(write(out, buf, (size_t)n), n);
	close(in);
	close(out);
}

static void expect_refused(const char *guest, const char *state, const char *mem,
			   unsigned int vcpus, int err)
{
	struct run r;
	int before = count_fds();

	ck_assert_int_eq(create(&r, guest, ALCATRAZ_IRQCHIP_OFF, state, mem, vcpus), err);
	ck_assert_int_eq(count_fds(), before);
}

START_TEST(bad_snapshots)
{
	take_snapshot(ALCATRAZ_IRQCHIP_OFF);
	bad_copy("state", "truncated", 1000, -1);
	expect_refused("counter", "truncated", "mem", NR_VCPUS, -EBADMSG);
	bad_copy("state", "flipped", -1, 700);
	expect_refused("counter", "flipped", "mem", NR_VCPUS, -EBADMSG);
	/* Not a state file at all: the guest image. */
	int img = open(guest_path("counter"), O_RDONLY | O_CLOEXEC), out;
	char buf[4096];
	ssize_t n = read(img, buf, sizeof(buf));
	close(img);
	out = open_file("image", O_RDWR | O_CREAT | O_TRUNC);
	ck_assert_int_eq(write(out, buf, (size_t)n), n);
	close(out);
	expect_refused("counter", "image", "mem", NR_VCPUS, -EINVAL);
	/* Another vCPU count or guest than the snapshot's. */
	expect_refused("counter", "state", "mem", 1, -EINVAL);
	expect_refused("hello", "state", "mem", NR_VCPUS, -EINVAL);
	/* A memory file smaller than the RAM the state says. */
	int m = open_file("mem", O_RDWR);
	ck_assert_int_eq(ftruncate(m, (off_t)(MEM_BYTES / 2)), 0);
	close(m);
	expect_refused("counter", "state", "mem", NR_VCPUS, -EINVAL);
}
END_TEST

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s GUEST_DIR\n", argv[0]);
		return 2;
	}
	guest_dir = argv[1];
	if (access("/dev/kvm", R_OK | W_OK)) {
		printf("SKIP: no /dev/kvm\n");
		return 77;
	}
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	Suite *s = suite_create("snapshot");
	TCase *tc = tcase_create("restore");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, restore_no_irqchip);
	tcase_add_test(tc, restore_irqchip);
	tcase_add_test(tc, bad_snapshots);
	suite_add_tcase(s, tc);
	int ret = run_suite(s);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd))
		ret = 1;
	return ret;
}
