/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host side of the control channel to alcatraz-init (the protocol is
 * src/guest/control_proto.h): it sends the command when init says it has
 * started, forwards the end of stdin, and turns the guest's STATUS into the
 * VM's result. It sees only a byte stream; vsock.c carries it.
 */
#ifndef ALCATRAZ_CONTROL_H
#define ALCATRAZ_CONTROL_H

#include "vmm.h"

int control_new(struct vm *vm) __must_check;
void control_free(struct vm *vm);
/* The guest connected / the connection closed. */
void control_connected(struct vm *vm);
void control_disconnected(struct vm *vm);
/* alcatraz-init runs and has not sent STATUS yet.  Takes the channel's lock. */
bool control_awaits_status(struct vm *vm);
/* Bytes from the guest; a negative return is a protocol error (the VM has
 * then been ended with a runtime error). */
int control_receive(struct vm *vm, const uint8_t *data, size_t len);
/* Bytes queued for the guest: copy out (and consume) up to max of them. */
size_t control_take(struct vm *vm, void *buf, size_t max);
bool control_has_output(struct vm *vm);
/* Whether the command runs, so stdin bytes can be delivered: before that
 * the guest's console may still be in cooked mode, and input sent then
 * could be echoed or flushed. */
bool control_stdin_open(struct vm *vm);
/* The host's stdin ended after `total` bytes (console.c). */
void control_stdin_eof(struct vm *vm, uint64_t total);

/* For exec.c: takes the channel's lock and gives its exec table; false
 * (no lock taken) when the VM has no control channel. */
struct exec_table;
bool control_lock(struct vm *vm, struct exec_table **execs);
void control_unlock(struct vm *vm);
/* Queues whole records for the guest; lock held. */
struct control;
int control_put_raw_locked(struct control *c, const void *rec, size_t len);

/* Snapshots: the channel's state (CONTROL_SNAP_LEN bytes, carried in the
 * vsock device's section). save: the length, or -EBUSY/-EINVAL with *why
 * when the channel is not at rest; restore checks every field. With an
 * init that takes sessions (FEAT_SESSION) restore sets *new_session: the
 * snapshot's connection is over, the transport must be reset, and the
 * connection init makes then starts with a new session (SESSION, sent
 * first, then RESEED). */
#define CONTROL_SNAP_LEN 24
int control_snap_save(struct vm *vm, uint8_t *buf, const char **why);
int control_snap_restore(struct vm *vm, const uint8_t *buf, bool *new_session,
			 const char **why);
/* A restored virtio-net's new MAC (6 bytes): NET_IDENTITY goes to an init
 * that takes it (FEAT_NET_IDENTITY) after the restored channel's RESEED.
 * 0 or -ENOMEM. */
int control_net_identity(struct vm *vm, const uint8_t *mac);

#endif
