// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The VMM's reading of the library's configuration (src/vmm/config_decode.c):
 * the records come from another process. Input: u8 number of descriptors
 * (1-8, the first being the memfd's slot), then the records' bytes.
 *
 * Beyond the sanitizers: a refused configuration has closed every received
 * descriptor and left the vm_config empty; an accepted one holds only
 * received descriptors, a raw image xor a kernel, and /dev/kvm, and
 * vm_config_release() closes them all.
 */
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>

#include "config_decode.h"
#include "fuzz_common.h"

#define MAX_FDS 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool open_fd(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

static bool received(const int *fds, unsigned int n, int fd)
{
	for (unsigned int i = 1; i < n; i++)
		if (fds[i] == fd)
			return true;
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fds[MAX_FDS] = { -1 };
	unsigned int n;
	struct vm_config vc;
	char why[200];

	if (size < 1)
		return 0;
	n = 1 + data[0] % MAX_FDS;
	for (unsigned int i = 1; i < n; i++) {
		fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0)
			abort();
	}
	int ret = vm_config_decode(data + 1, size - 1, fds, n, &vc, why, sizeof(why));
	if (ret) {
		CHECK(why[0], "refused (%d) without a reason", ret);
		for (unsigned int i = 1; i < n; i++)
			CHECK(!open_fd(fds[i]), "descriptor %u left open after a refusal", i);
		CHECK(vc.kvm_fd == -1 && !vc.argv && !vc.disks, "a refused configuration kept data");
		return 0;
	}
	CHECK((vc.image_path != NULL) != (vc.kernel_path != NULL), "not exactly one of image/kernel");
	CHECK(received(fds, n, vc.kvm_fd), "no received /dev/kvm descriptor");
	CHECK(vc.vcpus >= 1 && vc.vcpus <= VMM_MAX_VCPUS, "%u vCPUs", vc.vcpus);
	for (unsigned int i = 0; i < vc.nr_disks; i++)
		CHECK(received(fds, n, vc.disks[i].fd), "disk %u's descriptor was not received", i);
	vm_config_release(&vc);
	for (unsigned int i = 1; i < n; i++)
		CHECK(!open_fd(fds[i]), "descriptor %u left open after release", i);
	return 0;
}
