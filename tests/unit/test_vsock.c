// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Description: virtio-vsock's packet layer against a hostile driver: the
 * control connection carries the command in OP_RW packets, and receive
 * buffers with no room for a payload (or not even for the header) stop the
 * device instead of being filled with empty packets.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "control.h"
#include "evloop.h"
#include "fake_vm.h"
#include "virtio/virtio.h"
#include "vmm.h"
#include "../../src/guest/control_proto.h"

#define MEM (1 << 20)
#define NUM 8
#define Q_RX 0
#define Q_TX 1
#define RX_DESC 0x1000
#define RX_AVAIL 0x2000
#define RX_USED 0x3000
#define TX_DESC 0x4000
#define TX_AVAIL 0x5000
#define TX_USED 0x6000
#define RX_BUF 0x10000 /* + 0x1000 per descriptor */
#define TX_BUF 0x30000
#define F_WRITE 2
#define HDR_LEN 44
#define GUEST_CID 3
#define GUEST_PORT 5000
#define OP_REQUEST 1
#define OP_RESPONSE 2
#define OP_RW 5
#define NEEDS_RESET 0x40

static struct vm *vm;
static struct virtio_dev *d;
static char *argv_true[] = { "true", NULL };
static uint16_t rx_idx, tx_idx;

struct hdr {
	uint64_t src_cid, dst_cid;
	uint32_t src_port, dst_port, len;
	uint16_t type, op;
	uint32_t flags, buf_alloc, fwd_cnt;
} __attribute__((packed));

static void wr(uint32_t off, uint32_t v)
{
	virtio_mmio_ops.write(d, off, &v, 4);
}

static void set_queue(uint32_t sel, uint32_t desc, uint32_t avail, uint32_t used)
{
	wr(0x030, sel);
	wr(0x038, NUM);
	wr(0x080, desc);
	wr(0x090, avail);
	wr(0x0a0, used);
	wr(0x044, 1);
}

static void setup(void)
{
	vm = fake_vm_new(MEM);
	vm->cfg.argv = argv_true;
	ck_assert_int_eq(control_new(vm), 0);
	ck_assert_int_eq(virtio_vsock_init(vm), 0);
	d = vm->vsock_dev;
	wr(0x070, 1);
	wr(0x070, 3);
	wr(0x024, 1);
	wr(0x020, 1); /* VIRTIO_F_VERSION_1 */
	wr(0x070, 0xb);
	set_queue(Q_RX, RX_DESC, RX_AVAIL, RX_USED);
	set_queue(Q_TX, TX_DESC, TX_AVAIL, TX_USED);
	wr(0x070, 0xf);
	ck_assert(virtio_dev_live(d));
	rx_idx = tx_idx = 0;
}

static void teardown(void)
{
	fake_vm_free(vm);
}

static void put_desc(uint64_t table, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags)
{
	uint8_t b[16] = { 0 };
	memcpy(b, &addr, 8);
	memcpy(b + 8, &len, 4);
	memcpy(b + 12, &flags, 2);
	ck_assert_int_eq(gmem_write(&vm->mem, table + 16ULL * i, b, 16), 0);
}

static void make_avail(uint64_t avail, uint16_t *idx, uint16_t head)
{
	ck_assert_int_eq(gmem_write(&vm->mem, avail + 4 + 2 * (*idx % NUM), &head, 2), 0);
	(*idx)++;
	ck_assert_int_eq(gmem_write(&vm->mem, avail + 2, idx, 2), 0);
}

/* Receive buffer number i (one writable descriptor of len bytes). */
static void post_rx(uint16_t i, uint32_t len)
{
	put_desc(RX_DESC, i, RX_BUF + 0x1000ULL * i, len, F_WRITE);
	make_avail(RX_AVAIL, &rx_idx, i);
}

static void notify(unsigned int q)
{
	pthread_mutex_lock(&d->lock);
	d->ops->notify(d, q);
	pthread_mutex_unlock(&d->lock);
}

/* One packet from the guest to the control port, in one descriptor. */
static void send_tx(uint16_t op, const void *payload, uint32_t len)
{
	struct hdr h = { .src_cid = GUEST_CID, .dst_cid = ALCATRAZ_CTL_HOST_CID,
			 .src_port = GUEST_PORT, .dst_port = ALCATRAZ_CTL_VSOCK_PORT, .len = len,
			 .type = 1, .op = op, .buf_alloc = 65536 };
	uint16_t head = tx_idx % NUM;

	ck_assert_int_eq(gmem_write(&vm->mem, TX_BUF, &h, sizeof(h)), 0);
	if (len)
		ck_assert_int_eq(gmem_write(&vm->mem, TX_BUF + sizeof(h), payload, len), 0);
	put_desc(TX_DESC, head, TX_BUF, (uint32_t)sizeof(h) + len, 0);
	make_avail(TX_AVAIL, &tx_idx, head);
	notify(Q_TX);
}

