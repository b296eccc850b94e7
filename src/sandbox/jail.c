// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Jail steps, in the order that keeps each one possible: namespaces while we
 * still have privileges, then the mount dance inside the new mount
 * namespace, then rlimits, and last the capabilities (dropping them ends our
 * ability to do everything above).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "jail.h"

#define JAIL_MAX_FILES 64

static int fail(char *why, size_t len, const char *step)
{
	int err = errno ? -errno : -EPERM;
	snprintf(why, len, "%s: %s", step, strerror(-err));
	return err;
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* Unprivileged callers map themselves to root of a new user namespace,
 * which is what lets them create the other namespaces. */
static int enter_user_ns(void)
{
	char map[64];
	uid_t uid = getuid();
	gid_t gid = getgid();

	if (unshare(CLONE_NEWUSER) < 0)
		return -1;
	snprintf(map, sizeof(map), "0 %u 1\n", uid);
	if (write_file("/proc/self/uid_map", map) < 0)
		return -1;
	if (write_file("/proc/self/setgroups", "deny") < 0 && errno != ENOENT)
		return -1;
	snprintf(map, sizeof(map), "0 %u 1\n", gid);
	return write_file("/proc/self/gid_map", map);
}

/* An empty tmpfs becomes "/", and the old root is detached, so nothing of the
 * host's filesystem is reachable by path any more. */
static int pivot_to_empty_root(char *why, size_t len)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return fail(why, len, "making mounts private");
	if (mount("alcatraz-jail", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "size=64k,nr_inodes=16,mode=0500") < 0)
		return fail(why, len, "mounting the jail's tmpfs");
	if (chdir("/tmp") < 0)
		return fail(why, len, "entering the jail's root");
	/* pivot_root(".", ".") stacks the old root under the new one; the
	 * detach below removes it (see pivot_root(2)). */
	if (syscall(SYS_pivot_root, ".", ".") == 0) {
		if (umount2(".", MNT_DETACH) < 0)
			return fail(why, len, "detaching the host's root");
	} else if (errno == EINVAL) {
		/* The host runs from an initramfs, whose rootfs cannot be
		 * pivoted away: move the tmpfs over "/" and chroot into it, as
		 * switch_root does. The old root stays mounted underneath but
		 * no path or descriptor reaches it, and without CAP_SYS_CHROOT
		 * (dropped below) there is no way back out. */
		if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
			return fail(why, len, "moving the jail's tmpfs over /");
		if (chroot(".") < 0)
			return fail(why, len, "chroot into the jail");
	} else {
		return fail(why, len, "pivot_root");
	}
	if (chdir("/") < 0)
		return fail(why, len, "chdir /");
	if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  NULL) < 0)
		return fail(why, len, "making the jail's root read-only");
	return 0;
}

/* The calling thread's own: capset() changes one thread's sets only. */
int jail_drop_thread_capabilities(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	return syscall(SYS_capset, &hdr, data) < 0 ? -errno : 0;
}

/* The bounding and ambient sets are empty already (jail_prepare). */
static int drop_capabilities(char *why, size_t len)
{
	if (jail_drop_thread_capabilities() < 0)
		return fail(why, len, "dropping capabilities");
	return 0;
}

int jail_unshare(char *why, size_t len)
{
	int flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS;

	errno = 0;
	if (geteuid() != 0 && enter_user_ns() < 0)
		return fail(why, len, "creating a user namespace");
	if (unshare(flags) < 0)
		return fail(why, len, "creating mount/net/ipc/uts namespaces");
	return 0;
}

/* The steps that need no configuration and take nothing the rest of the
 * jail needs: the bounding and ambient sets limit only what a later exec
 * could gain (the effective capabilities the mount steps use stay), and
 * no_new_privs and the core limit touch neither mounts nor descriptors. */
static struct {
	bool done;
	int err;
	char why[200];
} prepared;

int jail_prepare(void)
{
	struct rlimit core = { 0, 0 };

	if (prepared.done)
		return prepared.err;
	prepared.done = true;
	errno = 0;
	for (int cap = 0; cap <= 63; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			return prepared.err = fail(prepared.why, sizeof(prepared.why),
						   "dropping the capability bounding set");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return prepared.err = fail(prepared.why, sizeof(prepared.why),
					   "clearing ambient capabilities");
	if (setrlimit(RLIMIT_CORE, &core) < 0)
		return prepared.err = fail(prepared.why, sizeof(prepared.why),
					   "disabling core dumps");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return prepared.err = fail(prepared.why, sizeof(prepared.why),
					   "setting no_new_privs");
	return 0;
}

int jail_enter(char *why, size_t len)
{
	struct rlimit files = { JAIL_MAX_FILES, JAIL_MAX_FILES };
	int ret = jail_prepare();

	if (ret) {
		snprintf(why, len, "%s", prepared.why);
		return ret;
	}
	errno = 0;
	ret = pivot_to_empty_root(why, len);
	if (ret)
		return ret;
	if (setrlimit(RLIMIT_NOFILE, &files) < 0)
		return fail(why, len, "limiting open files");
	/* Not dumpable: other processes of the same user cannot ptrace us or
	 * read our memory (guest RAM included) through /proc. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return fail(why, len, "clearing dumpable");
	return drop_capabilities(why, len);
}

int jail_forbid_new_tasks(void)
{
	struct rlimit none = { 0, 0 };
	return setrlimit(RLIMIT_NPROC, &none) < 0 ? -errno : 0;
}
