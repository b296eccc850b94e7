// SPDX-License-Identifier: LGPL-2.1-or-later
/* spew.c for 2 MiB (far more than a pipe holds), then exit status 0. */
#define SPEW_BYTES (2UL << 20)
#include "spew.c"
