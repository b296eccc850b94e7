// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * alcatraz-mkinitrd: write the default Alcatraz initramfs (alcatraz-init
 * as /init plus a static busybox with its applet links) or pack a
 * directory, as a cpio newc file.  Used for manual boots and for the QEMU
 * comparison benchmark, which must boot the same initramfs as the VMM.
 *
 *   alcatraz-mkinitrd -o OUT --init PATH [--busybox PATH] [--rootfs DIR]
 *
 * With --rootfs the directory is packed as the root and /init is still
 * alcatraz-init unless the directory has its own /init.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cpio.h"

static void die(const char *what, int err, const struct cpio_writer *w)
{
	const char *path = w ? cpio_error_path(w) : "";

	fprintf(stderr, "alcatraz-mkinitrd: %s%s%s: %s\n", what, *path ? " " : "", path,
		strerror(err));
	exit(1);
}

/*
 * Applet links from `busybox --list-full` ("bin/sh", "usr/bin/awk"...).
 * The host busybox is the very binary being packed, so its list is the
 * guest's.
 */
static int add_applets(struct cpio_writer *w, const char *busybox)
{
	char cmd[4200], line[512];
	FILE *p;
	int r = 0, n = 0;

	snprintf(cmd, sizeof(cmd), "'%s' --list-full", busybox);
	p = popen(cmd, "r");
	if (!p)
		return -errno;
	while (fgets(line, sizeof(line), p)) {
		line[strcspn(line, "\n")] = '\0';
		if (!line[0] || !strcmp(line, "bin/busybox"))
			continue;
		r = cpio_add_symlink(w, line, "/bin/busybox");
		if (r)
			break;
		n++;
	}
	if (pclose(p) != 0 && !r)
		r = -ENOEXEC;
	return r ? r : n;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "init", required_argument, NULL, 'i' },
		{ "busybox", required_argument, NULL, 'b' },
		{ "rootfs", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *out = NULL, *init = NULL, *busybox = NULL, *rootfs = NULL;
	static const char *const dirs[] = { "bin", "sbin", "usr/bin", "usr/sbin", "etc",
					    "root", "proc", "sys", "dev", "tmp", "run" };
	struct cpio_writer *w;
	const void *data;
	size_t len;
	char own_init[4200];
	FILE *f;
	int c, r;

	while ((c = getopt_long(argc, argv, "o:i:b:r:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'i': init = optarg; break;
		case 'b': busybox = optarg; break;
		case 'r': rootfs = optarg; break;
		default:
			fprintf(stderr, "usage: alcatraz-mkinitrd -o OUT --init PATH "
				"[--busybox PATH] [--rootfs DIR]\n");
			return c == 'h' ? 0 : 2;
		}
	}
	if (!out || !init || optind != argc) {
		fprintf(stderr, "alcatraz-mkinitrd: -o OUT and --init PATH are required\n");
		return 2;
	}

	r = cpio_writer_new(&w);
	if (r)
		die("allocating", -r, NULL);
	if (rootfs) {
		r = cpio_add_tree(w, "", rootfs, 0);
		if (r)
			die("packing", -r, w);
	}
	/* A packed directory keeps its own modes; init creates mount points. */
	for (size_t i = 0; !rootfs && i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		r = cpio_add_dir(w, dirs[i], 0755);
		if (r)
			die("adding", -r, w);
	}
	/* The kernel opens /dev/console for PID 1 before devtmpfs exists. */
	if ((r = cpio_add_node(w, "dev/console", S_IFCHR | 0600, 5, 1)) ||
	    (r = cpio_add_node(w, "dev/null", S_IFCHR | 0666, 1, 3)))
		die("adding", -r, w);
	snprintf(own_init, sizeof(own_init), "%s/init", rootfs ? rootfs : "");
	if (!rootfs || access(own_init, F_OK) != 0) {
		r = cpio_add_path(w, "init", init, 0);
		if (r)
			die("adding", -r, w);
	}
	if (busybox) {
		r = cpio_add_path(w, "bin/busybox", busybox, 0);
		if (r)
			die("adding", -r, w);
		r = add_applets(w, busybox);
		if (r < 0)
			die("listing the applets of", -r, NULL);
	}
	r = cpio_finish(w);
	if (r)
		die("finishing", -r, w);

	data = cpio_data(w, &len);
	f = fopen(out, "wb");
	if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0)
		die(out, errno, NULL);
	cpio_writer_free(w);
	return 0;
}
