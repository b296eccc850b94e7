// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * alcatraz-snapshot: boot a guest, let it warm up, save it to a directory
 * that alcatraz-run --restore starts from (issue 18).
 *
 *   alcatraz-snapshot create DIR [OPTIONS] --guest IMAGE --after-output TEXT
 *   alcatraz-snapshot create DIR [OPTIONS] [-- WARMUP COMMAND]
 *
 * A raw guest is saved once TEXT has appeared in its serial output (its
 * warm point). A Linux guest's main command is a waiter (WAITER below, what
 * alcatraz-run --restore names again); the warm-up command runs beside it
 * as an exec with this process's stdout and stderr, and once it has ended
 * with status 0 the idle guest is saved. The VM is killed after the save.
 *
 * Exit status: 0 saved; 125 with one line on any error.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <alcatraz/alcatraz.h>

#include "cli-args.h"

#define EXIT_RUNTIME 125
#define OUTPUT_MAX (64u << 10) /* serial output kept while looking for TEXT */
#define WARMUP_TIMEOUT_MS 600000
/* A snapshot is taken when the control channel is at rest: records the
 * warm-up's end left in flight take a moment to go. */
#define SAVE_TRIES 50
#define SAVE_RETRY_US 100000

enum { OPT_AFTER_OUTPUT = 256, OPT_IRQCHIP, OPT_CMDLINE, OPT_NET };

struct options {
	const char *dir;
	const char *guest;
	const char *kernel;
	const char *cmdline;
	char **warmup;
	const char *after;
	const char *net;
	unsigned long cpus;
	unsigned long memory_mib;
	enum alcatraz_irqchip irqchip;
	int verbose;
};

static int die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int die(const char *fmt, ...)
{
	va_list ap;

	fputs("alcatraz-snapshot: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_RUNTIME;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: alcatraz-snapshot create DIR [OPTIONS] [-- WARMUP COMMAND]\n"
		"       alcatraz-snapshot create DIR [OPTIONS] --guest IMAGE --after-output TEXT\n"
		"Boot a Linux guest, run the warm-up command in it and save the idle guest\n"
		"to DIR; or boot a raw guest and save it once TEXT appeared on its serial\n"
		"port. alcatraz-run --restore DIR [-- COMMAND] starts from it.\n"
		"\n"
		"  -k, --kernel PATH     guest kernel (default: $ALCATRAZ_KERNEL, else the\n"
		"                        installed one)\n"
		"      --cmdline ARGS    more kernel command line parameters\n"
		"  -g, --guest IMAGE     raw 64-bit guest image\n"
		"      --after-output TEXT  save the raw guest once it has printed TEXT\n"
		"  -c, --cpus N          vCPUs (default 1)\n"
		"  -m, --memory MIB      guest RAM in MiB (default 128)\n"
		"      --irqchip MODE    auto, on or off (default auto)\n"
		"      --net MODE        user (passt) or tap=NAME[,...], as alcatraz-run's;\n"
		"                        restore it with --net too (each clone: a new\n"
		"                        backend and MAC, the same addresses)\n"
		"  -v, --verbose         print the VMM's log on standard error\n"
		"  -h, --help            show this help\n"
		"\n"
		"Restore with the same kernel or image, --cpus, --memory and --irqchip.\n"
		"A guest with disks or volumes cannot be saved yet.\n"
		"Exit status: 0 saved; 125 error.\n");
}

static int parse_number(const char *what, const char *s, unsigned long min, unsigned long max,
			unsigned long *out)
{
	if (cli_parse_ulong(s, min, max, out))
		return die("%s: '%s' is not a number from %lu to %lu", what, s, min, max);
	return 0;
}

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
		{ "guest", required_argument, NULL, 'g' },
		{ "kernel", required_argument, NULL, 'k' },
		{ "cmdline", required_argument, NULL, OPT_CMDLINE },
		{ "after-output", required_argument, NULL, OPT_AFTER_OUTPUT },
		{ "cpus", required_argument, NULL, 'c' },
		{ "memory", required_argument, NULL, 'm' },
		{ "irqchip", required_argument, NULL, OPT_IRQCHIP },
		{ "net", required_argument, NULL, OPT_NET },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, ret = 0;

	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		exit(0);
	}
	if (argc < 3 || strcmp(argv[1], "create")) {
		usage(stderr);
		return EXIT_RUNTIME;
	}
	o->dir = argv[2];
	optind = 3;
	while (!ret && (c = getopt_long(argc, argv, "+g:k:c:m:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'g':
			o->guest = optarg;
			break;
		case 'k':
			o->kernel = optarg;
			break;
		case OPT_CMDLINE:
			o->cmdline = optarg;
			break;
		case OPT_AFTER_OUTPUT:
			o->after = optarg;
			break;
		case 'c':
			ret = parse_number("--cpus", optarg, 1, CLI_CPUS_MAX, &o->cpus);
			break;
		case 'm':
			ret = parse_number("--memory", optarg, CLI_MEMORY_MIB_MIN, CLI_MEMORY_MIB_MAX,
					   &o->memory_mib);
			break;
		case OPT_IRQCHIP:
			if (cli_parse_irqchip(optarg, &o->irqchip))
				ret = die("--irqchip: '%s' is not auto, on or off", optarg);
			break;
		case OPT_NET:
			o->net = optarg;
			break;
		case 'v':
			o->verbose = 1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return EXIT_RUNTIME;
		}
	}
	if (ret)
		return ret;
	if (optind < argc)
		o->warmup = argv + optind;
	if (!o->guest) {
		if (o->after)
			return die("--after-output is for raw guests (--guest IMAGE)");
		return 0;
	}
	if (o->warmup || o->kernel || o->cmdline || o->net)
		return die("a raw guest (--guest IMAGE) takes no %s",
			   o->kernel ? "--kernel" : o->cmdline ? "--cmdline"
			   : o->net ? "--net" : "warm-up command");
	if (!o->after || !o->after[0])
		return die("--after-output TEXT is required (when to save the guest)");
	return 0;
}

