// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Linux guests at the API: the command, its environment and stdio, disks,
 * and the initramfs the library writes at VM creation (alcatraz-init as
 * /init plus a static busybox, or a packed host directory).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alcatraz_paths.h"
#include "cpio.h"
#include "lib.h"
#include "volume.h"

#ifndef ALCATRAZ_DATADIR
#define ALCATRAZ_DATADIR "/usr/local/share"
#endif
#ifndef ALCATRAZ_LIBEXECDIR
#define ALCATRAZ_LIBEXECDIR "/usr/local/libexec"
#endif

#define MAX_DISKS 8
#define MAX_ARGS 4096

static void free_strv(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

static char **dup_strv(char *const *v, unsigned int extra_slots)
{
	size_t n = 0;
	char **out;

	while (v && v[n])
		n++;
	out = calloc(n + 1 + extra_slots, sizeof(*out));
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		out[i] = strdup(v[i]);
		if (!out[i]) {
			free_strv(out);
			return NULL;
		}
	}
	return out;
}

static void close_stdio(struct alcatraz_config *cfg);

void guest_config_free(struct alcatraz_config *cfg)
{
	free_strv(cfg->argv);
	free_strv(cfg->envp);
	free(cfg->workdir);
	close_stdio(cfg);
	for (unsigned int i = 0; i < cfg->nr_disks; i++)
		free(cfg->disks[i].path);
	free(cfg->disks);
	free(cfg->root_disk);
	free(cfg->rootfs_dir);
	volume_config_free(cfg);
	free(cfg->init_path);
	free(cfg->busybox_path);
}

int alcatraz_config_set_command(struct alcatraz_config *cfg, const char *const *argv)
{
	char **copy;
	size_t n = 0;

	if (!cfg || !argv || !argv[0] || !argv[0][0])
		return -EINVAL;
	while (argv[n])
		if (++n > MAX_ARGS)
			return -E2BIG;
	copy = dup_strv((char *const *)argv, 0);
	if (!copy)
		return -ENOMEM;
	free_strv(cfg->argv);
	cfg->argv = copy;
	return 0;
}

int alcatraz_config_add_env(struct alcatraz_config *cfg, const char *kv)
{
	char **grown, *copy;

	if (!cfg || !kv || kv[0] == '=' || !strchr(kv, '='))
		return -EINVAL;
	if (cfg->envc >= MAX_ARGS)
		return -E2BIG;
	copy = strdup(kv);
	grown = realloc(cfg->envp, (cfg->envc + 2) * sizeof(*grown));
	if (!copy || !grown) {
		free(copy);
		if (grown)
			cfg->envp = grown;
		return -ENOMEM;
	}
	grown[cfg->envc++] = copy;
	grown[cfg->envc] = NULL;
	cfg->envp = grown;
	return 0;
}

int alcatraz_config_set_workdir(struct alcatraz_config *cfg, const char *dir)
{
	if (!cfg || !dir || dir[0] != '/')
		return -EINVAL;
	return config_set_string(&cfg->workdir, dir, PATH_MAX_LEN);
}

static int dup_fd(int fd)
{
	int copy;

	if (fd < 0)
		return -1;
	copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	return copy < 0 ? -errno : copy;
}

static void close_stdio(struct alcatraz_config *cfg)
{
	if (!cfg->stdio_set)
		return;
	if (cfg->stdin_fd >= 0)
		close(cfg->stdin_fd);
	if (cfg->stdout_fd >= 0)
		close(cfg->stdout_fd);
	if (cfg->stderr_fd >= 0)
		close(cfg->stderr_fd);
	cfg->stdio_set = false;
}

int alcatraz_config_set_stdio(struct alcatraz_config *cfg, int in_fd, int out_fd, int err_fd)
{
	int fds[3] = { in_fd, out_fd, err_fd }, copies[3] = { -1, -1, -1 };

	if (!cfg || in_fd < -1 || out_fd < -1 || err_fd < -1)
		return -EINVAL;
	for (int i = 0; i < 3; i++) {
		copies[i] = dup_fd(fds[i]);
		if (copies[i] < -1) {
			int ret = copies[i];
			for (int k = 0; k < i; k++)
				if (copies[k] >= 0)
					close(copies[k]);
			return ret;
		}
	}
	close_stdio(cfg);
	cfg->stdin_fd = copies[0];
	cfg->stdout_fd = copies[1];
	cfg->stderr_fd = copies[2];
	cfg->stdio_set = true;
	return 0;
}

