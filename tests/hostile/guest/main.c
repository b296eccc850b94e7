// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The hostile guest: one image for every case. The runner puts the case's
 * number on the command line (platform_raw.c copies it to
 * RAW_TEST_CMDLINE); vCPU 0 runs the case, then checks that the VMM still
 * serves a device ("alive") and exits 0 through the exit device. The other
 * vCPUs wait for race work (race_start).
 */
#include "hostile.h"

#define RAW_TEST_CMDLINE 0x9000UL

typedef int (*case_fn)(void);

static const struct {
	const char *name;
	case_fn fn;
} cases[] = {
#define HCASE(name, flags, kind, status, msg) { #name, case_##name },
#include "../cases.def"
#undef HCASE
};

unsigned long nr_cpus;
volatile int race_stopping;
static void (*volatile race_fn[HOSTILE_VCPUS])(void *);
static void *volatile race_arg[HOSTILE_VCPUS];
static volatile int race_running[HOSTILE_VCPUS];

void race_start(unsigned int cpu, void (*fn)(void *), void *arg)
{
	if (cpu == 0 || cpu >= nr_cpus) {
		put_str("FAIL: race_start: no vCPU ");
		put_dec(cpu);
		put_str("\n");
		guest_exit(98);
	}
	race_stopping = 0;
	race_arg[cpu] = arg;
	mb();
	race_fn[cpu] = fn;
	while (!race_running[cpu])
		cpu_relax();
}

void race_stop(void)
{
	race_stopping = 1;
	mb();
	for (unsigned long c = 1; c < nr_cpus; c++)
		while (race_running[c])
			cpu_relax();
}

static void __attribute__((noreturn)) secondary(unsigned long cpu)
{
	for (;;) {
		void (*fn)(void *);
		while (!(fn = race_fn[cpu]))
			cpu_relax();
		race_running[cpu] = 1;
		mb();
		fn(race_arg[cpu]);
		race_fn[cpu] = 0;
		mb();
		race_running[cpu] = 0;
	}
}

static unsigned long parse_case(void)
{
	const volatile char *s = (const volatile char *)RAW_TEST_CMDLINE;
	unsigned long n = 0;

	if (*s < '0' || *s > '9')
		return ~0UL;
	while (*s >= '0' && *s <= '9')
		n = n * 10 + (unsigned long)(*s++ - '0');
	return n;
}

int alive_check(void)
{
	struct vq q;
	uint8_t *buf = galloc(64, 64);
	struct seg s = { gpa(buf), 16, D_WRITE };
	uint32_t len = 0;

	EXPECT_EQ(mr(VIO_RNG, R_MAGIC), 0x74726976);
	TRY(vio_up(VIO_RNG, &q, 1, 8, 0));
	vq_send(&q, &s, 1);
	EXPECT(vq_wait(&q, WAIT_LONG, NULL, &len));
	EXPECT_EQ(len, 16);
	mw(VIO_RNG, R_STATUS, 0);
	return 0;
}

int guest_main(unsigned long cpu, unsigned long ncpus)
{
	unsigned long n;
	int ret;

	if (cpu != 0)
		secondary(cpu);
	nr_cpus = ncpus > HOSTILE_VCPUS ? HOSTILE_VCPUS : ncpus;
	n = parse_case();
	if (n >= sizeof(cases) / sizeof(cases[0])) {
		put_str("FAIL: no case number on the command line\n");
		return 97;
	}
	put_str("case ");
	put_str(cases[n].name);
	put_str("\n");
	ret = cases[n].fn();
	race_stop();
	if (ret) {
		put_str("case failed\n");
		return ret;
	}
	ret = alive_check();
	if (ret) {
		put_str("FAIL: the VMM no longer serves the rng device\n");
		return ret;
	}
	put_str("alive\n");
	return 0;
}
