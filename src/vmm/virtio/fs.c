// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * virtio-fs (virtio 1.2, section 5.11) as a vhost-user frontend: the rings
 * live in guest RAM, which the backend (virtiofsd) maps through the memfd
 * given to it in SET_MEM_TABLE, and the backend serves the FUSE requests
 * itself. The VMM keeps the virtio-mmio registers, tells the backend where
 * the rings are once the driver is live, and relays notifications: a guest
 * kick (the queue's eventfd, signalled by KVM) is passed on to the backend's
 * kick eventfd, and the backend's call eventfd becomes the device interrupt.
 * Passing kicks on ourselves lets the VMM hold them until the backend knows
 * the rings, and costs one eventfd write per kick.
 *
 * The backend is hostile input like the guest (vhost_user.c checks every
 * reply). It is also needed: when it dies or misbehaves the VM ends with an
 * error naming the volume, instead of the guest waiting for ever.
 *
 * Threads: driver_ok/reset come from vCPU threads and only signal ctl_fd;
 * the device thread does all the talking to the backend, with the device
 * lock held, so ring state never changes under a request.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "evloop.h"
#include "vhost_user.h"
#include "virtio.h"

#define VIRTIO_ID_FS 26
/* hiprio (0) and one request queue (1). */
#define FS_QUEUES 2
#define FS_REQUEST_QUEUES 1
#define FS_CONFIG_LEN (VM_VOLUME_TAG_MAX + 4)
/* The guest reads its volumes from the kernel command line (2 KiB). */
#define VM_VOLUME_PATH_MAX 256

struct vfs {
	struct virtio_dev *dev;
	struct vhost_user vu;
	char tag[VM_VOLUME_TAG_MAX + 1];
	int ctl_fd;               /* eventfd: the driver went live or reset */
	int kick_fd[FS_QUEUES];   /* the backend's: guest kicks passed on */
	int call_fd[FS_QUEUES];   /* the backend's used-buffer signals */
	unsigned int gen;         /* DRIVER_OK count: new rings each time */
	unsigned int started_gen;
	bool running;             /* the backend has the rings */
	bool pending[FS_QUEUES];  /* kicked before the backend had the rings */
	bool failed;
};

bool virtio_fs_tag_valid(const char *tag)
{
	size_t n = strnlen(tag, VM_VOLUME_TAG_MAX + 1);

	if (n == 0 || n > VM_VOLUME_TAG_MAX)
		return false;
	/* It reaches the kernel command line and mount(2) in the guest. */
	for (size_t i = 0; i < n; i++) {
		char c = tag[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.'))
			return false;
	}
	return true;
}

/* The backend is gone or broken: the VM cannot go on with the volume. */
static void fs_fail(struct vfs *f, const char *what, int err)
{
	if (f->failed)
		return;
	f->failed = true;
	f->running = false;
	vm_end(f->dev->vm, ALCATRAZ_EXIT_ERROR, 0, err, "virtio-fs '%s': %s: %s", f->tag, what,
	       vhost_user_strerror(err));
}

static void signal_fd(int fd)
{
	uint64_t one = 1;

	(void)!write(fd, &one, sizeof(one));
}

static void drain_fd(int fd)
{
	uint64_t v;

	(void)!read(fd, &v, sizeof(v));
}

static int ring_addrs(struct virtio_dev *d, unsigned int i, struct vhost_user_vring *r)
{
	const struct guest_mem *m = &d->vm->mem;
	const struct virtq *q = &d->vqs[i];
	uint64_t n = q->num;
	void *desc = gmem_ptr(m, q->desc, 16 * n);
	void *avail = gmem_ptr(m, q->avail, 6 + 2 * n);
	void *used = gmem_ptr(m, q->used, 6 + 8 * n);

	/* Checked at QueueReady already (vq_check_layout); again here since
	 * these addresses are what the backend will write through. */
	if (!n || !desc || !avail || !used)
		return -EINVAL;
	r->index = i;
	r->num = q->num;
	r->desc = (uint64_t)(uintptr_t)desc;
	r->avail = (uint64_t)(uintptr_t)avail;
	r->used = (uint64_t)(uintptr_t)used;
	return 0;
}

static void fs_stop(struct vfs *f)
{
	uint32_t base;
	int ret;

	f->running = false;
	for (unsigned int i = 0; i < FS_QUEUES; i++) {
		ret = vhost_user_vring_stop(&f->vu, i, &base);
		if (ret) {
			fs_fail(f, "stopping a queue", ret);
			return;
		}
	}
}

static void fs_start(struct vfs *f)
{
	struct virtio_dev *d = f->dev;
	struct vhost_user_vring r;
	int ret;

	ret = vhost_user_set_features(&f->vu, d->driver_features & f->vu.features);
	if (ret) {
		fs_fail(f, "setting the features", ret);
		return;
	}
	for (unsigned int i = 0; i < FS_QUEUES; i++) {
		if (!d->vqs[i].ready)
			continue;
		if (ring_addrs(d, i, &r)) {
			virtio_dev_needs_reset(d, "queue rings outside RAM");
			return;
		}
		r.kick_fd = f->kick_fd[i];
		r.call_fd = f->call_fd[i];
		ret = vhost_user_vring_start(&f->vu, &r);
		if (ret) {
			fs_fail(f, "starting a queue", ret);
			return;
		}
	}
	f->running = true;
	f->started_gen = f->gen;
	for (unsigned int i = 0; i < FS_QUEUES; i++) {
		if (f->pending[i] && d->vqs[i].ready)
			signal_fd(f->kick_fd[i]);
		f->pending[i] = false;
	}
}

/* Device thread, device lock held: bring the backend to the driver's state. */
static void fs_sync(struct vfs *f)
{
	bool live = virtio_dev_live(f->dev);

	if (f->failed)
		return;
	if (f->running && (!live || f->started_gen != f->gen))
		fs_stop(f);
	if (live && !f->running && !f->failed)
		fs_start(f);
}

static void on_ctl(void *opaque, int fd, short revents)
{
	struct vfs *f = opaque;

	drain_fd(fd);
	pthread_mutex_lock(&f->dev->lock);
	fs_sync(f);
	pthread_mutex_unlock(&f->dev->lock);
}

static void on_call(void *opaque, int fd, short revents)
{
	struct vfs *f = opaque;
	struct virtio_dev *d = f->dev;

	drain_fd(fd);
	pthread_mutex_lock(&d->lock);
	for (unsigned int i = 0; i < FS_QUEUES; i++)
		if (f->call_fd[i] == fd && f->running && virtio_dev_live(d))
			virtio_signal_used(d, i);
	pthread_mutex_unlock(&d->lock);
}

static short sock_want(void *opaque)
{
	struct vfs *f = opaque;

	return f->failed ? 0 : POLLIN;
}

/* The backend never speaks first on this socket (no backend channel is
 * negotiated): readable means it closed, died or misbehaves. */
static void on_sock(void *opaque, int fd, short revents)
{
	struct vfs *f = opaque;
	char c;
	ssize_t n = read(fd, &c, 1);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	pthread_mutex_lock(&f->dev->lock);
	fs_fail(f, "virtiofsd", n > 0 ? -EPROTO : -EPIPE);
	pthread_mutex_unlock(&f->dev->lock);
}

/* Event thread, device lock held. */
static void fs_notify(struct virtio_dev *d, unsigned int q)
{
	struct vfs *f = d->priv;

	if (q >= FS_QUEUES || f->failed)
		return;
	if (f->running)
		signal_fd(f->kick_fd[q]);
	else
		f->pending[q] = true;
}

/* vCPU thread, device lock held: the device thread does the talking. */
static void fs_driver_ok(struct virtio_dev *d)
{
	struct vfs *f = d->priv;

	f->gen++;
	signal_fd(f->ctl_fd);
}

static void fs_reset(struct virtio_dev *d)
{
	struct vfs *f = d->priv;

	memset(f->pending, 0, sizeof(f->pending));
	signal_fd(f->ctl_fd);
}

static void vfs_free(struct vfs *f)
{
	if (f->ctl_fd >= 0)
		close(f->ctl_fd);
	for (unsigned int i = 0; i < FS_QUEUES; i++) {
		if (f->kick_fd[i] >= 0)
			close(f->kick_fd[i]);
		if (f->call_fd[i] >= 0)
			close(f->call_fd[i]);
	}
	vhost_user_close(&f->vu);
	free(f);
}

static void fs_free(struct virtio_dev *d)
{
	vfs_free(d->priv);
}

static const struct virtio_dev_ops fs_ops = {
	.notify = fs_notify,
	.driver_ok = fs_driver_ok,
	.reset = fs_reset,
	.free = fs_free,
};

static int vfs_open_fds(struct vm *vm, struct vfs *f)
{
	int ret;

	f->ctl_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (f->ctl_fd < 0)
		return -errno;
	for (unsigned int i = 0; i < FS_QUEUES; i++) {
		f->kick_fd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		f->call_fd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (f->kick_fd[i] < 0 || f->call_fd[i] < 0)
			return -errno;
	}
	if ((ret = evloop_add(vm->evloop, f->ctl_fd, NULL, on_ctl, f)) ||
	    (ret = evloop_add(vm->evloop, f->vu.fd, sock_want, on_sock, f)))
		return ret;
	for (unsigned int i = 0; i < FS_QUEUES; i++)
		if ((ret = evloop_add(vm->evloop, f->call_fd[i], NULL, on_call, f)))
			return ret;
	return 0;
}

/* The handshake happens here, before any guest code runs: a backend that
 * does not answer fails VM creation with its reason. */
static int vfs_connect(struct vm *vm, struct vfs *f)
{
	int ret = vhost_user_handshake(&f->vu, 1ull << VIRTIO_F_VERSION_1_BIT);

	if (!ret)
		ret = vhost_user_set_mem_table(&f->vu, &vm->mem);
	if (ret)
		vm_log(vm, LOG_ERR, "virtio-fs '%s': connecting to virtiofsd: %s", f->tag,
		       vhost_user_strerror(ret));
	return ret;
}

/* Bytes that pass unencoded: the rest (separators, spaces, quotes, '%',
 * non-ASCII) become %XX, so any path survives the kernel's parser. */
static bool path_byte_plain(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '/' || c == '_' || c == '-' || c == '.';
}

void virtio_fs_cmdline(const struct vm *vm, FILE *f)
{
	const struct vm_volume *root = NULL;
	bool first = true;

	/* virtio_fs_init() checked the paths and that one root at most exists. */
	for (unsigned int i = 0; i < vm->cfg.nr_volumes; i++) {
		const struct vm_volume *v = &vm->cfg.volumes[i];
		const char *p = v->guest_path;
		if (!strcmp(p, "/")) {
			root = v;
			continue;
		}
		fprintf(f, "%s%s:%s:", first ? " alcatraz.volumes=" : ";", v->tag,
			v->readonly ? "ro" : "rw");
		for (; *p; p++)
			fprintf(f, path_byte_plain((unsigned char)*p) ? "%c" : "%%%02X",
				(unsigned char)*p);
		first = false;
	}
	/* A read-only root gets a writable overlay in guest RAM, like a
	 * container's; the shared directory itself is never written. */
	if (root)
		fprintf(f, " alcatraz.root=virtiofs:%s:%s", root->tag,
			root->readonly ? "overlay" : "rw");
}

/* An absolute guest path, and "/" for one volume at most. */
static bool guest_path_ok(const struct vm *vm, const struct vm_volume *vol)
{
	const char *p = vol->guest_path;

	if (!p || p[0] != '/' || strlen(p) > VM_VOLUME_PATH_MAX)
		return false;
	for (unsigned int i = 0; i < vm->cfg.nr_volumes && &vm->cfg.volumes[i] != vol; i++)
		if (!strcmp(p, "/") && vm->cfg.volumes[i].guest_path &&
		    !strcmp(vm->cfg.volumes[i].guest_path, "/"))
			return false;
	return true;
}

void virtio_fs_config_free(struct vm_config *cfg)
{
	for (unsigned int i = 0; i < cfg->nr_volumes; i++) {
		if (cfg->volumes[i].sock_fd >= 0) /* not taken by a device */
			close(cfg->volumes[i].sock_fd);
		free(cfg->volumes[i].guest_path);
	}
	free(cfg->volumes);
	cfg->volumes = NULL;
	cfg->nr_volumes = 0;
}

int virtio_fs_init(struct vm *vm, struct vm_volume *vol)
{
	struct vfs *f;
	uint32_t nrq = FS_REQUEST_QUEUES;
	int sock = vol->sock_fd, ret;

	vol->sock_fd = -1; /* ours from here on, also on failure */
	if (sock < 0 || !virtio_fs_tag_valid(vol->tag) || !guest_path_ok(vm, vol)) {
		vm_log(vm, LOG_ERR, "virtio-fs: a volume without a socket, with an invalid tag "
		       "or guest path, or a second root");
		if (sock >= 0)
			close(sock);
		return -EINVAL;
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		close(sock);
		return -ENOMEM;
	}
	f->ctl_fd = -1;
	for (unsigned int i = 0; i < FS_QUEUES; i++)
		f->kick_fd[i] = f->call_fd[i] = -1;
	vhost_user_init(&f->vu, sock);
	memcpy(f->tag, vol->tag, strnlen(vol->tag, VM_VOLUME_TAG_MAX));
	if ((ret = vfs_connect(vm, f)) || (ret = vfs_open_fds(vm, f))) {
		vfs_free(f);
		return ret;
	}
	ret = virtio_dev_add(vm, "fs", VIRTIO_ID_FS, 0, FS_QUEUES, &fs_ops, f, &f->dev);
	if (ret) {
		/* The loop's sources still name f, but a VM whose devices
		 * failed never starts its loop. */
		vfs_free(f);
		return ret;
	}
	/* struct virtio_fs_config: tag[36] (NUL-padded), le32 num_request_queues. */
	memset(f->dev->config, 0, FS_CONFIG_LEN);
	memcpy(f->dev->config, f->tag, strlen(f->tag));
	memcpy(f->dev->config + VM_VOLUME_TAG_MAX, &nrq, sizeof(nrq));
	f->dev->config_len = FS_CONFIG_LEN;
	return 0;
}
