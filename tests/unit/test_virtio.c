// SPDX-License-Identifier: LGPL-2.1-or-later
/* Description: split-virtqueue parsing refuses every hostile descriptor chain. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "virtio/virtio.h"
#include "vmm.h"

#define MEM (1 << 20)
#define NUM 8
#define DESC 0x1000
#define AVAIL 0x2000
#define USED 0x3000
#define F_NEXT 1
#define F_WRITE 2
#define F_INDIRECT 4

static struct guest_mem m;
static struct virtq q;
static struct vq_elem e;

static void setup(void)
{
	ck_assert_int_eq(gmem_init(&m, MEM), 0);
	memset(&q, 0, sizeof(q));
	q.num = NUM;
	q.desc = DESC;
	q.avail = AVAIL;
	q.used = USED;
	q.ready = true;
	q.kick_fd = -1;
	ck_assert_int_eq(vq_check_layout(&m, &q), 0);
}

static void teardown(void)
{
	gmem_fini(&m);
}

static void desc(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t d[16];
	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
	ck_assert_int_eq(gmem_write(&m, DESC + 16ULL * i, d, 16), 0);
}

/* Makes `head` available as the next chain. */
static void avail(uint16_t head)
{
	uint16_t idx;
	ck_assert_int_eq(gmem_read(&m, AVAIL + 2, &idx, 2), 0);
	ck_assert_int_eq(gmem_write(&m, AVAIL + 4 + 2 * (idx % NUM), &head, 2), 0);
	idx++;
	ck_assert_int_eq(gmem_write(&m, AVAIL + 2, &idx, 2), 0);
}

START_TEST(valid_chain)
{
	desc(0, 0x10000, 16, F_NEXT, 1);
	desc(1, 0x20000, 100, F_NEXT, 2);
	desc(2, 0x30000, 1, F_WRITE, 0);
	avail(0);
	ck_assert(vq_has_avail(&m, &q));
	ck_assert_int_eq(vq_pop(&m, &q, &e), 1);
	ck_assert_int_eq(e.n_out, 2);
	ck_assert_int_eq(e.n_in, 1);
	ck_assert_int_eq(e.out_len, 116);
	ck_assert_int_eq(e.in_len, 1);
	ck_assert_ptr_eq(e.in[0].iov_base, m.host + 0x30000);
	ck_assert_int_eq(vq_pop(&m, &q, &e), 0); /* empty now */
	ck_assert_int_eq(vq_push(&m, &q, e.head, 1), 0);
	uint16_t used_idx;
	ck_assert_int_eq(gmem_read(&m, USED + 2, &used_idx, 2), 0);
	ck_assert_int_eq(used_idx, 1);
}
END_TEST

START_TEST(address_out_of_ram)
{
	desc(0, MEM - 4, 8, 0, 0); /* last bytes outside */
	avail(0);
	ck_assert_int_eq(vq_pop(&m, &q, &e), -EINVAL);
}
END_TEST

START_TEST(address_wraps)
{
	desc(0, UINT64_MAX - 2, 16, 0, 0);
	avail(0);
	ck_assert_int_eq(vq_pop(&m, &q, &e), -EINVAL);
}
END_TEST

START_TEST(huge_length)
{
	desc(0, 0x10000, 0xffffffffu, 0, 0);
	avail(0);
	ck_assert_int_eq(vq_pop(&m, &q, &e), -EINVAL);
}
END_TEST

START_TEST(loop)
{
	desc(0, 0x10000, 8, F_NEXT, 1);
	desc(1, 0x10000, 8, F_NEXT, 0);
	avail(0);
	ck_assert_int_eq(vq_pop(&m, &q, &e), -EINVAL);
}
END_TEST

START_TEST(self_loop)
{
	desc(3, 0x10000, 8, F_NEXT, 3);
	avail(3);
	ck_assert_int_eq(vq_pop(&m, &q, &e), -EINVAL);
}
END_TEST

