// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * alcatraz-run: run a command in a Linux microVM (or a raw tiny guest) and
 * exit with its status.
 *
 *   alcatraz-run [OPTIONS] -- COMMAND [ARGS...]
 *   alcatraz-run [OPTIONS] --guest IMAGE
 *   alcatraz-run --check
 *
 * Every option either works in the mode it is given in or is refused with
 * one line (status 125); none is silently ignored.
 *
 * Exit status: the command's own status; 128+n when killed by signal n;
 * 126 not executable; 127 not found; 124 on timeout; 125 with a one-line
 * message on a runtime error (including a crashed guest).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <alcatraz/alcatraz.h>

#include "../cli-args.h"
#include "alcatraz-run.h"
#include "host-check.h"

/* Runs a created VM to its end and destroys it: 0, or the CLI's 125. */
static int run_to_end(struct alcatraz_vm *vm, struct alcatraz_result *res)
{
	int ret = alcatraz_vm_start(vm);

	if (ret == 0)
		ret = alcatraz_vm_wait(vm, -1);
	if (ret == 0)
		ret = alcatraz_vm_result(vm, res);
	alcatraz_vm_destroy(vm);
	return ret ? die("%s", alcatraz_strerror(ret)) : 0;
}

/* One line for a create that failed, naming the cause where it is known. */
static int create_failed(const struct options *o, int ret, bool command)
{
	int code = cgroup_refused(o, ret);

	if (code)
		return code;
	/* The VMM's word for a network where the snapshot had none or the
	 * other way round. */
	if (o->restore && ret == -ENONET) {
		const char *how = o->net && strcmp(o->net, "none") ? "without" : "with";

		return die("cannot restore from '%s': it was saved %s a network; restore it %s --net",
			   o->restore, how, how);
	}
	if (o->restore && ret != -EACCES && (ret != -ENOENT || access("/dev/kvm", F_OK) == 0))
		return die("cannot restore from '%s': %s%s", o->restore, alcatraz_strerror(ret),
			   o->verbose ? "" : " (run with --verbose for details)");
	if (ret == -ENOENT && access("/dev/kvm", F_OK) < 0)
		return die("/dev/kvm does not exist: this host needs KVM (load kvm_intel or kvm_amd, or enable virtualization in the firmware)");
	if (ret == -EACCES)
		return die("/dev/kvm is not accessible: run as root or add your user to the 'kvm' group");
	if (command && ret == -ENOENT && !o->initrd)
		return die("cannot create the VM: alcatraz-init or busybox not found (set "
			   "ALCATRAZ_INIT / ALCATRAZ_BUSYBOX)%s",
			   o->verbose ? "" : " or see --verbose");
	if (command && ret == -EBUSY)
		return die("a disk image is locked by another VM");
	if (command && ret == -EADDRINUSE)
		return die("a published host port is already in use");
	if (command && ret == -ENODEV)
		return die("--net %s: no such tap device", o->net);
	if (ret == -ECHILD) /* the library's log says which and how */
		return die("cannot create the VM: %s ended before the VM was built%s",
			   o->net && !strcmp(o->net, "user") ? "passt or alcatraz-vmm" : "alcatraz-vmm",
			   o->verbose ? "" : " (run with --verbose for its messages)");
	return die("cannot create the VM: %s%s", alcatraz_strerror(ret),
		   o->verbose ? "" : " (run with --verbose for details)");
}

/* Creates the VM from cfg (freed here), runs it to its end: the exit status. */
static int create_and_run(struct alcatraz_config *cfg, const struct options *o, bool command)
{
	struct alcatraz_vm *vm = NULL;
	struct alcatraz_result res;
	uint64_t create_ns = now_ns();
	int ret, code;

	ret = alcatraz_vm_create(cfg, &vm);
	create_ns = now_ns() - create_ns;
	alcatraz_config_free(cfg);
	if (ret)
		return create_failed(o, ret, command);
	ret = run_to_end(vm, &res);
	if (ret)
		return ret;
	code = exit_code_of(&res, command);
	if (o->stats)
		print_stats(&res, code, create_ns);
	return code;
}

