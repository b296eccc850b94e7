// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Description: the vhost-user frontend and the virtio-fs device against a
 * fake backend on the other end of a socketpair: the handshake and memory
 * table (guest RAM really shared through the memfd), the rings handed over
 * at DRIVER_OK with kicks and interrupts relayed, and a hostile backend:
 * malformed replies, one that never answers, one that refuses, one that
 * attaches descriptors to replies, one that closes during the handshake or
 * mid-run (the VM ends with an error naming the volume).
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check_main.h"
#include "evloop.h"
#include "fake_vm.h"
#include "vhost_user.h"
#include "virtio/virtio.h"
#include "vmm.h"

#define MEM (1 << 20)
#define NUM 16
#define Q_DESC(q) (0x1000u + 0x3000u * (q))
#define Q_AVAIL(q) (0x2000u + 0x3000u * (q))
#define Q_USED(q) (0x3000u + 0x3000u * (q))
#define MARK_GPA 0x8000
#define F_VERSION_1 (1ull << 32)
#define F_PROTOCOL (1ull << 30)
#define PF_REPLY_ACK (1ull << 3)
#define PF_MQ (1ull << 0)
#define REG_QUEUE_NOTIFY 0x050
#define REG_ISR 0x060
#define REG_CONFIG 0x100

enum mode {
	GOOD,
	BAD_SIZE,      /* GET_FEATURES answered with 4 bytes */
	BAD_REQUEST,   /* ... as if it answered another request */
	NO_REPLY_FLAG, /* ... without the reply flag */
	BAD_VERSION,   /* ... with version 2 */
	HUGE_SIZE,     /* ... announcing a 4 GiB payload */
	CLOSE_EARLY,   /* closes after SET_OWNER */
	SILENT,        /* reads everything, answers nothing */
	NACK_MEM,      /* REPLY_ACK 1 for SET_MEM_TABLE */
	FD_IN_REPLY,   /* attaches descriptors to GET_FEATURES' reply */
	CLOSE_ON_KICK, /* dies when the guest first kicks */
};

struct backend {
	int fd;
	enum mode mode;
	pthread_t thread;
	pthread_mutex_t lock;
	uint32_t reqs[64], flags[64];
	unsigned int n;
	uint64_t protocol_acked, features_acked;
	uint64_t mem_gpa, mem_size, mem_uaddr;
	char mark[32];       /* read through its own mapping of the memfd */
	struct {
		uint32_t num;
		uint64_t desc, used, avail;
		int kick, call;
		bool enabled, kicked;
	} vr[2];
	bool done;
};

static struct backend be;
static int front_fd;

static void lock(void)
{
	pthread_mutex_lock(&be.lock);
}

static void unlock(void)
{
	pthread_mutex_unlock(&be.lock);
}

static void send_reply(uint32_t req, const void *p, uint32_t len, bool first)
{
	uint8_t buf[128];
	uint32_t hdr[3] = { req, VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY, len };
	int fds[2] = { -1, -1 };

	if (first && be.mode == BAD_SIZE)
		hdr[2] = len - 4;
	if (first && be.mode == BAD_REQUEST)
		hdr[0] = req + 1;
	if (first && be.mode == NO_REPLY_FLAG)
		hdr[1] = VHOST_USER_VERSION;
	if (first && be.mode == BAD_VERSION)
		hdr[1] = 2 | VHOST_USER_FLAG_REPLY;
	if (first && be.mode == HUGE_SIZE)
		hdr[2] = 0xffffffffu;
	memcpy(buf, hdr, 12);
	memcpy(buf + 12, p, len);
	struct iovec iov = { buf, 12 + len };
	union {
		char b[CMSG_SPACE(sizeof(fds))];
		struct cmsghdr a;
	} ctl;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (first && be.mode == FD_IN_REPLY) {
		fds[0] = dup(0);
		fds[1] = dup(0);
		mh.msg_control = ctl.b;
		mh.msg_controllen = sizeof(ctl.b);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(fds));
		memcpy(CMSG_DATA(c), fds, sizeof(fds));
	}
	(void)!sendmsg(be.fd, &mh, MSG_NOSIGNAL);
	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* One message: header with its descriptor, then the payload. */
