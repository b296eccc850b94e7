// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Races between vCPUs and the device thread (TOCTOU): another vCPU rewrites
 * a descriptor, a request header, the avail ring or the queue registers
 * while vCPU 0 posts and notifies. Every request must end one of the two
 * ways its two versions allow (served as the good one, or NEEDS_RESET /
 * an error status), never half of each, and nothing outside the buffers
 * may change (canaries around them).
 */
#include "hostile.h"

#define ROUNDS 200
#define CANARY 0x42

struct flip {
	volatile void *p;
	uint64_t a, b;
	int width;
};

static void store(const struct flip *f, uint64_t v)
{
	switch (f->width) {
	case 2:
		*(volatile uint16_t *)f->p = (uint16_t)v;
		break;
	case 4:
		*(volatile uint32_t *)f->p = (uint32_t)v;
		break;
	default:
		*(volatile uint64_t *)f->p = v;
		break;
	}
}

/* Holds each value for a pseudo-random number of pause loops, so the value
 * the device reads varies however the vCPUs are interleaved (one emulator
 * thread for all of them only switches between loop iterations). */
static void hold(uint32_t *seed)
{
	*seed ^= *seed << 13;
	*seed ^= *seed >> 17;
	*seed ^= *seed << 5;
	for (uint32_t n = *seed & 127; n; n--)
		cpu_relax();
}

static void flipper(void *arg)
{
	struct flip *f = arg;
	uint32_t seed = 2463534242u;

	while (!race_stopping) {
		store(f, f->a);
		hold(&seed);
		store(f, f->b);
		hold(&seed);
	}
}

static uint8_t *area;   /* 64 KiB of canary with the buffers in its middle */
#define AREA 65536
#define BUF_OFF 32768

static void fill_area(void)
{
	if (!area)
		area = galloc(AREA, 4096);
	memset(area, CANARY, AREA);
}

/* Bytes outside [BUF_OFF, BUF_OFF + len) are still canary. */
static int canaries_ok(uint32_t len)
{
	for (uint32_t i = 0; i < AREA; i++)
		if ((i < BUF_OFF || i >= BUF_OFF + len) && area[i] != CANARY)
			return check_fail(__LINE__, "canary byte", i, CANARY);
	return 0;
}

static void report2(const char *what, const char *a, unsigned int na, const char *b,
		    unsigned int nb)
{
	put_str("note: ");
	put_str(what);
	put_str(": ");
	put_str(a);
	put_str(" ");
	put_dec(na);
	put_str(", ");
	put_str(b);
	put_str(" ");
	put_dec(nb);
	put_str("\n");
}

static void report(const char *what, unsigned int served, unsigned int resets)
{
	report2(what, "served", served, "needs-reset", resets);
}

static struct vq rq;

/* Served with len (or, with `multiple`, a multiple of len up to a walk of
 * the whole table), or NEEDS_RESET, ROUNDS times. */
static int rng_rounds_m(struct flip *f, uint32_t len, bool multiple, const char *what)
{
	unsigned int served = 0, resets = 0;
	uint32_t got;

	race_start(1, flipper, f);
	for (int i = 0; i < ROUNDS; i++) {
		vq_publish(&rq, 0);
		vq_kick(&rq);
		int r = vq_wait_or_reset(&rq, WAIT_LONG, &got);
		EXPECT(r != 0);
		if (r == 1) {
			if (multiple)
				EXPECT(got && got % len == 0 && got <= 32u * rq.num);
			else
				EXPECT_EQ(got, len);
			served++;
		} else {
			resets++;
			mw(VIO_RNG, R_STATUS, 0);
			TRY(vio_reup(VIO_RNG, &rq, 1));
		}
	}
	race_stop();
	report(what, served, resets);
	return canaries_ok(len);
}

static int rng_rounds(struct flip *f, uint32_t len, const char *what)
{
	return rng_rounds_m(f, len, false, what);
}

static int rng_prepare(void)
{
	fill_area();
	TRY(vio_up(VIO_RNG, &rq, 1, 8, 0));
	return 0;
}

int case_m_desc_addr(void)
{
	static struct flip f;

	TRY(rng_prepare());
	rq.desc[0].addr = gpa(area) + BUF_OFF;
	rq.desc[0].len = 64;
	rq.desc[0].flags = D_WRITE;
	f = (struct flip){ &rq.desc[0].addr, gpa(area) + BUF_OFF, HOSTILE_MEM_BYTES - 32, 8 };
	return rng_rounds(&f, 64, "descriptor address flips into the guard page");
}

int case_m_desc_len(void)
{
	static struct flip f;

	TRY(rng_prepare());
	rq.desc[0].addr = gpa(area) + BUF_OFF;
	rq.desc[0].len = 64;
	rq.desc[0].flags = D_WRITE;
	f = (struct flip){ &rq.desc[0].len, 64, 0x7fffffff, 4 };
	return rng_rounds(&f, 64, "descriptor length flips to 2 GiB");
}

