// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * cpio "newc" writer, from the format description in the Linux kernel's
 * Documentation/driver-api/early-userspace/buffer-format.rst and cpio(5):
 *
 *   header   "070701" + 13 fields of 8 hex digits: ino mode uid gid nlink
 *            mtime filesize devmajor devminor rdevmajor rdevminor namesize
 *            check
 *   name     namesize bytes including the NUL, then zero padding so that
 *            header + name is a multiple of 4
 *   data     filesize bytes, zero padded to a multiple of 4
 *
 * The archive ends with an entry named "TRAILER!!!".
 */
#include "cpio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define HDR_LEN 110u
#define TRAILER "TRAILER!!!"
/* Deeper trees would need one open directory per level. */
#define TREE_MAX_DEPTH 128

struct cpio_writer {
	uint8_t *buf;
	size_t len, cap, limit;
	uint32_t next_ino;
	uint32_t uid, gid, mtime;
	bool finished;
	/* Directories already in the archive: open-addressing string set. */
	char **dirs;
	size_t ndirs, dirs_cap;
	char err_path[PATH_MAX];
};

struct meta {
	uint32_t mode, uid, gid, mtime;
	uint32_t rmajor, rminor;
};

static size_t pad4(size_t n)
{
	return (4 - (n & 3)) & 3;
}

static void set_err(struct cpio_writer *w, const char *path)
{
	snprintf(w->err_path, sizeof(w->err_path), "%s", path);
}

int cpio_writer_new(struct cpio_writer **out)
{
	struct cpio_writer *w = calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
	w->next_ino = 1; /* 0 is left to the trailer */
	*out = w;
	return 0;
}

void cpio_writer_free(struct cpio_writer *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->dirs_cap; i++)
		free(w->dirs[i]);
	free(w->dirs);
	free(w->buf);
	free(w);
}

void cpio_writer_set_defaults(struct cpio_writer *w, uint32_t uid, uint32_t gid,
			      uint32_t mtime)
{
	w->uid = uid;
	w->gid = gid;
	w->mtime = mtime;
}

void cpio_writer_set_limit(struct cpio_writer *w, size_t max_bytes)
{
	w->limit = max_bytes;
}

/* Make room for `more` bytes, honouring the size limit. */
static int reserve(struct cpio_writer *w, size_t more)
{
	size_t need, cap;
	uint8_t *nb;

	if (__builtin_add_overflow(w->len, more, &need))
		return -ENOMEM;
	if (w->limit && need > w->limit)
		return -E2BIG;
	if (need <= w->cap)
		return 0;
	cap = w->cap ? w->cap : 64 * 1024;
	while (cap < need) {
		if (__builtin_mul_overflow(cap, 2, &cap))
			return -ENOMEM;
	}
	nb = realloc(w->buf, cap);
	if (!nb)
		return -ENOMEM;
	w->buf = nb;
	w->cap = cap;
	return 0;
}

static void put_hex8(uint8_t *p, uint32_t v)
{
	static const char hex[] = "0123456789ABCDEF";

	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)hex[v & 0xf];
		v >>= 4;
	}
}

/* Size of the header + name + padding for a name of `namelen` bytes. */
static size_t head_size(size_t namelen)
{
	size_t n = HDR_LEN + namelen + 1;

	return n + pad4(n);
}

/*
 * Write the header and name at the end of the buffer (space reserved by
 * the caller) and return the position where the data goes.
 */
static size_t emit_head(struct cpio_writer *w, const char *name, size_t namelen,
			const struct meta *m, uint32_t filesize, uint32_t ino,
			uint32_t nlink)
{
	uint8_t *p = w->buf + w->len;
	size_t hs = head_size(namelen);
	uint32_t f[13] = {
		ino, m->mode, m->uid, m->gid, nlink, m->mtime, filesize,
		0, 0, /* devmajor/devminor of the archived file system: unused */
		m->rmajor, m->rminor, (uint32_t)(namelen + 1), 0,
	};

	memcpy(p, "070701", 6);
	for (int i = 0; i < 13; i++)
		put_hex8(p + 6 + 8 * i, f[i]);
	memcpy(p + HDR_LEN, name, namelen);
	memset(p + HDR_LEN + namelen, 0, hs - HDR_LEN - namelen);
	w->len += hs;
	return w->len;
}

