/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Further commands in a running Linux guest ("execs"), host side: each has
 * its own argv, environment, workdir, stdin, stdout, stderr and exit status,
 * and travels over the control channel (src/guest/control_proto.h, "Further
 * commands"). Up to ALCATRAZ_CTL_MAX_EXECS run at once.
 *
 * The main command's end still ends the VM (and every exec with it): a
 * caller that wants a VM for several commands (a CI job's steps) starts a
 * main command that waits, such as `sleep infinity`, and kills the VM at the
 * end. Execs not reaped by then are dropped with the VM.
 *
 * An exec may be started as soon as the VM is created: it is sent once
 * alcatraz-init has taken the main command. Completion is pollable:
 * vm_exec_fd() becomes readable when vm_exec_reap() has a result, which
 * comes only after all of the exec's output has been written to its sinks.
 *
 * Threads: any thread may call these, except with the control channel's or
 * the vsock device's lock held. The device thread does the rest (epoll_ctl,
 * the vsock queue). vm_exec_start looks at the output descriptors as the
 * console's are (sink.c: fstat, isatty, a non-blocking reopen through
 * /proc/self/fd) unless the spec says what they are (spec->classified):
 * the jailed control thread's seccomp list allows none of those.
 */
#ifndef ALCATRAZ_VMM_EXEC_H
#define ALCATRAZ_VMM_EXEC_H

#include <stdint.h>

#include "vmm.h"
#include "vmm_protocol.h"

struct vm_exec_spec {
	char *const *argv;   /* NULL-terminated, at least argv[0] */
	char *const *envp;   /* NULL-terminated "KEY=VALUE" list, or NULL */
	const char *workdir; /* absolute, or NULL: the guest's / */
	/* Taken over (closed by the VM), also when vm_exec_start fails; -1:
	 * empty stdin / output discarded. */
	int in_fd, out_fd, err_fd;
	/* A caller whose thread may not look at descriptors (the jailed
	 * control thread) says what proto_sink_classify() found for out_fd
	 * and err_fd, whose non-blocking reopen they already are. */
	bool classified;
	enum vmm_sink_class out_class, err_class;
	bool out_tty, err_tty;
};

struct vm_exec_result {
	uint32_t id;
	/* The exit status as alcatraz-run reports it: the command's code,
	 * 128 + signal, 126/127 when it could not be executed or found, 125
	 * when the guest could not start it (then error says why). */
	int exit_code;
	uint32_t kind;       /* ALCATRAZ_CTL_ST_*; 0 when the guest never ran it */
	int32_t value;       /* the exit code, signal or guest errno */
	int error;           /* 0, or -EOPNOTSUPP: the guest's init runs no execs */
};

/*
 * Starts argv in the guest; *id names it from now on. -EINVAL / -E2BIG: the
 * command is malformed or larger than one EXEC record; -EAGAIN: as many
 * execs as allowed are live; -EOPNOTSUPP: no command channel, or a guest
 * whose init runs no execs; -ESRCH: the VM has ended.
 */
int vm_exec_start(struct vm *vm, const struct vm_exec_spec *spec, uint32_t *id) __must_check;
/* Sends signo (1..64) to the exec's process group. -ESRCH: no live exec id. */
int vm_exec_signal(struct vm *vm, uint32_t id, int signo) __must_check;
/* Sends the exec's new terminal size (rows, cols 1..65535) to the guest.
 * -EINVAL: a zero size; -ESRCH: no live exec id; -EOPNOTSUPP: the guest's
 * init does not take EXEC_WINSIZE. */
int vm_exec_resize(struct vm *vm, uint32_t id, uint16_t rows, uint16_t cols) __must_check;
/* Readable while vm_exec_reap() has a result; -1 without a command channel. */
int vm_exec_fd(struct vm *vm);
/* 1 and *res: an exec ended and its output was written; 0: none has. */
int vm_exec_reap(struct vm *vm, struct vm_exec_result *res);

/* ---- for control.c (the channel's lock held unless said otherwise) ---- */
struct exec_table;
struct control;
int exec_table_new(struct vm *vm, struct control *c, struct exec_table **out) __must_check;
void exec_table_free(struct exec_table *t);
/* Snapshots (control.c): whether no exec is queued, running or unreaped,
 * and the channel's readiness. Channel lock held. */
bool exec_snap_idle(const struct exec_table *t, bool *ready, bool *refused);
/* init took the main command; guest_execs: it said it runs execs;
 * guest_winsize: it takes EXEC_WINSIZE. */
void exec_channel_ready(struct exec_table *t, bool guest_execs, bool guest_winsize);
/* One EXEC_* record from the guest: 0, or a protocol error described. */
int exec_receive(struct exec_table *t, uint32_t type, const uint8_t *p, uint32_t len,
		 const char **why);
/* Appends the streaming records due (stdin, acknowledgements), whole ones,
 * to buf; returns the bytes. */
size_t exec_fill(struct exec_table *t, uint8_t *buf, size_t room);
bool exec_has_output(struct exec_table *t);
/* The host side of the exec streams became ready (the device thread's
 * poll callback; tests call it directly). Takes the channel's lock. */
void exec_poll(struct vm *vm);

#endif