int case_m_desc_next(void)
{
	static struct flip f;

	TRY(rng_prepare());
	rq.desc[0] = (struct vdesc){ gpa(area) + BUF_OFF, 32, D_WRITE | D_NEXT, 1 };
	rq.desc[1] = (struct vdesc){ gpa(area) + BUF_OFF + 32, 32, D_WRITE, 0 };
	/* desc 1 gains NEXT back to desc 0: a loop. Each descriptor is read
	 * once per visit and checked, so a walk that found NEXT set, went round
	 * and then found it clear is a valid chain of 0,1,0,1: served as 128
	 * bytes over the same 64. The walk stays bounded by the table size
	 * (32 bytes a descriptor), and nothing outside the 64 bytes changes. */
	f = (struct flip){ &rq.desc[1].flags, D_WRITE, D_WRITE | D_NEXT, 2 };
	return rng_rounds_m(&f, 64, true, "descriptor flags flip into a loop");
}

int case_m_avail_scribble(void)
{
	static struct flip f;
	unsigned int served = 0, resets = 0;
	uint32_t got;

	TRY(rng_prepare());
	for (int i = 0; i < 8; i++)
		rq.desc[i] = (struct vdesc){ gpa(area) + BUF_OFF + 64 * i, 64, D_WRITE, 0 };
	/* Ring slot 0 flips between a good head and one past the table. */
	f = (struct flip){ &rq.avail->ring[0], 3, 200, 2 };
	race_start(1, flipper, &f);
	for (int i = 0; i < ROUNDS; i++) {
		rq.avail_idx++;
		mb();
		rq.avail->idx = rq.avail_idx;
		/* every slot but 0 holds head 3 as well */
		for (int s = 1; s < 8; s++)
			rq.avail->ring[s] = 3;
		mb();
		vq_kick(&rq);
		int r = vq_wait_or_reset(&rq, WAIT_LONG, &got);
		EXPECT(r != 0);
		if (r == 1) {
			EXPECT_EQ(got, 64);
			served++;
		} else {
			resets++;
			mw(VIO_RNG, R_STATUS, 0);
			TRY(vio_reup(VIO_RNG, &rq, 1));
		}
	}
	race_stop();
	report("avail ring head flips past the table", served, resets);
	return canaries_ok(8 * 64);
}

/* vCPU 1 tries to move and shrink the live rng queue and to take it down;
 * vCPU 0's requests must all be served from the original ring. */