/* Zero the padding after `datalen` bytes of data and account for both. */
static void end_data(struct cpio_writer *w, size_t datalen)
{
	size_t pad = pad4(datalen);

	memset(w->buf + w->len + datalen, 0, pad);
	w->len += datalen + pad;
}

/*
 * Normalise an archive name into `out`: drop leading "/" and "./", collapse
 * repeated slashes and "." components, drop a trailing slash.  ".." is
 * refused: archives describe a tree, never a way out of it.  The empty
 * result (the root itself) is returned as "." only when allow_root is set.
 */
static int norm_name(const char *in, char *out, size_t outsz, bool allow_root)
{
	size_t o = 0;
	const char *p = in;

	if (!in)
		return -EINVAL;
	while (*p) {
		const char *s;
		size_t n;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		s = p;
		while (*p && *p != '/')
			p++;
		n = (size_t)(p - s);
		if (n == 1 && s[0] == '.')
			continue;
		if (n == 2 && s[0] == '.' && s[1] == '.')
			return -EINVAL;
		if (o + (o ? 1 : 0) + n >= outsz || o + (o ? 1 : 0) + n > CPIO_NAME_MAX)
			return -EINVAL;
		if (o)
			out[o++] = '/';
		memcpy(out + o, s, n);
		o += n;
	}
	if (o == 0) {
		if (!allow_root)
			return -EINVAL;
		out[o++] = '.';
	}
	out[o] = '\0';
	/*
	 * The kernel's unpacker stops at the first entry named like the
	 * trailer, so such an entry (or a parent directory that would be
	 * emitted with that name) would silently drop the rest of the archive.
	 */
	if (!strncmp(out, TRAILER, strlen(TRAILER)) &&
	    (out[strlen(TRAILER)] == '\0' || out[strlen(TRAILER)] == '/'))
		return -EINVAL;
	return 0;
}

static uint64_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	while (*s) {
		h ^= (uint8_t)*s++;
		h *= 1099511628211ull;
	}
	return h;
}

static bool dir_known(const struct cpio_writer *w, const char *name)
{
	if (!w->dirs_cap)
		return false;
	for (size_t i = str_hash(name) & (w->dirs_cap - 1);; i = (i + 1) & (w->dirs_cap - 1)) {
		if (!w->dirs[i])
			return false;
		if (!strcmp(w->dirs[i], name))
			return true;
	}
}

static int dir_remember(struct cpio_writer *w, const char *name)
{
	char *copy;
	size_t i;

	if (dir_known(w, name))
		return 0;
	/* Keep the load factor under 1/2 so probing stays short. */
	if ((w->ndirs + 1) * 2 > w->dirs_cap) {
		size_t ncap = w->dirs_cap ? w->dirs_cap * 2 : 64;
		char **nd = calloc(ncap, sizeof(*nd));

		if (!nd)
			return -ENOMEM;
		for (size_t j = 0; j < w->dirs_cap; j++) {
			if (!w->dirs[j])
				continue;
			for (i = str_hash(w->dirs[j]) & (ncap - 1); nd[i]; i = (i + 1) & (ncap - 1))
				;
			nd[i] = w->dirs[j];
		}
		free(w->dirs);
		w->dirs = nd;
		w->dirs_cap = ncap;
	}
	copy = strdup(name);
	if (!copy)
		return -ENOMEM;
	for (i = str_hash(name) & (w->dirs_cap - 1); w->dirs[i]; i = (i + 1) & (w->dirs_cap - 1))
		;
	w->dirs[i] = copy;
	w->ndirs++;
	return 0;
}

/* Append one complete entry whose data is `data` (may be NULL if len 0). */
static int emit_entry(struct cpio_writer *w, const char *name, const struct meta *m,
		      const void *data, size_t len)
{
	size_t namelen = strlen(name);
	size_t total;
	int r;

	if (len > UINT32_MAX)
		return -EFBIG;
	total = head_size(namelen) + len + pad4(len);
	r = reserve(w, total);
	if (r)
		return r;
	emit_head(w, name, namelen, m, (uint32_t)len, w->next_ino++, S_ISDIR(m->mode) ? 2 : 1);
	if (len)
		memcpy(w->buf + w->len, data, len);
	end_data(w, len);
	return 0;
}

static void default_meta(const struct cpio_writer *w, struct meta *m, uint32_t mode)
{
	m->mode = mode;
	m->uid = w->uid;
	m->gid = w->gid;
	m->mtime = w->mtime;
	m->rmajor = m->rminor = 0;
}

