// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * How a VM with alcatraz-init ends: a STATUS record from the guest is the
 * command's result; a reset or power-off before it is a crash (a guest
 * kernel panic reboots), never status 0.  Raw guests keep reset = 0.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "control.h"
#include "fake_vm.h"
#include "vmm.h"
#include "../../src/guest/control_proto.h"

static struct vm *vm;
static char *argv_true[] = { "true", NULL };

static void make_vm(bool with_init)
{
	vm = fake_vm_new(0);
	vm->cfg.argv = argv_true;
	if (with_init)
		ck_assert_int_eq(control_new(vm), 0);
}

static void teardown(void)
{
	fake_vm_free(vm);
	vm = NULL;
}

/* The guest's STATUS record: kind, value, guest time. */
static int send_status(uint32_t kind, int32_t value)
{
	uint8_t rec[ALCATRAZ_CTL_HDR_SIZE + ALCATRAZ_CTL_STATUS_LEN] = { 0 };

	alcatraz_ctl_put_hdr(rec, ALCATRAZ_CTL_STATUS, ALCATRAZ_CTL_STATUS_LEN);
	alcatraz_ctl_put_le32(rec + ALCATRAZ_CTL_HDR_SIZE, kind);
	alcatraz_ctl_put_le32(rec + ALCATRAZ_CTL_HDR_SIZE + 4, (uint32_t)value);
	return control_receive(vm, rec, sizeof(rec));
}

START_TEST(reset_before_status_is_a_crash)
{
	make_vm(true);
	ck_assert(control_awaits_status(vm));
	vm_guest_ended(vm, ALCATRAZ_EXIT_RESET, "guest reset the machine (i8042)");
	ck_assert_int_eq(vm->result.kind, ALCATRAZ_EXIT_CRASH);
	ck_assert_ptr_nonnull(strstr(vm->result.message,
				     "reset the machine (i8042) before alcatraz-init reported"));
	teardown();
}
END_TEST

START_TEST(poweroff_before_status_is_a_crash)
{
	make_vm(true);
	vm_guest_ended(vm, ALCATRAZ_EXIT_SHUTDOWN, "guest powered off");
	ck_assert_int_eq(vm->result.kind, ALCATRAZ_EXIT_CRASH);
	teardown();
}
END_TEST

START_TEST(reset_after_status_keeps_the_status)
{
	make_vm(true);
	ck_assert_int_eq(send_status(ALCATRAZ_CTL_ST_EXITED, 3), 0);
	ck_assert(!control_awaits_status(vm));
	ck_assert_int_eq(vm->result.kind, ALCATRAZ_EXIT_STATUS);
	vm_guest_ended(vm, ALCATRAZ_EXIT_RESET, "guest reset the machine (i8042)");
	ck_assert_int_eq(vm->result.kind, ALCATRAZ_EXIT_STATUS);
	ck_assert_int_eq(vm->result.status, 3);
	teardown();
}
END_TEST

START_TEST(raw_guest_reset_is_a_reset)
{
	struct alcatraz_result r;

	make_vm(false);
	ck_assert(!control_awaits_status(vm));
	vm_guest_ended(vm, ALCATRAZ_EXIT_RESET, "guest reset the machine (i8042)");
	ck_assert_int_eq(vm->result.kind, ALCATRAZ_EXIT_RESET);
	r = vm->result;
	ck_assert_int_eq(alcatraz_result_exit_code(&r), 0);
	teardown();
}
END_TEST

START_TEST(crash_exit_code_is_125)
{
	struct alcatraz_result r;

	make_vm(true);
	vm_guest_ended(vm, ALCATRAZ_EXIT_RESET, "guest requested a reset");
	r = vm->result;
	ck_assert_int_eq(alcatraz_result_exit_code(&r), 125);
	teardown();
}
END_TEST

/* ------------------------------------------- hostile records from the guest */

static int send_event(uint32_t ev)
{
	uint8_t rec[ALCATRAZ_CTL_HDR_SIZE + ALCATRAZ_CTL_EVENT_LEN] = { 0 };

	alcatraz_ctl_put_hdr(rec, ALCATRAZ_CTL_EVENT, ALCATRAZ_CTL_EVENT_LEN);
	alcatraz_ctl_put_le32(rec + ALCATRAZ_CTL_HDR_SIZE, ev);
	return control_receive(vm, rec, sizeof(rec));
}

