// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A process object (config.json's "process", exec's process.json) read as
 * hostile input, and the guest helper's command line that carries what
 * the guest must apply (terminal, user, groups, rlimits, hostname).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "spec_json.h"

static bool env_entry_ok(const char *e)
{
	const char *eq = strchr(e, '=');

	return eq && eq != e;
}

static int parse_gids(json_t *v, const char *where, struct oci_process *proc, char *err,
		      size_t len)
{
	json_t *g;
	size_t i;

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v) || json_array_size(v) > OCI_MAX_GROUPS)
		return spec_fail(err, len, "%s.user.additionalGids must be an array of at most %d ids",
				 where, OCI_MAX_GROUPS);
	json_array_foreach(v, i, g) {
		if (!json_is_integer(g) || json_integer_value(g) < 0 ||
		    json_integer_value(g) >= UINT32_MAX)
			return spec_fail(err, len, "%s.user.additionalGids[%zu] must be 0 to %u", where, i,
					 UINT32_MAX - 1);
		proc->gids[proc->nr_gids++] = (unsigned int)json_integer_value(g);
	}
	return 0;
}

static int rlimit_resource(const char *name)
{
	static const struct { const char *name; int res; } names[] = {
		{ "RLIMIT_CPU", RLIMIT_CPU },       { "RLIMIT_FSIZE", RLIMIT_FSIZE },
		{ "RLIMIT_DATA", RLIMIT_DATA },     { "RLIMIT_STACK", RLIMIT_STACK },
		{ "RLIMIT_CORE", RLIMIT_CORE },     { "RLIMIT_RSS", RLIMIT_RSS },
		{ "RLIMIT_NPROC", RLIMIT_NPROC },   { "RLIMIT_NOFILE", RLIMIT_NOFILE },
		{ "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK }, { "RLIMIT_AS", RLIMIT_AS },
		{ "RLIMIT_LOCKS", RLIMIT_LOCKS },   { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
		{ "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE }, { "RLIMIT_NICE", RLIMIT_NICE },
		{ "RLIMIT_RTPRIO", RLIMIT_RTPRIO }, { "RLIMIT_RTTIME", RLIMIT_RTTIME },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i].name))
			return names[i].res;
	return -1;
}

/* process.rlimits: each {type, soft, hard}, a type once, soft <= hard. */
static int parse_rlimits(json_t *v, const char *where, struct oci_process *proc, char *err,
			 size_t len)
{
	json_t *r;
	size_t i;

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v) || json_array_size(v) > OCI_MAX_RLIMITS)
		return spec_fail(err, len, "%s.rlimits must be an array of at most %d limits", where,
				 OCI_MAX_RLIMITS);
	json_array_foreach(v, i, r) {
		json_t *type = json_object_get(r, "type"), *soft = json_object_get(r, "soft");
		json_t *hard = json_object_get(r, "hard");
		int res = json_is_string(type) ? rlimit_resource(json_string_value(type)) : -1;
		if (res < 0)
			return spec_fail(err, len, "%s.rlimits[%zu].type is not an RLIMIT_ name", where, i);
		/* jansson holds integers as signed 64 bits: RLIM_INFINITY (2^64-1)
		 * does not parse, so soft/hard above 2^63-1 are refused as malformed
		 * JSON by then; a negative one is refused here. */
		if (!json_is_integer(soft) || !json_is_integer(hard) || json_integer_value(soft) < 0 ||
		    json_integer_value(hard) < 0)
			return spec_fail(err, len, "%s.rlimits[%zu].soft and .hard must be non-negative "
					 "integers", where, i);
		if (json_integer_value(soft) > json_integer_value(hard))
			return spec_fail(err, len, "%s.rlimits[%zu]: soft above hard", where, i);
		for (unsigned int k = 0; k < proc->nr_rlimits; k++)
			if (proc->rlimits[k].resource == res)
				return spec_fail(err, len, "%s.rlimits[%zu]: %s given twice", where, i,
						 json_string_value(type));
		proc->rlimits[proc->nr_rlimits++] = (struct oci_rlimit){
			.resource = res, .soft = (uint64_t)json_integer_value(soft),
			.hard = (uint64_t)json_integer_value(hard) };
	}
	return 0;
}

