// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * alcatraz-run: run a command in a Linux microVM (or a raw tiny guest) and
 * exit with its status.
 *
 *   alcatraz-run [OPTIONS] -- COMMAND [ARGS...]
 *   alcatraz-run [OPTIONS] --guest IMAGE
 *   alcatraz-run --check
 *
 * Every option either works in the mode it is given in or is refused with
 * one line (status 125); none is silently ignored.
 *
 * Exit status: the command's own status; 128+n when killed by signal n;
 * 126 not executable; 127 not found; 124 on timeout; 125 with a one-line
 * message on a runtime error (including a crashed guest).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>

#include <alcatraz/alcatraz.h>

#include "host-check.h"

#define EXIT_RUNTIME 125

#define MAX_LIST 64

struct options {
	const char *guest;
	const char *kernel;
	const char *initrd;
	const char *cmdline;
	const char *rootfs;
	const char *rootfs_pack;
	const char *root_disk;
	const char *workdir;
	const char *cgroup_parent;
	int require_cgroup;
	const char *disks[MAX_LIST];
	unsigned int nr_disks;
	const char *volumes[MAX_LIST];
	unsigned int nr_volumes;
	const char *envs[MAX_LIST];
	unsigned int nr_envs;
	const char *net;
	const char *publish[MAX_LIST];
	unsigned int nr_publish;
	char **command;
	int stats;
	int serial;
	int no_sandbox;
	int raw_output;
	unsigned long cpus;
	unsigned long memory_mib;
	double timeout_s;
	enum alcatraz_irqchip irqchip;
	int verbose;
	int check;
	unsigned int given; /* bits of opt_modes[] */
};

enum { OPT_IRQCHIP = 256, OPT_ROOTFS, OPT_DISK, OPT_ROOT_DISK, OPT_INITRD, OPT_CMDLINE,
       OPT_STATS, OPT_SERIAL, OPT_NO_SANDBOX, OPT_CHECK, OPT_RAW_OUTPUT, OPT_CGROUP_PARENT,
       OPT_REQUIRE_CGROUP, OPT_NET, OPT_PUBLISH };

#define OPT_VOLUME 1024 /* --volume HOSTDIR:GUESTDIR[:ro] (issue 17) */
#define OPT_ROOTFS_PACK 1025 /* --rootfs-pack DIR: the root packed as the initramfs */

/* What alcatraz-run was asked to do; each option lists where it applies. */
enum mode { MODE_COMMAND = 1, MODE_GUEST = 2, MODE_CHECK = 4 };

static const struct opt_mode {
	int code;
	const char *name;
	unsigned int modes;
	const char *not_raw; /* why a raw guest cannot take it */
} opt_modes[] = {
	{ 'k', "--kernel", MODE_COMMAND, "a raw image is its own kernel" },
	{ OPT_ROOTFS, "--rootfs", MODE_COMMAND, "a raw image has no root file system" },
	{ OPT_ROOTFS_PACK, "--rootfs-pack", MODE_COMMAND, "a raw image has no initramfs" },
	{ OPT_DISK, "--disk", MODE_COMMAND, "a raw image gets no virtio devices" },
	{ OPT_VOLUME, "--volume", MODE_COMMAND, "a raw image gets no virtio devices" },
	{ OPT_ROOT_DISK, "--root-disk", MODE_COMMAND, "a raw image gets no virtio devices" },
	{ 'e', "--env", MODE_COMMAND, "a raw image runs no command" },
	{ 'w', "--workdir", MODE_COMMAND, "a raw image runs no command" },
	{ OPT_INITRD, "--initrd", MODE_COMMAND, "a raw image has no initramfs" },
	{ OPT_CMDLINE, "--cmdline", MODE_COMMAND, "a raw image has no kernel command line" },
	{ OPT_NET, "--net", MODE_COMMAND, "a raw image gets no virtio devices" },
	{ OPT_PUBLISH, "--publish", MODE_COMMAND, "a raw image gets no virtio devices" },
	{ OPT_SERIAL, "--serial", MODE_COMMAND, "a raw image's serial port is standard output already" },
	{ OPT_STATS, "--stats", MODE_COMMAND | MODE_GUEST, NULL },
	{ OPT_NO_SANDBOX, "--insecure-no-sandbox", MODE_COMMAND | MODE_GUEST, NULL },
	{ OPT_RAW_OUTPUT, "--raw-output", MODE_COMMAND | MODE_GUEST, NULL },
	{ OPT_CGROUP_PARENT, "--cgroup-parent", MODE_COMMAND | MODE_GUEST, NULL },
	{ OPT_REQUIRE_CGROUP, "--require-cgroup", MODE_COMMAND | MODE_GUEST, NULL },
	{ 'g', "--guest", MODE_GUEST, NULL },
	{ 'c', "--cpus", MODE_COMMAND | MODE_GUEST, NULL },
	{ 'm', "--memory", MODE_COMMAND | MODE_GUEST, NULL },
	{ 't', "--timeout", MODE_COMMAND | MODE_GUEST, NULL },
	{ OPT_IRQCHIP, "--irqchip", MODE_COMMAND | MODE_GUEST, NULL },
	{ 'v', "--verbose", MODE_COMMAND | MODE_GUEST, NULL },
	{ OPT_CHECK, "--check", MODE_CHECK, NULL },
};

