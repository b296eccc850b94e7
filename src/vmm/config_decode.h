/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The VMM's reading of the configuration the library sends (hostile input). */
#ifndef ALCATRAZ_CONFIG_DECODE_H
#define ALCATRAZ_CONFIG_DECODE_H

#include "vmm.h"

/*
 * Fills vc from the records of blob and the descriptors fds[1..nfds-1]
 * (fds[0] is the blob's own memfd, closed by the caller). On success vc owns
 * every descriptor; on failure every one of fds[1..] is closed, vc is empty
 * and why says which record was refused. 0, -EINVAL or -ENOMEM.
 */
int vm_config_decode(const uint8_t *blob, size_t len, const int *fds, unsigned int nfds,
		     struct vm_config *vc, char *why, size_t why_len) __must_check;
/* Releases a decoded configuration that never reached vm_create(). */
void vm_config_release(struct vm_config *vc);

/* A further command (an exec): ARG records (one at least), ENV, WORKDIR,
 * checked as in a configuration; nothing else is allowed. */
struct vm_command {
	char **argv, **envp;     /* NULL-terminated; envp may be NULL */
	char *workdir;           /* or NULL */
};
int vm_command_decode(const uint8_t *blob, size_t len, struct vm_command *cmd, char *why,
		      size_t why_len) __must_check;
void vm_command_free(struct vm_command *cmd);

#endif