/* Add every missing ancestor directory of the normalised `name`. */
static int add_parents(struct cpio_writer *w, const char *name)
{
	char path[CPIO_NAME_MAX + 1];
	struct meta m;
	int r;

	snprintf(path, sizeof(path), "%s", name);
	for (char *s = strchr(path, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (!dir_known(w, path)) {
			default_meta(w, &m, S_IFDIR | 0755);
			r = emit_entry(w, path, &m, NULL, 0);
			if (!r)
				r = dir_remember(w, path);
			if (r)
				return r;
		}
		*s = '/';
	}
	return 0;
}

/*
 * A later entry of a name replaces the earlier one when the kernel unpacks
 * the archive, but a directory already in the archive must stay one: the
 * writer adds no parent for its later children, which would then be lost
 * (the unpacker cannot replace a non-empty directory either). A
 * non-directory over a known directory is refused; anything over a
 * non-directory is fine (its later children get their parent again).
 */
static int check_replace(const struct cpio_writer *w, const char *norm, uint32_t mode)
{
	return !S_ISDIR(mode) && dir_known(w, norm) ? -EEXIST : 0;
}

/* Common path for every entry: validate, add parents, append. */
static int add_entry(struct cpio_writer *w, const char *name, const struct meta *m,
		     const void *data, size_t len)
{
	char norm[CPIO_NAME_MAX + 1];
	int r;

	if (w->finished)
		return -EINVAL;
	r = norm_name(name, norm, sizeof(norm), S_ISDIR(m->mode));
	if (r) {
		set_err(w, name ? name : "(null)");
		return r;
	}
	r = check_replace(w, norm, m->mode);
	if (!r)
		r = add_parents(w, norm);
	if (!r)
		r = emit_entry(w, norm, m, data, len);
	if (!r && S_ISDIR(m->mode))
		r = dir_remember(w, norm);
	if (r)
		set_err(w, norm);
	return r;
}

int cpio_add_dir(struct cpio_writer *w, const char *name, mode_t perm)
{
	struct meta m;

	if (perm & ~07777u)
		return -EINVAL;
	default_meta(w, &m, S_IFDIR | perm);
	return add_entry(w, name, &m, NULL, 0);
}

int cpio_add_file_mem(struct cpio_writer *w, const char *name, mode_t perm,
		      const void *data, size_t len)
{
	struct meta m;

	if ((perm & ~07777u) || (len && !data))
		return -EINVAL;
	default_meta(w, &m, S_IFREG | perm);
	return add_entry(w, name, &m, data, len);
}

int cpio_add_symlink(struct cpio_writer *w, const char *name, const char *target)
{
	struct meta m;
	size_t len;

	if (!target || !*target)
		return -EINVAL;
	len = strlen(target);
	if (len > CPIO_NAME_MAX)
		return -EINVAL;
	default_meta(w, &m, S_IFLNK | 0777);
	return add_entry(w, name, &m, target, len);
}

int cpio_add_node(struct cpio_writer *w, const char *name, mode_t mode,
		  unsigned int major, unsigned int minor)
{
	struct meta m;

	switch (mode & S_IFMT) {
	case S_IFCHR:
	case S_IFBLK:
	case S_IFIFO:
	case S_IFSOCK:
		break;
	default:
		return -EINVAL;
	}
	if (mode & ~(S_IFMT | 07777u))
		return -EINVAL;
	default_meta(w, &m, mode);
	m.rmajor = major;
	m.rminor = minor;
	return add_entry(w, name, &m, NULL, 0);
}

static void meta_from_stat(const struct cpio_writer *w, struct meta *m,
			   const struct stat *st, unsigned int flags)
{
	default_meta(w, m, st->st_mode);
	if (flags & CPIO_KEEP_OWNER) {
		m->uid = st->st_uid;
		m->gid = st->st_gid;
	}
	if (flags & CPIO_KEEP_MTIME)
		m->mtime = st->st_mtim.tv_sec < 0 ? 0 :
			   st->st_mtim.tv_sec > UINT32_MAX ? UINT32_MAX :
			   (uint32_t)st->st_mtim.tv_sec;
	if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode)) {
		m->rmajor = major(st->st_rdev);
		m->rminor = minor(st->st_rdev);
	}
}

/*
 * Append a regular file read from `fd`, reading straight into the archive
 * buffer so large files are copied once.
 */
