// SPDX-License-Identifier: LGPL-2.1-or-later
/* Volumes and their virtiofsd (volume.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "volume.h"

#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#define VOL_MOUNT_ATTR_RDONLY 0x1ull

/* linux/mount.h's struct mount_attr (that header clashes with sys/mount.h). */
struct vol_mount_attr {
	uint64_t attr_set, attr_clr, propagation, userns_fd;
};

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errlen,
						      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

void volume_free(struct volume *v)
{
	free(v->host_dir);
	free(v->guest_path);
	v->host_dir = v->guest_path = NULL;
}

int volume_parse(const char *spec, struct volume *v, char *err, size_t errlen)
{
	const char *c1 = strchr(spec, ':'), *c2;

	memset(v, 0, sizeof(*v));
	if (!c1 || c1 == spec)
		return fail(err, errlen, "volume '%s': expected HOSTDIR:GUESTDIR[:ro]", spec);
	c2 = strchr(c1 + 1, ':');
	if (c2 && strcmp(c2, ":ro") && strcmp(c2, ":rw"))
		return fail(err, errlen, "volume '%s': the mode after GUESTDIR is ro or rw", spec);
	v->host_dir = strndup(spec, (size_t)(c1 - spec));
	v->guest_path = c2 ? strndup(c1 + 1, (size_t)(c2 - c1 - 1)) : strdup(c1 + 1);
	v->readonly = c2 && !strcmp(c2, ":ro");
	if (!v->host_dir || !v->guest_path) {
		volume_free(v);
		return -ENOMEM;
	}
	return 0;
}

/* Absolute, no empty, "." or ".." component; a trailing slash is dropped. */
static bool guest_path_clean(char *p)
{
	size_t len = strlen(p);

	if (p[0] != '/' || len > VOLUME_GUEST_PATH_MAX)
		return false;
	while (len > 1 && p[len - 1] == '/')
		p[--len] = '\0';
	for (const char *c = p + 1; len > 1 && *c;) {
		size_t n = strcspn(c, "/");
		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		c += n;
		if (*c)
			c++;
	}
	return true;
}

int volume_check(struct volume *v, bool root_ok, char *err, size_t errlen)
{
	struct stat st;
	char *real;

	if (!guest_path_clean(v->guest_path))
		return fail(err, errlen,
			    "volume '%s': the guest path must be absolute, without '.' or '..', "
			    "at most %d bytes", v->guest_path, VOLUME_GUEST_PATH_MAX);
	if (!root_ok && !strcmp(v->guest_path, "/"))
		return fail(err, errlen, "volume '%s': '/' is the root (--rootfs)", v->host_dir);
	real = realpath(v->host_dir, NULL);
	if (!real || stat(real, &st) < 0) {
		int e = errno;
		free(real);
		fail(err, errlen, "volume '%s': %s on the host", v->host_dir,
		     e == ENOENT ? "no such directory" : strerror(e));
		return -e;
	}
	if (!S_ISDIR(st.st_mode)) {
		free(real);
		fail(err, errlen, "volume '%s': not a directory on the host", v->host_dir);
		return -ENOTDIR;
	}
	free(v->host_dir);
	v->host_dir = real;
	return 0;
}

const char *virtiofsd_path(void)
{
	const char *env = getenv("ALCATRAZ_VIRTIOFSD");

	if (env && *env)
		return env;
	if (access(VIRTIOFSD_DEBIAN, X_OK) == 0)
		return VIRTIOFSD_DEBIAN;
	if (access(VIRTIOFSD_RUST, X_OK) == 0)
		return VIRTIOFSD_RUST;
	return VIRTIOFSD_DEBIAN;
}

/*
 * virtiofsd's --fd is a listening socket it accepts one connection on. It
 * is bound in a fresh 0700 directory, connected to at once and unlinked, so
 * the connection it accepts can only be ours.
 */
static int listen_and_connect(int *lfd, int *cfd)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	const char *base = getenv("XDG_RUNTIME_DIR");
	char dir[PATH_MAX];
	int ret = 0;

	snprintf(dir, sizeof(dir), "%s/alcatraz-vfs.XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(dir))
		return -errno;
	if ((size_t)snprintf(a.sun_path, sizeof(a.sun_path), "%s/s", dir) >= sizeof(a.sun_path)) {
		rmdir(dir);
		return -ENAMETOOLONG;
	}
	*lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	*cfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*lfd < 0 || *cfd < 0 || bind(*lfd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(*lfd, 1) < 0 || connect(*cfd, (struct sockaddr *)&a, sizeof(a)) < 0)
		ret = -errno;
	unlink(a.sun_path);
	rmdir(dir);
	if (ret) {
		if (*lfd >= 0)
			close(*lfd);
		if (*cfd >= 0)
			close(*cfd);
	}
	return ret;
}

