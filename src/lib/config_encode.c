// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A configuration as the records of src/protocol/vmm_protocol.h, with the
 * files it names opened here, in the caller's process and with its rights:
 * the jailed VMM opens nothing of the host.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib.h"
#include "volume.h"
#include "vmm_protocol.h"

#define BLOB_MIN_CAP 4096

static void grow(struct cfg_blob *b, size_t more)
{
	size_t need, cap;
	uint8_t *p;

	if (b->err)
		return;
	if (__builtin_add_overflow(b->len, more, &need) || need > VMM_CONFIG_MAX_BYTES) {
		b->err = -E2BIG;
		return;
	}
	if (need <= b->cap)
		return;
	for (cap = b->cap ? b->cap : BLOB_MIN_CAP; cap < need; cap *= 2)
		;
	p = realloc(b->buf, cap);
	if (!p) {
		b->err = -ENOMEM;
		return;
	}
	b->buf = p;
	b->cap = cap;
}

static void put(struct cfg_blob *b, uint16_t tag, const void *v1, uint32_t l1, const void *v2,
		uint32_t l2)
{
	struct vmm_cfg_rec r = { .tag = tag, .len = l1 + l2 };
	size_t padded = vmm_cfg_padded((size_t)l1 + l2);

	grow(b, sizeof(r) + padded);
	if (b->err)
		return;
	memcpy(b->buf + b->len, &r, sizeof(r));
	memcpy(b->buf + b->len + sizeof(r), v1, l1);
	if (l2)
		memcpy(b->buf + b->len + sizeof(r) + l1, v2, l2);
	memset(b->buf + b->len + sizeof(r) + l1 + l2, 0, padded - l1 - l2);
	b->len += sizeof(r) + padded;
}

static void put_u32(struct cfg_blob *b, uint16_t tag, uint32_t v)
{
	put(b, tag, &v, sizeof(v), NULL, 0);
}

static void put_u64(struct cfg_blob *b, uint16_t tag, uint64_t v)
{
	put(b, tag, &v, sizeof(v), NULL, 0);
}

static void put_str(struct cfg_blob *b, uint16_t tag, const char *s)
{
	if (s)
		put(b, tag, s, (uint32_t)strlen(s), NULL, 0);
}

/* Adds a descriptor the blob owns from now on; its index, or 0 on error. */
static uint32_t add_fd(struct cfg_blob *b, int fd)
{
	if (fd < 0) {
		if (!b->err)
			b->err = fd < -1 ? fd : -EBADF;
		return 0;
	}
	if (b->nfds >= VMM_MSG_MAX_FDS) {
		close(fd);
		if (!b->err)
			b->err = -EMFILE;
		return 0;
	}
	b->fds[b->nfds] = fd;
	return b->nfds++;
}

static int dup_of(int fd)
{
	int copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	return copy < 0 ? -errno : copy;
}

static void put_fd(struct cfg_blob *b, uint16_t tag, int fd)
{
	uint32_t i = add_fd(b, fd);

	if (i)
		put_u32(b, tag, i);
}

static int open_file(int log_fd, const char *what, const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);

	if (fd < 0) {
		int err = errno;
		lib_log(log_fd, "alcatraz: error: %s '%s': %s\n", what, path, strerror(err));
		return -err;
	}
	return fd;
}

