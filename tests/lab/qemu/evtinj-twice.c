// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * evtinj-twice: does the CPU deliver an interrupt that KVM injected once,
 * once?  Runs inside the AMD-V lab (KVM on the emulated SVM), static.
 *
 *   evtinj-twice [--self-test] [SECONDS [SPIN [PIT_DIVISOR]]]
 *                                     (defaults 10 5000000 23864: 50 Hz)
 *
 * A real-mode guest with KVM's in-kernel PIC and PIT programs the PIC for
 * vectors 0x40-0x47 with automatic EOI (so its handler makes no exit), the
 * PIT for periodic interrupts, and loops on "sti; nop; nop; cli".  KVM
 * injects each timer interrupt with the VMRUN that follows its exit.  The
 * handler counts its entries, checks the FLAGS its frame saved and then
 * spins SPIN turns with interrupts off.  An interrupt can only have
 * interrupted code running with IF set, so a saved IF of 0 is an interrupt
 * the CPU took with interrupts off; the handler reports it with an OUT to
 * port 0x501, which reaches user space.
 *
 * QEMU 7.2's emulated VMRUN (the patch next to this file) delivers the
 * injected vector at once and leaves it pending too; an exit request of
 * QEMU's vCPU loop before the guest's next exit delivers it again, wherever
 * the guest is: here mostly in the handler's IF=0 loop.  With one TCG
 * thread for all vCPUs (tests/lab/run --single-thread), every interrupt
 * QEMU raises for another vCPU is such an exit request, so a child on CPU 1
 * sleeps KICK_SLEEP_US at a time (a timer interrupt each) while the VM runs
 * on CPU 0.
 *
 * --self-test: the guest also runs "int 0x40" with interrupts off in each
 * turn, which the check must report (so it is known to see such an entry).
 *
 * Prints a summary line.  Status: 0 when no handler entry interrupted IF=0
 * code and the timer interrupts arrived (--self-test: when the check saw
 * the INTs), 1 when not, 2 when the VM could not be set up or exited
 * unexpectedly.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* sched_setaffinity */
#endif
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define GUEST_MEM	0x10000
#define CODE_GPA	0x1000
#define HANDLER_GPA	0x0200
#define COUNT_GPA	0x0600
#define STACK_TOP	0x8000
#define VECTOR		0x40
#define REPORT_PORT	0x501
#define DIVISOR_OFFSET	25	/* the two "mov al, imm8" of the PIT divisor in guest_code */
#define SELFTEST_OFFSET	36	/* the nops after cli in guest_code */
#define SPIN_OFFSET	0x19	/* the imm32 of "mov ecx, SPIN" in handler_code */
#define DEADLINE_TICK_US 100000	/* how often KVM_RUN returns to look at the clock */
#define KICK_SLEEP_US	20

/* at CODE_GPA */
static unsigned char guest_code[] = {
	0xb0, 0x11, 0xe6, 0x20,		/* PIC ICW1: edge, cascade, ICW4 follows */
	0xb0, VECTOR, 0xe6, 0x21,	/* ICW2: IRQ0 is VECTOR */
	0xb0, 0x04, 0xe6, 0x21,		/* ICW3: slave on IRQ2 */
	0xb0, 0x03, 0xe6, 0x21,		/* ICW4: 8086 mode, automatic EOI */
	0xb0, 0xfe, 0xe6, 0x21,		/* OCW1: IRQ0 only */
	0xb0, 0x34, 0xe6, 0x43,		/* PIT channel 0: rate generator, lo/hi */
	0xb0, 0, 0xe6, 0x40,		/* divisor low byte (patched) */
	0xb0, 0, 0xe6, 0x40,		/* divisor high byte (patched) */
	0xfb,				/* top: sti */
	0x90,				/* nop (the STI shadow) */
	0x90,				/* nop: the timer interrupt lands here */
	0xfa,				/* cli */
	0x90, 0x90,			/* nop; nop (--self-test: int VECTOR) */
	0xeb, 0xf8,			/* jmp top */
};

