// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Description: the virtio-fs device against the real virtiofsd (Debian's,
 * /usr/lib/qemu/virtiofsd), no KVM needed: the test plays the guest's FUSE
 * driver on the device's rings in guest RAM (FUSE_INIT, LOOKUP, OPEN, READ
 * of a host file, a WRITE read back on the host), tries to leave the shared
 * directory, checks ownership and modes, writes to a read-only volume, and
 * kills virtiofsd: the VM ends with an error naming the volume. virtiofsd
 * is started by the library's volume.c. Skipped (77) without
 * virtiofsd or without root (its sandbox needs namespaces).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_main.h"
#include "evloop.h"
#include "fake_vm.h"
#include "virtio/virtio.h"
#include "vmm.h"
#include "../../src/lib/volume.h"

#define VIRTIOFSD "/usr/lib/qemu/virtiofsd"
#define MEM (4 << 20)
#define NUM 16
#define Q_REQ 1
#define DESC(q) (0x1000u + 0x3000u * (q))
#define AVAIL(q) (0x2000u + 0x3000u * (q))
#define USED(q) (0x3000u + 0x3000u * (q))
#define REQ_BUF 0x10000u
#define REPLY_BUF 0x20000u
#define REPLY_MAX 0x10000u
#define F_WRITE 2
#define F_NEXT 1
#define REG_QUEUE_NOTIFY 0x050
#define HELLO "hello from the host\n"

static struct vm *vm;
static struct virtio_dev *d;
static pid_t daemon_pid;
static char dir[] = "/tmp/test_virtiofsd.XXXXXX";
static uint16_t avail_idx;
static uint64_t unique;

static void wr(uint32_t off, uint32_t v)
{
	virtio_mmio_ops.write(d, off, &v, 4);
}

static void put_desc(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t b[16];

	memcpy(b, &addr, 8);
	memcpy(b + 8, &len, 4);
	memcpy(b + 12, &flags, 2);
	memcpy(b + 14, &next, 2);
	ck_assert_int_eq(gmem_write(&vm->mem, DESC(Q_REQ) + 16u * i, b, 16), 0);
}

static uint16_t used_idx(void)
{
	uint16_t v;

	ck_assert_int_eq(gmem_read(&vm->mem, USED(Q_REQ) + 2, &v, 2), 0);
	return v;
}

/*
 * One FUSE request: header + arg (+ extra) out, reply into REPLY_BUF.
 * Returns the reply's error (0 or -errno); *out gets the reply body.
 */
static int fuse_call(uint32_t opcode, uint64_t nodeid, const void *arg, uint32_t arg_len,
		     const void *extra, uint32_t extra_len, void *out, uint32_t out_len)
{
	struct fuse_in_header in = {
		.len = (uint32_t)sizeof(in) + arg_len + extra_len, .opcode = opcode,
		.unique = ++unique, .nodeid = nodeid,
	};
	struct fuse_out_header oh;
	uint16_t head = (uint16_t)((avail_idx * 2) % NUM), before = used_idx();

	ck_assert_int_eq(gmem_write(&vm->mem, REQ_BUF, &in, sizeof(in)), 0);
	if (arg_len)
		ck_assert_int_eq(gmem_write(&vm->mem, REQ_BUF + sizeof(in), arg, arg_len), 0);
	if (extra_len)
		ck_assert_int_eq(gmem_write(&vm->mem, REQ_BUF + sizeof(in) + arg_len, extra,
					    extra_len), 0);
	put_desc(head, REQ_BUF, in.len, F_NEXT, (uint16_t)(head + 1));
	put_desc((uint16_t)(head + 1), REPLY_BUF, REPLY_MAX, F_WRITE, 0);
	ck_assert_int_eq(gmem_write(&vm->mem, AVAIL(Q_REQ) + 4 + 2 * (avail_idx % NUM), &head, 2),
			 0);
	avail_idx++;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	ck_assert_int_eq(gmem_write(&vm->mem, AVAIL(Q_REQ) + 2, &avail_idx, 2), 0);
	wr(REG_QUEUE_NOTIFY, Q_REQ);
	for (int i = 0; i < 1000 && used_idx() == before; i++)
		usleep(10000);
	ck_assert_msg(used_idx() != before, "virtiofsd did not answer opcode %u", opcode);
	ck_assert_int_eq(gmem_read(&vm->mem, REPLY_BUF, &oh, sizeof(oh)), 0);
	ck_assert_uint_eq(oh.unique, in.unique);
	if (out_len && !oh.error) {
		ck_assert_uint_ge(oh.len, sizeof(oh) + out_len);
		ck_assert_int_eq(gmem_read(&vm->mem, REPLY_BUF + sizeof(oh), out, out_len), 0);
	}
	return oh.error;
}

