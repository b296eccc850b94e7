// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Description: every tiny guest boots on /dev/kvm through the public API with
 * the expected serial output and ending. Skips (77) where /dev/kvm is absent.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <alcatraz/alcatraz.h>

#include "check_main.h"
#include "pool_util.h"

static const char *guest_dir;

struct outcome {
	struct alcatraz_result res;
	char output[4096];
	char log[8192]; /* the VMM's own diagnostics */
};

static void run_guest(const char *name, unsigned int vcpus, enum alcatraz_irqchip irq,
		      uint64_t timeout_ms, struct outcome *o)
{
	struct alcatraz_config *cfg;
	struct alcatraz_vm *vm;
	char path[4096];
	int p[2], l[2];

	memset(o, 0, sizeof(*o));
	snprintf(path, sizeof(path), "%s/%s.img", guest_dir, name);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(l, O_CLOEXEC), 0);
	ck_assert_int_eq(alcatraz_config_new(&cfg), 0);
	ck_assert_int_eq(alcatraz_config_set_guest_image(cfg, path), 0);
	ck_assert_int_eq(alcatraz_config_set_vcpus(cfg, vcpus), 0);
	ck_assert_int_eq(alcatraz_config_set_memory_mib(cfg, 16), 0);
	ck_assert_int_eq(alcatraz_config_set_irqchip(cfg, irq), 0);
	ck_assert_int_eq(alcatraz_config_set_serial_fd(cfg, p[1]), 0);
	ck_assert_int_eq(alcatraz_config_set_log_fd(cfg, l[1]), 0);
	ck_assert_int_eq(alcatraz_config_set_timeout_ms(cfg, timeout_ms), 0);
	ck_assert_int_eq(alcatraz_vm_create(cfg, &vm), 0);
	alcatraz_config_free(cfg);
	close(p[1]);
	close(l[1]);
	ck_assert_int_eq(alcatraz_vm_result(vm, &o->res), -EBUSY); /* not started */
	ck_assert_int_eq(alcatraz_vm_start(vm), 0);
	ck_assert_int_eq(alcatraz_vm_start(vm), -EALREADY);
	ck_assert_int_eq(alcatraz_vm_wait(vm, 30000), 0);
	ck_assert_int_eq(alcatraz_vm_result(vm, &o->res), 0);
	alcatraz_vm_destroy(vm); /* closes the VM's copies of the write ends */
	read_all(p[0], o->output, sizeof(o->output));
	read_all(l[0], o->log, sizeof(o->log));
	close(p[0]);
	close(l[0]);
}

START_TEST(hello)
{
	struct outcome o;
	run_guest("hello", 1, ALCATRAZ_IRQCHIP_AUTO, 0, &o);
	ck_assert_str_eq(o.output, "Hello from an Alcatraz tiny guest!\n");
	ck_assert_int_eq(o.res.kind, ALCATRAZ_EXIT_STATUS);
	ck_assert_int_eq(o.res.status, 0);
	ck_assert_uint_gt(o.res.timings.end_ns, 0);
}
END_TEST

START_TEST(exit_status)
{
	struct outcome o;
	run_guest("exit_status", 1, ALCATRAZ_IRQCHIP_AUTO, 0, &o);
	ck_assert_str_eq(o.output, "exiting with 42\n");
	ck_assert_int_eq(o.res.kind, ALCATRAZ_EXIT_STATUS);
	ck_assert_int_eq(o.res.status, 42);
}
END_TEST

START_TEST(halt)
{
	struct outcome o;
	run_guest("halt", 1, ALCATRAZ_IRQCHIP_OFF, 10000, &o);
	ck_assert_str_eq(o.output, "halting\n");
	ck_assert_int_eq(o.res.kind, ALCATRAZ_EXIT_HALT);
}
END_TEST

