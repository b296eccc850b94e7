/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What confines each thread of a VMM process, as /proc shows it: the
 * per-thread fields of /proc/PID/task/TID/status (capability sets,
 * no_new_privs, seccomp mode) and the namespaces of /proc/PID/task/TID/ns.
 * Capabilities, no_new_privs and seccomp are a thread's own, so a thread
 * started before a drop keeps what it had: these let a test compare every
 * thread with every other.
 */
#ifndef ALCATRAZ_TEST_THREAD_CONFINEMENT_H
#define ALCATRAZ_TEST_THREAD_CONFINEMENT_H

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#define CONF_MAX_THREADS 16

static const char *const conf_fields[] = {
	"CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:", "NoNewPrivs:", "Seccomp:",
};
static const char *const conf_ns[] = { "mnt", "net", "ipc", "uts", "user", "pid", "cgroup" };

#define CONF_NFIELDS (sizeof(conf_fields) / sizeof(conf_fields[0]))
#define CONF_NNS (sizeof(conf_ns) / sizeof(conf_ns[0]))

struct thread_conf {
	int tid;
	char field[CONF_NFIELDS][40];
	char ns[CONF_NNS][48];
};

/* The confinement of each thread of @pid; how many threads (the main
 * thread, whose tid is the pid, first). */
static int read_thread_confinement(pid_t pid, struct thread_conf *out, int max)
{
	char path[128], line[256];
	struct dirent *e;
	int n = 1;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	ck_assert_ptr_nonnull(d);
	memset(out, 0, sizeof(*out) * (size_t)max);
	while ((e = readdir(d))) {
		int tid = atoi(e->d_name);
		struct thread_conf *t;

		if (tid <= 0)
			continue;
		if (tid == pid)
			t = &out[0];
		else if (n < max)
			t = &out[n++];
		else
			ck_abort_msg("more than %d threads", max);
		t->tid = tid;
		snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)pid, tid);
		FILE *f = fopen(path, "r");
		ck_assert_ptr_nonnull(f);
		while (fgets(line, sizeof(line), f))
			for (size_t i = 0; i < CONF_NFIELDS; i++)
				if (!strncmp(line, conf_fields[i], strlen(conf_fields[i])))
					sscanf(line + strlen(conf_fields[i]), " %39s", t->field[i]);
		fclose(f);
		for (size_t i = 0; i < CONF_NNS; i++) {
			snprintf(path, sizeof(path), "/proc/%d/task/%d/ns/%s", (int)pid, tid, conf_ns[i]);
			ssize_t l = readlink(path, t->ns[i], sizeof(t->ns[i]) - 1);
			ck_assert_msg(l > 0, "%s unreadable", path);
		}
	}
	closedir(d);
	ck_assert_int_eq(out[0].tid, pid);
	return n;
}

/* Thread @t has the confinement of a VMM thread once the VM runs: no
 * capability in any set, no_new_privs, a seccomp filter. */
static void assert_thread_jailed(const struct thread_conf *t)
{
	static const char *const want[CONF_NFIELDS] = {
		"0000000000000000", "0000000000000000", "0000000000000000", "0000000000000000",
		"0000000000000000", "1", "2",
	};

	for (size_t i = 0; i < CONF_NFIELDS; i++)
		ck_assert_msg(!strcmp(t->field[i], want[i]), "thread %d: %s %s, want %s", t->tid,
			      conf_fields[i], t->field[i], want[i]);
}

/* Every thread of a running VM's VMM: jailed alike, in one set of
 * namespaces; at least @min_threads of them. How many. */
static int assert_threads_confined_alike(pid_t pid, int min_threads)
{
	struct thread_conf t[CONF_MAX_THREADS];
	int n = read_thread_confinement(pid, t, CONF_MAX_THREADS);

	ck_assert_int_ge(n, min_threads);
	for (int i = 0; i < n; i++) {
		assert_thread_jailed(&t[i]);
		for (size_t k = 0; k < CONF_NNS; k++)
			ck_assert_msg(!strcmp(t[i].ns[k], t[0].ns[k]), "thread %d: %s is %s, the "
				      "main thread's %s", t[i].tid, conf_ns[k], t[i].ns[k], t[0].ns[k]);
	}
	return n;
}

#endif
