/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The device/event thread: one poll() loop over the host-side file
 * descriptors of the devices (queue kick eventfds, stdin). Each source says
 * what it wants to wait for before every poll, so a device that has nowhere
 * to put data (a full receive queue) simply stops asking for POLLIN.
 */
#ifndef ALCATRAZ_EVLOOP_H
#define ALCATRAZ_EVLOOP_H

#include "vmm.h"

/* Returns the poll events wanted now (0: do not poll this fd). NULL = POLLIN. */
typedef short (*ev_want_fn)(void *opaque);
typedef void (*ev_cb_fn)(void *opaque, int fd, short revents);

struct evloop;

int evloop_new(struct vm *vm, struct evloop **out) __must_check;
int evloop_add(struct evloop *ev, int fd, ev_want_fn want, ev_cb_fn cb, void *opaque) __must_check;
int evloop_start(struct evloop *ev) __must_check;
/*
 * Device output (outbuf.h): the loop writes a buffer's bytes to its sink
 * whenever the sink has room, never blocking; before evloop_start.
 */
struct outbuf;
int evloop_add_outbuf(struct evloop *ev, struct outbuf *ob) __must_check;
/* Every buffer written out (or its sink broken), no producer waiting. */
bool evloop_outputs_idle(struct evloop *ev);
/* The end of every output stream (the terminal filter's held bytes). */
void evloop_outputs_end(struct evloop *ev);
/* Started and not being stopped: its thread drains the buffers. */
bool evloop_running(struct evloop *ev);
/* Makes the loop re-ask every source what it wants (any thread). */
void evloop_wake(struct evloop *ev);
/* Stops and joins the thread (if started), writes what the sinks take at
 * once, then frees (the buffers stay their owners'). NULL is allowed. */
void evloop_free(struct evloop *ev);

#endif
