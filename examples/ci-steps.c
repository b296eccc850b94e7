// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ci-steps: a CI job's steps in one Linux microVM, as a runner would drive
 * them with alcatraz_vm_exec(). The VM boots once with a main command that
 * waits; each STEP runs as `sh -c STEP` in it, in /tmp, with CI_STEP=N in
 * its environment, its stdout on ours and its stderr on ours, one after the
 * other until one fails. Step timeouts count from the VM being ready (a
 * first empty exec). The VM is killed at the end.
 *
 *   ci-steps [--stdin] [--step-timeout MS] [--parallel] STEP...
 *
 *   --stdin           the first step reads our stdin (others: empty stdin)
 *   --step-timeout MS a step still running after MS gets SIGTERM
 *   --parallel        every step at once, each started and waited for by a
 *                     thread of its own; the status is the first failing
 *                     step's in the order given
 *
 * Each step ends with a line "== step N: exit STATUS" on stderr. Exit
 * status: the first failing step's, 0 when all passed, 125 for an error of
 * the runtime. Environment: as run-command (ALCATRAZ_KERNEL, ALCATRAZ_CMDLINE,
 * ALCATRAZ_INSECURE_NO_SANDBOX).
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <alcatraz/alcatraz.h>

#define MAX_STEPS 16
#define BOOT_WAIT "sleep 2147483647"

struct opts {
	bool stdin_first, parallel;
	int step_timeout_ms;
	char **steps;
	int nsteps;
};

static int parse(int argc, char **argv, struct opts *o)
{
	int i = 1;

	*o = (struct opts){ .step_timeout_ms = -1 };
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--stdin"))
			o->stdin_first = true;
		else if (!strcmp(argv[i], "--parallel"))
			o->parallel = true;
		else if (!strcmp(argv[i], "--step-timeout") && i + 1 < argc)
			o->step_timeout_ms = atoi(argv[++i]);
		else
			return -1;
	}
	o->steps = argv + i;
	o->nsteps = argc - i;
	return o->nsteps > 0 && o->nsteps <= MAX_STEPS ? 0 : -1;
}

static int boot(struct alcatraz_vm **vm)
{
	const char *const wait_argv[] = { "sh", "-c", BOOT_WAIT, NULL };
	struct alcatraz_config *cfg;
	char kernel[4096];
	int ret;

	if ((ret = alcatraz_default_kernel(kernel, sizeof(kernel))))
		return ret;
	if ((ret = alcatraz_config_new(&cfg)))
		return ret;
	if (!(ret = alcatraz_config_set_kernel(cfg, kernel)) &&
	    !(ret = alcatraz_config_set_command(cfg, wait_argv)) &&
	    !(ret = alcatraz_config_set_log_fd(cfg, STDERR_FILENO)) &&
	    (!getenv("ALCATRAZ_INSECURE_NO_SANDBOX") ||
	     !(ret = alcatraz_config_set_insecure_no_sandbox(cfg, true))) &&
	    (!getenv("ALCATRAZ_CMDLINE") ||
	     !(ret = alcatraz_config_set_cmdline(cfg, getenv("ALCATRAZ_CMDLINE")))) &&
	    !(ret = alcatraz_vm_create(cfg, vm))) {
		ret = alcatraz_vm_start(*vm);
		if (ret) {
			alcatraz_vm_destroy(*vm);
			*vm = NULL;
		}
	}
	alcatraz_config_free(cfg);
	return ret;
}

