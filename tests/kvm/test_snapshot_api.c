// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Description: snapshots through the public API with the jailed VMM
 * (issue 18): alcatraz_vm_snapshot() of the counter guest mid-way, two VMs
 * restored at the same time with alcatraz_config_set_restore() each go on
 * from after the snapshot's tick to the end; bad snapshot directories and
 * files are refused at alcatraz_vm_create() with a clear code.
 * argv[1]: the tiny guests' directory.
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

#include <alcatraz/alcatraz.h>

#include "check_main.h"
#include "counter_output.h"

#define NR_VCPUS 2

static char counter[4096], hello[4096];
static char tmpdir[] = "/tmp/alcatraz-snapshot-api-XXXXXX";

struct run {
	struct alcatraz_vm *vm;
	int out;
	char text[8192];
	size_t len;
};

static char *path_in(const char *name)
{
	static char p[4][4096];
	static int next;
	char *r = p[next++ % 4];

	snprintf(r, 4096, "%s/%s", tmpdir, name);
	return r;
}

static int create(struct run *r, const char *image, const char *restore)
{
	struct alcatraz_config *cfg;
	int p[2], ret;

	memset(r, 0, sizeof(*r));
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	ck_assert_int_eq(alcatraz_config_new(&cfg), 0);
	ck_assert_int_eq(alcatraz_config_set_guest_image(cfg, image), 0);
	ck_assert_int_eq(alcatraz_config_set_vcpus(cfg, NR_VCPUS), 0);
	ck_assert_int_eq(alcatraz_config_set_memory_mib(cfg, 16), 0);
	ck_assert_int_eq(alcatraz_config_set_irqchip(cfg, ALCATRAZ_IRQCHIP_ON), 0);
	ck_assert_int_eq(alcatraz_config_set_serial_fd(cfg, p[1]), 0);
	ck_assert_int_eq(alcatraz_config_set_log_fd(cfg, 2), 0);
	ck_assert_int_eq(alcatraz_config_set_timeout_ms(cfg, 120000), 0);
	if (restore)
		ck_assert_int_eq(alcatraz_config_set_restore(cfg, restore), 0);
	ret = alcatraz_vm_create(cfg, &r->vm);
	alcatraz_config_free(cfg);
	close(p[1]);
	r->out = p[0];
	if (ret) {
		close(p[0]);
		r->vm = NULL;
	}
	return ret;
}

static void read_until(struct run *r, const char *want)
{
	serial_read_until(r->out, r->text, sizeof(r->text), &r->len, want);
}

static void finish(struct run *r, struct alcatraz_result *res)
{
	ck_assert_int_eq(alcatraz_vm_wait(r->vm, 120000), 0);
	ck_assert_int_eq(alcatraz_vm_result(r->vm, res), 0);
	alcatraz_vm_destroy(r->vm);
	read_until(r, "\xff");
	close(r->out);
}

/* The counter guest snapshotted into tmpdir/snap at tick 5. */
static void take_snapshot(void)
{
	struct alcatraz_result res;
	struct run orig;

	ck_assert_int_eq(mkdir(path_in("snap"), 0700) == 0 || errno == EEXIST, 1);
	double t0 = now_ms();
	ck_assert_int_eq(create(&orig, counter, NULL), 0);
	/* Not started yet: nothing to snapshot. */
	ck_assert_int_eq(alcatraz_vm_snapshot(orig.vm, path_in("snap")), -EINVAL);
	ck_assert_int_eq(alcatraz_vm_start(orig.vm), 0);
	printf("boot: create+start %.1f ms\n", now_ms() - t0);
	read_until(&orig, "tick 5\n");
	t0 = now_ms();
	ck_assert_int_eq(alcatraz_vm_snapshot(orig.vm, path_in("snap")), 0);
	printf("alcatraz_vm_snapshot %.1f ms\n", now_ms() - t0);
	finish(&orig, &res);
	ck_assert_int_eq(res.kind, ALCATRAZ_EXIT_STATUS);
	ck_assert_int_eq(res.status, COUNTER_STATUS);
	ck_assert_uint_eq(counter_check_ticks(orig.text), 1);
}

