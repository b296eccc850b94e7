// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * alcatraz-oci: a runc-compatible OCI runtime; each container is an Alcatraz
 * microVM. Called by containerd's runc shim (--runc-binary, BinaryName),
 * Docker's runtimes entry and by hand:
 *
 *   alcatraz-oci [global options] COMMAND [options] ID ...
 *
 * Global options (before the command): --root DIR (default
 * /run/alcatraz-oci), --log FILE, --log-format text|json, --systemd-cgroup
 * (accepted; the VMM's cgroup is made by libalcatraz under the caller's
 * own, so it has no effect yet), --debug, --rootless BOOL, --criu PATH
 * (accepted, no effect). Commands: create, start, state, kill, delete,
 * exec, features, version. Exit status: 0, or 1 with one line on stderr
 * and, as {"level":"error","msg":...}, in the log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <alcatraz/alcatraz.h>

#include "oci.h"
#include "oci_paths.h"

#define DEFAULT_ROOT "/run/alcatraz-oci"

/* go-runc splits exactly three lines at "version " and ": ". */
static int version(void)
{
	printf("runc version %s\ncommit: alcatraz-oci-%s\nspec: %s\n", ALCATRAZ_OCI_VERSION,
	       ALCATRAZ_OCI_VERSION, OCI_SPEC_VERSION);
	return 0;
}

/* runtime-spec's features document: only what this runtime honours. */
static int features(void)
{
	json_t *f = json_pack(
		"{s:s, s:s, s:[], s:[s,s,s,s], s:{s:[], s:[], s:{s:b, s:b, s:b, s:b}, "
		"s:{s:b}, s:{s:b}, s:{s:b}}, s:{s:s}}",
		"ociVersionMin", "1.0.0", "ociVersionMax", OCI_SPEC_VERSION, "hooks", "mountOptions",
		"bind", "rbind", "ro", "rw", "linux", "namespaces", "capabilities", "cgroup", "v1", 0,
		"v2", 0, "systemd", 0, "systemdUser", 0, "seccomp", "enabled", 0, "apparmor",
		"enabled", 0, "selinux", "enabled", 0, "annotations", "org.alcatraz.oci.version",
		ALCATRAZ_OCI_VERSION);
	char *text = f ? json_dumps(f, JSON_PRESERVE_ORDER | JSON_INDENT(4)) : NULL;

	json_decref(f);
	if (!text)
		return oci_error("out of memory");
	printf("%s\n", text);
	free(text);
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: alcatraz-oci [--root DIR] [--log FILE] [--log-format text|json] "
		"[--systemd-cgroup] COMMAND ...\n"
		"  create [--bundle DIR] [--pid-file FILE] ID   boot the container's VM\n"
		"  start ID                                     run its process\n"
		"  state ID                                     its state as JSON\n"
		"  kill [--all] ID [SIGNAL]                     signal its process (default TERM)\n"
		"  delete [--force] ID                          remove it\n"
		"  exec --process FILE [--detach] [--pid-file FILE] ID\n"
		"  features | version | --version\n");
}

int main(int argc, char **argv)
{
	struct oci_globals g = { .root = DEFAULT_ROOT };
	const char *log_path = NULL, *log_format = "text", *v;
	bool missing = false;
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--version") || !strcmp(a, "-v"))
			return version();
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		}
		if ((v = oci_opt_value(argc, argv, &i, "root", NULL, &missing)))
			g.root = v;
		else if ((v = oci_opt_value(argc, argv, &i, "log", NULL, &missing)))
			log_path = v;
		else if ((v = oci_opt_value(argc, argv, &i, "log-format", NULL, &missing)))
			log_format = v;
		else if ((v = oci_opt_value(argc, argv, &i, "rootless", NULL, &missing)) ||
			 (v = oci_opt_value(argc, argv, &i, "criu", NULL, &missing)))
			;
		else if (missing)
			return oci_error("option %s needs a value", a);
		else if (!strcmp(a, "--systemd-cgroup"))
			g.systemd_cgroup = true;
		else if (strcmp(a, "--debug"))
			return oci_error("unknown global option %s", a);
	}
	if (strcmp(log_format, "text") && strcmp(log_format, "json"))
		return oci_error("--log-format wants text or json, not '%.32s'", log_format);
	if (!oci_log_open(log_path, strcmp(log_format, "json") ? OCI_LOG_TEXT : OCI_LOG_JSON))
		return 1;
	if (g.root[0] != '/' || strlen(g.root) >= OCI_MAX_PATH - OCI_MAX_ID - 16)
		return oci_error("--root '%.64s' must be an absolute path of at most %d bytes", g.root,
				 OCI_MAX_PATH - OCI_MAX_ID - 17);
	if (i >= argc) {
		usage(stderr);
		return 1;
	}
	static const struct {
		const char *name;
		int (*fn)(const struct oci_globals *, int, char **);
	} cmds[] = {
		{ "create", oci_cmd_create }, { "start", oci_cmd_start }, { "state", oci_cmd_state },
		{ "kill", oci_cmd_kill },     { "delete", oci_cmd_delete }, { "exec", oci_cmd_exec },
		{ "pause", oci_cmd_pause },   { "resume", oci_cmd_resume }, { "ps", oci_cmd_ps },
		{ "update", oci_cmd_update }, { "events", oci_cmd_events },
	};
	if (!strcmp(argv[i], "version"))
		return version();
	if (!strcmp(argv[i], "features"))
		return features();
	for (size_t c = 0; c < sizeof(cmds) / sizeof(cmds[0]); c++)
		if (!strcmp(argv[i], cmds[c].name))
			return cmds[c].fn(&g, argc - i, argv + i);
	return oci_error("unknown command '%.32s' (run, checkpoint and restore are not supported "
			 "yet)", argv[i]);
}
