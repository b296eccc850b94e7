// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The VMM side of the Hyper-box registration (see
 * src/hypervisor/monitor_abi.h for the kernel's checks).  Registration only
 * restricts the VMM process: once registered, it and its threads cannot
 * create processes, execute programs or gain credentials, and the kernel
 * refuses usermode helpers started from its context.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../hypervisor/monitor_abi.h"
#include "sink.h"
#include "hyperbox_register.h"

static void say(int log_fd, const char *lvl, const char *what, int err)
{
	/* A sink that never drains must not hold up the VMM's start. */
	if (err)
		proto_log_line(log_fd, "alcatraz: %s: hyperbox: %s: %s\n", lvl, what, strerror(err));
	else
		proto_log_line(log_fd, "alcatraz: %s: hyperbox: %s\n", lvl, what);
}

int hyperbox_register_self(int log_fd)
{
	struct hyperbox_register r;
	int fd, ret;

	fd = open(HYPERBOX_DEVICE, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		ret = errno;
		if (ret == ENOENT || ret == ENXIO || ret == ENODEV) {
			say(log_fd, "info", "not loaded: this VM is not protected by the escape monitor", 0);
			return 0;
		}
		say(log_fd, "warning", "cannot open " HYPERBOX_DEVICE "; this VM is not protected", ret);
		return -ret;
	}
	memset(&r, 0, sizeof(r));
	r.size = sizeof(r);
	ret = ioctl(fd, HYPERBOX_IOC_REGISTER_SELF, &r) < 0 ? errno : 0;
	close(fd);
	if (ret == ENODEV) {
		say(log_fd, "info", "escape monitor off: this VM is not protected by it", 0);
		return 0;
	}
	if (ret) {
		say(log_fd, "warning", "registration refused; this VM is not protected", ret);
		return -ret;
	}
	say(log_fd, "info", r.mode == 2 ? "VM protected: VMM registered with the escape monitor (enforcing)"
					 : "VMM registered with the escape monitor (logging only, not enforcing)", 0);
	return 1;
}
