#!/bin/sh
# Inside the lab: the benchmark without, then with Hyper-box; ratios.
B=/alcatraz/add/hb-bench
$B > /tmp/without.txt
insmod /alcatraz/modules/hyperbox.ko || exit 1
$B > /tmp/with.txt
echo "metric without with ratio"
paste /tmp/without.txt /tmp/with.txt | awk '{ printf "%s %s %s %.3fx\n", $1, $2, $4, $4 / $2 }'
