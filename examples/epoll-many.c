// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * epoll-many: many VMs from one thread and one epoll loop.
 *
 *   epoll-many [--count N] [--parallel P] [--memory MIB] [--timeout SEC]
 *              [--expect-status S] IMAGE
 *
 * Runs the raw guest IMAGE (for instance tests/guests/exit_status.img) N
 * times (default 100), at most P at once (default: all of them). Each VM's
 * alcatraz_vm_fd() sits in one epoll set; when it polls readable the VM has
 * ended, its result is read and printed, and its handle destroyed. Nothing
 * here blocks on one VM while the others run, and no thread is started per
 * VM: the program prints how many threads it had at most.
 *
 * Exit status: 0 when every VM ended with ALCATRAZ_EXIT_STATUS and status S
 * (--expect-status; without it, with any status), 1 otherwise, 125 on bad
 * usage.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <alcatraz/alcatraz.h>

#define DEFAULT_COUNT 100
#define MAX_COUNT 100000
#define DEFAULT_MEMORY_MIB 8
#define DEFAULT_TIMEOUT_S 60
#define MAX_EVENTS 64

struct options {
	const char *image;
	unsigned long count, parallel, memory_mib, timeout_s;
	long expect; /* -1: any status */
};

struct slot {
	struct alcatraz_vm *vm;
	uint64_t start_ns;
};

struct totals {
	unsigned long ok, bad, running, max_running, max_threads;
	uint64_t vcpu_ns, rss_sum, rss_max, disk_read, disk_written;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int parse_num(const char *opt, const char *s, unsigned long min, unsigned long max,
		     unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || *out < min || *out > max) {
		fprintf(stderr, "epoll-many: %s wants a number from %lu to %lu, not '%s'\n",
			opt, min, max, s);
		return -1;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct options *o)
{
	unsigned long v;
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i += 2) {
		const char *opt = argv[i];

		if (i + 1 >= argc) {
			fprintf(stderr, "epoll-many: %s needs an argument\n", opt);
			return -1;
		}
		if (!strcmp(opt, "--count")) {
			if (parse_num(opt, argv[i + 1], 1, MAX_COUNT, &o->count))
				return -1;
		} else if (!strcmp(opt, "--parallel")) {
			if (parse_num(opt, argv[i + 1], 1, MAX_COUNT, &o->parallel))
				return -1;
		} else if (!strcmp(opt, "--memory")) {
			if (parse_num(opt, argv[i + 1], 2, 3072, &o->memory_mib))
				return -1;
		} else if (!strcmp(opt, "--timeout")) {
			if (parse_num(opt, argv[i + 1], 1, 86400, &o->timeout_s))
				return -1;
		} else if (!strcmp(opt, "--expect-status")) {
			if (parse_num(opt, argv[i + 1], 0, 255, &v))
				return -1;
			o->expect = (long)v;
		} else {
			fprintf(stderr, "epoll-many: unknown option '%s'\n", opt);
			return -1;
		}
	}
	if (i + 1 != argc) {
		fprintf(stderr, "usage: epoll-many [--count N] [--parallel P] [--memory MIB] "
				"[--timeout SEC] [--expect-status S] IMAGE\n");
		return -1;
	}
	o->image = argv[i];
	if (!o->parallel || o->parallel > o->count)
		o->parallel = o->count;
	return 0;
}

/* A pidfd, a socket and a log descriptor or so per VM: allow thousands. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static unsigned long thread_count(void)
{
	char line[256];
	unsigned long n = 0;
	FILE *f = fopen("/proc/self/status", "re");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "Threads: %lu", &n) == 1)
			break;
	if (f)
		fclose(f);
	return n;
}

/* Creates and starts VM @i and adds its descriptor to @ep: 0 or -errno. */
static int launch(const struct options *o, int ep, struct slot *s, unsigned long i)
{
	struct alcatraz_config *cfg;
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = i };
	int ret, fd;

	if ((ret = alcatraz_config_new(&cfg)))
		return ret;
	if ((ret = alcatraz_config_set_guest_image(cfg, o->image)) ||
	    (ret = alcatraz_config_set_memory_mib(cfg, o->memory_mib)) ||
	    (ret = alcatraz_config_set_timeout_ms(cfg, o->timeout_s * 1000))) {
		alcatraz_config_free(cfg);
		return ret;
	}
	ret = alcatraz_vm_create(cfg, &s->vm);
	alcatraz_config_free(cfg);
	if (ret)
		return ret;
	s->start_ns = now_ns();
	fd = alcatraz_vm_fd(s->vm);
	if (fd < 0)
		ret = fd;
	else if ((ret = alcatraz_vm_start(s->vm)) == 0 && epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		ret = -errno;
	if (ret) {
		alcatraz_vm_destroy(s->vm);
		s->vm = NULL;
	}
	return ret;
}

