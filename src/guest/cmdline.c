// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The kernel command line.  The kernel does not pass dotted parameters to
 * init, so they are read back from /proc/cmdline; alcatraz.cmd= and
 * alcatraz.cmd64= let the guest run without a VMM that speaks the control
 * protocol (QEMU, a manual boot).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "init.h"

void cmdline_read(void)
{
	int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		ssize_t n = read(fd, g.cmdline, sizeof(g.cmdline) - 1);

		g.cmdline[n > 0 ? n : 0] = '\0';
		close(fd);
	}
}

/*
 * Find `key=` (or a bare `key` when want_flag) in the kernel command line,
 * honouring the kernel's double quotes.  Copies the value without quotes.
 */
bool cmdline_get(const char *key, char *val, size_t valsz)
{
	const char *p = g.cmdline;
	size_t klen = strlen(key);

	while (*p) {
		char tok[sizeof(g.cmdline)];
		size_t t = 0;
		bool quoted = false;

		while (*p == ' ' || *p == '\n' || *p == '\t')
			p++;
		if (!*p)
			break;
		while (*p && (quoted || (*p != ' ' && *p != '\n' && *p != '\t'))) {
			if (*p == '"')
				quoted = !quoted;
			else if (t < sizeof(tok) - 1)
				tok[t++] = *p;
			p++;
		}
		tok[t] = '\0';
		if (strncmp(tok, key, klen))
			continue;
		if (tok[klen] == '\0') {
			if (val && valsz)
				val[0] = '\0';
			return true;
		}
		if (tok[klen] == '=') {
			if (val && valsz)
				snprintf(val, valsz, "%s", tok + klen + 1);
			return true;
		}
	}
	return false;
}

static int b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/* Decode standard or URL-safe base64 in place; returns the length or -1. */
static ssize_t b64decode(char *s)
{
	size_t o = 0;
	unsigned int acc = 0;
	int bits = 0;

	for (char *p = s; *p && *p != '='; p++) {
		int v = b64val((unsigned char)*p);

		if (v < 0)
			return -1;
		acc = (acc << 6) | (unsigned int)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			s[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	return (ssize_t)o;
}

int fallback_command(struct command *cmd)
{
	static char val[sizeof(g.cmdline)];
	char *p, *end;
	ssize_t n;

	if (cmdline_get("alcatraz.cmd64", val, sizeof(val))) {
		n = b64decode(val);
		if (n <= 0)
			return -EINVAL;
		end = val + n;
		*end = '\0';
		for (p = val; p < end; p += strlen(p) + 1)
			if (strv_push(&cmd->argv, &cmd->argc, &cmd->argv_cap, p))
				return -ENOMEM;
	} else if (cmdline_get("alcatraz.cmd", val, sizeof(val))) {
		for (p = val; p; p = end) {
			end = strchr(p, ',');
			if (end)
				*end++ = '\0';
			if (strv_push(&cmd->argv, &cmd->argc, &cmd->argv_cap, p))
				return -ENOMEM;
		}
	} else {
		return -ENOENT;
	}
	if (!cmd->argc || !cmd->argv[0][0])
		return -EINVAL;
	static char term[] = "TERM=linux", home[] = "HOME=/";
	if (strv_push(&cmd->envp, &cmd->envc, &cmd->envp_cap, term) ||
	    strv_push(&cmd->envp, &cmd->envc, &cmd->envp_cap, home))
		return -ENOMEM;
	/* Manual runs are interactive: a cooked console with job control. */
	cmd->stdio = ALCATRAZ_CTL_STDIO_TTY;
	return 0;
}