/* at HANDLER_GPA, the IVT entry of VECTOR points here */
static unsigned char handler_code[] = {
	0x66, 0xff, 0x06, 0x00, 0x06,	/* inc dword [COUNT_GPA] */
	0x55,				/* push bp */
	0x89, 0xe5,			/* mov bp, sp */
	0xf7, 0x46, 0x06, 0x00, 0x02,	/* test word [bp+6], 0x200: saved FLAGS.IF */
	0x75, 0x06,			/* jnz ok */
	0x52,				/* push dx */
	0xba, 0x01, 0x05,		/* mov dx, REPORT_PORT */
	0xee,				/* out dx, al */
	0x5a,				/* pop dx */
	0x66, 0x51,			/* ok: push ecx */
	0x66, 0xb9, 0, 0, 0, 0,		/* mov ecx, SPIN (patched) */
	0x67, 0xe2, 0xfd,		/* spin: loop spin (ecx) */
	0x66, 0x59,			/* pop ecx */
	0x5d,				/* pop bp */
	0xcf,				/* iret */
};

struct params {
	int self_test;
	unsigned long seconds;
	uint32_t spin;
	uint16_t divisor;
};

static void die(const char *what)
{
	fprintf(stderr, "evtinj-twice: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void on_alarm(int sig)
{
	(void)sig;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned long number(const char *s, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v == 0 || v > max) {
		fprintf(stderr, "evtinj-twice: wants a number from 1 to %lu, not '%s'\n", max, s);
		exit(2);
	}
	return v;
}

static void parse(int argc, char **argv, struct params *p)
{
	int i = 1;

	*p = (struct params){ .seconds = 10, .spin = 5000000, .divisor = 23864 };
	if (i < argc && !strcmp(argv[i], "--self-test")) {
		p->self_test = 1;
		i++;
	}
	if (i < argc)
		p->seconds = number(argv[i++], 3600);
	if (i < argc)
		p->spin = number(argv[i++], UINT32_MAX);
	if (i < argc)
		p->divisor = number(argv[i++], UINT16_MAX);
	if (i < argc) {
		fprintf(stderr, "usage: evtinj-twice [--self-test] [SECONDS [SPIN [PIT_DIVISOR]]]\n");
		exit(2);
	}
}

static void load_guest(uint8_t *mem, const struct params *p)
{
	uint16_t ivt[2] = { HANDLER_GPA, 0 };

	guest_code[DIVISOR_OFFSET] = p->divisor & 0xff;
	guest_code[DIVISOR_OFFSET + 4] = p->divisor >> 8;
	if (p->self_test) {
		guest_code[SELFTEST_OFFSET] = 0xcd;	/* int VECTOR */
		guest_code[SELFTEST_OFFSET + 1] = VECTOR;
	}
	memcpy(handler_code + SPIN_OFFSET, &p->spin, sizeof(p->spin));
	memcpy(mem + CODE_GPA, guest_code, sizeof(guest_code));
	memcpy(mem + HANDLER_GPA, handler_code, sizeof(handler_code));
	memcpy(mem + VECTOR * 4, ivt, sizeof(ivt));
}

static int setup_vcpu(int vm, uint8_t *mem)
{
	struct kvm_userspace_memory_region region = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = GUEST_MEM,
		.userspace_addr = (uintptr_t)mem,
	};
	struct kvm_pit_config pit = { .flags = 0 };
	struct kvm_regs regs = { .rip = CODE_GPA, .rsp = STACK_TOP, .rflags = 2 };
	struct kvm_sregs sregs;
	int vcpu;

	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		die("KVM_SET_USER_MEMORY_REGION");
	if (ioctl(vm, KVM_CREATE_IRQCHIP, 0) < 0)
		die("KVM_CREATE_IRQCHIP");
	if (ioctl(vm, KVM_CREATE_PIT2, &pit) < 0)
		die("KVM_CREATE_PIT2");
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		die("KVM_CREATE_VCPU");
	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		die("KVM_GET_SREGS");
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	sregs.ds.base = sregs.es.base = sregs.ss.base = 0;
	sregs.ds.selector = sregs.es.selector = sregs.ss.selector = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
		die("KVM_SET_SREGS");
	if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		die("KVM_SET_REGS");
	return vcpu;
}

static int on_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

/* A child on CPU 1 taking a timer interrupt every KICK_SLEEP_US until END. */
static pid_t start_kicker(double end)
{
	struct timespec ts = { 0, KICK_SLEEP_US * 1000 };
	pid_t pid;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		return 0;
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		if (on_cpu(1) < 0)
			_exit(1);
		while (now() < end)
			nanosleep(&ts, NULL);
		_exit(0);
	}
	if (on_cpu(0) < 0)
		die("sched_setaffinity");
	return pid;
}

