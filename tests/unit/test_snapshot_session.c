// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Description: a clone's fresh identity (issue 18): a VM whose init takes
 * sessions is booted, connected and saved at rest; each VM restored from it
 * gets a new guest CID in the vsock configuration (valid, not the
 * snapshot's, another per clone) and a transport reset event, and takes
 * exactly one new connection from the new CID, whose first record is a
 * SESSION with a new id, then RESEED. The old connection's packets are not
 * taken; the guest's records before the SESSION_ACK, an ACK of another or
 * of the snapshot's own session (a replay, in a clone of a clone) and a
 * second ACK end the VM as protocol errors; after the ACK the channel works
 * (a STATUS is the command's result). Hostile state: bad CIDs, a session
 * id without the flag, wrong lengths. An init without sessions keeps the
 * snapshot's connection and CID.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "control.h"
#include "fake_vm.h"
#include "virtio/virtio.h"
#include "vmm.h"
#include "vstate/snapshot_virtio.h"
#include "../../src/guest/control_proto.h"

#define MEM (1 << 20)
#define NUM 8
#define Q_RX 0
#define Q_TX 1
#define Q_EVENT 2
#define RINGS(q) (0x1000u + 0x3000u * (q)) /* desc, +0x1000 avail, +0x2000 used */
#define RX_BUF 0x10000u                     /* + 0x1000 per descriptor */
#define TX_BUF 0x30000u
#define EV_BUF 0x40000u
#define BUF_LEN 0x1000u
#define F_WRITE 2
#define R_CONFIG_GEN 0x0fc
#define R_CONFIG 0x100
#define BOOT_CID 3
#define GUEST_PORT 5000
#define NEW_PORT 6000
#define OP_REQUEST 1
#define OP_RESPONSE 2
#define OP_RST 3
#define OP_RW 5
#define FEATS (ALCATRAZ_CTL_FEAT_EXEC | ALCATRAZ_CTL_FEAT_RESEED | ALCATRAZ_CTL_FEAT_SESSION)
/* The vsock device's own state: seven words, the CID, the channel's. */
#define VS_CID 28
#define VS_LEN 36
#define CTL_LEN 24
#define CTL_SESSION (VS_LEN + 16)
#define OFF_OWN_LEN (SNAP_VIRTIO_HDR - 4)

static char *argv_sleep[] = { "sleep", "1000", NULL };

struct hdr {
	uint64_t src_cid, dst_cid;
	uint32_t src_port, dst_port, len;
	uint16_t type, op;
	uint32_t flags, buf_alloc, fwd_cnt;
} __attribute__((packed));

/* One VM and its guest driver's view of the rings. */
struct gst {
	struct vm *vm;
	struct virtio_dev *d;
	uint16_t avail[3], seen[3];
	uint64_t cid;
	uint32_t port;
};

/* What the device put in the receive queue: packets' ops, the data. */
struct rx {
	unsigned int nops;
	uint16_t op[64];
	uint64_t dst_cid[64];
	size_t len;
	uint8_t data[8192];
};

static void wr(struct gst *g, uint32_t off, uint32_t v)
{
	virtio_mmio_ops.write(g->d, off, &v, 4);
}

static uint32_t rd(struct gst *g, uint32_t off)
{
	uint32_t v;

	virtio_mmio_ops.read(g->d, off, &v, 4);
	return v;
}

static uint64_t config_cid(struct gst *g)
{
	return rd(g, R_CONFIG) | (uint64_t)rd(g, R_CONFIG + 4) << 32;
}

static void notify(struct gst *g, unsigned int q)
{
	pthread_mutex_lock(&g->d->lock);
	g->d->ops->notify(g->d, q);
	pthread_mutex_unlock(&g->d->lock);
}

static void put_desc(struct gst *g, unsigned int q, uint16_t i, uint64_t addr, uint32_t len,
		     uint16_t flags)
{
	uint8_t b[16] = { 0 };

	memcpy(b, &addr, 8);
	memcpy(b + 8, &len, 4);
	memcpy(b + 12, &flags, 2);
	ck_assert_int_eq(gmem_write(&g->vm->mem, RINGS(q) + 16ull * i, b, 16), 0);
}

static void make_avail(struct gst *g, unsigned int q, uint16_t head)
{
	uint64_t avail = RINGS(q) + 0x1000;

	ck_assert_int_eq(gmem_write(&g->vm->mem, avail + 4 + 2 * (g->avail[q] % NUM), &head, 2), 0);
	g->avail[q]++;
	ck_assert_int_eq(gmem_write(&g->vm->mem, avail + 2, &g->avail[q], 2), 0);
}

static uint16_t used_idx(struct gst *g, unsigned int q)
{
	uint16_t idx;

	ck_assert_int_eq(gmem_read(&g->vm->mem, RINGS(q) + 0x2002, &idx, 2), 0);
	return idx;
}

/* The next used element of queue q: its descriptor and length. */
static bool next_used(struct gst *g, unsigned int q, uint32_t *id, uint32_t *len)
{
	uint64_t at = RINGS(q) + 0x2004 + 8ull * (g->seen[q] % NUM);

	if (used_idx(g, q) == g->seen[q])
		return false;
	ck_assert_int_eq(gmem_read(&g->vm->mem, at, id, 4), 0);
	ck_assert_int_eq(gmem_read(&g->vm->mem, at + 4, len, 4), 0);
	g->seen[q]++;
	return true;
}

static struct gst boot_vm(void)
{
	struct gst g = { .vm = fake_vm_new(MEM), .cid = BOOT_CID, .port = GUEST_PORT };

	g.vm->cfg.argv = argv_sleep;
	g.vm->cfg.stdin_fd = g.vm->cfg.stdout_fd = g.vm->cfg.stderr_fd = -1;
	ck_assert_int_eq(control_new(g.vm), 0);
	ck_assert_int_eq(virtio_vsock_init(g.vm), 0);
	g.d = g.vm->vsock_dev;
	return g;
}

/* The driver's bring-up: three queues, receive and event buffers posted. */
static void bring_up(struct gst *g)
{
	wr(g, R_STATUS, ACK);
	wr(g, R_STATUS, ACK | DRV);
	wr(g, R_DRV_FEAT_SEL, 1);
	wr(g, R_DRV_FEAT, 1); /* VIRTIO_F_VERSION_1 */
	wr(g, R_STATUS, ACK | DRV | FEAT_OK);
	for (unsigned int q = 0; q < 3; q++) {
		wr(g, R_QUEUE_SEL, q);
		wr(g, R_QUEUE_NUM, NUM);
		wr(g, R_DESC, RINGS(q));
		wr(g, R_DRIVER, RINGS(q) + 0x1000);
		wr(g, R_DEVICE, RINGS(q) + 0x2000);
		wr(g, R_QUEUE_READY, 1);
	}
	wr(g, R_STATUS, ACK | DRV | FEAT_OK | DRV_OK);
	ck_assert(virtio_dev_live(g->d));
	for (uint16_t i = 0; i < NUM; i++) {
		put_desc(g, Q_RX, i, RX_BUF + BUF_LEN * i, BUF_LEN, F_WRITE);
		make_avail(g, Q_RX, i);
	}
	put_desc(g, Q_EVENT, 0, EV_BUF, 4, F_WRITE);
	make_avail(g, Q_EVENT, 0);
}

/* One packet from the guest, in one descriptor. */
static void send_pkt(struct gst *g, uint64_t src_cid, uint32_t port, uint16_t op,
		     const void *payload, uint32_t len)
{
	struct hdr h = { .src_cid = src_cid, .dst_cid = ALCATRAZ_CTL_HOST_CID, .src_port = port,
			 .dst_port = ALCATRAZ_CTL_VSOCK_PORT, .len = len, .type = 1, .op = op,
			 .buf_alloc = 65536 };
	uint16_t head = g->avail[Q_TX] % NUM;

	ck_assert_int_eq(gmem_write(&g->vm->mem, TX_BUF, &h, sizeof(h)), 0);
	if (len)
		ck_assert_int_eq(gmem_write(&g->vm->mem, TX_BUF + sizeof(h), payload, len), 0);
	put_desc(g, Q_TX, head, TX_BUF, (uint32_t)sizeof(h) + len, 0);
	make_avail(g, Q_TX, head);
	notify(g, Q_TX);
}

static void send_rec(struct gst *g, uint32_t type, const void *payload, uint32_t len)
{
	uint8_t rec[ALCATRAZ_CTL_HDR_SIZE + 64];

	ck_assert_uint_le(len, 64);
	alcatraz_ctl_put_hdr(rec, type, len);
	memcpy(rec + ALCATRAZ_CTL_HDR_SIZE, payload, len);
	send_pkt(g, g->cid, g->port, OP_RW, rec, ALCATRAZ_CTL_HDR_SIZE + len);
}

static void send_event(struct gst *g, uint32_t ev, uint32_t feats)
{
	uint8_t p[ALCATRAZ_CTL_EVENT_LEN] = { 0 };

	alcatraz_ctl_put_le32(p, ev);
	alcatraz_ctl_put_le32(p + 4, feats);
	send_rec(g, ALCATRAZ_CTL_EVENT, p, sizeof(p));
}

static void send_ack(struct gst *g, uint64_t id)
{
	uint8_t p[ALCATRAZ_CTL_SESSION_LEN];

	alcatraz_ctl_put_le64(p, id);
	send_rec(g, ALCATRAZ_CTL_SESSION_ACK, p, sizeof(p));
}

/* Everything the device put in the receive queue since the last look; the
 * buffers go back to the ring. */
static void drain(struct gst *g, struct rx *r)
{
	uint32_t id, len;

	memset(r, 0, sizeof(*r));
	while (next_used(g, Q_RX, &id, &len)) {
		struct hdr h;
		uint64_t at = RX_BUF + BUF_LEN * id;

		ck_assert_uint_lt(id, NUM);
		ck_assert_int_eq(gmem_read(&g->vm->mem, at, &h, sizeof(h)), 0);
		ck_assert_uint_lt(r->nops, 64);
		r->dst_cid[r->nops] = h.dst_cid;
		r->op[r->nops++] = h.op;
		ck_assert_uint_le(r->len + h.len, sizeof(r->data));
		if (h.len)
			ck_assert_int_eq(gmem_read(&g->vm->mem, at + sizeof(h), r->data + r->len,
						   h.len), 0);
		r->len += h.len;
		make_avail(g, Q_RX, (uint16_t)id);
	}
}

/* A booted VM whose init connected, took the command, started it and takes
 * sessions when feats says so: the channel at rest. */
static struct gst booted_at_rest(uint32_t feats)
{
	struct gst g = boot_vm();
	struct rx r;

	bring_up(&g);
	send_pkt(&g, g.cid, g.port, OP_REQUEST, NULL, 0);
	send_event(&g, ALCATRAZ_CTL_EV_INIT_START, feats);
	send_event(&g, ALCATRAZ_CTL_EV_CMD_START, 0);
	drain(&g, &r);
	ck_assert_uint_eq(r.op[0], OP_RESPONSE);
	ck_assert_uint_eq(alcatraz_ctl_get_le32(r.data + 4), ALCATRAZ_CTL_ARG);
	ck_assert(!g.vm->ended);
	return g;
}

static int save_dev(struct gst *g, uint8_t *buf, const char **why)
{
	int len;

	pthread_mutex_lock(&g->d->lock);
	len = snap_virtio_save(g->d, buf, why);
	pthread_mutex_unlock(&g->d->lock);
	return len;
}

/* A section (possibly edited) applied to a new VM with the source's RAM
 * (as the memory file would give it); its guest driver goes on from the
 * source's ring indices. */
static int restore_from(const struct gst *src, const uint8_t *sec, size_t len, struct gst *out)
{
	static uint8_t ram[MEM];
	struct snap_virtio s;
	const char *why = NULL;
	int ret;

	*out = boot_vm();
	memcpy(out->avail, src->avail, sizeof(out->avail));
	memcpy(out->seen, src->seen, sizeof(out->seen));
	out->cid = src->cid;
	ck_assert_int_eq(gmem_read(&src->vm->mem, 0, ram, MEM), 0);
	ck_assert_int_eq(gmem_write(&out->vm->mem, 0, ram, MEM), 0);
	ret = snap_virtio_parse(sec, len, &s, &why);
	if (ret)
		return ret;
	pthread_mutex_lock(&out->d->lock);
	ret = snap_virtio_apply(out->d, &s, &why);
	pthread_mutex_unlock(&out->d->lock);
	return ret;
}

static void clone_of(const struct gst *src, struct gst *out)
{
	uint8_t sec[SNAP_VIRTIO_MAX];
	const char *why = NULL;
	int len = save_dev((struct gst *)src, sec, &why);

	ck_assert_msg(len > 0, "save: %s", why ? why : "?");
	ck_assert_int_eq(restore_from(src, sec, (size_t)len, out), 0);
}

/* The clone's guest takes the transport reset (its kernel reads the new
 * CID) and connects again from a new port: the host's SESSION comes first,
 * then RESEED. Returns the session id. */
static uint64_t reconnect(struct gst *g)
{
	uint32_t id, len, ev;
	uint32_t gen = rd(g, R_CONFIG_GEN);
	struct rx r;
	uint64_t session;

	notify(g, Q_EVENT);
	ck_assert(next_used(g, Q_EVENT, &id, &len));
	ck_assert_uint_eq(id, 0);
	ck_assert_uint_eq(len, 4);
	ck_assert_int_eq(gmem_read(&g->vm->mem, EV_BUF, &ev, 4), 0);
	ck_assert_uint_eq(ev, 0); /* VIRTIO_VSOCK_EVENT_TRANSPORT_RESET */
	ck_assert_uint_ne(rd(g, R_CONFIG_GEN), gen);
	make_avail(g, Q_EVENT, 0); /* the driver posts the buffer again */
	g->cid = config_cid(g);
	g->port = NEW_PORT;
	send_pkt(g, g->cid, g->port, OP_REQUEST, NULL, 0);
	drain(g, &r);
	ck_assert_uint_eq(r.op[0], OP_RESPONSE);
	ck_assert_uint_eq(r.dst_cid[0], g->cid);
	ck_assert_uint_eq(r.len, 2 * ALCATRAZ_CTL_HDR_SIZE + ALCATRAZ_CTL_SESSION_LEN +
					  ALCATRAZ_CTL_RESEED_LEN);
	ck_assert_uint_eq(alcatraz_ctl_get_le32(r.data + 4), ALCATRAZ_CTL_SESSION);
	ck_assert_uint_eq(alcatraz_ctl_get_le32(r.data + 8), ALCATRAZ_CTL_SESSION_LEN);
	session = alcatraz_ctl_get_le64(r.data + ALCATRAZ_CTL_HDR_SIZE);
	ck_assert_uint_ne(session, 0);
	ck_assert_uint_eq(alcatraz_ctl_get_le32(r.data + 24), ALCATRAZ_CTL_RESEED);
	return session;
}

static void assert_proto_error(struct gst *g)
{
	ck_assert(g->vm->ended);
	ck_assert_int_eq(g->vm->result.kind, ALCATRAZ_EXIT_ERROR);
	ck_assert_int_eq(g->vm->result.error, -EPROTO);
}

static void free_all(struct gst *a, struct gst *b)
{
	fake_vm_free(a->vm);
	if (b)
		fake_vm_free(b->vm);
}

START_TEST(clones_get_new_cids_and_sessions)
{
	struct gst snap = booted_at_rest(FEATS), c1, c2;
	uint8_t st[ALCATRAZ_CTL_STATUS_LEN] = { 0 };
	uint64_t s1, s2;
	struct rx r;

	ck_assert_uint_eq(config_cid(&snap), BOOT_CID);
	clone_of(&snap, &c1);
	clone_of(&snap, &c2);
	for (struct gst *c = &c1; c; c = c == &c1 ? &c2 : NULL) {
		uint64_t cid = config_cid(c);

		ck_assert_uint_gt(cid, 2);
		ck_assert_uint_lt(cid, 0xffffffffull);
		ck_assert_uint_ne(cid, BOOT_CID);
	}
	ck_assert_uint_ne(config_cid(&c1), config_cid(&c2));
	s1 = reconnect(&c1);
	s2 = reconnect(&c2);
	ck_assert_uint_ne(s1, s2);
	/* After the ACK the channel is the command's again. */
	send_ack(&c1, s1);
	ck_assert(!c1.vm->ended);
	alcatraz_ctl_put_le32(st, ALCATRAZ_CTL_ST_EXITED);
	alcatraz_ctl_put_le32(st + 4, 5);
	send_rec(&c1, ALCATRAZ_CTL_STATUS, st, sizeof(st));
	ck_assert(c1.vm->ended);
	ck_assert_int_eq(c1.vm->result.kind, ALCATRAZ_EXIT_STATUS);
	ck_assert_int_eq(c1.vm->result.status, 5);
	/* One new connection only. */
	send_pkt(&c2, c2.cid, NEW_PORT + 1, OP_REQUEST, NULL, 0);
	drain(&c2, &r);
	ck_assert_uint_eq(r.nops, 1);
	ck_assert_uint_eq(r.op[0], OP_RST);
	free_all(&snap, &c1);
	fake_vm_free(c2.vm);
}
END_TEST

START_TEST(old_connection_not_taken)
{
	struct gst snap = booted_at_rest(FEATS), c;
	uint8_t st[ALCATRAZ_CTL_STATUS_LEN] = { 0 };
	uint8_t rec[ALCATRAZ_CTL_HDR_SIZE + ALCATRAZ_CTL_STATUS_LEN];
	struct rx r;

	clone_of(&snap, &c);
	alcatraz_ctl_put_le32(st, ALCATRAZ_CTL_ST_EXITED);
	alcatraz_ctl_put_hdr(rec, ALCATRAZ_CTL_STATUS, sizeof(st));
	memcpy(rec + ALCATRAZ_CTL_HDR_SIZE, st, sizeof(st));
	/* From the snapshot's CID and port: not addressed to anyone now. */
	send_pkt(&c, BOOT_CID, GUEST_PORT, OP_RW, rec, sizeof(rec));
	drain(&c, &r);
	ck_assert_uint_eq(r.nops, 0);
	ck_assert(!c.vm->ended);
	/* The reset went out; the old port from the new CID is refused. */
	notify(&c, Q_EVENT);
	send_pkt(&c, config_cid(&c), GUEST_PORT, OP_RW, rec, sizeof(rec));
	drain(&c, &r);
	ck_assert_uint_eq(r.nops, 1);
	ck_assert_uint_eq(r.op[0], OP_RST);
	ck_assert(!c.vm->ended);
	/* Nor is the host's data sent on it: nothing before a connection. */
	ck_assert(control_has_output(c.vm));
	free_all(&snap, &c);
}
END_TEST

/* The guest's records before its SESSION_ACK, wrong ACKs, a second ACK. */
enum bad_ack { BEFORE_ACK, ACK_ZERO, ACK_OTHER, ACK_TWICE, ACK_REPLAYED, N_BAD_ACK };

START_TEST(bad_acks_are_protocol_errors)
{
	struct gst snap = booted_at_rest(FEATS), c, cc;
	uint64_t s = 0;

	clone_of(&snap, &c);
	s = reconnect(&c);
	switch (_i) {
	case BEFORE_ACK:
		send_event(&c, ALCATRAZ_CTL_EV_CMD_START, 0);
		break;
	case ACK_ZERO:
		send_ack(&c, 0);
		break;
	case ACK_OTHER:
		send_ack(&c, s ^ 1);
		break;
	case ACK_TWICE:
		send_ack(&c, s);
		ck_assert(!c.vm->ended);
		send_ack(&c, s);
		break;
	case ACK_REPLAYED:
		/* A clone of this clone: the guest answers with the session
		 * its snapshot had. */
		send_ack(&c, s);
		clone_of(&c, &cc);
		ck_assert_uint_ne(config_cid(&cc), c.cid);
		ck_assert_uint_ne(reconnect(&cc), s);
		send_ack(&cc, s);
		assert_proto_error(&cc);
		fake_vm_free(cc.vm);
		free_all(&snap, &c);
		return;
	}
	assert_proto_error(&c);
	free_all(&snap, &c);
}
END_TEST

START_TEST(no_snapshot_while_reconnecting)
{
	struct gst snap = booted_at_rest(FEATS), c;
	uint8_t sec[SNAP_VIRTIO_MAX];
	const char *why = NULL;
	uint64_t s;

	clone_of(&snap, &c);
	ck_assert_int_eq(save_dev(&c, sec, &why), -EBUSY);
	s = reconnect(&c);
	why = NULL;
	ck_assert_int_eq(save_dev(&c, sec, &why), -EBUSY); /* no ACK yet */
	ck_assert_ptr_nonnull(why);
	send_ack(&c, s);
	why = NULL;
	ck_assert_int_gt(save_dev(&c, sec, &why), 0);
	free_all(&snap, &c);
}
END_TEST

/* An init without sessions keeps the snapshot's connection and CID: its
 * first record is RESEED, no reset event is sent. */
START_TEST(init_without_sessions_goes_on)
{
	struct gst snap = booted_at_rest(ALCATRAZ_CTL_FEAT_EXEC | ALCATRAZ_CTL_FEAT_RESEED), c;
	uint8_t st[ALCATRAZ_CTL_STATUS_LEN] = { 0 };
	uint32_t id, len;
	struct rx r;

	clone_of(&snap, &c);
	ck_assert_uint_eq(config_cid(&c), BOOT_CID);
	notify(&c, Q_EVENT);
	ck_assert(!next_used(&c, Q_EVENT, &id, &len));
	drain(&c, &r);
	ck_assert_uint_eq(alcatraz_ctl_get_le32(r.data + 4), ALCATRAZ_CTL_RESEED);
	/* The snapshot's connection carries the command's status. */
	alcatraz_ctl_put_le32(st, ALCATRAZ_CTL_ST_EXITED);
	alcatraz_ctl_put_le32(st + 4, 3);
	send_rec(&c, ALCATRAZ_CTL_STATUS, st, sizeof(st));
	ck_assert_int_eq(c.vm->result.kind, ALCATRAZ_EXIT_STATUS);
	ck_assert_int_eq(c.vm->result.status, 3);
	free_all(&snap, &c);
}
END_TEST

/* Hostile state: the CID, the session, the lengths. */
START_TEST(bad_state_refused)
{
	struct gst snap = booted_at_rest(FEATS), c;
	uint8_t sec[SNAP_VIRTIO_MAX], bad[SNAP_VIRTIO_MAX];
	const char *why = NULL;
	int len = save_dev(&snap, sec, &why);
	size_t own = (size_t)len - VS_LEN - CTL_LEN;
	static const uint64_t cids[] = { 0, 1, 2, 0xffffffffull, 0x100000003ull };

	ck_assert_int_gt(len, 0);
	ck_assert_uint_eq(alcatraz_ctl_get_le32(sec + OFF_OWN_LEN), VS_LEN + CTL_LEN);
	for (unsigned int i = 0; i < sizeof(cids) / sizeof(cids[0]); i++) {
		memcpy(bad, sec, (size_t)len);
		alcatraz_ctl_put_le64(bad + own + VS_CID, cids[i]);
		ck_assert_int_eq(restore_from(&snap, bad, (size_t)len, &c), -EINVAL);
		ck_assert(!control_has_output(c.vm));
		fake_vm_free(c.vm);
	}
	/* A session id where init takes no sessions. */
	memcpy(bad, sec, (size_t)len);
	alcatraz_ctl_put_le32(bad + own + VS_LEN,
			      alcatraz_ctl_get_le32(bad + own + VS_LEN) & ~512u);
	alcatraz_ctl_put_le64(bad + own + CTL_SESSION, 77);
	ck_assert_int_eq(restore_from(&snap, bad, (size_t)len, &c), -EINVAL);
	fake_vm_free(c.vm);
	/* The state one byte short or long (the lengths agreeing). */
	for (int d = -1; d <= 1; d += 2) {
		memcpy(bad, sec, (size_t)len);
		alcatraz_ctl_put_le32(bad + OFF_OWN_LEN, (uint32_t)(VS_LEN + CTL_LEN + d));
		ck_assert_int_eq(restore_from(&snap, bad, (size_t)(len + d), &c), -EINVAL);
		fake_vm_free(c.vm);
	}
	fake_vm_free(snap.vm);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("snapshot_session");
	TCase *tc = tcase_create("snapshot_session");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, clones_get_new_cids_and_sessions);
	tcase_add_test(tc, old_connection_not_taken);
	tcase_add_loop_test(tc, bad_acks_are_protocol_errors, 0, N_BAD_ACK);
	tcase_add_test(tc, no_snapshot_while_reconnecting);
	tcase_add_test(tc, init_without_sessions_goes_on);
	tcase_add_test(tc, bad_state_refused);
	suite_add_tcase(su, tc);
	return run_suite(su);
}
