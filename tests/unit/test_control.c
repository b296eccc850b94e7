// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * How a VM with alcatraz-init ends: a STATUS record from the guest is the
 * command's result; a reset or power-off before it is a crash (a guest
 * kernel panic reboots), never status 0.  Raw guests keep reset = 0.
 */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "control.h"
#include "vmm.h"
#include "../../src/guest/control_proto.h"

static struct vm *vm;
static char *argv_true[] = { "true", NULL };

static void make_vm(bool with_init)
{
	vm = calloc(1, sizeof(*vm));
	ck_assert_ptr_nonnull(vm);
	vm->cfg.log_fd = vm->cfg.serial_fd = vm->cfg.stdin_fd = -1;
	vm->vm_fd = vm->kvm_fd = vm->end_fd = -1;
	vm->cfg.argv = argv_true;
	pthread_mutex_init(&vm->lock, NULL);
	pthread_mutex_init(&vm->log_lock, NULL);
	pthread_cond_init(&vm->cond, NULL);
	if (with_init)
		ck_assert_int_eq(control_new(vm), 0);
}

static void teardown(void)
{
	control_free(vm);
	pthread_cond_destroy(&vm->cond);
	pthread_mutex_destroy(&vm->log_lock);
	pthread_mutex_destroy(&vm->lock);
	free(vm);
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

int main(void)
{
	Suite *s = suite_create("control");
	TCase *tc = tcase_create("end");

	tcase_add_test(tc, reset_before_status_is_a_crash);
	tcase_add_test(tc, poweroff_before_status_is_a_crash);
	tcase_add_test(tc, reset_after_status_keeps_the_status);
	tcase_add_test(tc, raw_guest_reset_is_a_reset);
	tcase_add_test(tc, crash_exit_code_is_125);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