static void setup_volume(bool readonly)
{
	struct vm_volume vol = { .tag = "hostdir", .guest_path = "/mnt" };
	struct volume v = { 0 };
	char err[256], path[128];
	int fd, sock;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/hello", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, HELLO, strlen(HELLO)), (ssize_t)strlen(HELLO));
	close(fd);
	/* Ownership and modes the guest must see as they are. */
	snprintf(path, sizeof(path), "%s/owned", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fchown(fd, 1234, 5678), 0);
	ck_assert_int_eq(fchmod(fd, 0640), 0);
	close(fd);
	snprintf(path, sizeof(path), "%s/escape", dir);
	ck_assert_int_eq(symlink("/etc", path), 0);

	v.host_dir = strdup(dir);
	v.guest_path = strdup("/mnt");
	v.readonly = readonly;
	ck_assert_int_eq(volume_check(&v, false, err, sizeof(err)), 0);
	ck_assert_msg(virtiofsd_start(&v, -1, &sock, &daemon_pid, err, sizeof(err)) == 0, "%s",
		      err);
	volume_free(&v);

	vm = fake_vm_new(MEM);
	vol.sock_fd = sock;
	ck_assert_int_eq(virtio_fs_init(vm, &vol), 0);
	d = vm->virtio[0];
	ck_assert_int_eq(evloop_start(vm->evloop), 0);
	wr(R_STATUS, ACK);
	wr(R_STATUS, ACK | DRV);
	wr(R_DRV_FEAT_SEL, 1);
	wr(R_DRV_FEAT, 1);
	wr(R_STATUS, ACK | DRV | FEAT_OK);
	for (uint32_t q = 0; q < 2; q++) {
		wr(R_QUEUE_SEL, q);
		wr(R_QUEUE_NUM, NUM);
		wr(R_DESC, DESC(q));
		wr(R_DRIVER, AVAIL(q));
		wr(R_DEVICE, USED(q));
		wr(R_QUEUE_READY, 1);
	}
	wr(R_STATUS, ACK | DRV | FEAT_OK | DRV_OK);
	avail_idx = 0;
	unique = 0;
}

static void setup(void)
{
	setup_volume(false);
}

static void setup_ro(void)
{
	setup_volume(true);
}

static void teardown(void)
{
	char cmd[128];

	fake_vm_free(vm);
	virtiofsd_stop(daemon_pid);
	daemon_pid = 0;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	(void)!system(cmd);
	strcpy(dir, "/tmp/test_virtiofsd.XXXXXX");
}

static void fuse_init(void)
{
	struct fuse_init_in ii = { .major = FUSE_KERNEL_VERSION, .minor = 31,
				   .max_readahead = 65536 };
	struct fuse_init_out io;

	ck_assert_int_eq(fuse_call(FUSE_INIT, 0, &ii, sizeof(ii), NULL, 0, &io, 8), 0);
	ck_assert_uint_eq(io.major, FUSE_KERNEL_VERSION);
}

