// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Guest RAM and the only accessors allowed to turn guest-physical addresses
 * into host pointers. Every range check uses checked arithmetic so that a
 * guest-chosen address near UINT64_MAX cannot wrap into range.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmm.h"

static size_t page_size(void)
{
	long ps = sysconf(_SC_PAGESIZE);
	return ps > 0 ? (size_t)ps : 4096;
}

int gmem_init(struct guest_mem *m, uint64_t size)
{
	size_t ps = page_size();
	size_t len;

	memset(m, 0, sizeof(*m));
	if (size == 0 || size % ps)
		return -EINVAL;
	if (__builtin_add_overflow((size_t)size, 2 * ps, &len))
		return -ENOMEM;

	/* Reserve guard + RAM + guard with no access, then open the middle.
	 * MAP_NORESERVE: untouched guest pages cost nothing. */
	void *base = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED)
		return -errno;
	uint8_t *ram = (uint8_t *)base + ps;
	if (mprotect(ram, size, PROT_READ | PROT_WRITE) < 0) {
		int err = -errno;
		munmap(base, len);
		return err;
	}
	/* Guest memory never belongs in a core dump of the VMM. */
	(void)madvise(ram, size, MADV_DONTDUMP);
	m->host = ram;
	m->size = size;
	m->map_base = base;
	m->map_len = len;
	return 0;
}

void gmem_fini(struct guest_mem *m)
{
	if (m->map_base)
		munmap(m->map_base, m->map_len);
	memset(m, 0, sizeof(*m));
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