/* process.consoleSize {"height":H,"width":W}: the terminal's first size. */
static int parse_console_size(json_t *v, const char *where, struct oci_process *proc, char *err,
			      size_t len)
{
	json_t *h, *w;

	if (!v || json_is_null(v))
		return 0;
	h = json_object_get(v, "height");
	w = json_object_get(v, "width");
	if (!json_is_object(v) || !json_is_integer(h) || !json_is_integer(w) ||
	    json_integer_value(h) < 0 || json_integer_value(h) > OCI_MAX_CONSOLE_DIM ||
	    json_integer_value(w) < 0 || json_integer_value(w) > OCI_MAX_CONSOLE_DIM)
		return spec_fail(err, len, "%s.consoleSize must be {\"height\":H,\"width\":W}, each "
				 "0 to %d", where, OCI_MAX_CONSOLE_DIM);
	proc->rows = (unsigned int)json_integer_value(h);
	proc->cols = (unsigned int)json_integer_value(w);
	return 0;
}

int spec_parse_process(json_t *p, const char *where, struct oci_process *proc, char *err,
		       size_t len)
{
	char name[64];
	json_t *user;

	memset(proc, 0, sizeof(*proc));
	if (!json_is_object(p))
		return spec_fail(err, len, "%s must be an object", where);
	snprintf(name, sizeof(name), "%s.args", where);
	if (spec_get_strv(p, "args", name, OCI_MAX_ARGS, &proc->args, err, len))
		return -1;
	if (!proc->args[0])
		return spec_fail(err, len, "%s is missing or empty", name);
	if (!proc->args[0][0])
		return spec_fail(err, len, "%s[0] is empty", name);
	snprintf(name, sizeof(name), "%s.env", where);
	if (spec_get_strv(p, "env", name, OCI_MAX_ENV, &proc->env, err, len))
		return -1;
	for (size_t i = 0; proc->env[i]; i++)
		if (!env_entry_ok(proc->env[i]))
			return spec_fail(err, len, "%s[%zu] is not KEY=VALUE", name, i);
	snprintf(name, sizeof(name), "%s.cwd", where);
	if (spec_get_string(p, "cwd", name, false, OCI_MAX_PATH - 1, &proc->cwd, err, len))
		return -1;
	if (!proc->cwd && !(proc->cwd = strdup("/")))
		return spec_fail(err, len, "out of memory");
	if (!spec_clean_abs_path(proc->cwd))
		return spec_fail(err, len, "%s '%s' must be absolute, without '.' or '..'", name,
				 proc->cwd);
	snprintf(name, sizeof(name), "%s.terminal", where);
	if (spec_get_bool(p, "terminal", name, &proc->terminal, err, len))
		return -1;
	if (parse_console_size(json_object_get(p, "consoleSize"), where, proc, err, len))
		return -1;
	user = json_object_get(p, "user");
	if (user && !json_is_null(user)) {
		json_t *uid, *gid;
		if (!json_is_object(user))
			return spec_fail(err, len, "%s.user must be an object", where);
		uid = json_object_get(user, "uid");
		gid = json_object_get(user, "gid");
		if ((uid && !json_is_integer(uid)) || (gid && !json_is_integer(gid)))
			return spec_fail(err, len, "%s.user.uid and .gid must be integers", where);
		if ((uid && (json_integer_value(uid) < 0 || json_integer_value(uid) >= UINT32_MAX)) ||
		    (gid && (json_integer_value(gid) < 0 || json_integer_value(gid) >= UINT32_MAX)))
			return spec_fail(err, len, "%s.user: uid and gid are 0 to %u", where, UINT32_MAX - 1);
		if (json_object_get(user, "username"))
			return spec_fail(err, len, "%s.user.username is not supported", where);
		proc->uid = uid ? (unsigned int)json_integer_value(uid) : 0;
		proc->gid = gid ? (unsigned int)json_integer_value(gid) : 0;
		if (parse_gids(json_object_get(user, "additionalGids"), where, proc, err, len))
			return -1;
	}
	return parse_rlimits(json_object_get(p, "rlimits"), where, proc, err, len);
}