#define NR_OPT_MODES (sizeof(opt_modes) / sizeof(opt_modes[0]))

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: alcatraz-run [OPTIONS] -- COMMAND [ARGS...]\n"
		"       alcatraz-run [OPTIONS] --guest IMAGE\n"
		"       alcatraz-run --check\n"
		"Run a command in a KVM microVM and exit with its status.\n"
		"\n"
		"  -k, --kernel PATH     guest kernel (vmlinux or bzImage; default: $ALCATRAZ_KERNEL,\n"
		"                        else the installed one)\n"
		"      --rootfs DIR      DIR is the root file system, shared read-only over\n"
		"                        virtio-fs under a writable layer in guest RAM\n"
		"                        (default: an initramfs with busybox)\n"
		"      --rootfs-pack DIR copy DIR into the initramfs instead (small roots)\n"
		"      --disk IMG[,ro]   attach a raw disk image (repeatable; /dev/vdX)\n"
		"      --volume HOSTDIR:GUESTDIR[:ro]\n"
		"                        share a host directory at GUESTDIR (virtio-fs; repeatable)\n"
		"      --root-disk IMG   boot from an ext4 image\n"
		"      --net MODE        user (passt), tap=NAME[,mac=M][,ip=A/P][,gw=G][,dns=D] or\n"
		"                        none (the default)\n"
		"      --publish [HOSTADDR:]HOSTPORT:GUESTPORT[/tcp|/udp]\n"
		"                        publish a guest port (--net user; repeatable)\n"
		"  -e, --env K=V         set an environment variable (repeatable)\n"
		"  -w, --workdir DIR     working directory of the command\n"
		"      --initrd PATH     use this initramfs instead of building one\n"
		"      --cmdline ARGS    extra kernel command line\n"
		"      --stats           print timings and usage (vCPU time, VMM peak RSS, disk\n"
		"                        bytes) as JSON on standard error\n"
		"      --serial          show the guest kernel's log on standard error\n"
		"      --insecure-no-sandbox  run the VMM without its jail, seccomp lists\n"
		"                        and cgroup\n"
		"      --raw-output      pass guest output to a terminal unfiltered (by\n"
		"                        default control bytes become visible \\xHH escapes)\n"
		"      --cgroup-parent DIR  make the VM's cgroup under DIR, a cgroup v2\n"
		"                        directory (default: this process's cgroup)\n"
		"      --require-cgroup  fail (125) when the VM's cgroup limits cannot be\n"
		"                        applied, instead of running without them\n"
		"  -g, --guest IMAGE     raw 64-bit guest image (entered at 1 MiB)\n"
		"  -c, --cpus N          vCPUs (default 1)\n"
		"  -m, --memory MIB      guest RAM in MiB (default 128)\n"
		"  -t, --timeout SEC     stop the guest after SEC seconds (exit 124)\n"
		"      --irqchip MODE    auto, on or off (default auto)\n"
		"  -v, --verbose         print the VMM's log on standard error\n"
		"      --check           report whether this host can run protected VMs\n"
		"                        (exit 0 ready, 1 not)\n"
		"  -h, --help            show this help\n"
		"  -V, --version         show the version\n"
		"\n"
		"Exit status: the command's status; 128+n killed by signal n; 126 not\n"
		"executable; 127 not found; 124 timeout; 125 runtime error.\n"
		"Environment: ALCATRAZ_KERNEL, ALCATRAZ_INIT, ALCATRAZ_BUSYBOX override the\n"
		"installed guest kernel, alcatraz-init and busybox (meson devenv sets the\n"
		"first two to a build tree's).\n");
}

