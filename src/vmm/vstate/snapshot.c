// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Snapshot and restore (issue 18): a paused VM's vCPUs, in-kernel devices,
 * clock and emulated devices to a state file (snapshot_file.h), its RAM to
 * a memory file; and a VM built from the two.
 *
 * Restoring needs no more trust than booting: the state file is parsed
 * whole and checked against the configuration (vCPUs, RAM, irqchip, the
 * guest's identity) before any of it reaches KVM; every section goes to
 * KVM through the same ioctls the VMM could issue for a guest of its own,
 * which KVM validates; MSRs are set only where they are in KVM's own list
 * of MSRs to save. The memory file is the guest's, exactly as booting gives
 * the guest its RAM.
 *
 * virtio devices keep their transport and their own state in a section
 * each (snapshot_virtio.c); a device that cannot be captured yet (net,
 * virtio-fs, blk, a vsock connection: the control channel) makes the
 * snapshot refuse, naming it, never a snapshot taken half-way.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapshot_file.h"
#include "snapshot_virtio.h"
#include "vmm.h"

#define SNAP_PAGE 4096u

struct vm_restore {
	uint8_t *buf;               /* the state file */
	struct snap_state st;
	struct kvm_msr_list *msrs;  /* KVM's list: the MSRs a restore may set */
};

/* A fixed-size vCPU or VM section and the ioctls that move it. */
struct snap_ioctl {
	uint32_t type;
	unsigned long get;
	unsigned long set;
	size_t size;
	bool irqchip;               /* only with the in-kernel irqchip */
};

/* In the order a restore sets them: segment and control registers (the
 * APIC base among them) before the LAPIC, the LAPIC before the MSRs (its
 * TSC-deadline MSR means something only in the mode the LAPIC holds), the
 * events last (they may inject into the state before them). */
static const struct snap_ioctl vcpu_ioctls[] = {
	{ SNAP_SEC_VCPU_SREGS, KVM_GET_SREGS, KVM_SET_SREGS, sizeof(struct kvm_sregs), false },
	{ SNAP_SEC_VCPU_REGS, KVM_GET_REGS, KVM_SET_REGS, sizeof(struct kvm_regs), false },
	{ SNAP_SEC_VCPU_XSAVE, KVM_GET_XSAVE, KVM_SET_XSAVE, sizeof(struct kvm_xsave), false },
	{ SNAP_SEC_VCPU_XCRS, KVM_GET_XCRS, KVM_SET_XCRS, sizeof(struct kvm_xcrs), false },
	{ SNAP_SEC_VCPU_LAPIC, KVM_GET_LAPIC, KVM_SET_LAPIC, sizeof(struct kvm_lapic_state), true },
};
static const struct snap_ioctl vcpu_ioctls_late[] = {
	{ SNAP_SEC_VCPU_MPSTATE, KVM_GET_MP_STATE, KVM_SET_MP_STATE, sizeof(struct kvm_mp_state),
	  false },
	{ SNAP_SEC_VCPU_EVENTS, KVM_GET_VCPU_EVENTS, KVM_SET_VCPU_EVENTS,
	  sizeof(struct kvm_vcpu_events), false },
};

/* ------------------------------------------------------------- the MSRs */

/* KVM's list of MSRs to save and restore (on the /dev/kvm descriptor). */
static int msr_index_list(int kvm_fd, struct kvm_msr_list **out)
{
	struct kvm_msr_list probe = { .nmsrs = 0 }, *l;

	if (ioctl(kvm_fd, KVM_GET_MSR_INDEX_LIST, &probe) == 0 || errno != E2BIG)
		return -EIO;
	if (probe.nmsrs == 0 || probe.nmsrs > SNAP_MAX_MSRS)
		return -EIO;
	l = calloc(1, sizeof(*l) + probe.nmsrs * sizeof(l->indices[0]));
	if (!l)
		return -ENOMEM;
	l->nmsrs = probe.nmsrs;
	if (ioctl(kvm_fd, KVM_GET_MSR_INDEX_LIST, l) < 0) {
		free(l);
		return -errno;
	}
	*out = l;
	return 0;
}

/* The section is a struct kvm_msrs: every MSR of the list KVM can read for
 * this vCPU (one it refuses is skipped, as KVM stops at it). */
static int save_msrs(struct vcpu *vcpu, const struct kvm_msr_list *list, struct snap_writer *w)
{
	uint32_t n = list->nmsrs, got = 0;
	struct kvm_msrs *m = calloc(1, sizeof(*m) + n * sizeof(m->entries[0]));
	struct kvm_msrs *one = calloc(1, sizeof(*one) + sizeof(one->entries[0]));

	if (!m || !one) {
		free(m);
		free(one);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < n; i++) {
		one->nmsrs = 1;
		one->entries[0].index = list->indices[i];
		one->entries[0].data = 0;
		if (ioctl(vcpu->fd, KVM_GET_MSRS, one) == 1)
			m->entries[got++] = one->entries[0];
	}
	m->nmsrs = got;
	free(one);
	if (got)
		snap_add(w, SNAP_SEC_VCPU_MSRS, vcpu->index, m,
			 sizeof(*m) + got * sizeof(m->entries[0]));
	free(m);
	return got ? 0 : -EIO;
}

static bool msr_listed(const struct kvm_msr_list *l, uint32_t index)
{
	for (uint32_t i = 0; i < l->nmsrs; i++)
		if (l->indices[i] == index)
			return true;
	return false;
}

/* One MSR. KVM refuses some writes it has no use for in this VM (the
 * asynchronous page-fault interrupt without an in-kernel LAPIC, even of
 * 0): a refused value that is already the vCPU's changes nothing. */
static int restore_msr(struct vm *vm, struct vcpu *vcpu, const struct kvm_msr_entry *e)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} one = { .hdr.nmsrs = 1, .e = *e };

	if (ioctl(vcpu->fd, KVM_SET_MSRS, &one) == 1)
		return 0;
	one.e.data = 0;
	if (ioctl(vcpu->fd, KVM_GET_MSRS, &one) == 1 && one.e.data == e->data)
		return 0;
	vm_log(vm, LOG_ERR, "snapshot refused: KVM refused MSR %#x = %#llx", e->index,
	       (unsigned long long)e->data);
	return -EINVAL;
}

