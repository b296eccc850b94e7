// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Description: alcatraz-oci's hostile inputs: config.json and process.json
 * (good ones mapped to the VM, bad ones refused with the field's name),
 * container ids, state.json written atomically and read back checked,
 * signal names, CPU lists, linux.namespaces and the network namespace file.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oci.h"
#include "check_main.h"

static char err[512];

static int parse(const char *json, struct oci_spec *spec)
{
	err[0] = '\0';
	return oci_spec_parse(json, strlen(json), "/b", spec, err, sizeof(err));
}

/* Refused, with want in the one-line reason. */
static void refused(const char *json, const char *want)
{
	struct oci_spec spec;

	ck_assert_msg(parse(json, &spec) == -1, "accepted: %s", json);
	ck_assert_msg(strstr(err, want), "reason '%s' lacks '%s'", err, want);
	ck_assert_msg(!strchr(err, '\n'), "reason has a newline: %s", err);
}

#define MIN_GOOD "\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"}"

START_TEST(good_config_maps_to_vm)
{
	struct oci_spec s;
	const char *json =
		"{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"sh\",\"-c\",\"echo hi\"],"
		"\"env\":[\"PATH=/bin\",\"A=b=c\"],\"cwd\":\"/work\",\"terminal\":false,"
		"\"user\":{\"uid\":0,\"gid\":0},\"unknownField\":{\"x\":1}},"
		"\"root\":{\"path\":\"rootfs\",\"readonly\":true},\"hostname\":\"c1\","
		"\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
		"{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"},"
		"{\"destination\":\"/data\",\"type\":\"bind\",\"source\":\"/srv/data\",\"options\":[\"rbind\",\"ro\"]},"
		"{\"destination\":\"/cache\",\"source\":\"cache\",\"options\":[\"bind\"]}],"
		"\"linux\":{\"resources\":{\"memory\":{\"limit\":268435456},"
		"\"cpu\":{\"quota\":150000,\"period\":100000}},\"namespaces\":[{\"type\":\"pid\"}]},"
		"\"annotations\":{\"io.kubernetes.cri.container-type\":\"container\"}}";

	ck_assert_msg(parse(json, &s) == 0, "%s", err);
	ck_assert_str_eq(s.process.args[0], "sh");
	ck_assert_str_eq(s.process.args[2], "echo hi");
	ck_assert_ptr_null(s.process.args[3]);
	ck_assert_str_eq(s.process.env[1], "A=b=c");
	ck_assert_str_eq(s.process.cwd, "/work");
	ck_assert_str_eq(s.root_path, "/b/rootfs");
	ck_assert(s.root_readonly);
	ck_assert_str_eq(s.hostname, "c1");
	ck_assert_uint_eq(s.nr_binds, 2);
	ck_assert_str_eq(s.binds[0].source, "/srv/data");
	ck_assert_str_eq(s.binds[0].destination, "/data");
	ck_assert(s.binds[0].readonly);
	ck_assert_str_eq(s.binds[1].source, "/b/cache");
	ck_assert(!s.binds[1].readonly);
	ck_assert_uint_eq(s.memory_mib, 256);
	ck_assert_uint_eq(s.vcpus, 2);
	ck_assert_str_eq(json_string_value(json_object_get(s.annotations,
							   "io.kubernetes.cri.container-type")),
			 "container");
	oci_spec_free(&s);

	/* Defaults: cwd "/", no env, default size; a memory limit of -1 is none. */
	ck_assert_msg(parse("{" MIN_GOOD ",\"process\":{\"args\":[\"true\"]},\"linux\":{\"resources\":"
			    "{\"memory\":{\"limit\":-1},\"cpu\":{\"cpus\":\"0-2,5\"}}}}", &s) == 0,
		      "%s", err);
	ck_assert_str_eq(s.process.cwd, "/");
	ck_assert_ptr_null(s.process.env[0]);
	ck_assert_uint_eq(s.memory_mib, 0);
	ck_assert_uint_eq(s.vcpus, 4);
	ck_assert(json_object_size(s.annotations) == 0);
	oci_spec_free(&s);
}
END_TEST