/* A disk, locked as the VMM used to lock it: two writers corrupt an image. */
static void put_disk(struct cfg_blob *b, const struct alcatraz_config *cfg, const char *path,
		     bool readonly)
{
	struct vmm_cfg_disk d = { .flags = readonly ? VMM_CFG_DISK_READONLY : 0 };
	int fd = open_file(cfg->log_fd, "disk", path, readonly ? O_RDONLY : O_RDWR);

	if (fd >= 0 && flock(fd, (readonly ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0) {
		int err = errno == EWOULDBLOCK ? EBUSY : errno;
		lib_log(cfg->log_fd, "alcatraz: error: disk '%s' is locked by another user\n", path);
		close(fd);
		fd = -err;
	}
	d.fd_index = add_fd(b, fd);
	if (d.fd_index)
		put(b, VMM_CFG_DISK, &d, sizeof(d), path, (uint32_t)strlen(path));
}

static void put_files(struct cfg_blob *b, const struct alcatraz_config *cfg)
{
	put_fd(b, VMM_CFG_KVM_FD, open_file(cfg->log_fd, "KVM", "/dev/kvm", O_RDWR));
	if (cfg->image_path) {
		put_fd(b, VMM_CFG_IMAGE_FD, open_file(cfg->log_fd, "image", cfg->image_path, O_RDONLY));
		put_str(b, VMM_CFG_IMAGE_NAME, cfg->image_path);
	} else {
		put_fd(b, VMM_CFG_KERNEL_FD, open_file(cfg->log_fd, "kernel", cfg->kernel_path, O_RDONLY));
		put_str(b, VMM_CFG_IMAGE_NAME, cfg->kernel_path);
	}
	if (cfg->initrd_path) {
		put_fd(b, VMM_CFG_INITRD_FD, open_file(cfg->log_fd, "initrd", cfg->initrd_path, O_RDONLY));
		put_str(b, VMM_CFG_INITRD_NAME, cfg->initrd_path);
	} else if (cfg->argv && cfg->kernel_path && !cfg->restore_dir && !b->err) {
		/* A restored guest's initramfs is in its RAM already. */
		int fd = -1, ret = guest_initramfs_memfd(cfg, &fd);
		put_fd(b, VMM_CFG_INITRD_FD, ret ? ret : fd);
		put_str(b, VMM_CFG_INITRD_NAME, "initramfs");
	}
	if (cfg->serial_fd >= 0)
		put_fd(b, VMM_CFG_SERIAL_FD, dup_of(cfg->serial_fd));
	if (cfg->log_fd >= 0)
		put_fd(b, VMM_CFG_LOG_FD, dup_of(cfg->log_fd));
	if (cfg->root_disk)
		put_disk(b, cfg, cfg->root_disk, false);
	for (unsigned int i = 0; i < cfg->nr_disks; i++)
		put_disk(b, cfg, cfg->disks[i].path, cfg->disks[i].readonly);
}

/* A virtiofsd per volume, started here, before the VMM's jail exists, in
 * the caller's process and with its rights (volume.c); the VMM gets each
 * one's vhost-user socket. The daemon ends when the VMM closes it. */
static void put_volumes(struct cfg_blob *b, const struct alcatraz_config *cfg)
{
	for (unsigned int i = 0; i < cfg->nr_volumes && !b->err; i++) {
		const struct volume *v = &cfg->volumes[i];
		struct vmm_cfg_volume r = { .flags = v->readonly ? VMM_CFG_VOLUME_READONLY : 0 };
		char tag[16], spec[VOLUME_GUEST_PATH_MAX + 16], err[512];
		int sock = -1, ret;

		ret = virtiofsd_start(v, cfg->log_fd, &sock, NULL, err, sizeof(err));
		if (ret) {
			lib_log(cfg->log_fd, "alcatraz: error: %s\n", err);
			b->err = ret;
			return;
		}
		snprintf(tag, sizeof(tag), "vol%u", i);
		r.tag_len = (uint32_t)strlen(tag);
		r.fd_index = add_fd(b, sock);
		snprintf(spec, sizeof(spec), "%s%s", tag, v->guest_path);
		if (r.fd_index)
			put(b, VMM_CFG_VOLUME, &r, sizeof(r), spec, (uint32_t)strlen(spec));
	}
}

static void put_command(struct cfg_blob *b, const struct alcatraz_config *cfg)
{
	for (char **a = cfg->argv; a && *a; a++)
		put_str(b, VMM_CFG_ARG, *a);
	for (char **e = cfg->envp; e && *e; e++)
		put_str(b, VMM_CFG_ENV, *e);
	put_str(b, VMM_CFG_WORKDIR, cfg->workdir);
	if (cfg->stdio_set && cfg->stdin_fd >= 0)
		put_fd(b, VMM_CFG_STDIN_FD, dup_of(cfg->stdin_fd));
	if (cfg->stdio_set && cfg->stdout_fd >= 0)
		put_fd(b, VMM_CFG_STDOUT_FD, dup_of(cfg->stdout_fd));
	if (cfg->stdio_set && cfg->stderr_fd >= 0)
		put_fd(b, VMM_CFG_STDERR_FD, dup_of(cfg->stderr_fd));
	if (cfg->root_disk)
		put_u32(b, VMM_CFG_ROOT_DISK, 1);
}

/* The network's backend (net.c opened it) and the guest's alcatraz.net=
 * after the caller's command line. */
static void put_net(struct cfg_blob *b, const char *cmdline, const struct net_backend *net)
{
	struct vmm_cfg_net r = { 0 };
	char *line = NULL;

	if (!net || net->fd < 0 || !net->cmdline[0]) {
		put_str(b, VMM_CFG_CMDLINE, cmdline);
	} else {
		size_t n = (cmdline ? strlen(cmdline) + 1 : 0) + strlen(net->cmdline) + 1;
		line = malloc(n);
		if (!line) {
			b->err = b->err ? b->err : -ENOMEM;
		} else {
			snprintf(line, n, "%s%s%s", cmdline ? cmdline : "", cmdline ? " " : "",
				 net->cmdline);
			put_str(b, VMM_CFG_CMDLINE, line);
			free(line);
		}
	}
	if (!net || net->fd < 0)
		return;
	r.kind = (uint32_t)net->kind;
	r.mtu = net->mtu;
	memcpy(r.mac, net->mac, sizeof(r.mac));
	r.fd_index = add_fd(b, dup_of(net->fd));
	if (r.fd_index)
		put(b, VMM_CFG_NET, &r, sizeof(r), NULL, 0);
}

/* Restore (issue 18): the snapshot's two files. */
static void put_restore(struct cfg_blob *b, const struct alcatraz_config *cfg)
{
	struct vmm_cfg_snapshot r;
	int state_fd, mem_fd, ret;

	if (!cfg->restore_dir)
		return;
	ret = snapshot_open_restore(cfg, &state_fd, &mem_fd);
	if (ret) {
		b->err = b->err ? b->err : ret;
		return;
	}
	r.state_fd_index = add_fd(b, state_fd);
	r.mem_fd_index = add_fd(b, mem_fd);
	if (r.state_fd_index && r.mem_fd_index)
		put(b, VMM_CFG_SNAPSHOT, &r, sizeof(r), NULL, 0);
}

/* The records into a sealed memfd, fds[0], read from its start. */
static int seal(struct cfg_blob *b, const char *name)
{
	if (b->err)
		return b->err;
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return b->err = -errno;
	b->fds[0] = fd;
	if (write(fd, b->buf, b->len) != (ssize_t)b->len || lseek(fd, 0, SEEK_SET) != 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
		return b->err = -EIO;
	return 0;
}

int config_encode(const struct alcatraz_config *cfg, const struct net_backend *net,
		  struct cfg_blob *b)
{
	memset(b, 0, sizeof(*b));
	b->fds[0] = -1;
	b->nfds = 1; /* fds[0]: the records' memfd, made last */
	put_u32(b, VMM_CFG_VCPUS, cfg->vcpus);
	put_u64(b, VMM_CFG_MEM_BYTES, cfg->mem_mib << 20);
	put_u64(b, VMM_CFG_TIMEOUT_MS, cfg->timeout_ms);
	put_u32(b, VMM_CFG_IRQCHIP, cfg->irqchip);
	put_u32(b, VMM_CFG_OUTPUT_FILTER, cfg->output_filter);
	put_u32(b, VMM_CFG_SANDBOX, !cfg->no_sandbox);
	put_net(b, cfg->cmdline, net);
	if (cfg->test_raw_platform)
		put_u32(b, VMM_CFG_TEST_RAW_PLATFORM, 1);
	put_files(b, cfg);
	put_command(b, cfg);
	put_volumes(b, cfg);
	put_restore(b, cfg);
	return seal(b, "alcatraz-config");
}

int command_encode(const char *const *argv, const char *const *envp, const char *workdir,
		   int *fd)
{
	struct cfg_blob b = { .fds = { -1 }, .nfds = 1 };
	int ret;

	for (const char *const *a = argv; *a; a++)
		put_str(&b, VMM_CFG_ARG, *a);
	for (const char *const *e = envp; e && *e; e++)
		put_str(&b, VMM_CFG_ENV, *e);
	put_str(&b, VMM_CFG_WORKDIR, workdir);
	ret = seal(&b, "alcatraz-exec");
	if (!ret) {
		*fd = b.fds[0];
		b.fds[0] = -1;
	}
	cfg_blob_free(&b);
	return ret;
}

void cfg_blob_free(struct cfg_blob *b)
{
	for (unsigned int i = 0; i < b->nfds; i++)
		if (b->fds[i] >= 0)
			close(b->fds[i]);
	b->nfds = 0;
	free(b->buf);
	b->buf = NULL;
}