START_TEST(fuse_requests_reach_the_host_directory)
{
	struct fuse_entry_out e;
	struct fuse_open_in oi = { .flags = O_RDWR };
	struct fuse_open_out oo;
	char data[64] = { 0 };

	fuse_init();
	ck_assert_int_eq(fuse_call(FUSE_LOOKUP, FUSE_ROOT_ID, "hello", 6, NULL, 0, &e, sizeof(e)),
			 0);
	ck_assert_uint_eq(e.attr.size, strlen(HELLO));
	ck_assert_uint_eq(e.attr.mode & 0777, 0644);
	ck_assert_int_eq(fuse_call(FUSE_LOOKUP, FUSE_ROOT_ID, "absent", 7, NULL, 0, NULL, 0),
			 -ENOENT);
	ck_assert_int_eq(fuse_call(FUSE_OPEN, e.nodeid, &oi, sizeof(oi), NULL, 0, &oo,
				   sizeof(oo)), 0);
	struct fuse_read_in ri = { .fh = oo.fh, .offset = 0, .size = sizeof(data) };
	ck_assert_int_eq(fuse_call(FUSE_READ, e.nodeid, &ri, sizeof(ri), NULL, 0, data,
				   (uint32_t)strlen(HELLO)), 0);
	ck_assert_str_eq(data, HELLO);

	/* And back: a guest write lands in the host file. */
	struct fuse_write_in wi = { .fh = oo.fh, .offset = 0, .size = 5 };
	struct fuse_write_out wo;
	ck_assert_int_eq(fuse_call(FUSE_WRITE, e.nodeid, &wi, sizeof(wi), "HELLO", 5, &wo,
				   sizeof(wo)), 0);
	ck_assert_uint_eq(wo.size, 5);
	char path[128], host[64] = { 0 };
	snprintf(path, sizeof(path), "%s/hello", dir);
	int fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_gt(read(fd, host, sizeof(host) - 1), 0);
	close(fd);
	ck_assert_str_eq(host, "HELLO from the host\n");
	ck_assert(!__atomic_load_n(&vm->ended, __ATOMIC_ACQUIRE));
}
END_TEST

/* What a guest kernel could send to leave the shared directory: ".." of
 * the root, a name with a slash, a walk through a symlink to /etc. */
START_TEST(no_way_out_of_the_directory)
{
	struct fuse_entry_out root, e;
	struct fuse_getattr_in gi = { 0 };
	struct fuse_attr_out ao;

	fuse_init();
	ck_assert_int_eq(fuse_call(FUSE_GETATTR, FUSE_ROOT_ID, &gi, sizeof(gi), NULL, 0, &ao,
				   sizeof(ao)), 0);
	memset(&root, 0, sizeof(root));
	if (fuse_call(FUSE_LOOKUP, FUSE_ROOT_ID, "..", 3, NULL, 0, &e, sizeof(e)) == 0)
		ck_assert_uint_eq(e.attr.ino, ao.attr.ino); /* the root's parent is itself */
	ck_assert_int_ne(fuse_call(FUSE_LOOKUP, FUSE_ROOT_ID, "../etc", 7, NULL, 0, &e,
				   sizeof(e)), 0);
	ck_assert_int_eq(fuse_call(FUSE_LOOKUP, FUSE_ROOT_ID, "escape", 7, NULL, 0, &e,
				   sizeof(e)), 0);
	ck_assert((e.attr.mode & S_IFMT) == S_IFLNK);
	ck_assert_int_ne(fuse_call(FUSE_LOOKUP, e.nodeid, "passwd", 7, NULL, 0, &e, sizeof(e)),
			 0);
	/* Ownership and modes as on the host. */
	ck_assert_int_eq(fuse_call(FUSE_LOOKUP, FUSE_ROOT_ID, "owned", 6, NULL, 0, &e, sizeof(e)),
			 0);
	ck_assert_uint_eq(e.attr.uid, 1234);
	ck_assert_uint_eq(e.attr.gid, 5678);
	ck_assert_uint_eq(e.attr.mode & 07777, 0640);
}
END_TEST

/* A read-only volume: reads work, every write is refused by the host. */
START_TEST(read_only_volume_refuses_writes)
{
	struct fuse_entry_out e;
	struct fuse_open_in oi = { .flags = O_RDONLY };
	struct fuse_open_out oo;
	char data[64] = { 0 };

	fuse_init();
	ck_assert_int_eq(fuse_call(FUSE_LOOKUP, FUSE_ROOT_ID, "hello", 6, NULL, 0, &e, sizeof(e)),
			 0);
	ck_assert_int_eq(fuse_call(FUSE_OPEN, e.nodeid, &oi, sizeof(oi), NULL, 0, &oo,
				   sizeof(oo)), 0);
	struct fuse_read_in ri = { .fh = oo.fh, .size = sizeof(data) };
	ck_assert_int_eq(fuse_call(FUSE_READ, e.nodeid, &ri, sizeof(ri), NULL, 0, data,
				   (uint32_t)strlen(HELLO)), 0);
	ck_assert_str_eq(data, HELLO);
	oi.flags = O_RDWR;
	ck_assert_int_eq(fuse_call(FUSE_OPEN, e.nodeid, &oi, sizeof(oi), NULL, 0, &oo,
				   sizeof(oo)), -EROFS);
	struct fuse_mkdir_in mi = { .mode = 0755 };
	ck_assert_int_eq(fuse_call(FUSE_MKDIR, FUSE_ROOT_ID, &mi, sizeof(mi), "newdir", 7, &e,
				   sizeof(e)), -EROFS);
	ck_assert_int_eq(fuse_call(FUSE_UNLINK, FUSE_ROOT_ID, "hello", 6, NULL, 0, NULL, 0),
			 -EROFS);
	char path[128];
	snprintf(path, sizeof(path), "%s/hello", dir);
	ck_assert_int_eq(access(path, F_OK), 0);
}
END_TEST

