// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The VMM's reading of the library's configuration (src/vmm/config_decode.c):
 * a well-formed one gives the right vm_config; every malformed one is refused
 * with a reason, and then no received descriptor stays open.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "config_decode.h"
#include "vmm_protocol.h"

struct blob {
	uint8_t buf[8192];
	size_t len;
	int fds[8];
	unsigned int nfds;
};

static void put(struct blob *b, uint16_t tag, const void *v, uint32_t len)
{
	struct vmm_cfg_rec r = { .tag = tag, .len = len };
	size_t padded = vmm_cfg_padded(len);

	ck_assert_uint_le(b->len + sizeof(r) + padded, sizeof(b->buf));
	memcpy(b->buf + b->len, &r, sizeof(r));
	memcpy(b->buf + b->len + sizeof(r), v, len);
	memset(b->buf + b->len + sizeof(r) + len, 0, padded - len);
	b->len += sizeof(r) + padded;
}

static void put_u32(struct blob *b, uint16_t tag, uint32_t v)
{
	put(b, tag, &v, sizeof(v));
}

static void put_u64(struct blob *b, uint16_t tag, uint64_t v)
{
	put(b, tag, &v, sizeof(v));
}

static void put_str(struct blob *b, uint16_t tag, const char *s)
{
	put(b, tag, s, (uint32_t)strlen(s));
}

static uint32_t add_fd(struct blob *b)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	b->fds[b->nfds] = fd;
	return b->nfds++;
}

/* A raw guest with /dev/kvm (stand-ins: /dev/null) and 64 MiB. */
static void minimal(struct blob *b)
{
	memset(b, 0, sizeof(*b));
	b->fds[0] = -1; /* the memfd's slot, not passed on */
	b->nfds = 1;
	put_u32(b, VMM_CFG_VCPUS, 2);
	put_u64(b, VMM_CFG_MEM_BYTES, 64ULL << 20);
	put_u32(b, VMM_CFG_KVM_FD, add_fd(b));
	put_u32(b, VMM_CFG_IMAGE_FD, add_fd(b));
	put_str(b, VMM_CFG_IMAGE_NAME, "guest.img");
}

static bool is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

static void expect_refused(struct blob *b, const char *reason)
{
	struct vm_config vc;
	char why[200];

	ck_assert_int_eq(vm_config_decode(b->buf, b->len, b->fds, b->nfds, &vc, why, sizeof(why)),
			 -EINVAL);
	ck_assert_msg(strstr(why, reason), "reason '%s' lacks '%s'", why, reason);
	for (unsigned int i = 1; i < b->nfds; i++)
		ck_assert_msg(!is_open(b->fds[i]), "descriptor %u left open", i);
	ck_assert_int_eq(vc.kvm_fd, -1);
	ck_assert_ptr_null(vc.argv);
}

START_TEST(well_formed_is_read)
{
	struct blob b;
	struct vm_config vc;
	char why[200];

	minimal(&b);
	put_u64(&b, VMM_CFG_TIMEOUT_MS, 1234);
	put_u32(&b, VMM_CFG_SANDBOX, 1);
	ck_assert_int_eq(vm_config_decode(b.buf, b.len, b.fds, b.nfds, &vc, why, sizeof(why)), 0);
	ck_assert_uint_eq(vc.vcpus, 2);
	ck_assert_uint_eq(vc.mem_bytes, 64ULL << 20);
	ck_assert_uint_eq(vc.timeout_ms, 1234);
	ck_assert(vc.seccomp);
	ck_assert_int_eq(vc.kvm_fd, b.fds[1]);
	ck_assert_int_eq(vc.image_fd, b.fds[2]);
	ck_assert_str_eq(vc.image_path, "guest.img");
	ck_assert_ptr_null(vc.kernel_path);
	vm_config_release(&vc);
	ck_assert(!is_open(b.fds[1]) && !is_open(b.fds[2]));
}
END_TEST