static uint16_t rx_used_idx(void)
{
	uint16_t idx;
	ck_assert_int_eq(gmem_read(&vm->mem, RX_USED + 2, &idx, 2), 0);
	return idx;
}

/* The used element in slot i of the rx used ring: descriptor and length. */
static void rx_used(uint16_t i, uint32_t *id, uint32_t *len)
{
	ck_assert_int_eq(gmem_read(&vm->mem, RX_USED + 4 + 8ULL * i, id, 4), 0);
	ck_assert_int_eq(gmem_read(&vm->mem, RX_USED + 8 + 8ULL * i, len, 4), 0);
}

static struct hdr rx_hdr(uint16_t desc)
{
	struct hdr h;
	ck_assert_int_eq(gmem_read(&vm->mem, RX_BUF + 0x1000ULL * desc, &h, sizeof(h)), 0);
	return h;
}

/* The guest connects and says init has started: the host queues the
 * command (ARG "true", END, STDIN_EOF). */
static void connect_and_start(void)
{
	uint8_t ev[ALCATRAZ_CTL_HDR_SIZE + ALCATRAZ_CTL_EVENT_LEN] = { 0 };

	send_tx(OP_REQUEST, NULL, 0);
	ck_assert_uint_eq(rx_used_idx(), 1);
	ck_assert_uint_eq(rx_hdr(0).op, OP_RESPONSE);
	alcatraz_ctl_put_hdr(ev, ALCATRAZ_CTL_EVENT, ALCATRAZ_CTL_EVENT_LEN);
	alcatraz_ctl_put_le32(ev + ALCATRAZ_CTL_HDR_SIZE, ALCATRAZ_CTL_EV_INIT_START);
	send_tx(OP_RW, ev, sizeof(ev));
}

START_TEST(command_reaches_the_guest)
{
	uint8_t rec[64];
	uint32_t id, len;

	post_rx(0, HDR_LEN);
	post_rx(1, HDR_LEN + 4096);
	connect_and_start();
	ck_assert_uint_eq(rx_used_idx(), 2);
	rx_used(1, &id, &len);
	struct hdr h = rx_hdr(1);
	ck_assert_uint_eq(id, 1);
	ck_assert_uint_eq(h.op, OP_RW);
	ck_assert_uint_eq(h.dst_port, GUEST_PORT);
	ck_assert_uint_eq(len, HDR_LEN + h.len);
	/* ARG "true", END, STDIN_EOF(0). */
	ck_assert_uint_eq(h.len, 3 * ALCATRAZ_CTL_HDR_SIZE + 4 + ALCATRAZ_CTL_STDIN_EOF_LEN);
	ck_assert_int_eq(gmem_read(&vm->mem, RX_BUF + 0x1000 + HDR_LEN, rec, h.len), 0);
	ck_assert_uint_eq(alcatraz_ctl_get_le32(rec + 4), ALCATRAZ_CTL_ARG);
	ck_assert_mem_eq(rec + ALCATRAZ_CTL_HDR_SIZE, "true", 4);
	ck_assert(virtio_dev_live(d));
}
END_TEST

/* Room for a header and nothing else while data waits: the device stops
 * rather than filling every buffer with an empty OP_RW packet. */
START_TEST(header_only_buffers_get_no_empty_packets)
{
	for (uint16_t i = 0; i < 5; i++)
		post_rx(i, HDR_LEN);
	connect_and_start();
	ck_assert_uint_eq(rx_used_idx(), 1); /* the RESPONSE only */
	ck_assert_uint_eq(d->status & NEEDS_RESET, NEEDS_RESET);
	ck_assert(!virtio_dev_live(d));
}
END_TEST

START_TEST(buffer_smaller_than_header_needs_reset)
{
	post_rx(0, HDR_LEN - 1);
	send_tx(OP_REQUEST, NULL, 0);
	ck_assert_uint_eq(rx_used_idx(), 0);
	ck_assert_uint_eq(d->status & NEEDS_RESET, NEEDS_RESET);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vsock");
	TCase *tc = tcase_create("rx");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, command_reaches_the_guest);
	tcase_add_test(tc, header_only_buffers_get_no_empty_packets);
	tcase_add_test(tc, buffer_smaller_than_header_needs_reset);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
