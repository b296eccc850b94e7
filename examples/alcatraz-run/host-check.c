// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * alcatraz-run --check: can this host run protected microVMs?  One line per
 * item, the way `kata-runtime check` or `docker info` report:
 *
 *   NAME  ok|warn|FAIL  what was found (and what to do about it)
 *
 * Nothing here needs /dev/kvm, and nothing is changed on the host: the
 * namespaces are tried in a child that exits, the io_uring is closed at
 * once, cgroups are read, never written.  FAIL items keep VMs from running
 * protected; warn items only weaken them (the library has a fallback).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/io_uring.h>

#include <alcatraz/alcatraz.h>

#include "host-check.h"

#define TEXT_LEN 512
#define IO_URING_PROBE_ENTRIES 4

enum level { LV_OK, LV_WARN, LV_FAIL };

struct item {
	const char *name;
	enum level (*check)(char *text, size_t len);
};

/* The file's first line without its newline: 0 or -errno. */
static int read_line(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static bool exists(const char *path)
{
	return access(path, F_OK) == 0;
}

static bool module_loaded(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/module/%s", name);
	return exists(path);
}

/* A module parameter as on/off/its value; "?" when unreadable. */
static const char *module_param(const char *mod, const char *param, char *buf, size_t len)
{
	char path[160];

	snprintf(path, sizeof(path), "/sys/module/%s/parameters/%s", mod, param);
	if (read_line(path, buf, len))
		return "?";
	if (!strcmp(buf, "Y") || !strcmp(buf, "1"))
		return "on";
	if (!strcmp(buf, "N") || !strcmp(buf, "0"))
		return "off";
	return buf;
}

/* Whether /proc/cpuinfo's flags name AMD-V (svm) or VT-x (vmx). */
static bool cpu_has_virt(void)
{
	char line[4096];
	bool found = false;
	FILE *f = fopen("/proc/cpuinfo", "re");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		if (!strncmp(line, "flags", 5))
			found = strstr(line, " svm") || strstr(line, " vmx");
	fclose(f);
	return found;
}

static enum level check_kvm(char *t, size_t len)
{
	const char *mod = module_loaded("kvm_amd")   ? "kvm_amd"
			  : module_loaded("kvm_intel") ? "kvm_intel"
			  : module_loaded("kvm_pvm")   ? "kvm_pvm"
						       : NULL;
	char msg[256], nested[32], tdp[32];
	int ret;

	if (!exists("/dev/kvm")) {
		if (mod && !strcmp(mod, "kvm_pvm"))
			snprintf(t, len, "/dev/kvm absent: kvm_pvm is loaded but does not bind "
					 "(this kernel is itself a PVM guest); run VMs in the lab (tests/lab/run)");
		else if (mod)
			snprintf(t, len, "/dev/kvm absent although %s is loaded", mod);
		else if (cpu_has_virt())
			snprintf(t, len, "/dev/kvm absent: load kvm_amd or kvm_intel");
		else
			snprintf(t, len, "/dev/kvm absent: the CPU offers no AMD-V or VT-x (enable "
					 "virtualization in the firmware, or nested virtualization)");
		return LV_FAIL;
	}
	ret = alcatraz_kvm_probe(msg, sizeof(msg));
	if (ret) {
		snprintf(t, len, "%s", msg);
		return LV_FAIL;
	}
	if (mod && strcmp(mod, "kvm_pvm"))
		snprintf(t, len, "/dev/kvm usable: %s, nested=%s, %s=%s", mod,
			 module_param(mod, "nested", nested, sizeof(nested)),
			 strcmp(mod, "kvm_amd") ? "ept" : "npt",
			 module_param(mod, strcmp(mod, "kvm_amd") ? "ept" : "npt", tdp, sizeof(tdp)));
	else
		snprintf(t, len, "/dev/kvm usable (no kvm_amd or kvm_intel module: built in?)");
	return LV_OK;
}

static const char *monitor_mode(const char *v)
{
	if (!strcmp(v, "0"))
		return "off";
	if (!strcmp(v, "1"))
		return "log only";
	if (!strcmp(v, "2"))
		return "enforce";
	return v;
}

/* "protect_kernel=1 lock_tables=0 ..." as the names that are on. */
static void policy_on(const char *policy, char *out, size_t len)
{
	char copy[256], *save = NULL;
	size_t n = 0;

	snprintf(copy, sizeof(copy), "%s", policy);
	out[0] = '\0';
	for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(w, '=');
		if (!eq || strcmp(eq + 1, "1"))
			continue;
		*eq = '\0';
		n += (size_t)snprintf(out + n, n < len ? len - n : 0, "%s%s", n ? " " : "", w);
		if (n >= len)
			break;
	}
	if (!out[0])
		snprintf(out, len, "none");
}

static enum level check_hyperbox(char *t, size_t len)
{
	char state[128], mode[32], policy[256], on[256];
	unsigned int cpus = 0, online = 0;

