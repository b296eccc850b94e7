// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The command's root and volumes. alcatraz-init always starts from the
 * library's initramfs; when the VMM names another root, init mounts it,
 * moves /dev, /proc, /sys and /run into it and makes it "/" (what
 * switch_root does), so a root disk or directory needs nothing of ours.
 * Then the host directories shared over virtio-fs are mounted by tag.
 *
 * From the kernel command line (written by the VMM, platform.c/fs.c):
 *   alcatraz.root=ext4:DEVICE:rw|ro        a disk, e.g. ext4:/dev/vda:rw
 *   alcatraz.root=virtiofs:TAG:rw|ro|overlay
 *                 overlay: read-only share under a writable layer in RAM
 *   alcatraz.volumes=TAG:rw|ro:PATH;...    PATH with %XX escapes
 *
 * A failure names the device or tag, the file system, the error and the
 * kernel's own last words about it (read back from /dev/kmsg), in one line:
 * the host's error (INIT_REASON) or, without a control channel, on the
 * console; and in the kernel log.  The command does not run.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "init.h"

#define NEWROOT "/.alcatraz-root"
#define OVL_LOWER "/.alcatraz-lower"
#define OVL_RW "/.alcatraz-rw"
#define DEVICE_WAIT_MS 5000
#define KMSG_WORDS 200

/* Where the kernel log stood before a mount: its words about a failure are
 * what came after. */
