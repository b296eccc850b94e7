// SPDX-License-Identifier: LGPL-2.1-or-later
/* The virtio-mmio transport: identification, the status and feature state
 * machine, queue registers in every state, as src/vmm/virtio/mmio.c has them. */
#include "hostile.h"

static const struct {
	uint64_t base;
	uint32_t id;
} devs[] = {
	{ VIO_CONSOLE, 3 }, { VIO_VSOCK, 19 }, { VIO_RNG, 4 }, { VIO_BLK, 2 }, { VIO_BLK_RO, 2 },
};

#define ALL_OK (S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK)

int case_t_ident(void)
{
	for (unsigned int i = 0; i < sizeof(devs) / sizeof(devs[0]); i++) {
		EXPECT_EQ(mr(devs[i].base, R_MAGIC), 0x74726976);
		EXPECT_EQ(mr(devs[i].base, R_VERSION), 2);
		EXPECT_EQ(mr(devs[i].base, R_DEVICE_ID), devs[i].id);
		EXPECT_EQ(mr(devs[i].base, R_STATUS), 0);
		mw(devs[i].base, R_DEV_FEAT_SEL, 1);
		EXPECT_EQ(mr(devs[i].base, R_DEV_FEAT) & 1, 1); /* VERSION_1 */
		mw(devs[i].base, R_DEV_FEAT_SEL, 2);
		EXPECT_EQ(mr(devs[i].base, R_DEV_FEAT), 0);
	}
	/* blk: capacity in sectors; the read-only disk offers VIRTIO_BLK_F_RO. */
	EXPECT_EQ(mr(VIO_BLK, R_CONFIG), DISK_SECTORS);
	EXPECT_EQ(mr(VIO_BLK, R_CONFIG + 4), 0);
	EXPECT_EQ(mr(VIO_BLK_RO, R_CONFIG), DISK_RO_SECTORS);
	mw(VIO_BLK, R_DEV_FEAT_SEL, 0);
	mw(VIO_BLK_RO, R_DEV_FEAT_SEL, 0);
	EXPECT_EQ(mr(VIO_BLK, R_DEV_FEAT) & (1u << 5), 0);
	EXPECT_EQ(mr(VIO_BLK_RO, R_DEV_FEAT) & (1u << 5), 1u << 5);
	/* vsock: guest CID 3 */
	EXPECT_EQ(mr(VIO_VSOCK, R_CONFIG), 3);
	/* Nothing at the slot after the last device. */
	EXPECT_EQ(mr(VIO_NONE, R_MAGIC), 0xffffffff);
	mw(VIO_NONE, R_STATUS, 0xf);
	EXPECT_EQ(mr(VIO_NONE, R_STATUS), 0xffffffff);
	return 0;
}

