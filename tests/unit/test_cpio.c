// SPDX-License-Identifier: LGPL-2.1-or-later
/* Description: the cpio newc writer round-trips through an independent reader and GNU cpio. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_main.h"
#include "cpio.h"

/*
 * A deliberately separate reader: it parses the format from the spec, with
 * its own hex decoding and alignment arithmetic, and checks the invariants
 * the Linux unpacker relies on.
 */
struct ent {
	char name[4200];
	unsigned long ino, mode, uid, gid, nlink, mtime, size, rmaj, rmin;
	const unsigned char *data;
};

static unsigned long hex8(const unsigned char *p)
{
	char tmp[9];

	memcpy(tmp, p, 8);
	tmp[8] = 0;
	for (int i = 0; i < 8; i++)
		ck_assert_msg(strchr("0123456789abcdefABCDEF", tmp[i]) && tmp[i], "bad hex digit");
	return strtoul(tmp, NULL, 16);
}

/* Parse all entries; returns the count, the trailer excluded. */
static int parse(const unsigned char *buf, size_t len, struct ent *out, int max)
{
	size_t off = 0;
	int n = 0;

	for (;;) {
		struct ent e;
		unsigned long namesize;

		ck_assert_uint_eq(off % 4, 0);
		ck_assert_msg(off + 110 <= len, "truncated header at %zu", off);
		ck_assert_msg(memcmp(buf + off, "070701", 6) == 0, "bad magic at %zu", off);
		e.ino = hex8(buf + off + 6);
		e.mode = hex8(buf + off + 14);
		e.uid = hex8(buf + off + 22);
		e.gid = hex8(buf + off + 30);
		e.nlink = hex8(buf + off + 38);
		e.mtime = hex8(buf + off + 46);
		e.size = hex8(buf + off + 54);
		e.rmaj = hex8(buf + off + 78);
		e.rmin = hex8(buf + off + 86);
		namesize = hex8(buf + off + 94);
		ck_assert_uint_eq(hex8(buf + off + 102), 0); /* check field */
		ck_assert(namesize >= 2 && namesize < sizeof(e.name));
		ck_assert(off + 110 + namesize <= len);
		memcpy(e.name, buf + off + 110, namesize);
		ck_assert_msg(e.name[namesize - 1] == 0, "name not NUL terminated");
		ck_assert_uint_eq(strlen(e.name), namesize - 1);
		off += 110 + namesize;
		while (off % 4) {
			ck_assert_uint_eq(buf[off], 0);
			off++;
		}
		ck_assert(off + e.size <= len);
		e.data = buf + off;
		off += e.size;
		while (off % 4) {
			ck_assert_uint_eq(buf[off], 0);
			off++;
		}
		if (!strcmp(e.name, "TRAILER!!!")) {
			ck_assert_uint_eq(off, len);
			return n;
		}
		ck_assert_int_lt(n, max);
		out[n++] = e;
	}
}

static struct ent ents[512];

static const struct ent *find(int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(ents[i].name, name))
			return &ents[i];
	return NULL;
}

static int index_of(int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(ents[i].name, name))
			return i;
	return -1;
}

