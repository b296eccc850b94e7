// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The configuration the library sends (src/protocol/vmm_protocol.h), turned
 * into a struct vm_config. It comes from another process: every record is
 * checked (known tag, exact length, range, each descriptor used once, each
 * singular record at most once), and a configuration that fails any check
 * is refused as a whole with a one-line reason.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_decode.h"
#include "virtio/virtio.h"
#include "vmm_protocol.h"

#define CFG_MAX_ARGS 4096
#define CFG_MAX_STRING 65536
#define CFG_MAX_DISKS 16
/* Each costs the VMM 8 descriptors (socket, eventfds) of its 64. */
#define CFG_MAX_VOLUMES 4
#define CFG_MIN_MEM (2ULL << 20)
#define CFG_MAX_MEM (3072ULL << 20)
#define CFG_PAGE 4096ULL

struct decoder {
	struct vm_config *vc;
	const int *fds;
	unsigned int nfds;
	bool *fd_used;
	uint64_t seen;           /* singular tags already given */
	unsigned int nargs, nenv;
	char *why;
	size_t why_len;
};

static int refuse(struct decoder *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int refuse(struct decoder *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->why, d->why_len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int get_u32(struct decoder *d, const uint8_t *v, uint32_t len, uint32_t *out)
{
	if (len != sizeof(*out))
		return refuse(d, "a 32-bit record of %u bytes", len);
	memcpy(out, v, sizeof(*out));
	return 0;
}

static int get_u64(struct decoder *d, const uint8_t *v, uint32_t len, uint64_t *out)
{
	if (len != sizeof(*out))
		return refuse(d, "a 64-bit record of %u bytes", len);
	memcpy(out, v, sizeof(*out));
	return 0;
}

static int get_bool(struct decoder *d, const uint8_t *v, uint32_t len, bool *out)
{
	uint32_t x = 0;
	int ret = get_u32(d, v, len, &x);

	if (ret)
		return ret;
	if (x > 1)
		return refuse(d, "a flag of value %u", x);
	*out = x;
	return 0;
}

/* A fresh NUL-terminated copy of a string record without NULs. */
static int get_string(struct decoder *d, const uint8_t *v, uint32_t len, char **out)
{
	if (len == 0 || len > CFG_MAX_STRING || memchr(v, 0, len))
		return refuse(d, "a string of %u bytes, empty, too long or with a NUL", len);
	*out = strndup((const char *)v, len);
	return *out ? 0 : -ENOMEM;
}

static int get_fd(struct decoder *d, uint32_t index, int *out)
{
	if (index == 0 || index >= d->nfds)
		return refuse(d, "descriptor index %u of %u", index, d->nfds);
	if (d->fd_used[index])
		return refuse(d, "descriptor %u named twice", index);
	d->fd_used[index] = true;
	*out = d->fds[index];
	return 0;
}

static int get_fd_rec(struct decoder *d, const uint8_t *v, uint32_t len, int *out)
{
	uint32_t index = 0;
	int ret = get_u32(d, v, len, &index);

	return ret ? ret : get_fd(d, index, out);
}

static int push_string(struct decoder *d, char ***list, unsigned int *n, const uint8_t *v,
		       uint32_t len)
{
	char **grown, *s;
	int ret;

	if (*n >= CFG_MAX_ARGS)
		return refuse(d, "more than %u arguments or variables", CFG_MAX_ARGS);
	ret = get_string(d, v, len, &s);
	if (ret)
		return ret;
	grown = realloc(*list, (*n + 2) * sizeof(*grown));
	if (!grown) {
		free(s);
		return -ENOMEM;
	}
	grown[(*n)++] = s;
	grown[*n] = NULL;
	*list = grown;
	return 0;
}

_Static_assert(VMM_NET_TAP == NET_BACKEND_TAP && VMM_NET_STREAM == NET_BACKEND_STREAM,
	       "the protocol's backend kinds are the VMM's");

static int set_net(struct decoder *d, const uint8_t *v, uint32_t len)
{
	struct vm_config *vc = d->vc;
	struct vmm_cfg_net rec;

	if (len != sizeof(rec))
		return refuse(d, "a network record of %u bytes", len);
	memcpy(&rec, v, sizeof(rec));
	if (rec.kind != NET_BACKEND_TAP && rec.kind != NET_BACKEND_STREAM)
		return refuse(d, "network backend %u", rec.kind);
	if (rec.mac[0] & 1)
		return refuse(d, "a multicast MAC address");
	if (rec.mtu && (rec.mtu < 68 || rec.mtu > 65520))
		return refuse(d, "an MTU of %u", rec.mtu);
	memcpy(vc->net_mac, rec.mac, sizeof(rec.mac));
	vc->net_mtu = rec.mtu;
	vc->net_backend = rec.kind;
	return get_fd(d, rec.fd_index, &vc->net_fd);
}

static int set_snapshot(struct decoder *d, const uint8_t *v, uint32_t len)
{
	struct vm_config *vc = d->vc;
	struct vmm_cfg_snapshot rec;
	int ret;

	if (len != sizeof(rec))
		return refuse(d, "a snapshot record of %u bytes", len);
	memcpy(&rec, v, sizeof(rec));
	ret = get_fd(d, rec.state_fd_index, &vc->snap_state_fd);
	if (!ret)
		ret = get_fd(d, rec.mem_fd_index, &vc->snap_mem_fd);
	if (!ret)
		vc->restore = true;
	return ret;
}

static int add_disk(struct decoder *d, const uint8_t *v, uint32_t len)
{
	struct vm_config *vc = d->vc;
	struct vmm_cfg_disk rec;
	struct vm_disk *grown;
	char *name;
	int fd = -1, ret;

	if (vc->nr_disks >= CFG_MAX_DISKS)
		return refuse(d, "more than %u disks", CFG_MAX_DISKS);
	if (len <= sizeof(rec))
		return refuse(d, "a disk record of %u bytes", len);
	memcpy(&rec, v, sizeof(rec));
	if (rec.flags & ~VMM_CFG_DISK_READONLY)
		return refuse(d, "disk flags %#x", rec.flags);
	ret = get_fd(d, rec.fd_index, &fd);
	if (ret)
		return ret;
	ret = get_string(d, v + sizeof(rec), len - (uint32_t)sizeof(rec), &name);
	if (ret)
		return ret;
	grown = realloc(vc->disks, (vc->nr_disks + 1) * sizeof(*grown));
	if (!grown) {
		free(name);
		return -ENOMEM;
	}
	vc->disks = grown;
	/* The descriptor stays in the table until the end: a refused
	 * configuration closes every received descriptor once. */
	grown[vc->nr_disks++] = (struct vm_disk){ .path = name, .fd = fd,
						  .readonly = rec.flags & VMM_CFG_DISK_READONLY };
	return 0;
}

static int add_volume(struct decoder *d, const uint8_t *v, uint32_t len)
{
	struct vm_config *vc = d->vc;
	struct vmm_cfg_volume rec;
	struct vm_volume *grown;
	char tag[VM_VOLUME_TAG_MAX + 1] = { 0 }, *path;
	int fd = -1, ret;

	if (vc->nr_volumes >= CFG_MAX_VOLUMES)
		return refuse(d, "more than %u volumes", CFG_MAX_VOLUMES);
	if (len <= sizeof(rec))
		return refuse(d, "a volume record of %u bytes", len);
	memcpy(&rec, v, sizeof(rec));
	if ((rec.flags & ~VMM_CFG_VOLUME_READONLY) || rec.zero)
		return refuse(d, "volume flags %#x", rec.flags);
	if (rec.tag_len == 0 || rec.tag_len > VM_VOLUME_TAG_MAX || rec.tag_len >= len - sizeof(rec))
		return refuse(d, "a volume tag of %u bytes", rec.tag_len);
	memcpy(tag, v + sizeof(rec), rec.tag_len);
	if (!virtio_fs_tag_valid(tag))
		return refuse(d, "a volume tag with characters other than [A-Za-z0-9_.-]");
	ret = get_fd(d, rec.fd_index, &fd);
	if (ret)
		return ret;
	ret = get_string(d, v + sizeof(rec) + rec.tag_len,
			 len - (uint32_t)sizeof(rec) - rec.tag_len, &path);
	if (ret)
		return ret;
	if (path[0] != '/') {
		free(path);
		return refuse(d, "a volume's guest path is not absolute");
	}
	grown = realloc(vc->volumes, (vc->nr_volumes + 1) * sizeof(*grown));
	if (!grown) {
		free(path);
		return -ENOMEM;
	}
	vc->volumes = grown;
	/* The descriptor stays in the table too: see add_disk(). */
	grown[vc->nr_volumes] = (struct vm_volume){ .sock_fd = fd, .guest_path = path,
						    .readonly = rec.flags & VMM_CFG_VOLUME_READONLY };
	memcpy(grown[vc->nr_volumes].tag, tag, sizeof(tag));
	vc->nr_volumes++;
	return 0;
}

static int take_string(struct decoder *d, char **dst, const uint8_t *v, uint32_t len)
{
	return get_string(d, v, len, dst);
}

static int record(struct decoder *d, uint16_t tag, const uint8_t *v, uint32_t len)
{
	struct vm_config *vc = d->vc;
	uint32_t x = 0;
	int ret;

	switch (tag) {
	case VMM_CFG_VCPUS:
		ret = get_u32(d, v, len, &x);
		if (!ret && (x == 0 || x > VMM_MAX_VCPUS))
			return refuse(d, "%u vCPUs", x);
		vc->vcpus = x;
		return ret;
	case VMM_CFG_MEM_BYTES:
		ret = get_u64(d, v, len, &vc->mem_bytes);
		if (!ret && (vc->mem_bytes < CFG_MIN_MEM || vc->mem_bytes > CFG_MAX_MEM ||
			     vc->mem_bytes % CFG_PAGE))
			return refuse(d, "%llu bytes of guest RAM", (unsigned long long)vc->mem_bytes);
		return ret;
	case VMM_CFG_TIMEOUT_MS:
		return get_u64(d, v, len, &vc->timeout_ms);
	case VMM_CFG_IRQCHIP:
		ret = get_u32(d, v, len, &x);
		if (!ret && x > ALCATRAZ_IRQCHIP_OFF)
			return refuse(d, "irqchip mode %u", x);
		vc->irqchip = (enum alcatraz_irqchip)x;
		return ret;
	case VMM_CFG_OUTPUT_FILTER:
		ret = get_u32(d, v, len, &x);
		if (!ret && x > ALCATRAZ_OUTPUT_FILTER_ON)
			return refuse(d, "output filter %u", x);
		vc->output_filter = (enum alcatraz_output_filter)x;
		return ret;
	case VMM_CFG_SANDBOX:
		return get_bool(d, v, len, &vc->seccomp);
	case VMM_CFG_KVM_FD:
		return get_fd_rec(d, v, len, &vc->kvm_fd);
	case VMM_CFG_IMAGE_FD:
		return get_fd_rec(d, v, len, &vc->image_fd);
	case VMM_CFG_KERNEL_FD:
		return get_fd_rec(d, v, len, &vc->kernel_fd);
	case VMM_CFG_INITRD_FD:
		return get_fd_rec(d, v, len, &vc->initrd_fd);
	case VMM_CFG_IMAGE_NAME:
		/* Which of the two it names is known once all records are in. */
		return take_string(d, &vc->image_path, v, len);
	case VMM_CFG_INITRD_NAME:
		return take_string(d, &vc->initrd_path, v, len);
	case VMM_CFG_CMDLINE:
		return take_string(d, &vc->cmdline, v, len);
	case VMM_CFG_SERIAL_FD:
		return get_fd_rec(d, v, len, &vc->serial_fd);
	case VMM_CFG_LOG_FD:
		return get_fd_rec(d, v, len, &vc->log_fd);
	case VMM_CFG_ARG:
		return push_string(d, &vc->argv, &d->nargs, v, len);
	case VMM_CFG_ENV:
		if (!memchr(v, '=', len) || (len && v[0] == '='))
			return refuse(d, "an environment entry without KEY=");
		return push_string(d, &vc->envp, &d->nenv, v, len);
	case VMM_CFG_WORKDIR:
		if (len == 0 || v[0] != '/')
			return refuse(d, "a working directory that is not absolute");
		return take_string(d, &vc->workdir, v, len);
	case VMM_CFG_STDIN_FD:
		return get_fd_rec(d, v, len, &vc->stdin_fd);
	case VMM_CFG_STDOUT_FD:
		return get_fd_rec(d, v, len, &vc->stdout_fd);
	case VMM_CFG_STDERR_FD:
		return get_fd_rec(d, v, len, &vc->stderr_fd);
	case VMM_CFG_DISK:
		return add_disk(d, v, len);
	case VMM_CFG_VOLUME:
		return add_volume(d, v, len);
	case VMM_CFG_ROOT_DISK:
		return get_bool(d, v, len, &vc->root_disk);
	case VMM_CFG_NET:
		return set_net(d, v, len);
	case VMM_CFG_SNAPSHOT:
		return set_snapshot(d, v, len);
	case VMM_CFG_TEST_RAW_PLATFORM:
#ifdef ALCATRAZ_TEST_HOOKS
		return get_bool(d, v, len, &vc->test_raw_platform);
#else
		return refuse(d, "a test-only record in a release VMM");
#endif
	default:
		return refuse(d, "unknown record %u", tag);
	}
}

static bool repeatable(uint16_t tag)
{
	return tag == VMM_CFG_ARG || tag == VMM_CFG_ENV || tag == VMM_CFG_DISK || tag == VMM_CFG_VOLUME;
}

/* What the records say together. */
static int check_whole(struct decoder *d)
{
	struct vm_config *vc = d->vc;
	bool raw = vc->image_fd >= 0, linux_ = vc->kernel_fd >= 0;

	if (raw == linux_)
		return refuse(d, "neither or both of a raw image and a kernel");
	if (!(d->seen & (1ULL << VMM_CFG_MEM_BYTES)))
		return refuse(d, "no guest RAM size");
	if (vc->kvm_fd < 0)
		return refuse(d, "no /dev/kvm descriptor");
	if (raw && (vc->initrd_fd >= 0 || ((vc->cmdline || vc->argv) && !vc->test_raw_platform)))
		return refuse(d, "a raw image with an initrd, command line or command");
	if (!vc->argv && (vc->envp || vc->workdir || vc->nr_disks || vc->root_disk ||
			  vc->stdin_fd >= 0 || vc->stdout_fd >= 0 || vc->stderr_fd >= 0) &&
	    !vc->test_raw_platform)
		return refuse(d, "environment, stdio or disks without a command");
	if (vc->root_disk && vc->nr_disks == 0)
		return refuse(d, "a root disk flag without a disk");
	if (vc->restore && vc->nr_volumes)
		return refuse(d, "a restore with volumes (not in snapshots yet)");
	if (!vc->image_path)
		vc->image_path = strdup(raw ? "image" : "kernel");
	if (!vc->image_path)
		return -ENOMEM;
	if (linux_) {
		vc->kernel_path = vc->image_path;
		vc->image_path = NULL;
	}
	if (vc->initrd_fd >= 0 && !vc->initrd_path && !(vc->initrd_path = strdup("initrd")))
		return -ENOMEM;
	for (unsigned int i = 1; i < d->nfds; i++)
		if (!d->fd_used[i])
			return refuse(d, "descriptor %u is named by no record", i);
	return 0;
}

static void free_strv(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

/* The configuration's allocations (not its descriptors). */
static void free_strings(struct vm_config *vc)
{
	free_strv(vc->argv);
	free_strv(vc->envp);
	free(vc->workdir);
	free(vc->cmdline);
	free(vc->image_path);
	free(vc->kernel_path);
	free(vc->initrd_path);
	for (unsigned int i = 0; i < vc->nr_disks; i++)
		free(vc->disks[i].path);
	free(vc->disks);
	for (unsigned int i = 0; i < vc->nr_volumes; i++)
		free(vc->volumes[i].guest_path);
	free(vc->volumes);
}

/* The records of blob whose tags are in allowed (a mask of 1 << tag). */
static int decode_records(struct decoder *d, const uint8_t *blob, size_t len, uint64_t allowed)
{
	struct vmm_cfg_iter it = { blob, blob + len };
	const uint8_t *v;
	uint32_t vlen;
	uint16_t tag;
	int r;

	while ((r = vmm_cfg_next(&it, &tag, &v, &vlen)) > 0) {
		if (tag == 0 || tag >= VMM_CFG_TAG_END || !(allowed & (1ULL << tag)))
			return refuse(d, "unknown record %u", tag);
		if (!repeatable(tag) && (d->seen & (1ULL << tag)))
			return refuse(d, "record %u given twice", tag);
		d->seen |= 1ULL << tag;
		r = record(d, tag, v, vlen);
		if (r)
			return r;
	}
	if (r < 0)
		return refuse(d, "a record overruns the configuration or is badly padded");
	return 0;
}

static int decode(struct decoder *d, const uint8_t *blob, size_t len)
{
	_Static_assert(VMM_CFG_TAG_END <= 64, "tags fit the masks");
	int ret = decode_records(d, blob, len, ~0ULL);

	return ret ? ret : check_whole(d);
}

int vm_config_decode(const uint8_t *blob, size_t len, const int *fds, unsigned int nfds,
		     struct vm_config *vc, char *why, size_t why_len)
{
	struct decoder d = { .vc = vc, .fds = fds, .nfds = nfds, .why = why, .why_len = why_len };
	int ret;

	vm_config_defaults(vc);
	if (why_len)
		why[0] = '\0';
	d.fd_used = calloc(nfds ? nfds : 1, sizeof(*d.fd_used));
	if (!d.fd_used) {
		ret = -ENOMEM;
	} else {
		ret = decode(&d, blob, len);
	}
	if (ret) {
		if (ret == -ENOMEM && why_len && !why[0])
			snprintf(why, why_len, "out of memory");
		/* Nothing of a refused configuration survives: every received
		 * descriptor is closed here, once, whether a record took it or not. */
		for (unsigned int i = 1; i < nfds; i++)
			close(fds[i]);
		free_strings(vc);
		vm_config_defaults(vc);
		free(d.fd_used);
		return ret;
	}
	free(d.fd_used);
	return 0;
}

void vm_config_release(struct vm_config *vc)
{
	int *fds[] = { &vc->stdin_fd, &vc->stdout_fd, &vc->stderr_fd };

	vm_config_close_files(vc);
	for (unsigned int i = 0; i < vc->nr_disks; i++)
		if (vc->disks[i].fd >= 0)
			close(vc->disks[i].fd);
	for (unsigned int i = 0; i < vc->nr_volumes; i++)
		if (vc->volumes[i].sock_fd >= 0)
			close(vc->volumes[i].sock_fd);
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		if (*fds[i] >= 0)
			close(*fds[i]);
	if (vc->net_backend && vc->net_fd >= 0)
		close(vc->net_fd);
	free_strings(vc);
	vm_config_defaults(vc);
}

int vm_command_decode(const uint8_t *blob, size_t len, struct vm_command *cmd, char *why,
		      size_t why_len)
{
	const uint64_t allowed = 1ULL << VMM_CFG_ARG | 1ULL << VMM_CFG_ENV | 1ULL << VMM_CFG_WORKDIR;
	struct vm_config vc;
	struct decoder d = { .vc = &vc, .why = why, .why_len = why_len };
	int ret;

	vm_config_defaults(&vc);
	if (why_len)
		why[0] = '\0';
	ret = decode_records(&d, blob, len, allowed);
	if (!ret && d.nargs == 0)
		ret = refuse(&d, "a command without arguments");
	if (ret) {
		if (ret == -ENOMEM && why_len && !why[0])
			snprintf(why, why_len, "out of memory");
		free_strings(&vc);
		return ret;
	}
	*cmd = (struct vm_command){ .argv = vc.argv, .envp = vc.envp, .workdir = vc.workdir };
	return 0;
}

void vm_command_free(struct vm_command *cmd)
{
	free_strv(cmd->argv);
	free_strv(cmd->envp);
	free(cmd->workdir);
	*cmd = (struct vm_command){ 0 };
}
