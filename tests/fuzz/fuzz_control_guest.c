// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The control channel, alcatraz-init's side (src/guest/control.c): the
 * host's byte stream, read by recv_command() up to END and then, record by
 * record, by handle_post_end() as the poll loop would (no child: a SIGNAL
 * is checked, never sent).
 *
 * Input: the stream as the host would send it.
 *
 * Beyond the sanitizers: an accepted command has 1..MAX_ARGS arguments,
 * every string within the protocol's limits and NUL-free, every ENV a
 * KEY=VALUE with a non-empty key, and an absolute working directory.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "init.h"

#define MAX_READS 4096

struct init_state g = { .kmsg = -1, .ctl = -1 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                             \
	do {                                                                    \
		if (!(cond)) {                                                  \
			fprintf(stderr, "ALCATRAZ FUZZ FINDING: %s\n", #cond);  \
			abort();                                                \
		}                                                               \
	} while (0)

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void check_command(const struct command *cmd)
{
	size_t total = 0;

	CHECK(cmd->argc >= 1 && cmd->argc <= ALCATRAZ_CTL_MAX_ARGS && !cmd->argv[cmd->argc]);
	CHECK(cmd->envc <= ALCATRAZ_CTL_MAX_ENVS && (!cmd->envp || !cmd->envp[cmd->envc]));
	for (size_t i = 0; i < cmd->argc; i++) {
		size_t l = strlen(cmd->argv[i]);
		CHECK(l <= ALCATRAZ_CTL_MAX_STRING);
		total += l + 1;
	}
	for (size_t i = 0; i < cmd->envc; i++) {
		const char *eq = strchr(cmd->envp[i], '=');
		CHECK(eq && eq != cmd->envp[i] && strlen(cmd->envp[i]) <= ALCATRAZ_CTL_MAX_STRING);
		total += strlen(cmd->envp[i]) + 1;
	}
	CHECK(total <= ALCATRAZ_CTL_MAX_TOTAL);
	CHECK(!cmd->have_workdir || (cmd->workdir[0] == '/' &&
				     strlen(cmd->workdir) <= ALCATRAZ_CTL_MAX_WORKDIR));
	CHECK(!(cmd->stdio & ~ALCATRAZ_CTL_STDIO_ALL));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	struct command cmd = { 0 };
	int r;

	if (fd < 0) {
		fd = memfd_create("control", MFD_CLOEXEC);
		g.kmsg = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (fd < 0 || g.kmsg < 0)
			abort();
	}
	if (ftruncate(fd, 0) || pwrite(fd, data, size, 0) != (ssize_t)size || lseek(fd, 0, SEEK_SET))
		abort();
	g.ctl = fd;
	r = recv_command(fd, &cmd);
	if (r == 0) {
		struct pump in = { .in = -1, .out = -1, .reading = true, .close_out = true };
		struct ctl_in c = { .open = true };

		check_command(&cmd);
		for (unsigned int i = 0; i < MAX_READS && c.open; i++) {
			size_t before = c.have;
			off_t at = lseek(fd, 0, SEEK_CUR);

			handle_post_end(&c, &in, 0, false, -1);
			CHECK(c.have <= sizeof(c.buf));
			/* Each call reads something or closes the channel. */
			CHECK(!c.open || c.have != before || lseek(fd, 0, SEEK_CUR) != at);
		}
	}
	free_strv(cmd.argv, cmd.argc);
	free_strv(cmd.envp, cmd.envc);
	free(cmd.workdir);
	return 0;
}
