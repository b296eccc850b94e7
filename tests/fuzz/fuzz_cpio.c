// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The cpio writer (src/lib/cpio.c). What is hostile there is names: the
 * caller's archive names and, through cpio_add_tree(), whatever a host
 * directory holds (names, symlink targets, FIFOs, nesting). Two modes:
 *
 *  API (sel bit 0 clear): calls of cpio_add_dir/file_mem/symlink/node with
 *     the fuzzer's names, targets, modes and data;
 *  tree (sel bit 0 set): the fuzzer's tree (files, directories, symlinks,
 *     FIFOs with its names) materialised in a temporary directory, packed
 *     by cpio_add_tree() under the fuzzer's prefix.
 *
 * Input: u8 sel, then records (API: u8 op, u16 mode, u8 name length, name,
 * u8 length, target or data; tree: u8 type, u8 parent, u8 name length,
 * name, u8 length, target or data; the prefix first).
 *
 * Beyond the sanitizers, the archive is read back: well-formed newc, names
 * normalised (relative, no empty, "." or ".." component), each entry's
 * parent directory before it, no entry named like the trailer before it,
 * everything cpio_add_tree() packed present with its type, size and
 * target, and a failed call leaves nothing but implicit parent directories.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cpio.h"
#include "fuzz_common.h"

#define MAX_RECORDS 16
#define MAX_ENTRIES 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t u8(struct in *in)
{
	return (uint8_t)take(in, 1);
}

/* A NUL-terminated string of u8 bytes (NULs inside become 'x'). */
static void str(struct in *in, char *out, size_t n)
{
	size_t i;

	for (i = 0; i < n && in->left; i++) {
		out[i] = (char)u8(in);
		if (!out[i])
			out[i] = 'x';
	}
	out[i] = '\0';
}

/* ------------------------------------------------------ reading back */

struct entry {
	char name[CPIO_NAME_MAX + 1];
	uint32_t mode, size;
	const uint8_t *data;
};

struct archive {
	struct entry e[MAX_ENTRIES * 4];
	unsigned int n;
	size_t end;                  /* bytes before the trailer */
};

static uint32_t hex8(const uint8_t *p)
{
	uint32_t v = 0;

	for (int i = 0; i < 8; i++) {
		int c = p[i], d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		CHECK(d >= 0, "bad hex digit");
		v = v << 4 | (uint32_t)d;
	}
	return v;
}

static bool name_ok(const char *n)
{
	const char *s = n;

	if (!strcmp(n, "."))
		return true;
	if (!*n || *n == '/')
		return false;
	for (;;) {
		const char *e = strchrnul(s, '/');
		size_t l = (size_t)(e - s);
		if (!l || (l == 1 && s[0] == '.') || (l == 2 && s[0] == '.' && s[1] == '.'))
			return false;
		if (!*e)
			return true;
		s = e + 1;
	}
}

static const struct entry *find(const struct archive *a, const char *name, unsigned int before)
{
	for (unsigned int i = before; i-- > 0;)
		if (!strcmp(a->e[i].name, name))
			return &a->e[i];
	return NULL;
}