int alcatraz_config_add_disk(struct alcatraz_config *cfg, const char *path, bool readonly)
{
	struct alcatraz_disk *grown;
	char *copy = NULL;
	int ret;

	if (!cfg || cfg->nr_disks >= MAX_DISKS)
		return -EINVAL;
	ret = config_set_string(&copy, path, PATH_MAX_LEN);
	if (ret)
		return ret;
	grown = realloc(cfg->disks, (cfg->nr_disks + 1) * sizeof(*grown));
	if (!grown) {
		free(copy);
		return -ENOMEM;
	}
	grown[cfg->nr_disks++] = (struct alcatraz_disk){ .path = copy, .readonly = readonly };
	cfg->disks = grown;
	return 0;
}

int alcatraz_config_set_root_disk(struct alcatraz_config *cfg, const char *path)
{
	return cfg ? config_set_string(&cfg->root_disk, path, PATH_MAX_LEN) : -EINVAL;
}

int alcatraz_config_set_rootfs_dir(struct alcatraz_config *cfg, const char *dir)
{
	return cfg ? config_set_string(&cfg->rootfs_dir, dir, PATH_MAX_LEN) : -EINVAL;
}

int alcatraz_config_set_guest_init(struct alcatraz_config *cfg, const char *init,
				   const char *busybox)
{
	int ret = 0;

	if (!cfg)
		return -EINVAL;
	if (init)
		ret = config_set_string(&cfg->init_path, init, PATH_MAX_LEN);
	if (!ret && busybox)
		ret = config_set_string(&cfg->busybox_path, busybox, PATH_MAX_LEN);
	return ret;
}

/*
 * The file named by the environment variable env, else the first readable
 * one among candidates.  On -ENOENT buf holds the last path tried, for the
 * caller's message.  secure_getenv: a set-user-ID embedder must not let its
 * caller choose the kernel or init it boots.
 */
static int find_file(const char *env, const char *const *candidates, char *buf, size_t len)
{
	const char *e = env ? secure_getenv(env) : NULL;
	const char *const one[] = { e, NULL };

	if (e && *e)
		candidates = one;
	for (const char *const *c = candidates; *c; c++) {
		if ((size_t)snprintf(buf, len, "%s", *c) >= len)
			return -ENAMETOOLONG;
		if (access(*c, R_OK) == 0)
			return 0;
	}
	return -ENOENT;
}

/* Installed locations only: uninstalled runs set the variables (meson devenv). */
static const char *const kernel_candidates[] = { ALCATRAZ_DATADIR "/alcatraz/vmlinux", NULL };
static const char *const init_candidates[] = { ALCATRAZ_LIBEXECDIR "/alcatraz/alcatraz-init", NULL };

#ifdef ALCATRAZ_TEST_VMM
/* Test builds of the library start the test-hooks VMM of their build tree. */
static const char *const vmm_candidates[] = { ALCATRAZ_TEST_VMM, NULL };
#else
static const char *const vmm_candidates[] = { ALCATRAZ_LIBEXECDIR "/alcatraz/alcatraz-vmm", NULL };
#endif

int vmm_binary_path(const struct alcatraz_config *cfg, char *buf, size_t len)
{
	if (cfg->vmm_path) {
		if ((size_t)snprintf(buf, len, "%s", cfg->vmm_path) >= len)
			return -ENAMETOOLONG;
	} else {
#ifdef ALCATRAZ_TEST_VMM
		const char *e = NULL; /* the test-hooks VMM, whatever the environment says */
#else
		const char *e = secure_getenv("ALCATRAZ_VMM");
#endif
		const char *path = e && *e ? e : vmm_candidates[0];
		if ((size_t)snprintf(buf, len, "%s", path) >= len)
			return -ENAMETOOLONG;
	}
	return access(buf, X_OK) == 0 ? 0 : -errno;
}

int alcatraz_default_kernel(char *buf, size_t len)
{
	if (!buf || !len)
		return -EINVAL;
	return find_file("ALCATRAZ_KERNEL", kernel_candidates, buf, len);
}

int alcatraz_default_init(char *buf, size_t len)
{
	if (!buf || !len)
		return -EINVAL;
	return find_file("ALCATRAZ_INIT", init_candidates, buf, len);
}

