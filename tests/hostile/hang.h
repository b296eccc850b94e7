/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The hostile runner's output helpers and hang report (hang.c). */
#ifndef ALCATRAZ_HOSTILE_HANG_H
#define ALCATRAZ_HOSTILE_HANG_H

#include <stddef.h>

#include "vmm.h"

/* The whole of a memfd the VMM wrote; NUL-terminated, *len without it. */
char *slurp(int fd, size_t *len);
/* text under a "--- what:" heading, each line indented. */
void dump(const char *what, const char *text);
/* The VM's state (vm may be NULL: jailed), every thread's, the serial
 * output and the VMM log; then exits with status 1. */
_Noreturn void hang_dump(const struct vm *vm, int serial_fd, int log_fd);

#endif
