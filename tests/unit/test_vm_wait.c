// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Description: vm_wait() against the device thread. A caller already asleep
 * in vm_wait() for the last output of an ended VM is woken as soon as the
 * device thread has written it, whichever buffer held it: the guest's, or
 * the log's, which names no VM of its own. And output written out before
 * the VM ended lets vm_wait() return at the end.
 *
 * Deterministic: the sink stays full until the waiter is known to sleep.
 * The link wraps pthread_cond_timedwait (-Wl,--wrap) to count the waits on
 * the VM's condition; then the helper takes vm->lock, which the waiter
 * gives up only inside that wait, and only then makes room in the sink. A
 * missed wakeup shows as a wait that ran into its deadline (vm_wait() then
 * finds the output written and returns 0, WAIT_MS late).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "evloop.h"
#include "outbuf.h"
#include "vmm.h"
#include "check_main.h"
#include "fake_vm.h"

#define WAIT_MS 5000   /* vm_wait()'s bound in the tests */
#define PIPE_CAP 4096  /* one page: quick to fill and to empty */
#define LOG_CAP (16u * 1024)

int __real_pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
				  const struct timespec *ts);
int __wrap_pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
				  const struct timespec *ts);

static struct vm *vm;
static struct outbuf *ob;
static int p[2];
static int vm_waits;    /* waits on vm->cond entered */
static int vm_timeouts; /* and those that ended by their deadline */

int __wrap_pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
				  const struct timespec *ts)
{
	bool ours = vm && c == &vm->cond;
	int ret;

	if (ours)
		__atomic_add_fetch(&vm_waits, 1, __ATOMIC_SEQ_CST);
	ret = __real_pthread_cond_timedwait(c, m, ts);
	if (ours && ret == ETIMEDOUT)
		__atomic_add_fetch(&vm_timeouts, 1, __ATOMIC_SEQ_CST);
	return ret;
}

/* A started VM whose vCPUs are gone, as vm_create() and vm_start() leave
 * it, without KVM: the device thread, the port bus, the lock and condition. */
static void setup(void)
{
	pthread_condattr_t ca;

	vm = fake_vm_new(0);
	ck_assert_int_eq(bus_init(&vm->pio), 0); /* vm_wait() takes its lock */
	/* vm_wait()'s deadlines are CLOCK_MONOTONIC, as vm_create() sets it. */
	pthread_cond_destroy(&vm->cond);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&vm->cond, &ca);
	pthread_condattr_destroy(&ca);
	ck_assert_int_eq(evloop_new(vm, &vm->evloop), 0);
	vm->started = true;
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(fcntl(p[1], F_SETPIPE_SZ, PIPE_CAP), PIPE_CAP);
	ob = NULL;
	vm_waits = vm_timeouts = 0;
}

static void teardown(void)
{
	struct vm *v = vm;

	evloop_free(v->evloop); /* before the buffer it drains */
	v->evloop = NULL;
	outbuf_free(ob);
	close(p[0]);
	close(p[1]);
	bus_fini(&v->pio);
	vm = NULL;
	fake_vm_free(v);
}

/* Fills the sink; returns the bytes now in it. */
static size_t fill_sink(void)
{
	int queued = 0;

	fill_pipe(p[1]);
	ck_assert_int_eq(ioctl(p[0], FIONREAD, &queued), 0);
	ck_assert_int_gt(queued, 0);
	return (size_t)queued;
}

static void read_exactly(int fd, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len && (n = read(fd, buf + got, len - got)) > 0)
		got += (size_t)n;
	ck_assert_uint_eq(got, len);
}

struct helper {
	pthread_t thread;
	size_t filled;
	bool end_vm; /* end the VM once the output is written */
};

/* Waits until vm_wait() sleeps, then lets the sink take everything. */
static void *unblock_sink(void *arg)
{
	struct helper *h = arg;
	char *junk = malloc(h->filled);

	while (!__atomic_load_n(&vm_waits, __ATOMIC_SEQ_CST))
		usleep(1000);
	pthread_mutex_lock(&vm->lock); /* free only while the waiter sleeps */
	pthread_mutex_unlock(&vm->lock);
	read_exactly(p[0], junk, h->filled);
	free(junk);
	if (h->end_vm) {
		while (!evloop_outputs_idle(vm->evloop))
			usleep(1000);
		vm_end(vm, ALCATRAZ_EXIT_STATUS, 0, 0, "guest exited with status 0");
	}
	return NULL;
}

/* The last line waits in ob behind a full sink while vm_wait() sleeps;
 * returns what vm_wait() returned, after checking that the line arrived
 * and that a wakeup, not the deadline, ended the wait. */
static int wait_for_last_line(struct vm *ob_vm, const char *name, bool ended)
{
	static const char line[] = "alcatraz: debug: VM ended (status): guest exited with status 0\n";
	struct helper h = { .end_vm = !ended };
	char got[sizeof(line)] = "";
	int ret;

	h.filled = fill_sink();
	ck_assert_int_eq(outbuf_new(ob_vm, name, p[1], LOG_CAP, false, &ob), 0);
	ck_assert_int_eq(evloop_add_outbuf(vm->evloop, ob), 0);
	ck_assert_int_eq(evloop_start(vm->evloop), 0);
	vm->ended = ended;
	ck_assert(outbuf_put_all(ob, line, strlen(line)));
	ck_assert_int_eq(pthread_create(&h.thread, NULL, unblock_sink, &h), 0);
	ret = vm_wait(vm, WAIT_MS);
	ck_assert_int_eq(pthread_join(h.thread, NULL), 0);
	read_exactly(p[0], got, strlen(line));
	ck_assert_str_eq(got, line);
	ck_assert_msg(__atomic_load_n(&vm_timeouts, __ATOMIC_SEQ_CST) == 0,
		      "vm_wait() slept until its deadline: the wakeup was lost");
	return ret;
}

/* vm_create() makes the log's buffer with no VM, so that its own drops are
 * not logged into it; the device thread must wake the waiter all the same. */
START_TEST(log_output_wakes_waiter)
{
	ck_assert_int_eq(wait_for_last_line(NULL, "log", true), 0);
}
END_TEST

START_TEST(guest_output_wakes_waiter)
{
	ck_assert_int_eq(wait_for_last_line(vm, "serial", true), 0);
}
END_TEST

/* Written out while the VM still ran (no broadcast then): the end itself
 * wakes the waiter, which finds the buffer idle. */
START_TEST(output_written_before_the_end)
{
	ck_assert_int_eq(wait_for_last_line(NULL, "log", false), 0);
	ck_assert_int_eq(vm->result.kind, ALCATRAZ_EXIT_STATUS);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("vm_wait");
	TCase *tc = tcase_create("vm_wait");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, log_output_wakes_waiter);
	tcase_add_test(tc, guest_output_wakes_waiter);
	tcase_add_test(tc, output_written_before_the_end);
	suite_add_tcase(su, tc);
	return run_suite(su);
}
