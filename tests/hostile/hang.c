// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The hostile runner's output helpers and its hang report: a VM that has
 * not ended well past its own timeout is a hang of the VMM or of KVM, and
 * what each thread is doing says which.
 */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hang.h"

#define TIMES_SAMPLE_US 200000 /* where a thread's time goes: user, kernel or guest */

char *slurp(int fd, size_t *len)
{
	off_t end = lseek(fd, 0, SEEK_END);
	char *s = malloc(end > 0 ? (size_t)end + 1 : 1);

	*len = 0;
	if (!s)
		return NULL;
	if (end > 0 && pread(fd, s, (size_t)end, 0) == end)
		*len = (size_t)end;
	s[*len] = 0;
	return s;
}

void dump(const char *what, const char *text)
{
	if (!text || !*text)
		return;
	printf("  --- %s:\n", what);
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		int len = nl ? (int)(nl - p) : (int)strlen(p);
		printf("  | %.*s\n", len, p);
		p += len + (nl ? 1 : 0);
	}
}

/* One line of a /proc file, without its newline, or "?". */
static void proc_line(const char *path, char *out, size_t len)
{
	FILE *f = fopen(path, "re");

	snprintf(out, len, "?");
	if (f) {
		if (fgets(out, (int)len, f))
			out[strcspn(out, "\n")] = 0;
		fclose(f);
	}
}

/* utime, stime and guest_time of a thread (proc(5) stat fields 14, 15, 43). */
static bool thread_times(const char *dir, const char *tid, unsigned long long t[3])
{
	char path[640], line[1024];

	snprintf(path, sizeof(path), "%s/%s/stat", dir, tid);
	proc_line(path, line, sizeof(line));
	const char *p = strrchr(line, ')');
	unsigned int field = 2;

	for (; p && *p; p++) {
		if (*p != ' ')
			continue;
		field++;
		if (field == 14)
			t[0] = strtoull(p + 1, NULL, 10);
		else if (field == 15)
			t[1] = strtoull(p + 1, NULL, 10);
		else if (field == 43) {
			t[2] = strtoull(p + 1, NULL, 10);
			return true;
		}
	}
	return false;
}

/* Every thread of process `pid`: state, wait channel, system call and the
 * kernel stack (what a hang in KVM_RUN or a lock shows), then its children. */
static void dump_process(const char *pid, int depth)
{
	char path[640], line[256], dir[64];
	DIR *d;
	struct dirent *e;

	snprintf(dir, sizeof(dir), "/proc/%s/task", pid);
	d = opendir(dir);
	if (!d || depth > 3) {
		if (d)
			closedir(d);
		return;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char comm[64], state[256], wchan[64], sys[128];
		snprintf(path, sizeof(path), "%s/%s/comm", dir, e->d_name);
		proc_line(path, comm, sizeof(comm));
		snprintf(path, sizeof(path), "%s/%s/stat", dir, e->d_name);
		proc_line(path, state, sizeof(state));
		snprintf(path, sizeof(path), "%s/%s/wchan", dir, e->d_name);
		proc_line(path, wchan, sizeof(wchan));
		snprintf(path, sizeof(path), "%s/%s/syscall", dir, e->d_name);
		proc_line(path, sys, sizeof(sys));
		const char *st = strrchr(state, ')');
		unsigned long long t0[3], t1[3];
		bool times = thread_times(dir, e->d_name, t0);
		usleep(TIMES_SAMPLE_US);
		times = times && thread_times(dir, e->d_name, t1);
		printf("  hang: pid %s tid %s (%s) state %.1s wchan %s syscall %s\n", pid, e->d_name,
		       comm, st && st[1] ? st + 2 : "?", wchan, sys);
		if (times)
			printf("  hang:   in %d ms: %llu user, %llu system, %llu guest ticks\n",
			       TIMES_SAMPLE_US / 1000, t1[0] - t0[0], t1[1] - t0[1], t1[2] - t0[2]);
		snprintf(path, sizeof(path), "%s/%s/stack", dir, e->d_name);
		FILE *f = fopen(path, "re");
		for (int i = 0; f && i < 12 && fgets(line, sizeof(line), f); i++)
			printf("  hang:     %s", line);
		if (f)
			fclose(f);
		snprintf(path, sizeof(path), "%s/%s/children", dir, e->d_name);
		f = fopen(path, "re");
		char child[16];
		while (f && fscanf(f, "%15s", child) == 1)
			dump_process(child, depth + 1);
		if (f)
			fclose(f);
	}
	closedir(d);
}

/* What the VM and every thread of this process (and its children) are
 * doing, then the serial output and the VMM log; ends the process. */
_Noreturn void hang_dump(const struct vm *vm, int serial_fd, int log_fd)
{
	if (vm) {
		printf("  hang: ended %d running_vcpus %u outputs_ended %d output_abandoned %d\n",
		       vm->ended, vm->running_vcpus, vm->outputs_ended, vm->output_abandoned);
		for (unsigned int i = 0; i < vm->nr_vcpus; i++)
			printf("  hang: vcpu%u started %d exit_reason %u immediate_exit %u\n", i,
			       vm->vcpus[i].thread_started, vm->vcpus[i].run ? vm->vcpus[i].run->exit_reason : 0,
			       vm->vcpus[i].run ? vm->vcpus[i].run->immediate_exit : 0);
	}
	dump_process("self", 0);
	size_t len;
	char *text = slurp(serial_fd, &len);
	dump("serial", text);
	free(text);
	text = slurp(log_fd, &len);
	dump("VMM log", text);
	free(text);
	fflush(stdout);
	_exit(1);
}
