/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libalcatraz internals shared by the files of src/lib. */
#ifndef ALCATRAZ_LIB_H
#define ALCATRAZ_LIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alcatraz/alcatraz.h"
#include "net.h"
#include "vmm_protocol.h"

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
	char *vmm_path;    /* alcatraz-vmm to start; NULL: the default lookup */
	char *cgroup_parent; /* where the VM's cgroup is made; NULL: our own */
	bool require_cgroup; /* missing cgroup limits fail the VM */
	struct alcatraz_pool *pool; /* borrowed: VMM processes started ahead, or NULL */
	bool test_raw_platform; /* test builds: raw guests get the virtio devices */
	char *restore_dir;   /* issue 18 (snapshot.c): start from this snapshot */

	/* Linux guests (guest_config.c). */
	char **argv;
	char **envp;
	unsigned int envc;
	char *workdir;
	bool stdio_set;          /* the fds below are valid (owned) only then */
	int stdin_fd, stdout_fd, stderr_fd;
	struct alcatraz_disk *disks;
	unsigned int nr_disks;
	char *root_disk;
	char *rootfs_dir;
	char *init_path, *busybox_path;
	struct net_config net;   /* issue 16 (net.c); zeroed: no network */
	struct volume *volumes;  /* issue 17 (volume_api.c): virtio-fs, one virtiofsd each */
	unsigned int nr_volumes;
};

struct alcatraz_disk {
	char *path;
	bool readonly;
};

/* config.c: replaces *dst with a copy of src, a non-empty string of at most
 * max bytes; *dst is left alone on failure.  0, -EINVAL or -ENOMEM. */
int config_set_string(char **dst, const char *src, size_t max);

/* snapshot.c: the restore directory's state and memory files, read-only;
 * 0 or -errno with a line in the log. */
int snapshot_open_restore(const struct alcatraz_config *cfg, int *state_fd, int *mem_fd);

/* guest_config.c: release the Linux-guest fields of a configuration. */
void guest_config_free(struct alcatraz_config *cfg);
/* The initramfs the library writes (alcatraz-init, busybox or a host
 * directory) as a sealed memfd; 0 or -errno (-ENOENT: no init). */
int guest_initramfs_memfd(const struct alcatraz_config *cfg, int *fd);

/* config_encode.c: a configuration as the VMM protocol's records and the
 * descriptors they name (fds[0] is the records' own memfd). */
struct cfg_blob {
	uint8_t *buf;
	size_t len, cap;
	int fds[VMM_MSG_MAX_FDS];
	unsigned int nfds;
	int err;
};
/* Opens every file of cfg (the caller's rights apply: /dev/kvm, images,
 * disks with their locks) and writes the records. 0 or -errno; the reason
 * goes to the log. The blob is released by cfg_blob_free() either way. */
int config_encode(const struct alcatraz_config *cfg, const struct net_backend *net,
		  struct cfg_blob *b);
void cfg_blob_free(struct cfg_blob *b);
/* An exec's command (argv non-empty, envp may be NULL) as ARG, ENV and
 * WORKDIR records in a sealed memfd: *fd. 0 or -errno. */
int command_encode(const char *const *argv, const char *const *envp, const char *workdir,
		   int *fd);

/* kvm_probe.c */
int lib_kvm_is_pvm(void);

/* log.c: one line to the configuration's log descriptor; a log that does
 * not drain is skipped after a short wait, never blocks the caller long. */
void lib_log(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Where alcatraz-vmm is: cfg's, $ALCATRAZ_VMM (secure_getenv), the test
 * build's, else <libexecdir>/alcatraz/alcatraz-vmm. */
int vmm_binary_path(const struct alcatraz_config *cfg, char *buf, size_t len);

/* Checks a whole configuration; 0 or -EINVAL. */
int config_validate(const struct alcatraz_config *cfg);

#endif
