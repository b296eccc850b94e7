// SPDX-License-Identifier: LGPL-2.1-or-later
/* What this host's /dev/kvm can run, asked before any VMM is started. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "lib.h"

/* kvm_pvm runs guest ring 0 by emulation: a KVM that works but cannot boot
 * Linux at a useful speed. */
int lib_kvm_is_pvm(void)
{
	struct stat st;
	return stat("/sys/module/kvm_pvm", &st) == 0;
}

static int kvm_usable(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (ioctl(fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION ||
	    ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY) <= 0 ||
	    ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_IMMEDIATE_EXIT) <= 0)
		ret = -ENXIO;
	close(fd);
	return ret;
}

int alcatraz_kvm_probe(char *msg, size_t len)
{
	int ret = kvm_usable();

	if (ret) {
		if (msg && len)
			snprintf(msg, len, "%s",
				 ret == -ENOENT   ? "/dev/kvm does not exist: enable virtualization in the firmware and load kvm_intel or kvm_amd"
				 : ret == -EACCES ? "/dev/kvm is not accessible: add your user to the 'kvm' group or run as root"
						  : "/dev/kvm does not offer the KVM API this VMM needs");
		return ret;
	}
	if (lib_kvm_is_pvm()) {
		if (msg && len)
			snprintf(msg, len, "/dev/kvm is kvm_pvm: guest kernel code is emulated, so "
					   "Linux guests cannot boot here at a useful speed");
		return -ALCATRAZ_E_SLOWKVM;
	}
	if (msg && len)
		snprintf(msg, len, "/dev/kvm is usable");
	return 0;
}
