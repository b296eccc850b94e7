/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The hostile tiny guest's helpers: a minimal virtio-mmio driver (status,
 * features, queues in guest memory, chains, notifications, polling the used
 * ring), checks that report through the serial port, and the mailbox that
 * lets the other vCPUs race the device thread.
 */
#ifndef HOSTILE_H
#define HOSTILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../guests/guest.h"
#include "../layout.h"

/* virtio-mmio registers (virtio 1.2, 4.2.2) */
#define R_MAGIC 0x000
#define R_VERSION 0x004
#define R_DEVICE_ID 0x008
#define R_VENDOR_ID 0x00c
#define R_DEV_FEAT 0x010
#define R_DEV_FEAT_SEL 0x014
#define R_DRV_FEAT 0x020
#define R_DRV_FEAT_SEL 0x024
#define R_QUEUE_SEL 0x030
#define R_QUEUE_NUM_MAX 0x034
#define R_QUEUE_NUM 0x038
#define R_QUEUE_READY 0x044
#define R_QUEUE_NOTIFY 0x050
#define R_ISR 0x060
#define R_ISR_ACK 0x064
#define R_STATUS 0x070
#define R_DESC_LO 0x080
#define R_DESC_HI 0x084
#define R_DRIVER_LO 0x090
#define R_DRIVER_HI 0x094
#define R_DEVICE_LO 0x0a0
#define R_DEVICE_HI 0x0a4
#define R_CONFIG_GEN 0x0fc
#define R_CONFIG 0x100

#define S_ACK 1
#define S_DRIVER 2
#define S_DRIVER_OK 4
#define S_FEATURES_OK 8
#define S_NEEDS_RESET 0x40
#define S_FAILED 0x80

#define F_VERSION_1 (1ULL << 32)

#define D_NEXT 1
#define D_WRITE 2
#define D_INDIRECT 4

struct vdesc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct vavail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];
};

struct vused_elem {
	uint32_t id;
	uint32_t len;
};

struct vused {
	uint16_t flags;
	uint16_t idx;
	struct vused_elem ring[];
};

struct vq {
	uint64_t base;
	uint32_t qi;
	uint16_t num;
	volatile struct vdesc *desc;
	volatile struct vavail *avail;
	volatile struct vused *used;
	uint16_t next_desc;   /* next free descriptor (round robin) */
	uint16_t avail_idx;   /* our avail->idx */
	uint16_t used_seen;   /* used entries consumed */
};

struct seg {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;       /* D_WRITE etc.; D_NEXT is added by vq_chain */
};

/* ----------------------------------------------------------- basics */
static inline uint32_t mr(uint64_t base, uint32_t off)
{
	return *(volatile uint32_t *)(base + off);
}

