// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * alcatraz-init: PID 1 of an Alcatraz microVM.
 *
 * Mounts the basic file systems, fetches the command from the VMM over
 * AF_VSOCK (see control_proto.h), runs it with its stdio on the virtio
 * console, reaps every process, reports how the command ended and powers
 * the VM off.
 *
 * Linked statically against glibc: it only uses system-call wrappers and
 * string functions, nothing that would pull in NSS or dlopen.
 *
 * Kernel command line parameters read from /proc/cmdline (the kernel does
 * not pass dotted parameters to init):
 *   alcatraz.cmd=ARG,ARG,...   fallback command when vsock is unavailable
 *                              (quote the value for spaces: "sh,-c,echo hi")
 *   alcatraz.cmd64=BASE64      fallback command, NUL-separated argv
 *   alcatraz.novsock           do not try the control channel at all
 *   alcatraz.poweroff          power off even without an ACPI DSDT
 *   alcatraz.debug             trace what init does to the kernel log
 *
 * For host-side tests it also runs as an ordinary process:
 *   alcatraz-init --test --control-fd N --console PATH [--cmdline STRING]
 * which skips mounts and power-off, and exits with 0 after reporting.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "init.h"

struct init_state g = { .kmsg = -1, .ctl = -1 };

static void usage_exit(void)
{
	fprintf(stderr, "alcatraz-init is PID 1 of an Alcatraz microVM.\n"
		"test mode: alcatraz-init --test --console PATH [--control-fd N] [--cmdline STRING]\n");
	exit(2);
}

static void parse_test_args(int argc, char **argv)
{
	bool test = false;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--test")) {
			test = true;
		} else if (!strcmp(argv[i], "--control-fd") && i + 1 < argc) {
			g.ctl = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--console") && i + 1 < argc) {
			g.console = argv[++i];
		} else if (!strcmp(argv[i], "--cmdline") && i + 1 < argc) {
			snprintf(g.cmdline, sizeof(g.cmdline), "%s", argv[++i]);
		} else {
			usage_exit();
		}
	}
	if (!test || !g.console)
		usage_exit();
	if (g.ctl >= 0)
		fcntl(g.ctl, F_SETFD, FD_CLOEXEC);
}

int main(int argc, char **argv)
{
	struct command cmd = { 0 };
	bool fallback = false;
	uint32_t kind;
	int32_t value;
	sigset_t mask;
	int r;

	g.t_start = now_ns();
	g.test = getpid() != 1;
	if (g.test) {
		parse_test_args(argc, argv);
		g.kmsg = 2;
		/* Stand in for PID 1: orphans are reparented to us. */
		prctl(PR_SET_CHILD_SUBREAPER, 1);
	} else {
		setup_system();
		cmdline_read();
	}
	g.debug = cmdline_get("alcatraz.debug", NULL, 0);
	dbg("started, control channel %s", g.ctl >= 0 || !g.test ? "expected" : "absent");
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);

	if (!g.test) {
		if (cmdline_get("alcatraz.novsock", NULL, 0)) {
			klog(6, "control channel disabled on the command line");
		} else {
			r = ctl_connect();
			if (r < 0)
				klog(3, "connecting to the host on vsock %u:%u: %s",
				     ALCATRAZ_CTL_HOST_CID, ALCATRAZ_CTL_VSOCK_PORT, strerror(-r));
			else
				g.ctl = r;
		}
		/* Tell the host at once: its boot timings should not include
		 * the waits below. */
		if (g.ctl >= 0)
			send_event(ALCATRAZ_CTL_EV_INIT_START, g.t_start);
		install_busybox_links();
		/* After the links: they are the initramfs's, never the root's. */
		if ((r = setup_root_and_volumes()))
			finish(ALCATRAZ_CTL_ST_INIT_ERROR, -r, g.ctl < 0);
		net_setup();
	}
	g.console = pick_console();
	dbg("console %s, control fd %d", g.console, g.ctl);

	if (g.test && g.ctl >= 0)
		send_event(ALCATRAZ_CTL_EV_INIT_START, g.t_start);
	if (g.ctl >= 0) {
		r = recv_command(g.ctl, &cmd);
		if (r) {
			klog(3, "receiving the command: %s", strerror(-r));
			finish(ALCATRAZ_CTL_ST_INIT_ERROR, -r, false);
		}
	} else {
		r = fallback_command(&cmd);
		if (r) {
			klog(3, "no control channel and %s alcatraz.cmd= on the kernel command line",
			     r == -ENOENT ? "no" : "an unusable");
			finish(ALCATRAZ_CTL_ST_INIT_ERROR, -r, true);
		}
		fallback = true;
	}

	if (command_add_default_path(&cmd))
		finish(ALCATRAZ_CTL_ST_INIT_ERROR, ENOMEM, fallback);

	run_command(&cmd, &kind, &value);
	finish(kind, value, fallback);
}