START_TEST(malformed_and_mistyped)
{
	refused("", "malformed JSON");
	refused("{\"ociVersion\":\"1.0.2\",", "malformed JSON");
	refused("[1,2]", "not a JSON object");
	refused("{\"ociVersion\":\"1.0.2\",\"ociVersion\":\"1.0.2\"}", "malformed JSON");
	refused("{\"root\":{\"path\":\"r\"},\"process\":{\"args\":[\"a\"]}}", "ociVersion is missing");
	refused("{\"ociVersion\":2}", "ociVersion must be a string");
	refused("{\"ociVersion\":\"0.9\"}", "runtime-spec 1.x");
	refused("{" MIN_GOOD "}", "process is missing");
	refused("{" MIN_GOOD ",\"process\":[]}", "process must be an object");
	refused("{" MIN_GOOD ",\"process\":{}}", "process.args is missing or empty");
	refused("{" MIN_GOOD ",\"process\":{\"args\":\"sh\"}}", "process.args must be an array");
	refused("{" MIN_GOOD ",\"process\":{\"args\":[\"sh\",3]}}", "process.args[1] must be a string");
	refused("{" MIN_GOOD ",\"process\":{\"args\":[\"\"]}}", "process.args[0] is empty");
	refused("{" MIN_GOOD ",\"process\":{\"args\":[\"a\\u0000b\"]}}", "malformed JSON");
	refused("{" MIN_GOOD ",\"process\":{\"args\":[\"a\"],\"env\":[\"NOVALUE\"]}}", "not KEY=VALUE");
	refused("{" MIN_GOOD ",\"process\":{\"args\":[\"a\"],\"env\":[\"=x\"]}}", "not KEY=VALUE");
	refused("{" MIN_GOOD ",\"process\":{\"args\":[\"a\"],\"cwd\":\"rel\"}}", "process.cwd 'rel'");
	refused("{" MIN_GOOD ",\"process\":{\"args\":[\"a\"],\"cwd\":\"/a/../..\"}}", "process.cwd");
	refused("{" MIN_GOOD ",\"process\":{\"args\":[\"a\"],\"terminal\":\"yes\"}}",
		"process.terminal must be true or false");
	refused("{" MIN_GOOD ",\"process\":{\"args\":[\"a\"],\"terminal\":true,"
		"\"consoleSize\":{\"height\":-1,\"width\":80}}}", "process.consoleSize must be");
	refused("{" MIN_GOOD ",\"process\":{\"args\":[\"a\"],\"consoleSize\":{\"height\":24,"
		"\"width\":65536}}}", "process.consoleSize must be");
	refused("{" MIN_GOOD ",\"process\":{\"args\":[\"a\"],\"consoleSize\":[24,80]}}",
		"process.consoleSize must be");
	refused("{" MIN_GOOD ",\"process\":{\"args\":[\"a\"],\"user\":{\"uid\":-1}}}",
		"uid and gid are 0 to");
	refused("{" MIN_GOOD ",\"process\":{\"args\":[\"a\"],\"user\":{\"uid\":4294967296}}}",
		"uid and gid are 0 to");
	refused("{" MIN_GOOD ",\"process\":{\"args\":[\"a\"],\"user\":{\"username\":\"x\"}}}",
		"username is not supported");
	refused("{" MIN_GOOD ",\"process\":{\"args\":[\"a\"],\"user\":{\"additionalGids\":[-1]}}}",
		"additionalGids[0] must be 0 to");
	refused("{" MIN_GOOD ",\"process\":{\"args\":[\"a\"],\"user\":{\"additionalGids\":3}}}",
		"must be an array of at most 32");
	refused("{" MIN_GOOD ",\"process\":{\"args\":[\"a\"],\"rlimits\":[{\"type\":\"RLIMIT_NOPE\","
		"\"soft\":1,\"hard\":1}]}}", "rlimits[0].type is not an RLIMIT_ name");
	refused("{" MIN_GOOD ",\"process\":{\"args\":[\"a\"],\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\","
		"\"soft\":2,\"hard\":1}]}}", "soft above hard");
	refused("{" MIN_GOOD ",\"process\":{\"args\":[\"a\"],\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\","
		"\"soft\":-1,\"hard\":1}]}}", "non-negative");
	refused("{" MIN_GOOD ",\"process\":{\"args\":[\"a\"],\"rlimits\":[{\"type\":\"RLIMIT_CORE\","
		"\"soft\":0,\"hard\":0},{\"type\":\"RLIMIT_CORE\",\"soft\":0,\"hard\":0}]}}",
		"RLIMIT_CORE given twice");
	refused("{" MIN_GOOD ",\"process\":{\"args\":[\"a\"],\"user\":{\"uid\":\"0\"}}}",
		"must be integers");
}
END_TEST

#define GOOD_PROC "\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"a\"]}"

