// SPDX-License-Identifier: LGPL-2.1-or-later
/* The library's own lines (cgroup, sandbox, spawn) to the VM's log fd,
 * written as the VMM writes its own (proto_log_line). */
#include <stdarg.h>

#include "lib.h"

void lib_log(int fd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	proto_vlog_line(fd, fmt, ap);
	va_end(ap);
}