static int recv_msg(uint32_t *hdr, uint8_t *payload, int *fd)
{
	union {
		char b[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr a;
	} ctl;
	struct iovec iov = { hdr, 12 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
			     .msg_controllen = sizeof(ctl.b) };

	*fd = -1;
	if (recvmsg(be.fd, &mh, MSG_WAITALL | MSG_CMSG_CLOEXEC) != 12)
		return -1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_type == SCM_RIGHTS)
			memcpy(fd, CMSG_DATA(c), sizeof(int));
	if (hdr[2] > 64)
		return -1;
	if (hdr[2] && recv(be.fd, payload, hdr[2], MSG_WAITALL) != (ssize_t)hdr[2])
		return -1;
	return 0;
}

static void handle(uint32_t *hdr, uint8_t *p, int fd, bool *first)
{
	uint32_t req = hdr[0];
	uint64_t v = 0, ack = 0;
	uint32_t idx;

	lock();
	if (be.n < 64) {
		be.reqs[be.n] = req;
		be.flags[be.n++] = hdr[1];
	}
	unlock();
	memcpy(&idx, p, 4);
	idx &= 0xff;
	switch (req) {
	case VHOST_USER_GET_FEATURES:
		v = F_VERSION_1 | F_PROTOCOL | (1ull << 28);
		send_reply(req, &v, 8, *first);
		*first = false;
		return;
	case VHOST_USER_GET_PROTOCOL_FEATURES:
		v = PF_REPLY_ACK | PF_MQ;
		send_reply(req, &v, 8, false);
		return;
	case VHOST_USER_SET_PROTOCOL_FEATURES:
		memcpy(&be.protocol_acked, p, 8);
		break;
	case VHOST_USER_SET_FEATURES:
		memcpy(&be.features_acked, p, 8);
		break;
	case VHOST_USER_SET_MEM_TABLE: {
		uint64_t r[4];
		memcpy(r, p + 8, sizeof(r));
		be.mem_gpa = r[0];
		be.mem_size = r[1];
		be.mem_uaddr = r[2];
		void *map = fd >= 0 ? mmap(NULL, r[1], PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
				    : MAP_FAILED;
		if (map != MAP_FAILED) {
			lock();
			memcpy(be.mark, (char *)map + MARK_GPA, sizeof(be.mark) - 1);
			unlock();
			strcpy((char *)map + MARK_GPA + 64, "written by the backend");
			munmap(map, r[1]);
		}
		ack = be.mode == NACK_MEM ? 1 : 0;
		break;
	}
	case VHOST_USER_SET_VRING_NUM:
		memcpy(&be.vr[idx & 1].num, p + 4, 4);
		break;
	case VHOST_USER_SET_VRING_ADDR:
		memcpy(&be.vr[idx & 1].desc, p + 8, 8);
		memcpy(&be.vr[idx & 1].used, p + 16, 8);
		memcpy(&be.vr[idx & 1].avail, p + 24, 8);
		break;
	case VHOST_USER_SET_VRING_KICK:
		lock();
		be.vr[idx & 1].kick = fd;
		unlock();
		fd = -1;
		break;
	case VHOST_USER_SET_VRING_CALL:
		be.vr[idx & 1].call = fd;
		fd = -1;
		break;
	case VHOST_USER_SET_VRING_ENABLE:
		lock();
		be.vr[idx & 1].enabled = p[4] == 1;
		unlock();
		break;
	case VHOST_USER_GET_VRING_BASE: {
		uint32_t st[2] = { idx, 0 };
		send_reply(req, st, 8, false);
		return;
	}
	default:
		break;
	}
	if (fd >= 0)
		close(fd);
	if (hdr[1] & VHOST_USER_FLAG_NEED_REPLY)
		send_reply(req, &ack, 8, false);
}

/* A guest kick reached the backend: answer with an interrupt, or die. */
static bool handle_kick(int q)
{
	uint64_t v;

	(void)!read(be.vr[q].kick, &v, 8);
	lock();
	be.vr[q].kicked = true;
	unlock();
	if (be.mode == CLOSE_ON_KICK)
		return false;
	v = 1;
	(void)!write(be.vr[q].call, &v, 8);
	return true;
}

static void *backend_main(void *arg)
{
	bool first = true;

	for (;;) {
		struct pollfd pfd[3] = { { .fd = be.fd, .events = POLLIN } };
		int n = 1;
		lock();
		for (int q = 0; q < 2; q++)
			if (be.vr[q].kick >= 0)
				pfd[n++] = (struct pollfd){ .fd = be.vr[q].kick, .events = POLLIN };
		unlock();
		if (poll(pfd, n, -1) < 0)
			break;
		bool go_on = true;
		for (int k = 1; k < n; k++)
			if (pfd[k].revents & POLLIN)
				go_on &= handle_kick(pfd[k].fd == be.vr[0].kick ? 0 : 1);
		if (!go_on)
			break;
		if (!pfd[0].revents)
			continue;
		uint32_t hdr[3];
		uint8_t p[64];
		int fd;
		if (recv_msg(hdr, p, &fd))
			break;
		if (be.mode == SILENT) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		if (be.mode == CLOSE_EARLY && hdr[0] == VHOST_USER_SET_OWNER)
			break;
		handle(hdr, p, fd, &first);
	}
	close(be.fd);
	lock();
	be.done = true;
	unlock();
	return NULL;
}

static void start_backend(enum mode mode)
{
	int sv[2];

	memset(&be, 0, sizeof(be));
	pthread_mutex_init(&be.lock, NULL);
	for (int q = 0; q < 2; q++)
		be.vr[q].kick = be.vr[q].call = -1;
	be.mode = mode;
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	be.fd = sv[1];
	front_fd = sv[0];
	ck_assert_int_eq(pthread_create(&be.thread, NULL, backend_main, NULL), 0);
}

static void stop_backend(void)
{
	pthread_join(be.thread, NULL);
	for (int q = 0; q < 2; q++) {
		if (be.vr[q].kick >= 0)
			close(be.vr[q].kick);
		if (be.vr[q].call >= 0)
			close(be.vr[q].call);
	}
	pthread_mutex_destroy(&be.lock);
}

static uint32_t nth_req(unsigned int i)
{
	uint32_t r;

	lock();
	r = i < be.n ? be.reqs[i] : 0;
	unlock();
	return r;
}

/* Waits up to 5 s for cond() under the backend's lock. */
static bool wait_for(bool (*cond)(void))
{
	for (int i = 0; i < 500; i++) {
		lock();
		bool ok = cond();
		unlock();
		if (ok)
			return true;
		usleep(10000);
	}
	return false;
}

START_TEST(handshake_and_shared_memory)
{
	struct guest_mem m;
	struct vhost_user u;
	char got[32];

	ck_assert_int_eq(gmem_init(&m, MEM), 0);
	ck_assert_int_eq(gmem_write(&m, MARK_GPA, "guest page", 11), 0);
	start_backend(GOOD);
	vhost_user_init(&u, front_fd);
	ck_assert_int_eq(vhost_user_handshake(&u, F_VERSION_1), 0);
	ck_assert(u.protocol);
	/* Only REPLY_ACK is taken of what the backend offers. */
	ck_assert_uint_eq(u.protocol_features, PF_REPLY_ACK);
	ck_assert_int_eq(vhost_user_set_mem_table(&u, &m), 0);
	/* Features beyond the backend's offer are refused before sending. */
	ck_assert_int_eq(vhost_user_set_features(&u, 1ull << 40), -EINVAL);
	ck_assert_int_eq(vhost_user_set_features(&u, F_VERSION_1), 0);

	ck_assert_uint_eq(nth_req(0), VHOST_USER_SET_OWNER);
	ck_assert_uint_eq(nth_req(1), VHOST_USER_GET_FEATURES);
	ck_assert_uint_eq(nth_req(2), VHOST_USER_GET_PROTOCOL_FEATURES);
	ck_assert_uint_eq(nth_req(3), VHOST_USER_SET_PROTOCOL_FEATURES);
	ck_assert_uint_eq(nth_req(4), VHOST_USER_SET_MEM_TABLE);
	ck_assert_uint_eq(nth_req(5), VHOST_USER_SET_FEATURES);
	ck_assert_uint_eq(be.protocol_acked, PF_REPLY_ACK);
	ck_assert(be.flags[4] & VHOST_USER_FLAG_NEED_REPLY);
	ck_assert_uint_eq(be.features_acked, F_VERSION_1 | F_PROTOCOL);
	ck_assert_uint_eq(be.mem_gpa, 0);
	ck_assert_uint_eq(be.mem_size, MEM);
	ck_assert_uint_eq(be.mem_uaddr, (uint64_t)(uintptr_t)m.host);
	/* The same pages on both sides, both ways. */
	ck_assert_str_eq(be.mark, "guest page");
	ck_assert_int_eq(gmem_read(&m, MARK_GPA + 64, got, 23), 0);
	ck_assert_str_eq(got, "written by the backend");

	vhost_user_close(&u);
	stop_backend();
	gmem_fini(&m);
}
END_TEST

static const enum mode malformed[] = { BAD_SIZE, BAD_REQUEST, NO_REPLY_FLAG, BAD_VERSION,
				       HUGE_SIZE };

START_TEST(malformed_reply_breaks_the_connection)
{
	struct vhost_user u;
	uint32_t base;

	start_backend(malformed[_i]);
	vhost_user_init(&u, front_fd);
	ck_assert_int_eq(vhost_user_handshake(&u, F_VERSION_1), -EPROTO);
	/* The stream cannot be trusted any more: everything fails the same. */
	ck_assert_int_eq(vhost_user_vring_stop(&u, 0, &base), -EPROTO);
	ck_assert_str_eq(vhost_user_strerror(-EPROTO), "the backend sent a malformed reply");
	vhost_user_close(&u);
	stop_backend();
}
END_TEST

START_TEST(descriptors_in_replies_are_not_received)
{
	struct vhost_user u;
	int before = count_fds();

	start_backend(FD_IN_REPLY);
	vhost_user_init(&u, front_fd);
	ck_assert_int_eq(vhost_user_handshake(&u, F_VERSION_1), 0);
	vhost_user_close(&u);
	stop_backend();
	ck_assert_int_eq(count_fds(), before);
}
END_TEST

START_TEST(backend_that_closes)
{
	struct vhost_user u;

	start_backend(CLOSE_EARLY);
	vhost_user_init(&u, front_fd);
	ck_assert_int_eq(vhost_user_handshake(&u, F_VERSION_1), -EPIPE);
	vhost_user_close(&u);
	stop_backend();
}
END_TEST

START_TEST(backend_that_never_answers)
{
	struct vhost_user u;
	struct timespec t0, t1;

	start_backend(SILENT);
	vhost_user_init(&u, front_fd);
	u.timeout_ms = 200;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(vhost_user_handshake(&u, F_VERSION_1), -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ck_assert_int_lt(t1.tv_sec - t0.tv_sec, 3);
	vhost_user_close(&u);
	stop_backend();
}
END_TEST

START_TEST(backend_refuses_the_memory_table)
{
	struct vm *vm = fake_vm_new(MEM);
	struct vm_volume vol = { .tag = "work", .guest_path = "/work" };

	start_backend(NACK_MEM);
	vol.sock_fd = front_fd;
	ck_assert_int_eq(virtio_fs_init(vm, &vol), -EIO);
	ck_assert_int_eq(vol.sock_fd, -1);
	ck_assert_uint_eq(vm->nr_virtio, 0);
	fake_vm_free(vm);
	stop_backend();
}
END_TEST

START_TEST(bad_tags_are_refused)
{
	struct vm *vm = fake_vm_new(MEM);
	struct vm_volume vol = { .tag = "a b", .guest_path = "/x" };
	int sv[2];

	ck_assert(virtio_fs_tag_valid("work"));
	ck_assert(virtio_fs_tag_valid("123456789012345678901234567890123456"));
	ck_assert(!virtio_fs_tag_valid(""));
	ck_assert(!virtio_fs_tag_valid("a,b"));
	ck_assert(!virtio_fs_tag_valid("a/b"));
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	vol.sock_fd = sv[0];
	ck_assert_int_eq(virtio_fs_init(vm, &vol), -EINVAL);
	ck_assert_int_eq(vol.sock_fd, -1);
	/* The device closed its end, even though it refused. */
	char c;
	ck_assert_int_eq(read(sv[1], &c, 1), 0);
	close(sv[1]);
	fake_vm_free(vm);
}
END_TEST

/* What alcatraz-init reads: paths %XX-encoded, the root volume apart. */
START_TEST(volumes_on_the_command_line)
{
	struct vm *v = fake_vm_new(0);
	struct vm_volume vols[3] = {
		{ .tag = "v0", .guest_path = "/work dir;x", .readonly = false },
		{ .tag = "root", .guest_path = "/", .readonly = true },
		{ .tag = "v2", .guest_path = "/data/\xc3\xa9:%", .readonly = true },
	};
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);

	v->cfg.volumes = vols;
	v->cfg.nr_volumes = 3;
	virtio_fs_cmdline(v, f);
	fclose(f);
	ck_assert_str_eq(s, " alcatraz.volumes=v0:rw:/work%20dir%3Bx;v2:ro:/data/%C3%A9%3A%25"
			    " alcatraz.root=virtiofs:root:overlay");
	free(s);
	v->cfg.volumes = NULL;
	v->cfg.nr_volumes = 0;
	fake_vm_free(v);
}
END_TEST

/* A relative guest path or a second root is refused before any talking. */
START_TEST(bad_guest_paths_are_refused)
{
	struct vm *v = fake_vm_new(MEM);
	struct vm_volume vols[2] = {
		{ .tag = "a", .guest_path = "/", .sock_fd = -1 },
		{ .tag = "b", .guest_path = "/" },
	};
	int sv[2];

	v->cfg.volumes = vols;
	v->cfg.nr_volumes = 2;
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	vols[1].sock_fd = sv[0];
	ck_assert_int_eq(virtio_fs_init(v, &vols[1]), -EINVAL);
	vols[1].guest_path = "relative";
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv + 0), 0);
	vols[1].sock_fd = sv[0];
	ck_assert_int_eq(virtio_fs_init(v, &vols[1]), -EINVAL);
	ck_assert_uint_eq(v->nr_virtio, 0);
	v->cfg.volumes = NULL;
	v->cfg.nr_volumes = 0;
	fake_vm_free(v);
}
END_TEST