/*
 * virtiofsd's namespace sandbox pivots into the shared directory, and
 * pivot_root(2) refuses to move an initramfs's rootfs (the lab, rescue
 * systems): there it chroots instead, in namespaces made for it.
 */
static bool root_is_initramfs(void)
{
	char line[512];
	bool found = false;
	FILE *f = fopen("/proc/self/mounts", "re");

	while (f && !found && fgets(line, sizeof(line), f)) {
		char dev[128], dir[256], type[64];
		if (sscanf(line, "%127s %255s %63s", dev, dir, type) == 3 && !strcmp(dir, "/") &&
		    !strcmp(type, "rootfs"))
			found = true;
	}
	if (f)
		fclose(f);
	return found;
}

enum child_stage { STAGE_NS = 1, STAGE_RO, STAGE_FDS, STAGE_EXEC };

struct child_err {
	int stage, err;
};

/* Types are "none", never NULL, for the calls where the kernel ignores them:
 * valgrind checks every string argument. */

/*
 * Without mount_setattr (kernels before 5.12, or valgrind): the bind mount
 * alone is made read-only, which is enough only when nothing is mounted
 * below it; otherwise this fails (ENOSYS). Child side: no allocation.
 */
static int remount_ro_alone(const char *dir)
{
	static char buf[1 << 16];
	size_t dlen = strlen(dir), have = 0;
	ssize_t n;
	int fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while (have < sizeof(buf) - 1 && (n = read(fd, buf + have, sizeof(buf) - 1 - have)) > 0)
		have += (size_t)n;
	close(fd);
	buf[have] = '\0';
	/* Field 5 of each line is the mount point ("\040" for a space, which
	 * only makes a match less likely: refused below if in doubt). */
	for (char *line = buf; line && *line;) {
		char *next = strchr(line, '\n'), *f = line;
		if (next)
			*next++ = '\0';
		for (int i = 0; i < 4 && f; i++) {
			f = strchr(f, ' ');
			if (f)
				f++;
		}
		if (have == sizeof(buf) - 1 ||
		    (f && !strncmp(f, dir, dlen) && f[dlen] == '/')) {
			errno = ENOSYS;
			return -1;
		}
		line = next;
	}
	return mount("none", dir, "none", MS_REMOUNT | MS_BIND | MS_RDONLY, NULL);
}

/* In the child: async-signal-safe calls only (the library may have
 * threads); a failure is written to errpipe. */
static void __attribute__((noreturn))
child(const struct volume *v, const char *path, char *const argv[], bool chroot_mode, int lfd,
      int log_fd, int null_fd, int errpipe)
{
	struct child_err ce = { 0, 0 };
	struct vol_mount_attr ma = { .attr_set = VOL_MOUNT_ATTR_RDONLY };
	char *const envp[] = { NULL };

	/* virtiofsd's chroot mode (an initramfs root) makes no namespaces of
	 * its own: the mount, network and IPC ones are made here. */
	if (v->readonly || chroot_mode) {
		ce.stage = STAGE_NS;
		if (unshare(CLONE_NEWNS | (chroot_mode ? CLONE_NEWNET | CLONE_NEWIPC : 0)) < 0 ||
		    mount("none", "/", "none", MS_REC | MS_SLAVE, NULL) < 0)
			goto out;
	}
	if (v->readonly) {
		/* Recursive: a mount below the shared directory is read-only too. */
		ce.stage = STAGE_RO;
		if (mount(v->host_dir, v->host_dir, "none", MS_BIND | MS_REC, NULL) < 0)
			goto out;
		if (syscall(SYS_mount_setattr, AT_FDCWD, v->host_dir, AT_RECURSIVE, &ma,
			    sizeof(ma)) < 0 &&
		    (errno != ENOSYS || remount_ro_alone(v->host_dir) < 0))
			goto out;
	}
	/* Out of the way first, so that no dup2 below lands on a source. */
	ce.stage = STAGE_FDS;
	int e = fcntl(errpipe, F_DUPFD_CLOEXEC, 10), l = fcntl(lfd, F_DUPFD, 10);
	int n = fcntl(null_fd, F_DUPFD, 10), lg = log_fd >= 0 ? fcntl(log_fd, F_DUPFD, 10) : n;
	if (e < 0 || l < 0 || n < 0 || lg < 0)
		goto out;
	errpipe = e;
	if (dup2(n, 0) < 0 || dup2(lg, 1) < 0 || dup2(lg, 2) < 0 || dup2(l, 3) < 0 ||
	    dup2(e, 4) < 0 || fcntl(4, F_SETFD, FD_CLOEXEC) < 0)
		goto out;
	errpipe = 4;
	if (syscall(SYS_close_range, 5, ~0u, 0) < 0)
		goto out;
	ce.stage = STAGE_EXEC;
	execve(path, argv, envp);
out:
	ce.err = errno;
	(void)!write(errpipe, &ce, sizeof(ce));
	_exit(127);
}

