// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * alcatraz-run: run a guest in a microVM and exit with its status.
 *
 * Exit status: the guest's own status; 124 on timeout; 125 with a one-line
 * message on a runtime error (including a crashed guest); 137 when killed.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <alcatraz/alcatraz.h>

#define EXIT_TIMEOUT 124
#define EXIT_RUNTIME 125

struct options {
	const char *guest;
	const char *kernel;
	unsigned long cpus;
	unsigned long memory_mib;
	double timeout_s;
	enum alcatraz_irqchip irqchip;
	int verbose;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: alcatraz-run [OPTIONS] --guest IMAGE\n"
		"Run a guest in a KVM microVM and exit with its status.\n"
		"\n"
		"  -g, --guest IMAGE     raw 64-bit guest image (entered at 1 MiB)\n"
		"  -c, --cpus N          vCPUs (default 1)\n"
		"  -m, --memory MIB      guest RAM in MiB (default 128)\n"
		"  -t, --timeout SEC     stop the guest after SEC seconds (exit 124)\n"
		"      --irqchip MODE    auto, on or off (default auto)\n"
		"  -v, --verbose         print the VMM's log on standard error\n"
		"  -h, --help            show this help\n"
		"  -V, --version         show the version\n"
		"\n"
		"Exit status: the guest's status; 124 timeout; 125 runtime error or guest\n"
		"crash; 137 killed.\n");
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

static int parse_args(int argc, char **argv, struct options *o)
{
	enum { OPT_IRQCHIP = 256 };
	static const struct option longopts[] = {
		{ "guest", required_argument, NULL, 'g' },
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
	while ((c = getopt_long(argc, argv, "+:g:c:m:t:vhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'g':
			o->guest = optarg;
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
		return die("unexpected argument '%s' (see --help)", argv[optind]);
	if (!o->guest)
		return die("nothing to run: give --guest IMAGE (see --help)");
	return 0;
}

static int status_of(const struct alcatraz_result *r)
{
	switch (r->kind) {
	case ALCATRAZ_EXIT_STATUS:
		return r->status & 0xff;
	case ALCATRAZ_EXIT_SIGNALED:
		return 128 + (r->status & 0x7f);
	case ALCATRAZ_EXIT_HALT:
	case ALCATRAZ_EXIT_SHUTDOWN:
	case ALCATRAZ_EXIT_RESET:
		return 0;
	case ALCATRAZ_EXIT_TIMEOUT:
		fprintf(stderr, "alcatraz-run: %s\n", r->message);
		return EXIT_TIMEOUT;
	case ALCATRAZ_EXIT_KILLED:
		return 137;
	case ALCATRAZ_EXIT_CRASH:
		return die("guest crashed: %s", r->message);
	default:
		return die("%s", r->message[0] ? r->message : "the VM failed");
	}
}

static int run(const struct options *o)
{
	struct alcatraz_config *cfg = NULL;
	struct alcatraz_vm *vm = NULL;
	struct alcatraz_result res;
	int ret;

	if (access(o->guest, R_OK) < 0)
		return die("cannot read guest image '%s': %s", o->guest, strerror(errno));
	ret = alcatraz_config_new(&cfg);
	if (ret)
		return die("%s", alcatraz_strerror(ret));
	if ((ret = alcatraz_config_set_guest_image(cfg, o->guest)) ||
	    (ret = alcatraz_config_set_vcpus(cfg, (unsigned int)o->cpus)) ||
	    (ret = alcatraz_config_set_memory_mib(cfg, o->memory_mib)) ||
	    (ret = alcatraz_config_set_irqchip(cfg, o->irqchip)) ||
	    (ret = alcatraz_config_set_serial_fd(cfg, STDOUT_FILENO)) ||
	    (ret = alcatraz_config_set_timeout_ms(cfg, (uint64_t)(o->timeout_s * 1000.0))) ||
	    (o->verbose && (ret = alcatraz_config_set_log_fd(cfg, STDERR_FILENO)))) {
		alcatraz_config_free(cfg);
		return die("bad configuration: %s", alcatraz_strerror(ret));
	}
	ret = alcatraz_vm_create(cfg, &vm);
	alcatraz_config_free(cfg);
	if (ret) {
		if (ret == -ENOENT && access("/dev/kvm", F_OK) < 0)
			return die("/dev/kvm does not exist: this host needs KVM (load kvm_intel or kvm_amd, or enable virtualization in the firmware)");
		if (ret == -EACCES)
			return die("/dev/kvm is not accessible: run as root or add your user to the 'kvm' group");
		return die("cannot create the VM: %s%s", alcatraz_strerror(ret),
			   o->verbose ? "" : " (run with --verbose for details)");
	}
	ret = alcatraz_vm_start(vm);
	if (ret == 0)
		ret = alcatraz_vm_wait(vm, -1);
	if (ret == 0)
		ret = alcatraz_vm_result(vm, &res);
	alcatraz_vm_destroy(vm);
	if (ret)
		return die("%s", alcatraz_strerror(ret));
	return status_of(&res);
}

int main(int argc, char **argv)
{
	struct options o = { .cpus = 1, .memory_mib = 128, .irqchip = ALCATRAZ_IRQCHIP_AUTO };
	int ret = parse_args(argc, argv, &o);

	if (ret)
		return ret;
	fflush(stdout);
	return run(&o);
}
