// SPDX-License-Identifier: LGPL-2.1-or-later
/* alcatraz-run: a Linux guest's kernel and init, disks, shared directories and network. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alcatraz-run.h"

/* A --volume, or the --rootfs (guest "/"): one line when refused. */
static int share_dir(struct alcatraz_config *cfg, const char *host, const char *guest,
		     unsigned int flags, const char *spec)
{
	struct stat st;
	int ret;

	if (stat(host, &st) < 0) {
		die("volume '%s': %s on the host", host,
		    errno == ENOENT ? "no such directory" : strerror(errno));
		return -ENOENT;
	}
	if (!S_ISDIR(st.st_mode)) {
		die("volume '%s': not a directory on the host", host);
		return -ENOTDIR;
	}
	ret = alcatraz_config_add_volume(cfg, host, guest, flags);
	if (ret)
		die("volume '%s': %s", spec,
		    ret == -EINVAL   ? "the guest path must be absolute, without '.' or '..' "
				       "(at most 4 volumes)"
		    : ret == -EEXIST ? "the root ('/') is shared already (--rootfs)"
				     : strerror(-ret));
	return ret;
}

/* HOSTDIR:GUESTDIR[:ro|:rw]; one line and non-zero when it cannot be used. */
static int add_volume(struct alcatraz_config *cfg, const char *spec)
{
	char host[4096], guest[4096];
	const char *c1 = strchr(spec, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	unsigned int flags = 0;

	if (!c1 || c1 == spec || (c2 && strcmp(c2, ":ro") && strcmp(c2, ":rw")) ||
	    (size_t)(c1 - spec) >= sizeof(host) || strlen(c1 + 1) >= sizeof(guest)) {
		die("--volume wants HOSTDIR:GUESTDIR[:ro], not '%s'", spec);
		return -EINVAL;
	}
	snprintf(host, sizeof(host), "%.*s", (int)(c1 - spec), spec);
	snprintf(guest, sizeof(guest), "%.*s", (int)(c2 ? c2 - c1 - 1 : (long)strlen(c1 + 1)),
		 c1 + 1);
	if (c2 && !strcmp(c2, ":ro"))
		flags |= ALCATRAZ_VOLUME_READONLY;
	return share_dir(cfg, host, guest, flags, spec);
}

static int split_disk(const char *arg, char *path, size_t len, bool *ro)
{
	const char *comma = strrchr(arg, ',');

	*ro = false;
	if (comma && !strcmp(comma, ",ro")) {
		*ro = true;
	} else if (comma && !strcmp(comma, ",rw")) {
	} else {
		comma = NULL;
	}
	size_t n = comma ? (size_t)(comma - arg) : strlen(arg);
	if (n == 0 || n >= len)
		return -1;
	memcpy(path, arg, n);
	path[n] = '\0';
	return 0;
}

/*
 * The kernel and, unless the guest boots from --initrd or --root-disk, the
 * alcatraz-init the initramfs is made of: one line each when missing, before
 * anything else (a broken install shows on any host, /dev/kvm or not).
 */
int find_guest_files(const struct options *o, char *kernel, size_t len)
{
	static const char hint[] = "reinstall alcatraz; in a build tree: meson devenv -C BUILDDIR";
	char init[4096];
	int ret;

	if (o->kernel) {
		snprintf(kernel, len, "%s", o->kernel);
	} else if ((ret = alcatraz_default_kernel(kernel, len))) {
		if (ret == -ENOENT && secure_getenv("ALCATRAZ_KERNEL"))
			return die("no guest kernel: ALCATRAZ_KERNEL=%s is missing or unreadable", kernel);
		if (ret == -ENOENT)
			return die("no guest kernel: %s is missing (%s; or give --kernel PATH or set ALCATRAZ_KERNEL)",
				   kernel, hint);
		return die("no guest kernel: %s", alcatraz_strerror(ret));
	}
	if (access(kernel, R_OK) < 0)
		return die("cannot read kernel '%s': %s", kernel, strerror(errno));
	if (o->initrd)
		return 0;
	ret = alcatraz_default_init(init, sizeof(init));
	if (ret == -ENOENT && secure_getenv("ALCATRAZ_INIT"))
		return die("no alcatraz-init: ALCATRAZ_INIT=%s is missing or unreadable", init);
	if (ret == -ENOENT)
		return die("no alcatraz-init: %s is missing (%s; or set ALCATRAZ_INIT)", init, hint);
	if (ret)
		return die("no alcatraz-init: %s", alcatraz_strerror(ret));
	return 0;
}

/* --net and --publish: each refusal is one line naming the option. */
int set_network(struct alcatraz_config *cfg, const struct options *o)
{
	const char *passt = getenv("ALCATRAZ_PASST");

	if (!o->net || !strcmp(o->net, "none")) {
		if (o->nr_publish)
			return die("--publish needs --net user");
		return 0;
	}
	if (!strcmp(o->net, "user")) {
		if (!passt || !*passt)
			passt = "/usr/bin/passt";
		if (access(passt, X_OK))
			return die("--net user needs passt (Debian package passt): %s: %s", passt,
				   strerror(errno));
		if (alcatraz_config_set_net_user(cfg))
			return die("--net user: cannot be set");
	} else if (!strncmp(o->net, "tap=", 4)) {
		if (alcatraz_config_set_net_tap(cfg, o->net + 4))
			return die("--net '%s': expected tap=NAME[,mac=AA:BB:CC:DD:EE:FF]"
				   "[,ip=A.B.C.D/P][,gw=G][,dns=D]", o->net);
		if (o->nr_publish)
			return die("--publish needs --net user");
	} else {
		return die("--net wants user, tap=NAME[,...] or none, not '%s'", o->net);
	}
	for (unsigned int i = 0; i < o->nr_publish; i++)
		if (alcatraz_config_add_port_forward(cfg, o->publish[i]))
			return die("--publish '%s': expected [HOSTADDR:]HOSTPORT:GUESTPORT[/tcp|/udp] "
				   "with ports from 1 to 65535", o->publish[i]);
	return 0;
}

/* --disk IMG[,ro|,rw], each checked on the host first. */
int add_disks(struct alcatraz_config *cfg, const struct options *o)
{
	char path[4096];
	int ret;

	for (unsigned int i = 0; i < o->nr_disks; i++) {
		bool ro;

		if (split_disk(o->disks[i], path, sizeof(path), &ro))
			return die("--disk wants IMG or IMG,ro, not '%s'", o->disks[i]);
		if (access(path, ro ? R_OK : R_OK | W_OK) < 0)
			return die("cannot open disk '%s': %s", path, strerror(errno));
		if ((ret = alcatraz_config_add_disk(cfg, path, ro)))
			return die("bad configuration: %s", alcatraz_strerror(ret));
	}
	return 0;
}

/* --rootfs DIR (the root over virtio-fs, read-only, a RAM overlay above) and --volume. */
int add_shares(struct alcatraz_config *cfg, const struct options *o)
{
	if (o->rootfs && share_dir(cfg, o->rootfs, "/", ALCATRAZ_VOLUME_READONLY, o->rootfs))
		return EXIT_RUNTIME;
	for (unsigned int i = 0; i < o->nr_volumes; i++)
		if (add_volume(cfg, o->volumes[i]))
			return EXIT_RUNTIME;
	return 0;
}
