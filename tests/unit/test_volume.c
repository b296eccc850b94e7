// SPDX-License-Identifier: LGPL-2.1-or-later
/* Description: --volume HOSTDIR:GUESTDIR[:ro] parsing and the checks of both
 * paths, each refusal one line naming the volume. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "../../src/lib/volume.h"

static char err[256];

START_TEST(parse_specs)
{
	struct volume v;

	ck_assert_int_eq(volume_parse("/srv/data:/data", &v, err, sizeof(err)), 0);
	ck_assert_str_eq(v.host_dir, "/srv/data");
	ck_assert_str_eq(v.guest_path, "/data");
	ck_assert(!v.readonly);
	volume_free(&v);
	ck_assert_int_eq(volume_parse("/srv:/mnt/x:ro", &v, err, sizeof(err)), 0);
	ck_assert(v.readonly);
	ck_assert_str_eq(v.guest_path, "/mnt/x");
	volume_free(&v);
	ck_assert_int_eq(volume_parse("/srv:/mnt:rw", &v, err, sizeof(err)), 0);
	ck_assert(!v.readonly);
	volume_free(&v);
	ck_assert_int_eq(volume_parse("/srv", &v, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "HOSTDIR:GUESTDIR"));
	ck_assert_int_eq(volume_parse(":/mnt", &v, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(volume_parse("/srv:/mnt:rx", &v, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "ro or rw"));
}
END_TEST

static int check(const char *host, const char *guest, bool root_ok)
{
	struct volume v = { .host_dir = strdup(host), .guest_path = strdup(guest) };
	int ret = volume_check(&v, root_ok, err, sizeof(err));

	volume_free(&v);
	return ret;
}

START_TEST(check_paths)
{
	ck_assert_int_eq(check("/tmp", "/data", false), 0);
	ck_assert_int_eq(check("/tmp/", "/data/", false), 0);
	ck_assert_int_eq(check("/tmp", "/", true), 0);
	ck_assert_int_eq(check("/tmp", "/", false), -EINVAL);
	ck_assert_int_eq(check("/tmp", "data", false), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "absolute"));
	ck_assert_int_eq(check("/tmp", "/a/../etc", false), -EINVAL);
	ck_assert_int_eq(check("/tmp", "/a/./b", false), -EINVAL);
	ck_assert_int_eq(check("/tmp", "/a//b", false), -EINVAL);
	ck_assert_int_eq(check("/nonexistent-alcatraz-dir", "/data", false), -ENOENT);
	ck_assert_str_eq(err, "volume '/nonexistent-alcatraz-dir': no such directory on the host");
	ck_assert_int_eq(check("/etc/hostname", "/data", false), -ENOTDIR);
	ck_assert_ptr_nonnull(strstr(err, "not a directory"));
}
END_TEST

START_TEST(host_dir_becomes_canonical)
{
	struct volume v = { .host_dir = strdup("/tmp/../tmp/."), .guest_path = strdup("/x") };

	ck_assert_int_eq(volume_check(&v, false, err, sizeof(err)), 0);
	ck_assert_str_eq(v.host_dir, "/tmp");
	volume_free(&v);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("volume");
	TCase *tc = tcase_create("paths");
	tcase_add_test(tc, parse_specs);
	tcase_add_test(tc, check_paths);
	tcase_add_test(tc, host_dir_becomes_canonical);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
