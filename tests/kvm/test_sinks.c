// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Description: guest output never holds the VM or kills its caller, through
 * the library: with the serial port and the log on a full pipe nobody
 * reads, alcatraz_vm_kill() and alcatraz_vm_destroy() end a guest that
 * prints for ever within a second; with the reader gone, the caller
 * (SIGPIPE at its default action) survives and gets the guest's own status.
 * With and without the sandbox.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <alcatraz/alcatraz.h>

#include "check_main.h"

#define SETTLE_US 300000 /* the guest is printing into the full pipe by then */
#define END_LIMIT_MS 1000

static const char *guest_dir;

/* Fills the pipe through a second, non-blocking description of it, so
 * the guest's first line finds it full (a writer that waits for room then
 * waits for ever: p[0] is never read). */
static void fill_pipe(int wfd)
{
	char path[32], junk[4096];
	int fd;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", wfd);
	fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	memset(junk, '#', sizeof(junk));
	while (write(fd, junk, sizeof(junk)) > 0)
		;
	while (write(fd, junk, 1) == 1)
		;
	close(fd);
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A VM running `name` with its serial port and its log on fd; started. */
static struct alcatraz_vm *start_guest(const char *name, int fd, bool sandbox)
{
	struct alcatraz_config *cfg;
	struct alcatraz_vm *vm;
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s.img", guest_dir, name);
	ck_assert_int_eq(alcatraz_config_new(&cfg), 0);
	ck_assert_int_eq(alcatraz_config_set_guest_image(cfg, path), 0);
	ck_assert_int_eq(alcatraz_config_set_memory_mib(cfg, 16), 0);
	ck_assert_int_eq(alcatraz_config_set_serial_fd(cfg, fd), 0);
	ck_assert_int_eq(alcatraz_config_set_log_fd(cfg, fd), 0);
	ck_assert_int_eq(alcatraz_config_set_insecure_no_sandbox(cfg, !sandbox), 0);
	ck_assert_int_eq(alcatraz_vm_create(cfg, &vm), 0);
	alcatraz_config_free(cfg);
	ck_assert_int_eq(alcatraz_vm_start(vm), 0);
	return vm;
}

static void kill_stalled(bool sandbox)
{
	struct alcatraz_result res;
	struct alcatraz_vm *vm;
	uint64_t t0, waited, destroyed;
	int p[2];

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0); /* p[0] stays open, never read */
	fill_pipe(p[1]);
	vm = start_guest("spew", p[1], sandbox);
	usleep(SETTLE_US);
	t0 = now_ms();
	ck_assert_int_eq(alcatraz_vm_kill(vm), 0);
	ck_assert_int_eq(alcatraz_vm_wait(vm, 5000), 0);
	waited = now_ms() - t0;
	ck_assert_int_eq(alcatraz_vm_result(vm, &res), 0);
	ck_assert_int_eq(res.kind, ALCATRAZ_EXIT_KILLED);
	alcatraz_vm_destroy(vm);
	destroyed = now_ms() - t0;
	printf("kill with a stalled sink (%s): ended after %llu ms, destroyed after %llu ms\n",
	       sandbox ? "sandbox" : "no sandbox", (unsigned long long)waited,
	       (unsigned long long)destroyed);
	ck_assert_uint_le(waited, END_LIMIT_MS);
	ck_assert_uint_le(destroyed, END_LIMIT_MS);
	close(p[0]);
	close(p[1]);
}

static void destroy_stalled(bool sandbox)
{
	struct alcatraz_vm *vm;
	uint64_t t0, took;
	int p[2];

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	fill_pipe(p[1]);
	vm = start_guest("spew", p[1], sandbox);
	usleep(SETTLE_US);
	t0 = now_ms();
	alcatraz_vm_destroy(vm);
	took = now_ms() - t0;
	printf("destroy with a stalled sink (%s): %llu ms\n", sandbox ? "sandbox" : "no sandbox",
	       (unsigned long long)took);
	ck_assert_uint_le(took, END_LIMIT_MS);
	close(p[0]);
	close(p[1]);
}

static void reader_gone(bool sandbox)
{
	struct alcatraz_result res;
	struct alcatraz_vm *vm;
	int p[2];

	ck_assert(signal(SIGPIPE, SIG_DFL) != SIG_ERR);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	close(p[0]);
	vm = start_guest("spew_exit", p[1], sandbox);
	ck_assert_int_eq(alcatraz_vm_wait(vm, 60000), 0);
	ck_assert_int_eq(alcatraz_vm_result(vm, &res), 0);
	ck_assert_int_eq(res.kind, ALCATRAZ_EXIT_STATUS);
	ck_assert_int_eq(res.status, 0);
	alcatraz_vm_destroy(vm);
	close(p[1]);
}

START_TEST(kill_stalled_sandbox) { kill_stalled(true); }
END_TEST
START_TEST(kill_stalled_no_sandbox) { kill_stalled(false); }
END_TEST
START_TEST(destroy_stalled_sandbox) { destroy_stalled(true); }
END_TEST
START_TEST(destroy_stalled_no_sandbox) { destroy_stalled(false); }
END_TEST
START_TEST(reader_gone_sandbox) { reader_gone(true); }
END_TEST
START_TEST(reader_gone_no_sandbox) { reader_gone(false); }
END_TEST

int main(int argc, char **argv)
{
	Suite *s = suite_create("sinks");
	TCase *tc = tcase_create("sinks");
	int skip;

	if (argc < 2) {
		fprintf(stderr, "usage: %s GUEST_DIR\n", argv[0]);
		return 2;
	}
	guest_dir = argv[1];
	skip = skip_without_kvm();
	if (skip)
		return skip;
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, kill_stalled_sandbox);
	tcase_add_test(tc, kill_stalled_no_sandbox);
	tcase_add_test(tc, destroy_stalled_sandbox);
	tcase_add_test(tc, destroy_stalled_no_sandbox);
	tcase_add_test(tc, reader_gone_sandbox);
	tcase_add_test(tc, reader_gone_no_sandbox);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