static void assert_protocol_error(void)
{
	ck_assert(vm->ended);
	ck_assert_int_eq(vm->result.kind, ALCATRAZ_EXIT_ERROR);
	ck_assert_int_eq(vm->result.error, -EPROTO);
	ck_assert_ptr_nonnull(strstr(vm->result.message, "control channel"));
}

/* Everything the host has queued for the guest, as one buffer. */
static size_t take_all(uint8_t *buf, size_t cap)
{
	size_t n = 0, got;

	while ((got = control_take(vm, buf + n, cap - n)) > 0)
		n += got;
	return n;
}

/* Records may arrive a byte at a time; the command goes out once. */
START_TEST(records_split_bytewise)
{
	uint8_t rec[ALCATRAZ_CTL_HDR_SIZE + ALCATRAZ_CTL_EVENT_LEN] = { 0 }, out[256];

	make_vm(true);
	alcatraz_ctl_put_hdr(rec, ALCATRAZ_CTL_EVENT, ALCATRAZ_CTL_EVENT_LEN);
	alcatraz_ctl_put_le32(rec + ALCATRAZ_CTL_HDR_SIZE, ALCATRAZ_CTL_EV_INIT_START);
	for (size_t i = 0; i < sizeof(rec); i++)
		ck_assert_int_eq(control_receive(vm, rec + i, 1), 0);
	ck_assert(!vm->ended);
	size_t n = take_all(out, sizeof(out));
	/* ARG "true", END, STDIN_EOF(0) (no stdin). */
	ck_assert_uint_eq(n, 3 * ALCATRAZ_CTL_HDR_SIZE + 4 + ALCATRAZ_CTL_STDIN_EOF_LEN);
	ck_assert_uint_eq(alcatraz_ctl_get_le32(out + 4), ALCATRAZ_CTL_ARG);
	ck_assert_mem_eq(out + ALCATRAZ_CTL_HDR_SIZE, "true", 4);
	ck_assert_uint_eq(alcatraz_ctl_get_le32(out + 16 + 4), ALCATRAZ_CTL_END);
	ck_assert_uint_eq(alcatraz_ctl_get_le32(out + 28 + 4), ALCATRAZ_CTL_STDIN_EOF);
	ck_assert_int_eq(send_event(ALCATRAZ_CTL_EV_CMD_START), 0);
	ck_assert(control_stdin_open(vm));
	ck_assert_int_eq(send_status(ALCATRAZ_CTL_ST_EXITED, 7), 0);
	ck_assert_int_eq(vm->result.kind, ALCATRAZ_EXIT_STATUS);
	ck_assert_int_eq(vm->result.status, 7);
	teardown();
}
END_TEST

/* A VM with a stderr sink tells init to use the stderr port. */
START_TEST(stderr_sink_sends_stdio_flag)
{
	uint8_t out[256];
	size_t n;

	vm = fake_vm_new(0);
	vm->cfg.argv = argv_true;
	vm->cfg.stderr_fd = 1000; /* only its presence matters here */
	ck_assert_int_eq(control_new(vm), 0);
	ck_assert_int_eq(send_event(ALCATRAZ_CTL_EV_INIT_START), 0);
	n = take_all(out, sizeof(out));
	ck_assert_uint_eq(n, 4 * ALCATRAZ_CTL_HDR_SIZE + 4 + ALCATRAZ_CTL_STDIO_LEN +
				     ALCATRAZ_CTL_STDIN_EOF_LEN);
	ck_assert_uint_eq(alcatraz_ctl_get_le32(out + 16 + 4), ALCATRAZ_CTL_STDIO);
	ck_assert_uint_eq(alcatraz_ctl_get_le32(out + 16 + 8), ALCATRAZ_CTL_STDIO_LEN);
	ck_assert_uint_eq(alcatraz_ctl_get_le32(out + 16 + 12), ALCATRAZ_CTL_STDIO_STDERR_PORT);
	ck_assert_uint_eq(alcatraz_ctl_get_le32(out + 32 + 4), ALCATRAZ_CTL_END);
	vm->cfg.stderr_fd = -1;
	teardown();
}
END_TEST

