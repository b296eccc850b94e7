#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Description: alcatraz-gitlab, the GitLab Runner custom executor driver
# (issue 19), run inside the lab the way gitlab-runner calls it: the
# CUSTOM_ENV_* job variables and the *_EXIT_CODE variables set, then
# config (its JSON), prepare (the job's VM), run stages that keep state
# between them, a failing script, a stage killed as on a timeout, cleanup
# (twice), and bad input, one line each.
#   tests/gitlab/run.sh BUILDDIR   (meson test lab-gitlab); an argument
# names the driver file (the lab copies only ELF files of the build dir)
# Each check prints "PASS name" or "FAIL name: why"; exit 1 when any failed.
B=${ALCATRAZ_BUILD:-/alcatraz/build}
export ALCATRAZ_KERNEL=${ALCATRAZ_KERNEL:-$B/kernel/vmlinux}
export ALCATRAZ_INIT=${ALCATRAZ_INIT:-$B/src/guest/alcatraz-init}
export ALCATRAZ_VMM=${ALCATRAZ_VMM:-$B/src/vmm/alcatraz-vmm}
export ALCATRAZ_OCI_HELPER_DIR=${ALCATRAZ_OCI_HELPER_DIR:-$B/src/oci/guest}
export ALCATRAZ_CMDLINE=nopv
export ALCATRAZ_GITLAB_OCI=$B/src/oci/alcatraz-oci
G=${1:-$B/src/gitlab/alcatraz-gitlab}
T=/tmp/gitlab
export ALCATRAZ_GITLAB_STATE=$T/state ALCATRAZ_GITLAB_MEMORY=128 ALCATRAZ_GITLAB_CPUS=1
# What gitlab-runner sets for every stage (values of its own choosing).
export BUILD_FAILURE_EXIT_CODE=41 SYSTEM_FAILURE_EXIT_CODE=42
export BUILD_EXIT_CODE_FILE=$T/build-exit-code
export CUSTOM_ENV_CI_JOB_ID=1234 CUSTOM_ENV_CI_RUNNER_ID=7 CUSTOM_ENV_CI_PROJECT_NAME=demo
ID=gitlab-7-1234
BUNDLE=$T/state/jobs/$ID
rm -rf $T; mkdir -p $T
fails=0
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; fails=$((fails + 1)); failed="$failed $1"; }
# expect NAME WANT GOT
expect() { if [ "$3" = "$2" ]; then pass "$1"; else fail "$1" "got '$3', want '$2'"; fi; }
vmms() { cat /proc/[0-9]*/comm 2>/dev/null | grep -c -e alcatraz-vmm -e virtiofsd; }
# script NAME BODY: a stage script as the runner writes one
script() { printf '#!/bin/sh\n%s\n' "$2" > $T/$1.sh; }
# stage NAME STAGE: runs the driver's run stage; its status in $st
stage() {
	sh "$G" run $T/$1.sh "$2" > $T/$1.out 2> $T/$1.err; st=$?
	sed 's/^/  out: /' $T/$1.out; sed 's/^/  err: /' $T/$1.err
}

[ -x /usr/lib/qemu/virtiofsd ] || { echo "FAIL setup: no virtiofsd in the lab (--add it)"; exit 1; }

# The job's image: a busybox root.
mkdir -p $T/root/bin $T/root/tmp $T/root/root
cp /bin/busybox $T/root/bin/busybox
for a in sh echo cat sleep mkdir chmod rm test true grep ps; do ln -s busybox $T/root/bin/$a; done
export ALCATRAZ_GITLAB_ROOTFS=$T/root

# 1. config: the JSON the runner reads.
out=$(sh "$G" config); st=$?
echo "  config: $out"
expect config-status 0 $st
expect config-json '{"driver":{"name":"alcatraz","version":"'"$(sed -n "s/^VERSION='\(.*\)'/\1/p" "$G")"'"},"hostname":"'$ID'","builds_dir":"/builds","cache_dir":"/cache","builds_dir_is_shared":false}' "$out"

# 2. prepare: the job's VM is up.
t0=$(date +%s)
sh "$G" prepare > $T/prepare.out 2> $T/prepare.err; st=$?
sed 's/^/  prepare: /' $T/prepare.out $T/prepare.err
expect prepare-status 0 $st
echo "  prepare: $(($(date +%s) - t0)) s"
"$ALCATRAZ_GITLAB_OCI" --root $T/state/oci state $ID > $T/state.json
expect prepare-running 1 "$(grep -c '"status": "running"' $T/state.json)"

# 3. Stages: the first writes in the builds dir and in the VM's own root,
# the next reads both back; the script's stdin is empty.
t0=$(date +%s)
script s1 'echo stage1 $(pwd); echo built-in-stage1 > /builds/artifact; echo vm-kept > /tmp/in-vm; read x && echo stdin: $x || echo stdin-empty'
stage s1 get_sources
expect stage1-status 0 $st
expect stage1-stdout "stage1 /builds stdin-empty" "$(tr '\n' ' ' < $T/s1.out | sed 's/ $//')"
expect stage1-builds-on-host built-in-stage1 "$(cat $BUNDLE/builds/artifact 2>&1)"
echo "  stage 1: $(($(date +%s) - t0)) s"
script s2 'cat /builds/artifact /tmp/in-vm; echo to-stderr >&2; test "$(cat /builds/artifact)" = built-in-stage1'
stage s2 build_script
expect stage2-status 0 $st
expect stage2-state-kept "built-in-stage1 vm-kept" "$(tr '\n' ' ' < $T/s2.out | sed 's/ $//')"
expect stage2-stderr to-stderr "$(cat $T/s2.err)"

