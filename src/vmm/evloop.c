// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The device/event thread (see evloop.h). A handful of descriptors, so the
 * poll set is rebuilt on every round; that is what lets each source decide
 * afresh whether it wants input.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "evloop.h"
#include "jail.h"
#include "outbuf.h"
#include "prestart.h"
#include "sandbox.h"
#include "sink.h"

#define EVLOOP_MAX 48
#define EVLOOP_MAX_OUTBUFS 8

struct ev_source {
	int fd;
	ev_want_fn want;
	ev_cb_fn cb;
	void *opaque;
};

struct evloop;

/* An output buffer as a poll source: the loop comes along, since its VM is
 * the one whose end waits for the buffer (the buffer's own vm only names
 * where its drops are logged, and is NULL for the VM's log). */
struct ev_out {
	struct evloop *ev;
	struct outbuf *ob;
};

struct evloop {
	struct vm *vm;
	struct ev_source src[EVLOOP_MAX];
	unsigned int n;
	struct ev_out outs[EVLOOP_MAX_OUTBUFS];
	unsigned int n_outs;
	int wake_fd;
	volatile int stop;
	pthread_t thread;
	bool started;
	bool dead;          /* the thread gave up (poll failed): nothing drains */
	/* Start-up handshake: the thread reports whether its filter is in. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int start_status;   /* 1 = pending, 0 = running, < 0 = failed */
};

int evloop_new(struct vm *vm, struct evloop **out)
{
	struct evloop *ev;

	if (*out)
		return -EEXIST; /* one device thread per VM (vm.c creates it) */
	ev = calloc(1, sizeof(*ev));
	if (!ev)
		return -ENOMEM;
	ev->vm = vm;
	pthread_mutex_init(&ev->lock, NULL);
	pthread_cond_init(&ev->cond, NULL);
	ev->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ev->wake_fd < 0) {
		int err = -errno;
		free(ev);
		return err;
	}
	*out = ev;
	return 0;
}

int evloop_add(struct evloop *ev, int fd, ev_want_fn want, ev_cb_fn cb, void *opaque)
{
	if (!ev || ev->started)
		return -EINVAL;
	if (ev->n >= EVLOOP_MAX)
		return -ENOSPC;
	ev->src[ev->n++] = (struct ev_source){ .fd = fd, .want = want, .cb = cb, .opaque = opaque };
	return 0;
}

static short outbuf_want(void *opaque)
{
	struct ev_out *o = opaque;

	return outbuf_poll_events(o->ob);
}

static void outbuf_ready(void *opaque, int fd, short revents)
{
	struct ev_out *o = opaque;

	(void)outbuf_drain(o->ob);
	/* Whoever waits in vm_wait() for this buffer to empty may be asleep
	 * already: tell the loop's VM, for every buffer, the log's included. */
	if (outbuf_idle(o->ob))
		vm_output_progress(o->ev->vm);
}

static void wake_cb(void *opaque)
{
	evloop_wake(opaque);
}

int evloop_add_outbuf(struct evloop *ev, struct outbuf *ob)
{
	struct ev_out *o;
	int ret;

	if (!ev || ev->n_outs >= EVLOOP_MAX_OUTBUFS)
		return -ENOSPC;
	o = &ev->outs[ev->n_outs];
	*o = (struct ev_out){ .ev = ev, .ob = ob };
	ret = evloop_add(ev, outbuf_fd(ob), outbuf_want, outbuf_ready, o);
	if (ret)
		return ret;
	ev->n_outs++;
	outbuf_set_wake_cb(ob, wake_cb, ev);
	return 0;
}

bool evloop_outputs_idle(struct evloop *ev)
{
	if (ev && __atomic_load_n(&ev->dead, __ATOMIC_ACQUIRE))
		return true;
	for (unsigned int i = 0; ev && i < ev->n_outs; i++)
		if (!outbuf_idle(ev->outs[i].ob))
			return false;
	return true;
}

void evloop_outputs_end(struct evloop *ev)
{
	for (unsigned int i = 0; ev && i < ev->n_outs; i++)
		outbuf_end(ev->outs[i].ob);
}

bool evloop_running(struct evloop *ev)
{
	return ev && ev->started && !__atomic_load_n(&ev->stop, __ATOMIC_ACQUIRE);
}

void evloop_wake(struct evloop *ev)
{
	uint64_t one = 1;

	if (ev) {
		ssize_t n = write(ev->wake_fd, &one, sizeof(one));
		(void)n;
	}
}

