// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The command's argv and envp, built the same way whether they come from
 * the host or from the kernel command line.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "init.h"

/* NULL-terminated after every push, so the vector can go to execve as is. */
int strv_push(char ***vec, size_t *n, size_t *cap, char *s)
{
	if (*n + 2 > *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		char **nv = realloc(*vec, ncap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		*vec = nv;
		*cap = ncap;
	}
	(*vec)[(*n)++] = s;
	(*vec)[*n] = NULL;
	return 0;
}

/* Commands expect PATH; the host or the kernel command line may send none. */
int command_add_default_path(struct command *cmd)
{
	static char default_path[] = "PATH=" DEFAULT_PATH;

	for (size_t i = 0; i < cmd->envc; i++)
		if (!strncmp(cmd->envp[i], "PATH=", 5))
			return 0;
	return strv_push(&cmd->envp, &cmd->envc, &cmd->envp_cap, default_path);
}
