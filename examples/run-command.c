// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * run-command: the smallest useful libalcatraz program. It runs a command in
 * a Linux microVM with our stdin, its stdout on our stdout and its stderr
 * on our stderr, and prints how it ended, the boot timings and what the VM
 * used.
 *
 *   run-command [--cpus N] [--timeout SEC] [--pool] [--log] COMMAND [ARGS...]
 *
 *   --pool  take the VMM from a warm pool (alcatraz_pool_new): a process
 *           started ahead that made its VM and vCPU 0 while it waited, as a
 *           platform keeps them for its next requests
 *   --log   the VM's log (debug lines included) on our stderr
 *
 * Environment: ALCATRAZ_KERNEL (the guest kernel), ALCATRAZ_CMDLINE (extra
 * kernel parameters), ALCATRAZ_INSECURE_NO_SANDBOX (run the VMM unjailed).
 *
 * Exit status: as alcatraz-run (the command's status, 128+n, 124, 125...).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <alcatraz/alcatraz.h>

int main(int argc, char **argv)
{
	struct alcatraz_config *cfg;
	struct alcatraz_pool *pool = NULL;
	struct alcatraz_vm *vm;
	struct alcatraz_result res;
	char kernel[4096];
	unsigned int cpus = 1;
	double timeout = 0;
	bool use_pool = false, log = false;
	int i = 1, ret, code;

	for (; i + 1 < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--cpus"))
			cpus = (unsigned int)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--timeout"))
			timeout = atof(argv[++i]);
		else if (!strcmp(argv[i], "--pool"))
			use_pool = true;
		else if (!strcmp(argv[i], "--log"))
			log = true;
		else
			break;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: run-command [--cpus N] [--timeout SEC] [--pool] [--log] "
			"COMMAND [ARGS...]\n");
		return 125;
	}
	if (alcatraz_default_kernel(kernel, sizeof(kernel))) {
		fprintf(stderr, "run-command: no guest kernel (set ALCATRAZ_KERNEL)\n");
		return 125;
	}

	if (use_pool && (ret = alcatraz_pool_new(1, NULL, &pool)))
		goto fail;
	if ((ret = alcatraz_config_new(&cfg)))
		goto fail;
	if ((ret = alcatraz_config_set_kernel(cfg, kernel)) ||
	    (ret = alcatraz_config_set_pool(cfg, pool)) ||
	    (log && (ret = alcatraz_config_set_log_fd(cfg, STDERR_FILENO))) ||
	    (ret = alcatraz_config_set_command(cfg, (const char *const *)argv + i)) ||
	    (ret = alcatraz_config_set_vcpus(cfg, cpus)) ||
	    (ret = alcatraz_config_set_stdio(cfg, STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO)) ||
	    (ret = alcatraz_config_set_timeout_ms(cfg, (uint64_t)(timeout * 1000))) ||
	    (getenv("ALCATRAZ_INSECURE_NO_SANDBOX") &&
	     (ret = alcatraz_config_set_insecure_no_sandbox(cfg, true))) ||
	    (getenv("ALCATRAZ_CMDLINE") &&
	     (ret = alcatraz_config_set_cmdline(cfg, getenv("ALCATRAZ_CMDLINE"))))) {
		alcatraz_config_free(cfg);
		goto fail;
	}
	ret = alcatraz_vm_create(cfg, &vm);
	alcatraz_config_free(cfg); /* the VM has its own copy */
	if (ret)
		goto fail;
	ret = alcatraz_vm_start(vm);
	if (!ret)
		ret = alcatraz_vm_wait(vm, -1);
	if (!ret)
		ret = alcatraz_vm_result(vm, &res);
	alcatraz_vm_destroy(vm);
	alcatraz_pool_free(pool); /* after the VM's teardown, which it did */
	pool = NULL;
	if (ret)
		goto fail;

	code = alcatraz_result_exit_code(&res);
	fprintf(stderr, "run-command: %s (%s), exit code %d; init at %.1f ms, command at %.1f ms\n",
		res.message, alcatraz_exit_kind_name(res.kind), code,
		res.timings.init_start_ns / 1e6, res.timings.cmd_start_ns / 1e6);
	fprintf(stderr, "run-command: vcpu time %.1f ms, VMM peak RSS %.1f MiB, "
		"disk read %llu bytes, written %llu bytes\n",
		res.usage.vcpu_cpu_ns / 1e6, res.usage.vmm_peak_rss_bytes / 1048576.0,
		(unsigned long long)res.usage.disk_read_bytes,
		(unsigned long long)res.usage.disk_written_bytes);
	return code;
fail:
	alcatraz_pool_free(pool);
	fprintf(stderr, "run-command: %s\n", alcatraz_strerror(ret));
	return 125;
}