/* ---------------------------------------------------- the whole device */

static struct vm *vm;
static struct virtio_dev *d;

static void wr(uint32_t off, uint32_t v)
{
	virtio_mmio_ops.write(d, off, &v, 4);
}

static uint32_t rd(uint32_t off)
{
	uint32_t v;

	virtio_mmio_ops.read(d, off, &v, 4);
	return v;
}

static void device_up(enum mode mode)
{
	struct vm_volume vol = { .tag = "work", .guest_path = "/work" };

	vm = fake_vm_new(MEM);
	start_backend(mode);
	vol.sock_fd = front_fd;
	ck_assert_int_eq(virtio_fs_init(vm, &vol), 0);
	ck_assert_uint_eq(vm->nr_virtio, 1);
	d = vm->virtio[0];
	ck_assert_uint_eq(d->device_id, 26);
	ck_assert_int_eq(evloop_start(vm->evloop), 0);
	wr(R_STATUS, ACK);
	wr(R_STATUS, ACK | DRV);
	wr(R_DRV_FEAT_SEL, 1);
	wr(R_DRV_FEAT, 1); /* VIRTIO_F_VERSION_1 */
	wr(R_STATUS, ACK | DRV | FEAT_OK);
	for (uint32_t q = 0; q < 2; q++) {
		wr(R_QUEUE_SEL, q);
		wr(R_QUEUE_NUM, NUM);
		wr(R_DESC, Q_DESC(q));
		wr(R_DRIVER, Q_AVAIL(q));
		wr(R_DEVICE, Q_USED(q));
		wr(R_QUEUE_READY, 1);
	}
	wr(R_STATUS, ACK | DRV | FEAT_OK | DRV_OK);
	ck_assert(virtio_dev_live(d));
}

