#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# full-only.sh VAR=VALUE COMMAND...: run COMMAND with VAR=VALUE in its
# environment when ALCATRAZ_LAB_INTEL_FULL=1 (meson's 'intelfull' test
# setup); otherwise skip (77): these VT-x lab boots are not part of CI.
[ "${ALCATRAZ_LAB_INTEL_FULL:-}" = 1 ] || { echo "skipped: run with meson test --setup intelfull"; exit 77; }
env "$@"
