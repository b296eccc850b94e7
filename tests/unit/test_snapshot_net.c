// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Snapshots of VMs with a network: NET_IDENTITY's decoding (hostile input
 * to init), and virtio-net's own state: a clone gets a new MAC in its
 * config space, and the clone's control channel tells an init that takes it
 * after RESEED, whichever device is restored first.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check_main.h"
#include "control.h"
#include "fake_vm.h"
#include "virtio/virtio.h"
#include "vmm.h"
#include "vstate/snapshot_virtio.h"
#include "../../src/guest/control_proto.h"

#define MEM (1 << 20)
#define NUM 8
#define RINGS 0x1000
#define OFF_OWN_LEN 52
#define NET_OWN 8
#define VS_LEN 36
#define VS_CID 28
#define CTL_LEN 24
/* control.c's snapshot flags: init, END sent, command started, stdin end
 * (seen, sent), exec channel ready, RESEED, NET_IDENTITY. */
#define CTL_AT_REST (1u | 2u | 4u | 8u | 16u | 32u)
#define CTL_RESEED 128u
#define CTL_NET_IDENTITY 1024u

static const uint8_t boot_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

static void put32(uint8_t *p, uint32_t v)
{
	alcatraz_ctl_put_le32(p, v);
}

/* ------------------------------------------------------ the record */

START_TEST(identity_decode)
{
	uint8_t p[16] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0, 0 }, mac[6] = { 0 };

	ck_assert_int_eq(alcatraz_ctl_net_identity_decode(p, 8, mac), 0);
	ck_assert_mem_eq(mac, p, 6);
	/* A globally administered unicast MAC is a MAC too. */
	p[0] = 0x52;
	ck_assert_int_eq(alcatraz_ctl_net_identity_decode(p, 8, mac), 0);
	/* Lengths other than 8. */
	for (uint32_t len = 0; len < sizeof(p); len++)
		if (len != 8)
			ck_assert_int_eq(alcatraz_ctl_net_identity_decode(p, len, mac), -1);
	ck_assert_int_eq(alcatraz_ctl_net_identity_decode(p, 0xffffffffu, mac), -1);
	/* Padding that is not zero. */
	p[6] = 1;
	ck_assert_int_eq(alcatraz_ctl_net_identity_decode(p, 8, mac), -1);
	p[6] = 0;
	p[7] = 0x80;
	ck_assert_int_eq(alcatraz_ctl_net_identity_decode(p, 8, mac), -1);
	p[7] = 0;
	/* Multicast (the group bit), broadcast, all zeros. */
	memcpy(p, (uint8_t[]){ 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 }, 6);
	ck_assert_int_eq(alcatraz_ctl_net_identity_decode(p, 8, mac), -1);
	memcpy(p, (uint8_t[]){ 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 }, 6);
	ck_assert_int_eq(alcatraz_ctl_net_identity_decode(p, 8, mac), -1);
	memset(p, 0xff, 6);
	ck_assert_int_eq(alcatraz_ctl_net_identity_decode(p, 8, mac), -1);
	memset(p, 0, 6);
	memset(mac, 0xaa, sizeof(mac));
	ck_assert_int_eq(alcatraz_ctl_net_identity_decode(p, 8, mac), -1);
	/* A refused record leaves the output alone. */
	for (int i = 0; i < 6; i++)
		ck_assert_uint_eq(mac[i], 0xaa);
}
END_TEST

START_TEST(identity_header)
{
	uint8_t h[ALCATRAZ_CTL_HDR_SIZE];
	uint32_t type, len;

	alcatraz_ctl_put_hdr(h, ALCATRAZ_CTL_NET_IDENTITY, 8);
	ck_assert_int_eq(alcatraz_ctl_check_hdr(h, 0, &type, &len), 0);
	ck_assert_uint_eq(type, ALCATRAZ_CTL_NET_IDENTITY);
	/* Only from the host, only 8 bytes. */
	ck_assert_int_eq(alcatraz_ctl_check_hdr(h, 1, &type, &len), -1);
	alcatraz_ctl_put_hdr(h, ALCATRAZ_CTL_NET_IDENTITY, 6);
	ck_assert_int_eq(alcatraz_ctl_check_hdr(h, 0, &type, &len), -1);
	alcatraz_ctl_put_hdr(h, ALCATRAZ_CTL_NET_IDENTITY, 9);
	ck_assert_int_eq(alcatraz_ctl_check_hdr(h, 0, &type, &len), -1);
}
END_TEST

/* ------------------------------------------------------ the device */

static char *argv_true[] = { "true", NULL };
static int peers[4] = { -1, -1, -1, -1 };

