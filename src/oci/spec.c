// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * config.json (runtime-spec 1.0) and exec's process.json, read as hostile
 * input: a size limit, a nesting limit, duplicate keys refused, every field
 * of the wrong type refused with its name, every count and length bounded.
 * Fields this runtime does not know are ignored, as the spec asks; fields
 * it knows but cannot honour are refused, never silently dropped.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oci.h"

#define MIB (1024ull * 1024ull)

static int fail(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -1;
}

int oci_read_file(const char *path, size_t max, char **buf, size_t *len)
{
	struct stat st;
	size_t got = 0;
	char *b;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		int err = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		close(fd);
		return err;
	}
	if ((uint64_t)st.st_size > max) {
		close(fd);
		return -EFBIG;
	}
	b = malloc(max + 1);
	if (!b) {
		close(fd);
		return -ENOMEM;
	}
	/* Read up to max + 1: a file that grew since fstat is still refused. */
	for (;;) {
		ssize_t n = read(fd, b + got, max + 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = -errno;
			free(b);
			close(fd);
			return err;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got > max) {
			free(b);
			close(fd);
			return -EFBIG;
		}
	}
	close(fd);
	b[got] = '\0';
	*buf = b;
	*len = got;
	return 0;
}

/* Depth of nesting, refused beyond OCI_MAX_DEPTH before anything is read. */
static bool depth_ok(json_t *v, int depth)
{
	const char *key;
	json_t *item;
	size_t i;

	if (depth > OCI_MAX_DEPTH)
		return false;
	if (json_is_object(v)) {
		json_object_foreach(v, key, item)
			if (!depth_ok(item, depth + 1))
				return false;
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, item)
			if (!depth_ok(item, depth + 1))
				return false;
	}
	return true;
}

static json_t *load(const char *buf, size_t len, const char *what, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);

	if (!root) {
		fail(err, errlen, "%s: malformed JSON at line %d column %d: %s", what, jerr.line,
		     jerr.column, jerr.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		fail(err, errlen, "%s: not a JSON object", what);
		return NULL;
	}
	if (!depth_ok(root, 1)) {
		json_decref(root);
		fail(err, errlen, "%s: nested deeper than %d levels", what, OCI_MAX_DEPTH);
		return NULL;
	}
	return root;
}

/* A string field of at most max bytes (NUL never: jansson refuses \u0000). */
static int get_string(json_t *obj, const char *key, const char *name, bool required, size_t max,
		      char **out, char *err, size_t len)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return required ? fail(err, len, "%s is missing", name) : 0;
	if (!json_is_string(v))
		return fail(err, len, "%s must be a string", name);
	if (json_string_length(v) > max)
		return fail(err, len, "%s is longer than %zu bytes", name, max);
	*out = strdup(json_string_value(v));
	return *out ? 0 : fail(err, len, "out of memory");
}

static int get_bool(json_t *obj, const char *key, const char *name, bool *out, char *err,
		    size_t len)
{
	json_t *v = json_object_get(obj, key);

	*out = false;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return fail(err, len, "%s must be true or false", name);
	*out = json_is_true(v);
	return 0;
}