START_TEST(linux_command_is_read)
{
	struct blob b;
	struct vm_config vc;
	struct vmm_cfg_disk disk = { 0, VMM_CFG_DISK_READONLY };
	uint8_t rec[sizeof(disk) + 8];
	char why[200];

	memset(&b, 0, sizeof(b));
	b.nfds = 1;
	put_u64(&b, VMM_CFG_MEM_BYTES, 128ULL << 20);
	put_u32(&b, VMM_CFG_KVM_FD, add_fd(&b));
	put_u32(&b, VMM_CFG_KERNEL_FD, add_fd(&b));
	put_str(&b, VMM_CFG_ARG, "sh");
	put_str(&b, VMM_CFG_ARG, "-c");
	put_str(&b, VMM_CFG_ENV, "A=1");
	put_str(&b, VMM_CFG_WORKDIR, "/tmp");
	put_u32(&b, VMM_CFG_STDERR_FD, add_fd(&b));
	disk.fd_index = add_fd(&b);
	memcpy(rec, &disk, sizeof(disk));
	memcpy(rec + sizeof(disk), "disk.img", 8);
	put(&b, VMM_CFG_DISK, rec, sizeof(rec));
	ck_assert_int_eq(vm_config_decode(b.buf, b.len, b.fds, b.nfds, &vc, why, sizeof(why)), 0);
	ck_assert_str_eq(vc.kernel_path, "kernel");
	ck_assert_str_eq(vc.argv[0], "sh");
	ck_assert_str_eq(vc.argv[1], "-c");
	ck_assert_ptr_null(vc.argv[2]);
	ck_assert_str_eq(vc.envp[0], "A=1");
	ck_assert_str_eq(vc.workdir, "/tmp");
	ck_assert_int_eq(vc.stderr_fd, b.fds[3]);
	ck_assert_uint_eq(vc.nr_disks, 1);
	ck_assert_str_eq(vc.disks[0].path, "disk.img");
	ck_assert(vc.disks[0].readonly);
	ck_assert_int_eq(vc.disks[0].fd, b.fds[4]);
	vm_config_release(&vc);
	for (unsigned int i = 1; i < b.nfds; i++)
		ck_assert(!is_open(b.fds[i]));
}
END_TEST

START_TEST(truncated_record)
{
	struct blob b;

	minimal(&b);
	b.len -= 3;
	expect_refused(&b, "overruns");
}
END_TEST

START_TEST(bad_padding)
{
	struct blob b;

	minimal(&b);
	b.buf[b.len - 1] = 1; /* the name's padding */
	expect_refused(&b, "padded");
}
END_TEST

START_TEST(unknown_tag)
{
	struct blob b;

	minimal(&b);
	put_u32(&b, VMM_CFG_TAG_END, 1);
	expect_refused(&b, "unknown record");
}
END_TEST

START_TEST(singular_twice)
{
	struct blob b;

	minimal(&b);
	put_u32(&b, VMM_CFG_VCPUS, 1);
	expect_refused(&b, "twice");
}
END_TEST

START_TEST(fd_index_out_of_range)
{
	struct blob b;

	minimal(&b);
	put_u32(&b, VMM_CFG_LOG_FD, 7);
	expect_refused(&b, "descriptor index 7");
}
END_TEST

START_TEST(fd_zero_is_the_memfd)
{
	struct blob b;

	minimal(&b);
	put_u32(&b, VMM_CFG_LOG_FD, 0);
	expect_refused(&b, "descriptor index 0");
}
END_TEST

START_TEST(fd_named_twice)
{
	struct blob b;

	minimal(&b);
	put_u32(&b, VMM_CFG_LOG_FD, 1); /* /dev/kvm's */
	expect_refused(&b, "named twice");
}
END_TEST

START_TEST(fd_never_named)
{
	struct blob b;

	minimal(&b);
	add_fd(&b);
	expect_refused(&b, "named by no record");
}
END_TEST