/* Reads the guest's serial output until text appears: 0, or 125 with a
 * line when the VM ended first or took too long. */
static int wait_for_output(struct alcatraz_vm *vm, int fd, const char *text)
{
	static char seen[OUTPUT_MAX + 1];
	size_t len = 0, keep = strlen(text);

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int r = poll(&p, 1, WARMUP_TIMEOUT_MS);
		ssize_t n;

		if (r == 0)
			return die("the guest did not print '%s' within %d s", text,
				   WARMUP_TIMEOUT_MS / 1000);
		if (r < 0 && errno == EINTR)
			continue;
		n = read(fd, seen + len, OUTPUT_MAX - len);
		if (n <= 0) {
			struct alcatraz_result res;
			(void)alcatraz_vm_wait(vm, -1);
			(void)alcatraz_vm_result(vm, &res);
			return die("the guest ended before it printed '%s': %s", text, res.message);
		}
		len += (size_t)n;
		seen[len] = '\0';
		if (strstr(seen, text))
			return 0;
		/* Keep the tail that could begin TEXT. */
		if (len > OUTPUT_MAX / 2 && len > keep) {
			memmove(seen, seen + len - keep, keep);
			len = keep;
		}
	}
}

static int create(const struct options *o)
{
	struct alcatraz_config *cfg = NULL;
	struct alcatraz_vm *vm = NULL;
	struct stat st;
	int p[2], ret, code;

	if (stat(o->dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return die("'%s' is not a directory", o->dir);
	if (access(o->guest, R_OK) < 0)
		return die("cannot read guest image '%s': %s", o->guest, strerror(errno));
	if (pipe2(p, O_CLOEXEC) < 0)
		return die("pipe: %s", strerror(errno));
	ret = alcatraz_config_new(&cfg);
	if (!ret && !(ret = alcatraz_config_set_guest_image(cfg, o->guest)) &&
	    !(ret = alcatraz_config_set_vcpus(cfg, (unsigned int)o->cpus)) &&
	    !(ret = alcatraz_config_set_memory_mib(cfg, o->memory_mib)) &&
	    !(ret = alcatraz_config_set_irqchip(cfg, o->irqchip)) &&
	    !(ret = alcatraz_config_set_serial_fd(cfg, p[1])) &&
	    !(o->verbose && (ret = alcatraz_config_set_log_fd(cfg, STDERR_FILENO))))
		ret = alcatraz_vm_create(cfg, &vm);
	alcatraz_config_free(cfg);
	close(p[1]);
	if (ret) {
		close(p[0]);
		return die("cannot create the VM: %s%s", alcatraz_strerror(ret),
			   o->verbose ? "" : " (run with --verbose for details)");
	}
	ret = alcatraz_vm_start(vm);
	code = ret ? die("cannot start the VM: %s", alcatraz_strerror(ret))
		   : wait_for_output(vm, p[0], o->after);
	if (!code) {
		ret = alcatraz_vm_snapshot(vm, o->dir);
		if (ret)
			code = die("cannot save the VM to '%s': %s%s", o->dir, alcatraz_strerror(ret),
				   o->verbose ? "" : " (run with --verbose for details)");
	}
	alcatraz_vm_destroy(vm);
	close(p[0]);
	return code;
}

/* Saves the VM; a channel not yet at rest (-EBUSY) is waited for. */
static int save(struct alcatraz_vm *vm, const struct options *o)
{
	int ret = -EBUSY;

	for (int i = 0; i < SAVE_TRIES && ret == -EBUSY; i++) {
		if (i)
			usleep(SAVE_RETRY_US);
		ret = alcatraz_vm_snapshot(vm, o->dir);
	}
	if (ret)
		return die("cannot save the VM to '%s': %s%s", o->dir, alcatraz_strerror(ret),
			   o->verbose ? "" : " (run with --verbose for details)");
	return 0;
}

/* The warm-up command beside the waiter: 0 when it ended with status 0. */
static int warm_up(struct alcatraz_vm *vm, char **argv)
{
	static const char *const nothing[] = { "true", NULL };
	struct alcatraz_exec ex = { .argv = argv ? (const char *const *)argv : nothing,
				    .in_fd = -1, .out_fd = STDOUT_FILENO, .err_fd = STDERR_FILENO };
	uint32_t id;
	int code = 0, ret = alcatraz_vm_exec(vm, &ex, &id);

	if (!ret)
		ret = alcatraz_vm_exec_wait(vm, id, WARMUP_TIMEOUT_MS, &code);
	if (ret)
		return die("cannot run the warm-up command: %s", alcatraz_strerror(ret));
	if (code)
		return die("the warm-up command failed with status %d: nothing saved", code);
	return 0;
}

/* --net: user (passt) or tap=NAME[,...], one line for each refusal. */
static int set_net(struct alcatraz_config *cfg, const char *net)
{
	const char *passt = getenv("ALCATRAZ_PASST");

	if (!net || !strcmp(net, "none"))
		return 0;
	if (!strcmp(net, "user")) {
		if (!passt || !*passt)
			passt = "/usr/bin/passt";
		if (access(passt, X_OK))
			return die("--net user needs passt (Debian package passt): %s: %s", passt,
				   strerror(errno));
		return alcatraz_config_set_net_user(cfg) ? die("--net user: cannot be set") : 0;
	}
	if (!strncmp(net, "tap=", 4) && !alcatraz_config_set_net_tap(cfg, net + 4))
		return 0;
	return die("--net wants user, tap=NAME[,...] or none, not '%s'", net);
}

static int create_linux(const struct options *o)
{
	static const char *const waiter[] = CLI_SNAPSHOT_WAITER;
	struct alcatraz_config *cfg = NULL;
	struct alcatraz_vm *vm = NULL;
	char kernel[4096];
	struct stat st;
	int ret, code;

	if (stat(o->dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return die("'%s' is not a directory", o->dir);
	if (o->kernel)
		snprintf(kernel, sizeof(kernel), "%s", o->kernel);
	else if ((ret = alcatraz_default_kernel(kernel, sizeof(kernel))))
		return die("no guest kernel: %s (give --kernel PATH or set ALCATRAZ_KERNEL)",
			   alcatraz_strerror(ret));
	if (access(kernel, R_OK) < 0)
		return die("cannot read kernel '%s': %s", kernel, strerror(errno));
	ret = alcatraz_config_new(&cfg);
	if (ret)
		return die("%s", alcatraz_strerror(ret));
	code = set_net(cfg, o->net);
	if (code) {
		alcatraz_config_free(cfg);
		return code;
	}
	if (!(ret = alcatraz_config_set_kernel(cfg, kernel)) &&
	    !(ret = alcatraz_config_set_command(cfg, waiter)) &&
	    !(o->cmdline && (ret = alcatraz_config_set_cmdline(cfg, o->cmdline))) &&
	    !(ret = alcatraz_config_set_vcpus(cfg, (unsigned int)o->cpus)) &&
	    !(ret = alcatraz_config_set_memory_mib(cfg, o->memory_mib)) &&
	    !(ret = alcatraz_config_set_irqchip(cfg, o->irqchip)) &&
	    !(o->verbose && (ret = alcatraz_config_set_log_fd(cfg, STDERR_FILENO))))
		ret = alcatraz_vm_create(cfg, &vm);
	alcatraz_config_free(cfg);
	if (ret)
		return die("cannot create the VM: %s%s", alcatraz_strerror(ret),
			   o->verbose ? "" : " (run with --verbose for details)");
	ret = alcatraz_vm_start(vm);
	code = ret ? die("cannot start the VM: %s", alcatraz_strerror(ret))
		   : warm_up(vm, o->warmup);
	if (!code)
		code = save(vm, o);
	(void)alcatraz_vm_kill(vm);
	alcatraz_vm_destroy(vm);
	return code;
}

int main(int argc, char **argv)
{
	struct options o = { .cpus = 1, .memory_mib = 128, .irqchip = ALCATRAZ_IRQCHIP_AUTO };
	int ret = parse_args(argc, argv, &o);

	if (ret)
		return ret;
	return o.guest ? create(&o) : create_linux(&o);
}
