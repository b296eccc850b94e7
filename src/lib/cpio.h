/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cpio "newc" (SVR4, magic 070701) archive writer, as consumed by the Linux
 * initramfs unpacker.  The archive is built in a growable memory buffer so
 * the library can copy it straight into guest memory as the initrd.
 *
 * Names are stored relative ("bin/sh"); a leading "/" or "./" is dropped.
 * Missing parent directories are added implicitly (mode 0755), because the
 * kernel's unpacker silently skips entries whose parent does not exist.
 * Entries get the writer's default owner (root) and mtime (0, so archives
 * are reproducible) unless a CPIO_KEEP_* flag says otherwise.  Hard links
 * are stored as independent copies.
 *
 * All functions returning int return 0 or a negative errno:
 *   -EINVAL   bad name (empty, "..", too long), bad mode, writer finished
 *   -EFBIG    one file larger than the format's 4 GiB - 1
 *   -EAGAIN   a regular file was replaced by something else while it was
 *             being added (the tree changed under the writer)
 *   -EEXIST   a non-directory named like a directory already in the archive
 *             (a later entry of a name otherwise replaces the earlier one)
 *   -E2BIG    the archive would exceed the limit set by cpio_writer_set_limit
 *   -ENOMEM   out of memory
 *   other     from the host file system (open, read, stat...)
 * After an error the archive is unchanged, apart from implicit parent
 * directories added before the failing entry, and remains usable.
 */
#ifndef ALCATRAZ_CPIO_H
#define ALCATRAZ_CPIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct cpio_writer;

/* Longest name accepted, excluding the NUL (the kernel's PATH_MAX - 1). */
#define CPIO_NAME_MAX 4095u

/* Flags for cpio_add_path / cpio_add_tree. */
enum {
	CPIO_KEEP_OWNER = 1 << 0, /* host uid/gid instead of the defaults */
	CPIO_KEEP_MTIME = 1 << 1, /* host mtime instead of the default */
};

int cpio_writer_new(struct cpio_writer **out);
void cpio_writer_free(struct cpio_writer *w);

/* Owner and mtime for entries (defaults 0, 0, 0). */
void cpio_writer_set_defaults(struct cpio_writer *w, uint32_t uid, uint32_t gid,
			      uint32_t mtime);
/* Refuse to grow the archive past max_bytes (0: no limit) with -E2BIG. */
void cpio_writer_set_limit(struct cpio_writer *w, size_t max_bytes);

/* `perm` is the permission bits (07777); the file type is implied. */
int cpio_add_dir(struct cpio_writer *w, const char *name, mode_t perm);
int cpio_add_file_mem(struct cpio_writer *w, const char *name, mode_t perm,
		      const void *data, size_t len);
int cpio_add_symlink(struct cpio_writer *w, const char *name, const char *target);
/* `mode` includes the type: S_IFCHR, S_IFBLK, S_IFIFO or S_IFSOCK. */
int cpio_add_node(struct cpio_writer *w, const char *name, mode_t mode,
		  unsigned int major, unsigned int minor);

/*
 * Add one host file system object as `name`: a regular file (contents
 * copied), a directory (the directory entry only), a symlink (not followed),
 * or a device/fifo/socket node.  The host permission bits are kept.
 */
int cpio_add_path(struct cpio_writer *w, const char *name, const char *host_path,
		  unsigned int flags);
/*
 * Add the host directory `host_dir` recursively under `prefix` ("" or "/"
 * for the archive root), in sorted name order so archives are reproducible.
 * Symlinks are stored, never followed.  The root directory itself is added
 * with its host permissions unless prefix is the archive root.
 */
int cpio_add_tree(struct cpio_writer *w, const char *prefix, const char *host_dir,
		  unsigned int flags);

/* Append the TRAILER!!! entry; afterwards only the accessors below work. */
int cpio_finish(struct cpio_writer *w);

/* The archive so far (complete after cpio_finish).  Owned by the writer. */
const void *cpio_data(const struct cpio_writer *w, size_t *len);
/* Take ownership of the buffer (free() it); the writer becomes empty. */
void *cpio_steal(struct cpio_writer *w, size_t *len);

/* Host path or archive name of the last failure, for error messages. */
const char *cpio_error_path(const struct cpio_writer *w);

#endif /* ALCATRAZ_CPIO_H */