START_TEST(next_beyond_queue)
{
	desc(0, 0x10000, 8, F_NEXT, NUM);
	avail(0);
	ck_assert_int_eq(vq_pop(&m, &q, &e), -EINVAL);
}
END_TEST

START_TEST(head_beyond_queue)
{
	avail(NUM + 5);
	ck_assert_int_eq(vq_pop(&m, &q, &e), -EINVAL);
}
END_TEST

START_TEST(avail_index_jump)
{
	uint16_t idx = NUM + 1; /* more chains than ring slots */
	ck_assert_int_eq(gmem_write(&m, AVAIL + 2, &idx, 2), 0);
	ck_assert_int_eq(vq_pop(&m, &q, &e), -EINVAL);
}
END_TEST

START_TEST(readable_after_writable)
{
	desc(0, 0x10000, 8, F_WRITE | F_NEXT, 1);
	desc(1, 0x20000, 8, 0, 0);
	avail(0);
	ck_assert_int_eq(vq_pop(&m, &q, &e), -EINVAL);
}
END_TEST

START_TEST(indirect_refused)
{
	desc(0, 0x10000, 16, F_INDIRECT, 0);
	avail(0);
	ck_assert_int_eq(vq_pop(&m, &q, &e), -EINVAL);
}
END_TEST

START_TEST(failed_pop_consumes_nothing)
{
	desc(0, MEM, 8, 0, 0);
	avail(0);
	ck_assert_int_eq(vq_pop(&m, &q, &e), -EINVAL);
	ck_assert_int_eq(q.last_avail, 0);
}
END_TEST

START_TEST(layout_checks)
{
	struct virtq b = q;
	b.num = 6; /* not a power of two */
	ck_assert_int_eq(vq_check_layout(&m, &b), -EINVAL);
	b = q;
	b.num = 512; /* beyond the maximum */
	ck_assert_int_eq(vq_check_layout(&m, &b), -EINVAL);
	b = q;
	b.desc = DESC + 8; /* misaligned */
	ck_assert_int_eq(vq_check_layout(&m, &b), -EINVAL);
	b = q;
	b.used = MEM - 8; /* ring runs out of RAM */
	ck_assert_int_eq(vq_check_layout(&m, &b), -EINVAL);
	b = q;
	b.avail = UINT64_MAX - 1;
	ck_assert_int_eq(vq_check_layout(&m, &b), -EINVAL);
}
END_TEST

START_TEST(iov_helpers)
{
	char a[4], b[6], out[10];
	struct iovec iov[2] = { { a, sizeof(a) }, { b, sizeof(b) } }, sl[2];
	ck_assert_uint_eq(buf_to_iov(iov, 2, 2, "0123456789", 10), 8);
	ck_assert_uint_eq(iov_to_buf(iov, 2, 2, out, 10), 8);
	ck_assert_mem_eq(out, "01234567", 8);
	ck_assert_uint_eq(iov_slice(iov, 2, 3, 4, sl, 2), 2);
	ck_assert_uint_eq(sl[0].iov_len, 1);
	ck_assert_uint_eq(sl[1].iov_len, 3);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("virtio");
	TCase *tc = tcase_create("queue");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, valid_chain);
	tcase_add_test(tc, address_out_of_ram);
	tcase_add_test(tc, address_wraps);
	tcase_add_test(tc, huge_length);
	tcase_add_test(tc, loop);
	tcase_add_test(tc, self_loop);
	tcase_add_test(tc, next_beyond_queue);
	tcase_add_test(tc, head_beyond_queue);
	tcase_add_test(tc, avail_index_jump);
	tcase_add_test(tc, readable_after_writable);
	tcase_add_test(tc, indirect_refused);
	tcase_add_test(tc, failed_pop_consumes_nothing);
	tcase_add_test(tc, layout_checks);
	tcase_add_test(tc, iov_helpers);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
