/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libalcatraz internals shared by the files of src/lib. */
#ifndef ALCATRAZ_LIB_H
#define ALCATRAZ_LIB_H

#include <stdbool.h>
#include <stdint.h>

#include "alcatraz/alcatraz.h"

#define ALCATRAZ_MAX_VCPUS 64
#define ALCATRAZ_MIN_MEM_MIB 2
#define ALCATRAZ_MAX_MEM_MIB 3072
#define PATH_MAX_LEN 4095
#define CMDLINE_MAX_LEN 4095

struct alcatraz_config {
	unsigned int vcpus;
	uint64_t mem_mib;
	char *image_path;
	char *kernel_path;
	char *initrd_path;
	char *cmdline;
	int serial_fd;
	int log_fd;
	uint64_t timeout_ms;
	enum alcatraz_irqchip irqchip;
	bool allow_slow_kvm;
	bool no_sandbox;   /* explicit, loud opt-out of the jail and seccomp */
};

/* Checks a whole configuration; 0 or -EINVAL. */
int config_validate(const struct alcatraz_config *cfg);

#endif
