// SPDX-License-Identifier: LGPL-2.1-or-later
/* Description: configuration setters and validation refuse bad input. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>

#include "lib.h"
#include "check_main.h"

START_TEST(defaults_and_setters)
{
	struct alcatraz_config *c;
	ck_assert_int_eq(alcatraz_config_new(&c), 0);
	ck_assert_uint_eq(c->vcpus, 1);
	ck_assert_uint_eq(c->mem_mib, 128);
	ck_assert_int_eq(alcatraz_config_set_vcpus(c, 0), -EINVAL);
	ck_assert_int_eq(alcatraz_config_set_vcpus(c, 65), -EINVAL);
	ck_assert_int_eq(alcatraz_config_set_vcpus(c, 4), 0);
	ck_assert_int_eq(alcatraz_config_set_memory_mib(c, 1), -EINVAL);
	ck_assert_int_eq(alcatraz_config_set_memory_mib(c, 3073), -EINVAL);
	ck_assert_int_eq(alcatraz_config_set_memory_mib(c, 64), 0);
	ck_assert_int_eq(alcatraz_config_set_guest_image(c, ""), -EINVAL);
	ck_assert_int_eq(alcatraz_config_set_guest_image(c, NULL), -EINVAL);
	ck_assert_int_eq(alcatraz_config_set_serial_fd(c, -5), -EBADF);
	ck_assert_int_eq(alcatraz_config_set_serial_fd(c, 999), -EBADF);
	ck_assert_int_eq(alcatraz_config_set_irqchip(c, (enum alcatraz_irqchip)7), -EINVAL);
	ck_assert_int_eq(alcatraz_config_set_vcpus(NULL, 1), -EINVAL);
	alcatraz_config_free(c);
	alcatraz_config_free(NULL);
}
END_TEST

START_TEST(validation)
{
	struct alcatraz_config *c;
	ck_assert_int_eq(alcatraz_config_new(&c), 0);
	ck_assert_int_eq(config_validate(c), -EINVAL); /* nothing to run */
	ck_assert_int_eq(alcatraz_config_set_guest_image(c, "x.img"), 0);
	ck_assert_int_eq(config_validate(c), 0);
	ck_assert_int_eq(alcatraz_config_set_kernel(c, "vmlinux"), 0);
	ck_assert_int_eq(config_validate(c), -EINVAL); /* both */
	alcatraz_config_free(c);

	ck_assert_int_eq(alcatraz_config_new(&c), 0);
	ck_assert_int_eq(alcatraz_config_set_guest_image(c, "x.img"), 0);
	ck_assert_int_eq(alcatraz_config_set_cmdline(c, "console=ttyS0"), 0);
	ck_assert_int_eq(config_validate(c), -EINVAL); /* raw images take no cmdline */
	alcatraz_config_free(c);
}
END_TEST

START_TEST(create_refuses_bad_config)
{
	struct alcatraz_config *c;
	struct alcatraz_vm *vm = (struct alcatraz_vm *)0x1;
	ck_assert_int_eq(alcatraz_config_new(&c), 0);
	ck_assert_int_eq(alcatraz_vm_create(c, &vm), -EINVAL);
	ck_assert_ptr_null(vm);
	ck_assert_int_eq(alcatraz_config_set_guest_image(c, "/nonexistent/guest.img"), 0);
	int ret = alcatraz_vm_create(c, &vm);
	/* -ENOENT for the image, or for /dev/kvm on a host without it. */
	ck_assert_int_eq(ret, -ENOENT);
	ck_assert_ptr_null(vm);
	alcatraz_config_free(c);
}
END_TEST

/* A volume on "/" is the root: one at most, and not beside another root. */
START_TEST(root_volume)
{
	struct alcatraz_config *c;
	const char *argv[] = { "true", NULL };
	ck_assert_int_eq(alcatraz_config_new(&c), 0);
	ck_assert_int_eq(alcatraz_config_set_kernel(c, "vmlinux"), 0);
	ck_assert_int_eq(alcatraz_config_set_command(c, argv), 0);
	ck_assert_int_eq(alcatraz_config_add_volume(c, "/tmp", "/", ALCATRAZ_VOLUME_READONLY), 0);
	ck_assert_int_eq(alcatraz_config_add_volume(c, "/", "/", 0), -EEXIST);
	ck_assert_int_eq(alcatraz_config_add_volume(c, "/tmp", "/data", 0), 0);
	ck_assert_int_eq(config_validate(c), 0);
	ck_assert_int_eq(alcatraz_config_set_root_disk(c, "root.ext4"), 0);
	ck_assert_int_eq(config_validate(c), -EINVAL); /* two roots */
	alcatraz_config_free(c);
}
END_TEST

START_TEST(strerror_is_total)
{
	ck_assert_str_eq(alcatraz_strerror(0), "success");
	ck_assert_ptr_nonnull(alcatraz_strerror(-EINVAL));
	ck_assert_ptr_nonnull(alcatraz_strerror(-ALCATRAZ_E_SLOWKVM));
	ck_assert_ptr_nonnull(alcatraz_strerror(-123456));
	ck_assert_str_eq(alcatraz_exit_kind_name(ALCATRAZ_EXIT_TIMEOUT), "timeout");
	ck_assert_str_eq(alcatraz_exit_kind_name((enum alcatraz_exit_kind)99), "unknown");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config");
	tcase_add_test(tc, defaults_and_setters);
	tcase_add_test(tc, validation);
	tcase_add_test(tc, create_refuses_bad_config);
	tcase_add_test(tc, root_volume);
	tcase_add_test(tc, strerror_is_total);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