# 4. A failing script: BUILD_FAILURE_EXIT_CODE, its own status in
# BUILD_EXIT_CODE_FILE; the VM goes on.
script s3 'echo failing; exit 3'
stage s3 step_script
expect fail-status 41 $st
expect fail-exit-code-file 3 "$(cat $BUILD_EXIT_CODE_FILE 2>&1)"
script s4 'exec /no/such/command'
stage s4 after_script
expect fail-not-found-status "41 127" "$st $(cat $BUILD_EXIT_CODE_FILE 2>&1)"
script s5 'cat /builds/artifact'
stage s5 archive_cache
expect after-fail-status "0 built-in-stage1" "$st $(cat $T/s5.out)"

# 5. A stage killed as on a job timeout: gitlab-runner sends SIGTERM to
# the stage's process group (then SIGKILL); the guest's script ends.
script s6 'echo started > /builds/started; sleep 1000; echo not-killed > /builds/not-killed'
setsid sh "$G" run $T/s6.sh step_script > $T/s6.out 2> $T/s6.err &
pg=$!
i=0; while [ ! -e $BUNDLE/builds/started ] && [ $i -lt 600 ]; do i=$((i + 1)); sleep 0.2; done
expect timeout-started started "$(cat $BUNDLE/builds/started 2>&1)"
t0=$(date +%s)
kill -TERM -$pg
i=0; while kill -0 $pg 2>/dev/null && [ $i -lt 150 ]; do i=$((i + 1)); sleep 0.2; done
if kill -0 $pg 2>/dev/null; then
	fail timeout-term "the stage still runs 30 s after SIGTERM"; kill -KILL -$pg
else
	pass timeout-term
fi
wait $pg
echo "  SIGTERM to the end of the stage: $(($(date +%s) - t0)) s"
script s7 'ps | grep -q "[p]s" || exit 9; ps | grep "[s]leep 1000"; test $? = 1 && test ! -e /builds/not-killed'
stage s7 after_script
expect timeout-script-gone 0 $st

# 6. cleanup: the VM and the bundle gone; a second cleanup is fine.
sh "$G" cleanup; expect cleanup-status 0 $?
[ -e $BUNDLE ] && fail cleanup-bundle-gone "$(ls $BUNDLE)" || pass cleanup-bundle-gone
expect cleanup-state-gone "" "$(ls $T/state/oci)"
i=0; while [ "$(vmms)" != 0 ] && [ $i -lt 100 ]; do i=$((i + 1)); sleep 0.2; done
expect cleanup-nothing-left 0 "$(vmms)"
sh "$G" cleanup; expect cleanup-again 0 $?
stage s5 build_script
expect run-after-cleanup "42 1" "$st $(wc -l < $T/s5.err)"

# 7. Bad input: SYSTEM_FAILURE_EXIT_CODE and one line on stderr.
# bad NAME WANT-STATUS ENV-ASSIGNMENTS -- DRIVER-ARGS...
bad() {
	name=$1 want=$2; shift 2
	env "$@" > $T/bad.out 2> $T/bad.err; st=$?
	expect bad-$name "$want 1" "$st $(wc -l < $T/bad.err | tr -d ' ')"
	sed 's/^/  said: /' $T/bad.err
}
bad no-exit-codes 1 -u SYSTEM_FAILURE_EXIT_CODE sh "$G" prepare
out=$(env -u SYSTEM_FAILURE_EXIT_CODE -u BUILD_FAILURE_EXIT_CODE sh "$G" config 2>&1); st=$?
expect config-without-exit-codes "0 1" "$st $(echo "$out" | grep -c '"hostname":"'$ID'"')"
bad no-job-id 42 -u CUSTOM_ENV_CI_JOB_ID sh "$G" prepare
bad job-id 42 CUSTOM_ENV_CI_JOB_ID='12;rm' sh "$G" prepare
bad runner-id 42 CUSTOM_ENV_CI_RUNNER_ID=../x sh "$G" config
bad no-root 42 -u ALCATRAZ_GITLAB_ROOTFS sh "$G" prepare
bad missing-root 42 ALCATRAZ_GITLAB_ROOTFS=/no/such/root sh "$G" prepare
bad relative-root 42 ALCATRAZ_GITLAB_ROOTFS=root sh "$G" prepare
bad quoted-root 42 ALCATRAZ_GITLAB_ROOTFS='/tmp/a"b' sh "$G" prepare
bad image-name 42 CUSTOM_ENV_ALCATRAZ_IMAGE=../root ALCATRAZ_GITLAB_IMAGES=$T sh "$G" prepare
bad image-unconfigured 42 CUSTOM_ENV_ALCATRAZ_IMAGE=root sh "$G" prepare
bad memory 42 ALCATRAZ_GITLAB_MEMORY=lots sh "$G" prepare
bad stage-name 42 sh "$G" run $T/s1.sh ../x
bad no-script 42 sh "$G" run $T/none.sh build_script
bad stage 42 sh "$G" nonsense
expect bad-nothing-made "" "$(ls -A $T/state/jobs)$(ls -A $T/state/oci)"
expect nothing-left 0 "$(vmms)"

echo "lab-gitlab: $fails failed${failed:+:$failed}"
[ $fails = 0 ]
