// SPDX-License-Identifier: LGPL-2.1-or-later
/* alcatraz-run: a finished VM as the exit status, and --stats as JSON. */
#include <stdio.h>
#include <time.h>

#include "alcatraz-run.h"

/*
 * The exit status of a finished VM, with the line on standard error that a
 * 124 or a runtime error promises.  A command's 125 may be alcatraz-init's
 * own failure (a bad --workdir...), which only the message explains; a raw
 * guest's 125 is just what it wrote to the exit device.
 */
int exit_code_of(const struct alcatraz_result *r, bool command)
{
	int code = alcatraz_result_exit_code(r);

	if (r->kind == ALCATRAZ_EXIT_TIMEOUT)
		fprintf(stderr, "alcatraz-run: %s\n", r->message);
	else if (r->kind == ALCATRAZ_EXIT_CRASH && !command)
		die("guest crashed: %s", r->message);
	else if (code == EXIT_RUNTIME && (command || r->kind != ALCATRAZ_EXIT_STATUS))
		die("%s", r->message[0] ? r->message : "the VM failed");
	return code;
}

uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void print_stats(const struct alcatraz_result *r, int code, uint64_t create_ns)
{
	const struct alcatraz_timings *t = &r->timings;

	/* Milestones in ms since alcatraz_vm_start() (the VMM start); null
	 * when not reached. Kernel entry is the first KVM_RUN. */
	fprintf(stderr, "{\"create_ms\": %.3f, \"vmm_start_ms\": 0", create_ns / 1e6);
#define FIELD(name, v)                                                   \
	do {                                                             \
		if (v)                                                   \
			fprintf(stderr, ", \"" name "\": %.3f", (v) / 1e6); \
		else                                                     \
			fprintf(stderr, ", \"" name "\": null");          \
	} while (0)
	FIELD("kernel_entry_ms", t->vmm_ready_ns);
	FIELD("first_exit_ms", t->first_exit_ns);
	FIELD("init_start_ms", t->init_start_ns);
	FIELD("cmd_start_ms", t->cmd_start_ns);
	FIELD("exit_ms", t->end_ns);
#undef FIELD
	/* What the VM used; 0 where not measured. */
	fprintf(stderr, ", \"vcpu_cpu_ms\": %.3f, \"vmm_peak_rss_bytes\": %llu"
		", \"disk_read_bytes\": %llu, \"disk_written_bytes\": %llu",
		r->usage.vcpu_cpu_ns / 1e6, (unsigned long long)r->usage.vmm_peak_rss_bytes,
		(unsigned long long)r->usage.disk_read_bytes,
		(unsigned long long)r->usage.disk_written_bytes);
	fprintf(stderr, ", \"end\": \"%s\", \"exit_code\": %d}\n", alcatraz_exit_kind_name(r->kind),
		code);
}