static void count_result(const struct options *o, struct totals *t, unsigned long i,
			 const struct alcatraz_result *r, uint64_t ms)
{
	const struct alcatraz_usage *u = &r->usage;
	bool ok = r->kind == ALCATRAZ_EXIT_STATUS && (o->expect < 0 || r->status == o->expect);

	printf("vm %lu: %s, exit code %d (%s), %llu ms, vcpu %.3f ms, vmm peak rss %.1f MiB\n",
	       i, alcatraz_exit_kind_name(r->kind), alcatraz_result_exit_code(r), r->message,
	       (unsigned long long)ms, u->vcpu_cpu_ns / 1e6, u->vmm_peak_rss_bytes / 1048576.0);
	if (ok)
		t->ok++;
	else
		t->bad++;
	t->vcpu_ns += u->vcpu_cpu_ns;
	t->rss_sum += u->vmm_peak_rss_bytes;
	if (u->vmm_peak_rss_bytes > t->rss_max)
		t->rss_max = u->vmm_peak_rss_bytes;
	t->disk_read += u->disk_read_bytes;
	t->disk_written += u->disk_written_bytes;
}

/* VM @i's descriptor polled readable: its result, then its handle goes. */
static void reap(const struct options *o, int ep, struct slot *s, unsigned long i,
		 struct totals *t)
{
	struct alcatraz_result r;
	int ret;

	epoll_ctl(ep, EPOLL_CTL_DEL, alcatraz_vm_fd(s->vm), NULL);
	ret = alcatraz_vm_wait(s->vm, 0);
	if (ret == 0)
		ret = alcatraz_vm_result(s->vm, &r);
	if (ret) {
		/* The descriptor promised an ended VM: a broken promise counts. */
		printf("vm %lu: readable but not ended: %s\n", i, alcatraz_strerror(ret));
		t->bad++;
	} else {
		count_result(o, t, i, &r, (now_ns() - s->start_ns) / 1000000);
	}
	alcatraz_vm_destroy(s->vm);
	s->vm = NULL;
	t->running--;
}

static int run(const struct options *o, struct slot *slots, struct totals *t)
{
	struct epoll_event evs[MAX_EVENTS];
	unsigned long next = 0;
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep < 0) {
		perror("epoll-many: epoll_create1");
		return -1;
	}
	while (next < o->count || t->running) {
		/* Fill up to P running VMs; between launches, poll without
		 * waiting so that ended VMs are taken as they end. */
		if (next < o->count && t->running < o->parallel) {
			int ret = launch(o, ep, &slots[next], next);

			if (ret) {
				printf("vm %lu: not started: %s\n", next, alcatraz_strerror(ret));
				t->bad++;
			} else if (++t->running > t->max_running) {
				t->max_running = t->running;
			}
			next++;
			unsigned long threads = thread_count();
			if (threads > t->max_threads)
				t->max_threads = threads;
		}
		bool more = next < o->count && t->running < o->parallel;
		int n = epoll_wait(ep, evs, MAX_EVENTS, more ? 0 : -1);

		if (n < 0 && errno != EINTR) {
			perror("epoll-many: epoll_wait");
			close(ep);
			return -1;
		}
		for (int k = 0; k < n; k++)
			reap(o, ep, &slots[evs[k].data.u64], evs[k].data.u64, t);
	}
	close(ep);
	return 0;
}

int main(int argc, char **argv)
{
	struct options o = { .count = DEFAULT_COUNT, .memory_mib = DEFAULT_MEMORY_MIB,
			     .timeout_s = DEFAULT_TIMEOUT_S, .expect = -1 };
	struct totals t = { 0 };
	struct slot *slots;
	uint64_t t0;

	if (parse_args(argc, argv, &o))
		return 125;
	if (access(o.image, R_OK) < 0) {
		fprintf(stderr, "epoll-many: cannot read guest image '%s': %s\n", o.image,
			strerror(errno));
		return 125;
	}
	slots = calloc(o.count, sizeof(*slots));
	if (!slots) {
		fprintf(stderr, "epoll-many: out of memory\n");
		return 125;
	}
	raise_nofile();
	t0 = now_ns();
	if (run(&o, slots, &t)) {
		free(slots);
		return 125;
	}
	printf("total: %lu VMs, %lu ended as expected, %lu not; %.3f s wall, at most %lu running at once, "
	       "%lu threads at most in this process; vcpu %.3f ms; vmm peak rss max %.1f MiB, "
	       "sum %.1f MiB; disk read %llu B, written %llu B\n",
	       o.count, t.ok, t.bad, (now_ns() - t0) / 1e9, t.max_running, t.max_threads,
	       t.vcpu_ns / 1e6, t.rss_max / 1048576.0, t.rss_sum / 1048576.0,
	       (unsigned long long)t.disk_read, (unsigned long long)t.disk_written);
	free(slots);
	return t.bad ? 1 : 0;
}
