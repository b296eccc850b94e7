/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * alcatraz-run's parts, shared between its files: the options
 * (options.c), the Linux guest's files, devices and network
 * (guest.c), the VM's cgroup (cgroup.c) and how a VM's end becomes
 * the exit status and --stats (report.c).  main.c creates and
 * runs the VM.
 */
#ifndef ALCATRAZ_EXAMPLES_ALCATRAZ_RUN_H
#define ALCATRAZ_EXAMPLES_ALCATRAZ_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <alcatraz/alcatraz.h>

/* The status of a runtime error, with one line on standard error. */
#define EXIT_RUNTIME 125

/* At most this many of each repeatable option. */
#define MAX_LIST 64

struct options {
	const char *guest;
	const char *kernel;
	const char *initrd;
	const char *cmdline;
	const char *rootfs;
	const char *rootfs_pack;
	const char *root_disk;
	const char *workdir;
	const char *cgroup_parent;
	const char *restore;      /* --restore DIR: a snapshot (issue 18) */
	int require_cgroup;
	const char *disks[MAX_LIST];
	unsigned int nr_disks;
	const char *volumes[MAX_LIST];
	unsigned int nr_volumes;
	const char *envs[MAX_LIST];
	unsigned int nr_envs;
	const char *net;
	const char *publish[MAX_LIST];
	unsigned int nr_publish;
	char **command;
	int stats;
	int serial;
	int no_sandbox;
	int raw_output;
	unsigned long cpus;
	unsigned long memory_mib;
	double timeout_s;
	enum alcatraz_irqchip irqchip;
	int verbose;
	int check;
	unsigned int given; /* bits of opt_modes[] */
};

/* Prints "alcatraz-run: " and the message as one line; returns EXIT_RUNTIME. */
int die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* options.c: fills o from the command line; 0, or EXIT_RUNTIME after one line. */
int parse_args(int argc, char **argv, struct options *o);

/* guest.c: each returns 0, or EXIT_RUNTIME after one line. */
int find_guest_files(const struct options *o, char *kernel, size_t len);
int set_network(struct alcatraz_config *cfg, const struct options *o);
int add_disks(struct alcatraz_config *cfg, const struct options *o);
int add_shares(struct alcatraz_config *cfg, const struct options *o);

/* cgroup.c */
int check_cgroup_parent(const struct options *o);
int set_cgroup(struct alcatraz_config *cfg, const struct options *o);
int cgroup_refused(const struct options *o, int ret);

/* report.c */
int exit_code_of(const struct alcatraz_result *r, bool command);
uint64_t now_ns(void);
void print_stats(const struct alcatraz_result *r, int code, uint64_t create_ns);

#endif