START_TEST(root_mounts_resources)
{
	refused("{" GOOD_PROC "}", "root is missing");
	refused("{" GOOD_PROC ",\"root\":\"/r\"}", "root must be an object");
	refused("{" GOOD_PROC ",\"root\":{}}", "root.path is missing");
	refused("{" GOOD_PROC ",\"root\":{\"path\":\"\"}}", "root.path is empty");
	refused("{" GOOD_PROC ",\"root\":{\"path\":\"../etc\"}}", "root.path '../etc'");
	refused("{" GOOD_PROC ",\"root\":{\"path\":\"/r\",\"readonly\":1}}",
		"root.readonly must be true or false");
	refused("{" MIN_GOOD ",\"process\":{\"args\":[\"a\"]},\"mounts\":{}}", "mounts must be an array");
	refused("{" MIN_GOOD ",\"process\":{\"args\":[\"a\"]},\"mounts\":[{\"type\":\"bind\"}]}",
		"mounts[0].destination is missing");
	refused("{" MIN_GOOD ",\"process\":{\"args\":[\"a\"]},\"mounts\":[{\"destination\":\"x\","
		"\"type\":\"bind\",\"source\":\"/s\"}]}", "must be absolute");
	refused("{" MIN_GOOD ",\"process\":{\"args\":[\"a\"]},\"mounts\":[{\"destination\":\"/\","
		"\"type\":\"bind\",\"source\":\"/s\"}]}", "not '/'");
	refused("{" MIN_GOOD ",\"process\":{\"args\":[\"a\"]},\"mounts\":[{\"destination\":\"/x\","
		"\"type\":\"bind\"}]}", "needs a source");
	refused("{" MIN_GOOD ",\"process\":{\"args\":[\"a\"]},\"mounts\":[{\"destination\":\"/x\","
		"\"type\":\"nfs\",\"source\":\"h:/e\"}]}", "nfs at /x is not supported");
	refused("{" MIN_GOOD ",\"process\":{\"args\":[\"a\"]},\"mounts\":[{\"destination\":\"/data\","
		"\"type\":\"tmpfs\"}]}", "tmpfs at /data is not supported");
	/* Directories or files is create's to tell (it looks at the host);
	 * the parser takes at most OCI_MAX_BIND_MOUNTS of either. */
	char many[4096];
	int at = snprintf(many, sizeof(many), "{" MIN_GOOD ",\"process\":{\"args\":[\"a\"]},"
			  "\"mounts\":[");
	for (int i = 0; i <= OCI_MAX_BIND_MOUNTS; i++)
		at += snprintf(many + at, sizeof(many) - (size_t)at, "%s{\"destination\":\"/m%d\","
			       "\"type\":\"bind\",\"source\":\"/s\"}", i ? "," : "", i);
	snprintf(many + at, sizeof(many) - (size_t)at, "]}");
	refused(many, "at most 16 bind mounts");
	refused("{" MIN_GOOD ",\"process\":{\"args\":[\"a\"]},\"mounts\":[{\"destination\":\"/x\","
		"\"type\":\"bind\",\"source\":\"/s\",\"options\":[1]}]}", "mounts[0].options[0]");
	refused("{" MIN_GOOD ",\"process\":{\"args\":[\"a\"]},\"linux\":[]}", "linux must be an object");
	refused("{" MIN_GOOD ",\"process\":{\"args\":[\"a\"]},\"linux\":{\"resources\":{\"memory\":"
		"{\"limit\":\"1G\"}}}}", "memory.limit must be an integer");
	refused("{" MIN_GOOD ",\"process\":{\"args\":[\"a\"]},\"linux\":{\"resources\":{\"memory\":"
		"{\"limit\":9223372036854775807}}}}", "a VM has 2 to 3072 MiB");
	refused("{" MIN_GOOD ",\"process\":{\"args\":[\"a\"]},\"linux\":{\"resources\":{\"memory\":"
		"{\"limit\":1048576}}}}", "a VM has 2 to 3072 MiB");
	refused("{" MIN_GOOD ",\"process\":{\"args\":[\"a\"]},\"linux\":{\"resources\":{\"memory\":"
		"{\"limit\":-5}}}}", "negative");
	refused("{" MIN_GOOD ",\"process\":{\"args\":[\"a\"]},\"linux\":{\"resources\":{\"cpu\":"
		"{\"quota\":100000000,\"period\":1000}}}}", "at most 64");
	refused("{" MIN_GOOD ",\"process\":{\"args\":[\"a\"]},\"linux\":{\"resources\":{\"cpu\":"
		"{\"quota\":1000,\"period\":0}}}}", "period must be positive");
	refused("{" MIN_GOOD ",\"process\":{\"args\":[\"a\"]},\"linux\":{\"resources\":{\"cpu\":"
		"{\"cpus\":\"3-1\"}}}}", "not a CPU list");
	refused("{" MIN_GOOD ",\"process\":{\"args\":[\"a\"]},\"annotations\":{\"a\":1}}",
		"annotations['a'] must be a string");
}
END_TEST