	if (read_line("/sys/kernel/hyperbox/state", state, sizeof(state))) {
		snprintf(t, len, "%s", module_loaded("hyperbox")
			 ? "the module is loaded but /sys/kernel/hyperbox/state is unreadable"
			 : "not loaded: VMs would run without escape protection (load hyperbox.ko "
			   "before kvm_amd/kvm_intel)");
		return LV_FAIL;
	}
	if (read_line("/sys/module/hyperbox/parameters/monitor", mode, sizeof(mode)))
		snprintf(mode, sizeof(mode), "?");
	if (read_line("/sys/kernel/hyperbox/policy", policy, sizeof(policy)))
		policy[0] = '\0';
	policy_on(policy, on, sizeof(on));
	sscanf(state, "%*s cpus=%u/%u", &cpus, &online);
	snprintf(t, len, "%s on %u/%u CPUs, monitor %s, protections: %s",
		 strncmp(state, "active", 6) ? "inactive" : "active", cpus, online,
		 monitor_mode(mode), on);
	return !strncmp(state, "active ", 7) && cpus && cpus == online ? LV_OK : LV_FAIL;
}

/* The cgroup2 mount point, from /proc/self/mountinfo. */
static int cgroup2_mount(char *mnt, size_t len)
{
	char line[1024], point[512];
	FILE *f = fopen("/proc/self/mountinfo", "re");
	int ret = -ENOENT;

	if (!f)
		return -errno;
	while (ret && fgets(line, sizeof(line), f))
		if (strstr(line, " - cgroup2 ") &&
		    sscanf(line, "%*s %*s %*s %*s %511s", point) == 1) {
			snprintf(mnt, len, "%s", point);
			ret = 0;
		}
	fclose(f);
	return ret;
}

/* Whether the controller list in dir/file names memory, pids and cpu, as
 * whole words: "cpuset" is not "cpu". */
static bool has_controllers(const char *dir, const char *file)
{
	static const char *const need[] = { "memory", "pids", "cpu" };
	char path[1200], buf[512], *save = NULL;
	unsigned int found = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (read_line(path, buf, sizeof(buf)))
		return false;
	for (char *w = strtok_r(buf, " \n", &save); w; w = strtok_r(NULL, " \n", &save))
		for (unsigned int i = 0; i < sizeof(need) / sizeof(need[0]); i++)
			if (!strcmp(w, need[i]))
				found |= 1u << i;
	return found == (1u << (sizeof(need) / sizeof(need[0]))) - 1;
}

/* Mirrors src/sandbox/cgroup.c, reading only. */
static enum level check_cgroup(char *t, size_t len)
{
	char mnt[512], self[512] = "", dir[1040], line[1024];
	FILE *f;

	if (cgroup2_mount(mnt, sizeof(mnt))) {
		snprintf(t, len, "no cgroup v2 hierarchy mounted: VMMs run without memory, pids "
				 "and cpu limits");
		return LV_WARN;
	}
	f = fopen("/proc/self/cgroup", "re");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::", 3))
			snprintf(self, sizeof(self), "%.*s", (int)strcspn(line + 3, "\n"), line + 3);
	if (f)
		fclose(f);
	snprintf(dir, sizeof(dir), "%s%s", mnt, strcmp(self, "/") ? self : "");
	if (has_controllers(dir, "cgroup.subtree_control")) {
		snprintf(t, len, "memory, pids and cpu delegated in %s", dir);
		return LV_OK;
	}
	/* Only the root may enable them with processes inside (no internal
	 * processes rule), which is what the library tries at the first VM. */
	if (!strcmp(self, "/") && has_controllers(dir, "cgroup.controllers") &&
	    access(dir, W_OK) == 0) {
		snprintf(t, len, "memory, pids and cpu available in %s (enabled at the first VM)", dir);
		return LV_OK;
	}
	snprintf(t, len, "memory, pids and cpu not delegated to %s: VMMs run without cgroup "
			 "limits", dir);
	return LV_WARN;
}

static enum level check_io_uring(char *t, size_t len)
{
	struct io_uring_params p = { .flags = IORING_SETUP_R_DISABLED };
	char disabled[16];
	long fd;

	if (!read_line("/proc/sys/kernel/io_uring_disabled", disabled, sizeof(disabled)) &&
	    strcmp(disabled, "0")) {
		snprintf(t, len, "kernel.io_uring_disabled=%s: disk I/O uses preadv/pwritev", disabled);
		return LV_WARN;
	}
	fd = syscall(__NR_io_uring_setup, IO_URING_PROBE_ENTRIES, &p);
	if (fd < 0) {
		snprintf(t, len, "cannot create a ring (%s): disk I/O uses preadv/pwritev",
			 strerror(errno));
		return LV_WARN;
	}
	close((int)fd);
	snprintf(t, len, "a restricted ring can be created");
	return LV_OK;
}

/* In a child: the namespaces the jail creates (src/sandbox/jail.c). */
static int try_namespaces(void)
{
	if (geteuid() != 0 && unshare(CLONE_NEWUSER) < 0)
		return 1;
	if (unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWPID) < 0)
		return 2;
	return 0;
}

