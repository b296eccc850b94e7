// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * kvm-probe: what this host's /dev/kvm can run, from the library's own
 * check (alcatraz_kvm_probe), for scripts that choose between running on
 * /dev/kvm and running in the lab (tests/lab/on-kvm, scripts/run-main.sh).
 *
 * Usage: kvm-probe
 * Prints one line saying why, and exits with:
 *   0  /dev/kvm runs every guest at hardware speed
 *   1  /dev/kvm is kvm_pvm: tiny guests run, Linux guests do not
 *   2  /dev/kvm cannot run guests (absent, not accessible, wrong API)
 *   3  usage error
 */
#include <stdio.h>

#include <alcatraz/alcatraz.h>

enum {
	PROBE_FULL = 0,
	PROBE_TINY_ONLY = 1,
	PROBE_UNUSABLE = 2,
	PROBE_USAGE = 3,
};

int main(int argc, char **argv)
{
	char msg[256];
	int ret;

	if (argc > 1) {
		fprintf(stderr, "usage: kvm-probe (no arguments)\n");
		return PROBE_USAGE;
	}
	ret = alcatraz_kvm_probe(msg, sizeof(msg));
	printf("%s\n", msg);
	if (ret == 0)
		return PROBE_FULL;
	return ret == -ALCATRAZ_E_SLOWKVM ? PROBE_TINY_ONLY : PROBE_UNUSABLE;
}
