/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* alcatraz-run --check: the host readiness report. */
#ifndef ALCATRAZ_EXAMPLES_HOST_CHECK_H
#define ALCATRAZ_EXAMPLES_HOST_CHECK_H

#include <stdio.h>

/*
 * Prints one line per item to out and a verdict line; never opens anything
 * it would need to be ready (works on a host without /dev/kvm).
 * Returns 0 when VMs can run here protected by Hyper-box, 1 otherwise.
 */
int host_check(FILE *out);

#endif
