// SPDX-License-Identifier: LGPL-2.1-or-later
/* alcatraz-run: --cgroup-parent and --require-cgroup. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>

#include "alcatraz-run.h"

/* --cgroup-parent names an existing cgroup v2 directory: else one line. */
int check_cgroup_parent(const struct options *o)
{
	struct statfs fs;
	struct stat st;

	if (!o->cgroup_parent)
		return 0;
	if (stat(o->cgroup_parent, &st) < 0)
		return die("--cgroup-parent '%s': %s", o->cgroup_parent, strerror(errno));
	if (!S_ISDIR(st.st_mode) || statfs(o->cgroup_parent, &fs) < 0 ||
	    fs.f_type != CGROUP2_SUPER_MAGIC)
		return die("--cgroup-parent '%s' is not a cgroup v2 directory", o->cgroup_parent);
	return 0;
}

int set_cgroup(struct alcatraz_config *cfg, const struct options *o)
{
	int ret = 0;

	if (o->cgroup_parent)
		ret = alcatraz_config_set_cgroup_parent(cfg, o->cgroup_parent);
	if (!ret && o->require_cgroup)
		ret = alcatraz_config_set_require_cgroup(cfg, true);
	return ret;
}

/* A create that failed on the cgroup --require-cgroup asked for: one line. */
int cgroup_refused(const struct options *o, int ret)
{
	if (ret != -ALCATRAZ_E_SANDBOX || !o->require_cgroup)
		return 0;
	return die("cannot create the VM: %s (--require-cgroup: are the memory, pids and cpu "
		   "controllers available to the children of %s?)%s",
		   alcatraz_strerror(ret), o->cgroup_parent ? o->cgroup_parent : "this process's cgroup",
		   o->verbose ? "" : " (run with --verbose for details)");
}
