#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Lab test: a script that never ends; the runner's --timeout must stop it.
echo "hang.sh: started, now hanging"
while :; do sleep 1000; done