static int die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int die(const char *fmt, ...)
{
	va_list ap;
	fputs("alcatraz-run: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_RUNTIME;
}

static int parse_ulong(const char *s, unsigned long *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-')
		return -1;
	*out = v;
	return 0;
}

static void mark_given(struct options *o, int code)
{
	for (unsigned int i = 0; i < NR_OPT_MODES; i++)
		if (opt_modes[i].code == code)
			o->given |= 1U << i;
}

/* Every option given must apply to the mode: else one line, 125. */
static int check_modes(const struct options *o)
{
	enum mode m = o->check ? MODE_CHECK : o->guest ? MODE_GUEST : MODE_COMMAND;

	for (unsigned int i = 0; i < NR_OPT_MODES; i++) {
		const struct opt_mode *om = &opt_modes[i];

		if (!(o->given & (1U << i)) || (om->modes & m))
			continue;
		if (m == MODE_CHECK)
			return die("--check takes no other option, not %s", om->name);
		if (m == MODE_GUEST)
			return die("%s applies to a Linux guest (-- COMMAND), not to --guest IMAGE: %s",
				   om->name, om->not_raw);
		return die("%s needs --guest IMAGE", om->name);
	}
	if (m == MODE_COMMAND && o->irqchip == ALCATRAZ_IRQCHIP_OFF)
		return die("--irqchip off applies to --guest IMAGE: a Linux guest needs the in-kernel irqchip");
	if (m == MODE_COMMAND && o->initrd && (o->rootfs || o->rootfs_pack || o->root_disk))
		return die("--initrd excludes %s: both say what the guest boots from",
			   o->rootfs ? "--rootfs" : o->rootfs_pack ? "--rootfs-pack" : "--root-disk");
	if (m == MODE_COMMAND && (o->rootfs || o->rootfs_pack) && o->root_disk)
		return die("%s excludes --root-disk: both say what the guest boots from",
			   o->rootfs ? "--rootfs" : "--rootfs-pack");
	if (m == MODE_COMMAND && o->rootfs && o->rootfs_pack)
		return die("--rootfs excludes --rootfs-pack: both say what the guest boots from");
	if (o->no_sandbox && (o->cgroup_parent || o->require_cgroup))
		return die("%s excludes --insecure-no-sandbox: an unsandboxed VMM gets no cgroup",
			   o->cgroup_parent ? "--cgroup-parent" : "--require-cgroup");
	return 0;
}

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "guest", required_argument, NULL, 'g' },
		{ "kernel", required_argument, NULL, 'k' },
		{ "rootfs", required_argument, NULL, OPT_ROOTFS },
		{ "rootfs-pack", required_argument, NULL, OPT_ROOTFS_PACK },
		{ "disk", required_argument, NULL, OPT_DISK },
		{ "volume", required_argument, NULL, OPT_VOLUME },
		{ "root-disk", required_argument, NULL, OPT_ROOT_DISK },
		{ "env", required_argument, NULL, 'e' },
		{ "workdir", required_argument, NULL, 'w' },
		{ "initrd", required_argument, NULL, OPT_INITRD },
		{ "cmdline", required_argument, NULL, OPT_CMDLINE },
		{ "stats", no_argument, NULL, OPT_STATS },
		{ "serial", no_argument, NULL, OPT_SERIAL },
		{ "net", required_argument, NULL, OPT_NET },
		{ "publish", required_argument, NULL, OPT_PUBLISH },
		{ "insecure-no-sandbox", no_argument, NULL, OPT_NO_SANDBOX },
		{ "raw-output", no_argument, NULL, OPT_RAW_OUTPUT },
		{ "cgroup-parent", required_argument, NULL, OPT_CGROUP_PARENT },
		{ "require-cgroup", no_argument, NULL, OPT_REQUIRE_CGROUP },
		{ "check", no_argument, NULL, OPT_CHECK },
		{ "cpus", required_argument, NULL, 'c' },
		{ "memory", required_argument, NULL, 'm' },
		{ "timeout", required_argument, NULL, 't' },
		{ "irqchip", required_argument, NULL, OPT_IRQCHIP },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:g:k:e:w:c:m:t:vhV", longopts, NULL)) != -1) {
		mark_given(o, c);
		switch (c) {
		case 'g':
			o->guest = optarg;
			break;
		case 'k':
			o->kernel = optarg;
			break;
		case OPT_ROOTFS:
			o->rootfs = optarg;
			break;
		case OPT_ROOTFS_PACK:
			o->rootfs_pack = optarg;
			break;
		case OPT_NET:
			o->net = optarg;
			break;
		case OPT_PUBLISH:
			if (o->nr_publish >= MAX_LIST)
				return die("at most %d --publish options", MAX_LIST);
			o->publish[o->nr_publish++] = optarg;
			break;
		case OPT_DISK:
			if (o->nr_disks >= 8)
				return die("at most 8 --disk options");
			o->disks[o->nr_disks++] = optarg;
			break;
		case OPT_VOLUME:
			if (o->nr_volumes >= 4)
				return die("at most 4 --volume options");
			o->volumes[o->nr_volumes++] = optarg;
			break;
		case OPT_ROOT_DISK:
			o->root_disk = optarg;
			break;
		case 'e':
			if (!strchr(optarg, '=') || optarg[0] == '=')
				return die("--env wants KEY=VALUE, not '%s'", optarg);
			if (o->nr_envs >= MAX_LIST)
				return die("at most %d --env options", MAX_LIST);
			o->envs[o->nr_envs++] = optarg;
			break;
		case 'w':
			if (optarg[0] != '/')
				return die("--workdir wants an absolute path, not '%s'", optarg);
			o->workdir = optarg;
			break;
		case OPT_INITRD:
			o->initrd = optarg;
			break;
		case OPT_CMDLINE:
			o->cmdline = optarg;
			break;
		case OPT_STATS:
			o->stats = 1;
			break;
		case OPT_SERIAL:
			o->serial = 1;
			break;
		case OPT_NO_SANDBOX:
			o->no_sandbox = 1;
			break;
		case OPT_RAW_OUTPUT:
			o->raw_output = 1;
			break;
		case OPT_CGROUP_PARENT:
			if (optarg[0] != '/')
				return die("--cgroup-parent wants an absolute path, not '%s'", optarg);
			o->cgroup_parent = optarg;
			break;
		case OPT_REQUIRE_CGROUP:
			o->require_cgroup = 1;
			break;
		case OPT_CHECK:
			o->check = 1;
			break;
		case 'c':
			if (parse_ulong(optarg, &o->cpus) || o->cpus == 0 || o->cpus > 64)
				return die("--cpus wants a number from 1 to 64, not '%s'", optarg);
			break;
		case 'm':
			if (parse_ulong(optarg, &o->memory_mib) || o->memory_mib < 2 ||
			    o->memory_mib > 3072)
				return die("--memory wants MiB from 2 to 3072, not '%s'", optarg);
			break;
		case 't': {
			char *end;
			o->timeout_s = strtod(optarg, &end);
			if (end == optarg || *end || !(o->timeout_s > 0) || o->timeout_s > 1e7)
				return die("--timeout wants a positive number of seconds, not '%s'",
					   optarg);
			break;
		}
		case OPT_IRQCHIP:
			if (!strcmp(optarg, "auto"))
				o->irqchip = ALCATRAZ_IRQCHIP_AUTO;
			else if (!strcmp(optarg, "on"))
				o->irqchip = ALCATRAZ_IRQCHIP_ON;
			else if (!strcmp(optarg, "off"))
				o->irqchip = ALCATRAZ_IRQCHIP_OFF;
			else
				return die("--irqchip wants auto, on or off, not '%s'", optarg);
			break;
		case 'v':
			o->verbose = 1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("alcatraz-run %s\n", alcatraz_version());
			exit(0);
		case ':':
			return die("option '%s' needs an argument (see --help)", argv[optind - 1]);
		default:
			return die("unknown option '%s' (see --help)", argv[optind - 1]);
		}
	}
	if (optind < argc)
		o->command = argv + optind;
	if (o->check && o->command)
		return die("--check takes no command");
	if (o->check)
		return check_modes(o);
	if (o->guest && o->command)
		return die("--guest runs a raw image and takes no command");
	if (!o->guest && !o->command)
		return die("nothing to run: give -- COMMAND [ARGS...] or --guest IMAGE (see --help)");
	return check_modes(o);
}

