/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared tail of the Check test programs: run a suite, exit 0/1, or 77 to
 * skip where /dev/kvm cannot run guests. */
#ifndef ALCATRAZ_CHECK_MAIN_H
#define ALCATRAZ_CHECK_MAIN_H

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

static inline int run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* This process's open descriptors (the directory's own included), for
 * leak checks before and after. */
static inline int count_fds(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n;
}

#ifdef ALCATRAZ_ALCATRAZ_H
/* Returns 77 (meson's "skipped") when this host has no usable /dev/kvm. */
static inline int skip_without_kvm(void)
{
	char msg[256];
	int ret = alcatraz_kvm_probe(msg, sizeof(msg));

	if (ret && ret != -ALCATRAZ_E_SLOWKVM) {
		printf("SKIP: %s\n", msg);
		return 77;
	}
	return 0;
}
#endif

#endif
