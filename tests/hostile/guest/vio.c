// SPDX-License-Identifier: LGPL-2.1-or-later
/* The hostile guest's runtime: libc bits, output, checks, a virtio driver. */
#include "hostile.h"

void *memset(void *d, int c, size_t n)
{
	volatile uint8_t *p = d;
	while (n--)
		*p++ = (uint8_t)c;
	return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
	volatile uint8_t *p = d;
	const volatile uint8_t *q = s;
	while (n--)
		*p++ = *q++;
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const volatile uint8_t *p = a, *q = b;
	for (; n; n--, p++, q++)
		if (*p != *q)
			return *p < *q ? -1 : 1;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

void put_str(const char *s)
{
	puts_serial(s);
}

void put_dec(uint64_t v)
{
	char buf[21];
	int i = 20;
	buf[i] = 0;
	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	puts_serial(buf + i);
}

int check_fail(int line, const char *what, uint64_t got, uint64_t want)
{
	put_str("FAIL line ");
	put_dec((uint64_t)line);
	put_str(": ");
	put_str(what);
	put_str(" = ");
	put_hex(got);
	put_str(", want ");
	put_hex(want);
	put_str("\n");
	return 1;
}

void spin_cycles(uint64_t cycles)
{
	uint64_t end = rdtsc() + cycles;
	while (rdtsc() < end)
		cpu_relax();
}

/* Guest RAM above the image and below the vCPU stacks. */
#define POOL_SIZE (16u << 20)
static uint8_t pool[POOL_SIZE] __attribute__((aligned(4096)));
static uint64_t pool_used;

void *galloc(uint64_t size, uint64_t align)
{
	uint64_t at = (pool_used + align - 1) & ~(align - 1);
	if (at + size > POOL_SIZE) {
		put_str("FAIL: guest pool exhausted\n");
		guest_exit(99);
	}
	pool_used = at + size;
	memset(pool + at, 0, size);
	return pool + at;
}

uint64_t gpa(const volatile void *p)
{
	return (uint64_t)(uintptr_t)p; /* identity-mapped */
}

uint32_t vio_negotiate(uint64_t base, uint64_t features)
{
	mw(base, R_STATUS, 0);
	mw(base, R_STATUS, S_ACK);
	mw(base, R_STATUS, S_ACK | S_DRIVER);
	mw(base, R_DRV_FEAT_SEL, 0);
	mw(base, R_DRV_FEAT, (uint32_t)features);
	mw(base, R_DRV_FEAT_SEL, 1);
	mw(base, R_DRV_FEAT, (uint32_t)(features >> 32));
	mw(base, R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
	return mr(base, R_STATUS);
}

void vq_program(struct vq *q, uint64_t base, uint32_t qi, uint16_t num)
{
	q->base = base;
	q->qi = qi;
	q->num = num;
	q->desc = galloc(16ULL * num, 4096);
	q->avail = galloc(6ULL + 2ULL * num, 4096);
	q->used = galloc(6ULL + 8ULL * num, 4096);
	q->next_desc = q->avail_idx = q->used_seen = 0;
	mw(base, R_QUEUE_SEL, qi);
	mw(base, R_QUEUE_NUM, num);
	mw(base, R_DESC_LO, (uint32_t)gpa(q->desc));
	mw(base, R_DESC_HI, (uint32_t)(gpa(q->desc) >> 32));
	mw(base, R_DRIVER_LO, (uint32_t)gpa(q->avail));
	mw(base, R_DRIVER_HI, (uint32_t)(gpa(q->avail) >> 32));
	mw(base, R_DEVICE_LO, (uint32_t)gpa(q->used));
	mw(base, R_DEVICE_HI, (uint32_t)(gpa(q->used) >> 32));
}

void vq_setup(struct vq *q, uint64_t base, uint32_t qi, uint16_t num)
{
	vq_program(q, base, qi, num);
	mw(base, R_QUEUE_READY, 1);
}

int vio_up(uint64_t base, struct vq *qs, unsigned int nq, uint16_t num, uint64_t extra)
{
	uint32_t st = vio_negotiate(base, F_VERSION_1 | extra);

	EXPECT_EQ(st, S_ACK | S_DRIVER | S_FEATURES_OK);
	for (unsigned int i = 0; i < nq; i++) {
		vq_setup(&qs[i], base, i, num);
		EXPECT_EQ(mr(base, R_QUEUE_READY), 1);
	}
	mw(base, R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	EXPECT_EQ(mr(base, R_STATUS), S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	return 0;
}

uint16_t vq_chain(struct vq *q, const struct seg *s, unsigned int n)
{
	uint16_t head = q->next_desc;

	for (unsigned int i = 0; i < n; i++) {
		uint16_t at = (uint16_t)((head + i) % q->num);
		uint16_t next = (uint16_t)((head + i + 1) % q->num);
		q->desc[at].addr = s[i].addr;
		q->desc[at].len = s[i].len;
		q->desc[at].flags = (uint16_t)(s[i].flags | (i + 1 < n ? D_NEXT : 0));
		q->desc[at].next = i + 1 < n ? next : 0;
	}
	q->next_desc = (uint16_t)((head + n) % q->num);
	return head;
}

void vq_publish(struct vq *q, uint16_t head)
{
	q->avail->ring[q->avail_idx % q->num] = head;
	mb();
	q->avail_idx++;
	q->avail->idx = q->avail_idx;
	mb();
}

void vq_kick(struct vq *q)
{
	mw(q->base, R_QUEUE_NOTIFY, q->qi);
}

uint16_t vq_send(struct vq *q, const struct seg *s, unsigned int n)
{
	uint16_t head = vq_chain(q, s, n);
	vq_publish(q, head);
	vq_kick(q);
	return head;
}

uint16_t vq_used_idx(const struct vq *q)
{
	mb();
	return q->used->idx;
}

int vq_wait(struct vq *q, uint64_t cycles, uint32_t *id, uint32_t *len)
{
	uint64_t end = rdtsc() + cycles;

	while (vq_used_idx(q) == q->used_seen) {
		if (rdtsc() > end)
			return 0;
		cpu_relax();
	}
	mb();
	volatile struct vused_elem *e = &q->used->ring[q->used_seen % q->num];
	if (id)
		*id = e->id;
	if (len)
		*len = e->len;
	q->used_seen++;
	return 1;
}

uint32_t vio_wait_status(uint64_t base, uint32_t bits, uint64_t cycles)
{
	uint64_t end = rdtsc() + cycles;
	uint32_t st;

	while (((st = mr(base, R_STATUS)) & bits) != bits && rdtsc() < end)
		cpu_relax();
	return st;
}

int expect_needs_reset(struct vq *q, uint16_t used_before)
{
	uint32_t st = vio_wait_status(q->base, S_NEEDS_RESET, WAIT_LONG);

	EXPECT_EQ(st & S_NEEDS_RESET, S_NEEDS_RESET);
	EXPECT_EQ(mr(q->base, R_ISR) & 2, 2);
	EXPECT_EQ(vq_used_idx(q), used_before);
	return 0;
}

int vio_reup(uint64_t base, struct vq *qs, unsigned int nq)
{
	uint32_t st = vio_negotiate(base, F_VERSION_1);

	EXPECT_EQ(st, S_ACK | S_DRIVER | S_FEATURES_OK);
	for (unsigned int i = 0; i < nq; i++) {
		struct vq *q = &qs[i];
		q->avail->flags = 0;
		q->avail->idx = 0;
		q->used->idx = 0;
		q->next_desc = q->avail_idx = q->used_seen = 0;
		mw(base, R_QUEUE_SEL, i);
		mw(base, R_QUEUE_NUM, q->num);
		mw(base, R_DESC_LO, (uint32_t)gpa(q->desc));
		mw(base, R_DESC_HI, 0);
		mw(base, R_DRIVER_LO, (uint32_t)gpa(q->avail));
		mw(base, R_DRIVER_HI, 0);
		mw(base, R_DEVICE_LO, (uint32_t)gpa(q->used));
		mw(base, R_DEVICE_HI, 0);
		mw(base, R_QUEUE_READY, 1);
	}
	mw(base, R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	return 0;
}

int vq_wait_or_reset(struct vq *q, uint64_t cycles, uint32_t *len)
{
	uint64_t end = rdtsc() + cycles;

	for (;;) {
		if (vq_used_idx(q) != q->used_seen)
			return vq_wait(q, 0, NULL, len) ? 1 : 0;
		if (mr(q->base, R_STATUS) & S_NEEDS_RESET)
			return 2;
		if (rdtsc() > end)
			return 0;
		cpu_relax();
	}
}