static int add_file_fd(struct cpio_writer *w, const char *norm, const struct meta *m,
		       int fd, off_t size)
{
	size_t namelen = strlen(norm), len, got = 0, start;
	int r;

	if (size < 0)
		return -EIO;
	if ((uint64_t)size > UINT32_MAX)
		return -EFBIG;
	len = (size_t)size;
	r = add_parents(w, norm);
	if (r)
		return r;
	r = reserve(w, head_size(namelen) + len + pad4(len));
	if (r)
		return r;
	start = w->len;
	emit_head(w, norm, namelen, m, (uint32_t)len, w->next_ino, 1);
	while (got < len) {
		ssize_t n = read(fd, w->buf + w->len + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* Shrunk under us or unreadable: undo the header. */
			r = n < 0 ? -errno : -EIO;
			w->len = start;
			return r;
		}
		got += (size_t)n;
	}
	w->next_ino++;
	end_data(w, len);
	return 0;
}

/*
 * Add the regular file at dirfd/rel. The tree may change between the stat
 * that said "regular file" and this open: the open neither follows a symlink
 * nor waits (a FIFO swapped in would block a plain open until a writer came),
 * and what is archived is described by the opened file itself. Anything but
 * a regular file there now is refused with -EAGAIN: the tree changed while
 * it was being packed.
 */
static int add_regular_at(struct cpio_writer *w, const char *norm, int dirfd, const char *rel,
			  unsigned int flags)
{
	struct stat st;
	struct meta m;
	int fd, r;

	fd = openat(dirfd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
	} else if (!S_ISREG(st.st_mode)) {
		r = -EAGAIN;
	} else {
		meta_from_stat(w, &m, &st, flags);
		r = add_file_fd(w, norm, &m, fd, st.st_size);
	}
	close(fd);
	return r;
}

/* Add the object at dirfd/rel (not following a final symlink) as `norm`. */
static int add_at(struct cpio_writer *w, const char *norm, int dirfd, const char *rel,
		  const struct stat *st, unsigned int flags)
{
	struct meta m;
	char target[CPIO_NAME_MAX + 1];
	ssize_t n;
	int r;

	r = check_replace(w, norm, st->st_mode);
	if (r)
		return r;
	meta_from_stat(w, &m, st, flags);
	switch (st->st_mode & S_IFMT) {
	case S_IFREG:
		return add_regular_at(w, norm, dirfd, rel, flags);
	case S_IFLNK:
		n = readlinkat(dirfd, rel, target, sizeof(target));
		if (n < 0)
			return -errno;
		if ((size_t)n >= sizeof(target) || n == 0)
			return -ENAMETOOLONG;
		m.mode = S_IFLNK | 0777;
		r = add_parents(w, norm);
		return r ? r : emit_entry(w, norm, &m, target, (size_t)n);
	case S_IFDIR:
		r = add_parents(w, norm);
		if (!r)
			r = emit_entry(w, norm, &m, NULL, 0);
		return r ? r : dir_remember(w, norm);
	case S_IFCHR:
	case S_IFBLK:
	case S_IFIFO:
	case S_IFSOCK:
		r = add_parents(w, norm);
		return r ? r : emit_entry(w, norm, &m, NULL, 0);
	default:
		return -EINVAL;
	}
}

int cpio_add_path(struct cpio_writer *w, const char *name, const char *host_path,
		  unsigned int flags)
{
	char norm[CPIO_NAME_MAX + 1];
	struct stat st;
	int r;

	if (w->finished || !host_path)
		return -EINVAL;
	if (fstatat(AT_FDCWD, host_path, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		r = -errno;
		set_err(w, host_path);
		return r;
	}
	r = norm_name(name, norm, sizeof(norm), S_ISDIR(st.st_mode));
	if (r) {
		set_err(w, name ? name : "(null)");
		return r;
	}
	r = add_at(w, norm, AT_FDCWD, host_path, &st, flags);
	if (r)
		set_err(w, host_path);
	return r;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of the entries of an open directory (consumes dfd). */
static int list_dir(int dfd, char ***names_out, size_t *n_out)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int r = 0;

	if (!d) {
		r = -errno;
		close(dfd);
		return r;
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (!de) {
			r = -errno;
			break;
		}
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 32;
			char **nn = realloc(names, ncap * sizeof(*nn));

			if (!nn) {
				r = -ENOMEM;
				break;
			}
			names = nn;
			cap = ncap;
		}
		names[n] = strdup(de->d_name);
		if (!names[n]) {
			r = -ENOMEM;
			break;
		}
		n++;
	}
	closedir(d);
	if (r) {
		while (n)
			free(names[--n]);
		free(names);
		return r;
	}
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	*names_out = names;
	*n_out = n;
	return 0;
}