START_TEST(sizes_and_nesting)
{
	struct oci_spec s;
	size_t n = OCI_MAX_CONFIG_BYTES + 1;
	char *big = malloc(n + 1);

	memset(big, ' ', n);
	big[0] = '{';
	big[n - 1] = '}';
	big[n] = '\0';
	ck_assert_int_eq(oci_spec_parse(big, n, "/b", &s, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "larger than"), "%s", err);
	free(big);

	/* 40 levels of arrays inside a known field: refused before use. */
	char deep[512] = "{" MIN_GOOD ",\"process\":{\"args\":[\"a\"]},\"x\":";
	for (int i = 0; i < 40; i++)
		strcat(deep, "[");
	for (int i = 0; i < 40; i++)
		strcat(deep, "]");
	strcat(deep, "}");
	refused(deep, "nested deeper than 32");

	/* More arguments than allowed, and one longer than allowed. */
	size_t cap = 16 * (OCI_MAX_ARGS + 2) + 256;
	char *many = malloc(cap);
	strcpy(many, "{" MIN_GOOD ",\"process\":{\"args\":[");
	for (int i = 0; i <= OCI_MAX_ARGS; i++)
		strcat(many, i ? ",\"a\"" : "\"a\"");
	strcat(many, "]}}");
	refused(many, "1025 entries");
	free(many);
	char *longarg = malloc(OCI_MAX_ARG_BYTES + 128);
	strcpy(longarg, "{" MIN_GOOD ",\"process\":{\"args\":[\"");
	size_t at = strlen(longarg);
	memset(longarg + at, 'x', OCI_MAX_ARG_BYTES + 1);
	strcpy(longarg + at + OCI_MAX_ARG_BYTES + 1, "\"]}}");
	refused(longarg, "process.args[0] is longer than");
	free(longarg);
}
END_TEST

/* What needs the guest helper goes through it; a plain process does not. */
START_TEST(launch_argv)
{
	struct oci_spec s;
	char **argv;

	ck_assert_msg(parse("{" MIN_GOOD ",\"hostname\":\"web\",\"process\":{\"args\":[\"sh\","
			    "\"-c\",\"id\"],\"user\":{\"uid\":1000,\"gid\":100,\"additionalGids\":[5,6]},"
			    "\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":512,\"hard\":1024}]}}",
			    &s) == 0, "%s", err);
	ck_assert_uint_eq(s.process.uid, 1000);
	ck_assert_uint_eq(s.process.gid, 100);
	argv = oci_launch_argv(&s.process, s.hostname);
	const char *const want[] = { OCI_GUEST_HELPER_DIR "/" OCI_PAUSE_NAME, "--hostname", "web",
				     "--fork", "--user", "1000:100", "--groups", "5,6", "--rlimit",
				     "7:512:1024", "--", "sh", "-c", "id", NULL };
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (want[i])
			ck_assert_str_eq(argv[i], want[i]);
		else
			ck_assert_ptr_null(argv[i]);
	free(argv);
	argv = oci_launch_argv(&s.process, NULL);
	ck_assert_str_eq(argv[1], "--fork");
	ck_assert_str_eq(argv[2], "--user");
	ck_assert_str_eq(argv[8], "--");
	free(argv);
	oci_spec_free(&s);
	/* The container's process always goes through the helper (--fork: a
	 * signal reaches it alone, as runc's kill), an exec's only when it
	 * needs it. */
	ck_assert_msg(parse("{" MIN_GOOD ",\"hostname\":\"\",\"process\":{\"args\":[\"true\"]}}",
			    &s) == 0, "%s", err);
	ck_assert_ptr_null(s.hostname);
	argv = oci_launch_argv(&s.process, s.hostname);
	const char *const want_fork[] = { OCI_GUEST_HELPER_DIR "/" OCI_PAUSE_NAME, "--fork", "--",
					  "true", NULL };
	for (size_t i = 0; i < sizeof(want_fork) / sizeof(want_fork[0]); i++)
		if (want_fork[i])
			ck_assert_str_eq(argv[i], want_fork[i]);
		else
			ck_assert_ptr_null(argv[i]);
	free(argv);
	oci_spec_free(&s);
	struct oci_process ep;
	ck_assert_int_eq(oci_process_parse("{\"args\":[\"true\"]}", 17, &ep, err, sizeof(err)), 0);
	ck_assert_ptr_eq(oci_launch_argv(&ep, NULL), ep.args);
	oci_process_free(&ep);
	/* A terminal goes through the helper, with process.consoleSize. */
	ck_assert_msg(parse("{" MIN_GOOD ",\"process\":{\"args\":[\"sh\"],\"terminal\":true,"
			    "\"consoleSize\":{\"height\":30,\"width\":100}}}", &s) == 0, "%s", err);
	argv = oci_launch_argv(&s.process, NULL);
	ck_assert_str_eq(argv[1], "--tty");
	ck_assert_str_eq(argv[2], "30:100");
	ck_assert_str_eq(argv[3], "--");
	ck_assert_str_eq(argv[4], "sh");
	ck_assert_ptr_null(argv[5]);
	free(argv);
	oci_spec_free(&s);
}
END_TEST

