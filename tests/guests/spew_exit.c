// SPDX-License-Identifier: LGPL-2.1-or-later
/* spew.c for 16 KiB (each byte is an exit: KVM emulates OUTS one element
 * at a time), then exit status 0. */
#define SPEW_BYTES (16UL << 10)
#include "spew.c"