START_TEST(roundtrip_memory)
{
	struct cpio_writer *w;
	static unsigned char big[70001];
	const struct ent *e;
	const void *data;
	size_t len;
	int n;

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (unsigned char)(i * 7 + 3);
	ck_assert_int_eq(cpio_writer_new(&w), 0);
	ck_assert_int_eq(cpio_add_dir(w, "/etc", 0755), 0);
	ck_assert_int_eq(cpio_add_file_mem(w, "etc/hostname", 0644, "alcatraz\n", 9), 0);
	ck_assert_int_eq(cpio_add_file_mem(w, "./empty", 0600, NULL, 0), 0);
	ck_assert_int_eq(cpio_add_file_mem(w, "/usr//lib/./x/big.bin", 04755, big, sizeof(big)), 0);
	ck_assert_int_eq(cpio_add_symlink(w, "bin/sh", "busybox"), 0);
	ck_assert_int_eq(cpio_add_node(w, "dev/console", S_IFCHR | 0600, 5, 1), 0);
	ck_assert_int_eq(cpio_add_node(w, "dev/vda", S_IFBLK | 0660, 254, 0), 0);
	ck_assert_int_eq(cpio_add_node(w, "run/fifo", S_IFIFO | 0644, 0, 0), 0);
	cpio_writer_set_defaults(w, 1000, 100, 1700000000);
	ck_assert_int_eq(cpio_add_file_mem(w, "home/u/f", 0640, "abc", 3), 0);
	ck_assert_int_eq(cpio_finish(w), 0);
	data = cpio_data(w, &len);
	ck_assert_uint_eq(len % 4, 0);
	n = parse(data, len, ents, 512);

	e = find(n, "etc");
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->mode, S_IFDIR | 0755);
	ck_assert_uint_eq(e->size, 0);

	e = find(n, "etc/hostname");
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->mode, S_IFREG | 0644);
	ck_assert_uint_eq(e->size, 9);
	ck_assert(memcmp(e->data, "alcatraz\n", 9) == 0);
	ck_assert_uint_eq(e->uid, 0);
	ck_assert_uint_eq(e->mtime, 0);
	ck_assert_uint_eq(e->nlink, 1);

	e = find(n, "empty");
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->size, 0);
	ck_assert_uint_eq(e->mode, S_IFREG | 0600);

	/* Implicit parents come before their children. */
	ck_assert_int_ge(index_of(n, "usr"), 0);
	ck_assert_int_lt(index_of(n, "usr"), index_of(n, "usr/lib"));
	ck_assert_int_lt(index_of(n, "usr/lib"), index_of(n, "usr/lib/x"));
	ck_assert_int_lt(index_of(n, "usr/lib/x"), index_of(n, "usr/lib/x/big.bin"));
	ck_assert_uint_eq(find(n, "usr/lib/x")->mode, S_IFDIR | 0755);
	e = find(n, "usr/lib/x/big.bin");
	ck_assert_uint_eq(e->mode, S_IFREG | 04755);
	ck_assert_uint_eq(e->size, sizeof(big));
	ck_assert(memcmp(e->data, big, sizeof(big)) == 0);

	e = find(n, "bin/sh");
	ck_assert_uint_eq(e->mode, S_IFLNK | 0777);
	ck_assert_uint_eq(e->size, 7);
	ck_assert(memcmp(e->data, "busybox", 7) == 0);
	ck_assert_ptr_nonnull(find(n, "bin"));

	e = find(n, "dev/console");
	ck_assert_uint_eq(e->mode, S_IFCHR | 0600);
	ck_assert_uint_eq(e->rmaj, 5);
	ck_assert_uint_eq(e->rmin, 1);
	e = find(n, "dev/vda");
	ck_assert_uint_eq(e->mode, S_IFBLK | 0660);
	ck_assert_uint_eq(e->rmaj, 254);
	ck_assert_uint_eq(find(n, "run/fifo")->mode, S_IFIFO | 0644);

	e = find(n, "home/u/f");
	ck_assert_uint_eq(e->uid, 1000);
	ck_assert_uint_eq(e->gid, 100);
	ck_assert_uint_eq(e->mtime, 1700000000);

	/* "dev" was created once, not once per node. */
	int devs = 0;
	for (int i = 0; i < n; i++)
		devs += !strcmp(ents[i].name, "dev");
	ck_assert_int_eq(devs, 1);

	/* Inode numbers are unique and non-zero. */
	for (int i = 0; i < n; i++) {
		ck_assert_uint_ne(ents[i].ino, 0);
		for (int j = i + 1; j < n; j++)
			ck_assert_uint_ne(ents[i].ino, ents[j].ino);
	}

	ck_assert_int_eq(cpio_add_dir(w, "late", 0755), -EINVAL);
	ck_assert_int_eq(cpio_finish(w), -EINVAL);

	void *stolen = cpio_steal(w, &len);
	ck_assert_ptr_nonnull(stolen);
	ck_assert_uint_gt(len, 70000);
	data = cpio_data(w, &len);
	ck_assert_uint_eq(len, 0);
	free(stolen);
	cpio_writer_free(w);
}
END_TEST