/* What both modes take from the options: size, limits, sandbox, log. */
static int set_common(struct alcatraz_config *cfg, const struct options *o)
{
	int ret;

	if ((ret = alcatraz_config_set_vcpus(cfg, (unsigned int)o->cpus)) ||
	    (ret = alcatraz_config_set_memory_mib(cfg, o->memory_mib)) ||
	    (ret = alcatraz_config_set_irqchip(cfg, o->irqchip)) ||
	    (o->raw_output &&
	     (ret = alcatraz_config_set_output_filter(cfg, ALCATRAZ_OUTPUT_FILTER_OFF))) ||
	    (ret = alcatraz_config_set_timeout_ms(cfg, (uint64_t)(o->timeout_s * 1000.0))) ||
	    (o->no_sandbox && (ret = alcatraz_config_set_insecure_no_sandbox(cfg, true))) ||
	    (ret = set_cgroup(cfg, o)) ||
	    (o->verbose && (ret = alcatraz_config_set_log_fd(cfg, STDERR_FILENO))))
		return ret;
	return 0;
}

static int run(const struct options *o)
{
	struct alcatraz_config *cfg = NULL;
	int ret;

	if (access(o->guest, R_OK) < 0)
		return die("cannot read guest image '%s': %s", o->guest, strerror(errno));
	if ((ret = check_cgroup_parent(o)))
		return ret;
	ret = alcatraz_config_new(&cfg);
	if (ret)
		return die("%s", alcatraz_strerror(ret));
	if ((ret = alcatraz_config_set_guest_image(cfg, o->guest)) ||
	    (o->restore && (ret = alcatraz_config_set_restore(cfg, o->restore))) ||
	    (ret = alcatraz_config_set_serial_fd(cfg, STDOUT_FILENO)) ||
	    (ret = set_common(cfg, o))) {
		alcatraz_config_free(cfg);
		return die("bad configuration: %s", alcatraz_strerror(ret));
	}
	return create_and_run(cfg, o, false);
}

/* The options a snapshot's VM cannot take: it has the devices and the root
 * it was saved with. */
static int restore_refuses(const struct options *o)
{
	const char *opt = o->rootfs ? "--rootfs" : o->rootfs_pack ? "--rootfs-pack"
			  : o->root_disk ? "--root-disk" : o->nr_disks ? "--disk"
			  : o->nr_volumes ? "--volume" : o->initrd ? "--initrd"
			  : o->cmdline ? "--cmdline" : o->serial ? "--serial"
			  : o->stats ? "--stats" : NULL;

	/* --stats: a restored run has no boot to time. */
	return opt ? die("%s cannot be used with --restore: the snapshot's VM keeps what it was "
			 "saved with", opt) : 0;
}

/* Runs the command in the restored VM as an exec with this process's
 * stdio, then ends the VM: the command's status, or 125/124 when the VM
 * ended first. */
static int exec_in_restored(struct alcatraz_vm *vm, const struct options *o)
{
	struct alcatraz_exec ex = { .argv = (const char *const *)o->command,
				    .envp = o->nr_envs ? o->envs : NULL, .workdir = o->workdir,
				    .in_fd = STDIN_FILENO, .out_fd = STDOUT_FILENO,
				    .err_fd = STDERR_FILENO };
	struct alcatraz_result res;
	uint32_t id;
	int code = EXIT_RUNTIME, ret = alcatraz_vm_start(vm);

	if (!ret)
		ret = alcatraz_vm_exec(vm, &ex, &id);
	if (!ret)
		ret = alcatraz_vm_exec_wait(vm, id, -1, &code);
	if (ret == -ESRCH && alcatraz_vm_wait(vm, -1) == 0 && alcatraz_vm_result(vm, &res) == 0) {
		code = exit_code_of(&res, true);
		if (code == 0)
			code = die("the restored VM ended before the command did: %s", res.message);
	} else if (ret) {
		code = die("cannot run the command in the restored VM: %s", alcatraz_strerror(ret));
	}
	(void)alcatraz_vm_kill(vm);
	(void)alcatraz_vm_wait(vm, -1);
	alcatraz_vm_destroy(vm);
	return code;
}

/* --restore DIR -- COMMAND: the snapshot's guest is idle, its main command
 * (alcatraz-snapshot's waiter) running; COMMAND runs beside it. */