START_TEST(halt_with_irqchip_times_out)
{
	/* With the in-kernel LAPIC a halted vCPU sleeps in KVM; only the
	 * timeout (a kick out of KVM_RUN) can end it. */
	struct outcome o;
	run_guest("halt", 1, ALCATRAZ_IRQCHIP_ON, 300, &o);
	ck_assert_str_eq(o.output, "halting\n");
	ck_assert_int_eq(o.res.kind, ALCATRAZ_EXIT_TIMEOUT);
}
END_TEST

START_TEST(triple_fault)
{
	struct outcome o;
	run_guest("triple_fault", 1, ALCATRAZ_IRQCHIP_AUTO, 10000, &o);
	ck_assert_str_eq(o.output, "about to triple fault\n");
	ck_assert_int_eq(o.res.kind, ALCATRAZ_EXIT_CRASH);
	ck_assert_ptr_nonnull(strstr(o.res.message, "triple fault"));
}
END_TEST

START_TEST(emulation_failure_is_logged)
{
	/* KVM's data words and the CMPXCHG16B it fetched (f0 48 0f c7 0e:
	 * lock, REX.W, 0f c7 /1 with its operand at (%rsi)) */
	struct outcome o;
	run_guest("emulation_failure", 1, ALCATRAZ_IRQCHIP_AUTO, 10000, &o);
	ck_assert_str_eq(o.output, "about to cmpxchg16b outside RAM\n");
	ck_assert_int_eq(o.res.kind, ALCATRAZ_EXIT_CRASH);
	ck_assert_ptr_nonnull(strstr(o.res.message, "KVM internal error 1 (instruction emulation failed)"));
	ck_assert_msg(strstr(o.log, "vcpu0: KVM internal error 1, ") && strstr(o.log, " data words: 0x1 "),
		      "no data words in the log:\n%s", o.log);
	ck_assert_msg(strstr(o.log, "vcpu0: instruction bytes KVM fetched (") &&
		      strstr(o.log, "): f0 48 0f c7"), "no instruction bytes in the log:\n%s", o.log);
}
END_TEST

START_TEST(endless_loop_times_out)
{
	struct outcome o;
	run_guest("endless", 1, ALCATRAZ_IRQCHIP_AUTO, 200, &o);
	ck_assert_str_eq(o.output, "looping forever\n");
	ck_assert_int_eq(o.res.kind, ALCATRAZ_EXIT_TIMEOUT);
	ck_assert_uint_ge(o.res.timings.end_ns, 200000000ULL);
}
END_TEST

START_TEST(mmio_outside_ram)
{
	struct outcome o;
	run_guest("mmio", 1, ALCATRAZ_IRQCHIP_AUTO, 10000, &o);
	ck_assert_ptr_nonnull(strstr(o.output, "read 0x00000000d0000000 = 0x00000000ffffffff\n"));
	ck_assert_ptr_nonnull(strstr(o.output, "mmio ok\n"));
	ck_assert_int_eq(o.res.kind, ALCATRAZ_EXIT_STATUS);
	ck_assert_int_eq(o.res.status, 0);
}
END_TEST

START_TEST(two_vcpus_report)
{
	static const enum alcatraz_irqchip modes[] = { ALCATRAZ_IRQCHIP_ON, ALCATRAZ_IRQCHIP_OFF };
	for (unsigned i = 0; i < 2; i++) {
		struct outcome o;
		run_guest("smp", 2, modes[i], 10000, &o);
		ck_assert_str_eq(o.output, "cpu 0 of 2 reporting\ncpu 1 of 2 reporting\n");
		ck_assert_int_eq(o.res.kind, ALCATRAZ_EXIT_STATUS);
		ck_assert_int_eq(o.res.status, 0);
	}
}
END_TEST

