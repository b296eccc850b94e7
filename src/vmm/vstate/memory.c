// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Guest RAM and the only accessors allowed to turn guest-physical addresses
 * into host pointers. Every range check uses checked arithmetic so that a
 * guest-chosen address near UINT64_MAX cannot wrap into range.
 *
 * RAM lives in a memfd so that a vhost-user backend (virtiofsd) can map the
 * same pages: the fd is what VHOST_USER_SET_MEM_TABLE hands over. The memfd
 * is sealed at its size: a backend that shrank it would make every VMM
 * access past the new end a SIGBUS.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm.h"

#define GMEM_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

static size_t page_size(void)
{
	long ps = sysconf(_SC_PAGESIZE);
	return ps > 0 ? (size_t)ps : 4096;
}

static int gmem_memfd(uint64_t size)
{
	int fd = memfd_create("alcatraz-guest-ram", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	int err;

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0 || fcntl(fd, F_ADD_SEALS, GMEM_SEALS) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/*
 * Reserves guard + RAM + guard with no access, then maps fd over the middle
 * (MAP_SHARED or MAP_PRIVATE in flags). MAP_NORESERVE: untouched guest pages
 * cost nothing. Takes fd: m owns it on success, it is closed on failure.
 */
static int gmem_map(struct guest_mem *m, uint64_t size, size_t len, int fd, int flags)
{
	size_t ps = page_size();
	void *base = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	int err;

	if (base == MAP_FAILED) {
		err = -errno;
		close(fd);
		return err;
	}
	uint8_t *ram = (uint8_t *)base + ps;
	if (mmap(ram, size, PROT_READ | PROT_WRITE, flags | MAP_FIXED | MAP_NORESERVE, fd, 0) ==
	    MAP_FAILED) {
		err = -errno;
		munmap(base, len);
		close(fd);
		return err;
	}
	/* Guest memory never belongs in a core dump of the VMM. */
	(void)madvise(ram, size, MADV_DONTDUMP);
	m->host = ram;
	m->size = size;
	m->map_base = base;
	m->map_len = len;
	m->fd = fd;
	return 0;
}

/* RAM plus both guards in bytes, or -EINVAL for a size no VM can have. */
static int gmem_len(uint64_t size, size_t *len)
{
	size_t ps = page_size();

	if (size == 0 || size % ps || size > (uint64_t)INT64_MAX ||
	    __builtin_add_overflow((size_t)size, 2 * ps, len))
		return -EINVAL;
	return 0;
}

int gmem_init(struct guest_mem *m, uint64_t size)
{
	size_t len;
	int fd;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	if (gmem_len(size, &len))
		return -EINVAL;
	fd = gmem_memfd(size);
	if (fd < 0)
		return fd;
	return gmem_map(m, size, len, fd, MAP_SHARED);
}

/*
 * Guest RAM from a snapshot's memory file: mapped MAP_PRIVATE, so pages are
 * read when the guest first touches them and copied when it first writes
 * them; clones of one snapshot share the file's page cache. The same
 * guards as gmem_init(). Takes fd (closed by gmem_fini, or here on failure).
 */
int gmem_init_file(struct guest_mem *m, uint64_t size, int fd)
{
	struct stat st;
	size_t len;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	if (gmem_len(size, &len) || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size < size) {
		close(fd);
		return -EINVAL; /* also a memory file smaller than the RAM it holds */
	}
	return gmem_map(m, size, len, fd, MAP_PRIVATE);
}

void gmem_fini(struct guest_mem *m)
{
	/* The fd is valid only with the mapping: a zeroed, never initialised
	 * guest_mem must not close descriptor 0. */
	if (m->map_base) {
		munmap(m->map_base, m->map_len);
		close(m->fd);
	}
	memset(m, 0, sizeof(*m));
	m->fd = -1;
}

void *gmem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	uint64_t end;

	if (!m->host || len == 0)
		return NULL;
	if (__builtin_add_overflow(gpa, len, &end))
		return NULL;
	if (end > m->size)
		return NULL;
	return m->host + gpa;
}

int gmem_read(const struct guest_mem *m, uint64_t gpa, void *dst, uint64_t len)
{
	const void *src = gmem_ptr(m, gpa, len);

	if (!src)
		return -EFAULT;
	memcpy(dst, src, len);
	return 0;
}

int gmem_write(struct guest_mem *m, uint64_t gpa, const void *src, uint64_t len)
{
	void *dst = gmem_ptr(m, gpa, len);

	if (!dst)
		return -EFAULT;
	memcpy(dst, src, len);
	return 0;
}