static void bring_up(struct virtio_dev *d)
{
	ck_assert(fake_virtio_bring_up(d, NUM, RINGS));
}

/* A VM with a control channel, vsock and virtio-net on a socketpair;
 * which = 0 or 1 picks its pair. */
static struct vm *net_vm(int which)
{
	struct vm *vm = fake_vm_new(MEM);

	vm->cfg.argv = argv_true;
	vm->cfg.stdin_fd = vm->cfg.stdout_fd = vm->cfg.stderr_fd = -1;
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, peers + 2 * which), 0);
	vm->cfg.net_backend = NET_BACKEND_STREAM;
	vm->cfg.net_fd = peers[2 * which];
	memcpy(vm->cfg.net_mac, boot_mac, sizeof(boot_mac));
	ck_assert_int_eq(control_new(vm), 0);
	ck_assert_int_eq(virtio_vsock_init(vm), 0);
	ck_assert_int_eq(virtio_net_init(vm), 0);
	return vm;
}

static void free_vm(struct vm *vm, int which)
{
	fake_vm_free(vm);
	close(peers[2 * which + 1]);
}

static struct virtio_dev *net_dev(struct vm *vm)
{
	for (unsigned int i = 0; i < vm->nr_virtio; i++)
		if (vm->virtio[i]->device_id == SNAP_VIRTIO_ID_NET)
			return vm->virtio[i];
	ck_abort_msg("no virtio-net");
	return NULL;
}

static int save(struct virtio_dev *d, uint8_t *buf)
{
	const char *why = NULL;
	int len;

	pthread_mutex_lock(&d->lock);
	len = snap_virtio_save(d, buf, &why);
	pthread_mutex_unlock(&d->lock);
	ck_assert_msg(len > 0, "save: %s", why);
	return len;
}

/* Saves d, puts own (own_len bytes) in place of its own state, applies. */
static int apply_own(struct virtio_dev *d, const uint8_t *own, uint32_t own_len)
{
	uint8_t buf[SNAP_VIRTIO_MAX];
	uint32_t at = SNAP_VIRTIO_HDR + d->nr_queues * SNAP_VIRTIO_QUEUE;
	struct snap_virtio s;
	const char *why = NULL;
	int ret;

	save(d, buf);
	memcpy(buf + at, own, own_len);
	put32(buf + OFF_OWN_LEN, own_len);
	ck_assert_int_eq(snap_virtio_parse(buf, at + own_len, &s, &why), 0);
	pthread_mutex_lock(&d->lock);
	ret = snap_virtio_apply(d, &s, &why);
	pthread_mutex_unlock(&d->lock);
	return ret;
}

/* The restored channel: connected, at rest, init's flags as given. */
static void restore_vsock(struct vm *vm, uint32_t flags)
{
	uint8_t own[VS_LEN + CTL_LEN] = { 0 };

	put32(own, 3);
	put32(own + VS_CID, 3);
	put32(own + VS_LEN, flags);
	put32(own + VS_LEN + 4, 2);
	ck_assert_int_eq(apply_own(vm->vsock_dev, own, sizeof(own)), 0);
}

/* The records the channel queued, by type; the last NET_IDENTITY's
 * payload in mac. Returns the count of NET_IDENTITY records. */
static int take_records(struct vm *vm, uint32_t *types, int max, int *n, uint8_t *mac)
{
	static uint8_t out[1 << 16];
	size_t len = control_take(vm, out, sizeof(out)), off = 0;
	int ids = 0;

	*n = 0;
	while (off + ALCATRAZ_CTL_HDR_SIZE <= len) {
		uint32_t type = alcatraz_ctl_get_le32(out + off + 4);
		uint32_t l = alcatraz_ctl_get_le32(out + off + 8);

		ck_assert_uint_le(off + ALCATRAZ_CTL_HDR_SIZE + l, len);
		if (*n < max)
			types[(*n)++] = type;
		if (type == ALCATRAZ_CTL_NET_IDENTITY) {
			ck_assert_int_eq(alcatraz_ctl_net_identity_decode(
						 out + off + ALCATRAZ_CTL_HDR_SIZE, l, mac), 0);
			ids++;
		}
		off += ALCATRAZ_CTL_HDR_SIZE + l;
	}
	ck_assert_uint_eq(off, len);
	return ids;
}

