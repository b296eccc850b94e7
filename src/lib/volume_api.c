// SPDX-License-Identifier: LGPL-2.1-or-later
/* alcatraz_config_add_volume() and the configuration's volume list
 * (volume.h); apart from volume.c, which the unit tests link alone. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib.h"
#include "volume.h"


#define MAX_VOLUMES 4

const struct volume *volume_root(const struct alcatraz_config *cfg)
{
	for (unsigned int i = 0; i < cfg->nr_volumes; i++)
		if (!strcmp(cfg->volumes[i].guest_path, "/"))
			return &cfg->volumes[i];
	return NULL;
}

static int fail_root(const struct volume *v, char *err, size_t errlen)
{
	snprintf(err, errlen, "volume '%s': the root ('/') is shared already", v->host_dir);
	return -EEXIST;
}

int alcatraz_config_add_volume(struct alcatraz_config *cfg, const char *host_dir,
			       const char *guest_dir, unsigned int flags)
{
	struct volume v = { 0 }, *grown;
	char err[256];
	int ret;

	if (!cfg || !host_dir || !guest_dir || (flags & ~ALCATRAZ_VOLUME_READONLY) ||
	    cfg->nr_volumes >= MAX_VOLUMES)
		return -EINVAL;
	v.host_dir = strdup(host_dir);
	v.guest_path = strdup(guest_dir);
	v.readonly = flags & ALCATRAZ_VOLUME_READONLY;
	if (!v.host_dir || !v.guest_path) {
		volume_free(&v);
		return -ENOMEM;
	}
	/* A volume on "/" is the root (--rootfs): one at most. */
	ret = volume_check(&v, true, err, sizeof(err));
	if (!ret && !strcmp(v.guest_path, "/") && volume_root(cfg))
		ret = fail_root(&v, err, sizeof(err));
	if (ret) {
		lib_log(cfg->log_fd, "alcatraz: error: %s\n", err);
		volume_free(&v);
		return ret;
	}
	grown = realloc(cfg->volumes, (cfg->nr_volumes + 1) * sizeof(*grown));
	if (!grown) {
		volume_free(&v);
		return -ENOMEM;
	}
	grown[cfg->nr_volumes++] = v;
	cfg->volumes = grown;
	return 0;
}

void volume_config_free(struct alcatraz_config *cfg)
{
	for (unsigned int i = 0; i < cfg->nr_volumes; i++)
		volume_free(&cfg->volumes[i]);
	free(cfg->volumes);
	cfg->volumes = NULL;
	cfg->nr_volumes = 0;
}
