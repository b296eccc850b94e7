// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * x86 processor state for entering a guest directly in 64-bit mode: a flat
 * GDT, identity page tables for the low 4 GiB (2 MiB pages), and the segment
 * and control registers that 64-bit mode requires. Linux's 64-bit boot
 * protocol and the raw tiny guests both start from this state.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vmm.h"

#define PTE_P (1ULL << 0)
#define PTE_W (1ULL << 1)
#define PTE_PS (1ULL << 7)

#define CR0_PE (1ULL << 0)
#define CR0_MP (1ULL << 1)
#define CR0_ET (1ULL << 4)
#define CR0_NE (1ULL << 5)
#define CR0_WP (1ULL << 16)
#define CR0_AM (1ULL << 18)
#define CR0_PG (1ULL << 31)
#define CR4_PAE (1ULL << 5)
#define CR4_OSFXSR (1ULL << 9)
#define CR4_OSXMMEXCPT (1ULL << 10)
#define EFER_SCE (1ULL << 0)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)

/* Selectors follow the Linux boot protocol: __BOOT_CS 0x10, __BOOT_DS 0x18. */
#define BOOT_CS 0x10
#define BOOT_DS 0x18

static const uint64_t boot_gdt[] = {
	0,                     /* null */
	0,                     /* unused */
	0x00af9b000000ffffULL, /* 0x10: 64-bit code, DPL 0 */
	0x00cf93000000ffffULL, /* 0x18: data, DPL 0 */
};

static bool host_has_1g_pages(void)
{
	const struct kvm_cpuid2 *c = kvm_host_facts()->cpuid;

	for (uint32_t i = 0; c && i < c->nent; i++)
		if (c->entries[i].function == 0x80000001)
			return c->entries[i].edx & (1u << 26); /* Page1GB */
	return false;
}

int x86_build_identity_map(struct vm *vm)
{
	uint64_t pml4e = X86_BOOT_PDPT | PTE_P | PTE_W;
	uint64_t pdpt[4];
	uint64_t pd[512];
	int ret;

	ret = gmem_write(&vm->mem, X86_BOOT_GDT, boot_gdt, sizeof(boot_gdt));
	if (ret)
		return ret;
	ret = gmem_write(&vm->mem, X86_BOOT_PML4, &pml4e, sizeof(pml4e));
	if (ret)
		return ret;
	/* Fresh guest RAM is zero, so only the used entries are written: every
	 * page the VMM touches here costs a host page fault at VM creation. */
	if (host_has_1g_pages()) {
		for (unsigned int g = 0; g < 4; g++)
			pdpt[g] = ((uint64_t)g << 30) | PTE_P | PTE_W | PTE_PS;
		return gmem_write(&vm->mem, X86_BOOT_PDPT, pdpt, sizeof(pdpt));
	}
	for (unsigned int g = 0; g < 4; g++) {
		uint64_t pd_gpa = X86_BOOT_PD + g * 0x1000ULL;
		pdpt[g] = pd_gpa | PTE_P | PTE_W;
		for (unsigned int i = 0; i < 512; i++)
			pd[i] = (((uint64_t)g << 30) + ((uint64_t)i << 21)) | PTE_P | PTE_W | PTE_PS;
		ret = gmem_write(&vm->mem, pd_gpa, pd, sizeof(pd));
		if (ret)
			return ret;
	}
	return gmem_write(&vm->mem, X86_BOOT_PDPT, pdpt, sizeof(pdpt));
}

static void flat_segment(struct kvm_segment *s, uint16_t sel, bool code)
{
	memset(s, 0, sizeof(*s));
	s->base = 0;
	s->limit = 0xffffffff;
	s->selector = sel;
	s->present = 1;
	s->s = 1;
	s->g = 1;
	if (code) {
		s->type = 11; /* execute/read, accessed */
		s->l = 1;
	} else {
		s->type = 3; /* read/write, accessed */
		s->db = 1;
	}
}

int x86_enter_long_mode(struct vcpu *vcpu, uint64_t rip, uint64_t rsp, uint64_t rdi,
			uint64_t rsi)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;

	flat_segment(&sregs.cs, BOOT_CS, true);
	flat_segment(&sregs.ds, BOOT_DS, false);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;

	memset(&sregs.tr, 0, sizeof(sregs.tr));
	sregs.tr.limit = 0x67;
	sregs.tr.type = 11; /* busy 64-bit TSS: VM entry insists on a usable TR */
	sregs.tr.present = 1;
	memset(&sregs.ldt, 0, sizeof(sregs.ldt));
	sregs.ldt.type = 2;
	sregs.ldt.unusable = 1;

	sregs.gdt.base = X86_BOOT_GDT;
	sregs.gdt.limit = sizeof(boot_gdt) - 1;
	/* No IDT: any exception in a guest that did not install one becomes a
	 * triple fault, which the VMM reports as a crash. */
	sregs.idt.base = 0;
	sregs.idt.limit = 0;

	sregs.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_PG;
	sregs.cr3 = X86_BOOT_PML4;
	sregs.cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
	sregs.efer = EFER_LME | EFER_LMA | EFER_SCE;

	if (ioctl(vcpu->fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;

	memset(&regs, 0, sizeof(regs));
	regs.rip = rip;
	regs.rsp = rsp;
	regs.rdi = rdi;
	regs.rsi = rsi;
	regs.rflags = 2; /* bit 1 is reserved-one; interrupts off */
	if (ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}
