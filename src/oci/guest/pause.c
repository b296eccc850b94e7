// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * alcatraz-oci-pause, static, so that it runs in any image:
 *
 *   alcatraz-oci-pause
 *       the main command of a container's VM. It only waits: the
 *       container's own process runs as an exec beside it, and the VM
 *       ends when the supervisor kills it.
 *   alcatraz-oci-pause [--hostname NAME] [--rlimit RES:SOFT:HARD]...
 *                      [--groups GID,...] [--user UID:GID] -- ARGV...
 *       what the container's process is started through when config.json
 *       asks for what an exec cannot do itself: it sets the guest's
 *       hostname and the resource limits, becomes UID:GID with those
 *       supplementary groups (none without --groups) and executes ARGV
 *       with a PATH search. Status 125 when it cannot, 126/127 as a
 *       shell's when ARGV is not executable / not found.
 */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* alcatraz-init's, for a process without PATH. */
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static int __attribute__((noreturn)) wait_forever(void)
{
	struct sigaction sa = { .sa_handler = SIG_IGN };

	/* A stray kill -1 in the guest must not end the VM under its container. */
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &sa, NULL);
	for (;;)
		pause();
}

static int parse_id(const char *s, const char *end, unsigned int *out)
{
	unsigned long v = 0;

	if (s == end || end - s > 10)
		return -1;
	for (const char *p = s; p < end; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v >= UINT_MAX)
		return -1;
	*out = (unsigned int)v;
	return 0;
}

/* execv of ARGV[0] along PATH; returns the status when nothing ran. */
static int exec_path(char **argv)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];
	int err = ENOENT;

	if (strchr(argv[0], '/')) {
		execv(argv[0], argv);
		err = errno;
	} else {
		if (!path || !*path)
			path = DEFAULT_PATH;
		for (const char *d = path; *d;) {
			const char *e = strchrnul(d, ':');
			int n = snprintf(buf, sizeof(buf), "%.*s/%s", (int)(e - d), d, argv[0]);
			if (n > 0 && n < (int)sizeof(buf)) {
				execv(buf, argv);
				if (errno != ENOENT && errno != ENOTDIR)
					err = errno;
			}
			d = *e ? e + 1 : e;
		}
	}
	fprintf(stderr, "%s: %s\n", argv[0], strerror(err));
	return err == ENOENT || err == ENOTDIR ? 127 : 126;
}

#define MAX_GROUPS 32

/* "RES:SOFT:HARD", numbers; set at once. */
static int set_rlimit(const char *spec)
{
	unsigned long long soft, hard;
	struct rlimit rl;
	int res, n = 0;

	if (sscanf(spec, "%d:%llu:%llu%n", &res, &soft, &hard, &n) != 3 || spec[n] || soft > hard)
		return -EINVAL;
	rl.rlim_cur = (rlim_t)soft;
	rl.rlim_max = (rlim_t)hard;
	return setrlimit(res, &rl) < 0 ? -errno : 0;
}

static int parse_groups(const char *s, gid_t *gids, size_t *n)
{
	*n = 0;
	while (*s) {
		const char *e = strchrnul(s, ',');
		unsigned int g;
		if (*n == MAX_GROUPS || parse_id(s, e, &g))
			return -1;
		gids[(*n)++] = g;
		s = *e ? e + 1 : e;
	}
	return 0;
}

static int launch(int argc, char **argv)
{
	const char *host = NULL;
	unsigned int uid = 0, gid = 0;
	gid_t groups[MAX_GROUPS];
	size_t ngroups = 0;
	bool user = false;
	int i, ret;

	for (i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		const char *colon;
		if (!strcmp(argv[i], "--hostname") && i + 1 < argc) {
			host = argv[++i];
		} else if (!strcmp(argv[i], "--rlimit") && i + 1 < argc) {
			if ((ret = set_rlimit(argv[++i]))) {
				fprintf(stderr, "alcatraz-oci-pause: rlimit '%s': %s\n", argv[i],
					strerror(-ret));
				return 125;
			}
		} else if (!strcmp(argv[i], "--groups") && i + 1 < argc &&
			   !parse_groups(argv[i + 1], groups, &ngroups)) {
			i++;
		} else if (!strcmp(argv[i], "--user") && i + 1 < argc &&
			   (colon = strchr(argv[i + 1], ':')) &&
			   !parse_id(argv[i + 1], colon, &uid) &&
			   !parse_id(colon + 1, colon + 1 + strlen(colon + 1), &gid)) {
			user = true;
			i++;
		} else {
			fprintf(stderr, "alcatraz-oci-pause: bad option '%s'\n", argv[i]);
			return 125;
		}
	}
	if (i + 1 >= argc) {
		fprintf(stderr, "alcatraz-oci-pause: no command after --\n");
		return 125;
	}
	if (host && sethostname(host, strlen(host)) < 0) {
		fprintf(stderr, "alcatraz-oci-pause: hostname '%s': %s\n", host, strerror(errno));
		return 125;
	}
	if ((user || ngroups) && setgroups(ngroups, groups) < 0) {
		fprintf(stderr, "alcatraz-oci-pause: groups: %s\n", strerror(errno));
		return 125;
	}
	if (user && (setgid(gid) < 0 || setuid(uid) < 0)) {
		fprintf(stderr, "alcatraz-oci-pause: user %u:%u: %s\n", uid, gid, strerror(errno));
		return 125;
	}
	return exec_path(argv + i + 1);
}

int main(int argc, char **argv)
{
	return argc > 1 ? launch(argc, argv) : wait_forever();
}
