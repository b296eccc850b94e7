#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Lab test: a failing script; exits with status $1 (default 3).
echo "fail.sh: exiting with status ${1:-3}"
exit "${1:-3}"