START_TEST(bad_input)
{
	struct cpio_writer *w;
	const void *data;
	size_t len, before;
	char longname[5000];

	ck_assert_int_eq(cpio_writer_new(&w), 0);
	ck_assert_int_eq(cpio_add_file_mem(w, "", 0644, "x", 1), -EINVAL);
	ck_assert_int_eq(cpio_add_file_mem(w, "/", 0644, "x", 1), -EINVAL);
	ck_assert_int_eq(cpio_add_file_mem(w, "../x", 0644, "x", 1), -EINVAL);
	ck_assert_int_eq(cpio_add_file_mem(w, "a/../../x", 0644, "x", 1), -EINVAL);
	ck_assert_int_eq(cpio_add_file_mem(w, NULL, 0644, "x", 1), -EINVAL);
	ck_assert_int_eq(cpio_add_file_mem(w, "x", 010644, "x", 1), -EINVAL);
	ck_assert_int_eq(cpio_add_file_mem(w, "x", 0644, NULL, 1), -EINVAL);
	ck_assert_int_eq(cpio_add_symlink(w, "l", ""), -EINVAL);
	ck_assert_int_eq(cpio_add_node(w, "n", S_IFREG | 0644, 0, 0), -EINVAL);
	ck_assert_int_eq(cpio_add_node(w, "n", S_IFDIR | 0755, 0, 0), -EINVAL);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	ck_assert_int_eq(cpio_add_file_mem(w, longname, 0644, "x", 1), -EINVAL);
	ck_assert_int_eq(cpio_add_path(w, "x", "/nonexistent/alcatraz", 0), -ENOENT);
	ck_assert_str_eq(cpio_error_path(w), "/nonexistent/alcatraz");
	ck_assert_int_eq(cpio_add_tree(w, "", "/nonexistent/alcatraz", 0), -ENOENT);
	ck_assert_int_eq(cpio_add_tree(w, "", "/dev/null", 0), -ENOTDIR);
	data = cpio_data(w, &len);
	ck_assert_uint_eq(len, 0); /* nothing half-written */

	/* The size limit refuses an entry without corrupting the archive. */
	cpio_writer_set_limit(w, 1024);
	ck_assert_int_eq(cpio_add_file_mem(w, "small", 0644, "x", 1), 0);
	data = cpio_data(w, &len);
	before = len;
	static char blob[2000];
	ck_assert_int_eq(cpio_add_file_mem(w, "blob", 0644, blob, sizeof(blob)), -E2BIG);
	data = cpio_data(w, &len);
	ck_assert_uint_eq(len, before);
	ck_assert_int_eq(cpio_finish(w), 0);
	data = cpio_data(w, &len);
	ck_assert_int_eq(parse(data, len, ents, 512), 1);
	cpio_writer_free(w);
	cpio_writer_free(NULL);
}
END_TEST

static char tmpl[64];

static void write_file(const char *rel, const char *content, mode_t mode)
{
	char p[512];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", tmpl, rel);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
	chmod(p, mode); /* not subject to the umask */
}

