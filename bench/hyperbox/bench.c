// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * hb-bench: getpid loop, fork+exec loop, CPU-bound loop; prints ns per unit.
 * Under Hyper-box also what each costs in its exits (the vm_exits counter
 * of /sys/kernel/hyperbox/exits, all CPUs): exits_per_getpid,
 * exits_per_forkexec and exits_per_cpu_s, figures that hold on any
 * hardware, unlike the lab's emulated timings.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Hyper-box's count of every exit it took, or -1 without Hyper-box. */
static double hv_exits(void)
{
	FILE *f = fopen("/sys/kernel/hyperbox/exits", "r");
	unsigned long long v;
	double r = -1;
	char line[128];

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "vm_exits %llu", &v) == 1)
			r = v;
	fclose(f);
	return r;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(int argc, char **argv)
{
	volatile unsigned long x = 0;
	double t, e[4], cpu_s;
	long i;

	if (argc > 1 && !strcmp(argv[1], "--noop"))
		return 0;
	e[0] = hv_exits();
	t = now();
	for (i = 0; i < 200000; i++)
		syscall(SYS_getpid);
	printf("getpid_ns %.1f\n", (now() - t) / 200000);
	e[1] = hv_exits();
	t = now();
	for (i = 0; i < 50; i++) {
		pid_t p = fork();

		if (!p) {
			execl(argv[0], argv[0], "--noop", NULL);
			_exit(127);
		}
		waitpid(p, NULL, 0);
	}
	printf("forkexec_us %.1f\n", (now() - t) / 50 / 1000);
	e[2] = hv_exits();
	t = now();
	for (i = 0; i < 50000000; i++)
		x += i ^ (x >> 3);
	cpu_s = (now() - t) / 1e9;
	printf("cpu_ms %.1f\n", cpu_s * 1e3);
	e[3] = hv_exits();
	if (e[0] >= 0 && e[3] >= 0) {
		printf("exits_per_getpid %.4f\n", (e[1] - e[0]) / 200000);
		printf("exits_per_forkexec %.1f\n", (e[2] - e[1]) / 50);
		printf("exits_per_cpu_s %.1f\n", (e[3] - e[2]) / cpu_s);
	}
	return 0;
}