/* Runs the guest until the deadline; returns the reports of IF=0 entries. */
static unsigned long run_guest(int vcpu, struct kvm_run *run, double end)
{
	unsigned long if_clear = 0;

	while (now() < end) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0) {
			if (errno != EINTR)
				die("KVM_RUN");
			continue;
		}
		if (run->exit_reason == KVM_EXIT_INTR)
			continue;
		if (run->exit_reason == KVM_EXIT_IO && run->io.port == REPORT_PORT &&
		    run->io.direction == KVM_EXIT_IO_OUT) {
			if_clear++;
			continue;
		}
		fprintf(stderr, "evtinj-twice: unexpected exit %u (I/O port 0x%x)\n",
			run->exit_reason, run->exit_reason == KVM_EXIT_IO ? run->io.port : 0);
		exit(2);
	}
	return if_clear;
}

int main(int argc, char **argv)
{
	struct itimerval it = { { 0, DEADLINE_TICK_US }, { 0, DEADLINE_TICK_US } };
	struct sigaction sa = { .sa_handler = on_alarm };
	unsigned long if_clear;
	struct params p;
	pid_t kicker;
	struct kvm_run *run;
	uint32_t entries;
	uint8_t *mem;
	int kvm, vm, vcpu, map;
	double start;

	parse(argc, argv, &p);
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		die("/dev/kvm");
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		die("KVM_CREATE_VM");
	mem = mmap(NULL, GUEST_MEM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap guest memory");
	load_guest(mem, &p);
	vcpu = setup_vcpu(vm, mem);
	map = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (map < (int)sizeof(*run))
		die("KVM_GET_VCPU_MMAP_SIZE");
	run = mmap(NULL, map, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		die("mmap kvm_run");
	/* no SA_RESTART: the timer makes KVM_RUN return to look at the clock */
	if (sigaction(SIGALRM, &sa, NULL) < 0 || setitimer(ITIMER_REAL, &it, NULL) < 0)
		die("interval timer");

	start = now();
	kicker = start_kicker(start + p.seconds);
	if_clear = run_guest(vcpu, run, start + p.seconds);
	if (kicker > 0)
		waitpid(kicker, NULL, 0);
	memcpy(&entries, mem + COUNT_GPA, sizeof(entries));
	printf("evtinj-twice: %u handler entries in %.1f s, %lu of them with IF clear%s\n",
	       entries, now() - start, if_clear, p.self_test ? " (self-test: int 0x40 with IF clear)" : "");
	if (p.self_test) {
		if (!if_clear) {
			printf("evtinj-twice: FAIL: the self-test's int 0x40 with IF clear was not seen\n");
			return 1;
		}
		printf("evtinj-twice: ok: the check sees an entry with IF clear (self-test)\n");
		return 0;
	}
	if (if_clear) {
		printf("evtinj-twice: FAIL: the CPU delivered injected interrupts again while the guest's interrupts were off\n");
		return 1;
	}
	if (entries < 10) {
		printf("evtinj-twice: FAIL: only %u timer interrupts arrived: nothing was tested\n", entries);
		return 1;
	}
	printf("evtinj-twice: ok: each injected interrupt arrived with IF set\n");
	return 0;
}