static void device_down(void)
{
	fake_vm_free(vm);
	stop_backend();
}

static bool rings_enabled(void)
{
	return be.vr[0].enabled && be.vr[1].enabled;
}

static bool queue1_kicked(void)
{
	return be.vr[1].kicked;
}

static bool vm_ended(void)
{
	return __atomic_load_n(&vm->ended, __ATOMIC_ACQUIRE);
}

START_TEST(device_hands_over_rings_and_relays_notifications)
{
	char cfg[40];

	device_up(GOOD);
	/* struct virtio_fs_config: the tag, NUL-padded, then one request queue. */
	for (unsigned int i = 0; i < sizeof(cfg); i += 4) {
		uint32_t v = rd(REG_CONFIG + i);
		memcpy(cfg + i, &v, 4);
	}
	ck_assert_str_eq(cfg, "work");
	ck_assert_uint_eq(cfg[36], 1);

	ck_assert(wait_for(rings_enabled));
	for (int q = 0; q < 2; q++) {
		ck_assert_uint_eq(be.vr[q].num, NUM);
		ck_assert_uint_eq(be.vr[q].desc, (uint64_t)(uintptr_t)(vm->mem.host + Q_DESC(q)));
		ck_assert_uint_eq(be.vr[q].avail, (uint64_t)(uintptr_t)(vm->mem.host + Q_AVAIL(q)));
		ck_assert_uint_eq(be.vr[q].used, (uint64_t)(uintptr_t)(vm->mem.host + Q_USED(q)));
		ck_assert_int_ge(be.vr[q].call, 0);
	}
	/* The guest's features only, plus the protocol bit. */
	ck_assert_uint_eq(be.features_acked, F_VERSION_1 | F_PROTOCOL);
	ck_assert_uint_eq(rd(REG_ISR), 0);

	/* Guest kick -> backend kick; backend call -> used-buffer interrupt. */
	wr(REG_QUEUE_NOTIFY, 1);
	ck_assert(wait_for(queue1_kicked));
	for (int i = 0; i < 500 && !(rd(REG_ISR) & 1); i++)
		usleep(10000);
	ck_assert_uint_eq(rd(REG_ISR) & 1, 1);
	ck_assert(!vm_ended());

	/* A reset stops the rings in the backend (GET_VRING_BASE each). */
	wr(R_STATUS, 0);
	bool stopped = false;
	for (int i = 0; i < 500 && !stopped; i++) {
		lock();
		stopped = be.n >= 2 && be.reqs[be.n - 1] == VHOST_USER_GET_VRING_BASE &&
			  be.reqs[be.n - 2] == VHOST_USER_GET_VRING_BASE;
		unlock();
		usleep(10000);
	}
	ck_assert(stopped);
	device_down();
}
END_TEST