START_TEST(kill_from_another_thread)
{
	struct alcatraz_config *cfg;
	struct alcatraz_vm *vm;
	struct alcatraz_result res;
	char path[4096];

	snprintf(path, sizeof(path), "%s/endless.img", guest_dir);
	ck_assert_int_eq(alcatraz_config_new(&cfg), 0);
	ck_assert_int_eq(alcatraz_config_set_guest_image(cfg, path), 0);
	ck_assert_int_eq(alcatraz_vm_create(cfg, &vm), 0);
	alcatraz_config_free(cfg);
	ck_assert_int_eq(alcatraz_vm_start(vm), 0);
	ck_assert_int_eq(alcatraz_vm_wait(vm, 50), -ETIMEDOUT);
	ck_assert_int_eq(alcatraz_vm_result(vm, &res), -EBUSY);
	ck_assert_int_eq(alcatraz_vm_kill(vm), 0);
	ck_assert_int_eq(alcatraz_vm_wait(vm, 5000), 0);
	ck_assert_int_eq(alcatraz_vm_result(vm, &res), 0);
	ck_assert_int_eq(res.kind, ALCATRAZ_EXIT_KILLED);
	alcatraz_vm_destroy(vm);
}
END_TEST

START_TEST(many_vms_at_once)
{
	enum { N = 8 };
	struct alcatraz_vm *vms[N];
	char path[4096];

	snprintf(path, sizeof(path), "%s/exit_status.img", guest_dir);
	for (int i = 0; i < N; i++) {
		struct alcatraz_config *cfg;
		ck_assert_int_eq(alcatraz_config_new(&cfg), 0);
		ck_assert_int_eq(alcatraz_config_set_guest_image(cfg, path), 0);
		ck_assert_int_eq(alcatraz_config_set_memory_mib(cfg, 8), 0);
		ck_assert_int_eq(alcatraz_vm_create(cfg, &vms[i]), 0);
		alcatraz_config_free(cfg);
	}
	for (int i = 0; i < N; i++)
		ck_assert_int_eq(alcatraz_vm_start(vms[i]), 0);
	for (int i = 0; i < N; i++) {
		struct alcatraz_result res;
		ck_assert_int_eq(alcatraz_vm_wait(vms[i], 30000), 0);
		ck_assert_int_eq(alcatraz_vm_result(vms[i], &res), 0);
		ck_assert_int_eq(res.kind, ALCATRAZ_EXIT_STATUS);
		ck_assert_int_eq(res.status, 42);
		alcatraz_vm_destroy(vms[i]);
	}
}
END_TEST

START_TEST(bad_images)
{
	struct alcatraz_config *cfg;
	struct alcatraz_vm *vm = NULL;
	char path[] = "/tmp/alcatraz-empty-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);

	ck_assert_int_eq(alcatraz_config_new(&cfg), 0);
	ck_assert_int_eq(alcatraz_config_set_guest_image(cfg, path), 0);
	ck_assert_int_eq(alcatraz_vm_create(cfg, &vm), -ALCATRAZ_E_BADIMAGE);
	ck_assert_int_eq(alcatraz_config_set_guest_image(cfg, "/nonexistent.img"), 0);
	ck_assert_int_eq(alcatraz_vm_create(cfg, &vm), -ENOENT);
	ck_assert_int_eq(alcatraz_config_set_guest_image(cfg, "/tmp"), 0);
	ck_assert_int_eq(alcatraz_vm_create(cfg, &vm), -EISDIR);
	ck_assert_ptr_null(vm);
	alcatraz_config_free(cfg);
	unlink(path);
}
END_TEST

int main(int argc, char **argv)
{
	int skip = skip_without_kvm();

	if (skip)
		return skip;
	guest_dir = argc > 1 ? argv[1] : "tests/guests";

	Suite *s = suite_create("guests");
	TCase *tc = tcase_create("tiny");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, hello);
	tcase_add_test(tc, exit_status);
	tcase_add_test(tc, halt);
	tcase_add_test(tc, halt_with_irqchip_times_out);
	tcase_add_test(tc, triple_fault);
	tcase_add_test(tc, emulation_failure_is_logged);
	tcase_add_test(tc, endless_loop_times_out);
	tcase_add_test(tc, mmio_outside_ram);
	tcase_add_test(tc, two_vcpus_report);
	tcase_add_test(tc, kill_from_another_thread);
	tcase_add_test(tc, many_vms_at_once);
	tcase_add_test(tc, bad_images);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