START_TEST(snapshot_and_two_clones)
{
	struct alcatraz_result res[2];
	struct run clone[2];

	take_snapshot();
	for (int i = 0; i < 2; i++) {
		double t0 = now_ms();
		ck_assert_int_eq(create(&clone[i], counter, path_in("snap")), 0);
		ck_assert_int_eq(alcatraz_vm_start(clone[i].vm), 0);
		printf("restore: create+start %.1f ms\n", now_ms() - t0);
	}
	for (int i = 0; i < 2; i++)
		finish(&clone[i], &res[i]);
	for (int i = 0; i < 2; i++) {
		ck_assert_msg(res[i].kind == ALCATRAZ_EXIT_STATUS, "clone %d: %s", i,
			      res[i].message);
		ck_assert_int_eq(res[i].status, COUNTER_STATUS);
		unsigned int first = counter_check_ticks(clone[i].text);
		ck_assert_uint_gt(first, 5);
		printf("clone %d went on from tick %u\n", i, first);
	}
}
END_TEST

static void write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/* A copy of snap in dir with its state file cut to len (or whole) and a
 * byte flipped at flip (or none). */
static void bad_copy(const char *dir, ssize_t len, ssize_t flip)
{
	static char buf[1 << 16];
	char cmd[8192];
	int fd = open(path_in("snap/state"), O_RDONLY | O_CLOEXEC);
	ssize_t n = read(fd, buf, sizeof(buf));

	close(fd);
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(mkdir(path_in(dir), 0700), 0);
	snprintf(cmd, sizeof(cmd), "%s/memory", path_in(dir));
	ck_assert_int_eq(link(path_in("snap/memory"), cmd), 0);
	if (len >= 0 && len < n)
		n = len;
	if (flip >= 0)
		buf[flip] ^= 0x40;
	snprintf(cmd, sizeof(cmd), "%s/state", path_in(dir));
	write_file(cmd, buf, (size_t)n);
}

static void expect_refused(const char *image, const char *dir, int err)
{
	struct run r;
	int before = count_fds();

	ck_assert_int_eq(create(&r, image, path_in(dir)), err);
	ck_assert_int_eq(count_fds(), before);
}

START_TEST(bad_snapshots)
{
	take_snapshot();
	bad_copy("truncated", 2000, -1);
	expect_refused(counter, "truncated", -EBADMSG);
	bad_copy("flipped", -1, 900);
	expect_refused(counter, "flipped", -EBADMSG);
	bad_copy("version", -1, 8);
	expect_refused(counter, "version", -EPROTONOSUPPORT);
	/* Oversized: 17 MiB of a state file. */
	bad_copy("oversized", -1, -1);
	ck_assert_int_eq(truncate(path_in("oversized/state"), 17 << 20), 0);
	expect_refused(counter, "oversized", -EFBIG);
	/* Another guest than the snapshot's. */
	expect_refused(hello, "snap", -EINVAL);
	/* A memory file smaller than the state says. */
	ck_assert_int_eq(mkdir(path_in("shortmem"), 0700), 0);
	ck_assert_int_eq(link(path_in("snap/state"), path_in("shortmem/state")), 0);
	write_file(path_in("shortmem/memory"), "x", 1);
	ck_assert_int_eq(truncate(path_in("shortmem/memory"), 8 << 20), 0);
	expect_refused(counter, "shortmem", -EINVAL);
	/* A directory that is not a snapshot, and no directory at all. */
	ck_assert_int_eq(mkdir(path_in("empty"), 0700), 0);
	expect_refused(counter, "empty", -ENOENT);
	expect_refused(counter, "missing", -ENOENT);
}
END_TEST

int main(int argc, char **argv)
{
	char msg[256];

	if (argc != 2) {
		fprintf(stderr, "usage: %s GUEST_DIR\n", argv[0]);
		return 2;
	}
	snprintf(counter, sizeof(counter), "%s/counter.img", argv[1]);
	snprintf(hello, sizeof(hello), "%s/hello.img", argv[1]);
	if (alcatraz_kvm_probe(msg, sizeof(msg)) && access("/dev/kvm", F_OK)) {
		printf("SKIP: %s\n", msg);
		return 77;
	}
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	Suite *s = suite_create("snapshot_api");
	TCase *tc = tcase_create("api");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, snapshot_and_two_clones);
	tcase_add_test(tc, bad_snapshots);
	suite_add_tcase(s, tc);
	int ret = run_suite(s);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd))
		ret = 1;
	return ret;
}