/*
 * The exit status of a finished VM, with the line on standard error that a
 * 124 or a runtime error promises.  A command's 125 may be alcatraz-init's
 * own failure (a bad --workdir...), which only the message explains; a raw
 * guest's 125 is just what it wrote to the exit device.
 */
static int exit_code_of(const struct alcatraz_result *r, bool command)
{
	int code = alcatraz_result_exit_code(r);

	if (r->kind == ALCATRAZ_EXIT_TIMEOUT)
		fprintf(stderr, "alcatraz-run: %s\n", r->message);
	else if (r->kind == ALCATRAZ_EXIT_CRASH && !command)
		die("guest crashed: %s", r->message);
	else if (code == EXIT_RUNTIME && (command || r->kind != ALCATRAZ_EXIT_STATUS))
		die("%s", r->message[0] ? r->message : "the VM failed");
	return code;
}

/* Runs a created VM to its end and destroys it: 0, or the CLI's 125. */
static int run_to_end(struct alcatraz_vm *vm, struct alcatraz_result *res)
{
	int ret = alcatraz_vm_start(vm);

	if (ret == 0)
		ret = alcatraz_vm_wait(vm, -1);
	if (ret == 0)
		ret = alcatraz_vm_result(vm, res);
	alcatraz_vm_destroy(vm);
	return ret ? die("%s", alcatraz_strerror(ret)) : 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void print_stats(const struct alcatraz_result *r, int code, uint64_t create_ns)
{
	const struct alcatraz_timings *t = &r->timings;

	/* Milestones in ms since alcatraz_vm_start() (the VMM start); null
	 * when not reached. Kernel entry is the first KVM_RUN. */
	fprintf(stderr, "{\"create_ms\": %.3f, \"vmm_start_ms\": 0", create_ns / 1e6);
#define FIELD(name, v)                                                   \
	do {                                                             \
		if (v)                                                   \
			fprintf(stderr, ", \"" name "\": %.3f", (v) / 1e6); \
		else                                                     \
			fprintf(stderr, ", \"" name "\": null");          \
	} while (0)
	FIELD("kernel_entry_ms", t->vmm_ready_ns);
	FIELD("first_exit_ms", t->first_exit_ns);
	FIELD("init_start_ms", t->init_start_ns);
	FIELD("cmd_start_ms", t->cmd_start_ns);
	FIELD("exit_ms", t->end_ns);
#undef FIELD
	/* What the VM used; 0 where not measured. */
	fprintf(stderr, ", \"vcpu_cpu_ms\": %.3f, \"vmm_peak_rss_bytes\": %llu"
		", \"disk_read_bytes\": %llu, \"disk_written_bytes\": %llu",
		r->usage.vcpu_cpu_ns / 1e6, (unsigned long long)r->usage.vmm_peak_rss_bytes,
		(unsigned long long)r->usage.disk_read_bytes,
		(unsigned long long)r->usage.disk_written_bytes);
	fprintf(stderr, ", \"end\": \"%s\", \"exit_code\": %d}\n", alcatraz_exit_kind_name(r->kind),
		code);
}

/* --cgroup-parent names an existing cgroup v2 directory: else one line. */
static int check_cgroup_parent(const struct options *o)
{
	struct statfs fs;
	struct stat st;

	if (!o->cgroup_parent)
		return 0;
	if (stat(o->cgroup_parent, &st) < 0)
		return die("--cgroup-parent '%s': %s", o->cgroup_parent, strerror(errno));
	if (!S_ISDIR(st.st_mode) || statfs(o->cgroup_parent, &fs) < 0 ||
	    fs.f_type != CGROUP2_SUPER_MAGIC)
		return die("--cgroup-parent '%s' is not a cgroup v2 directory", o->cgroup_parent);
	return 0;
}

static int set_cgroup(struct alcatraz_config *cfg, const struct options *o)
{
	int ret = 0;

	if (o->cgroup_parent)
		ret = alcatraz_config_set_cgroup_parent(cfg, o->cgroup_parent);
	if (!ret && o->require_cgroup)
		ret = alcatraz_config_set_require_cgroup(cfg, true);
	return ret;
}

/* A create that failed on the cgroup --require-cgroup asked for: one line. */
static int cgroup_refused(const struct options *o, int ret)
{
	if (ret != -ALCATRAZ_E_SANDBOX || !o->require_cgroup)
		return 0;
	return die("cannot create the VM: %s (--require-cgroup: are the memory, pids and cpu "
		   "controllers available to the children of %s?)%s",
		   alcatraz_strerror(ret), o->cgroup_parent ? o->cgroup_parent : "this process's cgroup",
		   o->verbose ? "" : " (run with --verbose for details)");
}

static int run(const struct options *o)
{
	struct alcatraz_config *cfg = NULL;
	struct alcatraz_vm *vm = NULL;
	struct alcatraz_result res;
	uint64_t create_ns;
	int ret, code;

	if (access(o->guest, R_OK) < 0)
		return die("cannot read guest image '%s': %s", o->guest, strerror(errno));
	if ((ret = check_cgroup_parent(o)))
		return ret;
	ret = alcatraz_config_new(&cfg);
	if (ret)
		return die("%s", alcatraz_strerror(ret));
	if ((ret = alcatraz_config_set_guest_image(cfg, o->guest)) ||
	    (ret = alcatraz_config_set_vcpus(cfg, (unsigned int)o->cpus)) ||
	    (ret = alcatraz_config_set_memory_mib(cfg, o->memory_mib)) ||
	    (ret = alcatraz_config_set_irqchip(cfg, o->irqchip)) ||
	    (ret = alcatraz_config_set_serial_fd(cfg, STDOUT_FILENO)) ||
	    (o->raw_output &&
	     (ret = alcatraz_config_set_output_filter(cfg, ALCATRAZ_OUTPUT_FILTER_OFF))) ||
	    (ret = alcatraz_config_set_timeout_ms(cfg, (uint64_t)(o->timeout_s * 1000.0))) ||
	    (o->no_sandbox && (ret = alcatraz_config_set_insecure_no_sandbox(cfg, true))) ||
	    (ret = set_cgroup(cfg, o)) ||
	    (o->verbose && (ret = alcatraz_config_set_log_fd(cfg, STDERR_FILENO)))) {
		alcatraz_config_free(cfg);
		return die("bad configuration: %s", alcatraz_strerror(ret));
	}
	create_ns = now_ns();
	ret = alcatraz_vm_create(cfg, &vm);
	create_ns = now_ns() - create_ns;
	alcatraz_config_free(cfg);
	if (ret && (code = cgroup_refused(o, ret)))
		return code;
	if (ret) {
		if (ret == -ENOENT && access("/dev/kvm", F_OK) < 0)
			return die("/dev/kvm does not exist: this host needs KVM (load kvm_intel or kvm_amd, or enable virtualization in the firmware)");
		if (ret == -EACCES)
			return die("/dev/kvm is not accessible: run as root or add your user to the 'kvm' group");
		return die("cannot create the VM: %s%s", alcatraz_strerror(ret),
			   o->verbose ? "" : " (run with --verbose for details)");
	}
	ret = run_to_end(vm, &res);
	if (ret)
		return ret;
	code = exit_code_of(&res, false);
	if (o->stats)
		print_stats(&res, code, create_ns);
	return code;
}

/* HOSTDIR:GUESTDIR[:ro|:rw]; one line and non-zero when it cannot be used. */
static int share_dir(struct alcatraz_config *cfg, const char *host, const char *guest,
		     unsigned int flags, const char *spec);

static int add_volume(struct alcatraz_config *cfg, const char *spec)
{
	char host[4096], guest[4096];
	const char *c1 = strchr(spec, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	unsigned int flags = 0;

	if (!c1 || c1 == spec || (c2 && strcmp(c2, ":ro") && strcmp(c2, ":rw")) ||
	    (size_t)(c1 - spec) >= sizeof(host) || strlen(c1 + 1) >= sizeof(guest)) {
		die("--volume wants HOSTDIR:GUESTDIR[:ro], not '%s'", spec);
		return -EINVAL;
	}
	snprintf(host, sizeof(host), "%.*s", (int)(c1 - spec), spec);
	snprintf(guest, sizeof(guest), "%.*s", (int)(c2 ? c2 - c1 - 1 : (long)strlen(c1 + 1)),
		 c1 + 1);
	if (c2 && !strcmp(c2, ":ro"))
		flags |= ALCATRAZ_VOLUME_READONLY;
	return share_dir(cfg, host, guest, flags, spec);
}

/* A --volume, or the --rootfs (guest "/"): one line when refused. */
static int share_dir(struct alcatraz_config *cfg, const char *host, const char *guest,
		     unsigned int flags, const char *spec)
{
	struct stat st;
	int ret;

	if (stat(host, &st) < 0) {
		die("volume '%s': %s on the host", host,
		    errno == ENOENT ? "no such directory" : strerror(errno));
		return -ENOENT;
	}
	if (!S_ISDIR(st.st_mode)) {
		die("volume '%s': not a directory on the host", host);
		return -ENOTDIR;
	}
	ret = alcatraz_config_add_volume(cfg, host, guest, flags);
	if (ret)
		die("volume '%s': %s", spec,
		    ret == -EINVAL   ? "the guest path must be absolute, without '.' or '..' "
				       "(at most 4 volumes)"
		    : ret == -EEXIST ? "the root ('/') is shared already (--rootfs)"
				     : strerror(-ret));
	return ret;
}

static int split_disk(const char *arg, char *path, size_t len, bool *ro)
{
	const char *comma = strrchr(arg, ',');

	*ro = false;
	if (comma && !strcmp(comma, ",ro")) {
		*ro = true;
	} else if (comma && !strcmp(comma, ",rw")) {
	} else {
		comma = NULL;
	}
	size_t n = comma ? (size_t)(comma - arg) : strlen(arg);
	if (n == 0 || n >= len)
		return -1;
	memcpy(path, arg, n);
	path[n] = '\0';
	return 0;
}

/*
 * The kernel and, unless the guest boots from --initrd or --root-disk, the
 * alcatraz-init the initramfs is made of: one line each when missing, before
 * anything else (a broken install shows on any host, /dev/kvm or not).
 */
static int find_guest_files(const struct options *o, char *kernel, size_t len)
{
	static const char hint[] = "reinstall alcatraz; in a build tree: meson devenv -C BUILDDIR";
	char init[4096];
	int ret;

	if (o->kernel) {
		snprintf(kernel, len, "%s", o->kernel);
	} else if ((ret = alcatraz_default_kernel(kernel, len))) {
		if (ret == -ENOENT && secure_getenv("ALCATRAZ_KERNEL"))
			return die("no guest kernel: ALCATRAZ_KERNEL=%s is missing or unreadable", kernel);
		if (ret == -ENOENT)
			return die("no guest kernel: %s is missing (%s; or give --kernel PATH or set ALCATRAZ_KERNEL)",
				   kernel, hint);
		return die("no guest kernel: %s", alcatraz_strerror(ret));
	}
	if (access(kernel, R_OK) < 0)
		return die("cannot read kernel '%s': %s", kernel, strerror(errno));
	if (o->initrd)
		return 0;
	ret = alcatraz_default_init(init, sizeof(init));
	if (ret == -ENOENT && secure_getenv("ALCATRAZ_INIT"))
		return die("no alcatraz-init: ALCATRAZ_INIT=%s is missing or unreadable", init);
	if (ret == -ENOENT)
		return die("no alcatraz-init: %s is missing (%s; or set ALCATRAZ_INIT)", init, hint);
	if (ret)
		return die("no alcatraz-init: %s", alcatraz_strerror(ret));
	return 0;
}

/* --net and --publish: each refusal is one line naming the option. */
static int set_network(struct alcatraz_config *cfg, const struct options *o)
{
	const char *passt = getenv("ALCATRAZ_PASST");

	if (!o->net || !strcmp(o->net, "none")) {
		if (o->nr_publish)
			return die("--publish needs --net user");
		return 0;
	}
	if (!strcmp(o->net, "user")) {
		if (!passt || !*passt)
			passt = "/usr/bin/passt";
		if (access(passt, X_OK))
			return die("--net user needs passt (Debian package passt): %s: %s", passt,
				   strerror(errno));
		if (alcatraz_config_set_net_user(cfg))
			return die("--net user: cannot be set");
	} else if (!strncmp(o->net, "tap=", 4)) {
		if (alcatraz_config_set_net_tap(cfg, o->net + 4))
			return die("--net '%s': expected tap=NAME[,mac=AA:BB:CC:DD:EE:FF]"
				   "[,ip=A.B.C.D/P][,gw=G][,dns=D]", o->net);
		if (o->nr_publish)
			return die("--publish needs --net user");
	} else {
		return die("--net wants user, tap=NAME[,...] or none, not '%s'", o->net);
	}
	for (unsigned int i = 0; i < o->nr_publish; i++)
		if (alcatraz_config_add_port_forward(cfg, o->publish[i]))
			return die("--publish '%s': expected [HOSTADDR:]HOSTPORT:GUESTPORT[/tcp|/udp] "
				   "with ports from 1 to 65535", o->publish[i]);
	return 0;
}

static int run_command(const struct options *o)
{
	struct alcatraz_config *cfg = NULL;
	struct alcatraz_vm *vm = NULL;
	struct alcatraz_result res;
	char kernel[4096], msg[256], path[4096];
	uint64_t create_ns;
	int ret, code;

	ret = find_guest_files(o, kernel, sizeof(kernel));
	if (ret)
		return ret;
	/* A kvm_pvm host would crawl for seconds and then fail: say so now. */
	ret = alcatraz_kvm_probe(msg, sizeof(msg));
	if (ret == -ALCATRAZ_E_SLOWKVM)
		return die("%s (run it in the lab: tests/lab/run)", msg);
	if (ret)
		return die("%s", msg);
	if (o->rootfs_pack && access(o->rootfs_pack, R_OK | X_OK) < 0)
		return die("cannot read rootfs directory '%s': %s", o->rootfs_pack, strerror(errno));
	if ((ret = check_cgroup_parent(o)))
		return ret;
	ret = alcatraz_config_new(&cfg);
	if (ret)
		return die("%s", alcatraz_strerror(ret));
	if ((ret = alcatraz_config_set_kernel(cfg, kernel)) ||
	    (ret = alcatraz_config_set_command(cfg, (const char *const *)o->command)) ||
	    (ret = alcatraz_config_set_vcpus(cfg, (unsigned int)o->cpus)) ||
	    (ret = alcatraz_config_set_memory_mib(cfg, o->memory_mib)) ||
	    (ret = alcatraz_config_set_irqchip(cfg, o->irqchip)) ||
	    (ret = alcatraz_config_set_stdio(cfg, STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO)) ||
	    (o->raw_output &&
	     (ret = alcatraz_config_set_output_filter(cfg, ALCATRAZ_OUTPUT_FILTER_OFF))) ||
	    (ret = alcatraz_config_set_timeout_ms(cfg, (uint64_t)(o->timeout_s * 1000.0))) ||
	    (o->serial && (ret = alcatraz_config_set_serial_fd(cfg, STDERR_FILENO))) ||
	    (o->no_sandbox && (ret = alcatraz_config_set_insecure_no_sandbox(cfg, true))) ||
	    (ret = set_cgroup(cfg, o)) ||
	    (o->verbose && (ret = alcatraz_config_set_log_fd(cfg, STDERR_FILENO))) ||
	    (o->workdir && (ret = alcatraz_config_set_workdir(cfg, o->workdir))) ||
	    (o->rootfs_pack && (ret = alcatraz_config_set_rootfs_dir(cfg, o->rootfs_pack))) ||
	    (o->root_disk && (ret = alcatraz_config_set_root_disk(cfg, o->root_disk))) ||
	    (o->initrd && (ret = alcatraz_config_set_initrd(cfg, o->initrd))) ||
	    (o->cmdline && (ret = alcatraz_config_set_cmdline(cfg, o->cmdline))))
		goto bad;
	for (unsigned int i = 0; i < o->nr_envs; i++)
		if ((ret = alcatraz_config_add_env(cfg, o->envs[i])))
			goto bad;
	if ((ret = set_network(cfg, o))) {
		alcatraz_config_free(cfg);
		return ret;
	}
	for (unsigned int i = 0; i < o->nr_disks; i++) {
		bool ro;
		if (split_disk(o->disks[i], path, sizeof(path), &ro)) {
			alcatraz_config_free(cfg);
			return die("--disk wants IMG or IMG,ro, not '%s'", o->disks[i]);
		}
		if (access(path, ro ? R_OK : R_OK | W_OK) < 0) {
			alcatraz_config_free(cfg);
			return die("cannot open disk '%s': %s", path, strerror(errno));
		}
		if ((ret = alcatraz_config_add_disk(cfg, path, ro)))
			goto bad;
	}
	/* --rootfs DIR: the root over virtio-fs, read-only, a RAM overlay above. */
	if (o->rootfs && share_dir(cfg, o->rootfs, "/", ALCATRAZ_VOLUME_READONLY, o->rootfs)) {
		alcatraz_config_free(cfg);
		return 125;
	}
	for (unsigned int i = 0; i < o->nr_volumes; i++) {
		ret = add_volume(cfg, o->volumes[i]);
		if (ret) {
			alcatraz_config_free(cfg);
			return 125;
		}
	}
	create_ns = now_ns();
	ret = alcatraz_vm_create(cfg, &vm);
	create_ns = now_ns() - create_ns;
	alcatraz_config_free(cfg);
	if (ret && (code = cgroup_refused(o, ret)))
		return code;
	if (ret) {
		if (ret == -ENOENT && !o->initrd)
			return die("cannot create the VM: alcatraz-init or busybox not found (set "
				   "ALCATRAZ_INIT / ALCATRAZ_BUSYBOX)%s",
				   o->verbose ? "" : " or see --verbose");
		if (ret == -EBUSY)
			return die("a disk image is locked by another VM");
		if (ret == -EADDRINUSE)
			return die("a published host port is already in use");
		if (ret == -ENODEV)
			return die("--net %s: no such tap device", o->net);
		return die("cannot create the VM: %s%s", alcatraz_strerror(ret),
			   o->verbose ? "" : " (run with --verbose for details)");
	}
	ret = run_to_end(vm, &res);
	if (ret)
		return ret;
	code = exit_code_of(&res, true);
	if (o->stats)
		print_stats(&res, code, create_ns);
	return code;
bad:
	alcatraz_config_free(cfg);
	return die("bad configuration: %s", alcatraz_strerror(ret));
}

int main(int argc, char **argv)
{
	struct options o = { .cpus = 1, .memory_mib = 128, .irqchip = ALCATRAZ_IRQCHIP_AUTO };
	int ret = parse_args(argc, argv, &o);

	if (ret)
		return ret;
	fflush(stdout);
	if (o.check)
		return host_check(stdout);
	return o.command ? run_command(&o) : run(&o);
}