START_TEST(virtiofsd_dying_ends_the_vm)
{
	fuse_init();
	virtiofsd_stop(daemon_pid);
	daemon_pid = 0;
	for (int i = 0; i < 500 && !__atomic_load_n(&vm->ended, __ATOMIC_ACQUIRE); i++)
		usleep(10000);
	ck_assert(__atomic_load_n(&vm->ended, __ATOMIC_ACQUIRE));
	ck_assert_int_eq(vm->result.kind, ALCATRAZ_EXIT_ERROR);
	ck_assert_msg(strstr(vm->result.message, "virtio-fs 'hostdir'"), "message: %s",
		      vm->result.message);
}
END_TEST

/* Two VMs share one read-only volume: a daemon each, both serve the file. */
START_TEST(two_daemons_share_a_read_only_directory)
{
	struct volume v[2] = {
		{ .host_dir = dir, .guest_path = "/shared", .readonly = true },
		{ .host_dir = dir, .guest_path = "/", .readonly = true },
	};
	struct volume_daemon dd[2];
	char err[256];

	ck_assert_msg(volumes_start(v, 2, -1, dd, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(dd[0].tag, "vol0");
	ck_assert_str_eq(dd[1].tag, "root");
	ck_assert_int_ne(dd[0].pid, dd[1].pid);
	pid_t p0 = dd[0].pid;
	ck_assert_int_eq(kill(p0, 0), 0);
	ck_assert_int_eq(kill(dd[1].pid, 0), 0);
	/* The first VM's device keeps running on its own daemon meanwhile. */
	fuse_init();
	struct fuse_entry_out e;
	ck_assert_int_eq(fuse_call(FUSE_LOOKUP, FUSE_ROOT_ID, "hello", 6, NULL, 0, &e, sizeof(e)),
			 0);
	volumes_stop(dd, 2);
	ck_assert_int_eq(dd[0].sock, -1);
	ck_assert_int_eq(kill(p0, 0), -1); /* reaped */
	ck_assert_int_eq(dd[1].pid, 0);
}
END_TEST

/* A daemon that cannot start says which volume and why. */
START_TEST(missing_virtiofsd_is_named)
{
	struct volume v = { .host_dir = dir, .guest_path = "/x" };
	struct volume_daemon dd;
	char err[256];

	setenv("ALCATRAZ_VIRTIOFSD", "/nonexistent/virtiofsd", 1);
	ck_assert_int_eq(volumes_start(&v, 1, -1, &dd, err, sizeof(err)), -EINVAL);
	unsetenv("ALCATRAZ_VIRTIOFSD");
	ck_assert_msg(strstr(err, "cannot run virtiofsd /nonexistent/virtiofsd"), "%s", err);
}
END_TEST

int main(void)
{
	if (access(virtiofsd_path(), X_OK) || geteuid() != 0) {
		printf("SKIP: needs root and %s (Debian: qemu-system-common)\n", VIRTIOFSD);
		return 77;
	}
	Suite *s = suite_create("virtiofsd");
	TCase *tc = tcase_create("fuse");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, fuse_requests_reach_the_host_directory);
	tcase_add_test(tc, no_way_out_of_the_directory);
	tcase_add_test(tc, virtiofsd_dying_ends_the_vm);
	tcase_add_test(tc, two_daemons_share_a_read_only_directory);
	tcase_add_test(tc, missing_virtiofsd_is_named);
	suite_add_tcase(s, tc);
	TCase *ro = tcase_create("read-only");
	tcase_set_timeout(ro, 60);
	tcase_add_checked_fixture(ro, setup_ro, teardown);
	tcase_add_test(ro, read_only_volume_refuses_writes);
	suite_add_tcase(s, ro);
	return run_suite(s);
}
