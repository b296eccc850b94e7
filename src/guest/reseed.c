// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * RESEED: the host restored this VM from a snapshot, and every clone of
 * that snapshot woke up with the same kernel CRNG state, so the same
 * "random" numbers. The host's entropy is mixed in (RNDADDENTROPY, credited:
 * it comes from the host's getrandom) and the CRNG is made to reseed from it
 * now (RNDRESEEDCRNG) rather than at its next scheduled reseed, so the next
 * read of /dev/urandom in this clone differs from every other clone's.
 *
 * Not a VM generation ID device (vmgenid): Linux learns of a new generation
 * from an ACPI device's notification, and Alcatraz guests have no ACPI.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/random.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "init.h"

void reseed(const uint8_t *p, uint32_t len)
{
	_Alignas(struct rand_pool_info) uint8_t raw[sizeof(struct rand_pool_info) +
						    ALCATRAZ_CTL_RESEED_LEN];
	struct rand_pool_info *info = (struct rand_pool_info *)raw;
	int fd;

	if (len != ALCATRAZ_CTL_RESEED_LEN)
		return; /* checked with the header already */
	if (g.test) {
		dbg("RESEED (test mode: the host's pool is left alone)");
		return;
	}
	info->entropy_count = (int)len * 8;
	info->buf_size = (int)len;
	memcpy(info->buf, p, len);
	fd = open("/dev/urandom", O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		klog(3, "reseed: /dev/urandom: %s", strerror(errno));
	} else {
		if (ioctl(fd, RNDADDENTROPY, info) < 0 || ioctl(fd, RNDRESEEDCRNG) < 0)
			klog(3, "reseed: %s", strerror(errno));
		else
			klog(6, "reseeded the CRNG with %u bytes of host entropy", len);
		close(fd);
	}
	explicit_bzero(raw, sizeof(raw));
}
