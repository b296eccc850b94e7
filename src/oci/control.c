// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * pause, resume, ps, update and events: what runc does with a container's
 * cgroup, done with the VMM's (the library gives each VMM a cgroup of its
 * own; the supervisor names it). pause freezes the whole VMM, vCPUs and
 * devices, as runc's freezer stops a container's processes; ps lists the
 * VMM's processes; update writes memory.max and cpu.max (the VM's RAM and
 * vCPUs stay what create made them); events reports the cgroup's usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "oci.h"

#define MAX_PIDS 4096
#define MAX_RESOURCES_BYTES (64u << 10)
#define DEFAULT_INTERVAL_S 5
#define MAX_INTERVAL_S 86400

static int one_id(int argc, char **argv, const char *cmd, const char **id)
{
	if (argc != 2 || argv[1][0] == '-')
		return oci_error("%s needs exactly one container id (%s ID)", cmd, cmd);
	*id = argv[1];
	return 0;
}

int oci_request_container(const struct oci_globals *g, const char *id, const char *req)
{
	char reply[512];
	int ret, dirfd;

	if ((ret = oci_open_container(g, id, &dirfd)))
		return ret;
	ret = oci_request(dirfd, req, reply, sizeof(reply));
	close(dirfd);
	if (ret == -1)
		return oci_error("%s", reply);
	if (ret)
		return oci_error("container not running");
	return 0;
}

static int simple_request(const struct oci_globals *g, int argc, char **argv, const char *req)
{
	const char *id = NULL;
	int ret;

	if ((ret = one_id(argc, argv, req, &id)))
		return ret;
	return oci_request_container(g, id, req);
}

int oci_cmd_pause(const struct oci_globals *g, int argc, char **argv)
{
	return simple_request(g, argc, argv, "pause");
}

int oci_cmd_resume(const struct oci_globals *g, int argc, char **argv)
{
	return simple_request(g, argc, argv, "resume");
}

/* The container's cgroup directory, asked of its supervisor. */
static int container_cgroup(const struct oci_globals *g, const char *id, char *dir, size_t len)
{
	int ret, dirfd;

	if ((ret = oci_open_container(g, id, &dirfd)))
		return ret;
	ret = oci_request(dirfd, "cgroup", dir, len);
	close(dirfd);
	if (ret == -1)
		return oci_error("container %s: %s", id, dir);
	if (ret)
		return oci_error("container not running");
	return 0;
}