static void make_tree(void)
{
	char p[512];

	snprintf(tmpl, sizeof(tmpl), "/tmp/alcatraz-cpio-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	snprintf(p, sizeof(p), "%s/src", tmpl);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/src/bin", tmpl);
	ck_assert_int_eq(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/src/etc", tmpl);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/src/etc/empty.d", tmpl);
	ck_assert_int_eq(mkdir(p, 0750), 0);
	write_file("src/bin/tool", "#!/bin/sh\necho hi\n", 0755);
	write_file("src/etc/motd", "welcome to the cell\n", 0644);
	write_file("src/zz-odd", "12345", 0600);
	snprintf(p, sizeof(p), "%s/src/bin/link", tmpl);
	ck_assert_int_eq(symlink("tool", p), 0);
	snprintf(p, sizeof(p), "%s/src/dangling", tmpl);
	ck_assert_int_eq(symlink("/does/not/exist", p), 0);
	snprintf(p, sizeof(p), "%s/src/fifo", tmpl);
	ck_assert_int_eq(mkfifo(p, 0644), 0);
}

static void rm_tree(void)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpl);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(tree_roundtrip)
{
	struct cpio_writer *w;
	char src[128];
	const void *data;
	const struct ent *e;
	size_t len;
	int n;

	make_tree();
	snprintf(src, sizeof(src), "%s/src", tmpl);
	ck_assert_int_eq(cpio_writer_new(&w), 0);
	ck_assert_int_eq(cpio_add_tree(w, "/", src, 0), 0);
	ck_assert_int_eq(cpio_add_tree(w, "opt/copy", src, CPIO_KEEP_MTIME), 0);
	ck_assert_int_eq(cpio_finish(w), 0);
	data = cpio_data(w, &len);
	n = parse(data, len, ents, 512);
	ck_assert_int_eq(n, 9 + 2 + 9); /* root tree, opt + opt/copy, copy tree */

	/* Sorted order, parents first. */
	ck_assert_str_eq(ents[0].name, "bin");
	ck_assert_str_eq(ents[1].name, "bin/link");
	ck_assert_str_eq(ents[2].name, "bin/tool");
	ck_assert_str_eq(ents[3].name, "dangling");
	ck_assert_uint_eq(find(n, "bin")->mode, S_IFDIR | 0700);
	e = find(n, "bin/tool");
	ck_assert_uint_eq(e->mode, S_IFREG | 0755);
	ck_assert_uint_eq(e->size, 18);
	ck_assert(memcmp(e->data, "#!/bin/sh\necho hi\n", 18) == 0);
	e = find(n, "bin/link");
	ck_assert_uint_eq(e->mode & S_IFMT, S_IFLNK);
	ck_assert(e->size == 4 && memcmp(e->data, "tool", 4) == 0);
	e = find(n, "dangling");
	ck_assert(e->size == 15 && memcmp(e->data, "/does/not/exist", 15) == 0);
	ck_assert_uint_eq(find(n, "etc/empty.d")->mode, S_IFDIR | 0750);
	ck_assert_uint_eq(find(n, "fifo")->mode, S_IFIFO | 0644);
	e = find(n, "zz-odd");
	ck_assert(e->size == 5 && memcmp(e->data, "12345", 5) == 0);
	ck_assert_uint_eq(e->uid, 0);
	ck_assert_uint_eq(e->mtime, 0);

	ck_assert_uint_eq(find(n, "opt")->mode, S_IFDIR | 0755);
	ck_assert_uint_eq(find(n, "opt/copy")->mode, S_IFDIR | 0755);
	e = find(n, "opt/copy/etc/motd");
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_gt(e->mtime, 0);
	ck_assert(memcmp(e->data, "welcome to the cell\n", 20) == 0);

	/* Same input, same bytes. */
	struct cpio_writer *w2;
	const void *data2;
	size_t len2;
	ck_assert_int_eq(cpio_writer_new(&w2), 0);
	ck_assert_int_eq(cpio_add_tree(w2, "", src, 0), 0);
	ck_assert_int_eq(cpio_add_tree(w2, "opt/copy", src, CPIO_KEEP_MTIME), 0);
	ck_assert_int_eq(cpio_finish(w2), 0);
	data2 = cpio_data(w2, &len2);
	ck_assert_uint_eq(len, len2);
	ck_assert(memcmp(data, data2, len) == 0);
	cpio_writer_free(w2);

	/* A single host file through cpio_add_path. */
	char p[512];
	snprintf(p, sizeof(p), "%s/etc/motd", src);
	ck_assert_int_eq(cpio_writer_new(&w2), 0);
	ck_assert_int_eq(cpio_add_path(w2, "/motd", p, 0), 0);
	ck_assert_int_eq(cpio_add_path(w2, "/d", src, 0), 0); /* a directory */
	ck_assert_int_eq(cpio_finish(w2), 0);
	data2 = cpio_data(w2, &len2);
	ck_assert_int_eq(parse(data2, len2, ents, 512), 2);
	ck_assert_uint_eq(ents[0].size, 20);
	ck_assert_uint_eq(ents[1].mode, S_IFDIR | 0755);
	cpio_writer_free(w2);

	cpio_writer_free(w);
	rm_tree();
}
END_TEST