int alcatraz_result_exit_code(const struct alcatraz_result *r)
{
	if (!r)
		return 125;
	switch (r->kind) {
	case ALCATRAZ_EXIT_STATUS:
		return r->status & 0xff;
	case ALCATRAZ_EXIT_SIGNALED:
		return 128 + (r->status & 0x7f);
	case ALCATRAZ_EXIT_HALT:
	case ALCATRAZ_EXIT_SHUTDOWN:
	case ALCATRAZ_EXIT_RESET:
		return 0;
	case ALCATRAZ_EXIT_TIMEOUT:
		return 124;
	case ALCATRAZ_EXIT_KILLED:
		return 137;
	default:
		return 125;
	}
}

static int build_initramfs(const struct alcatraz_config *cfg, uint8_t **data, size_t *len_out)
{
	static const char *const busybox_candidates[] = { "/bin/busybox", "/usr/bin/busybox", NULL };
	static const char *const dirs[] = { "bin", "sbin", "usr/bin", "usr/sbin", "etc", "root",
					    "proc", "sys", "dev", "tmp", "run", "mnt" };
	char init[4096], busybox[4096];
	struct cpio_writer *w;
	struct stat st;
	size_t len;
	int ret;

	if (cfg->init_path)
		snprintf(init, sizeof(init), "%s", cfg->init_path);
	else if (find_file("ALCATRAZ_INIT", init_candidates, init, sizeof(init)))
		return -ENOENT;
	if (cfg->busybox_path)
		snprintf(busybox, sizeof(busybox), "%s", cfg->busybox_path);
	else if (find_file("ALCATRAZ_BUSYBOX", busybox_candidates, busybox, sizeof(busybox)))
		busybox[0] = '\0'; /* a rootfs may bring its own tools */
	if (cfg->rootfs_dir && (stat(cfg->rootfs_dir, &st) < 0 || !S_ISDIR(st.st_mode)))
		return -ENOTDIR;

	ret = cpio_writer_new(&w);
	if (ret)
		return ret;
	/* The archive is copied into guest RAM beside the kernel. */
	cpio_writer_set_limit(w, (size_t)(cfg->mem_mib << 20) / 2);
	if (cfg->rootfs_dir)
		ret = cpio_add_tree(w, "", cfg->rootfs_dir, 0);
	for (size_t i = 0; !ret && !cfg->rootfs_dir && i < sizeof(dirs) / sizeof(dirs[0]); i++)
		ret = cpio_add_dir(w, dirs[i], 0755);
	/* The kernel opens /dev/console for PID 1 before devtmpfs is mounted. */
	if (!ret)
		ret = cpio_add_node(w, "dev/console", S_IFCHR | 0600, 5, 1);
	if (!ret)
		ret = cpio_add_node(w, "dev/null", S_IFCHR | 0666, 1, 3);
	/* Always our init: it is the other end of the control channel. */
	if (!ret)
		ret = cpio_add_path(w, "init", init, 0);
	/* busybox --install runs in the guest (alcatraz-init), not here. */
	if (!ret && busybox[0] && !cfg->rootfs_dir)
		ret = cpio_add_path(w, "bin/busybox", busybox, 0);
	if (!ret)
		ret = cpio_finish(w);
	if (!ret) {
		*data = cpio_steal(w, &len);
		*len_out = len;
		if (!*data)
			ret = -ENOMEM;
	}
	cpio_writer_free(w);
	return ret;
}

int guest_initramfs_memfd(const struct alcatraz_config *cfg, int *fd_out)
{
	uint8_t *data = NULL;
	size_t len = 0, done = 0;
	int fd, ret;

	ret = build_initramfs(cfg, &data, &len);
	if (ret) {
		lib_log(cfg->log_fd, "alcatraz: error: initramfs: %s\n", alcatraz_strerror(ret));
		return ret;
	}
	fd = memfd_create("alcatraz-initramfs", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0) {
		ret = -errno;
		free(data);
		return ret;
	}
	while (done < len) {
		ssize_t n = write(fd, data + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : -EIO;
			break;
		}
		done += (size_t)n;
	}
	free(data);
	/* Sealed: the VMM reads what was written, nothing the caller changes later. */
	if (!ret && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
		ret = -errno;
	if (ret) {
		close(fd);
		return ret;
	}
	*fd_out = fd;
	return 0;
}