/* Parses a finished archive; every entry is checked against the format. */
static void read_back(const uint8_t *b, size_t len, struct archive *a)
{
	size_t off = 0;

	a->n = 0;
	for (;;) {
		struct entry *e;
		uint32_t namesize;
		char *slash;

		CHECK(len - off >= 110 && !memcmp(b + off, "070701", 6), "header at %zu", off);
		namesize = hex8(b + off + 94);
		CHECK(namesize >= 2 && namesize <= CPIO_NAME_MAX + 1 && len - off - 110 >= namesize,
		      "namesize %u", namesize);
		CHECK(!b[off + 110 + namesize - 1] && !memchr(b + off + 110, 0, namesize - 1),
		      "name not NUL-terminated");
		if (!strcmp((const char *)b + off + 110, "TRAILER!!!")) {
			a->end = off;
			off += 110 + namesize;
			off += (4 - off % 4) % 4;
			CHECK(off == len, "an entry named like the trailer, %zu bytes before the end", len - off);
			return;
		}
		CHECK(a->n < MAX_ENTRIES * 4, "too many entries");
		e = &a->e[a->n];
		memcpy(e->name, b + off + 110, namesize);
		e->mode = hex8(b + off + 14);
		e->size = hex8(b + off + 54);
		off += 110 + namesize;
		off += (4 - off % 4) % 4;
		CHECK(len - off >= e->size, "data past the end");
		e->data = b + off;
		off += e->size;
		off += (4 - off % 4) % 4;
		CHECK(off <= len, "padding past the end");
		CHECK(name_ok(e->name), "entry name '%s' is not normalised", e->name);
		slash = strrchr(e->name, '/');
		if (slash) {
			const struct entry *p;
			*slash = '\0';
			p = find(a, e->name, a->n);
			CHECK(p && S_ISDIR(p->mode), "'%s/%s' before its directory", e->name, slash + 1);
			*slash = '/';
		}
		a->n++;
	}
}

/* ---------------------------------------------------------- API mode */

static void api_mode(struct cpio_writer *w, struct in *in)
{
	static struct archive a;
	size_t before_len;
	const uint8_t *buf;

	for (unsigned int r = 0; r < MAX_RECORDS && in->left; r++) {
		char name[300], target[300];
		uint8_t op = u8(in);
		uint16_t mode = (uint16_t)(u8(in) | u8(in) << 8);
		int ret;

		str(in, name, u8(in));
		str(in, target, u8(in));
		cpio_data(w, &before_len);
		switch (op % 4) {
		case 0:
			ret = cpio_add_dir(w, name, mode);
			break;
		case 1:
			ret = cpio_add_file_mem(w, name, mode, target, strlen(target));
			break;
		case 2:
			ret = cpio_add_symlink(w, name, target);
			break;
		default:
			ret = cpio_add_node(w, name, mode, op, mode); /* mode has the type bits */
			break;
		}
		if (ret) {
			size_t now;
			const uint8_t *b = cpio_data(w, &now);
			/* Only implicit parents (whole directory entries) may remain. */
			for (size_t off = before_len; off < now;) {
				uint32_t ns = hex8(b + off + 94), m = hex8(b + off + 14);
				CHECK(S_ISDIR(m), "a failed call left a non-directory entry");
				off += 110 + ns;
				off += (4 - off % 4) % 4;
			}
		}
	}
	CHECK(!cpio_finish(w), "finish");
	buf = cpio_data(w, &before_len);
	read_back(buf, before_len, &a);
}

/* --------------------------------------------------------- tree mode */

struct node {
	char rel[512];           /* path under the tree's root */
	int type;                /* 0 file, 1 dir, 2 symlink, 3 fifo */
	char target[64];         /* symlink target or file data */
};

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static char base[64];