/* Read a whole (small) file into buf; returns its length. */
static ssize_t slurp(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, cap);
	close(fd);
	return n;
}

START_TEST(gnu_cpio_extracts)
{
	struct cpio_writer *w;
	char src[128], out[128], arc[128], cmd[1024], p[512], buf[256];
	const void *data;
	size_t len;
	struct stat st;
	FILE *f;

	if (system("command -v cpio >/dev/null 2>&1") != 0) {
		fprintf(stderr, "test_cpio: cpio not installed, skipping the GNU cpio cross-check\n");
		return;
	}
	make_tree();
	snprintf(src, sizeof(src), "%s/src", tmpl);
	snprintf(out, sizeof(out), "%s/out", tmpl);
	snprintf(arc, sizeof(arc), "%s/a.cpio", tmpl);
	ck_assert_int_eq(mkdir(out, 0755), 0);
	ck_assert_int_eq(cpio_writer_new(&w), 0);
	ck_assert_int_eq(cpio_add_tree(w, "", src, 0), 0);
	ck_assert_int_eq(cpio_add_file_mem(w, "deep/er/file", 0640, "deep", 4), 0);
	ck_assert_int_eq(cpio_finish(w), 0);
	data = cpio_data(w, &len);
	f = fopen(arc, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	fclose(f);
	cpio_writer_free(w);

	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && cpio -idv --no-absolute-filenames --quiet < '%s' 2>'%s/log'",
		 out, arc, tmpl);
	ck_assert_msg(system(cmd) == 0, "cpio -idv failed");

	snprintf(p, sizeof(p), "%s/bin/tool", out);
	ck_assert_int_eq(slurp(p, buf, sizeof(buf)), 18);
	ck_assert(memcmp(buf, "#!/bin/sh\necho hi\n", 18) == 0);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0755);
	snprintf(p, sizeof(p), "%s/etc/motd", out);
	ck_assert_int_eq(slurp(p, buf, sizeof(buf)), 20);
	snprintf(p, sizeof(p), "%s/zz-odd", out);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(slurp(p, buf, sizeof(buf)), 5);
	snprintf(p, sizeof(p), "%s/bin/link", out);
	ck_assert_int_eq(readlink(p, buf, sizeof(buf)), 4);
	ck_assert(memcmp(buf, "tool", 4) == 0);
	snprintf(p, sizeof(p), "%s/fifo", out);
	ck_assert_int_eq(lstat(p, &st), 0);
	ck_assert(S_ISFIFO(st.st_mode));
	snprintf(p, sizeof(p), "%s/etc/empty.d", out);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	snprintf(p, sizeof(p), "%s/deep/er/file", out);
	ck_assert_int_eq(slurp(p, buf, sizeof(buf)), 4);

	/* cpio -t lists exactly our names. */
	snprintf(cmd, sizeof(cmd), "cpio -t --quiet < '%s' | sort | tr '\\n' ' ' > '%s/list'", arc, tmpl);
	ck_assert_int_eq(system(cmd), 0);
	snprintf(p, sizeof(p), "%s/list", tmpl);
	ssize_t n = slurp(p, buf, sizeof(buf) - 1);
	ck_assert_int_gt(n, 0);
	buf[n] = 0;
	ck_assert_str_eq(buf, "bin bin/link bin/tool dangling deep deep/er deep/er/file "
			      "etc etc/empty.d etc/motd fifo zz-odd ");
	rm_tree();
}
END_TEST