/* `arch` is the normalised archive name of dirfd ("" for the root). */
static int add_tree_at(struct cpio_writer *w, const char *arch, int dirfd,
		       unsigned int flags, int depth, char *hostpath, size_t hostlen)
{
	char **names = NULL;
	size_t n = 0;
	int r, dup;

	if (depth > TREE_MAX_DEPTH) {
		set_err(w, hostpath);
		close(dirfd);
		return -ELOOP;
	}
	/* list_dir consumes its fd; keep ours for the openat/fstatat below. */
	dup = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	if (dup < 0) {
		r = -errno;
		close(dirfd);
		return r;
	}
	r = list_dir(dup, &names, &n);
	if (r) {
		set_err(w, hostpath);
		close(dirfd);
		return r;
	}
	for (size_t i = 0; i < n && !r; i++) {
		char child[CPIO_NAME_MAX + 1];
		struct stat st;
		size_t hl = hostlen;
		int len;

		len = snprintf(child, sizeof(child), "%s%s%s", arch, *arch ? "/" : "", names[i]);
		if (len < 0 || (size_t)len >= sizeof(child)) {
			r = -ENAMETOOLONG;
			break;
		}
		/* Track the host path for error messages only. */
		len = snprintf(hostpath + hostlen, PATH_MAX - hostlen, "/%s", names[i]);
		if (len > 0 && hostlen + (size_t)len < PATH_MAX)
			hl = hostlen + (size_t)len;
		if (fstatat(dirfd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = -errno;
			set_err(w, hostpath);
			break;
		}
		r = add_at(w, child, dirfd, names[i], &st, flags);
		if (r) {
			set_err(w, hostpath);
			break;
		}
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd, names[i],
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (sub < 0) {
				r = -errno;
				set_err(w, hostpath);
				break;
			}
			r = add_tree_at(w, child, sub, flags, depth + 1, hostpath, hl);
		}
		hostpath[hostlen] = '\0';
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	close(dirfd);
	return r;
}

int cpio_add_tree(struct cpio_writer *w, const char *prefix, const char *host_dir,
		  unsigned int flags)
{
	char norm[CPIO_NAME_MAX + 1];
	char hostpath[PATH_MAX];
	struct stat st;
	int dfd, r;

	if (w->finished || !host_dir)
		return -EINVAL;
	r = norm_name(prefix ? prefix : "", norm, sizeof(norm), true);
	if (r) {
		set_err(w, prefix ? prefix : "(null)");
		return r;
	}
	dfd = open(host_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		r = -errno;
		set_err(w, host_dir);
		return r;
	}
	if (fstat(dfd, &st) < 0) {
		r = -errno;
		set_err(w, host_dir);
		close(dfd);
		return r;
	}
	if (strcmp(norm, ".") == 0) {
		norm[0] = '\0';
	} else {
		r = add_at(w, norm, dfd, ".", &st, flags);
		if (r) {
			set_err(w, host_dir);
			close(dfd);
			return r;
		}
	}
	snprintf(hostpath, sizeof(hostpath), "%s", host_dir);
	return add_tree_at(w, norm, dfd, flags, 0, hostpath, strlen(hostpath));
}

int cpio_finish(struct cpio_writer *w)
{
	struct meta m = { 0 };
	size_t namelen = strlen(TRAILER);
	int r;

	if (w->finished)
		return -EINVAL;
	r = reserve(w, head_size(namelen));
	if (r)
		return r;
	emit_head(w, TRAILER, namelen, &m, 0, 0, 1);
	w->finished = true;
	return 0;
}

const void *cpio_data(const struct cpio_writer *w, size_t *len)
{
	*len = w->len;
	return w->buf;
}

void *cpio_steal(struct cpio_writer *w, size_t *len)
{
	void *b = w->buf;

	*len = w->len;
	w->buf = NULL;
	w->len = w->cap = 0;
	w->finished = true;
	return b;
}

const char *cpio_error_path(const struct cpio_writer *w)
{
	return w->err_path;
}