/* libFuzzer ends a timed run with exit(): the scratch tree goes with it. */
static void remove_base(void)
{
	nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static const char *base_dir(void)
{
	if (!base[0]) {
		snprintf(base, sizeof(base), "/tmp/alcatraz-fuzz-cpio-XXXXXX");
		if (!mkdtemp(base))
			abort();
		atexit(remove_base);
	}
	return base;
}

static void tree_mode(struct cpio_writer *w, struct in *in)
{
	static struct archive a;
	static struct node nodes[MAX_ENTRIES];
	char root[128], prefix[40], norm_prefix[40] = "", path[1024];
	unsigned int n = 0;
	const uint8_t *buf;
	size_t len;
	int ret;

	snprintf(root, sizeof(root), "%s/t", base_dir());
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	if (mkdir(root, 0755))
		abort();
	str(in, prefix, u8(in) % 32);
	for (unsigned int r = 0; r < MAX_RECORDS && in->left && n < MAX_ENTRIES; r++) {
		struct node *nd = &nodes[n];
		uint8_t type = u8(in) % 4, parent = u8(in);
		char name[64];
		const char *dir = "";
		int fd, ok;

		str(in, name, u8(in) % 48 + 1);
		for (char *c = name; *c; c++)
			if (*c == '/')
				*c = '_';
		/* The writer refuses these names (tested in api mode). */
		if (!strcmp(name, ".") || !strcmp(name, "..") || !strcmp(name, "TRAILER!!!"))
			name[0] = '_';
		str(in, nd->target, u8(in) % 48 + 1);
		if (parent < n && nodes[parent].type == 1)
			dir = nodes[parent].rel;
		snprintf(nd->rel, sizeof(nd->rel), "%s%s%s", dir, *dir ? "/" : "", name);
		nd->type = type;
		snprintf(path, sizeof(path), "%s/%s", root, nd->rel);
		switch (type) {
		case 0:
			fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
			ok = fd >= 0 && write(fd, nd->target, strlen(nd->target)) ==
						(ssize_t)strlen(nd->target);
			if (fd >= 0)
				close(fd);
			break;
		case 1:
			ok = !mkdir(path, 0755);
			break;
		case 2:
			ok = !symlink(nd->target, path);
			break;
		default:
			ok = !mkfifo(path, 0644);
			break;
		}
		if (ok)
			n++;
	}
	ret = cpio_add_tree(w, prefix, root, 0);
	/* A prefix naming a way out of the tree, or starting with the trailer's
	 * name (the unpacker would stop there), is refused; so is nothing else. */
	{
		const char *s = prefix;
		bool bad = false, first = true;
		while (*s) {
			const char *e = strchrnul(s, '/');
			if (e - s == 2 && s[0] == '.' && s[1] == '.')
				bad = true;
			if (first && e - s == 10 && !strncmp(s, "TRAILER!!!", 10))
				bad = true;
			if (e > s && !(e - s == 1 && s[0] == '.'))
				first = false;
			s = *e ? e + 1 : e;
		}
		CHECK(bad ? ret == -EINVAL : ret == 0, "cpio_add_tree(prefix '%s'): %d", prefix, ret);
	}
	CHECK(!cpio_finish(w), "finish");
	buf = cpio_data(w, &len);
	read_back(buf, len, &a);
	if (ret)
		return;
	/* The normalised prefix: the name the tree's root got. */
	for (const char *s = prefix; *s;) {
		const char *e = strchrnul(s, '/');
		if (e > s && !(e - s == 1 && s[0] == '.')) {
			size_t o = strlen(norm_prefix);
			snprintf(norm_prefix + o, sizeof(norm_prefix) - o, "%s%.*s", o ? "/" : "",
				 (int)(e - s), s);
		}
		s = *e ? e + 1 : e;
	}
	for (unsigned int i = 0; i < n; i++) {
		const struct entry *e;
		static const uint32_t types[] = { S_IFREG, S_IFDIR, S_IFLNK, S_IFIFO };

		snprintf(path, sizeof(path), "%s%s%s", norm_prefix, *norm_prefix ? "/" : "",
			 nodes[i].rel);
		e = find(&a, path, a.n);
		CHECK(e, "'%s' missing from the archive", path);
		CHECK((e->mode & S_IFMT) == types[nodes[i].type], "'%s' has mode 0%o", path, e->mode);
		if (nodes[i].type == 0 || nodes[i].type == 2)
			CHECK(e->size == strlen(nodes[i].target) &&
			      !memcmp(e->data, nodes[i].target, e->size), "'%s': wrong contents", path);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size };
	struct cpio_writer *w;
	uint8_t sel = u8(&in);

	if (cpio_writer_new(&w))
		abort();
	cpio_writer_set_limit(w, 1 << 20);
	if (sel & 1)
		tree_mode(w, &in);
	else
		api_mode(w, &in);
	cpio_writer_free(w);
	return 0;
}
