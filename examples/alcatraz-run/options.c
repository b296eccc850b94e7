// SPDX-License-Identifier: LGPL-2.1-or-later
/* alcatraz-run's command line: the options, the modes each applies to, --help. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../cli-args.h"
#include "alcatraz-run.h"

enum { OPT_IRQCHIP = 256, OPT_ROOTFS, OPT_DISK, OPT_ROOT_DISK, OPT_INITRD, OPT_CMDLINE,
       OPT_STATS, OPT_SERIAL, OPT_NO_SANDBOX, OPT_CHECK, OPT_RAW_OUTPUT, OPT_CGROUP_PARENT,
       OPT_REQUIRE_CGROUP, OPT_NET, OPT_PUBLISH };

#define OPT_VOLUME 1024 /* --volume HOSTDIR:GUESTDIR[:ro] (issue 17) */
#define OPT_ROOTFS_PACK 1025 /* --rootfs-pack DIR: the root packed as the initramfs */
#define OPT_RESTORE 1026 /* --restore DIR: start from a snapshot (issue 18) */

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
	{ OPT_RESTORE, "--restore", MODE_COMMAND | MODE_GUEST, NULL },
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
		"      --restore DIR     start the guest from a snapshot alcatraz-snapshot saved\n"
		"                        in DIR (same image or kernel, --cpus, --memory,\n"
		"                        --irqchip); with -- COMMAND, COMMAND runs in the\n"
		"                        restored Linux guest with this stdio and status\n"
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

int die(const char *fmt, ...)
{
	va_list ap;
	fputs("alcatraz-run: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_RUNTIME;
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

int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "guest", required_argument, NULL, 'g' },
		{ "kernel", required_argument, NULL, 'k' },
		{ "rootfs", required_argument, NULL, OPT_ROOTFS },
		{ "rootfs-pack", required_argument, NULL, OPT_ROOTFS_PACK },
		{ "restore", required_argument, NULL, OPT_RESTORE },
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
		case OPT_RESTORE:
			o->restore = optarg;
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
			if (cli_parse_ulong(optarg, 1, CLI_CPUS_MAX, &o->cpus))
				return die("--cpus wants a number from 1 to 64, not '%s'", optarg);
			break;
		case 'm':
			if (cli_parse_ulong(optarg, CLI_MEMORY_MIB_MIN, CLI_MEMORY_MIB_MAX,
					    &o->memory_mib))
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
			if (cli_parse_irqchip(optarg, &o->irqchip))
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