static int restore_msrs(struct vm *vm, struct vcpu *vcpu, const struct snap_section *s)
{
	const struct kvm_msr_list *list = vm->restore->msrs;
	struct kvm_msrs *m = malloc(s->len);
	int ret = 0;

	if (!m)
		return -ENOMEM;
	memcpy(m, s->data, s->len); /* count and length checked by snap_parse */
	for (uint32_t i = 0; i < m->nmsrs && !ret; i++) {
		if (!msr_listed(list, m->entries[i].index)) {
			vm_log(vm, LOG_ERR, "snapshot: MSR %#x is not one KVM saves",
			       m->entries[i].index);
			ret = -EINVAL;
		}
		for (uint32_t j = 0; j < i && !ret; j++) {
			if (m->entries[j].index == m->entries[i].index) {
				vm_log(vm, LOG_ERR, "snapshot: MSR %#x twice",
				       m->entries[i].index);
				ret = -EINVAL;
			}
		}
	}
	/* All at once: KVM sets them in order and stops at one it refuses,
	 * which goes alone (restore_msr), then the rest. */
	for (uint32_t left = m->nmsrs; left && !ret;) {
		int set;

		m->nmsrs = left;
		set = ioctl(vcpu->fd, KVM_SET_MSRS, m);
		if (set < 0 || (uint32_t)set > left)
			set = 0;
		if ((uint32_t)set < left)
			ret = restore_msr(vm, vcpu, &m->entries[set++]);
		left -= (uint32_t)set;
		memmove(m->entries, m->entries + set, left * sizeof(m->entries[0]));
	}
	free(m);
	return ret;
}

/* ------------------------------------------------------------- capture */

static int save_fixed(int fd, const struct snap_ioctl *t, uint32_t instance,
		      struct snap_writer *w)
{
	union {
		struct kvm_xsave xsave;
		struct kvm_sregs sregs;
		struct kvm_lapic_state lapic;
		struct kvm_irqchip chip;
		struct kvm_pit_state2 pit;
	} u;