/*
 * The writer stats each entry and then opens it. To replace an entry
 * between the two deterministically, the test links with
 * -Wl,--wrap=fstatat64 (tests/unit/meson.build): after a successful stat of
 * the armed name, the file is swapped for a FIFO.
 */
int __real_fstatat64(int dirfd, const char *path, struct stat *st, int flags);
int __wrap_fstatat64(int dirfd, const char *path, struct stat *st, int flags);

static const char *swap_name; /* base name to swap, NULL: none */
static char swap_path[512];   /* its full path */
static int swaps;

int __wrap_fstatat64(int dirfd, const char *path, struct stat *st, int flags)
{
	int r = __real_fstatat64(dirfd, path, st, flags);
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	if (r == 0 && swap_name && !strcmp(base, swap_name) && S_ISREG(st->st_mode)) {
		ck_assert_int_eq(unlink(swap_path), 0);
		ck_assert_int_eq(mkfifo(swap_path, 0644), 0);
		swaps++;
	}
	return r;
}

/* A regular file replaced by a FIFO after its stat: refused at once
 * (-EAGAIN, its path reported, the archive unchanged), never a writer
 * blocked in open() waiting for a FIFO writer. */
START_TEST(fifo_swapped_in_is_refused)
{
	struct cpio_writer *w;
	char src[128];
	const void *data;
	size_t len0, len;

	alarm(10); /* the failure this guards against is a hang */
	make_tree();
	snprintf(src, sizeof(src), "%s/src", tmpl);
	snprintf(swap_path, sizeof(swap_path), "%s/src/zz-odd", tmpl);
	swap_name = "zz-odd";
	swaps = 0;
	ck_assert_int_eq(cpio_writer_new(&w), 0);
	ck_assert_int_eq(cpio_add_tree(w, "", src, 0), -EAGAIN);
	ck_assert_int_eq(swaps, 1);
	ck_assert_ptr_nonnull(strstr(cpio_error_path(w), "src/zz-odd"));

	/* The same through cpio_add_path, which stats by path. */
	ck_assert_int_eq(unlink(swap_path), 0);
	write_file("src/zz-odd", "12345", 0600);
	cpio_data(w, &len0);
	ck_assert_int_eq(cpio_add_path(w, "odd", swap_path, 0), -EAGAIN);
	ck_assert_int_eq(swaps, 2);
	data = cpio_data(w, &len);
	ck_assert_uint_eq(len, len0);
	(void)data;
	swap_name = NULL;

	/* The FIFO itself, found by the stat, is archived as a FIFO. */
	ck_assert_int_eq(cpio_add_path(w, "odd", swap_path, 0), 0);
	ck_assert_int_eq(cpio_finish(w), 0);
	data = cpio_data(w, &len);
	int n = parse(data, len, ents, 512);
	ck_assert_uint_eq(find(n, "odd")->mode, S_IFIFO | 0644);
	ck_assert_uint_eq(find(n, "odd")->size, 0);
	cpio_writer_free(w);
	rm_tree();
	alarm(0);
}
END_TEST

/* A non-directory over a directory already in the archive is refused: its
 * later children would get no parent and be lost when unpacked. Anything
 * over a non-directory is fine, its children get a directory again. */
