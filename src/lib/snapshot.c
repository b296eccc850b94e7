// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Snapshots (issue 18), the library's side: the files of a snapshot
 * directory are opened here, outside the VMM's jail, and handed over as
 * descriptors; src/vmm/vstate/snapshot.c writes and checks them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib.h"
#include "supervisor.h"

#define SNAP_STATE_NAME "state"
#define SNAP_MEMORY_NAME "memory"

int alcatraz_config_set_restore(struct alcatraz_config *cfg, const char *dir)
{
	if (!cfg || !dir)
		return -EINVAL;
	return config_set_string(&cfg->restore_dir, dir, PATH_MAX_LEN);
}

/* One of the directory's two files; never follows a link planted there. */
static int open_in(int dirfd, const char *name, int flags)
{
	int fd = openat(dirfd, name, flags | O_CLOEXEC | O_NOFOLLOW, 0600);

	return fd < 0 ? -errno : fd;
}

int snapshot_open_restore(const struct alcatraz_config *cfg, int *state_fd, int *mem_fd)
{
	int dirfd, ret = 0;

	*state_fd = *mem_fd = -1;
	dirfd = open(cfg->restore_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		ret = -errno;
		lib_log(cfg->log_fd, "alcatraz: error: snapshot '%s': %s\n", cfg->restore_dir,
			strerror(-ret));
		return ret;
	}
	*state_fd = open_in(dirfd, SNAP_STATE_NAME, O_RDONLY);
	*mem_fd = open_in(dirfd, SNAP_MEMORY_NAME, O_RDONLY);
	close(dirfd);
	if (*state_fd < 0 || *mem_fd < 0) {
		ret = *state_fd < 0 ? *state_fd : *mem_fd;
		lib_log(cfg->log_fd, "alcatraz: error: snapshot '%s' is not a snapshot: %s/%s: %s\n",
			cfg->restore_dir, cfg->restore_dir,
			*state_fd < 0 ? SNAP_STATE_NAME : SNAP_MEMORY_NAME, strerror(-ret));
		if (*state_fd >= 0)
			close(*state_fd);
		if (*mem_fd >= 0)
			close(*mem_fd);
		*state_fd = *mem_fd = -1;
	}
	return ret;
}

int alcatraz_vm_snapshot(struct alcatraz_vm *vm, const char *dir)
{
	int dirfd, state_fd = -1, mem_fd = -1, ret;
	char why[200];

	if (!vm || !dir)
		return -EINVAL;
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return -errno;
	state_fd = open_in(dirfd, SNAP_STATE_NAME, O_RDWR | O_CREAT);
	mem_fd = open_in(dirfd, SNAP_MEMORY_NAME, O_RDWR | O_CREAT);
	close(dirfd);
	ret = state_fd < 0 ? state_fd : mem_fd < 0 ? mem_fd : 0;
	/* A refusal's reason is in the VM's log, written by the VMM. */
	if (!ret)
		ret = jailed_snapshot(vm_jailed(vm), state_fd, mem_fd, why, sizeof(why));
	if (state_fd >= 0)
		close(state_fd);
	if (mem_fd >= 0)
		close(mem_fd);
	return ret;
}