static int kmsg_mark(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

/* The last kernel message since the mark that is not init's own. */
static void kmsg_words(int fd, char *out, size_t outsz)
{
	char rec[1024];
	ssize_t n;

	out[0] = '\0';
	if (fd < 0)
		return;
	while ((n = read(fd, rec, sizeof(rec) - 1)) > 0 || (n < 0 && errno == EPIPE)) {
		if (n <= 0)
			continue; /* EPIPE: records were overwritten; go on */
		rec[n] = '\0';
		char *text = strchr(rec, ';');
		if (!text)
			continue;
		text++;
		text[strcspn(text, "\n")] = '\0';
		if (!strncmp(text, "alcatraz-init", 13) || !*text)
			continue;
		snprintf(out, outsz, "%s", text);
	}
	close(fd);
}

/* One line in the kernel log and for the user: the host's error for the
 * INIT_ERROR that follows when the control channel is up (the first line
 * only: it names the cause), else on the console. */
__attribute__((format(printf, 1, 2))) static void report(const char *fmt, ...)
{
	static bool reported;
	char line[512];
	va_list ap;
	int fd;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	klog(3, "%s", line);
	if (g.ctl >= 0) {
		if (!reported)
			send_reason(line);
		reported = true;
		return;
	}
	if (!g.console)
		g.console = pick_console();
	fd = open(g.console, O_WRONLY | O_NOCTTY | O_CLOEXEC);
	if (fd >= 0) {
		dprintf(fd, "alcatraz-init: %s\r\n", line);
		close(fd);
	}
}

static int mkdir_p(const char *path, mode_t mode)
{
	char buf[4096];
	size_t len = strlen(path);

	if (len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* mount(2), and on failure the line that says what and why. */
static int mount_or_report(const char *what, const char *src, const char *target,
			   const char *type, unsigned long flags, const char *data)
{
	char words[KMSG_WORDS];
	int mark = kmsg_mark(), err;

	if (mount(src, target, type, flags, data) == 0) {
		if (mark >= 0)
			close(mark);
		return 0;
	}
	err = errno;
	kmsg_words(mark, words, sizeof(words));
	report("cannot mount %s: %s (%s) on %s: %s%s%s", what, src, type, target, strerror(err),
	       words[0] ? "; kernel: " : "", words);
	return -err;
}

static bool node_exists(const char *path)
{
	for (int waited = 0; waited < DEVICE_WAIT_MS; waited += 10) {
		if (access(path, F_OK) == 0)
			return true;
		usleep(10 * 1000);
	}
	return access(path, F_OK) == 0;
}

/* "TYPE:SOURCE:MODE" split in place. */
static int split3(char *s, char **a, char **b, char **c)
{
	*a = s;
	*b = strchr(s, ':');
	if (!*b)
		return -EINVAL;
	*(*b)++ = '\0';
	*c = strchr(*b, ':');
	if (!*c)
		return -EINVAL;
	*(*c)++ = '\0';
	return **a && **b && **c ? 0 : -EINVAL;
}

static int mount_overlay_root(const char *tag)
{
	int ret;

	if ((ret = mkdir_p(OVL_LOWER, 0755)) || (ret = mkdir_p(OVL_RW, 0755)))
		return ret;
	if ((ret = mount_or_report("the root file system", tag, OVL_LOWER, "virtiofs", MS_RDONLY,
				   NULL)) ||
	    (ret = mount_or_report("the root's writable layer", "tmpfs", OVL_RW, "tmpfs", 0,
				   "mode=0755")))
		return ret;
	if ((ret = mkdir_p(OVL_RW "/upper", 0755)) || (ret = mkdir_p(OVL_RW "/work", 0755)))
		return ret;
	return mount_or_report("the root overlay", "overlay", NEWROOT, "overlay", 0,
			       "lowerdir=" OVL_LOWER ",upperdir=" OVL_RW "/upper,workdir=" OVL_RW
			       "/work");
}

static int mount_new_root(char *spec)
{
	char *type, *src, *mode;
	unsigned long ro;

	if (split3(spec, &type, &src, &mode) ||
	    (strcmp(mode, "rw") && strcmp(mode, "ro") && strcmp(mode, "overlay"))) {
		report("unusable alcatraz.root= on the kernel command line");
		return -EINVAL;
	}
	ro = strcmp(mode, "rw") ? MS_RDONLY : 0;
	int ret = mkdir_p(NEWROOT, 0755);
	if (ret)
		return ret;
	if (!strcmp(type, "ext4")) {
		if (!node_exists(src)) {
			report("cannot mount the root file system: no device %s (is the disk attached?)",
			       src);
			return -ENODEV;
		}
		return mount_or_report("the root file system", src, NEWROOT, "ext4", ro, NULL);
	}
	if (!strcmp(type, "virtiofs")) {
		if (!strcmp(mode, "overlay"))
			return mount_overlay_root(src);
		return mount_or_report("the root file system", src, NEWROOT, "virtiofs", ro, NULL);
	}
	report("cannot mount the root file system: unknown type '%s'", type);
	return -EINVAL;
}

/* What the command expects to find, moved over from the initramfs. A root
 * without a mount point for one (and no way to make it) runs without it. */
static void move_system_mounts(void)
{
	static const char *const mounts[] = { "/dev", "/proc", "/sys", "/run" };
	char target[64];

	for (size_t i = 0; i < sizeof(mounts) / sizeof(mounts[0]); i++) {
		snprintf(target, sizeof(target), NEWROOT "%s", mounts[i]);
		if (mkdir(target, 0755) < 0 && errno != EEXIST) {
			klog(4, "the root has no %s (%s): the command runs without it", mounts[i],
			     strerror(errno));
			continue;
		}
		if (mount(mounts[i], target, NULL, MS_MOVE, NULL) < 0)
			klog(4, "moving %s into the root: %s", mounts[i], strerror(errno));
	}
}

static int switch_to_new_root(void)
{
	move_system_mounts();
	if (chdir(NEWROOT) < 0 || mount(".", "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0 ||
	    chdir("/") < 0) {
		int err = errno;
		report("cannot switch to the new root: %s", strerror(err));
		return -err;
	}
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* %XX escapes decoded in place; a malformed one or a NUL is refused. */
static int unescape(char *s)
{
	char *o = s;

	for (char *p = s; *p; p++) {
		if (*p != '%') {
			*o++ = *p;
			continue;
		}
		int hi = hexval(p[1]), lo = hi < 0 ? -1 : hexval(p[2]);
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
			return -EINVAL;
		*o++ = (char)(hi << 4 | lo);
		p += 2;
	}
	*o = '\0';
	return 0;
}

static int mount_volume(char *spec)
{
	char *tag, *mode, *path, what[64];
	int ret;

	if (split3(spec, &tag, &mode, &path) || unescape(path) || path[0] != '/' ||
	    (strcmp(mode, "rw") && strcmp(mode, "ro"))) {
		report("unusable alcatraz.volumes= entry on the kernel command line");
		return -EINVAL;
	}
	snprintf(what, sizeof(what), "volume '%s'", tag);
	ret = mkdir_p(path, 0755);
	if (ret) {
		report("cannot make the mount point %s of %s: %s", path, what, strerror(-ret));
		return ret;
	}
	return mount_or_report(what, tag, path, "virtiofs",
			       (strcmp(mode, "ro") ? 0 : MS_RDONLY) | MS_NODEV, NULL);
}

int setup_root_and_volumes(void)
{
	static char val[sizeof(g.cmdline)];
	char *save = NULL;
	int ret;

	if (cmdline_get("alcatraz.root", val, sizeof(val))) {
		dbg("mounting the root %s", val);
		if ((ret = mount_new_root(val)) || (ret = switch_to_new_root()))
			return ret;
	}
	if (!cmdline_get("alcatraz.volumes", val, sizeof(val)))
		return 0;
	for (char *v = strtok_r(val, ";", &save); v; v = strtok_r(NULL, ";", &save)) {
		dbg("mounting volume %s", v);
		if ((ret = mount_volume(v)))
			return ret;
	}
	return 0;
}