/* The loop, on a thread whose filter (if any) is in already. */
static void *evloop_run(void *arg)
{
	struct evloop *ev = arg;
	struct pollfd pfd[EVLOOP_MAX + 1];
	int idx[EVLOOP_MAX + 1];

	sink_thread_block_sigpipe(); /* all signals are blocked; say so to sink.c */
	while (!__atomic_load_n(&ev->stop, __ATOMIC_ACQUIRE)) {
		unsigned int n = 0;

		pfd[n] = (struct pollfd){ .fd = ev->wake_fd, .events = POLLIN };
		idx[n++] = -1;
		for (unsigned int i = 0; i < ev->n; i++) {
			short want = ev->src[i].want ? ev->src[i].want(ev->src[i].opaque) : POLLIN;
			if (!want)
				continue;
			pfd[n] = (struct pollfd){ .fd = ev->src[i].fd, .events = want };
			idx[n++] = (int)i;
		}
		if (poll(pfd, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			vm_end(ev->vm, ALCATRAZ_EXIT_ERROR, 0, -errno, "device thread: poll failed");
			__atomic_store_n(&ev->dead, true, __ATOMIC_RELEASE);
			vm_output_progress(ev->vm);
			break;
		}
		if (pfd[0].revents) {
			uint64_t v;
			ssize_t r = read(ev->wake_fd, &v, sizeof(v));
			(void)r;
		}
		for (unsigned int k = 1; k < n; k++) {
			if (!pfd[k].revents)
				continue;
			struct ev_source *s = &ev->src[idx[k]];
			s->cb(s->opaque, s->fd, pfd[k].revents);
		}
	}
	return NULL;
}

static void *evloop_thread(void *arg)
{
	struct evloop *ev = arg;
	int err = 0;

	/* Confined before it touches any guest-controlled data. Capabilities
	 * are a thread's own: this one is started before jail_enter() empties
	 * the control thread's, so it empties its own (the bounding set it
	 * inherited is empty already: jail_prepare). */
	if (ev->vm->cfg.seccomp) {
		err = jail_drop_thread_capabilities();
		if (!err)
			err = seccomp_install(VMM_THREAD_EVENT);
	}
	pthread_mutex_lock(&ev->lock);
	ev->start_status = err;
	pthread_cond_broadcast(&ev->cond);
	pthread_mutex_unlock(&ev->lock);
	if (err)
		return NULL;
	return evloop_run(ev);
}

int evloop_start(struct evloop *ev)
{
	sigset_t all, old;
	int ret;

	/* A warm pool's process has a device thread parked, confined (with
	 * every signal blocked) since its birth: no start-up handshake. */
	ret = ev->vm->cfg.seccomp ? prestart_take(VMM_THREAD_EVENT, evloop_run, ev, &ev->thread)
				  : 0;
	if (ret > 0) {
		ev->started = true;
		return 0;
	}
	if (ret < 0) {
		vm_log(ev->vm, LOG_ERR, "device thread: the thread started ahead is not "
		       "confined: %s", strerror(-ret));
		return -ALCATRAZ_E_SANDBOX;
	}
	/* No signal of the embedding program is ever handled here. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	ev->start_status = 1;
	ret = -pthread_create(&ev->thread, NULL, evloop_thread, ev);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret)
		return ret;
	ev->started = true;
	pthread_mutex_lock(&ev->lock);
	while (ev->start_status == 1)
		pthread_cond_wait(&ev->cond, &ev->lock);
	ret = ev->start_status;
	pthread_mutex_unlock(&ev->lock);
	if (ret)
		vm_log(ev->vm, LOG_ERR, "device thread: cannot install its seccomp filter: %s",
		       strerror(-ret));
	return ret ? -ALCATRAZ_E_SANDBOX : 0;
}

void evloop_free(struct evloop *ev)
{
	if (!ev)
		return;
	if (ev->started) {
		__atomic_store_n(&ev->stop, 1, __ATOMIC_RELEASE);
		evloop_wake(ev);
		pthread_join(ev->thread, NULL);
	}
	/* Whatever the sinks take now; the rest is dropped, never waited for. */
	for (unsigned int i = 0; i < ev->n_outs; i++) {
		outbuf_set_wake_cb(ev->outs[i].ob, NULL, NULL);
		(void)outbuf_drain(ev->outs[i].ob);
	}
	close(ev->wake_fd);
	pthread_cond_destroy(&ev->cond);
	pthread_mutex_destroy(&ev->lock);
	free(ev);
}