START_TEST(bad_headers_end_the_vm)
{
	uint8_t rec[ALCATRAZ_CTL_HDR_SIZE] = { 0 };
	static const uint32_t bad[][3] = {
		{ 0x32434c41u, ALCATRAZ_CTL_EVENT, ALCATRAZ_CTL_EVENT_LEN },  /* magic */
		{ ALCATRAZ_CTL_MAGIC, ALCATRAZ_CTL_ARG, 4 },                  /* host's type */
		{ ALCATRAZ_CTL_MAGIC, 99, 16 },                               /* unknown type */
		{ ALCATRAZ_CTL_MAGIC, ALCATRAZ_CTL_EVENT, 17 },               /* length */
		{ ALCATRAZ_CTL_MAGIC, ALCATRAZ_CTL_STATUS, UINT32_MAX },      /* length */
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		make_vm(true);
		alcatraz_ctl_put_le32(rec, bad[i][0]);
		alcatraz_ctl_put_le32(rec + 4, bad[i][1]);
		alcatraz_ctl_put_le32(rec + 8, bad[i][2]);
		ck_assert_int_eq(control_receive(vm, rec, sizeof(rec)), -EPROTO);
		assert_protocol_error();
		teardown();
	}
}
END_TEST

START_TEST(out_of_order_events_end_the_vm)
{
	make_vm(true);
	ck_assert_int_eq(send_event(ALCATRAZ_CTL_EV_CMD_START), -EPROTO); /* before INIT_START */
	assert_protocol_error();
	ck_assert(!control_stdin_open(vm));
	teardown();

	make_vm(true);
	ck_assert_int_eq(send_event(ALCATRAZ_CTL_EV_INIT_START), 0);
	ck_assert_int_eq(send_event(ALCATRAZ_CTL_EV_INIT_START), -EPROTO); /* twice */
	assert_protocol_error();
	teardown();

	make_vm(true);
	ck_assert_int_eq(send_event(0x1234), -EPROTO); /* unknown event */
	assert_protocol_error();
	teardown();
}
END_TEST

START_TEST(too_many_events_end_the_vm)
{
	make_vm(true);
	ck_assert_int_eq(send_event(ALCATRAZ_CTL_EV_INIT_START), 0);
	for (unsigned int i = 1; i < ALCATRAZ_CTL_MAX_EVENTS; i++)
		ck_assert_int_eq(send_event(ALCATRAZ_CTL_EV_CMD_START), 0);
	ck_assert(!vm->ended);
	ck_assert_int_eq(send_event(ALCATRAZ_CTL_EV_CMD_START), -EPROTO);
	assert_protocol_error();
	teardown();
}
END_TEST

/* STATUS is the last record: the first one stands, anything after it is a
 * protocol error that changes nothing. */
START_TEST(record_after_status)
{
	make_vm(true);
	ck_assert_int_eq(send_status(ALCATRAZ_CTL_ST_EXITED, 0), 0);
	ck_assert_int_eq(send_status(ALCATRAZ_CTL_ST_EXITED, 9), -EPROTO);
	ck_assert_int_eq(send_event(ALCATRAZ_CTL_EV_INIT_START), -EPROTO);
	ck_assert_int_eq(vm->result.kind, ALCATRAZ_EXIT_STATUS);
	ck_assert_int_eq(vm->result.status, 0);
	teardown();
}
END_TEST

