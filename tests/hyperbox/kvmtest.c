// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * hb-kvmtest: a minimal KVM user (static, for the lab) until the project's
 * tiny guests run there.  A real-mode guest writes "hello\n" to port 0x3f8,
 * counts to N in a loop, writes the count's low byte, and halts.
 *   hb-kvmtest [--hold SEC]   (--hold: create a VM and sleep, nothing else)
 *   hb-kvmtest --cpuid N      the guest runs CPUID N times, then halts: N
 *                             exits that KVM handles in the kernel, within
 *                             one KVM_RUN (the nested cost per L2 exit)
 *   hb-kvmtest --svm-misuse   SVM instructions and Hyper-box's leave
 *                             hypercall from user mode: prints what each got
 * Prints the guest's output and "exit: hlt" / "exit: <reason>"; status 0
 * when the guest halted after its output, 2 on a failed VM entry, 1 else.
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static const unsigned char code[] = {
	0xbe, 0x20, 0x00,		/* mov si, msg */
	0xba, 0xf8, 0x03,		/* mov dx, 0x3f8 */
	0xac,				/* l: lodsb */
	0x84, 0xc0,			/* test al, al */
	0x74, 0x03,			/* jz done */
	0xee,				/* out dx, al */
	0xeb, 0xf8,			/* jmp l */
	0x66, 0xb9, 0x40, 0x42, 0x0f, 0x00,	/* done: mov ecx, 1000000 */
	0x66, 0x31, 0xc0,		/* xor eax, eax */
	0x66, 0x40,			/* m: inc eax */
	0xe2, 0xfc,			/* loop m (cx in 16-bit: uses cx) */
	0xee,				/* out dx, al */
	0xf4,				/* hlt */
	0, 0, 0,
	'h', 'e', 'l', 'l', 'o', '\n', 0,
};

/* --cpuid: N CPUIDs, each an exit KVM handles itself, then HLT. */
static unsigned char cpuid_code[] = {
	0x66, 0xbe, 0, 0, 0, 0,		/* mov esi, N (patched) */
	0x66, 0x31, 0xc0,		/* l: xor eax, eax */
	0x0f, 0xa2,			/* cpuid */
	0x66, 0x4e,			/* dec esi */
	0x75, 0xf7,			/* jnz l */
	0xf4,				/* hlt */
};

/* Runs one instruction in a child; returns the signal that killed it (0: none). */
static int try_insn(int which)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		switch (which) {
		case 0: asm volatile("clgi"); break;
		case 1: asm volatile("stgi"); break;
		case 2: asm volatile("vmload %%rax" : : "a"(0UL) : "memory"); break;
		case 3: asm volatile("vmsave %%rax" : : "a"(0UL) : "memory"); break;
		case 4: asm volatile("vmrun %%rax" : : "a"(0UL) : "memory"); break;
		}
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFSIGNALED(st) ? WTERMSIG(st) : 0;
}

static int svm_misuse(void)
{
	static const char *const names[] = { "clgi", "stgi", "vmload", "vmsave", "vmrun" };
	unsigned long rax = 0x48594258424f5831UL, rbx = 2;	/* HV_HC_MAGIC, HV_HC_DEVIRT */
	int i, sig;

	for (i = 0; i < 5; i++) {
		sig = try_insn(i);
		printf("user %s: %s\n", names[i], sig == SIGSEGV ? "SIGSEGV (#GP)" :
		       sig == SIGILL ? "SIGILL (#UD)" : sig ? "other signal" : "no fault");
	}
	fflush(stdout);
	if (fork() == 0) {
		asm volatile("vmmcall" : "+a"(rax), "+b"(rbx) : : "rcx", "rdx", "memory");
		printf("user leave hypercall: rax=%ld\n", (long)rax);
		fflush(stdout);
		_exit(0);
	}
	wait(NULL);
	return 0;
}

int main(int argc, char **argv)
{
	int kvm = open("/dev/kvm", O_RDWR), vm, vcpu;
	struct kvm_userspace_memory_region mem;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_run *run;
	unsigned char *ram;
	unsigned long n = 0;
	char *end;

	if (argc == 2 && !strcmp(argv[1], "--svm-misuse"))
		return svm_misuse();
	if (kvm < 0 || (vm = ioctl(kvm, KVM_CREATE_VM, 0)) < 0) {
		perror("hb-kvmtest: /dev/kvm");
		return 1;
	}
	if (argc == 3 && !strcmp(argv[1], "--hold")) {
		vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
		sleep(atoi(argv[2]));
		return vcpu < 0;
	}
	if (argc == 3 && !strcmp(argv[1], "--cpuid")) {
		n = strtoul(argv[2], &end, 10);
		if (*end || !n || n > 0xffffffffUL) {
			fprintf(stderr, "hb-kvmtest: --cpuid: a count from 1 to 4294967295: %s\n", argv[2]);
			return 1;
		}
	}
	ram = mmap(NULL, 0x10000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (ram == MAP_FAILED) {
		perror("hb-kvmtest: mmap");
		return 1;
	}
	if (n) {
		memcpy(cpuid_code + 2, &(unsigned int){ n }, 4);
		memcpy(ram, cpuid_code, sizeof(cpuid_code));
	} else {
		memcpy(ram, code, sizeof(code));
	}
	mem = (struct kvm_userspace_memory_region){ .slot = 0, .guest_phys_addr = 0,
		.memory_size = 0x10000, .userspace_addr = (unsigned long)ram };
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &mem) < 0 ||
	    (vcpu = ioctl(vm, KVM_CREATE_VCPU, 0)) < 0) {
		perror("hb-kvmtest: vm setup");
		return 1;
	}
	run = mmap(NULL, ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0), PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	ioctl(vcpu, KVM_GET_SREGS, &sregs);
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	ioctl(vcpu, KVM_SET_SREGS, &sregs);
	memset(&regs, 0, sizeof(regs));
	regs.rip = 0;
	regs.rflags = 2;
	ioctl(vcpu, KVM_SET_REGS, &regs);
	for (;;) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0) {
			perror("hb-kvmtest: KVM_RUN");
			return 1;
		}
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			if (run->io.direction == KVM_EXIT_IO_OUT && run->io.port == 0x3f8) {
				unsigned char ch = *((unsigned char *)run + run->io.data_offset);

				if (ch == '\n' || (ch >= ' ' && ch < 127))
					putchar(ch);
				else
					printf("[%02x]", ch);
			}
			break;
		case KVM_EXIT_HLT:
			printf("\nexit: hlt\n");
			return 0;
		case KVM_EXIT_FAIL_ENTRY:
			printf("\nexit: fail_entry reason=%#llx\n",
			       (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
			return 2;
		default:
			printf("\nexit: reason %u\n", run->exit_reason);
			return 1;
		}
	}
}
