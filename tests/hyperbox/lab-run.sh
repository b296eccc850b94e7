#!/bin/sh
# Host side of a Hyper-box lab test: tests/lab/run with --no-build, its status.
run=$1; shift
exec "$run" --no-build --timeout 150 "$@"
