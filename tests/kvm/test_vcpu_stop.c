// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A VM that ends while the VMM is still starting its vCPUs stops every one
 * of them. The guest (bsp_exits) ends the VM from vCPU 0 at once while the
 * other vCPUs spin in the guest for good; the test hook
 * ALCATRAZ_TEST_VCPU_START_DELAY_MS holds the starter between creating each
 * of their threads and marking it started. Each way must end with vCPU 0's
 * status well before the VM's own timeout, and vm_wait() must see every
 * vCPU thread gone: in process (the VMM core, as --insecure-no-sandbox runs
 * it) and jailed (the library and its VMM process).
 *
 *   test_vcpu_stop GUEST-DIR
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <alcatraz/alcatraz.h>

#include "check_main.h"
#include "vmm.h"

#define GUEST_STATUS 7       /* bsp_exits.c */
#define NR_VCPUS 4
#define START_DELAY "200"    /* ms per application processor */
#define VM_TIMEOUT_MS 60000
#define WAIT_MS 20000        /* a stuck vCPU shows as a timeout here */
#define ROUNDS 5

static char image[4096];

START_TEST(in_process_vm_stops_vcpus_still_starting)
{
	for (int round = 0; round < ROUNDS; round++) {
		struct vm_config vc;
		struct vm *vm;

		vm_config_defaults(&vc);
		vc.vcpus = NR_VCPUS;
		vc.mem_bytes = 16 << 20;
		vc.image_path = image;
		vc.timeout_ms = VM_TIMEOUT_MS;
		setenv("ALCATRAZ_TEST_VCPU_START_DELAY_MS", START_DELAY, 1);
		ck_assert_int_eq(vm_create(&vc, &vm), 0);
		ck_assert_int_eq(vm_start(vm), 0);
		unsetenv("ALCATRAZ_TEST_VCPU_START_DELAY_MS");
		ck_assert_msg(vm_wait(vm, WAIT_MS) == 0,
			      "round %d: the VM had not ended after %d ms (%u vCPU threads left)",
			      round, WAIT_MS, vm->running_vcpus);
		pthread_mutex_lock(&vm->lock);
		struct alcatraz_result res = vm->result;
		pthread_mutex_unlock(&vm->lock);
		ck_assert_msg(res.kind == ALCATRAZ_EXIT_STATUS && res.status == GUEST_STATUS,
			      "round %d: ended as %s %d: %s", round,
			      alcatraz_exit_kind_name(res.kind), res.status, res.message);
		vm_destroy(vm);
	}
}
END_TEST

START_TEST(jailed_vm_stops_vcpus_still_starting)
{
	struct alcatraz_config *cfg;
	struct alcatraz_vm *vm;
	struct alcatraz_result res;

	ck_assert_int_eq(alcatraz_config_new(&cfg), 0);
	ck_assert_int_eq(alcatraz_config_set_guest_image(cfg, image), 0);
	ck_assert_int_eq(alcatraz_config_set_memory_mib(cfg, 16), 0);
	ck_assert_int_eq(alcatraz_config_set_vcpus(cfg, NR_VCPUS), 0);
	ck_assert_int_eq(alcatraz_config_set_timeout_ms(cfg, VM_TIMEOUT_MS), 0);
	setenv("ALCATRAZ_TEST_VCPU_START_DELAY_MS", START_DELAY, 1); /* the VMM's environment */
	ck_assert_int_eq(alcatraz_vm_create(cfg, &vm), 0);
	unsetenv("ALCATRAZ_TEST_VCPU_START_DELAY_MS");
	alcatraz_config_free(cfg);
	ck_assert_int_eq(alcatraz_vm_start(vm), 0);
	ck_assert_int_eq(alcatraz_vm_wait(vm, WAIT_MS), 0);
	ck_assert_int_eq(alcatraz_vm_result(vm, &res), 0);
	ck_assert_msg(res.kind == ALCATRAZ_EXIT_STATUS && res.status == GUEST_STATUS,
		      "ended as %s %d: %s", alcatraz_exit_kind_name(res.kind), res.status,
		      res.message);
	alcatraz_vm_destroy(vm);
}
END_TEST

int main(int argc, char **argv)
{
	int skip;

	if (argc != 2) {
		fprintf(stderr, "usage: %s GUEST-DIR\n", argv[0]);
		return 2;
	}
	snprintf(image, sizeof(image), "%s/bsp_exits.img", argv[1]);
	if ((skip = skip_without_kvm()))
		return skip;
	Suite *s = suite_create("vcpu_stop");
	TCase *tc = tcase_create("vcpu_stop");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, in_process_vm_stops_vcpus_still_starting);
	tcase_add_test(tc, jailed_vm_stops_vcpus_still_starting);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