static int start_step(struct alcatraz_vm *vm, const struct opts *o, int n, uint32_t *id)
{
	char env_step[32];
	const char *const argv[] = { "sh", "-c", o->steps[n], NULL };
	const char *const envp[] = { env_step, "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
	struct alcatraz_exec ex = {
		.argv = argv, .envp = envp, .workdir = "/tmp",
		.in_fd = o->stdin_first && n == 0 ? STDIN_FILENO : -1,
		.out_fd = STDOUT_FILENO, .err_fd = STDERR_FILENO,
	};

	snprintf(env_step, sizeof(env_step), "CI_STEP=%d", n + 1);
	return alcatraz_vm_exec(vm, &ex, id);
}

/* Its status (>= 0), or a negative error. SIGTERM after the timeout. */
static int wait_step(struct alcatraz_vm *vm, const struct opts *o, int n, uint32_t id)
{
	int code = 0, ret = alcatraz_vm_exec_wait(vm, id, o->step_timeout_ms, &code);

	if (ret == -ETIMEDOUT) {
		fprintf(stderr, "ci-steps: step %d still running after %d ms: SIGTERM\n", n + 1,
			o->step_timeout_ms);
		alcatraz_vm_exec_kill(vm, id, 15);
		ret = alcatraz_vm_exec_wait(vm, id, -1, &code);
	}
	return ret ? ret : code;
}

/* An exec waits in the VM until the guest's init is up: a first, empty
 * one tells when that is, so that step timeouts count from the step's own
 * start, not from the boot. */
static int wait_ready(struct alcatraz_vm *vm)
{
	const char *const argv[] = { "true", NULL };
	struct alcatraz_exec ex = { .argv = argv, .in_fd = -1, .out_fd = -1, .err_fd = -1 };
	struct timespec t0, t1;
	uint32_t id;
	int code, ret;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = alcatraz_vm_exec(vm, &ex, &id);
	if (!ret)
		ret = alcatraz_vm_exec_wait(vm, id, -1, &code);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (!ret)
		fprintf(stderr, "ci-steps: VM ready in %.0f ms\n",
			(double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	return ret;
}

/* A step's status (>= 0) or a negative error; ends with its line. */
static int run_step(struct alcatraz_vm *vm, const struct opts *o, int n)
{
	uint32_t id;
	int code = start_step(vm, o, n, &id);

	if (!code)
		code = wait_step(vm, o, n, id);
	if (code < 0)
		fprintf(stderr, "ci-steps: step %d: %s\n", n + 1, alcatraz_strerror(code));
	else
		fprintf(stderr, "== step %d: exit %d\n", n + 1, code);
	return code;
}

struct step_thread {
	pthread_t thread;
	struct alcatraz_vm *vm;
	const struct opts *o;
	int n, code;
};

static void *step_thread(void *arg)
{
	struct step_thread *t = arg;

	t->code = run_step(t->vm, t->o, t->n);
	return NULL;
}

/* --parallel: a thread per step, each starting and waiting for its own. */
static int run_parallel(struct alcatraz_vm *vm, const struct opts *o)
{
	struct step_thread t[MAX_STEPS];
	int first_fail = 0, started = 0;

	for (; started < o->nsteps; started++) {
		t[started] = (struct step_thread){ .vm = vm, .o = o, .n = started };
		if (pthread_create(&t[started].thread, NULL, step_thread, &t[started])) {
			first_fail = 125;
			break;
		}
	}
	for (int n = 0; n < started; n++) {
		pthread_join(t[n].thread, NULL);
		if (t[n].code && !first_fail)
			first_fail = t[n].code < 0 ? 125 : t[n].code;
	}
	return first_fail;
}

static int run_steps(struct alcatraz_vm *vm, const struct opts *o)
{
	if (o->parallel)
		return run_parallel(vm, o);
	for (int n = 0; n < o->nsteps; n++) {
		int code = run_step(vm, o, n);
		if (code)
			return code < 0 ? 125 : code;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct alcatraz_vm *vm = NULL;
	struct alcatraz_result res;
	struct opts o;
	int ret, status;

	if (parse(argc, argv, &o)) {
		fprintf(stderr, "usage: ci-steps [--stdin] [--step-timeout MS] [--parallel] "
				"STEP... (1 to %d steps)\n", MAX_STEPS);
		return 125;
	}
	ret = boot(&vm);
	if (ret) {
		fprintf(stderr, "ci-steps: cannot start the VM: %s\n", alcatraz_strerror(ret));
		return 125;
	}
	ret = wait_ready(vm);
	if (ret)
		fprintf(stderr, "ci-steps: the VM never became ready: %s\n", alcatraz_strerror(ret));
	status = ret ? 125 : run_steps(vm, &o);
	alcatraz_vm_kill(vm);
	if (alcatraz_vm_wait(vm, -1) == 0 && alcatraz_vm_result(vm, &res) == 0 &&
	    res.kind != ALCATRAZ_EXIT_KILLED) {
		/* The VM ended by itself before we were done: that is the error. */
		fprintf(stderr, "ci-steps: the VM ended: %s%s%s\n", alcatraz_exit_kind_name(res.kind),
			res.message[0] ? ": " : "", res.message);
		status = 125;
	}
	alcatraz_vm_destroy(vm);
	return status;
}