/* Out-of-range statuses are not trusted: a runtime error, never a status. */
START_TEST(invalid_status_values)
{
	static const int32_t st[][2] = {
		{ ALCATRAZ_CTL_ST_EXITED, 256 },  { ALCATRAZ_CTL_ST_EXITED, -1 },
		{ ALCATRAZ_CTL_ST_SIGNALED, 0 },  { ALCATRAZ_CTL_ST_SIGNALED, 65 },
		{ 0, 0 },                         { 99, 0 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(st); i++) {
		make_vm(true);
		ck_assert_int_eq(send_status((uint32_t)st[i][0], st[i][1]), 0);
		ck_assert_int_eq(vm->result.kind, ALCATRAZ_EXIT_ERROR);
		ck_assert_int_eq(vm->result.error, -EPROTO);
		teardown();
	}
	make_vm(true);
	ck_assert_int_eq(send_status(ALCATRAZ_CTL_ST_INIT_ERROR, 1 << 20), 0);
	ck_assert_int_eq(vm->result.kind, ALCATRAZ_EXIT_ERROR);
	ck_assert_int_eq(vm->result.error, -EPROTO);
	teardown();
}
END_TEST

static int send_reason(const void *text, uint32_t len)
{
	uint8_t rec[ALCATRAZ_CTL_HDR_SIZE + ALCATRAZ_CTL_MAX_REASON + 1] = { 0 };

	ck_assert_uint_le(len, ALCATRAZ_CTL_MAX_REASON + 1);
	alcatraz_ctl_put_hdr(rec, ALCATRAZ_CTL_INIT_REASON, len);
	memcpy(rec + ALCATRAZ_CTL_HDR_SIZE, text, len);
	return control_receive(vm, rec, ALCATRAZ_CTL_HDR_SIZE + len);
}

/* Init's reason is the run's one error line, its bytes made printable; an
 * INIT_ERROR without one keeps the generic line. */
START_TEST(init_reason_is_the_error)
{
	static const char why[] = "cannot mount the root file system: /dev/vda (ext4)\\x\n\033";

	make_vm(true);
	ck_assert_int_eq(send_reason(why, sizeof(why) - 1), 0);
	ck_assert(!vm->ended);
	ck_assert_int_eq(send_status(ALCATRAZ_CTL_ST_INIT_ERROR, EINVAL), 0);
	ck_assert_int_eq(vm->result.kind, ALCATRAZ_EXIT_ERROR);
	ck_assert_int_eq(vm->result.error, -EINVAL);
	ck_assert_str_eq(vm->result.message, "alcatraz-init: cannot mount the root file system: "
					     "/dev/vda (ext4)\\x5cx\\x0a\\x1b");
	ck_assert_int_eq(alcatraz_result_exit_code(&vm->result), 125);
	teardown();

	make_vm(true);
	ck_assert_int_eq(send_status(ALCATRAZ_CTL_ST_INIT_ERROR, EINVAL), 0);
	ck_assert_str_eq(vm->result.message,
			 "guest init failed before the command started (errno 22)");
	teardown();
}
END_TEST

/* One reason, 1..MAX_REASON bytes, before STATUS; anything else ends the VM
 * as a protocol error (after STATUS: changes nothing). */
START_TEST(bad_init_reasons)
{
	char big[ALCATRAZ_CTL_MAX_REASON + 1];

	memset(big, 'a', sizeof(big));
	make_vm(true);
	ck_assert_int_eq(send_reason(big, ALCATRAZ_CTL_MAX_REASON), 0);
	ck_assert_int_eq(send_reason("again", 5), -EPROTO);
	assert_protocol_error();
	teardown();

	make_vm(true);
	ck_assert_int_eq(send_reason(big, sizeof(big)), -EPROTO);
	assert_protocol_error();
	teardown();

	make_vm(true);
	ck_assert_int_eq(send_reason("", 0), -EPROTO);
	assert_protocol_error();
	teardown();

	make_vm(true);
	ck_assert_int_eq(send_status(ALCATRAZ_CTL_ST_EXITED, 3), 0);
	ck_assert_int_eq(send_reason("late", 4), -EPROTO);
	ck_assert_int_eq(vm->result.kind, ALCATRAZ_EXIT_STATUS);
	ck_assert_int_eq(vm->result.status, 3);
	teardown();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("control");
	TCase *tc = tcase_create("end");
	TCase *th = tcase_create("hostile");

	tcase_add_test(th, records_split_bytewise);
	tcase_add_test(th, stderr_sink_sends_stdio_flag);
	tcase_add_test(th, bad_headers_end_the_vm);
	tcase_add_test(th, out_of_order_events_end_the_vm);
	tcase_add_test(th, too_many_events_end_the_vm);
	tcase_add_test(th, record_after_status);
	tcase_add_test(th, invalid_status_values);
	tcase_add_test(th, init_reason_is_the_error);
	tcase_add_test(th, bad_init_reasons);
	suite_add_tcase(s, th);

	tcase_add_test(tc, reset_before_status_is_a_crash);
	tcase_add_test(tc, poweroff_before_status_is_a_crash);
	tcase_add_test(tc, reset_after_status_keeps_the_status);
	tcase_add_test(tc, raw_guest_reset_is_a_reset);
	tcase_add_test(tc, crash_exit_code_is_125);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