static const char *stage_name(int stage)
{
	switch (stage) {
	case STAGE_NS:
		return "a mount namespace";
	case STAGE_RO:
		return "the read-only bind mount";
	case STAGE_FDS:
		return "its descriptors";
	default:
		return "exec";
	}
}

int virtiofsd_start(const struct volume *v, int log_fd, int *sock, pid_t *pid, char *err,
		    size_t errlen)
{
	const char *path = virtiofsd_path();
	char source[PATH_MAX + 16];
	bool chroot_mode = root_is_initramfs();
	char *const argv[] = {
		(char *)path, "--fd=3", "-o", source, "-o",
		chroot_mode ? "sandbox=chroot" : "sandbox=namespace", "-o", "cache=auto",
		"-o", "log_level=warn", NULL,
	};
	struct child_err ce = { 0, 0 };
	int lfd = -1, cfd = -1, null_fd, pipefd[2], ret;
	pid_t p;

	err[0] = '\0';
	if ((size_t)snprintf(source, sizeof(source), "source=%s", v->host_dir) >= sizeof(source))
		return fail(err, errlen, "volume '%s': path too long", v->host_dir);
	if (access(path, X_OK) < 0)
		return fail(err, errlen, "volume '%s': cannot run virtiofsd %s: %s (Debian: "
			    "apt-get install qemu-system-common)", v->host_dir, path,
			    strerror(errno));
	ret = listen_and_connect(&lfd, &cfd);
	if (ret) {
		fail(err, errlen, "volume '%s': vhost-user socket: %s", v->host_dir, strerror(-ret));
		return ret;
	}
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null_fd < 0 || pipe2(pipefd, O_CLOEXEC) < 0) {
		ret = -errno;
		goto out;
	}
	p = fork();
	if (p == 0 && !pid) {
		/* Detached: the daemon is init's child, never a zombie of ours. */
		pid_t g = fork();
		if (g != 0) {
			struct child_err fe = { STAGE_NS, errno };
			if (g < 0)
				(void)!write(pipefd[1], &fe, sizeof(fe));
			_exit(g < 0 ? 127 : 0);
		}
	}
	if (p == 0)
		child(v, path, argv, chroot_mode, lfd, log_fd, null_fd, pipefd[1]);
	ret = p < 0 ? -errno : 0;
	close(pipefd[1]);
	bool failed = p > 0 && read(pipefd[0], &ce, sizeof(ce)) == (ssize_t)sizeof(ce);
	if (p > 0 && (failed || !pid))
		waitpid(p, NULL, 0);
	if (failed) {
		ret = -(ce.err ? ce.err : EIO);
		fail(err, errlen, "volume '%s': starting virtiofsd: %s: %s", v->host_dir,
		     stage_name(ce.stage), strerror(-ret));
	}
	close(pipefd[0]);
	if (!ret) {
		*sock = cfd;
		if (pid)
			*pid = p;
		cfd = -1;
	}
out:
	if (ret && !err[0])
		fail(err, errlen, "volume '%s': starting virtiofsd: %s", v->host_dir,
		     strerror(-ret));
	if (null_fd >= 0)
		close(null_fd);
	close(lfd);
	if (cfd >= 0)
		close(cfd);
	return ret;
}

void virtiofsd_stop(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

int volumes_start(const struct volume *v, unsigned int n, int log_fd, struct volume_daemon *out,
		  char *err, size_t errlen)
{
	for (unsigned int i = 0; i < n; i++) {
		struct volume_daemon *d = &out[i];
		int ret;

		if (!strcmp(v[i].guest_path, "/"))
			snprintf(d->tag, sizeof(d->tag), "root");
		else
			snprintf(d->tag, sizeof(d->tag), "vol%u", i);
		ret = virtiofsd_start(&v[i], log_fd, &d->sock, &d->pid, err, errlen);
		if (ret) {
			volumes_stop(out, i);
			return ret;
		}
	}
	return 0;
}

void volumes_stop(struct volume_daemon *d, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		if (d[i].sock >= 0)
			close(d[i].sock);
		d[i].sock = -1;
		virtiofsd_stop(d[i].pid);
		d[i].pid = 0;
	}
}