static int read_small(const char *dir, const char *file, char *buf, size_t len)
{
	char path[OCI_MAX_PATH + 32];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

static int write_small(const char *dir, const char *file, const char *val)
{
	char path[OCI_MAX_PATH + 32];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0)
		return -errno;
	if (write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		ret = -errno;
	close(fd);
	return ret;
}

/* ---- ps ---- */

static int cgroup_pids(const char *dir, long *pids, int max)
{
	char path[OCI_MAX_PATH + 32];
	FILE *f;
	int n = 0;
	long p;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	if (!(f = fopen(path, "re")))
		return -errno;
	while (n < max && fscanf(f, "%ld", &p) == 1)
		pids[n++] = p;
	fclose(f);
	return n;
}

/* runc's table: the header of ps OPTIONS (default -ef) and its lines
 * whose PID column is one of pids. */
static int ps_table(const long *pids, int n, char **opts, int nopts)
{
	char *argv[64], line[4096];
	int pfd[2], col = -1, status;
	pid_t child;
	FILE *f;

	if (nopts > 60)
		return oci_error("ps: too many ps options");
	argv[0] = (char *)"ps";
	for (int i = 0; i < nopts; i++)
		argv[i + 1] = opts[i];
	if (!nopts)
		argv[++nopts] = (char *)"-ef";
	argv[nopts + 1] = NULL;
	if (pipe2(pfd, O_CLOEXEC) < 0 || (child = fork()) < 0)
		return oci_error("ps: %s", strerror(errno));
	if (child == 0) {
		dup2(pfd[1], STDOUT_FILENO);
		execvp("ps", argv);
		fprintf(stderr, "alcatraz-oci: ps: %s\n", strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	if (!(f = fdopen(pfd[0], "r")))
		return oci_error("ps: %s", strerror(errno));
	for (int l = 0; fgets(line, sizeof(line), f); l++) {
		char copy[sizeof(line)], *tok, *save;
		int c = 0;
		long pid = -1;
		memcpy(copy, line, sizeof(line));
		for (tok = strtok_r(copy, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save), c++) {
			if (l == 0 && !strcmp(tok, "PID"))
				col = c;
			else if (l > 0 && c == col)
				pid = strtol(tok, NULL, 10);
		}
		if (l == 0 && col < 0) {
			fclose(f);
			waitpid(child, &status, 0);
			return oci_error("couldn't find PID field in ps output");
		}
		for (int i = 0; i < n && (l == 0 || pid > 0); i++)
			if (l == 0 || pids[i] == pid) {
				fputs(line, stdout);
				break;
			}
	}
	fclose(f);
	waitpid(child, &status, 0);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

int oci_cmd_ps(const struct oci_globals *g, int argc, char **argv)
{
	const char *format = "table", *v, *id;
	char dir[OCI_MAX_PATH];
	bool missing = false;
	long pids[MAX_PIDS];
	int i, n, ret;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if ((v = oci_opt_value(argc, argv, &i, "format", "f", &missing)))
			format = v;
		else if (missing)
			return oci_error("option %s needs a value", argv[i]);
		else
			return oci_error("ps: unknown option %s", argv[i]);
	}
	if (i >= argc)
		return oci_error("ps needs a container id (ps [--format table|json] ID [ps options])");
	id = argv[i];
	if (strcmp(format, "table") && strcmp(format, "json"))
		return oci_error("invalid format option");
	if ((ret = container_cgroup(g, id, dir, sizeof(dir))))
		return ret;
	if ((n = cgroup_pids(dir, pids, MAX_PIDS)) < 0)
		return oci_error("container %s: %s/cgroup.procs: %s", id, dir, strerror(-n));
	if (!strcmp(format, "json")) {
		putchar('[');
		for (int p = 0; p < n; p++)
			printf("%s%ld", p ? "," : "", pids[p]);
		puts("]");
		return 0;
	}
	return ps_table(pids, n, argv + i + 1, argc - i - 1);
}

/* ---- update ---- */

/* An integer field of obj, or absent: 0 or a line. */
static int get_int(json_t *obj, const char *key, const char *name, bool *set, json_int_t *val)
{
	json_t *v = obj ? json_object_get(obj, key) : NULL;

	*set = false;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v))
		return oci_error("%s must be an integer", name);
	*set = true;
	*val = json_integer_value(v);
	return 0;
}

static int apply_resources(const char *dir, json_t *res)
{
	json_t *mem = json_object_get(res, "memory"), *cpu = json_object_get(res, "cpu");
	json_int_t limit = 0, quota = 0, period = 0;
	bool has_limit, has_quota, has_period;
	char val[64], cur[64];
	int ret;

	if ((mem && !json_is_object(mem)) || (cpu && !json_is_object(cpu)))
		return oci_error("resources: memory and cpu must be objects");
	if (get_int(mem, "limit", "memory.limit", &has_limit, &limit) ||
	    get_int(cpu, "quota", "cpu.quota", &has_quota, &quota) ||
	    get_int(cpu, "period", "cpu.period", &has_period, &period))
		return 1;
	if (has_limit && limit != -1 && (limit < (1 << 20) || limit > (INT64_C(1) << 50)))
		return oci_error("memory.limit %" JSON_INTEGER_FORMAT " is out of range (1 MiB to "
				 "1 PiB, or -1: none)", limit);
	if (has_quota && quota != -1 && (quota < 1000 || quota > (INT64_C(1) << 40)))
		return oci_error("cpu.quota %" JSON_INTEGER_FORMAT " is out of range (1000 us and "
				 "up, or -1: none)", quota);
	if (has_period && (period < 1000 || period > 1000000))
		return oci_error("cpu.period %" JSON_INTEGER_FORMAT " is out of range (1000 to "
				 "1000000 us)", period);
	if (has_limit) {
		snprintf(val, sizeof(val), limit == -1 ? "max" : "%" JSON_INTEGER_FORMAT, limit);
		if ((ret = write_small(dir, "memory.max", val)))
			return oci_error("memory.max: %s", strerror(-ret));
	}
	if (has_quota || has_period) {
		/* cpu.max is "QUOTA PERIOD"; keep the half not given. */
		char q[32] = "max";
		long long p = 100000;
		if (read_small(dir, "cpu.max", cur, sizeof(cur)) == 0)
			sscanf(cur, "%31s %lld", q, &p);
		if (has_quota)
			snprintf(q, sizeof(q), quota == -1 ? "max" : "%" JSON_INTEGER_FORMAT, quota);
		if (has_period)
			p = (long long)period;
		snprintf(val, sizeof(val), "%s %lld", q, p);
		if ((ret = write_small(dir, "cpu.max", val)))
			return oci_error("cpu.max '%s': %s", val, strerror(-ret));
	}
	return 0;
}

/* All of stdin (a pipe, as the shim gives it), at most max bytes. */
static int read_stdin(size_t max, char **out, size_t *len)
{
	char *buf = malloc(max + 1);
	size_t got = 0;
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	while (got <= max && (n = read(STDIN_FILENO, buf + got, max + 1 - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = -errno;
			free(buf);
			return err;
		}
		got += (size_t)n;
	}
	if (got > max) {
		free(buf);
		return -EFBIG;
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	return 0;
}

int oci_cmd_update(const struct oci_globals *g, int argc, char **argv)
{
	const char *file = NULL, *v, *id;
	char dir[OCI_MAX_PATH], *buf;
	json_error_t jerr;
	bool missing = false;
	size_t len;
	json_t *res;
	int i, ret;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if ((v = oci_opt_value(argc, argv, &i, "resources", "r", &missing)))
			file = v;
		else if (missing)
			return oci_error("option %s needs a value", argv[i]);
		else
			return oci_error("update: unknown option %s (only --resources FILE|- is "
					 "supported)", argv[i]);
	}
	if (i + 1 != argc)
		return oci_error("update needs exactly one container id (update --resources FILE ID)");
	id = argv[i];
	if (!file)
		return oci_error("update: --resources FILE|- is needed");
	ret = !strcmp(file, "-") ? read_stdin(MAX_RESOURCES_BYTES, &buf, &len)
				 : oci_read_file(file, MAX_RESOURCES_BYTES, &buf, &len);
	if (ret)
		return oci_error("--resources %s: %s", file,
				 ret == -EFBIG ? "larger than 64 KiB" : strerror(-ret));
	res = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	free(buf);
	if (!res || !json_is_object(res)) {
		json_decref(res);
		return oci_error("unable to parse the resources: %s",
				 res ? "not a JSON object" : jerr.text);
	}
	if (!(ret = container_cgroup(g, id, dir, sizeof(dir))))
		ret = apply_resources(dir, res);
	json_decref(res);
	return ret;
}

/* ---- events ---- */

static uint64_t stat_field(const char *dir, const char *file, const char *key)
{
	char buf[4096], *p;
	unsigned long long v = 0;

	if (read_small(dir, file, buf, sizeof(buf)))
		return 0;
	if (!key)
		return strtoull(buf, NULL, 10);
	for (p = buf; (p = strstr(p, key)); p++)
		if ((p == buf || p[-1] == '\n') && p[strlen(key)] == ' ') {
			v = strtoull(p + strlen(key) + 1, NULL, 10);
			break;
		}
	return v;
}

/* One runc-shaped stats event: {"type":"stats","id":ID,"data":{...}}. */
static int print_stats(const char *id, const char *dir)
{
	json_t *ev = json_pack(
		"{s:s, s:s, s:{s:{s:{s:I}}, s:{s:{s:I, s:I}}, s:{s:I}}}", "type", "stats", "id", id,
		"data", "cpu", "usage", "total",
		(json_int_t)(stat_field(dir, "cpu.stat", "usage_usec") * 1000), "memory", "usage",
		"usage", (json_int_t)stat_field(dir, "memory.current", NULL), "max",
		(json_int_t)stat_field(dir, "memory.peak", NULL), "pids", "current",
		(json_int_t)stat_field(dir, "pids.current", NULL));
	char *text = ev ? json_dumps(ev, JSON_COMPACT) : NULL;

	json_decref(ev);
	if (!text)
		return oci_error("events: out of memory");
	puts(text);
	fflush(stdout);
	free(text);
	return 0;
}

int oci_cmd_events(const struct oci_globals *g, int argc, char **argv)
{
	const char *v, *id;
	char dir[OCI_MAX_PATH], *end;
	bool stats = false, missing = false;
	long interval = DEFAULT_INTERVAL_S;
	int i, ret;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--stats") || !strcmp(argv[i], "-stats"))
			stats = true;
		else if ((v = oci_opt_value(argc, argv, &i, "interval", NULL, &missing))) {
			interval = strtol(v, &end, 10);
			if (end == v || (*end && strcmp(end, "s")) || interval < 1 ||
			    interval > MAX_INTERVAL_S)
				return oci_error("--interval %s: whole seconds, 1s to %ds", v,
						 MAX_INTERVAL_S);
		} else if (missing)
			return oci_error("option %s needs a value", argv[i]);
		else
			return oci_error("events: unknown option %s", argv[i]);
	}
	if (i + 1 != argc)
		return oci_error("events needs exactly one container id (events [--stats] ID)");
	id = argv[i];
	if ((ret = container_cgroup(g, id, dir, sizeof(dir))))
		return ret;
	if (stats)
		return print_stats(id, dir);
	/* Until the container stops: its cgroup goes with its VM. */
	while (access(dir, F_OK) == 0) {
		if ((ret = print_stats(id, dir)))
			return ret;
		struct timespec ts = { .tv_sec = interval };
		nanosleep(&ts, NULL);
	}
	return 0;
}
