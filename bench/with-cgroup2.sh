#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs COMMAND with the unified cgroup hierarchy at /sys/fs/cgroup, as a
# systemd host has it: the lab boots without one, and without it the warm
# pool's processes get no cgroup of their own (so no lowest CPU claim while
# they wait) and the benchmark would measure a host no platform runs.
# Usage: with-cgroup2.sh COMMAND [ARG...]
set -e
if ! grep -q " /sys/fs/cgroup cgroup2 " /proc/mounts; then
	if [ "$(id -u)" = 0 ] && mount -t cgroup2 none /sys/fs/cgroup 2>/dev/null; then
		echo "with-cgroup2: mounted cgroup2 on /sys/fs/cgroup"
	else
		echo "with-cgroup2: no cgroup2 at /sys/fs/cgroup and none could be mounted;" \
		     "the pool's processes wait with the normal CPU claim"
	fi
fi
exec "$@"
