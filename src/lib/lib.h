/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libalcatraz internals shared by the files of src/lib. */
#ifndef ALCATRAZ_LIB_H
#define ALCATRAZ_LIB_H

#include <stdbool.h>
#include <stddef.h>
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
	enum alcatraz_output_filter output_filter;
	bool allow_slow_kvm;
	bool no_sandbox;   /* explicit, loud opt-out of the jail and seccomp */

	/* Linux guests (guest_config.c). */
	char **argv;
	char **envp;
	unsigned int envc;
	char *workdir;
	bool stdio_set;          /* the fds below are valid (owned) only then */
	int stdin_fd, stdout_fd;
	struct alcatraz_disk *disks;
	unsigned int nr_disks;
	char *root_disk;
	char *rootfs_dir;
	char *init_path, *busybox_path;
};

struct alcatraz_disk {
	char *path;
	bool readonly;
};

/* config.c: replaces *dst with a copy of src, a non-empty string of at most
 * max bytes; *dst is left alone on failure.  0, -EINVAL or -ENOMEM. */
int config_set_string(char **dst, const char *src, size_t max);

struct vm_config;
/* guest_config.c: release the Linux-guest fields of a configuration. */
void guest_config_free(struct alcatraz_config *cfg);
/* Fills the Linux-guest part of a VM configuration (deep copies, dup'ed
 * fds, the initramfs); vm_create() owns the result, also on failure. */
int guest_config_fill(const struct alcatraz_config *cfg, struct vm_config *vc);
/* Releases what guest_config_fill() put in vc when vm_create() is not
 * reached in this process. */
void guest_vm_config_free(struct vm_config *vc);

/* Checks a whole configuration; 0 or -EINVAL. */
int config_validate(const struct alcatraz_config *cfg);

#endif
