/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Option values that alcatraz-run and alcatraz-snapshot read the same way. */
#ifndef ALCATRAZ_EXAMPLES_CLI_ARGS_H
#define ALCATRAZ_EXAMPLES_CLI_ARGS_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <alcatraz/alcatraz.h>

#define CLI_CPUS_MAX 64
#define CLI_MEMORY_MIB_MIN 2
#define CLI_MEMORY_MIB_MAX 3072

/* A Linux snapshot's main command: alcatraz-snapshot boots with it and
 * alcatraz-run --restore names it again (it is not sent to the guest twice);
 * the warm-up and the restored command run beside it as execs. */
#define CLI_SNAPSHOT_WAITER { "sleep", "2147483647", NULL }

/* A decimal number from min to max (no sign, nothing after it): 0, else -1. */
static inline int cli_parse_ulong(const char *s, unsigned long min, unsigned long max,
				  unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || s[0] == '+' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* auto, on or off: 0, else -1. */
static inline int cli_parse_irqchip(const char *s, enum alcatraz_irqchip *out)
{
	if (!strcmp(s, "auto"))
		*out = ALCATRAZ_IRQCHIP_AUTO;
	else if (!strcmp(s, "on"))
		*out = ALCATRAZ_IRQCHIP_ON;
	else if (!strcmp(s, "off"))
		*out = ALCATRAZ_IRQCHIP_OFF;
	else
		return -1;
	return 0;
}

#endif