static enum level check_namespaces(char *t, size_t len)
{
	static const char *const what[] = { "", "a user namespace", "pid/mount/net/ipc/uts namespaces" };
	int pipefd[2], err = 0, status;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		snprintf(t, len, "cannot test: pipe: %s", strerror(errno));
		return LV_FAIL;
	}
	fflush(NULL); /* the child must not write our buffered lines again */
	pid = fork();
	if (pid == 0) {
		int stage = try_namespaces();
		err = errno;
		if (write(pipefd[1], &err, sizeof(err)) < 0)
			_exit(3);
		_exit(stage);
	}
	close(pipefd[1]);
	if (pid < 0 || read(pipefd[0], &err, sizeof(err)) != (ssize_t)sizeof(err))
		err = errno;
	close(pipefd[0]);
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) > 2) {
		snprintf(t, len, "cannot test: %s", strerror(err ? err : ECHILD));
		return LV_FAIL;
	}
	if (WEXITSTATUS(status)) {
		snprintf(t, len, "cannot create %s (%s): the VMM cannot be jailed%s",
			 what[WEXITSTATUS(status)], strerror(err),
			 WEXITSTATUS(status) == 1 ? " (run as root, or allow unprivileged user namespaces)" : "");
		return LV_FAIL;
	}
	snprintf(t, len, "%spid, mount, net, ipc and uts namespaces can be created",
		 geteuid() ? "user, " : "");
	return LV_OK;
}

static enum level check_seccomp(char *t, size_t len)
{
	char actions[256];

	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0) {
		snprintf(t, len, "the kernel has no seccomp (%s): the VMM cannot be confined",
			 strerror(errno));
		return LV_FAIL;
	}
	if (read_line("/proc/sys/kernel/seccomp/actions_avail", actions, sizeof(actions)) ||
	    !strstr(actions, "kill_process")) {
		snprintf(t, len, "the kernel cannot kill a process from a seccomp filter "
				 "(no kill_process action)");
		return LV_FAIL;
	}
	snprintf(t, len, "filters with kill_process");
	return LV_OK;
}

/* A file found by one of the library's lookups, named with its variable. */
static enum level check_file(char *t, size_t len, int (*find)(char *, size_t), const char *var,
			     const char *what)
{
	char path[4096];
	int ret = find(path, sizeof(path));

	if (ret == 0) {
		snprintf(t, len, "%s%s", path, secure_getenv(var) ? " (from $" : "");
		if (secure_getenv(var))
			snprintf(t + strlen(t), len - strlen(t), "%s)", var);
		return LV_OK;
	}
	if (ret == -ENOENT && secure_getenv(var))
		snprintf(t, len, "%s=%s is missing or unreadable", var, path);
	else if (ret == -ENOENT)
		snprintf(t, len, "%s is missing: install %s, or set %s", path, what, var);
	else
		snprintf(t, len, "cannot look it up: %s", strerror(-ret));
	return LV_FAIL;
}

static enum level check_kernel(char *t, size_t len)
{
	return check_file(t, len, alcatraz_default_kernel, "ALCATRAZ_KERNEL", "the guest kernel");
}

static enum level check_init(char *t, size_t len)
{
	return check_file(t, len, alcatraz_default_init, "ALCATRAZ_INIT", "alcatraz-init");
}

static enum level check_busybox(char *t, size_t len)
{
	const char *env = secure_getenv("ALCATRAZ_BUSYBOX");
	const char *const candidates[] = { "/bin/busybox", "/usr/bin/busybox" };

	if (env && *env) {
		snprintf(t, len, "%s (from $ALCATRAZ_BUSYBOX)%s", env,
			 access(env, R_OK) ? " is missing or unreadable" : "");
		return access(env, R_OK) ? LV_WARN : LV_OK;
	}
	for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++)
		if (access(candidates[i], R_OK) == 0) {
			snprintf(t, len, "%s", candidates[i]);
			return LV_OK;
		}
	snprintf(t, len, "no /bin/busybox: commands need --rootfs DIR (apt-get install busybox-static)");
	return LV_WARN;
}

static const struct item items[] = {
	{ "kvm", check_kvm },
	{ "hyperbox", check_hyperbox },
	{ "namespaces", check_namespaces },
	{ "seccomp", check_seccomp },
	{ "cgroup", check_cgroup },
	{ "io_uring", check_io_uring },
	{ "kernel", check_kernel },
	{ "init", check_init },
	{ "busybox", check_busybox },
};

int host_check(FILE *out)
{
	static const char *const names[] = { "ok", "warn", "FAIL" };
	char text[TEXT_LEN], failed[256] = "";
	size_t nf = 0;

	for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
		enum level lv = items[i].check(text, sizeof(text));

		fprintf(out, "%-11s %-4s %s\n", items[i].name, names[lv], text);
		if (lv == LV_FAIL)
			nf += (size_t)snprintf(failed + nf, nf < sizeof(failed) ? sizeof(failed) - nf : 0,
					       "%s%s", nf ? ", " : "", items[i].name);
	}
	if (failed[0]) {
		fprintf(out, "%-11s %-4s VMs cannot run protected here (failed: %s)\n", "verdict",
			"FAIL", failed);
		return 1;
	}
	fprintf(out, "%-11s %-4s VMs run here jailed and protected by Hyper-box\n", "verdict", "ok");
	return 0;
}