/* The unpacker ends at an entry named "TRAILER!!!": such names are refused. */
START_TEST(trailer_name_is_refused)
{
	struct cpio_writer *w;
	size_t len0, len;

	ck_assert_int_eq(cpio_writer_new(&w), 0);
	cpio_data(w, &len0);
	ck_assert_int_eq(cpio_add_dir(w, "TRAILER!!!", 0755), -EINVAL);
	ck_assert_int_eq(cpio_add_file_mem(w, "/TRAILER!!!//i", 0644, "x", 1), -EINVAL);
	ck_assert_int_eq(cpio_add_symlink(w, "./TRAILER!!!/", "/x"), -EINVAL);
	cpio_data(w, &len);
	ck_assert_uint_eq(len, len0); /* nothing appended, no parent either */
	ck_assert_int_eq(cpio_add_dir(w, "a/TRAILER!!!", 0755), 0);
	ck_assert_int_eq(cpio_add_file_mem(w, "TRAILER!!!x", 0644, "x", 1), 0);
	cpio_writer_free(w);
}
END_TEST

START_TEST(nondir_over_known_dir)
{
	struct cpio_writer *w;
	const void *data;
	size_t len0, len;
	char src[128], p[512];
	int n;

	make_tree();
	snprintf(src, sizeof(src), "%s/src", tmpl);
	ck_assert_int_eq(cpio_writer_new(&w), 0);
	ck_assert_int_eq(cpio_add_dir(w, "/bin/s;", 0755), 0);
	cpio_data(w, &len0);
	ck_assert_int_eq(cpio_add_file_mem(w, "bin", 0644, "", 0), -EEXIST);
	ck_assert_int_eq(cpio_add_symlink(w, "bin/", "/usr/bin"), -EEXIST);
	ck_assert_int_eq(cpio_add_node(w, "./bin", S_IFIFO | 0644, 0, 0), -EEXIST);
	snprintf(p, sizeof(p), "%s/etc/motd", src);
	ck_assert_int_eq(cpio_add_path(w, "bin/s;", p, 0), -EEXIST);
	ck_assert_ptr_nonnull(strstr(cpio_error_path(w), "etc/motd"));
	cpio_data(w, &len);
	ck_assert_uint_eq(len, len0); /* nothing appended */
	/* A tree whose "bin" is a directory over it is fine, a file is not. */
	ck_assert_int_eq(cpio_add_tree(w, "", src, 0), 0);
	ck_assert_int_eq(cpio_add_path(w, "etc", p, 0), -EEXIST);
	ck_assert_int_eq(cpio_add_path(w, "etc/motd", p, 0), 0); /* file over file */
	/* Over a non-directory: its children get their parent again. */
	ck_assert_int_eq(cpio_add_file_mem(w, "lib", 0644, "x", 1), 0);
	ck_assert_int_eq(cpio_add_file_mem(w, "lib/x", 0644, "y", 1), 0);
	ck_assert_int_eq(cpio_add_file_mem(w, "/bin/s;/f", 0644, "z", 1), 0);
	ck_assert_int_eq(cpio_finish(w), 0);
	data = cpio_data(w, &len);
	n = parse(data, len, ents, 512);
	/* Every entry's parent is, at that point, the latest entry of its name
	 * and a directory. */
	for (int i = 0; i < n; i++) {
		char parent[sizeof(ents[i].name)];
		char *slash;
		memcpy(parent, ents[i].name, sizeof(parent));
		slash = strrchr(parent, '/');
		if (!slash)
			continue;
		*slash = '\0';
		int last = -1;
		for (int j = 0; j < i; j++)
			if (!strcmp(ents[j].name, parent))
				last = j;
		ck_assert_msg(last >= 0 && S_ISDIR(ents[last].mode), "'%s' before its directory",
			      ents[i].name);
	}
	cpio_writer_free(w);
	rm_tree();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cpio");
	TCase *tc = tcase_create("cpio");
	tcase_add_test(tc, roundtrip_memory);
	tcase_add_test(tc, bad_input);
	tcase_add_test(tc, tree_roundtrip);
	tcase_add_test(tc, gnu_cpio_extracts);
	tcase_add_test(tc, fifo_swapped_in_is_refused);
	tcase_add_test(tc, nondir_over_known_dir);
	tcase_add_test(tc, trailer_name_is_refused);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
