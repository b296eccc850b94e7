// SPDX-License-Identifier: LGPL-2.1-or-later
#include "lib.h"
#include "vmm_protocol.h"

const char *alcatraz_strerror(int err)
{
	return proto_error_text(err);
}

const char *alcatraz_exit_kind_name(enum alcatraz_exit_kind kind)
{
	return proto_exit_kind_name(kind);
}

const char *alcatraz_version(void)
{
	return ALCATRAZ_VERSION_STRING;
}
