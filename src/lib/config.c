// SPDX-License-Identifier: LGPL-2.1-or-later
/* Public configuration handles: validated setters over a plain struct. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib.h"
#include "volume.h"

int alcatraz_config_new(struct alcatraz_config **out)
{
	struct alcatraz_config *cfg;

	if (!out)
		return -EINVAL;
	cfg = calloc(1, sizeof(*cfg));
	if (!cfg)
		return -ENOMEM;
	cfg->vcpus = 1;
	cfg->mem_mib = 128;
	cfg->serial_fd = -1;
	cfg->log_fd = -1;
	*out = cfg;
	return 0;
}

void alcatraz_config_free(struct alcatraz_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->image_path);
	free(cfg->kernel_path);
	free(cfg->initrd_path);
	free(cfg->cmdline);
	free(cfg->vmm_path);
	free(cfg->cgroup_parent);
	free(cfg->restore_dir);
	if (cfg->serial_fd >= 0)
		close(cfg->serial_fd);
	if (cfg->log_fd >= 0)
		close(cfg->log_fd);
	guest_config_free(cfg);
	free(cfg);
}

int alcatraz_config_set_vcpus(struct alcatraz_config *cfg, unsigned int n)
{
	if (!cfg || n == 0 || n > ALCATRAZ_MAX_VCPUS)
		return -EINVAL;
	cfg->vcpus = n;
	return 0;
}

int alcatraz_config_set_memory_mib(struct alcatraz_config *cfg, uint64_t mib)
{
	if (!cfg || mib < ALCATRAZ_MIN_MEM_MIB || mib > ALCATRAZ_MAX_MEM_MIB)
		return -EINVAL;
	cfg->mem_mib = mib;
	return 0;
}

int config_set_string(char **dst, const char *src, size_t max)
{
	char *copy;

	if (!src || !*src || strlen(src) > max)
		return -EINVAL;
	copy = strdup(src);
	if (!copy)
		return -ENOMEM;
	free(*dst);
	*dst = copy;
	return 0;
}

int alcatraz_config_set_guest_image(struct alcatraz_config *cfg, const char *path)
{
	return cfg ? config_set_string(&cfg->image_path, path, PATH_MAX_LEN) : -EINVAL;
}

int alcatraz_config_set_kernel(struct alcatraz_config *cfg, const char *path)
{
	return cfg ? config_set_string(&cfg->kernel_path, path, PATH_MAX_LEN) : -EINVAL;
}

int alcatraz_config_set_initrd(struct alcatraz_config *cfg, const char *path)
{
	return cfg ? config_set_string(&cfg->initrd_path, path, PATH_MAX_LEN) : -EINVAL;
}

int alcatraz_config_set_cmdline(struct alcatraz_config *cfg, const char *cmdline)
{
	return cfg ? config_set_string(&cfg->cmdline, cmdline, CMDLINE_MAX_LEN) : -EINVAL;
}

static int set_fd(int *dst, int fd)
{
	int copy = -1;

	if (fd < -1)
		return -EBADF;
	if (fd >= 0) {
		copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		if (copy < 0)
			return -errno;
	}
	if (*dst >= 0)
		close(*dst);
	*dst = copy;
	return 0;
}

int alcatraz_config_set_serial_fd(struct alcatraz_config *cfg, int fd)
{
	return cfg ? set_fd(&cfg->serial_fd, fd) : -EINVAL;
}

int alcatraz_config_set_log_fd(struct alcatraz_config *cfg, int fd)
{
	return cfg ? set_fd(&cfg->log_fd, fd) : -EINVAL;
}

int alcatraz_config_set_timeout_ms(struct alcatraz_config *cfg, uint64_t ms)
{
	if (!cfg)
		return -EINVAL;
	cfg->timeout_ms = ms;
	return 0;
}

int alcatraz_config_set_irqchip(struct alcatraz_config *cfg, enum alcatraz_irqchip mode)
{
	if (!cfg || (mode != ALCATRAZ_IRQCHIP_AUTO && mode != ALCATRAZ_IRQCHIP_ON &&
		     mode != ALCATRAZ_IRQCHIP_OFF))
		return -EINVAL;
	cfg->irqchip = mode;
	return 0;
}

int alcatraz_config_set_output_filter(struct alcatraz_config *cfg,
				      enum alcatraz_output_filter mode)
{
	if (!cfg || (mode != ALCATRAZ_OUTPUT_FILTER_TTY && mode != ALCATRAZ_OUTPUT_FILTER_OFF &&
		     mode != ALCATRAZ_OUTPUT_FILTER_ON))
		return -EINVAL;
	cfg->output_filter = mode;
	return 0;
}

int config_validate(const struct alcatraz_config *cfg)
{
	if (!cfg)
		return -EINVAL;
	if (!!cfg->image_path + !!cfg->kernel_path != 1)
		return -EINVAL; /* exactly one of a raw image or a kernel */
	if (cfg->image_path && (cfg->initrd_path || (cfg->cmdline && !cfg->test_raw_platform)))
		return -EINVAL; /* raw images take neither */
	if (cfg->vcpus == 0 || cfg->vcpus > ALCATRAZ_MAX_VCPUS)
		return -EINVAL;
	if (cfg->mem_mib < ALCATRAZ_MIN_MEM_MIB || cfg->mem_mib > ALCATRAZ_MAX_MEM_MIB)
		return -EINVAL;
	/* The command's parts only make sense with a command, which needs
	 * a Linux kernel (test builds give raw guests disks too). */
	if (!cfg->argv && (cfg->envp || cfg->workdir || cfg->root_disk || cfg->rootfs_dir ||
			   (cfg->nr_disks && !cfg->test_raw_platform)))
		return -EINVAL;
	if (cfg->argv && !cfg->kernel_path && !cfg->test_raw_platform)
		return -EINVAL;
	if (volume_root(cfg) && (cfg->root_disk || cfg->rootfs_dir || cfg->initrd_path))
		return -EINVAL; /* two roots */
	return 0;
}

int alcatraz_config_set_allow_slow_kvm(struct alcatraz_config *cfg, bool allow)
{
	if (!cfg)
		return -EINVAL;
	cfg->allow_slow_kvm = allow;
	return 0;
}

int alcatraz_config_set_insecure_no_sandbox(struct alcatraz_config *cfg, bool insecure)
{
	if (!cfg)
		return -EINVAL;
	cfg->no_sandbox = insecure;
	return 0;
}

int alcatraz_config_set_vmm_binary(struct alcatraz_config *cfg, const char *path)
{
	return cfg ? config_set_string(&cfg->vmm_path, path, PATH_MAX_LEN) : -EINVAL;
}

int alcatraz_config_set_cgroup_parent(struct alcatraz_config *cfg, const char *dir)
{
	if (!cfg || !dir || dir[0] != '/')
		return -EINVAL;
	return config_set_string(&cfg->cgroup_parent, dir, PATH_MAX_LEN);
}

int alcatraz_config_set_require_cgroup(struct alcatraz_config *cfg, bool require)
{
	if (!cfg)
		return -EINVAL;
	cfg->require_cgroup = require;
	return 0;
}

#ifdef ALCATRAZ_TEST_HOOKS
/* Test builds only: a raw guest also gets the Linux guests' virtio devices
 * and may have disks (tests/hostile). */
int alcatraz_test_config_set_raw_platform(struct alcatraz_config *cfg);
int alcatraz_test_config_set_raw_platform(struct alcatraz_config *cfg)
{
	if (!cfg)
		return -EINVAL;
	cfg->test_raw_platform = true;
	return 0;
}
#endif
