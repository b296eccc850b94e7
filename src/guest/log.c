// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * alcatraz-init's own diagnostics.  The console belongs to the command, so
 * they go to /dev/kmsg, which the guest kernel prints on the serial port
 * where the VMM keeps it apart from the command's output.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "init.h"

void klog(int level, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	if (g.kmsg < 0)
		return;
	n = snprintf(buf, sizeof(buf), g.test ? "alcatraz-init: " : "<%d>alcatraz-init: ", level);
	if (n < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	va_end(ap);
	n = (int)strlen(buf);
	if (n < (int)sizeof(buf) - 1)
		buf[n++] = '\n';
	if (write(g.kmsg, buf, (size_t)n) < 0) {
		/* nowhere left to complain */
	}
}