START_TEST(backend_dying_mid_run_ends_the_vm)
{
	device_up(CLOSE_ON_KICK);
	ck_assert(wait_for(rings_enabled));
	wr(REG_QUEUE_NOTIFY, 1);
	for (int i = 0; i < 500 && !vm_ended(); i++)
		usleep(10000);
	ck_assert(vm_ended());
	ck_assert_int_eq(vm->result.kind, ALCATRAZ_EXIT_ERROR);
	ck_assert_int_eq(vm->result.error, -EPIPE);
	ck_assert_msg(strstr(vm->result.message, "virtio-fs 'work'") &&
			      strstr(vm->result.message, "closed"),
		      "message: %s", vm->result.message);
	device_down();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vhost_user");
	TCase *tc = tcase_create("protocol");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, handshake_and_shared_memory);
	tcase_add_loop_test(tc, malformed_reply_breaks_the_connection, 0,
			    sizeof(malformed) / sizeof(malformed[0]));
	tcase_add_test(tc, descriptors_in_replies_are_not_received);
	tcase_add_test(tc, backend_that_closes);
	tcase_add_test(tc, backend_that_never_answers);
	tcase_add_test(tc, backend_refuses_the_memory_table);
	tcase_add_test(tc, bad_tags_are_refused);
	tcase_add_test(tc, volumes_on_the_command_line);
	tcase_add_test(tc, bad_guest_paths_are_refused);
	suite_add_tcase(s, tc);
	TCase *dev = tcase_create("device");
	tcase_set_timeout(dev, 30);
	tcase_add_test(dev, device_hands_over_rings_and_relays_notifications);
	tcase_add_test(dev, backend_dying_mid_run_ends_the_vm);
	suite_add_tcase(s, dev);
	return run_suite(s);
}