static void free_strv(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

/* An array of at most max strings, NULL-terminated. */
static int get_strv(json_t *obj, const char *key, const char *name, size_t max, char ***out,
		    char *err, size_t len)
{
	json_t *v = json_object_get(obj, key), *item;
	size_t i, n;

	*out = NULL;
	if (v && !json_is_null(v) && !json_is_array(v))
		return fail(err, len, "%s must be an array of strings", name);
	n = v ? json_array_size(v) : 0;
	if (n > max)
		return fail(err, len, "%s has %zu entries (at most %zu)", name, n, max);
	*out = calloc(n + 1, sizeof(char *));
	if (!*out)
		return fail(err, len, "out of memory");
	json_array_foreach(v, i, item) {
		if (!json_is_string(item)) {
			free_strv(*out);
			*out = NULL;
			return fail(err, len, "%s[%zu] must be a string", name, i);
		}
		if (json_string_length(item) > OCI_MAX_ARG_BYTES) {
			free_strv(*out);
			*out = NULL;
			return fail(err, len, "%s[%zu] is longer than %u bytes", name, i,
				    OCI_MAX_ARG_BYTES);
		}
		if (!((*out)[i] = strdup(json_string_value(item)))) {
			free_strv(*out);
			*out = NULL;
			return fail(err, len, "out of memory");
		}
	}
	return 0;
}

/* Absolute, no "." or ".." component, no empty one but a trailing '/'. */
static bool clean_abs_path(const char *p)
{
	if (p[0] != '/')
		return false;
	for (const char *c = p; *c;) {
		while (*c == '/')
			c++;
		const char *e = strchrnul(c, '/');
		size_t n = (size_t)(e - c);
		if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		c = e;
	}
	return true;
}

/* A path of the bundle: absolute as it is, else joined to the bundle. */
static int bundle_path(const char *bundle, const char *p, const char *name, char **out, char *err,
		       size_t len)
{
	*out = NULL;
	if (!*p)
		return fail(err, len, "%s is empty", name);
	if (p[0] == '/') {
		*out = strdup(p);
	} else if (asprintf(out, "%s/%s", bundle, p) < 0) {
		*out = NULL;
	}
	if (!*out)
		return fail(err, len, "out of memory");
	if (strlen(*out) >= OCI_MAX_PATH || !clean_abs_path(*out)) {
		free(*out);
		*out = NULL;
		return fail(err, len, "%s '%s': a path without '.' or '..' components, at most %d "
			    "bytes, is needed", name, p, OCI_MAX_PATH - 1);
	}
	return 0;
}

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
		return fail(err, len, "%s.user.additionalGids must be an array of at most %d ids",
			    where, OCI_MAX_GROUPS);
	json_array_foreach(v, i, g) {
		if (!json_is_integer(g) || json_integer_value(g) < 0 ||
		    json_integer_value(g) >= UINT32_MAX)
			return fail(err, len, "%s.user.additionalGids[%zu] must be 0 to %u", where, i,
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
		return fail(err, len, "%s.rlimits must be an array of at most %d limits", where,
			    OCI_MAX_RLIMITS);
	json_array_foreach(v, i, r) {
		json_t *type = json_object_get(r, "type"), *soft = json_object_get(r, "soft");
		json_t *hard = json_object_get(r, "hard");
		int res = json_is_string(type) ? rlimit_resource(json_string_value(type)) : -1;
		if (res < 0)
			return fail(err, len, "%s.rlimits[%zu].type is not an RLIMIT_ name", where, i);
		/* jansson holds integers as signed 64 bits: RLIM_INFINITY (2^64-1)
		 * does not parse, so soft/hard above 2^63-1 are refused as malformed
		 * JSON by then; a negative one is refused here. */
		if (!json_is_integer(soft) || !json_is_integer(hard) || json_integer_value(soft) < 0 ||
		    json_integer_value(hard) < 0)
			return fail(err, len, "%s.rlimits[%zu].soft and .hard must be non-negative "
				    "integers", where, i);
		if (json_integer_value(soft) > json_integer_value(hard))
			return fail(err, len, "%s.rlimits[%zu]: soft above hard", where, i);
		for (unsigned int k = 0; k < proc->nr_rlimits; k++)
			if (proc->rlimits[k].resource == res)
				return fail(err, len, "%s.rlimits[%zu]: %s given twice", where, i,
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
		return fail(err, len, "%s.consoleSize must be {\"height\":H,\"width\":W}, each "
			    "0 to %d", where, OCI_MAX_CONSOLE_DIM);
	proc->rows = (unsigned int)json_integer_value(h);
	proc->cols = (unsigned int)json_integer_value(w);
	return 0;
}

static int parse_process_obj(json_t *p, const char *where, struct oci_process *proc, char *err,
			     size_t len)
{
	char name[64];
	json_t *user;

	memset(proc, 0, sizeof(*proc));
	if (!json_is_object(p))
		return fail(err, len, "%s must be an object", where);
	snprintf(name, sizeof(name), "%s.args", where);
	if (get_strv(p, "args", name, OCI_MAX_ARGS, &proc->args, err, len))
		return -1;
	if (!proc->args[0])
		return fail(err, len, "%s is missing or empty", name);
	if (!proc->args[0][0])
		return fail(err, len, "%s[0] is empty", name);
	snprintf(name, sizeof(name), "%s.env", where);
	if (get_strv(p, "env", name, OCI_MAX_ENV, &proc->env, err, len))
		return -1;
	for (size_t i = 0; proc->env[i]; i++)
		if (!env_entry_ok(proc->env[i]))
			return fail(err, len, "%s[%zu] is not KEY=VALUE", name, i);
	snprintf(name, sizeof(name), "%s.cwd", where);
	if (get_string(p, "cwd", name, false, OCI_MAX_PATH - 1, &proc->cwd, err, len))
		return -1;
	if (!proc->cwd && !(proc->cwd = strdup("/")))
		return fail(err, len, "out of memory");
	if (!clean_abs_path(proc->cwd))
		return fail(err, len, "%s '%s' must be absolute, without '.' or '..'", name,
			    proc->cwd);
	snprintf(name, sizeof(name), "%s.terminal", where);
	if (get_bool(p, "terminal", name, &proc->terminal, err, len))
		return -1;
	if (parse_console_size(json_object_get(p, "consoleSize"), where, proc, err, len))
		return -1;
	user = json_object_get(p, "user");
	if (user && !json_is_null(user)) {
		json_t *uid, *gid;
		if (!json_is_object(user))
			return fail(err, len, "%s.user must be an object", where);
		uid = json_object_get(user, "uid");
		gid = json_object_get(user, "gid");
		if ((uid && !json_is_integer(uid)) || (gid && !json_is_integer(gid)))
			return fail(err, len, "%s.user.uid and .gid must be integers", where);
		if ((uid && (json_integer_value(uid) < 0 || json_integer_value(uid) >= UINT32_MAX)) ||
		    (gid && (json_integer_value(gid) < 0 || json_integer_value(gid) >= UINT32_MAX)))
			return fail(err, len, "%s.user: uid and gid are 0 to %u", where, UINT32_MAX - 1);
		if (json_object_get(user, "username"))
			return fail(err, len, "%s.user.username is not supported", where);
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
	free_strv(proc->args);
	free_strv(proc->env);
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
		return fail(err, errlen, "process.json: larger than %u bytes", OCI_MAX_PROCESS_BYTES);
	if (!(root = load(buf, len, "process.json", err, errlen)))
		return -1;
	ret = parse_process_obj(root, "process", proc, err, errlen);
	json_decref(root);
	if (ret)
		oci_process_free(proc);
	return ret;
}

int oci_cpuset_count(const char *s)
{
	unsigned char seen[OCI_MAX_VCPUS * 16] = { 0 };
	int count = 0;
	const char *p = s;

	if (!*s)
		return -1;
	while (*p) {
		char *end;
		unsigned long a, b;

		if (*p < '0' || *p > '9')
			return -1;
		a = strtoul(p, &end, 10);
		b = a;
		if (*end == '-') {
			if (end[1] < '0' || end[1] > '9')
				return -1;
			b = strtoul(end + 1, &end, 10);
		}
		if (b < a || b >= sizeof(seen))
			return -1;
		for (unsigned long c = a; c <= b; c++)
			if (!seen[c]) {
				seen[c] = 1;
				count++;
			}
		if (*end == ',' && end[1])
			end++;
		else if (*end)
			return -1;
		p = end;
	}
	return count;
}

/* linux.resources: memory.limit -> RAM, cpu quota/period or cpus -> vCPUs. */
static int parse_resources(json_t *linux_obj, struct oci_spec *spec, char *err, size_t len)
{
	json_t *res = json_object_get(linux_obj, "resources"), *mem, *cpu, *v;

	if (!res || json_is_null(res))
		return 0;
	if (!json_is_object(res))
		return fail(err, len, "linux.resources must be an object");
	mem = json_object_get(res, "memory");
	if (mem && !json_is_null(mem)) {
		if (!json_is_object(mem))
			return fail(err, len, "linux.resources.memory must be an object");
		v = json_object_get(mem, "limit");
		if (v && !json_is_null(v)) {
			json_int_t lim;
			if (!json_is_integer(v))
				return fail(err, len, "linux.resources.memory.limit must be an integer");
			lim = json_integer_value(v);
			if (lim > 0) {
				uint64_t mib = ((uint64_t)lim + MIB - 1) / MIB;
				if (mib < OCI_MIN_MEMORY_MIB || mib > OCI_MAX_MEMORY_MIB)
					return fail(err, len, "linux.resources.memory.limit %lld: a VM "
						    "has %d to %d MiB", (long long)lim,
						    OCI_MIN_MEMORY_MIB, OCI_MAX_MEMORY_MIB);
				spec->memory_mib = mib;
			} else if (lim != -1 && lim != 0) {
				return fail(err, len, "linux.resources.memory.limit %lld is negative",
					    (long long)lim);
			}
		}
	}
	cpu = json_object_get(res, "cpu");
	if (!cpu || json_is_null(cpu))
		return 0;
	if (!json_is_object(cpu))
		return fail(err, len, "linux.resources.cpu must be an object");
	json_t *quota = json_object_get(cpu, "quota"), *period = json_object_get(cpu, "period");
	json_t *cpus = json_object_get(cpu, "cpus");
	if ((quota && !json_is_null(quota) && !json_is_integer(quota)) ||
	    (period && !json_is_null(period) && !json_is_integer(period)))
		return fail(err, len, "linux.resources.cpu.quota and .period must be integers");
	if (cpus && !json_is_null(cpus) && !json_is_string(cpus))
		return fail(err, len, "linux.resources.cpu.cpus must be a string");
	if (json_is_integer(quota) && json_integer_value(quota) > 0) {
		json_int_t q = json_integer_value(quota);
		json_int_t per = json_is_integer(period) ? json_integer_value(period) : 100000;
		if (per <= 0)
			return fail(err, len, "linux.resources.cpu.period must be positive");
		json_int_t n = q / per + (q % per != 0);
		if (n > OCI_MAX_VCPUS)
			return fail(err, len, "linux.resources.cpu: quota/period asks for %lld CPUs "
				    "(a VM has at most %d)", (long long)n, OCI_MAX_VCPUS);
		spec->vcpus = (unsigned int)n;
	} else if (json_is_string(cpus) && json_string_length(cpus) > 0) {
		int n = json_string_length(cpus) > 1024 ? -1 : oci_cpuset_count(json_string_value(cpus));
		if (n <= 0)
			return fail(err, len, "linux.resources.cpu.cpus '%.64s' is not a CPU list",
				    json_string_value(cpus));
		if (n > OCI_MAX_VCPUS)
			return fail(err, len, "linux.resources.cpu.cpus names %d CPUs (a VM has at "
				    "most %d)", n, OCI_MAX_VCPUS);
		spec->vcpus = (unsigned int)n;
	}
	return 0;
}

/* File systems the guest's init mounts itself, and where. */
static bool guest_provides(const char *type, const char *dest)
{
	static const struct { const char *type, *dest; } own[] = {
		{ "proc", "/proc" },       { "sysfs", "/sys" },        { "tmpfs", "/dev" },
		{ "devtmpfs", "/dev" },    { "devpts", "/dev/pts" },   { "tmpfs", "/dev/shm" },
		{ "tmpfs", "/tmp" },       { "tmpfs", "/run" },        { "mqueue", "/dev/mqueue" },
		{ "cgroup", "/sys/fs/cgroup" }, { "cgroup2", "/sys/fs/cgroup" },
	};

	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		if (!strcmp(type, own[i].type) && !strcmp(dest, own[i].dest))
			return true;
	return false;
}

static int parse_mount(json_t *m, size_t i, const char *bundle, struct oci_spec *spec, char *err,
		       size_t len)
{
	char *dest = NULL, *type = NULL, *source = NULL, **opts = NULL, name[48];
	bool bind = false, ro = false;
	int ret = -1;

	if (!json_is_object(m))
		return fail(err, len, "mounts[%zu] must be an object", i);
	snprintf(name, sizeof(name), "mounts[%zu].destination", i);
	if (get_string(m, "destination", name, true, OCI_MAX_PATH - 1, &dest, err, len))
		goto out;
	snprintf(name, sizeof(name), "mounts[%zu].type", i);
	if (get_string(m, "type", name, false, 64, &type, err, len))
		goto out;
	snprintf(name, sizeof(name), "mounts[%zu].source", i);
	if (get_string(m, "source", name, false, OCI_MAX_PATH - 1, &source, err, len))
		goto out;
	snprintf(name, sizeof(name), "mounts[%zu].options", i);
	if (get_strv(m, "options", name, 64, &opts, err, len))
		goto out;
	if (!clean_abs_path(dest) || !strcmp(dest, "/")) {
		fail(err, len, "mounts[%zu].destination '%s' must be absolute, not '/', without '.' "
		     "or '..'", i, dest);
		goto out;
	}
	for (char **o = opts; *o; o++) {
		if (!strcmp(*o, "bind") || !strcmp(*o, "rbind"))
			bind = true;
		else if (!strcmp(*o, "ro"))
			ro = true;
		else if (!strcmp(*o, "rw"))
			ro = false;
	}
	if (type && !strcmp(type, "bind"))
		bind = true;
	if (!bind) {
		if (type && guest_provides(type, dest)) {
			ret = 0;
			goto out;
		}
		fail(err, len, "mounts[%zu]: %s at %s is not supported (the guest mounts proc, sysfs, "
		     "devpts, mqueue, cgroup and tmpfs at /dev, /dev/shm, /tmp, /run itself; "
		     "bind mounts of directories are shared)", i, type ? type : "a mount without type",
		     dest);
		goto out;
	}
	if (!source) {
		fail(err, len, "mounts[%zu]: a bind mount needs a source", i);
		goto out;
	}
	if (spec->nr_binds == OCI_MAX_BIND_MOUNTS) {
		fail(err, len, "mounts[%zu]: at most %d bind mounts are supported", i,
		     OCI_MAX_BIND_MOUNTS);
		goto out;
	}
	struct oci_mount *b = &spec->binds[spec->nr_binds];
	if (bundle_path(bundle, source, "mount source", &b->source, err, len))
		goto out;
	b->destination = dest;
	b->readonly = ro;
	dest = NULL;
	spec->nr_binds++;
	ret = 0;
out:
	free(dest);
	free(type);
	free(source);
	free_strv(opts);
	return ret;
}

static int parse_mounts(json_t *root, const char *bundle, struct oci_spec *spec, char *err,
			size_t len)
{
	json_t *mounts = json_object_get(root, "mounts"), *m;
	size_t i;

	if (!mounts || json_is_null(mounts))
		return 0;
	if (!json_is_array(mounts))
		return fail(err, len, "mounts must be an array");
	if (json_array_size(mounts) > OCI_MAX_MOUNTS)
		return fail(err, len, "mounts has %zu entries (at most %d)", json_array_size(mounts),
			    OCI_MAX_MOUNTS);
	json_array_foreach(mounts, i, m)
		if (parse_mount(m, i, bundle, spec, err, len))
			return -1;
	return 0;
}

static int parse_root(json_t *root, const char *bundle, struct oci_spec *spec, char *err,
		      size_t len)
{
	json_t *r = json_object_get(root, "root");
	char *path = NULL;
	int ret;

	if (!r || json_is_null(r))
		return fail(err, len, "root is missing");
	if (!json_is_object(r))
		return fail(err, len, "root must be an object");
	if (get_string(r, "path", "root.path", true, OCI_MAX_PATH - 1, &path, err, len) ||
	    get_bool(r, "readonly", "root.readonly", &spec->root_readonly, err, len)) {
		free(path);
		return -1;
	}
	ret = bundle_path(bundle, path, "root.path", &spec->root_path, err, len);
	free(path);
	return ret;
}

static int parse_annotations(json_t *root, struct oci_spec *spec, char *err, size_t len)
{
	json_t *a = json_object_get(root, "annotations"), *v;
	const char *key;

	if (!a || json_is_null(a)) {
		spec->annotations = json_object();
		return spec->annotations ? 0 : fail(err, len, "out of memory");
	}
	if (!json_is_object(a))
		return fail(err, len, "annotations must be an object");
	json_object_foreach(a, key, v)
		if (!json_is_string(v))
			return fail(err, len, "annotations['%.64s'] must be a string", key);
	spec->annotations = json_incref(a);
	return 0;
}

/*
 * hooks are not run: each is a host program given the container's pid (the
 * supervisor's, on the host), so it would act on the host's namespaces, not
 * the VM's. Docker's one is skipped: libnetwork-setkey hands dockerd the
 * container's network namespace to wire its network into, and the VM has
 * no namespace of the host's to hand (with --network none there is nothing
 * to wire; another network leaves the VM without one). Any other hook is
 * refused.
 */
static int check_hooks(json_t *root, char *err, size_t len)
{
	static const char *const kinds[] = { "prestart", "createRuntime", "createContainer",
					     "startContainer", "poststart", "poststop" };
	json_t *hooks = json_object_get(root, "hooks"), *list, *h;
	size_t i;

	if (!hooks || json_is_null(hooks))
		return 0;
	if (!json_is_object(hooks))
		return fail(err, len, "hooks must be an object");
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		list = json_object_get(hooks, kinds[k]);
		if (!list || json_is_null(list))
			continue;
		if (!json_is_array(list))
			return fail(err, len, "hooks.%s must be an array", kinds[k]);
		json_array_foreach(list, i, h) {
			json_t *path = json_object_get(h, "path"), *args = json_object_get(h, "args");
			json_t *arg0 = json_is_array(args) ? json_array_get(args, 0) : NULL;
			if (!json_is_object(h) || !json_is_string(path))
				return fail(err, len, "hooks.%s[%zu].path must be a string", kinds[k], i);
			if (k < 2 && json_is_string(arg0) &&
			    !strcmp(json_string_value(arg0), "libnetwork-setkey"))
				continue;
			return fail(err, len, "hooks.%s[%zu] (%.64s): hooks are not supported (they "
				    "would run on the host, not in the container's VM)", kinds[k], i,
				    json_string_value(path));
		}
	}
	return 0;
}

/*
 * What the other fields Docker and containerd send get, the VM being the
 * container (its own kernel, devices, /proc and /sys):
 *   linux.namespaces       each VM is its own; one with a path (a pod's
 *                          shared network, --network container:X) is not
 *                          joined: that container gets a VM of its own
 *   process.capabilities, noNewPrivileges, apparmorProfile, selinuxLabel,
 *   linux.seccomp          the host's restrictions of a process sharing its
 *                          kernel; the process's kernel is the guest's, the
 *                          VMM has its own seccomp filter and jail
 *   linux.maskedPaths, readonlyPaths
 *                          hide the host kernel's /proc and /sys files; the
 *                          guest's show only the VM
 *   linux.resources.devices, linux.devices
 *                          the guest has only the VM's devices
 *   linux.sysctl           Docker's ip_unprivileged_port_start and
 *                          ping_group_range are for a network namespace of
 *                          the host's kernel: not applied
 *   linux.cgroupsPath, process.oomScoreAdj, rootfsPropagation, mountLabel
 *                          the VMM's cgroup is the library's (control.c)
 * All are ignored; hooks are checked by check_hooks.
 */
int oci_spec_parse(const char *buf, size_t len, const char *bundle, struct oci_spec *spec,
		   char *err, size_t errlen)
{
	json_t *root, *linux_obj;
	int ret = -1;

	memset(spec, 0, sizeof(*spec));
	if (len > OCI_MAX_CONFIG_BYTES)
		return fail(err, errlen, "config.json: larger than %u bytes", OCI_MAX_CONFIG_BYTES);
	if (!(root = load(buf, len, "config.json", err, errlen)))
		return -1;
	if (get_string(root, "ociVersion", "ociVersion", true, 64, &spec->oci_version, err, errlen))
		goto out;
	if (strncmp(spec->oci_version, "1.", 2)) {
		fail(err, errlen, "ociVersion '%s': only runtime-spec 1.x is supported",
		     spec->oci_version);
		goto out;
	}
	if (!json_object_get(root, "process")) {
		fail(err, errlen, "process is missing");
		goto out;
	}
	if (parse_process_obj(json_object_get(root, "process"), "process", &spec->process, err,
			      errlen))
		goto out;
	spec->process.container = true;
	if (parse_root(root, bundle, spec, err, errlen) ||
	    get_string(root, "hostname", "hostname", false, 64, &spec->hostname, err, errlen) ||
	    parse_mounts(root, bundle, spec, err, errlen) ||
	    parse_annotations(root, spec, err, errlen) || check_hooks(root, err, errlen))
		goto out;
	if (spec->hostname && !spec->hostname[0]) {
		free(spec->hostname);
		spec->hostname = NULL;
	}
	linux_obj = json_object_get(root, "linux");
	if (linux_obj && !json_is_null(linux_obj) && !json_is_object(linux_obj)) {
		fail(err, errlen, "linux must be an object");
		goto out;
	}
	if (linux_obj && parse_resources(linux_obj, spec, err, errlen))
		goto out;
	ret = 0;
out:
	json_decref(root);
	if (ret)
		oci_spec_free(spec);
	return ret;
}

void oci_spec_free(struct oci_spec *spec)
{
	free(spec->oci_version);
	oci_process_free(&spec->process);
	free(spec->root_path);
	for (unsigned int i = 0; i < spec->nr_binds; i++) {
		free(spec->binds[i].source);
		free(spec->binds[i].destination);
	}
	free(spec->hostname);
	json_decref(spec->annotations);
	memset(spec, 0, sizeof(*spec));
}
