// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * hb-tls ROUNDS: two processes on one CPU, each with a TLS descriptor of
 * its own in the same GDT slot (set_thread_area takes the first free one),
 * hand a byte to each other through two pipes ROUNDS times, each read a
 * switch to the other (sched_yield would switch only when the scheduler
 * likes, and not at all before the other has started).  After every switch each checks, from
 * the live GDT, that the slot holds its own descriptor (LSL: its own
 * limit) and that GS loaded from it reaches its own page.  Under Hyper-box
 * the GDT is read-only to the kernel, and every switch's load_TLS stores
 * are carried out by Hyper-box.  Exit 0 when both saw only their own.
 */
#include <asm/ldt.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096

/* pipes[0]: task 0 to task 1, pipes[1]: task 1 to task 0 */
static int pipes[2][2];

/* Task idx's turn in the ping-pong: task 0 writes first, task 1 reads first. */
static int pass_turn(unsigned int idx)
{
	char c = 0;

	if (idx == 0 && write(pipes[0][1], &c, 1) != 1)
		return -1;
	if (read(pipes[!idx][0], &c, 1) != 1)
		return -1;
	if (idx == 1 && write(pipes[1][1], &c, 1) != 1)
		return -1;
	return 0;
}
/* set_thread_area of the 32-bit system call table: the 64-bit one has none */
#define IA32_SET_THREAD_AREA 243

/* Through int 0x80, so d must lie below 4 GiB. */
static int set_thread_area32(struct user_desc *d)
{
	long ret = IA32_SET_THREAD_AREA;

	asm volatile("int $0x80" : "+a"(ret) : "b"(d) : "memory", "r8", "r9", "r10", "r11");
	return (int)ret;
}

static uint32_t lsl(uint16_t sel)
{
	uint32_t limit = 0;

	asm volatile("lsl %1, %0" : "+r"(limit) : "r"((uint32_t)sel) : "cc");
	return limit;
}

/* One task: its marker at the base of its descriptor, its own limit. */
static int task(unsigned int idx, long rounds)
{
	const uint64_t marker = 0x7a5c000000000000ULL | (getpid() & 0xffffff);
	const uint32_t limit = PAGE - 1 - 0x100 * idx;
	uint64_t *page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	struct user_desc *d = (struct user_desc *)(page + 1);
	uint16_t sel;
	uint64_t v;
	cpu_set_t one;
	int st;

	CPU_ZERO(&one);
	CPU_SET(0, &one);
	if (page == MAP_FAILED || sched_setaffinity(0, sizeof(one), &one)) {
		perror("hb-tls: mmap or sched_setaffinity");
		return 2;
	}
	*page = marker;
	*d = (struct user_desc){ .entry_number = -1, .base_addr = (unsigned int)(uintptr_t)page,
				 .limit = limit, .seg_32bit = 1, .useable = 1 };
	st = set_thread_area32(d);
	if (st) {
		fprintf(stderr, "hb-tls: set_thread_area: %d\n", st);
		return 2;
	}
	sel = (uint16_t)(d->entry_number * 8 + 3);
	asm volatile("mov %0, %%gs" : : "r"(sel));
	for (long i = 0; i < rounds; i++) {
		if (pass_turn(idx)) {
			perror("hb-tls: pipe");
			return 2;
		}
		asm volatile("mov %%gs:0, %0" : "=r"(v));
		if (lsl(sel) != limit || v != marker) {
			fprintf(stderr, "hb-tls: task %u, switch %ld: slot %u has limit %#x (own %#x), "
				"GS reads %#llx (own %#llx)\n", idx, i, d->entry_number, lsl(sel), limit,
				(unsigned long long)v, (unsigned long long)marker);
			return 1;
		}
	}
	printf("hb-tls: task %u: slot %u, %ld switches, its own descriptor each time\n", idx,
	       d->entry_number, rounds);
	return 0;
}

int main(int argc, char **argv)
{
	long rounds = argc > 1 ? atol(argv[1]) : 1000;
	int st, fails = 0;
	pid_t p[2];

	if (rounds <= 0) {
		fprintf(stderr, "usage: hb-tls ROUNDS\n");
		return 2;
	}
	if (pipe(pipes[0]) || pipe(pipes[1])) {
		perror("hb-tls: pipe");
		return 2;
	}
	fflush(stdout);
	for (unsigned int i = 0; i < 2; i++) {
		p[i] = fork();
		if (p[i] < 0) {
			perror("hb-tls: fork");
			return 2;
		}
		if (!p[i])
			_exit(task(i, rounds));
	}
	for (unsigned int i = 0; i < 2; i++)
		if (waitpid(p[i], &st, 0) != p[i] || !WIFEXITED(st) || WEXITSTATUS(st))
			fails++;
	return fails ? 1 : 0;
}