	memset(&u, 0, sizeof(u));
	if (ioctl(fd, t->get, &u) < 0)
		return -errno;
	snap_add(w, t->type, instance, &u, t->size);
	return 0;
}

static int save_vcpu(struct vm *vm, struct vcpu *vcpu, const struct kvm_msr_list *msrs,
		     struct snap_writer *w)
{
	int ret = 0;

	for (size_t i = 0; i < ARRAY_SIZE(vcpu_ioctls) && !ret; i++)
		if (!vcpu_ioctls[i].irqchip || vm->irqchip)
			ret = save_fixed(vcpu->fd, &vcpu_ioctls[i], vcpu->index, w);
	for (size_t i = 0; i < ARRAY_SIZE(vcpu_ioctls_late) && !ret; i++)
		ret = save_fixed(vcpu->fd, &vcpu_ioctls_late[i], vcpu->index, w);
	return ret ? ret : save_msrs(vcpu, msrs, w);
}

static int save_vm(struct vm *vm, struct snap_writer *w)
{
	struct kvm_clock_data clock = { 0 };
	int ret;

	if (vm->irqchip) {
		static const uint32_t chips[] = { SNAP_SEC_VM_PIC_MASTER, SNAP_SEC_VM_PIC_SLAVE,
						  SNAP_SEC_VM_IOAPIC };
		for (uint32_t c = 0; c < ARRAY_SIZE(chips); c++) {
			struct kvm_irqchip chip = { .chip_id = c };
			if (ioctl(vm->vm_fd, KVM_GET_IRQCHIP, &chip) < 0)
				return -errno;
			snap_add(w, chips[c], 0, &chip, sizeof(chip));
		}
		struct snap_ioctl pit = { SNAP_SEC_VM_PIT2, KVM_GET_PIT2, KVM_SET_PIT2,
					  sizeof(struct kvm_pit_state2), true };
		ret = save_fixed(vm->vm_fd, &pit, 0, w);
		if (ret)
			return ret;
	}
	if (ioctl(vm->vm_fd, KVM_GET_CLOCK, &clock) < 0)
		return -errno;
	snap_add(w, SNAP_SEC_VM_CLOCK, 0, &clock, sizeof(clock));
	return 0;
}

#define GUEST_ID_MAX (1ull << 30)

static int guest_fd(const struct vm *vm)
{
	return vm->cfg.image_fd >= 0 ? vm->cfg.image_fd : vm->cfg.kernel_fd;
}

/* The guest file's size, while fstat is still allowed (vm_create): a
 * snapshot's jailed control thread reads the file with pread alone. */
static int guest_size(struct vm *vm)
{
	struct stat st;
	int fd = guest_fd(vm);

	if (fd < 0)
		return 0;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > GUEST_ID_MAX)
		return -EINVAL;
	vm->guest_file_size = (uint64_t)st.st_size;
	return 0;
}

/* ELF64 header fields, program header entries and limits. */
#define ELF_HDR 64
#define ELF_PHDR 56
#define ELF_PT_NOTE 4
#define ELF_MAX_PHDRS 256
#define ELF_MAX_NOTES (64u << 10)

