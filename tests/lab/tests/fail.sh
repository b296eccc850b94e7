#!/bin/sh
# Lab test: a failing script; exits with status $1 (default 3).
echo "fail.sh: exiting with status ${1:-3}"
exit "${1:-3}"