/* Each helper option as its own string, then the process's args. */
char **oci_launch_argv(const struct oci_process *proc, const char *hostname)
{
	char opts[OCI_MAX_RLIMITS + 4][24 + OCI_MAX_GROUPS * 11], *str;
	const char *names[OCI_MAX_RLIMITS + 4];
	size_t n = 0, nopts = 0, bytes = 0, i = 0;
	char **argv;

	if (!hostname && !proc->uid && !proc->gid && !proc->nr_gids && !proc->nr_rlimits &&
	    !proc->terminal && !proc->container)
		return proc->args;
	if (proc->terminal) {
		names[nopts] = "--tty";
		snprintf(opts[nopts++], sizeof(opts[0]), "%u:%u", proc->rows, proc->cols);
	} else if (proc->container) {
		/* (a terminal's relay already passes signals to the process alone) */
		names[nopts] = "--fork";
		opts[nopts++][0] = '\0';
	}
	if (proc->uid || proc->gid) {
		names[nopts] = "--user";
		snprintf(opts[nopts++], sizeof(opts[0]), "%u:%u", proc->uid, proc->gid);
	}
	if (proc->nr_gids) {
		size_t at = 0;
		names[nopts] = "--groups";
		for (unsigned int g = 0; g < proc->nr_gids; g++)
			at += (size_t)snprintf(opts[nopts] + at, sizeof(opts[0]) - at, "%s%u",
					       g ? "," : "", proc->gids[g]);
		nopts++;
	}
	for (unsigned int r = 0; r < proc->nr_rlimits; r++) {
		names[nopts] = "--rlimit";
		snprintf(opts[nopts++], sizeof(opts[0]), "%d:%llu:%llu", proc->rlimits[r].resource,
			 (unsigned long long)proc->rlimits[r].soft,
			 (unsigned long long)proc->rlimits[r].hard);
	}
	while (proc->args[n])
		n++;
	for (size_t o = 0; o < nopts; o++)
		bytes += strlen(opts[o]) + 1;
	argv = malloc((n + 2 * nopts + 5) * sizeof(char *) + bytes);
	if (!argv)
		return NULL;
	str = (char *)(argv + n + 2 * nopts + 5);
	argv[i++] = (char *)OCI_GUEST_HELPER_DIR "/" OCI_PAUSE_NAME;
	if (hostname) {
		argv[i++] = (char *)"--hostname";
		argv[i++] = (char *)hostname;
	}
	for (size_t o = 0; o < nopts; o++) {
		argv[i++] = (char *)names[o];
		if (!opts[o][0])
			continue; /* a flag */
		argv[i++] = strcpy(str, opts[o]);
		str += strlen(opts[o]) + 1;
	}
	argv[i++] = (char *)"--";
	memcpy(argv + i, proc->args, (n + 1) * sizeof(char *));
	return argv;
}

void oci_process_free(struct oci_process *proc)
{
	spec_free_strv(proc->args);
	spec_free_strv(proc->env);
	free(proc->cwd);
	memset(proc, 0, sizeof(*proc));
}

int oci_process_parse(const char *buf, size_t len, struct oci_process *proc, char *err,
		      size_t errlen)
{
	json_t *root;
	int ret;

	memset(proc, 0, sizeof(*proc));
	if (len > OCI_MAX_PROCESS_BYTES)
		return spec_fail(err, errlen, "process.json: larger than %u bytes", OCI_MAX_PROCESS_BYTES);
	if (!(root = spec_load(buf, len, "process.json", err, errlen)))
		return -1;
	ret = spec_parse_process(root, "process", proc, err, errlen);
	json_decref(root);
	if (ret)
		oci_process_free(proc);
	return ret;
}