static int restore_command(const struct options *o, const char *kernel)
{
	static const char *const waiter[] = CLI_SNAPSHOT_WAITER;
	struct alcatraz_config *cfg = NULL;
	struct alcatraz_vm *vm = NULL;
	int ret = restore_refuses(o);

	if (ret)
		return ret;
	if (o->nr_envs >= MAX_LIST)
		return die("too many --env");
	ret = alcatraz_config_new(&cfg);
	if (ret)
		return die("%s", alcatraz_strerror(ret));
	/* The waiter is what the snapshot's guest runs; it is not sent again. */
	if ((ret = alcatraz_config_set_kernel(cfg, kernel)) ||
	    (ret = alcatraz_config_set_command(cfg, waiter)) ||
	    (ret = alcatraz_config_set_restore(cfg, o->restore)) || (ret = set_common(cfg, o))) {
		alcatraz_config_free(cfg);
		return die("bad configuration: %s", alcatraz_strerror(ret));
	}
	/* A new backend (a passt of its own) for a snapshot saved with a
	 * network; the guest gets a new MAC and keeps its addresses. */
	ret = set_network(cfg, o);
	if (ret) {
		alcatraz_config_free(cfg);
		return ret;
	}
	ret = alcatraz_vm_create(cfg, &vm);
	alcatraz_config_free(cfg);
	if (ret)
		return create_failed(o, ret, true);
	return exec_in_restored(vm, o);
}

static int run_command(const struct options *o)
{
	struct alcatraz_config *cfg = NULL;
	char kernel[4096], msg[256];
	int ret;

	ret = find_guest_files(o, kernel, sizeof(kernel));
	if (ret)
		return ret;
	/* A kvm_pvm host would crawl for seconds and then fail: say so now. */
	ret = alcatraz_kvm_probe(msg, sizeof(msg));
	if (ret == -ALCATRAZ_E_SLOWKVM)
		return die("%s (run it in the lab: tests/lab/run)", msg);
	if (ret)
		return die("%s", msg);
	if (o->restore)
		return restore_command(o, kernel);
	if (o->rootfs_pack && access(o->rootfs_pack, R_OK | X_OK) < 0)
		return die("cannot read rootfs directory '%s': %s", o->rootfs_pack, strerror(errno));
	if ((ret = check_cgroup_parent(o)))
		return ret;
	ret = alcatraz_config_new(&cfg);
	if (ret)
		return die("%s", alcatraz_strerror(ret));
	if ((ret = alcatraz_config_set_kernel(cfg, kernel)) ||
	    (ret = alcatraz_config_set_command(cfg, (const char *const *)o->command)) ||
	    (ret = alcatraz_config_set_stdio(cfg, STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO)) ||
	    (o->serial && (ret = alcatraz_config_set_serial_fd(cfg, STDERR_FILENO))) ||
	    (ret = set_common(cfg, o)) ||
	    (o->workdir && (ret = alcatraz_config_set_workdir(cfg, o->workdir))) ||
	    (o->rootfs_pack && (ret = alcatraz_config_set_rootfs_dir(cfg, o->rootfs_pack))) ||
	    (o->root_disk && (ret = alcatraz_config_set_root_disk(cfg, o->root_disk))) ||
	    (o->initrd && (ret = alcatraz_config_set_initrd(cfg, o->initrd))) ||
	    (o->cmdline && (ret = alcatraz_config_set_cmdline(cfg, o->cmdline))))
		goto bad;
	for (unsigned int i = 0; i < o->nr_envs; i++)
		if ((ret = alcatraz_config_add_env(cfg, o->envs[i])))
			goto bad;
	if ((ret = set_network(cfg, o))) {
		alcatraz_config_free(cfg);
		return ret;
	}
	if ((ret = add_disks(cfg, o)) || (ret = add_shares(cfg, o))) {
		alcatraz_config_free(cfg);
		return ret;
	}
	return create_and_run(cfg, o, true);
bad:
	alcatraz_config_free(cfg);
	return die("bad configuration: %s", alcatraz_strerror(ret));
}

int main(int argc, char **argv)
{
	struct options o = { .cpus = 1, .memory_mib = 128, .irqchip = ALCATRAZ_IRQCHIP_AUTO };
	int ret = parse_args(argc, argv, &o);

	if (ret)
		return ret;
	fflush(stdout);
	if (o.check)
		return host_check(stdout);
	return o.command ? run_command(&o) : run(&o);
}