static int pread_exact(int fd, void *buf, size_t len, uint64_t off)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = pread(fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* [off, off + len) inside a file of size bytes. */
static bool in_guest_file(uint64_t off, uint64_t len, uint64_t size)
{
	uint64_t end;

	return !__builtin_add_overflow(off, len, &end) && end <= size;
}

/* The build ID of an ELF64 kernel file, from its PT_NOTE segments, read
 * with a few preads: 0 and *id_len when there is one, -ENOENT when the
 * file is no ELF64 file or has none (its whole contents identify it). */
static int elf_build_id(int fd, uint64_t size, uint8_t id[SNAP_BUILD_ID_MAX], size_t *id_len)
{
	uint8_t hdr[ELF_HDR], ph[ELF_PHDR];
	uint64_t phoff;
	uint16_t phentsize, phnum;
	int ret;

	if (size < ELF_HDR)
		return -ENOENT;
	ret = pread_exact(fd, hdr, sizeof(hdr), 0);
	if (ret)
		return ret;
	if (memcmp(hdr, "\177ELF", 4) || hdr[4] != 2 || hdr[5] != 1)
		return -ENOENT;
	memcpy(&phoff, hdr + 32, sizeof(phoff));
	memcpy(&phentsize, hdr + 54, sizeof(phentsize));
	memcpy(&phnum, hdr + 56, sizeof(phnum));
	if (phentsize != ELF_PHDR || phnum > ELF_MAX_PHDRS ||
	    !in_guest_file(phoff, (uint64_t)phnum * ELF_PHDR, size))
		return -ENOENT;
	for (uint16_t i = 0; i < phnum; i++) {
		uint64_t off, len;
		uint32_t type;
		uint8_t *notes;

		ret = pread_exact(fd, ph, sizeof(ph), phoff + (uint64_t)i * ELF_PHDR);
		if (ret)
			return ret;
		memcpy(&type, ph, sizeof(type));
		memcpy(&off, ph + 8, sizeof(off));
		memcpy(&len, ph + 32, sizeof(len));
		if (type != ELF_PT_NOTE || len == 0 || len > ELF_MAX_NOTES ||
		    !in_guest_file(off, len, size))
			continue;
		notes = malloc((size_t)len);
		if (!notes)
			return -ENOMEM;
		ret = pread_exact(fd, notes, (size_t)len, off);
		*id_len = ret ? 0 : snap_find_build_id(notes, (size_t)len, id);
		free(notes);
		if (ret || *id_len)
			return ret;
	}
	return -ENOENT;
}

/* The guest's identity (snapshot_file.h): by the kernel's build ID, else a
 * hash of the whole kernel (or raw image) file. */
static int guest_id_fd(int fd, uint64_t size, uint64_t *id)
{
	uint8_t build_id[SNAP_BUILD_ID_MAX];
	size_t id_len = 0;
	uint8_t *data;
	int ret = elf_build_id(fd, size, build_id, &id_len);

	if (!ret) {
		*id = snap_build_id_identity(build_id, id_len, size);
		return 0;
	}
	if (ret != -ENOENT)
		return ret;
	ret = read_fd_size(fd, size, &data);
	if (ret)
		return ret;
	*id = snap_kernel_id(data, size);
	free(data);
	return 0;
}

static int guest_id(struct vm *vm, uint64_t *id)
{
	const struct vm_config *c = &vm->cfg;
	struct stat st;
	int fd, ret;

	if (guest_fd(vm) >= 0)
		return guest_id_fd(guest_fd(vm), vm->guest_file_size, id);
	/* In-process callers name a path. */
	fd = open(c->image_path ? c->image_path : c->kernel_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > GUEST_ID_MAX)
		ret = -EINVAL;
	else
		ret = guest_id_fd(fd, (uint64_t)st.st_size, id);
	close(fd);
	return ret;
}

static bool page_zero(const uint8_t *p)
{
	static const uint8_t zero[SNAP_PAGE];
	return !memcmp(p, zero, SNAP_PAGE);
}

static int pwrite_all(int fd, const void *buf, size_t len, off_t off)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = pwrite(fd, p, len, off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

/* RAM to the memory file: pages of zeros are left as holes (they read back
 * as zeros, and cost the file nothing). */
static int save_memory(struct vm *vm, int fd)
{
	const uint8_t *ram = vm->mem.host;
	uint64_t size = vm->mem.size;
	int ret;

	if (ftruncate(fd, 0) < 0 || ftruncate(fd, (off_t)size) < 0)
		return -errno;
	for (uint64_t off = 0; off < size;) {
		if (page_zero(ram + off)) {
			off += SNAP_PAGE;
			continue;
		}
		uint64_t end = off + SNAP_PAGE;
		while (end < size && !page_zero(ram + end))
			end += SNAP_PAGE;
		ret = pwrite_all(fd, ram + off, end - off, (off_t)off);
		if (ret)
			return ret;
		off = end;
	}
	return 0;
}

/* Every virtio device's section, each under its lock (the device thread
 * still runs while the vCPUs are paused). */
static int save_virtio(struct vm *vm, struct snap_writer *w, char *why, size_t why_len)
{
	uint8_t *buf = malloc(SNAP_VIRTIO_MAX);
	const char *reason = NULL;
	int ret = buf ? 0 : -ENOMEM;

	for (unsigned int i = 0; i < vm->nr_virtio && !ret; i++) {
		struct virtio_dev *d = vm->virtio[i];

		pthread_mutex_lock(&d->lock);
		ret = snap_virtio_save(d, buf, &reason);
		pthread_mutex_unlock(&d->lock);
		if (ret < 0)
			snprintf(why, why_len, "virtio-%s: %s", d->name, reason);
		else
			snap_add(w, SNAP_SEC_DEVICE, SNAP_DEV_VIRTIO(i), buf, (uint64_t)ret);
		ret = ret < 0 ? ret : 0;
	}
	if (ret == -ENOMEM)
		snprintf(why, why_len, "out of memory");
	free(buf);
	return ret;
}

/* Refused before the VM is paused: devices no snapshot can hold. */
static int check_devices(struct vm *vm, char *why, size_t why_len)
{
	if (!vm->serial) {
		snprintf(why, why_len, "this VM has no serial port");
		return -ENOTSUP;
	}
	for (unsigned int i = 0; i < vm->nr_virtio; i++) {
		if (!vm->virtio[i]->ops->snapshot) {
			snprintf(why, why_len, "this VM has virtio-%s, which snapshots cannot hold yet",
				 vm->virtio[i]->name);
			return -ENOTSUP;
		}
	}
	return 0;
}

static int capture(struct vm *vm, struct snap_writer *w, char *why, size_t why_len)
{
	struct kvm_msr_list *msrs = NULL;
	uint8_t serial[SERIAL_STATE_SIZE];
	int ret = msr_index_list(vm->kvm_fd, &msrs);

	if (ret) {
		snprintf(why, why_len, "cannot list KVM's MSRs: %s", strerror(-ret));
		return ret;
	}
	for (unsigned int i = 0; i < vm->nr_vcpus && !ret; i++)
		ret = save_vcpu(vm, &vm->vcpus[i], msrs, w);
	free(msrs);
	if (!ret)
		ret = save_vm(vm, w);
	if (ret) {
		snprintf(why, why_len, "cannot read the VM's state from KVM: %s", strerror(-ret));
		return ret;
	}
	pthread_mutex_lock(&vm->pio.lock);
	serial_save(vm->serial, serial);
	pthread_mutex_unlock(&vm->pio.lock);
	snap_add(w, SNAP_SEC_DEVICE, SNAP_DEV_SERIAL, serial, sizeof(serial));
	return save_virtio(vm, w, why, why_len);
}

int vm_snapshot(struct vm *vm, int state_fd, int mem_fd, char *why, size_t why_len)
{
	struct snap_info info = { .nr_vcpus = vm->nr_vcpus, .mem_bytes = vm->mem.size,
				  .flags = vm->irqchip ? SNAP_F_IRQCHIP : 0 };
	struct snap_writer w;
	uint8_t *buf = NULL;
	size_t len = 0;
	int ret;

	ret = check_devices(vm, why, why_len);
	if (ret)
		return ret;
	ret = guest_id(vm, &info.kernel_id);
	if (ret) {
		snprintf(why, why_len, "cannot read the guest's kernel: %s", strerror(-ret));
		return ret;
	}
	ret = vm_pause(vm);
	if (ret) {
		snprintf(why, why_len, "the VM ended before it could be paused");
		return ret;
	}
	snap_writer_init(&w, &info);
	ret = capture(vm, &w, why, why_len);
	if (ret) {
		snap_writer_free(&w);
		goto out;
	}
	ret = snap_finish(&w, &buf, &len);
	if (ret) {
		snprintf(why, why_len, "cannot build the state file: %s", strerror(-ret));
		goto out;
	}
	ret = save_memory(vm, mem_fd);
	if (!ret)
		ret = ftruncate(state_fd, 0) < 0 ? -errno : pwrite_all(state_fd, buf, len, 0);
	if (ret)
		snprintf(why, why_len, "cannot write the snapshot: %s", strerror(-ret));
out:
	free(buf);
	vm_resume(vm);
	return ret;
}

/* ------------------------------------------------------------- restore */

static int refuse(struct vm *vm, int err, const char *what)
{
	vm_log(vm, LOG_ERR, "snapshot refused: %s", what);
	return err;
}

/* The state file, parsed and checked against what was asked for, before
 * anything is built from it. */
int snapshot_load(struct vm *vm)
{
	struct vm_config *c = &vm->cfg;
	struct vm_restore *r;
	const char *why = NULL;
	uint64_t len = 0, id = 0;
	/* A boot's bad image is the loader's to report; a snapshot of it
	 * then fails on its identity. */
	int ret = guest_size(vm);

	if (!c->restore)
		return 0;
	if (ret)
		return refuse(vm, ret, "cannot read the guest's kernel");
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	vm->restore = r;
	ret = read_whole_fd(c->snap_state_fd, SNAP_MAX_FILE, &r->buf, &len);
	if (ret == -EFBIG)
		return refuse(vm, -EFBIG, "state file too large");
	if (ret)
		return refuse(vm, ret, "cannot read the state file");
	ret = snap_parse(r->buf, (size_t)len, &r->st, &why);
	if (ret)
		return refuse(vm, ret, why);
	if (r->st.info.nr_vcpus != c->vcpus)
		return refuse(vm, -EINVAL, "the snapshot has another vCPU count");
	if (r->st.info.mem_bytes != c->mem_bytes)
		return refuse(vm, -EINVAL, "the snapshot has another RAM size");
	if (!!(r->st.info.flags & SNAP_F_IRQCHIP) != vm->irqchip)
		return refuse(vm, -EINVAL, "the snapshot was taken with another irqchip setting");
	ret = guest_id(vm, &id);
	if (ret)
		return refuse(vm, ret, "cannot read the guest's kernel");
	if (id != r->st.info.kernel_id)
		return refuse(vm, -EINVAL, "the snapshot is of another guest kernel");
	return 0;
}

static int restore_fixed(struct vm *vm, int fd, const struct snap_ioctl *t, uint32_t instance)
{
	const struct snap_section *s = snap_find(&vm->restore->st, t->type, instance);
	char what[64];

	if (!s) /* snap_parse made sure of every required one */
		return refuse(vm, -EINVAL, "a section is missing");
	/* A host without XSAVE reads no XCRs and refuses to set any (also
	 * none); the counts of the others are KVM's to check. */
	if (t->type == SNAP_SEC_VCPU_XCRS && ((const struct kvm_xcrs *)s->data)->nr_xcrs == 0)
		return 0;
	if (ioctl(fd, t->set, s->data) < 0) {
		int err = -errno;
		snprintf(what, sizeof(what), "KVM refused section %u of %u: %s", t->type, instance,
			 strerror(-err));
		return refuse(vm, -EINVAL, what);
	}
	return 0;
}

int snapshot_restore_vcpu(struct vm *vm, struct vcpu *vcpu)
{
	const struct snap_section *msrs;
	int ret = 0;

	if (!vm->restore->msrs) {
		ret = msr_index_list(vm->kvm_fd, &vm->restore->msrs);
		if (ret)
			return ret;
	}
	for (size_t i = 0; i < ARRAY_SIZE(vcpu_ioctls) && !ret; i++)
		if (!vcpu_ioctls[i].irqchip || vm->irqchip)
			ret = restore_fixed(vm, vcpu->fd, &vcpu_ioctls[i], vcpu->index);
	msrs = snap_find(&vm->restore->st, SNAP_SEC_VCPU_MSRS, vcpu->index);
	if (!ret)
		ret = msrs ? restore_msrs(vm, vcpu, msrs) : -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(vcpu_ioctls_late) && !ret; i++)
		ret = restore_fixed(vm, vcpu->fd, &vcpu_ioctls_late[i], vcpu->index);
	return ret;
}

static int restore_irqchip(struct vm *vm)
{
	static const uint32_t chips[] = { SNAP_SEC_VM_PIC_MASTER, SNAP_SEC_VM_PIC_SLAVE,
					  SNAP_SEC_VM_IOAPIC };

	for (uint32_t c = 0; c < ARRAY_SIZE(chips); c++) {
		const struct snap_section *s = snap_find(&vm->restore->st, chips[c], 0);
		struct kvm_irqchip chip;

		if (!s)
			return refuse(vm, -EINVAL, "an irqchip section is missing");
		memcpy(&chip, s->data, sizeof(chip));
		if (chip.chip_id != c || chip.pad)
			return refuse(vm, -EINVAL, "an irqchip section names another chip");
		if (ioctl(vm->vm_fd, KVM_SET_IRQCHIP, &chip) < 0)
			return refuse(vm, -EINVAL, "KVM refused the irqchip state");
	}
	struct snap_ioctl pit = { SNAP_SEC_VM_PIT2, KVM_GET_PIT2, KVM_SET_PIT2,
				  sizeof(struct kvm_pit_state2), true };
	return restore_fixed(vm, vm->vm_fd, &pit, 0);
}

static int restore_virtio(struct vm *vm)
{
	char what[128];

	for (unsigned int i = 0; i < vm->nr_virtio; i++) {
		const struct snap_section *s = snap_find(&vm->restore->st, SNAP_SEC_DEVICE,
							 SNAP_DEV_VIRTIO(i));
		struct virtio_dev *d = vm->virtio[i];
		struct snap_virtio sv;
		const char *why = "its state is missing";
		int ret = s ? snap_virtio_parse(s->data, s->len, &sv, &why) : -EINVAL;

		/* -ENONET: a network where the snapshot had none, or none where
		 * it had one (the caller says which option to change). */
		if (!s && !strcmp(d->name, "net"))
			return refuse(vm, -ENONET, "this VM has a network and the snapshot has none");

		if (!ret) {
			pthread_mutex_lock(&d->lock);
			ret = snap_virtio_apply(d, &sv, &why);
			pthread_mutex_unlock(&d->lock);
		}
		if (ret) {
			snprintf(what, sizeof(what), "virtio-%s: %s", d->name, why);
			return refuse(vm, -EINVAL, what);
		}
	}
	return 0;
}

/* The VM-wide state, once every vCPU has its own: irqchip, PIT, the
 * devices, and the clock last (the guest's time goes on from the
 * snapshot's, not from when the files were written). */
int snapshot_restore_vm(struct vm *vm)
{
	const struct snap_section *s;
	struct kvm_clock_data clock;
	int ret;

	if (!vm->restore)
		return 0;
	if (vm->irqchip) {
		ret = restore_irqchip(vm);
		if (ret)
			return ret;
	}
	s = snap_find(&vm->restore->st, SNAP_SEC_DEVICE, SNAP_DEV_SERIAL);
	if (!s || !vm->serial || serial_restore(vm->serial, s->data, s->len))
		return refuse(vm, -EINVAL, "bad serial port state");
	for (uint32_t i = 0; i < vm->restore->st.nr_sec; i++) {
		const struct snap_section *d = &vm->restore->st.sec[i];
		if (d->type == SNAP_SEC_DEVICE && d->instance != SNAP_DEV_SERIAL &&
		    d->instance - SNAP_DEV_VIRTIO(0) >= vm->nr_virtio) {
			if (snap_virtio_device_id(d->data, d->len) == SNAP_VIRTIO_ID_NET)
				return refuse(vm, -ENONET,
					      "the snapshot has a network and this VM has none");
			return refuse(vm, -EINVAL, "state of a device this VM does not have");
		}
	}
	ret = restore_virtio(vm);
	if (ret)
		return ret;
	s = snap_find(&vm->restore->st, SNAP_SEC_VM_CLOCK, 0);
	memcpy(&clock, s->data, sizeof(clock));
	/* Only the clock's value: no flag asks KVM to move it on by the
	 * host's real time since. */
	memset(&clock.flags, 0, sizeof(clock) - offsetof(struct kvm_clock_data, flags));
	if (ioctl(vm->vm_fd, KVM_SET_CLOCK, &clock) < 0)
		return refuse(vm, -EINVAL, "KVM refused the clock");
	snapshot_restore_free(vm);
	return 0;
}

void snapshot_restore_free(struct vm *vm)
{
	struct vm_restore *r = vm->restore;

	if (!r)
		return;
	snap_state_free(&r->st);
	free(r->buf);
	free(r->msrs);
	free(r);
	vm->restore = NULL;
}