/* What dockerd 20.10 writes for docker run --network none -v /srv:/data:ro
 * (its fields for a container sharing the host's kernel ignored, its
 * libnetwork hook skipped); any other hook refused. */
START_TEST(docker_config)
{
	struct oci_spec s;
	const char *json =
		"{\"ociVersion\":\"1.0.2-dev\",\"process\":{\"user\":{\"uid\":0,\"gid\":0},"
		"\"args\":[\"sh\"],\"env\":[\"PATH=/bin\",\"HOSTNAME=0123456789ab\"],\"cwd\":\"/tmp\","
		"\"capabilities\":{\"bounding\":[\"CAP_CHOWN\"],\"effective\":[\"CAP_CHOWN\"]},"
		"\"apparmorProfile\":\"docker-default\",\"oomScoreAdj\":0},"
		"\"root\":{\"path\":\"/var/lib/docker/overlay2/x/merged\"},\"hostname\":\"0123456789ab\","
		"\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\","
		"\"options\":[\"nosuid\",\"noexec\",\"nodev\"]},"
		"{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"nosuid\","
		"\"strictatime\",\"mode=755\",\"size=65536k\"]},"
		"{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\"},"
		"{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\",\"options\":[\"ro\"]},"
		"{\"destination\":\"/sys/fs/cgroup\",\"type\":\"cgroup\",\"source\":\"cgroup\","
		"\"options\":[\"ro\",\"nosuid\",\"noexec\",\"nodev\"]},"
		"{\"destination\":\"/dev/mqueue\",\"type\":\"mqueue\",\"source\":\"mqueue\"},"
		"{\"destination\":\"/data\",\"type\":\"bind\",\"source\":\"/srv\",\"options\":[\"rbind\","
		"\"ro\",\"rprivate\"]},"
		"{\"destination\":\"/etc/resolv.conf\",\"type\":\"bind\",\"source\":"
		"\"/var/lib/docker/containers/x/resolv.conf\",\"options\":[\"rbind\",\"rprivate\"]},"
		"{\"destination\":\"/etc/hostname\",\"type\":\"bind\",\"source\":"
		"\"/var/lib/docker/containers/x/hostname\",\"options\":[\"rbind\",\"rprivate\"]},"
		"{\"destination\":\"/etc/hosts\",\"type\":\"bind\",\"source\":"
		"\"/var/lib/docker/containers/x/hosts\",\"options\":[\"rbind\",\"rprivate\"]},"
		"{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"shm\",\"options\":["
		"\"nosuid\",\"noexec\",\"nodev\",\"mode=1777\",\"size=67108864\"]}],"
		"\"hooks\":{\"prestart\":[{\"path\":\"/proc/42/exe\",\"args\":[\"libnetwork-setkey\","
		"\"-exec-root=/var/run/docker\",\"x\",\"abcdef\"]}]},"
		"\"linux\":{\"sysctl\":{\"net.ipv4.ip_unprivileged_port_start\":\"0\"},"
		"\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}],\"memory\":{},"
		"\"cpu\":{\"shares\":0},\"blockIO\":{}},\"cgroupsPath\":\"system.slice:docker:x\","
		"\"namespaces\":[{\"type\":\"mount\"},{\"type\":\"network\"},{\"type\":\"pid\"}],"
		"\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\"},"
		"\"maskedPaths\":[\"/proc/kcore\"],\"readonlyPaths\":[\"/proc/sys\"]}}";

	ck_assert_msg(parse(json, &s) == 0, "%s", err);
	ck_assert(s.process.container);
	ck_assert_uint_eq(s.nr_binds, 4);
	ck_assert_str_eq(s.binds[0].destination, "/data");
	ck_assert(s.binds[0].readonly);
	ck_assert_str_eq(s.binds[3].destination, "/etc/hosts");
	ck_assert(!s.binds[3].readonly);
	ck_assert_str_eq(s.hostname, "0123456789ab");
	ck_assert_uint_eq(s.memory_mib, 0);
	ck_assert_uint_eq(s.vcpus, 0);
	oci_spec_free(&s);

	refused("{" MIN_GOOD ",\"process\":{\"args\":[\"a\"]},\"hooks\":{\"prestart\":[{\"path\":"
		"\"/usr/bin/nvidia-container-runtime-hook\",\"args\":[\"hook\",\"prestart\"]}]}}",
		"hooks.prestart[0] (/usr/bin/nvidia-container-runtime-hook): hooks are not supported");
	/* Docker's hook only where Docker puts it. */
	refused("{" MIN_GOOD ",\"process\":{\"args\":[\"a\"]},\"hooks\":{\"poststop\":[{\"path\":"
		"\"/x\",\"args\":[\"libnetwork-setkey\"]}]}}", "hooks.poststop[0] (/x)");
	refused("{" MIN_GOOD ",\"process\":{\"args\":[\"a\"]},\"hooks\":{\"createRuntime\":[{}]}}",
		"hooks.createRuntime[0].path must be a string");
	refused("{" MIN_GOOD ",\"process\":{\"args\":[\"a\"]},\"hooks\":{\"poststart\":{}}}",
		"hooks.poststart must be an array");
	refused("{" MIN_GOOD ",\"process\":{\"args\":[\"a\"]},\"hooks\":[]}", "hooks must be an object");
}
END_TEST