/* The snapshot's own state of a booted, live virtio-net: its MAC. */
START_TEST(net_saves_its_mac)
{
	struct vm *vm = net_vm(0);
	struct virtio_dev *d = net_dev(vm);
	uint8_t buf[SNAP_VIRTIO_MAX];
	int len;

	bring_up(d);
	len = save(d, buf);
	ck_assert_int_eq(len, SNAP_VIRTIO_HDR + 2 * SNAP_VIRTIO_QUEUE + NET_OWN);
	ck_assert_mem_eq(buf + SNAP_VIRTIO_HDR + 2 * SNAP_VIRTIO_QUEUE, boot_mac, 6);
	ck_assert_uint_eq(buf[len - 2], 0);
	ck_assert_uint_eq(buf[len - 1], 0);
	free_vm(vm, 0);
}
END_TEST

/* Each clone: a new locally administered unicast MAC in its config, not
 * the snapshot's nor the other clone's, and NET_IDENTITY with it after
 * RESEED; net restored after vsock (the VMM's order) or before. */
START_TEST(clones_get_new_macs)
{
	uint8_t own[NET_OWN] = { 0 }, mac[2][6];
	uint32_t types[8];
	int n;

	memcpy(own, boot_mac, 6);
	for (int i = 0; i < 2; i++) {
		struct vm *vm = net_vm(i);
		struct virtio_dev *d = net_dev(vm);

		bring_up(vm->vsock_dev);
		bring_up(d);
		if (i == 0)
			restore_vsock(vm, CTL_AT_REST | CTL_RESEED | CTL_NET_IDENTITY);
		ck_assert_int_eq(apply_own(d, own, sizeof(own)), 0);
		if (i == 1)
			restore_vsock(vm, CTL_AT_REST | CTL_RESEED | CTL_NET_IDENTITY);
		ck_assert(memcmp(d->config, boot_mac, 6) != 0);
		ck_assert_uint_eq(d->config[0] & 3, 2); /* local, unicast */
		ck_assert_int_eq(take_records(vm, types, 8, &n, mac[i]), 1);
		ck_assert_int_eq(n, 2);
		ck_assert_uint_eq(types[0], ALCATRAZ_CTL_RESEED);
		ck_assert_uint_eq(types[1], ALCATRAZ_CTL_NET_IDENTITY);
		ck_assert_mem_eq(mac[i], d->config, 6);
		free_vm(vm, i);
	}
	ck_assert(memcmp(mac[0], mac[1], 6) != 0);
}
END_TEST

/* An init that does not take NET_IDENTITY gets none (the device still has
 * its new MAC; the backend learns whichever the guest uses). */
START_TEST(old_init_gets_no_identity)
{
	struct vm *vm = net_vm(0);
	struct virtio_dev *d = net_dev(vm);
	uint8_t own[NET_OWN] = { 0 }, mac[6];
	uint32_t types[8];
	int n;

	memcpy(own, boot_mac, 6);
	bring_up(vm->vsock_dev);
	bring_up(d);
	restore_vsock(vm, CTL_AT_REST | CTL_RESEED);
	ck_assert_int_eq(apply_own(d, own, sizeof(own)), 0);
	ck_assert_int_eq(take_records(vm, types, 8, &n, mac), 0);
	ck_assert_int_eq(n, 1);
	ck_assert_uint_eq(types[0], ALCATRAZ_CTL_RESEED);
	free_vm(vm, 0);
}
END_TEST

/* A bad state file's MAC, padding or length: refused, device unchanged,
 * nothing queued. */
START_TEST(bad_net_state_refused)
{
	static const uint8_t bad[][NET_OWN] = {
		{ 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01, 0, 0 }, /* multicast */
		{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0 }, /* broadcast */
		{ 0 },                                        /* zero */
		{ 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0, 1 }, /* padding */
	};
	struct vm *vm = net_vm(0);
	struct virtio_dev *d = net_dev(vm);
	uint8_t own[16] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

	bring_up(vm->vsock_dev);
	bring_up(d);
	restore_vsock(vm, CTL_AT_REST | CTL_NET_IDENTITY);
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(apply_own(d, bad[i], NET_OWN), -EINVAL);
		ck_assert_mem_eq(d->config, boot_mac, 6);
	}
	ck_assert_int_eq(apply_own(d, own, 6), -EINVAL);
	ck_assert_int_eq(apply_own(d, own, 9), -EINVAL);
	ck_assert_int_eq(apply_own(d, own, 0), -EINVAL);
	ck_assert_mem_eq(d->config, boot_mac, 6);
	ck_assert(!control_has_output(vm));
	free_vm(vm, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("snapshot_net");
	TCase *tc = tcase_create("snapshot_net");

	tcase_set_timeout(tc, 20);

	tcase_add_test(tc, identity_decode);
	tcase_add_test(tc, identity_header);
	tcase_add_test(tc, net_saves_its_mac);
	tcase_add_test(tc, clones_get_new_macs);
	tcase_add_test(tc, old_init_gets_no_identity);
	tcase_add_test(tc, bad_net_state_refused);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
