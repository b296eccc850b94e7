// SPDX-License-Identifier: LGPL-2.1-or-later
/* Description: guest-memory accessors reject every range not wholly in RAM. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmm.h"
#include "check_main.h"

static struct guest_mem m;

static void setup(void)
{
	ck_assert_int_eq(gmem_init(&m, 2 << 20), 0);
}

static void teardown(void)
{
	gmem_fini(&m);
}

START_TEST(in_range)
{
	ck_assert_ptr_eq(gmem_ptr(&m, 0, 1), m.host);
	ck_assert_ptr_eq(gmem_ptr(&m, (2 << 20) - 8, 8), m.host + (2 << 20) - 8);
	ck_assert_ptr_eq(gmem_ptr(&m, 0, 2 << 20), m.host);
}
END_TEST

START_TEST(out_of_range)
{
	ck_assert_ptr_null(gmem_ptr(&m, (2 << 20) - 7, 8));  /* last byte outside */
	ck_assert_ptr_null(gmem_ptr(&m, 2 << 20, 1));
	ck_assert_ptr_null(gmem_ptr(&m, 0, (2 << 20) + 1));
	ck_assert_ptr_null(gmem_ptr(&m, 0, 0));              /* empty ranges refused */
}
END_TEST

START_TEST(wraparound)
{
	/* gpa + len wraps past 2^64 and would look "small" without checks. */
	ck_assert_ptr_null(gmem_ptr(&m, UINT64_MAX, 2));
	ck_assert_ptr_null(gmem_ptr(&m, 16, UINT64_MAX));
	ck_assert_ptr_null(gmem_ptr(&m, UINT64_MAX - 15, 32));
}
END_TEST

START_TEST(read_write_roundtrip)
{
	uint8_t in[300], out[300];
	for (unsigned i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 7);
	ck_assert_int_eq(gmem_write(&m, 0x1000 - 100, in, sizeof(in)), 0);
	ck_assert_int_eq(gmem_read(&m, 0x1000 - 100, out, sizeof(out)), 0);
	ck_assert_mem_eq(in, out, sizeof(in));
	ck_assert_int_eq(gmem_write(&m, (2 << 20) - 10, in, 11), -EFAULT);
	ck_assert_int_eq(gmem_read(&m, UINT64_MAX - 4, out, 10), -EFAULT);
}
END_TEST

START_TEST(bad_sizes)
{
	struct guest_mem z;
	ck_assert_int_eq(gmem_init(&z, 0), -EINVAL);
	ck_assert_int_eq(gmem_init(&z, 4097), -EINVAL);
}
END_TEST

/* The guard page after RAM must fault on a host-side overrun. */
START_TEST(guard_page_after_ram)
{
	volatile uint8_t *p = m.host + m.size;
	(void)*p;
}
END_TEST

/* The guard page before RAM faults as well. */
START_TEST(guard_page_before_ram)
{
	volatile uint8_t *p = m.host - 1;
	(void)*p;
}
END_TEST

/* RAM is a memfd another process can map (vhost-user): a write through the
 * accessor shows in a second mapping of the fd, and the fd is sealed at its
 * size, so a backend cannot shrink it under the VMM (SIGBUS). */
START_TEST(memfd_shared_and_sealed)
{
	static const char msg[] = "shared with virtiofsd";
	ck_assert_int_ge(m.fd, 0);
	ck_assert_int_eq(gmem_write(&m, 0x5000, msg, sizeof(msg)), 0);
	uint8_t *other = mmap(NULL, m.size, PROT_READ, MAP_SHARED, m.fd, 0);
	ck_assert_ptr_ne(other, MAP_FAILED);
	ck_assert_mem_eq(other + 0x5000, msg, sizeof(msg));
	munmap(other, m.size);
	int seals = fcntl(m.fd, F_GET_SEALS);
	ck_assert_int_eq(seals & (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL),
			 F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
	ck_assert_int_eq(ftruncate(m.fd, 4096), -1);
	ck_assert_int_eq(errno, EPERM);
	ck_assert_int_eq(fcntl(m.fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("gmem");
	TCase *tc = tcase_create("accessors");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, in_range);
	tcase_add_test(tc, out_of_range);
	tcase_add_test(tc, wraparound);
	tcase_add_test(tc, read_write_roundtrip);
	tcase_add_test(tc, bad_sizes);
	tcase_add_test_raise_signal(tc, guard_page_after_ram, SIGSEGV);
	tcase_add_test_raise_signal(tc, guard_page_before_ram, SIGSEGV);
	tcase_add_test(tc, memfd_shared_and_sealed);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