int case_t_features_refused(void)
{
	/* Not offered (bit 0 of rng), then no VERSION_1: FEATURES_OK does not
	 * stick, the rest of the write does, and no NEEDS_RESET. */
	EXPECT_EQ(vio_negotiate(VIO_RNG, F_VERSION_1 | 1), S_ACK | S_DRIVER);
	EXPECT_EQ(vio_negotiate(VIO_RNG, 0), S_ACK | S_DRIVER);
	/* Bit 40 (high word) is not offered either. */
	EXPECT_EQ(vio_negotiate(VIO_RNG, F_VERSION_1 | (1ULL << 40)), S_ACK | S_DRIVER);
	/* Selectors >= 2 write nothing: the features stay acceptable. */
	mw(VIO_RNG, R_STATUS, 0);
	mw(VIO_RNG, R_STATUS, S_ACK | S_DRIVER);
	mw(VIO_RNG, R_DRV_FEAT_SEL, 1);
	mw(VIO_RNG, R_DRV_FEAT, 1);
	mw(VIO_RNG, R_DRV_FEAT_SEL, 2);
	mw(VIO_RNG, R_DRV_FEAT, 0xffffffff);
	mw(VIO_RNG, R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
	EXPECT_EQ(mr(VIO_RNG, R_STATUS), S_ACK | S_DRIVER | S_FEATURES_OK);
	return 0;
}

int case_t_driver_ok_early(void)
{
	struct vq q;
	uint8_t *buf = galloc(64, 64);
	struct seg s = { gpa(buf), 16, D_WRITE };

	/* DRIVER_OK without FEATURES_OK: set, and NEEDS_RESET; nothing served. */
	EXPECT_EQ(vio_negotiate(VIO_RNG, 0), S_ACK | S_DRIVER);
	vq_setup(&q, VIO_RNG, 0, 8);
	mw(VIO_RNG, R_STATUS, S_ACK | S_DRIVER | S_DRIVER_OK);
	EXPECT_EQ(mr(VIO_RNG, R_STATUS), S_ACK | S_DRIVER | S_DRIVER_OK | S_NEEDS_RESET);
	vq_send(&q, &s, 1);
	EXPECT(!vq_wait(&q, WAIT_SHORT, NULL, NULL));
	/* The reset brings it back. */
	mw(VIO_RNG, R_STATUS, 0);
	EXPECT_EQ(mr(VIO_RNG, R_STATUS), 0);
	EXPECT_EQ(mr(VIO_RNG, R_ISR), 0);
	return 0;
}

/* A live rng device, then `bad` written to Status. */
static int clear_bits(uint32_t bad)
{
	struct vq q;
	uint8_t *buf = galloc(64, 64);
	struct seg s = { gpa(buf), 16, D_WRITE };

	TRY(vio_up(VIO_RNG, &q, 1, 8, 0));
	mw(VIO_RNG, R_STATUS, bad);
	/* Ignored, and the device needs a reset. */
	EXPECT_EQ(mr(VIO_RNG, R_STATUS), ALL_OK | S_NEEDS_RESET);
	EXPECT_EQ(mr(VIO_RNG, R_ISR) & 2, 2);
	/* The queue registers stay frozen: the queue cannot be moved now. */
	mw(VIO_RNG, R_QUEUE_SEL, 0);
	mw(VIO_RNG, R_QUEUE_READY, 0);
	EXPECT_EQ(mr(VIO_RNG, R_QUEUE_READY), 1);
	mw(VIO_RNG, R_DESC_LO, 0x200000);
	EXPECT_EQ(mr(VIO_RNG, R_DESC_LO), (uint32_t)gpa(q.desc));
	/* No DRIVER_OK again without a reset, and nothing is served. */
	mw(VIO_RNG, R_STATUS, ALL_OK);
	EXPECT_EQ(mr(VIO_RNG, R_STATUS), ALL_OK | S_NEEDS_RESET);
	vq_send(&q, &s, 1);
	EXPECT(!vq_wait(&q, WAIT_SHORT, NULL, NULL));
	/* FAILED may still be added. */
	mw(VIO_RNG, R_STATUS, ALL_OK | S_FAILED);
	EXPECT_EQ(mr(VIO_RNG, R_STATUS), ALL_OK | S_NEEDS_RESET | S_FAILED);
	return 0;
}

int case_t_clear_driver_ok(void)
{
	return clear_bits(S_ACK | S_DRIVER | S_FEATURES_OK);
}

int case_t_clear_features_ok(void)
{
	return clear_bits(S_ACK | S_DRIVER | S_DRIVER_OK);
}

int case_t_status_rewrite(void)
{
	struct vq q;
	uint8_t *buf = galloc(64, 64);
	struct seg s = { gpa(buf), 16, D_WRITE };

	TRY(vio_up(VIO_RNG, &q, 1, 8, 0));
	/* The same bits again, with the undefined 0x10/0x20 and the
	 * device's 0x40: no change, no NEEDS_RESET, still served. */
	mw(VIO_RNG, R_STATUS, ALL_OK);
	mw(VIO_RNG, R_STATUS, ALL_OK | 0x10 | 0x20 | S_NEEDS_RESET);
	EXPECT_EQ(mr(VIO_RNG, R_STATUS), ALL_OK);
	vq_send(&q, &s, 1);
	EXPECT(vq_wait(&q, WAIT_LONG, NULL, NULL));
	/* FEATURES_OK set: DriverFeatures writes are ignored. */
	mw(VIO_RNG, R_DRV_FEAT_SEL, 0);
	mw(VIO_RNG, R_DRV_FEAT, 0xffffffff);
	EXPECT_EQ(mr(VIO_RNG, R_STATUS), ALL_OK);
	return 0;
}

int case_t_queue_regs_idle(void)
{
	uint64_t b = VIO_VSOCK;

	mw(b, R_STATUS, 0);
	for (uint32_t qi = 0; qi < 3; qi++) {
		mw(b, R_QUEUE_SEL, qi);
		EXPECT_EQ(mr(b, R_QUEUE_NUM_MAX), 256);
		EXPECT_EQ(mr(b, R_QUEUE_READY), 0);
		mw(b, R_QUEUE_NUM, 64);
		mw(b, R_DESC_LO, 0x12340000 + qi * 0x1000);
		mw(b, R_DESC_HI, 7);
		mw(b, R_DRIVER_LO, 0x22340000);
		mw(b, R_DEVICE_LO, 0x32340000);
		EXPECT_EQ(mr(b, R_QUEUE_NUM), 64);
		EXPECT_EQ(mr(b, R_DESC_LO), 0x12340000 + qi * 0x1000);
		EXPECT_EQ(mr(b, R_DESC_HI), 7);
		EXPECT_EQ(mr(b, R_DRIVER_LO), 0x22340000);
		EXPECT_EQ(mr(b, R_DEVICE_LO), 0x32340000);
		mw(b, R_QUEUE_NUM, 257); /* > QueueNumMax: stored as 0 */
		EXPECT_EQ(mr(b, R_QUEUE_NUM), 0);
	}
	/* A queue that does not exist: reads 0, writes go nowhere. */
	static const uint32_t absent[] = { 3, 0x80000003, 0xffffffff };
	for (unsigned int i = 0; i < sizeof(absent) / sizeof(absent[0]); i++) {
		uint32_t qi = absent[i];
		mw(b, R_QUEUE_SEL, qi);
		EXPECT_EQ(mr(b, R_QUEUE_NUM_MAX), 0);
		mw(b, R_QUEUE_NUM, 8);
		mw(b, R_DESC_LO, 0x100000);
		mw(b, R_QUEUE_READY, 1);
		EXPECT_EQ(mr(b, R_QUEUE_NUM), 0);
		EXPECT_EQ(mr(b, R_DESC_LO), 0);
		EXPECT_EQ(mr(b, R_QUEUE_READY), 0);
		mw(b, R_QUEUE_NOTIFY, qi);
	}
	/* The reset clears every queue. */
	mw(b, R_STATUS, S_ACK);
	mw(b, R_STATUS, 0);
	mw(b, R_QUEUE_SEL, 1);
	EXPECT_EQ(mr(b, R_QUEUE_SEL), 0); /* write-only register: reads 0 */
	EXPECT_EQ(mr(b, R_QUEUE_NUM), 0);
	EXPECT_EQ(mr(b, R_DESC_LO), 0);
	EXPECT_EQ(mr(b, R_DESC_HI), 0);
	EXPECT_EQ(mr(b, R_STATUS), 0);
	return 0;
}

int case_t_queue_regs_ready(void)
{
	struct vq q;
	uint32_t desc;

	EXPECT_EQ(vio_negotiate(VIO_RNG, F_VERSION_1), S_ACK | S_DRIVER | S_FEATURES_OK);
	vq_setup(&q, VIO_RNG, 0, 8);
	EXPECT_EQ(mr(VIO_RNG, R_QUEUE_READY), 1);
	desc = mr(VIO_RNG, R_DESC_LO);
	/* Ready: frozen. */
	mw(VIO_RNG, R_QUEUE_NUM, 4);
	mw(VIO_RNG, R_DESC_LO, 0x400000);
	mw(VIO_RNG, R_DRIVER_LO, 0x400000);
	mw(VIO_RNG, R_DEVICE_LO, 0x400000);
	mw(VIO_RNG, R_QUEUE_READY, 7); /* other values: ignored */
	EXPECT_EQ(mr(VIO_RNG, R_QUEUE_NUM), 8);
	EXPECT_EQ(mr(VIO_RNG, R_DESC_LO), desc);
	EXPECT_EQ(mr(VIO_RNG, R_DRIVER_LO), (uint32_t)gpa(q.avail));
	EXPECT_EQ(mr(VIO_RNG, R_DEVICE_LO), (uint32_t)gpa(q.used));
	EXPECT_EQ(mr(VIO_RNG, R_QUEUE_READY), 1);
	/* Not ready again before DRIVER_OK: writable. */
	mw(VIO_RNG, R_QUEUE_READY, 0);
	EXPECT_EQ(mr(VIO_RNG, R_QUEUE_READY), 0);
	mw(VIO_RNG, R_QUEUE_NUM, 4);
	EXPECT_EQ(mr(VIO_RNG, R_QUEUE_NUM), 4);
	EXPECT_EQ(mr(VIO_RNG, R_STATUS), S_ACK | S_DRIVER | S_FEATURES_OK);
	return 0;
}

int case_t_queue_regs_live(void)
{
	struct vq q, other;
	uint8_t *buf = galloc(64, 64);
	struct seg s = { gpa(buf), 16, D_WRITE };
	uint32_t len;

	TRY(vio_up(VIO_RNG, &q, 1, 8, 0));
	/* Prepare a second ring the hostile driver would like to switch to. */
	other.desc = galloc(16 * 8, 4096);
	mw(VIO_RNG, R_QUEUE_SEL, 0);
	mw(VIO_RNG, R_QUEUE_READY, 0);
	mw(VIO_RNG, R_QUEUE_NUM, 2);
	mw(VIO_RNG, R_DESC_LO, (uint32_t)gpa(other.desc));
	mw(VIO_RNG, R_DRIVER_LO, (uint32_t)gpa(other.desc) + 0x100);
	mw(VIO_RNG, R_DEVICE_LO, (uint32_t)gpa(other.desc) + 0x200);
	mw(VIO_RNG, R_QUEUE_READY, 1);
	EXPECT_EQ(mr(VIO_RNG, R_QUEUE_READY), 1);
	EXPECT_EQ(mr(VIO_RNG, R_QUEUE_NUM), 8);
	EXPECT_EQ(mr(VIO_RNG, R_DESC_LO), (uint32_t)gpa(q.desc));
	EXPECT_EQ(mr(VIO_RNG, R_DRIVER_LO), (uint32_t)gpa(q.avail));
	EXPECT_EQ(mr(VIO_RNG, R_DEVICE_LO), (uint32_t)gpa(q.used));
	/* Ignored writes do not break the device: the old ring is served. */
	EXPECT_EQ(mr(VIO_RNG, R_STATUS), ALL_OK);
	for (int i = 0; i < 20; i++) {
		vq_send(&q, &s, 1);
		EXPECT(vq_wait(&q, WAIT_LONG, NULL, &len));
		EXPECT_EQ(len, 16);
	}
	return 0;
}

/* One bad ring layout: QueueReady=1 refuses it with NEEDS_RESET. */
static int bad_layout(uint16_t num, uint64_t desc, uint64_t avail, uint64_t used)
{
	EXPECT_EQ(vio_negotiate(VIO_RNG, F_VERSION_1), S_ACK | S_DRIVER | S_FEATURES_OK);
	mw(VIO_RNG, R_QUEUE_SEL, 0);
	mw(VIO_RNG, R_QUEUE_NUM, num);
	mw(VIO_RNG, R_DESC_LO, (uint32_t)desc);
	mw(VIO_RNG, R_DESC_HI, (uint32_t)(desc >> 32));
	mw(VIO_RNG, R_DRIVER_LO, (uint32_t)avail);
	mw(VIO_RNG, R_DRIVER_HI, (uint32_t)(avail >> 32));
	mw(VIO_RNG, R_DEVICE_LO, (uint32_t)used);
	mw(VIO_RNG, R_DEVICE_HI, (uint32_t)(used >> 32));
	mw(VIO_RNG, R_QUEUE_READY, 1);
	EXPECT_EQ(mr(VIO_RNG, R_QUEUE_READY), 0);
	EXPECT_EQ(mr(VIO_RNG, R_STATUS), S_ACK | S_DRIVER | S_FEATURES_OK | S_NEEDS_RESET);
	/* and DRIVER_OK cannot make it live */
	mw(VIO_RNG, R_STATUS, ALL_OK);
	EXPECT_EQ(mr(VIO_RNG, R_STATUS) & S_DRIVER_OK, 0);
	return 0;
}

int case_t_queue_bad_layout(void)
{
	uint64_t ram = HOSTILE_MEM_BYTES;
	uint64_t ok = gpa(galloc(0x3000, 4096));

	TRY(bad_layout(0, ok, ok + 0x1000, ok + 0x2000));          /* size 0 */
	TRY(bad_layout(3, ok, ok + 0x1000, ok + 0x2000));          /* not a power of two */
	TRY(bad_layout(8, ok + 8, ok + 0x1000, ok + 0x2000));      /* desc misaligned */
	TRY(bad_layout(8, ok, ok + 0x1001, ok + 0x2000));          /* avail misaligned */
	TRY(bad_layout(8, ok, ok + 0x1000, ok + 0x2002));          /* used misaligned */
	TRY(bad_layout(8, ram, ok + 0x1000, ok + 0x2000));         /* desc past RAM */
	TRY(bad_layout(8, ram - 64, ok + 0x1000, ok + 0x2000));    /* desc across the end */
	TRY(bad_layout(8, ok, ok + 0x1000, ram - 32));             /* used across the end */
	TRY(bad_layout(8, 0xfffffffffffffff0ULL, ok + 0x1000, ok + 0x2000)); /* wraps */
	TRY(bad_layout(8, VIO_RNG, ok + 0x1000, ok + 0x2000));     /* in MMIO */
	return 0;
}

int case_t_access_width(void)
{
	volatile uint8_t *b8 = (volatile uint8_t *)VIO_BLK;
	volatile uint16_t *b16 = (volatile uint16_t *)VIO_BLK;

	/* Registers are 32-bit only: narrower writes are ignored. */
	b8[R_STATUS] = S_ACK;
	b16[R_STATUS / 2] = S_ACK;
	EXPECT_EQ(mr(VIO_BLK, R_STATUS), 0);
	/* Unaligned or narrow register reads return 0. */
	EXPECT_EQ(b8[R_MAGIC], 0);
	EXPECT_EQ(*(volatile uint32_t *)(VIO_BLK + 2), 0);
	/* Config space: any width reads, nothing writes; past its end reads 0. */
	EXPECT_EQ(b8[R_CONFIG], DISK_SECTORS);
	mw(VIO_BLK, R_CONFIG, 0x7fffffff);
	b8[R_CONFIG] = 1;
	EXPECT_EQ(mr(VIO_BLK, R_CONFIG), DISK_SECTORS);
	EXPECT_EQ(mr(VIO_BLK, R_CONFIG + 16), 0);
	EXPECT_EQ(mr(VIO_BLK, 0xffc), 0);
	/* An 8-byte config read. */
	EXPECT_EQ(*(volatile uint64_t *)(VIO_BLK + R_CONFIG), DISK_SECTORS);
	/* Unknown and read-only registers ignore writes. */
	mw(VIO_BLK, R_MAGIC, 0);
	mw(VIO_BLK, R_DEVICE_ID, 9);
	mw(VIO_BLK, R_CONFIG_GEN, 5);
	EXPECT_EQ(mr(VIO_BLK, R_MAGIC), 0x74726976);
	EXPECT_EQ(mr(VIO_BLK, R_DEVICE_ID), 2);
	EXPECT_EQ(mr(VIO_BLK, R_CONFIG_GEN), 0);
	return 0;
}

int case_t_notify_not_live(void)
{
	struct vq q;
	uint8_t *buf = galloc(64, 64);
	struct seg s = { gpa(buf), 16, D_WRITE };
	uint32_t len;

	EXPECT_EQ(vio_negotiate(VIO_RNG, F_VERSION_1), S_ACK | S_DRIVER | S_FEATURES_OK);
	vq_setup(&q, VIO_RNG, 0, 8);
	vq_send(&q, &s, 1);
	mw(VIO_RNG, R_QUEUE_NOTIFY, 9);
	mw(VIO_RNG, R_QUEUE_NOTIFY, 0xffffffff);
	EXPECT(!vq_wait(&q, WAIT_SHORT, NULL, NULL));
	mw(VIO_RNG, R_STATUS, ALL_OK);
	vq_kick(&q);
	EXPECT(vq_wait(&q, WAIT_LONG, NULL, &len));
	EXPECT_EQ(len, 16);
	return 0;
}

int case_t_isr(void)
{
	struct vq q;
	uint8_t *buf = galloc(64, 64);
	struct seg s = { gpa(buf), 16, D_WRITE };

	TRY(vio_up(VIO_RNG, &q, 1, 8, 0));
	EXPECT_EQ(mr(VIO_RNG, R_ISR), 0);
	vq_send(&q, &s, 1);
	EXPECT(vq_wait(&q, WAIT_LONG, NULL, NULL));
	EXPECT_EQ(mr(VIO_RNG, R_ISR), 1);
	mw(VIO_RNG, R_ISR_ACK, 1);
	EXPECT_EQ(mr(VIO_RNG, R_ISR), 0);
	/* The driver asks for no interrupt: none. */
	q.avail->flags = 1;
	vq_send(&q, &s, 1);
	EXPECT(vq_wait(&q, WAIT_LONG, NULL, NULL));
	EXPECT_EQ(mr(VIO_RNG, R_ISR), 0);
	/* NEEDS_RESET raises the configuration-change bit. */
	mw(VIO_RNG, R_STATUS, S_ACK);
	EXPECT_EQ(mr(VIO_RNG, R_ISR), 2);
	mw(VIO_RNG, R_ISR_ACK, 0xffffffff);
	EXPECT_EQ(mr(VIO_RNG, R_ISR), 0);
	return 0;
}
