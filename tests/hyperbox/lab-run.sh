#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Host side of a Hyper-box lab test: tests/lab/run with --no-build, its status.
run=$1; shift
exec "$run" --no-build --timeout 150 "$@"
