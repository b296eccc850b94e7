// SPDX-License-Identifier: LGPL-2.1-or-later
/* Malformed descriptor chains (on the rng device): each must put the device
 * in NEEDS_RESET with no used entry; the limits themselves are served. */
#include "hostile.h"

static struct vq q;
static uint8_t *buf;

static int up(uint16_t num)
{
	if (!buf)
		buf = galloc(8192, 4096);
	return vio_up(VIO_RNG, &q, 1, num, 0);
}

static void set_desc(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	q.desc[i].addr = addr;
	q.desc[i].len = len;
	q.desc[i].flags = flags;
	q.desc[i].next = next;
}

static int post_bad(uint16_t head)
{
	uint16_t before = vq_used_idx(&q);

	vq_publish(&q, head);
	vq_kick(&q);
	return expect_needs_reset(&q, before);
}

/* One writable segment that must be refused. */
static int bad_seg(uint64_t addr, uint32_t len)
{
	TRY(up(8));
	set_desc(0, addr, len, D_WRITE, 0);
	return post_bad(0);
}

int case_d_loop(void)
{
	TRY(up(8));
	set_desc(0, gpa(buf), 16, D_WRITE | D_NEXT, 1);
	set_desc(1, gpa(buf) + 16, 16, D_WRITE | D_NEXT, 0);
	TRY(post_bad(0));
	TRY(up(8));
	set_desc(3, gpa(buf), 16, D_WRITE | D_NEXT, 3); /* to itself */
	return post_bad(3);
}

int case_d_next_oob(void)
{
	TRY(up(8));
	set_desc(0, gpa(buf), 16, D_WRITE | D_NEXT, 8);
	TRY(post_bad(0));
	TRY(up(8));
	set_desc(0, gpa(buf), 16, D_WRITE | D_NEXT, 0xffff);
	return post_bad(0);
}

int case_d_head_oob(void)
{
	TRY(up(8));
	set_desc(0, gpa(buf), 16, D_WRITE, 0);
	TRY(post_bad(8));
	TRY(up(8));
	return post_bad(0xffff);
}

int case_d_avail_jump(void)
{
	uint16_t before;

	TRY(up(8));
	for (int i = 0; i < 8; i++)
		set_desc((uint16_t)i, gpa(buf), 16, D_WRITE, 0);
	/* More chains announced than the ring has slots. */
	before = vq_used_idx(&q);
	q.avail->idx = 9;
	mb();
	vq_kick(&q);
	TRY(expect_needs_reset(&q, before));
	/* Exactly a full ring is fine: 8 chains served. */
	TRY(up(8));
	for (int i = 0; i < 8; i++) {
		set_desc((uint16_t)i, gpa(buf) + 16 * i, 16, D_WRITE, 0);
		q.avail->ring[i] = (uint16_t)i;
	}
	mb();
	q.avail->idx = 8;
	q.avail_idx = 8;
	mb();
	vq_kick(&q);
	for (int i = 0; i < 8; i++) {
		uint32_t id, len;
		EXPECT(vq_wait(&q, WAIT_LONG, &id, &len));
		EXPECT_EQ(id, i);
		EXPECT_EQ(len, 16);
	}
	return 0;
}

int case_d_huge_len(void)
{
	TRY(bad_seg(gpa(buf), 0xffffffff));
	TRY(bad_seg(gpa(buf), HOSTILE_MEM_BYTES));
	return 0;
}

int case_d_outside_ram(void)
{
	uint64_t ram = HOSTILE_MEM_BYTES;

	TRY(bad_seg(ram, 16));                    /* just past RAM */
	TRY(bad_seg(ram - 8, 16));                /* across the end, into the guard page */
	TRY(bad_seg(0xfffffffffffffff8ULL, 16));  /* addr + len wraps */
	TRY(bad_seg(0x100000000ULL, 16));         /* above 4 GiB */
	TRY(bad_seg(VIO_RNG, 16));                /* a device's registers */
	TRY(bad_seg(0xfee00000ULL, 16));          /* the local APIC */
	/* The last bytes of RAM are fine. They are the top of vCPU 0's stack
	 * (the return address of guest_main): kept and put back. */
	uint8_t keep[16];
	uint32_t len;
	int got;
	memcpy(keep, (const void *)(uintptr_t)(ram - 16), 16);
	TRY(up(8));
	struct seg s = { ram - 16, 16, D_WRITE };
	vq_send(&q, &s, 1);
	got = vq_wait(&q, WAIT_LONG, NULL, &len);
	memcpy((void *)(uintptr_t)(ram - 16), keep, 16);
	EXPECT(got);
	EXPECT_EQ(len, 16);
	return 0;
}

int case_d_indirect(void)
{
	volatile struct vdesc *table = galloc(64, 16);

	table[0].addr = gpa(buf ? buf : (buf = galloc(8192, 4096)));
	table[0].len = 16;
	table[0].flags = D_WRITE;
	TRY(up(8));
	set_desc(0, gpa(table), 16, D_INDIRECT, 0);
	TRY(post_bad(0));
	TRY(up(8));
	set_desc(0, gpa(buf), 16, D_WRITE | D_NEXT, 1);
	set_desc(1, gpa(table), 16, D_INDIRECT | D_WRITE, 0);
	return post_bad(0);
}

int case_d_read_after_write(void)
{
	TRY(up(8));
	set_desc(0, gpa(buf), 16, D_WRITE | D_NEXT, 1);
	set_desc(1, gpa(buf) + 16, 16, D_NEXT, 2);
	set_desc(2, gpa(buf) + 32, 16, D_WRITE, 0);
	return post_bad(0);
}

int case_d_too_many_segs(void)
{
	uint32_t len;

	/* 128 writable segments: the limit, served. */
	TRY(up(256));
	for (int i = 0; i < 128; i++)
		set_desc((uint16_t)i, gpa(buf) + 8 * i, 8, D_WRITE | (i < 127 ? D_NEXT : 0),
			 (uint16_t)(i + 1));
	vq_publish(&q, 0);
	vq_kick(&q);
	EXPECT(vq_wait(&q, WAIT_LONG, NULL, &len));
	EXPECT_EQ(len, 128 * 8);
	/* 129: refused. */
	TRY(up(256));
	for (int i = 0; i < 129; i++)
		set_desc((uint16_t)i, gpa(buf) + 8 * i, 8, D_WRITE | (i < 128 ? D_NEXT : 0),
			 (uint16_t)(i + 1));
	return post_bad(0);
}

int case_d_total_4g(void)
{
	/* 64 readable segments of all of RAM: 4 GiB in one chain. */
	TRY(up(256));
	for (int i = 0; i < 64; i++)
		set_desc((uint16_t)i, 0, (uint32_t)HOSTILE_MEM_BYTES, i < 63 ? D_NEXT : 0,
			 (uint16_t)(i + 1));
	return post_bad(0);
}

int case_d_zero_len(void)
{
	uint32_t len;

	/* Zero-length descriptors are skipped, wherever they point. */
	TRY(up(8));
	set_desc(0, 0xfffffffffffff000ULL, 0, D_WRITE | D_NEXT, 1);
	set_desc(1, gpa(buf), 16, D_WRITE | D_NEXT, 2);
	set_desc(2, HOSTILE_MEM_BYTES, 0, D_WRITE, 0);
	vq_publish(&q, 0);
	vq_kick(&q);
	EXPECT(vq_wait(&q, WAIT_LONG, NULL, &len));
	EXPECT_EQ(len, 16);
	EXPECT_EQ(mr(VIO_RNG, R_STATUS) & S_NEEDS_RESET, 0);
	return 0;
}