START_TEST(bad_values)
{
	static const struct {
		uint16_t tag;
		uint64_t v;
		bool wide;
		const char *reason;
	} cases[] = {
		{ VMM_CFG_IRQCHIP, 9, false, "irqchip" },
		{ VMM_CFG_OUTPUT_FILTER, 9, false, "output filter" },
		{ VMM_CFG_SANDBOX, 2, false, "flag" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct blob b;
		minimal(&b);
		put_u32(&b, cases[i].tag, (uint32_t)cases[i].v);
		expect_refused(&b, cases[i].reason);
	}
}
END_TEST

START_TEST(bad_sizes)
{
	struct blob b;

	memset(&b, 0, sizeof(b));
	b.nfds = 1;
	put_u32(&b, VMM_CFG_VCPUS, 65);
	expect_refused(&b, "65 vCPUs");
	memset(&b, 0, sizeof(b));
	b.nfds = 1;
	put_u64(&b, VMM_CFG_MEM_BYTES, (64ULL << 20) + 1);
	expect_refused(&b, "bytes of guest RAM");
	memset(&b, 0, sizeof(b));
	b.nfds = 1;
	put_u32(&b, VMM_CFG_MEM_BYTES, 1); /* 4 bytes for a 64-bit record */
	expect_refused(&b, "64-bit record of 4 bytes");
}
END_TEST

START_TEST(string_with_nul)
{
	struct blob b;

	minimal(&b);
	put(&b, VMM_CFG_CMDLINE, "a\0b", 3);
	expect_refused(&b, "NUL");
}
END_TEST

START_TEST(raw_and_kernel)
{
	struct blob b;

	minimal(&b);
	put_u32(&b, VMM_CFG_KERNEL_FD, add_fd(&b));
	expect_refused(&b, "neither or both");
}
END_TEST

START_TEST(stdio_without_command)
{
	struct blob b;

	minimal(&b);
	put_u32(&b, VMM_CFG_STDOUT_FD, add_fd(&b));
	expect_refused(&b, "without a command");
}
END_TEST

START_TEST(test_record_in_release)
{
	struct blob b;

	minimal(&b);
	put_u32(&b, VMM_CFG_TEST_RAW_PLATFORM, 1);
	expect_refused(&b, "test-only");
}
END_TEST

START_TEST(no_kvm)
{
	struct blob b;

	memset(&b, 0, sizeof(b));
	b.nfds = 1;
	put_u64(&b, VMM_CFG_MEM_BYTES, 64ULL << 20);
	put_u32(&b, VMM_CFG_IMAGE_FD, add_fd(&b));
	expect_refused(&b, "/dev/kvm");
}
END_TEST

/* A volume: its vhost-user socket, tag and guest path (issue 17). */
static void put_volume(struct blob *b, uint32_t flags, uint32_t tag_len, const char *tag_path)
{
	struct vmm_cfg_volume vol = { .flags = flags, .tag_len = tag_len };
	uint8_t rec[sizeof(vol) + 64];
	size_t n = strlen(tag_path);

	vol.fd_index = add_fd(b);
	memcpy(rec, &vol, sizeof(vol));
	memcpy(rec + sizeof(vol), tag_path, n);
	put(b, VMM_CFG_VOLUME, rec, (uint32_t)(sizeof(vol) + n));
}

START_TEST(volume_is_read)
{
	struct blob b;
	struct vm_config vc;
	char why[200];

	minimal(&b);
	put_volume(&b, VMM_CFG_VOLUME_READONLY, 4, "vol0/data/x");
	put_volume(&b, 0, 4, "vol1/");
	ck_assert_int_eq(vm_config_decode(b.buf, b.len, b.fds, b.nfds, &vc, why, sizeof(why)), 0);
	ck_assert_uint_eq(vc.nr_volumes, 2);
	ck_assert_str_eq(vc.volumes[0].tag, "vol0");
	ck_assert_str_eq(vc.volumes[0].guest_path, "/data/x");
	ck_assert(vc.volumes[0].readonly);
	ck_assert_int_eq(vc.volumes[0].sock_fd, b.fds[3]);
	ck_assert_str_eq(vc.volumes[1].guest_path, "/");
	ck_assert(!vc.volumes[1].readonly);
	vm_config_release(&vc);
	ck_assert(!is_open(b.fds[3]) && !is_open(b.fds[4]));
}
END_TEST

START_TEST(bad_volumes)
{
	struct blob b;

	minimal(&b);
	put_volume(&b, 0, 3, "a b/data");
	expect_refused(&b, "volume tag");
	minimal(&b);
	put_volume(&b, 0, 0, "/data");
	expect_refused(&b, "volume tag of 0 bytes");
	minimal(&b);
	put_volume(&b, 0, 8, "vol0data");
	expect_refused(&b, "volume tag of 8 bytes");
	minimal(&b);
	put_volume(&b, 0, 4, "vol0data");
	expect_refused(&b, "not absolute");
	minimal(&b);
	put_volume(&b, 2, 4, "vol0/data");
	expect_refused(&b, "volume flags");
	minimal(&b);
	for (int i = 0; i < 5; i++)
		put_volume(&b, 0, 4, "vol0/data");
	expect_refused(&b, "more than 4 volumes");
}
END_TEST

/* Restore (issue 18): the snapshot's two descriptors are the VM's, and
 * released with it. */
START_TEST(snapshot_is_read)
{
	struct blob b;
	struct vm_config vc;
	struct vmm_cfg_snapshot r;
	char why[200];

	minimal(&b);
	r.state_fd_index = add_fd(&b);
	r.mem_fd_index = add_fd(&b);
	put(&b, VMM_CFG_SNAPSHOT, &r, sizeof(r));
	ck_assert_int_eq(vm_config_decode(b.buf, b.len, b.fds, b.nfds, &vc, why, sizeof(why)), 0);
	ck_assert(vc.restore);
	ck_assert_int_eq(vc.snap_state_fd, b.fds[3]);
	ck_assert_int_eq(vc.snap_mem_fd, b.fds[4]);
	vm_config_release(&vc);
	ck_assert(!is_open(b.fds[3]) && !is_open(b.fds[4]));
}
END_TEST

START_TEST(bad_snapshots)
{
	struct blob b;
	struct vmm_cfg_snapshot r;
	uint32_t one;

	minimal(&b);
	one = add_fd(&b);
	put(&b, VMM_CFG_SNAPSHOT, &one, sizeof(one));
	expect_refused(&b, "a snapshot record of 4 bytes");
	minimal(&b);
	r.state_fd_index = r.mem_fd_index = add_fd(&b);
	put(&b, VMM_CFG_SNAPSHOT, &r, sizeof(r));
	expect_refused(&b, "named twice");
	minimal(&b);
	r.state_fd_index = add_fd(&b);
	r.mem_fd_index = 9;
	put(&b, VMM_CFG_SNAPSHOT, &r, sizeof(r));
	expect_refused(&b, "descriptor index 9");
	/* Volumes are not in snapshots yet. */
	minimal(&b);
	r.state_fd_index = add_fd(&b);
	r.mem_fd_index = add_fd(&b);
	put(&b, VMM_CFG_SNAPSHOT, &r, sizeof(r));
	put_volume(&b, 0, 4, "vol0/data");
	expect_refused(&b, "a restore with volumes");
}
END_TEST

START_TEST(header_overrun)
{
	struct blob b;
	struct vmm_cfg_rec r = { .tag = VMM_CFG_CMDLINE, .len = 0xfffffff0u };

	minimal(&b);
	memcpy(b.buf + b.len, &r, sizeof(r));
	b.len += sizeof(r);
	expect_refused(&b, "overruns");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("config_decode");
	TCase *tc = tcase_create("decode");

	tcase_add_test(tc, well_formed_is_read);
	tcase_add_test(tc, volume_is_read);
	tcase_add_test(tc, bad_volumes);
	tcase_add_test(tc, linux_command_is_read);
	tcase_add_test(tc, truncated_record);
	tcase_add_test(tc, bad_padding);
	tcase_add_test(tc, unknown_tag);
	tcase_add_test(tc, singular_twice);
	tcase_add_test(tc, fd_index_out_of_range);
	tcase_add_test(tc, fd_zero_is_the_memfd);
	tcase_add_test(tc, fd_named_twice);
	tcase_add_test(tc, fd_never_named);
	tcase_add_test(tc, bad_values);
	tcase_add_test(tc, bad_sizes);
	tcase_add_test(tc, string_with_nul);
	tcase_add_test(tc, raw_and_kernel);
	tcase_add_test(tc, stdio_without_command);
	tcase_add_test(tc, test_record_in_release);
	tcase_add_test(tc, no_kvm);
	tcase_add_test(tc, header_overrun);
	tcase_add_test(tc, snapshot_is_read);
	tcase_add_test(tc, bad_snapshots);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
