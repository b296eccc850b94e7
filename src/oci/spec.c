// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * config.json (runtime-spec 1.0), read as hostile input: a size limit, a
 * nesting limit, duplicate keys refused, every field of the wrong type
 * refused with its name, every count and length bounded (the readers are in
 * spec_json.c, the process object in process.c).
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

#include "spec_json.h"

#define MIB (1024ull * 1024ull)

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
		return spec_fail(err, len, "linux.resources must be an object");
	mem = json_object_get(res, "memory");
	if (mem && !json_is_null(mem)) {
		if (!json_is_object(mem))
			return spec_fail(err, len, "linux.resources.memory must be an object");
		v = json_object_get(mem, "limit");
		if (v && !json_is_null(v)) {
			json_int_t lim;
			if (!json_is_integer(v))
				return spec_fail(err, len, "linux.resources.memory.limit must be an integer");
			lim = json_integer_value(v);
			if (lim > 0) {
				uint64_t mib = ((uint64_t)lim + MIB - 1) / MIB;
				if (mib < OCI_MIN_MEMORY_MIB || mib > OCI_MAX_MEMORY_MIB)
					return spec_fail(err, len, "linux.resources.memory.limit %lld: a VM "
							 "has %d to %d MiB", (long long)lim,
							 OCI_MIN_MEMORY_MIB, OCI_MAX_MEMORY_MIB);
				spec->memory_mib = mib;
			} else if (lim != -1 && lim != 0) {
				return spec_fail(err, len, "linux.resources.memory.limit %lld is negative",
						 (long long)lim);
			}
		}
	}
	cpu = json_object_get(res, "cpu");
	if (!cpu || json_is_null(cpu))
		return 0;
	if (!json_is_object(cpu))
		return spec_fail(err, len, "linux.resources.cpu must be an object");
	json_t *quota = json_object_get(cpu, "quota"), *period = json_object_get(cpu, "period");
	json_t *cpus = json_object_get(cpu, "cpus");
	if ((quota && !json_is_null(quota) && !json_is_integer(quota)) ||
	    (period && !json_is_null(period) && !json_is_integer(period)))
		return spec_fail(err, len, "linux.resources.cpu.quota and .period must be integers");
	if (cpus && !json_is_null(cpus) && !json_is_string(cpus))
		return spec_fail(err, len, "linux.resources.cpu.cpus must be a string");
	if (json_is_integer(quota) && json_integer_value(quota) > 0) {
		json_int_t q = json_integer_value(quota);
		json_int_t per = json_is_integer(period) ? json_integer_value(period) : 100000;
		if (per <= 0)
			return spec_fail(err, len, "linux.resources.cpu.period must be positive");
		json_int_t n = q / per + (q % per != 0);
		if (n > OCI_MAX_VCPUS)
			return spec_fail(err, len, "linux.resources.cpu: quota/period asks for %lld CPUs "
					 "(a VM has at most %d)", (long long)n, OCI_MAX_VCPUS);
		spec->vcpus = (unsigned int)n;
	} else if (json_is_string(cpus) && json_string_length(cpus) > 0) {
		int n = json_string_length(cpus) > 1024 ? -1 : oci_cpuset_count(json_string_value(cpus));
		if (n <= 0)
			return spec_fail(err, len, "linux.resources.cpu.cpus '%.64s' is not a CPU list",
					 json_string_value(cpus));
		if (n > OCI_MAX_VCPUS)
			return spec_fail(err, len, "linux.resources.cpu.cpus names %d CPUs (a VM has at "
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
		return spec_fail(err, len, "mounts[%zu] must be an object", i);
	snprintf(name, sizeof(name), "mounts[%zu].destination", i);
	if (spec_get_string(m, "destination", name, true, OCI_MAX_PATH - 1, &dest, err, len))
		goto out;
	snprintf(name, sizeof(name), "mounts[%zu].type", i);
	if (spec_get_string(m, "type", name, false, 64, &type, err, len))
		goto out;
	snprintf(name, sizeof(name), "mounts[%zu].source", i);
	if (spec_get_string(m, "source", name, false, OCI_MAX_PATH - 1, &source, err, len))
		goto out;
	snprintf(name, sizeof(name), "mounts[%zu].options", i);
	if (spec_get_strv(m, "options", name, 64, &opts, err, len))
		goto out;
	if (!spec_clean_abs_path(dest) || !strcmp(dest, "/")) {
		spec_fail(err, len, "mounts[%zu].destination '%s' must be absolute, not '/', without '.' "
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
		spec_fail(err, len, "mounts[%zu]: %s at %s is not supported (the guest mounts proc, sysfs, "
			  "devpts, mqueue, cgroup and tmpfs at /dev, /dev/shm, /tmp, /run itself; "
			  "bind mounts of directories are shared)", i, type ? type : "a mount without type",
			  dest);
		goto out;
	}
	if (!source) {
		spec_fail(err, len, "mounts[%zu]: a bind mount needs a source", i);
		goto out;
	}
	if (spec->nr_binds == OCI_MAX_BIND_MOUNTS) {
		spec_fail(err, len, "mounts[%zu]: at most %d bind mounts are supported", i,
			  OCI_MAX_BIND_MOUNTS);
		goto out;
	}
	struct oci_mount *b = &spec->binds[spec->nr_binds];
	if (spec_bundle_path(bundle, source, "mount source", &b->source, err, len))
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
	spec_free_strv(opts);
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
		return spec_fail(err, len, "mounts must be an array");
	if (json_array_size(mounts) > OCI_MAX_MOUNTS)
		return spec_fail(err, len, "mounts has %zu entries (at most %d)", json_array_size(mounts),
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
		return spec_fail(err, len, "root is missing");
	if (!json_is_object(r))
		return spec_fail(err, len, "root must be an object");
	if (spec_get_string(r, "path", "root.path", true, OCI_MAX_PATH - 1, &path, err, len) ||
	    spec_get_bool(r, "readonly", "root.readonly", &spec->root_readonly, err, len)) {
		free(path);
		return -1;
	}
	ret = spec_bundle_path(bundle, path, "root.path", &spec->root_path, err, len);
	free(path);
	return ret;
}

static int parse_annotations(json_t *root, struct oci_spec *spec, char *err, size_t len)
{
	json_t *a = json_object_get(root, "annotations"), *v;
	const char *key;

	if (!a || json_is_null(a)) {
		spec->annotations = json_object();
		return spec->annotations ? 0 : spec_fail(err, len, "out of memory");
	}
	if (!json_is_object(a))
		return spec_fail(err, len, "annotations must be an object");
	json_object_foreach(a, key, v)
		if (!json_is_string(v))
			return spec_fail(err, len, "annotations['%.64s'] must be a string", key);
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
		return spec_fail(err, len, "hooks must be an object");
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		list = json_object_get(hooks, kinds[k]);
		if (!list || json_is_null(list))
			continue;
		if (!json_is_array(list))
			return spec_fail(err, len, "hooks.%s must be an array", kinds[k]);
		json_array_foreach(list, i, h) {
			json_t *path = json_object_get(h, "path"), *args = json_object_get(h, "args");
			json_t *arg0 = json_is_array(args) ? json_array_get(args, 0) : NULL;
			if (!json_is_object(h) || !json_is_string(path))
				return spec_fail(err, len, "hooks.%s[%zu].path must be a string", kinds[k], i);
			if (k < 2 && json_is_string(arg0) &&
			    !strcmp(json_string_value(arg0), "libnetwork-setkey"))
				continue;
			return spec_fail(err, len, "hooks.%s[%zu] (%.64s): hooks are not supported (they "
					 "would run on the host, not in the container's VM)", kinds[k], i,
					 json_string_value(path));
		}
	}
	return 0;
}

/*
 * linux.namespaces: each an object with a known type, at most once, and
 * an optional absolute path. The network one decides the VM's network:
 * with a path, the supervisor joins that namespace and the VM gets user
 * networking (passt) there, so its traffic leaves through that namespace's
 * interfaces as a runc container's would; without one (runc makes a new,
 * empty namespace) the supervisor gets a new, empty one and the VM no NIC:
 * it has only its own lo, as runc's container has only lo. The others are
 * the VM's own, a path included (not joined).
 */
static int parse_namespaces(json_t *linux_obj, struct oci_spec *spec, char *err, size_t len)
{
	static const char *const types[] = { "pid", "network", "mount", "ipc", "uts", "user",
					     "cgroup", "time" };
	json_t *list = json_object_get(linux_obj, "namespaces"), *ns;
	unsigned int seen = 0;
	size_t i;

	if (!list || json_is_null(list))
		return 0;
	if (!json_is_array(list))
		return spec_fail(err, len, "linux.namespaces must be an array");
	json_array_foreach(list, i, ns) {
		json_t *type = json_object_get(ns, "type");
		char name[48], *path = NULL;
		size_t t = 0;

		if (!json_is_object(ns) || !json_is_string(type))
			return spec_fail(err, len, "linux.namespaces[%zu].type must be a string", i);
		while (t < sizeof(types) / sizeof(types[0]) && strcmp(types[t], json_string_value(type)))
			t++;
		if (t == sizeof(types) / sizeof(types[0]))
			return spec_fail(err, len, "linux.namespaces[%zu]: namespace type '%.32s' does "
					 "not exist", i, json_string_value(type));
		if (seen & (1u << t))
			return spec_fail(err, len, "linux.namespaces[%zu]: malformed spec file: "
					 "duplicated ns \"%s\"", i, types[t]);
		seen |= 1u << t;
		snprintf(name, sizeof(name), "linux.namespaces[%zu].path", i);
		if (spec_get_string(ns, "path", name, false, OCI_MAX_PATH - 1, &path, err, len))
			return -1;
		if (path && !path[0]) { /* runc's "no path" too */
			free(path);
			path = NULL;
		}
		if (path && !spec_clean_abs_path(path)) {
			spec_fail(err, len, "%s '%.64s' must be absolute, without . or ..", name, path);
			free(path);
			return -1;
		}
		if (strcmp(types[t], "network")) {
			free(path);
			continue;
		}
		spec->netns_path = path;
		spec->netns_new = !path;
	}
	return 0;
}

/*
 * What the other fields Docker and containerd send get, the VM being the
 * container (its own kernel, devices, /proc and /sys):
 *   linux.namespaces       the network one as parse_namespaces says; the
 *                          others are the VM's own, one with a path (a
 *                          pod's shared IPC, --ipc container:X) is not
 *                          joined
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
		return spec_fail(err, errlen, "config.json: larger than %u bytes", OCI_MAX_CONFIG_BYTES);
	if (!(root = spec_load(buf, len, "config.json", err, errlen)))
		return -1;
	if (spec_get_string(root, "ociVersion", "ociVersion", true, 64, &spec->oci_version, err, errlen))
		goto out;
	if (strncmp(spec->oci_version, "1.", 2)) {
		spec_fail(err, errlen, "ociVersion '%s': only runtime-spec 1.x is supported",
			  spec->oci_version);
		goto out;
	}
	if (!json_object_get(root, "process")) {
		spec_fail(err, errlen, "process is missing");
		goto out;
	}
	if (spec_parse_process(json_object_get(root, "process"), "process", &spec->process, err,
			       errlen))
		goto out;
	spec->process.container = true;
	if (parse_root(root, bundle, spec, err, errlen) ||
	    spec_get_string(root, "hostname", "hostname", false, 64, &spec->hostname, err, errlen) ||
	    parse_mounts(root, bundle, spec, err, errlen) ||
	    parse_annotations(root, spec, err, errlen) || check_hooks(root, err, errlen))
		goto out;
	if (spec->hostname && !spec->hostname[0]) {
		free(spec->hostname);
		spec->hostname = NULL;
	}
	linux_obj = json_object_get(root, "linux");
	if (linux_obj && !json_is_null(linux_obj) && !json_is_object(linux_obj)) {
		spec_fail(err, errlen, "linux must be an object");
		goto out;
	}
	if (linux_obj && (parse_resources(linux_obj, spec, err, errlen) ||
			  parse_namespaces(linux_obj, spec, err, errlen)))
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
	free(spec->netns_path);
	json_decref(spec->annotations);
	memset(spec, 0, sizeof(*spec));
}
