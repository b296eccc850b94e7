// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Parked threads of a warm pool's process (see prestart.h). Each one
 * drops its capabilities and installs its role's seccomp filter itself,
 * the first thing it does: both are a thread's own, so that is what makes
 * it equal to the thread it stands in for (the device thread does the same
 * at its start; vCPUs and the watchdog are started after jail_enter()
 * emptied the control thread's capabilities). The namespaces, the emptied
 * bounding and ambient sets and no_new_privs it inherits from the control
 * thread, which made them before it started any thread. What it waits on
 * is a futex (a condition variable), which every role's filter allows.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "jail.h"
#include "prestart.h"
#include "vmm.h"

struct parked {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	bool exists, taken;
	int status;              /* 1 = confining, 0 = confined, < 0 = failed */
	const char *step;        /* which step failed */
	void *(*fn)(void *);
	void *arg;
};

#define PARKED_INIT { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER }

static struct parked parked[VMM_THREAD_ROLES] = {
	[VMM_THREAD_EVENT] = PARKED_INIT,
	[VMM_THREAD_VCPU] = PARKED_INIT,
	[VMM_THREAD_WATCHDOG] = PARKED_INIT,
};

/* The roles started ahead, and what each is called in an error. */
static const struct {
	enum vmm_thread_role role;
	const char *name;
} ahead[] = {
	{ VMM_THREAD_EVENT, "device thread" },
	{ VMM_THREAD_VCPU, "vcpu0" },
	{ VMM_THREAD_WATCHDOG, "watchdog" },
};

#ifdef ALCATRAZ_TEST_HOOKS
#include <stdlib.h>
/* Test builds: ALCATRAZ_TEST_PRESTART_FAIL=ROLE makes that role's parked
 * thread fail its confinement as if its filter were refused. */
static bool test_hook_prestart_fails(const char *role)
{
	const char *want = getenv("ALCATRAZ_TEST_PRESTART_FAIL");

	return want && !strcmp(want, role);
}
#else
static bool test_hook_prestart_fails(const char *role)
{
	return false;
}
#endif

static void *parked_main(void *arg)
{
	struct parked *p = arg;
	enum vmm_thread_role role = (enum vmm_thread_role)(p - parked);
	const char *step = "dropping its capabilities";
	void *(*fn)(void *);
	int err;

	err = jail_drop_thread_capabilities();
	if (!err) {
		step = "installing its seccomp filter";
		err = test_hook_prestart_fails(seccomp_role_name(role)) ? -EPERM
									: seccomp_install(role);
	}
	pthread_mutex_lock(&p->lock);
	p->status = err;
	p->step = step;
	pthread_cond_broadcast(&p->cond);
	/* Unconfined, it never gets work: prestart_take() refuses it. */
	while (!err && !p->fn)
		pthread_cond_wait(&p->cond, &p->lock);
	fn = p->fn;
	arg = p->arg;
	pthread_mutex_unlock(&p->lock);
	return err ? NULL : fn(arg);
}

/* The signal mask the thread of @role is started with elsewhere: the
 * device thread blocks everything (evloop_start), a vCPU thread the kick
 * as well (vcpu_start), the watchdog the control thread's. */
static void role_mask(enum vmm_thread_role role, sigset_t *set)
{
	pthread_sigmask(SIG_BLOCK, NULL, set);
	if (role == VMM_THREAD_EVENT)
		sigfillset(set);
	else if (role == VMM_THREAD_VCPU)
		sigaddset(set, VCPU_KICK_SIGNAL);
}

void prestart_threads(void)
{
	for (size_t i = 0; i < sizeof(ahead) / sizeof(ahead[0]); i++) {
		struct parked *p = &parked[ahead[i].role];
		sigset_t mask, old;

		role_mask(ahead[i].role, &mask);
		pthread_sigmask(SIG_SETMASK, &mask, &old);
		p->status = 1;
		p->exists = pthread_create(&p->thread, NULL, parked_main, p) == 0;
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	for (size_t i = 0; i < sizeof(ahead) / sizeof(ahead[0]); i++) {
		struct parked *p = &parked[ahead[i].role];

		pthread_mutex_lock(&p->lock);
		while (p->exists && p->status == 1)
			pthread_cond_wait(&p->cond, &p->lock);
		pthread_mutex_unlock(&p->lock);
	}
}

int prestart_check(char *why, size_t len)
{
	for (size_t i = 0; i < sizeof(ahead) / sizeof(ahead[0]); i++) {
		struct parked *p = &parked[ahead[i].role];

		if (p->exists && p->status < 0) {
			snprintf(why, len, "%s started ahead: %s: %s", ahead[i].name, p->step,
				 strerror(-p->status));
			return p->status;
		}
	}
	return 0;
}

int prestart_take(enum vmm_thread_role role, void *(*fn)(void *), void *arg,
		  pthread_t *thread)
{
	struct parked *p;
	int ret;

	if ((unsigned int)role >= VMM_THREAD_ROLES)
		return 0;
	p = &parked[role];
	if (!p->exists)
		return 0;
	pthread_mutex_lock(&p->lock);
	if (p->taken) {
		ret = 0;
	} else if (p->status < 0) {
		ret = p->status;
	} else {
		p->taken = true;
		p->fn = fn;
		p->arg = arg;
		*thread = p->thread;
		pthread_cond_signal(&p->cond);
		ret = 1;
	}
	pthread_mutex_unlock(&p->lock);
	return ret;
}
