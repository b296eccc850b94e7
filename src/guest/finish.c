// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The end of the VM.  STATUS is the last thing the host waits for, so
 * everything it must not lose (disk data, console output) is flushed first.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "init.h"

static __attribute__((noreturn)) void power_off(void)
{
	if (g.test)
		exit(0);
	sync();
	/*
	 * Without ACPI the kernel has no way to power off and RB_POWER_OFF
	 * silently degrades to a halt the VMM cannot see (HLT stays inside
	 * KVM).  A reboot always leaves the VM: i8042 reset or triple fault,
	 * both of which the VMM treats as the end.  A DSDT is the sign of a
	 * VMM (or QEMU) that implements ACPI sleep states.
	 */
	if (cmdline_get("alcatraz.poweroff", NULL, 0) ||
	    access("/sys/firmware/acpi/tables/DSDT", F_OK) == 0)
		reboot(RB_POWER_OFF);
	reboot(RB_AUTOBOOT);
	for (;;)
		pause();
}

__attribute__((noreturn)) void finish(uint32_t kind, int32_t value, bool fallback)
{
	int fd;

	/* The host may tear the VM down as soon as STATUS arrives: flush the
	 * disks and the console first. */
	sync();
	fd = open(g.console ? g.console : "/dev/console", O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	if (fd >= 0) {
		if (isatty(fd))
			tcdrain(fd);
		if (fallback) {
			char line[128];
			int n = snprintf(line, sizeof(line), "\r\nalcatraz-init: %s %d\r\n",
					 kind == ALCATRAZ_CTL_ST_EXITED ? "exited" :
					 kind == ALCATRAZ_CTL_ST_SIGNALED ? "signaled" :
					 kind == ALCATRAZ_CTL_ST_EXEC_FAILED ? "exec-failed" :
					 "init-error", value);

			if (n > 0 && write_full(fd, line, (size_t)n) == 0 && isatty(fd))
				tcdrain(fd);
		}
		close(fd);
	}
	klog(6, "command ended: kind %u value %d after %llu ms", kind, value,
	     (unsigned long long)((now_ns() - g.t_start) / 1000000));
	if (g.ctl >= 0) {
		/* The poll loop made the socket non-blocking; STATUS must not be
		 * dropped for want of vsock credit. */
		fcntl(g.ctl, F_SETFL, fcntl(g.ctl, F_GETFL) & ~O_NONBLOCK);
		/* What execs sent before; the host reads it before STATUS. */
		ctl_queue_flush(true);
		send_status(kind, value);
		dbg("STATUS sent");
	}
	if (g.ctl >= 0 && !g.test) {
		/*
		 * A vsock write only queues the packet for a kernel worker, and
		 * a reboot now could stop the CPUs before it reaches the virtqueue.
		 * The host ends the VM as soon as it has STATUS; let it (or close
		 * the connection) before rebooting anyway.  A reboot first would
		 * end the VM without the status and the output still queued, so
		 * a slow host gets the same patience as everywhere else.
		 */
		struct pollfd pfd = { .fd = g.ctl, .events = POLLIN | POLLRDHUP };
		uint64_t deadline = now_ns() + ANNOUNCED_WAIT_MS * 1000000ull;
		bool closed = false;
		char sink[256];

		fcntl(g.ctl, F_SETFL, fcntl(g.ctl, F_GETFL) | O_NONBLOCK);
		while (!closed && now_ns() < deadline &&
		       poll(&pfd, 1, (int)((deadline - now_ns()) / 1000000) + 1) > 0) {
			ssize_t n = read(g.ctl, sink, sizeof(sink));

			closed = n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR);
		}
		if (!closed)
			klog(4, "the host did not end the VM within %d s of STATUS; rebooting",
			     ANNOUNCED_WAIT_MS / 1000);
	} else if (g.ctl >= 0) {
		shutdown(g.ctl, SHUT_WR);
		close(g.ctl);
	}
	power_off();
}