START_TEST(process_json)
{
	struct oci_process p;
	const char *good = "{\"args\":[\"cat\",\"/etc/x\"],\"env\":[\"A=1\"],\"cwd\":\"/tmp\"}";

	ck_assert_int_eq(oci_process_parse(good, strlen(good), &p, err, sizeof(err)), 0);
	ck_assert_str_eq(p.args[1], "/etc/x");
	ck_assert_str_eq(p.cwd, "/tmp");
	oci_process_free(&p);
	ck_assert_int_eq(oci_process_parse("{\"args\":[]}", 11, &p, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "process.args is missing or empty"), "%s", err);
	ck_assert_int_eq(oci_process_parse("{\"args\":[\"a\"],\"env\":[1]}", 24, &p, err,
					   sizeof(err)), -1);
	ck_assert_msg(strstr(err, "process.env[0] must be a string"), "%s", err);
}
END_TEST

START_TEST(ids)
{
	char longid[OCI_MAX_ID + 2];

	ck_assert_int_eq(oci_id_check("abc"), 0);
	ck_assert_int_eq(oci_id_check("0123456789abcdef_x-y.z+w"), 0);
	ck_assert_int_eq(oci_id_check(""), -EINVAL);
	ck_assert_int_eq(oci_id_check("."), -EINVAL);
	ck_assert_int_eq(oci_id_check(".."), -EINVAL);
	ck_assert_int_eq(oci_id_check("a/b"), -EINVAL);
	ck_assert_int_eq(oci_id_check("../x"), -EINVAL);
	ck_assert_int_eq(oci_id_check("a b"), -EINVAL);
	ck_assert_int_eq(oci_id_check("a\nb"), -EINVAL);
	memset(longid, 'a', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	ck_assert_int_eq(oci_id_check(longid), -EINVAL);
	longid[OCI_MAX_ID] = '\0';
	ck_assert_int_eq(oci_id_check(longid), 0);
}
END_TEST

START_TEST(signals_and_cpus)
{
	ck_assert_int_eq(oci_signal_parse("KILL"), SIGKILL);
	ck_assert_int_eq(oci_signal_parse("SIGTERM"), SIGTERM);
	ck_assert_int_eq(oci_signal_parse("sigusr1"), SIGUSR1);
	ck_assert_int_eq(oci_signal_parse("15"), 15);
	ck_assert_int_eq(oci_signal_parse("64"), 64);
	ck_assert_int_eq(oci_signal_parse("0"), -1);
	ck_assert_int_eq(oci_signal_parse("65"), -1);
	ck_assert_int_eq(oci_signal_parse("9x"), -1);
	ck_assert_int_eq(oci_signal_parse("99999999999999999999"), -1);
	ck_assert_int_eq(oci_signal_parse("NOPE"), -1);
	ck_assert_int_eq(oci_cpuset_count("0"), 1);
	ck_assert_int_eq(oci_cpuset_count("0-3,5,5,2"), 5);
	ck_assert_int_eq(oci_cpuset_count(""), -1);
	ck_assert_int_eq(oci_cpuset_count("1,"), -1);
	ck_assert_int_eq(oci_cpuset_count("-1"), -1);
	ck_assert_int_eq(oci_cpuset_count("0-99999"), -1);
}
END_TEST

START_TEST(state_json_round_trip)
{
	char dir[] = "/tmp/test_oci.XXXXXX";
	struct oci_state st = { .pid = 4242 }, back;
	int dirfd, fds = count_fds();

	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(oci_state_dir_make(dir, "c1"), 0);
	ck_assert_int_eq(oci_state_dir_make(dir, "c1"), -EEXIST);
	dirfd = oci_state_dir_open(dir, "c1");
	ck_assert_int_ge(dirfd, 0);
	ck_assert_int_eq(oci_state_dir_open(dir, "c2"), -ENOENT);
	strcpy(st.id, "c1");
	strcpy(st.bundle, "/b \"quoted\"");
	strcpy(st.rootfs, "/b/rootfs");
	oci_now_rfc3339(st.created, sizeof(st.created));
	st.annotations = json_pack("{s:s}", "k", "v");
	ck_assert_int_eq(oci_state_write(dirfd, &st), 0);
	ck_assert_int_eq(faccessat(dirfd, "state.json.tmp", F_OK, 0), -1);
	ck_assert_int_eq(oci_state_read(dirfd, &back, err, sizeof(err)), 0);
	ck_assert_int_eq(back.pid, 4242);
	ck_assert_str_eq(back.bundle, "/b \"quoted\"");
	ck_assert_str_eq(back.created, st.created);
	ck_assert_str_eq(json_string_value(json_object_get(back.annotations, "k")), "v");
	oci_state_free(&back);
	json_decref(st.annotations);

	/* A damaged state.json is refused, each with its reason. */
	static const char *const bad[] = {
		"{\"id\":\"c1\",\"pid\":-1,\"bundle\":\"/b\",\"rootfs\":\"/r\",\"created\":\"t\",\"annotations\":{}}",
		"{\"id\":\"../x\",\"pid\":1,\"bundle\":\"/b\",\"rootfs\":\"/r\",\"created\":\"t\",\"annotations\":{}}",
		"{\"id\":\"c1\",\"pid\":1,\"rootfs\":\"/r\",\"created\":\"t\",\"annotations\":{}}",
		"{\"id\":\"c1\",\"pid\":1,\"bundle\":\"/b\",\"rootfs\":\"/r\",\"created\":\"t\"}",
		"not json",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int fd = openat(dirfd, "state.json", O_WRONLY | O_TRUNC);
		ck_assert_int_eq(write(fd, bad[i], strlen(bad[i])), (ssize_t)strlen(bad[i]));
		close(fd);
		ck_assert_msg(oci_state_read(dirfd, &back, err, sizeof(err)) == -1, "accepted %s", bad[i]);
		ck_assert_msg(strstr(err, "state.json"), "%s", err);
	}
	close(dirfd);
	ck_assert_int_eq(oci_state_dir_remove(dir, "c1"), 0);
	ck_assert_int_eq(oci_state_dir_open(dir, "c1"), -ENOENT);

	/* The pid file: whole, atomically, relative or absolute. */
	char pidf[64], buf[32] = { 0 };
	snprintf(pidf, sizeof(pidf), "%s/init.pid", dir);
	ck_assert_int_eq(oci_write_pid_file(pidf, 1234), 0);
	int fd = open(pidf, O_RDONLY);
	ck_assert_int_eq(read(fd, buf, sizeof(buf) - 1), 4);
	close(fd);
	ck_assert_str_eq(buf, "1234");
	unlink(pidf);
	rmdir(dir);
	ck_assert_int_eq(count_fds(), fds);
}
END_TEST

/* linux.namespaces: the network entry's path kept (to start the VM's user
 * networking in), one without a path marked new; bad entries refused. */
START_TEST(namespaces)
{
	struct oci_spec s;

	ck_assert_msg(parse("{" MIN_GOOD ",\"process\":{\"args\":[\"a\"]},\"linux\":{\"namespaces\":["
			    "{\"type\":\"pid\"},{\"type\":\"ipc\",\"path\":\"/proc/1/ns/ipc\"},"
			    "{\"type\":\"network\",\"path\":\"/var/run/netns/t1\"}]}}", &s) == 0, "%s", err);
	ck_assert_str_eq(s.netns_path, "/var/run/netns/t1");
	ck_assert(!s.netns_new);
	oci_spec_free(&s);
	ck_assert_msg(parse("{" MIN_GOOD ",\"process\":{\"args\":[\"a\"]},\"linux\":{\"namespaces\":["
			    "{\"type\":\"network\",\"path\":\"\"}]}}", &s) == 0, "%s", err);
	ck_assert_ptr_null(s.netns_path);
	ck_assert(s.netns_new);
	oci_spec_free(&s);
	ck_assert_msg(parse("{" MIN_GOOD ",\"process\":{\"args\":[\"a\"]},\"linux\":{\"namespaces\":["
			    "{\"type\":\"mount\"}]}}", &s) == 0, "%s", err);
	ck_assert_ptr_null(s.netns_path);
	ck_assert(!s.netns_new);
	oci_spec_free(&s);

#define NS(x) "{" MIN_GOOD ",\"process\":{\"args\":[\"a\"]},\"linux\":{\"namespaces\":" x "}}"
	refused(NS("{}"), "linux.namespaces must be an array");
	refused(NS("[\"network\"]"), "linux.namespaces[0].type must be a string");
	refused(NS("[{\"type\":7}]"), "linux.namespaces[0].type must be a string");
	refused(NS("[{\"type\":\"pid\"},{\"type\":\"net\"}]"),
		"linux.namespaces[1]: namespace type 'net' does not exist");
	refused(NS("[{\"type\":\"network\"},{\"type\":\"network\",\"path\":\"/x\"}]"),
		"linux.namespaces[1]: malformed spec file: duplicated ns \"network\"");
	refused(NS("[{\"type\":\"network\",\"path\":\"netns/t1\"}]"),
		"linux.namespaces[0].path 'netns/t1' must be absolute");
	refused(NS("[{\"type\":\"network\",\"path\":\"/var/run/netns/../../etc/passwd\"}]"),
		"linux.namespaces[0].path");
	refused(NS("[{\"type\":\"network\",\"path\":[]}]"), "linux.namespaces[0].path must be a string");
#undef NS
}
END_TEST

/* The namespace file is hostile: only a network namespace is opened for
 * setns; a regular file, a FIFO (no blocking open), another namespace
 * type and a missing path are refused with one line, no fd left open. */
START_TEST(netns_open)
{
	char dir[] = "/tmp/test_oci_netns.XXXXXX", file[64], fifo[64];
	int fds = count_fds(), fd;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/file", dir);
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);

	const char *bad[][2] = { { file, "not a network namespace" },
				 { fifo, "not a network namespace" },
				 { dir, "not a network namespace" },
				 { "/proc/self/ns/uts", "not a network namespace" },
				 { "/dev/null", "not a network namespace" },
				 { "/nonexistent/netns", "No such file or directory" } };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_int_eq(oci_netns_open(bad[i][0], err, sizeof(err)), -1);
		ck_assert_msg(strstr(err, bad[i][1]) && strstr(err, bad[i][0]) &&
			      !strchr(err, '\n'), "%s: '%s'", bad[i][0], err);
	}
	ck_assert_int_eq(count_fds(), fds);
	fd = oci_netns_open("/proc/self/ns/net", err, sizeof(err));
	ck_assert_msg(fd >= 0, "%s", err);
	ck_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	ck_assert_int_eq(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDONLY);
	close(fd);
	ck_assert_int_eq(count_fds(), fds);
	unlink(file);
	unlink(fifo);
	rmdir(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("oci");
	TCase *tc = tcase_create("oci");

	tcase_add_test(tc, good_config_maps_to_vm);
	tcase_add_test(tc, malformed_and_mistyped);
	tcase_add_test(tc, root_mounts_resources);
	tcase_add_test(tc, sizes_and_nesting);
	tcase_add_test(tc, launch_argv);
	tcase_add_test(tc, docker_config);
	tcase_add_test(tc, process_json);
	tcase_add_test(tc, ids);
	tcase_add_test(tc, signals_and_cpus);
	tcase_add_test(tc, state_json_round_trip);
	tcase_add_test(tc, namespaces);
	tcase_add_test(tc, netns_open);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
