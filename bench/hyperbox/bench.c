// SPDX-License-Identifier: LGPL-2.1-or-later
/* hb-bench: getpid loop, fork+exec loop, CPU-bound loop; prints ns per unit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(int argc, char **argv)
{
	volatile unsigned long x = 0;
	double t;
	long i;

	if (argc > 1 && !strcmp(argv[1], "--noop"))
		return 0;
	t = now();
	for (i = 0; i < 200000; i++)
		syscall(SYS_getpid);
	printf("getpid_ns %.1f\n", (now() - t) / 200000);
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
	t = now();
	for (i = 0; i < 50000000; i++)
		x += i ^ (x >> 3);
	printf("cpu_ms %.1f\n", (now() - t) / 1e6);
	return 0;
}
