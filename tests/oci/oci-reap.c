// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * oci-reap: what containerd's shim does with a runtime's pid files, for
 * the lab test. It becomes a child subreaper, runs `sh -c SCRIPT`, reaps
 * every process until none is left (the runtime's supervisors and exec
 * processes are reparented to it) and prints, for each pid file, the
 * status its process exited with (128+n for signal n), as the shim
 * reports it:
 *
 *   oci-reap [-p PIDFILE]... SCRIPT
 *   -> "oci-reap: script exit N", then "oci-reap: PIDFILE exit N" each
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_FILES 8

static int code_of(int status)
{
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The pid in a file, or 0 while it has none. */
static pid_t read_pid(const char *path)
{
	FILE *f = fopen(path, "r");
	long pid = 0;

	if (f) {
		if (fscanf(f, "%ld", &pid) != 1)
			pid = 0;
		fclose(f);
	}
	return (pid_t)pid;
}

int main(int argc, char **argv)
{
	const char *files[MAX_FILES];
	pid_t pids[MAX_FILES] = { 0 }, script, pid;
	int codes[MAX_FILES], nfiles = 0, opt, status;

	while ((opt = getopt(argc, argv, "+p:")) != -1) {
		if (opt != 'p' || nfiles == MAX_FILES) {
			fprintf(stderr, "usage: oci-reap [-p PIDFILE]... SCRIPT\n");
			return 2;
		}
		files[nfiles] = optarg;
		codes[nfiles++] = -1;
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: oci-reap [-p PIDFILE]... SCRIPT\n");
		return 2;
	}
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
		perror("oci-reap: PR_SET_CHILD_SUBREAPER");
		return 2;
	}
	script = fork();
	if (script == 0) {
		execl("/bin/sh", "sh", "-c", argv[optind], (char *)NULL);
		_exit(127);
	}
	while ((pid = wait(&status)) > 0 || (pid < 0 && errno == EINTR)) {
		if (pid < 0)
			continue;
		if (pid == script) {
			printf("oci-reap: script exit %d\n", code_of(status));
			fflush(stdout);
			/* The files are complete once the script that made them ended. */
			for (int i = 0; i < nfiles; i++)
				pids[i] = read_pid(files[i]);
		}
		for (int i = 0; i < nfiles; i++) {
			if (!pids[i])
				pids[i] = read_pid(files[i]);
			if (pids[i] == pid)
				codes[i] = code_of(status);
		}
	}
	for (int i = 0; i < nfiles; i++)
		if (codes[i] >= 0)
			printf("oci-reap: %s exit %d\n", files[i], codes[i]);
		else
			printf("oci-reap: %s: its process was never reaped here\n", files[i]);
	return 0;
}