static inline void mw(uint64_t base, uint32_t off, uint32_t v)
{
	*(volatile uint32_t *)(base + off) = v;
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline void mb(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static inline void cpu_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

void put_dec(uint64_t v);
void put_str(const char *s);
/* Bump allocator over a zeroed pool in guest RAM (no free: one case per VM). */
void *galloc(uint64_t size, uint64_t align);
uint64_t gpa(const volatile void *p);

/* Waits, in TSC cycles. LONG for what must happen: longer than the VM's
 * timeout (runner.c) even at a few hundred MHz, since the lab's TSC rate is
 * calibrated under emulation and can be far off, and a jailed VMM's first
 * device request there has taken seconds; a missing answer thus ends as the
 * VM's timeout, the serial output naming the case. SHORT for what must not
 * happen: too short on a slow host only makes a check vacuous, never
 * false. */
#define WAIT_LONG (1ULL << 38)
#define WAIT_SHORT 300000000ULL
void spin_cycles(uint64_t cycles);

/* Checks: print the line and the values, and fail the case. */
int check_fail(int line, const char *what, uint64_t got, uint64_t want);
#define EXPECT_EQ(got, want)                                                          \
	do {                                                                          \
		uint64_t g_ = (uint64_t)(got), w_ = (uint64_t)(want);                 \
		if (g_ != w_)                                                         \
			return check_fail(__LINE__, #got, g_, w_);                    \
	} while (0)
#define EXPECT(cond)                                                                  \
	do {                                                                          \
		if (!(cond))                                                          \
			return check_fail(__LINE__, #cond, 0, 1);                     \
	} while (0)
#define TRY(expr)                                                                     \
	do {                                                                          \
		int r_ = (expr);                                                      \
		if (r_)                                                               \
			return r_;                                                    \
	} while (0)

/* ----------------------------------------------------------- driver */
/* Reset, ACK, DRIVER, write features (VERSION_1 is not added), FEATURES_OK.
 * Returns the status read back. */
uint32_t vio_negotiate(uint64_t base, uint64_t features);
/* Allocates rings for queue qi of num entries and programs them (not ready). */
void vq_program(struct vq *q, uint64_t base, uint32_t qi, uint16_t num);
/* Program + QueueReady=1. */
void vq_setup(struct vq *q, uint64_t base, uint32_t qi, uint16_t num);
/* Negotiate VERSION_1 | extra, set up nq queues of num entries, DRIVER_OK;
 * fails the case unless the device is live afterwards. */
int vio_up(uint64_t base, struct vq *qs, unsigned int nq, uint16_t num, uint64_t extra);
/* Writes n chained descriptors from q->next_desc on; returns the head. */
uint16_t vq_chain(struct vq *q, const struct seg *s, unsigned int n);
void vq_publish(struct vq *q, uint16_t head);
void vq_kick(struct vq *q);
/* chain + publish + kick */
uint16_t vq_send(struct vq *q, const struct seg *s, unsigned int n);
/* Waits (up to `cycles`) for the next used entry; 1 = got it. */
int vq_wait(struct vq *q, uint64_t cycles, uint32_t *id, uint32_t *len);
uint16_t vq_used_idx(const struct vq *q);
/* Waits for (status & bits) == bits; returns the status. */
uint32_t vio_wait_status(uint64_t base, uint32_t bits, uint64_t cycles);
/* Reset and bring the device up again on the same rings (zeroed indices). */
int vio_reup(uint64_t base, struct vq *qs, unsigned int nq);
/* 1 = a used entry (its len in *len), 2 = NEEDS_RESET, 0 = neither in time. */
int vq_wait_or_reset(struct vq *q, uint64_t cycles, uint32_t *len);
/* The device went NEEDS_RESET and left the ring alone (used idx as before). */
int expect_needs_reset(struct vq *q, uint16_t used_before);

/* -------------------------------------------------- secondary vCPUs */
/* Runs fn(arg) on vCPU cpu (1 or 2) until race_stop(); race_start returns
 * once it runs. */
void race_start(unsigned int cpu, void (*fn)(void *), void *arg);
void race_stop(void);
extern volatile int race_stopping;
extern unsigned long nr_cpus;

/* ------------------------------------------------------------ cases */
/* Each case returns 0 when every check passed. */
#define HCASE(name, flags, kind, status, msg) int case_##name(void);
#include "../cases.def"
#undef HCASE

/* The liveness check after every case: a reset rng device serves a request. */
int alive_check(void);

/* vsock driver for the vsock and control-channel cases (c_vsock.c). */
struct vsock_hdr {
	uint64_t src_cid;
	uint64_t dst_cid;
	uint32_t src_port;
	uint32_t dst_port;
	uint32_t len;
	uint16_t type;
	uint16_t op;
	uint32_t flags;
	uint32_t buf_alloc;
	uint32_t fwd_cnt;
} __attribute__((packed));

#define VS_OP_REQUEST 1
#define VS_OP_RESPONSE 2
#define VS_OP_RST 3
#define VS_OP_SHUTDOWN 4
#define VS_OP_RW 5
#define VS_OP_CREDIT_UPDATE 6
#define VS_OP_CREDIT_REQUEST 7
#define VS_GUEST_PORT 5000
#define VS_HOST_PORT 1024
#define VS_RX_BUF 4096

struct vsock {
	struct vq q[3];
	uint8_t *rxbuf[8];
	uint32_t fwd_cnt;
};

int vs_up(struct vsock *v);
/* Sends one packet (header fields from op/ports, payload). 0 = sent and used. */
int vs_send(struct vsock *v, uint16_t op, uint32_t src_port, uint32_t dst_port,
	    const void *payload, uint32_t len);
int vs_send_hdr(struct vsock *v, const struct vsock_hdr *h, const void *payload, uint32_t len);
/* Next received packet: 1 = got one (header and up to max payload bytes). */
int vs_recv(struct vsock *v, struct vsock_hdr *h, void *payload, uint32_t max, uint64_t cycles);
int vs_connect(struct vsock *v);

#endif