static void mover(void *arg)
{
	uint32_t other = (uint32_t)(uintptr_t)arg;

	while (!race_stopping) {
		mw(VIO_RNG, R_QUEUE_SEL, 0);
		mw(VIO_RNG, R_QUEUE_READY, 0);
		mw(VIO_RNG, R_QUEUE_NUM, 2);
		mw(VIO_RNG, R_DESC_LO, other);
		mw(VIO_RNG, R_DRIVER_LO, other + 0x1000);
		mw(VIO_RNG, R_DEVICE_LO, other + 0x2000);
		mw(VIO_RNG, R_QUEUE_READY, 1);
		mw(VIO_RNG, R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
		mw(VIO_RNG, R_QUEUE_SEL, 5);
	}
}

int case_m_queue_move(void)
{
	volatile struct vdesc *odesc = galloc(0x3000, 4096);
	uint32_t got;

	TRY(rng_prepare());
	/* The ring vCPU 1 would move to points every descriptor at the canary. */
	for (int i = 0; i < 8; i++)
		odesc[i] = (struct vdesc){ gpa(area), AREA, D_WRITE, 0 };
	rq.desc[0] = (struct vdesc){ gpa(area) + BUF_OFF, 16, D_WRITE, 0 };
	race_start(1, mover, (void *)(uintptr_t)gpa(odesc));
	for (int i = 0; i < ROUNDS; i++) {
		vq_publish(&rq, 0);
		vq_kick(&rq);
		EXPECT(vq_wait(&rq, WAIT_LONG, NULL, &got));
		EXPECT_EQ(got, 16);
	}
	race_stop();
	mw(VIO_RNG, R_QUEUE_SEL, 0);
	EXPECT_EQ(mr(VIO_RNG, R_QUEUE_NUM), 8);
	EXPECT_EQ(mr(VIO_RNG, R_DESC_LO), (uint32_t)gpa(rq.desc));
	EXPECT_EQ(mr(VIO_RNG, R_STATUS), S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	return canaries_ok(16);
}

/* vCPU 1 publishes and notifies without pause; vCPU 0 resets and brings the
 * device back up on the same rings, over and over. */
static void publisher(void *arg)
{
	struct vq *q = arg;
	uint16_t idx = 0;

	while (!race_stopping) {
		q->avail->ring[idx % q->num] = (uint16_t)(idx % q->num);
		mb();
		q->avail->idx = ++idx;
		mw(q->base, R_QUEUE_NOTIFY, 0);
	}
}

int case_m_reset_race(void)
{
	TRY(rng_prepare());
	for (int i = 0; i < 8; i++)
		rq.desc[i] = (struct vdesc){ gpa(area) + BUF_OFF + 64 * i, 64, D_WRITE, 0 };
	race_start(1, publisher, &rq);
	for (int i = 0; i < ROUNDS; i++) {
		mw(VIO_RNG, R_STATUS, 0);
		TRY(vio_reup(VIO_RNG, &rq, 1));
		for (int d = 0; d < 8; d++)
			rq.desc[d] = (struct vdesc){ gpa(area) + BUF_OFF + 64 * d, 64, D_WRITE, 0 };
	}
	race_stop();
	return canaries_ok(8 * 64);
}

int case_m_blk_header(void)
{
	static struct flip f;
	struct vq q;
	struct { uint32_t type, reserved; uint64_t sector; } *hdr = galloc(16, 16);
	uint8_t *st = galloc(16, 16);
	unsigned int ok = 0, err = 0;
	uint32_t len;

	fill_area();
	TRY(vio_up(VIO_BLK, &q, 1, 8, 0));
	hdr->type = 0;
	hdr->sector = 1;
	/* The sector flips between 1 and one far past the end. */
	f = (struct flip){ &hdr->sector, 1, 1ULL << 60, 8 };
	race_start(1, flipper, &f);
	for (int i = 0; i < ROUNDS; i++) {
		struct seg s[3] = {
			{ gpa(hdr), 16, 0 },
			{ gpa(area) + BUF_OFF, 512, D_WRITE },
			{ gpa(st), 1, D_WRITE },
		};
		memset(area + BUF_OFF, CANARY, 512);
		*st = 0xee;
		vq_send(&q, s, 3);
		EXPECT(vq_wait(&q, WAIT_LONG, NULL, &len));
		if (*st == 0) {
			EXPECT_EQ(len, 513);
			for (int b = 0; b < 512; b++)
				EXPECT_EQ(area[BUF_OFF + b], DISK_BYTE(1, b));
			ok++;
		} else {
			EXPECT_EQ(*st, 1);
			EXPECT_EQ(len, 1);
			for (int b = 0; b < 512; b++)
				EXPECT_EQ(area[BUF_OFF + b], CANARY);
			err++;
		}
	}
	race_stop();
	report2("blk read: sector flips past the end", "status OK", ok, "IOERR", err);
	return canaries_ok(512);
}

/* Console output is written by the notifying vCPU itself (inline queue):
 * vCPU 1 flips the length under it. */
int case_m_console_len(void)
{
	static struct flip f;
	struct vq q[2];
	unsigned int served = 0, resets = 0;
	uint32_t got;

	fill_area();
	memcpy(area + BUF_OFF, "tick", 4);
	TRY(vio_up(VIO_CONSOLE, q, 2, 8, 0));
	q[1].desc[0] = (struct vdesc){ gpa(area) + BUF_OFF, 4, 0, 0 };
	f = (struct flip){ &q[1].desc[0].len, 4, 0x7fffffff, 4 };
	race_start(1, flipper, &f);
	for (int i = 0; i < ROUNDS; i++) {
		vq_publish(&q[1], 0);
		vq_kick(&q[1]);
		int r = vq_wait_or_reset(&q[1], WAIT_LONG, &got);
		EXPECT(r != 0);
		if (r == 1) {
			EXPECT_EQ(got, 0);
			served++;
		} else {
			resets++;
			mw(VIO_CONSOLE, R_STATUS, 0);
			TRY(vio_reup(VIO_CONSOLE, q, 2));
		}
	}
	race_stop();
	report("console output length flips to 2 GiB", served, resets);
	return canaries_ok(4);
}

/* Two vCPUs notify every queue of every device without pause while vCPU 0
 * reads the disk: every read is right. */
static void notifier(void *arg)
{
	static const uint64_t bases[] = { VIO_CONSOLE, VIO_VSOCK, VIO_RNG, VIO_BLK, VIO_BLK_RO };

	while (!race_stopping)
		for (unsigned int d = 0; d < 5; d++)
			for (uint32_t qi = 0; qi < 4; qi++)
				mw(bases[d], R_QUEUE_NOTIFY, qi);
}

int case_m_notify_storm(void)
{
	struct vq q;
	struct { uint32_t type, reserved; uint64_t sector; } *hdr = galloc(16, 16);
	uint8_t *st = galloc(16, 16), *data = galloc(512, 512);
	uint32_t len;

	TRY(vio_up(VIO_BLK, &q, 1, 8, 0));
	race_start(1, notifier, NULL);
	if (nr_cpus > 2)
		race_start(2, notifier, NULL);
	for (int i = 0; i < ROUNDS; i++) {
		unsigned int sector = (unsigned int)i % DISK_SECTORS;
		struct seg s[3] = {
			{ gpa(hdr), 16, 0 }, { gpa(data), 512, D_WRITE }, { gpa(st), 1, D_WRITE },
		};
		hdr->type = 0;
		hdr->sector = sector;
		*st = 0xee;
		vq_send(&q, s, 3);
		EXPECT(vq_wait(&q, WAIT_LONG, NULL, &len));
		EXPECT_EQ(*st, 0);
		EXPECT_EQ(len, 513);
		for (int b = 0; b < 512; b += 17)
			EXPECT_EQ(data[b], DISK_BYTE(sector, b));
	}
	race_stop();
	return 0;
}
