// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A container's VM, as its supervisor makes it at create: the
 * configuration from config.json (the waiter as main command, the root and
 * the helper shared read-only, bind mounts as volumes, size, log, network),
 * and the bind-mounted files copied in before the container's process.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <alcatraz/alcatraz.h>

#include "oci.h"
#include "oci_paths.h"

static int build_config(struct alcatraz_config **out, const struct oci_spec *spec, int dirfd)
{
	static const char *const pause_argv[] = { OCI_GUEST_HELPER_DIR "/" OCI_PAUSE_NAME, NULL };
	char kernel[OCI_MAX_PATH], helper[OCI_MAX_PATH];
	struct alcatraz_config *cfg;
	const char *cmdline = secure_getenv("ALCATRAZ_CMDLINE");
	int ret, logfd;

	if ((ret = alcatraz_default_kernel(kernel, sizeof(kernel))) ||
	    (ret = oci_helper_dir(helper, sizeof(helper))) || (ret = alcatraz_config_new(&cfg)))
		return ret;
	logfd = openat(dirfd, "vmm.log", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW,
		       0600);
	if ((ret = alcatraz_config_set_kernel(cfg, kernel)) ||
	    (ret = alcatraz_config_set_command(cfg, pause_argv)) ||
	    (ret = alcatraz_config_set_memory_mib(cfg, spec->memory_mib ? spec->memory_mib
									 : OCI_DEFAULT_MEMORY_MIB)) ||
	    (ret = alcatraz_config_set_vcpus(cfg, spec->vcpus ? spec->vcpus : 1)) ||
	    (ret = alcatraz_config_add_volume(cfg, spec->root_path, "/", ALCATRAZ_VOLUME_READONLY)) ||
	    (ret = alcatraz_config_add_volume(cfg, helper, OCI_GUEST_HELPER_DIR,
					      ALCATRAZ_VOLUME_READONLY)) ||
	    (cmdline && *cmdline && (ret = alcatraz_config_set_cmdline(cfg, cmdline))) ||
	    /* A terminal's bytes go to the shim's pty master as runc passes them:
	     * the console socket's owner decides what reaches a screen. */
	    (spec->process.terminal &&
	     (ret = alcatraz_config_set_output_filter(cfg, ALCATRAZ_OUTPUT_FILTER_OFF))) ||
	    (logfd >= 0 && (ret = alcatraz_config_set_log_fd(cfg, logfd))) ||
	    /* passt starts in this process's network namespace: join_netns's. */
	    (spec->netns_path && (ret = alcatraz_config_set_net_user(cfg))))
		goto out;
	for (unsigned int i = 0; i < spec->nr_binds; i++)
		if (!spec->binds[i].file && (ret = alcatraz_config_add_volume(cfg, spec->binds[i].source,
						      spec->binds[i].destination,
						      spec->binds[i].readonly ? ALCATRAZ_VOLUME_READONLY
									      : 0)))
			goto out;
out:
	if (logfd >= 0)
		close(logfd);
	if (ret)
		alcatraz_config_free(cfg);
	else
		*out = cfg;
	return ret;
}

int oci_vm_boot(const struct oci_spec *spec, int dirfd, struct alcatraz_vm **vm, char *err,
		size_t len)
{
	struct alcatraz_config *cfg = NULL;
	int ret = build_config(&cfg, spec, dirfd);

	if (ret) {
		snprintf(err, len, "cannot configure the VM: %s", alcatraz_strerror(ret));
		return ret;
	}
	ret = alcatraz_vm_create(cfg, vm);
	alcatraz_config_free(cfg);
	if (ret) {
		snprintf(err, len, "cannot create the VM: %s%s", alcatraz_strerror(ret),
			 ret == -ENOENT ? " (/dev/kvm, the kernel, alcatraz-init or virtiofsd "
					  "missing; see vmm.log in the state directory)" : "");
		*vm = NULL;
		return ret;
	}
	ret = alcatraz_vm_start(*vm);
	if (ret) {
		snprintf(err, len, "cannot start the VM: %s", alcatraz_strerror(ret));
		alcatraz_vm_destroy(*vm);
		*vm = NULL;
	}
	return ret;
}

/*
 * Bind mounts of files (Docker's and containerd's /etc/hosts, resolv.conf,
 * hostname) are copied into the guest's root (its RAM layer) before the
 * container's process starts, by the guest helper, which bind-mounts a
 * read-only one onto itself read-only. Not shared: sharing a file's parent
 * directory would show the guest every sibling of the file (Docker's
 * container directory holds its config and logs) and take one of the VM's
 * 4 shared directories per parent. So the guest sees each file as it was
 * at create, and a writable one's changes stay in the VM.
 */
int oci_vm_install_files(struct alcatraz_vm *vm, const struct oci_spec *spec, int files_fd,
			 char *err, size_t len)
{
	char *argv[OCI_MAX_BIND_MOUNTS + 3], specs[OCI_MAX_BIND_MOUNTS][OCI_MAX_PATH + 48];
	int pipefd[2], code = 0, ret, n = 0;
	uint32_t id;

	argv[n++] = (char *)OCI_GUEST_HELPER_DIR "/" OCI_PAUSE_NAME;
	argv[n++] = (char *)"--install";
	for (unsigned int i = 0; i < spec->nr_binds; i++) {
		const struct oci_mount *b = &spec->binds[i];
		if (!b->file)
			continue;
		char *one = specs[n - 2];
		snprintf(one, sizeof(specs[0]), "%llu:%o:%s:%s", (unsigned long long)b->size, b->mode,
			 b->readonly ? "ro" : "rw", b->destination);
		argv[n++] = one;
	}
	argv[n] = NULL;
	if (files_fd < 0)
		return 0;
	if (lseek(files_fd, 0, SEEK_SET) < 0 || pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) < 0) {
		snprintf(err, len, "cannot copy the bind-mounted files: %s", strerror(errno));
		return -errno;
	}
	struct alcatraz_exec ex = { .argv = (const char *const *)argv, .in_fd = files_fd,
				    .out_fd = -1, .err_fd = pipefd[1] };
	ret = alcatraz_vm_exec(vm, &ex, &id);
	close(pipefd[1]);
	if (!ret)
		ret = alcatraz_vm_exec_wait(vm, id, -1, &code);
	if (ret || code) {
		char msg[256] = "";
		ssize_t got = read(pipefd[0], msg, sizeof(msg) - 1);
		msg[got > 0 ? got : 0] = '\0';
		msg[strcspn(msg, "\n")] = '\0';
		snprintf(err, len, "cannot install the bind-mounted files in the VM: %s",
			 ret ? alcatraz_strerror(ret) : msg[0] ? msg : "the guest helper failed");
		ret = ret ? ret : -EIO;
	}
	close(pipefd[0]);
	return ret;
}
