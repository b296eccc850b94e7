// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The words for the codes that cross the protocol: error codes (errno and
 * ALCATRAZ_E_*) and exit kinds. The VMM writes them into its log and
 * results; the library returns them from alcatraz_strerror() and
 * alcatraz_exit_kind_name().
 */
#include <string.h>

#include "alcatraz/alcatraz.h"
#include "vmm_protocol.h"

const char *proto_error_text(int err)
{
	if (err < 0)
		err = -err;
	switch (err) {
	case 0:
		return "success";
	case ALCATRAZ_E_SLOWKVM:
		return "/dev/kvm is kvm_pvm (guest kernel code is emulated): Linux guests cannot boot at a useful speed";
	case ALCATRAZ_E_BADIMAGE:
		return "not a guest image or kernel that Alcatraz can load";
	case ALCATRAZ_E_SANDBOX:
		return "the VMM sandbox could not be installed";
	}
	/* strerror's table is static in glibc; strerrordesc_np avoids the
	 * locale buffer that makes strerror() unsafe across threads. */
	const char *s = strerrordesc_np(err);
	return s ? s : "unknown error";
}

const char *proto_exit_kind_name(enum alcatraz_exit_kind kind)
{
	static const char *const names[] = {
		[ALCATRAZ_EXIT_RUNNING] = "running",
		[ALCATRAZ_EXIT_STATUS] = "status",
		[ALCATRAZ_EXIT_SIGNALED] = "signaled",
		[ALCATRAZ_EXIT_HALT] = "halt",
		[ALCATRAZ_EXIT_RESET] = "reset",
		[ALCATRAZ_EXIT_SHUTDOWN] = "shutdown",
		[ALCATRAZ_EXIT_CRASH] = "crash",
		[ALCATRAZ_EXIT_TIMEOUT] = "timeout",
		[ALCATRAZ_EXIT_KILLED] = "killed",
		[ALCATRAZ_EXIT_ERROR] = "error",
		[ALCATRAZ_EXIT_SANDBOX] = "sandbox-violation",
	};
	if ((unsigned int)kind < sizeof(names) / sizeof(names[0]) && names[kind])
		return names[kind];
	return "unknown";
}
