// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A warm pool: alcatraz-vmm processes started ahead (clone3 into a new PID
 * namespace, exec, HELLO checked, namespaces made with "--pool") that wait
 * for a configuration, so that alcatraz_vm_create() skips the start of a
 * program, its dynamic linking and its unshare(). They hold nothing of any
 * VM: the configuration and every descriptor arrive with CONFIG.
 *
 * One refill thread per pool starts a process whenever fewer than size are
 * ready, and sleeps on the ready processes' sockets: one that closes (the
 * process was killed or died) is reaped and replaced, never handed out.
 * A thread rather than a refill on the creating thread after the VM is
 * handed out: there the clone3 and the wait for HELLO (the exec, dynamic
 * linking and unshare) would sit on the caller's path again, while the
 * thread does them on another CPU or while the caller waits for its guest.
 *
 * The cgroup: a process is started before the VM's size is known, so it is
 * born in a cgroup of its own under the caller's, with the smallest limits
 * (64 MiB, 9 tasks, one CPU), and a VM of the default parent that takes it
 * writes its own limits there before CONFIG: everything of the VM (guest
 * RAM, vCPU threads, device buffers) is charged there, and no process is
 * moved (a write to cgroup.procs waits for an RCU grace period in the
 * kernel: milliseconds on a many-CPU host). A VM under another parent gets
 * a cgroup there, the process is moved into it, and the pool's is removed.
 *
 * The CPU: the replacement starts as soon as a process is taken, while the
 * VM that took it is being made, and its warming (exec, dynamic linking,
 * namespaces, seccomp filters, KVM_CREATE_VM) would compete with that VM
 * and every running one for the CPU. So the pool's cgroups get the lowest
 * claim (cpu.idle) before the process is born in them, and the VM that
 * takes one gets the normal claim back with its limits, before its
 * CONFIG: warming runs only on CPU time no VM wants. No sleep before the
 * refill: on an idle host it is ready as soon as it would be without.
 * Where the claim cannot be lowered (no cgroup of its own, or cpu.idle and
 * cpu.weight not writable) the pool works as without it, and the first VM
 * handed such a process has a debug line that says why.
 *
 * The end: a VM made from the pool is retired to it when destroyed. Its
 * process is killed at once, and the thread reaps it and removes its
 * cgroup when the kernel has torn it down (KVM's VM, the guest's memory,
 * the namespaces): that teardown (tens of milliseconds where the kernel
 * waits for grace periods) is off the caller's path, as a platform's VM
 * ends are. The pool lives until its last such VM is destroyed, and
 * alcatraz_pool_free() waits for the ones retired: nothing is left after
 * it. A VM destroyed after the free, or while POOL_MAX_RETIRED wait, is
 * torn down by its caller as one without a pool.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib.h"
#include "pool.h"

/* A bound on processes kept ready (each is a process and two descriptors). */
#define POOL_MAX_SIZE 256
/* After a failed start, the refill thread waits this long, doubling up to the max. */
#define POOL_BACKOFF_MIN_MS 10
#define POOL_BACKOFF_MAX_MS 2000
#define POOL_WHY_LEN 300
/* A bound on destroyed VMs' processes waiting to be reaped. */
#define POOL_MAX_RETIRED 64
/* Test builds: how long the kill of a taken process may take to end it. */
#define TEST_KILL_TAKEN_WAIT_MS 20000

struct retired {
	int pidfd;
	struct vm_cgroup cg;
};

struct alcatraz_pool {
	pthread_mutex_t lock;
	pthread_t thread;
	int wake_fd;              /* eventfd: a take or the free wakes the thread */
	bool stop;
	unsigned int size, nready;
	struct vmm_proc *ready;   /* nready of size, oldest first */
	struct retired retired[POOL_MAX_RETIRED]; /* nretired, killed, to reap */
	unsigned int nretired;
	unsigned int refs;        /* the caller's until the free, and one per VM made */
	bool irqchip;             /* what the processes started now make ahead */
	struct pollfd *pfd;       /* the thread's: wake_fd, the ready sockets, the retired */
	int starting_pidfd;       /* a process being started, until its HELLO; else -1 */
	struct vm_cgroup *starting_cg; /* its cgroup (the thread's), while starting_pidfd >= 0 */
	/* Why a process waits with the normal CPU claim (the first reason),
	 * and whether a VM's log has said so. */
	char claim_why[POOL_WHY_LEN + 32];
	bool claim_told;
	char path[PATH_MAX_LEN + 1];
};

static void wake(struct alcatraz_pool *pool)
{
	uint64_t one = 1;

	if (write(pool->wake_fd, &one, sizeof(one)) < 0) {
		/* The counter is saturated: the thread has wakes pending anyway. */
	}
}

/* A ready process is still waiting quietly: anything on its socket (its
 * end closed, or words before CONFIG) means it is gone or broken. */
static bool proc_waiting(const struct vmm_proc *p)
{
	struct pollfd pf = { .fd = p->sock, .events = POLLIN };

	return poll(&pf, 1, 0) == 0;
}

static void remove_at_locked(struct alcatraz_pool *pool, unsigned int i)
{
	memmove(&pool->ready[i], &pool->ready[i + 1],
		(pool->nready - i - 1) * sizeof(pool->ready[0]));
	pool->nready--;
}

/* Reaps the ready processes that died (lock held; they are dead or
 * killed here, so the wait is short). */
static void prune_locked(struct alcatraz_pool *pool)
{
	for (unsigned int i = 0; i < pool->nready;) {
		if (proc_waiting(&pool->ready[i])) {
			i++;
			continue;
		}
		struct vmm_proc gone = pool->ready[i];
		remove_at_locked(pool, i);
		vmm_proc_discard(&gone);
	}
}

/* Sleeps until a take, the free, a ready process's end, or timeout_ms. */
static void sleep_locked(struct alcatraz_pool *pool, int timeout_ms)
{
	unsigned int n = 0;
	uint64_t v;

	pool->pfd[n++] = (struct pollfd){ .fd = pool->wake_fd, .events = POLLIN };
	for (unsigned int i = 0; i < pool->nready; i++)
		pool->pfd[n++] = (struct pollfd){ .fd = pool->ready[i].sock, .events = POLLIN };
	for (unsigned int i = 0; i < pool->nretired; i++)
		pool->pfd[n++] = (struct pollfd){ .fd = pool->retired[i].pidfd, .events = POLLIN };
	/* Unlocked, a take may hand one of these sockets to a VM, which may
	 * answer on it or close it: poll holds its own reference, and the
	 * prune after the wake checks only what is still in the array. */
	pthread_mutex_unlock(&pool->lock);
	if (poll(pool->pfd, n, timeout_ms) > 0 && (pool->pfd[0].revents & POLLIN) &&
	    read(pool->wake_fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: another wake was read already. */
	}
	pthread_mutex_lock(&pool->lock);
}

/* Reaps the retired processes that ended (with @wait, all of them) and
 * removes their cgroups, without the lock: a cgroup's removal may wait
 * for the kernel to let go of it. Lock held on entry and return. */
static void reap_retired_locked(struct alcatraz_pool *pool, bool wait)
{
	for (unsigned int i = 0; i < pool->nretired;) {
		struct retired r = pool->retired[i];
		siginfo_t si = { .si_pid = 0 };
		int got = waitid((idtype_t)P_PIDFD, (id_t)r.pidfd, &si,
				 WEXITED | __WALL | (wait ? 0 : WNOHANG));

		if (got < 0 && errno == EINTR)
			continue;
		if (got == 0 && si.si_pid == 0) {
			i++; /* still being torn down */
			continue;
		}
		/* Reaped, or no child to reap (an error): done with it either way. */
		pool->retired[i] = pool->retired[--pool->nretired];
		pthread_mutex_unlock(&pool->lock);
		close(r.pidfd);
		vm_cgroup_remove(&r.cg);
		pthread_mutex_lock(&pool->lock);
	}
}

/* Kills the process being started (lock held), with the normal claim
 * first: at the lowest, behind a busy CPU, even its exit would wait. */
static void end_starting_locked(struct alcatraz_pool *pool)
{
	if (pool->starting_pidfd < 0)
		return;
	(void)vm_cgroup_normal_claim(pool->starting_cg);
	vmm_pidfd_signal(pool->starting_pidfd, SIGKILL);
}

/* Keeps the first reason a process waits with the normal CPU claim. */
static void note_claim(struct alcatraz_pool *pool, const char *what, const char *why)
{
	pthread_mutex_lock(&pool->lock);
	if (!pool->claim_why[0])
		snprintf(pool->claim_why, sizeof(pool->claim_why), "%s%s", what, why);
	pthread_mutex_unlock(&pool->lock);
}

/* One process for the pool, born in a cgroup of its own under the
 * caller's with the lowest CPU claim (the smallest limits until a VM takes
 * it: vm_cgroup_set_limits then, no move); in the caller's cgroup where
 * none can be made. */
static int start_one(struct alcatraz_pool *pool, struct vmm_proc *p)
{
	struct vm_cgroup cg;
	char why[POOL_WHY_LEN];
	int cg_fd = -1, ret;

	if (vm_cgroup_create(&cg, NULL, 0, 1, &cg_fd, why, sizeof(why))) {
		cg.path[0] = '\0';
		note_claim(pool, "no cgroup of its own: ", why);
	} else if (vm_cgroup_lower_claim(&cg, why, sizeof(why))) {
		note_claim(pool, "", why);
	}
	pthread_mutex_lock(&pool->lock);
	bool irqchip = pool->irqchip;
	pthread_mutex_unlock(&pool->lock);
	ret = vmm_proc_spawn(pool->path, true, irqchip, cg_fd, -1, p);
	if (cg_fd >= 0)
		close(cg_fd);
	if (!ret) {
		/* At the lowest claim on a busy CPU the HELLO may take long: the
		 * free kills the process rather than wait for it. */
		pthread_mutex_lock(&pool->lock);
		pool->starting_pidfd = p->pidfd;
		pool->starting_cg = &cg;
		if (pool->stop)
			end_starting_locked(pool);
		pthread_mutex_unlock(&pool->lock);
		ret = vmm_proc_greeted(p, pool->path, -1);
		pthread_mutex_lock(&pool->lock);
		pool->starting_pidfd = -1;
		pool->starting_cg = NULL;
		pthread_mutex_unlock(&pool->lock);
		if (ret)
			vmm_proc_discard(p);
	}
	if (ret)
		vm_cgroup_remove(&cg);
	else
		p->cg = cg;
	return ret;
}

static void *refill_main(void *arg)
{
	struct alcatraz_pool *pool = arg;
	int backoff = 0;      /* ms after the last failed start; 0 after a success */
	bool may_start = true;

	pthread_mutex_lock(&pool->lock);
	while (!pool->stop) {
		prune_locked(pool);
		reap_retired_locked(pool, false);
		if (pool->nready < pool->size && may_start) {
			struct vmm_proc p;
			int ret;

			pthread_mutex_unlock(&pool->lock);
			ret = start_one(pool, &p);
			pthread_mutex_lock(&pool->lock);
			if (ret) {
				backoff = backoff ? backoff * 2 : POOL_BACKOFF_MIN_MS;
				if (backoff > POOL_BACKOFF_MAX_MS)
					backoff = POOL_BACKOFF_MAX_MS;
				may_start = false;
			} else if (pool->stop) {
				vmm_proc_discard(&p);
			} else {
				pool->ready[pool->nready++] = p;
				backoff = 0;
			}
			continue;
		}
		sleep_locked(pool, pool->nready < pool->size ? backoff : -1);
		may_start = true;
	}
	/* The free returns with nothing of the pool's VMs left. */
	reap_retired_locked(pool, true);
	pthread_mutex_unlock(&pool->lock);
	return NULL;
}

#ifdef ALCATRAZ_TEST_HOOKS
/* Test builds: ALCATRAZ_TEST_POOL_KILL_TAKEN=1 SIGKILLs the process just
 * handed out and returns once it is gone (every thread, so its socket is
 * closed): a kill -9 or the OOM killer at that moment, made certain. */
static void test_hook_kill_taken(struct vmm_proc *p)
{
	const char *on = getenv("ALCATRAZ_TEST_POOL_KILL_TAKEN");
	struct pollfd gone[2] = { { .fd = p->pidfd, .events = POLLIN },
				  { .fd = p->sock, .events = POLLIN } };

	if (!on || strcmp(on, "1"))
		return;
	/* At the lowest claim its exit would wait for CPU time no one wants. */
	(void)vm_cgroup_normal_claim(&p->cg);
	vmm_pidfd_signal(p->pidfd, SIGKILL);
	for (int i = 0; i < 2; i++)
		(void)poll(&gone[i], 1, TEST_KILL_TAKEN_WAIT_MS);
}
#else
static void test_hook_kill_taken(struct vmm_proc *p)
{
	(void)p;
}
#endif

int pool_take(struct alcatraz_pool *pool, const char *path, int log_fd, struct vmm_proc *p)
{
	char why[POOL_WHY_LEN + 32] = "";
	int ret = -EAGAIN;

	if (strcmp(path, pool->path))
		return -EAGAIN; /* the configuration names another alcatraz-vmm */
	pthread_mutex_lock(&pool->lock);
	while (pool->nready) {
		*p = pool->ready[0];
		remove_at_locked(pool, 0);
		if (proc_waiting(p)) {
			ret = 0;
			break;
		}
		vmm_proc_discard(p);
	}
	if (!ret && p->cg.claim == VM_CGROUP_CLAIM_NORMAL && !pool->claim_told) {
		pool->claim_told = true;
		snprintf(why, sizeof(why), "%s", pool->claim_why[0] ? pool->claim_why : "unknown");
	}
	pthread_mutex_unlock(&pool->lock);
	wake(pool);
	if (!ret)
		test_hook_kill_taken(p);
	if (why[0])
		lib_log(log_fd, "alcatraz: debug: pool: processes wait with the normal CPU claim "
			"(%s)\n", why);
	return ret;
}

/*
 * Killed from outside while it waited: SIGKILL (an admin's kill -9, the OOM
 * killer choosing an idle process), or gone before its CONFIG could even be
 * sent, whatever ended it, as the configuration played no part then. The
 * library never sends SIGKILL to a process between pool_take() and its
 * CREATED: the refill thread and alcatraz_pool_free() kill only the
 * processes still in the ready list or still starting, vmm_proc_discard()
 * only one that no VM took, supervisor.c's take_locked() only one it reads
 * after CREATED, jailed_kill() only a created VM's, and jailed_destroy()
 * only once the create's outcome is decided. Any other end (a crash,
 * SIGSYS, an exit status, a refused configuration) is that VMM's or the
 * configuration's failure and is not retried. A SIGKILL by the VM's own
 * memory limit (its cgroup's OOM killer, while the VM is built) looks the
 * same: the fresh VMM meets the same limit, and its end is reported as any
 * other.
 */
bool pool_proc_killed_waiting(int status, bool config_sent, int log_fd)
{
	if (config_sent && status != 128 + SIGKILL)
		return false;
	if (status > 128)
		lib_log(log_fd, "alcatraz: info: pool: the waiting alcatraz-vmm was killed (signal "
			"%d) before it %s: starting a fresh one\n", status - 128,
			config_sent ? "built the VM" : "took its configuration");
	else
		lib_log(log_fd, "alcatraz: info: pool: the waiting alcatraz-vmm exited (status %d) "
			"before it took its configuration: starting a fresh one\n", status);
	return true;
}

int pool_proc_into_cgroup(const struct vmm_proc *p, int cg_fd)
{
	char pid[16];
	int fd, len, ret = 0;

	fd = openat(cg_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* Not reaped while its pidfd is open: the pid cannot be another's. */
	len = snprintf(pid, sizeof(pid), "%d", (int)p->pid);
	if (write(fd, pid, (size_t)len) != len)
		ret = -errno;
	close(fd);
	return ret;
}

static void pool_release(struct alcatraz_pool *pool)
{
	if (pool->wake_fd >= 0)
		close(pool->wake_fd);
	pthread_mutex_destroy(&pool->lock);
	free(pool->ready);
	free(pool->pfd);
	free(pool);
}

static void discard_ready(struct alcatraz_pool *pool)
{
	for (unsigned int i = 0; i < pool->nready; i++)
		vmm_proc_discard(&pool->ready[i]);
	pool->nready = 0;
}

void pool_put(struct alcatraz_pool *pool)
{
	pthread_mutex_lock(&pool->lock);
	bool last = --pool->refs == 0;
	pthread_mutex_unlock(&pool->lock);
	if (last)
		pool_release(pool);
}

void pool_note_irqchip(struct alcatraz_pool *pool, bool irqchip)
{
	pthread_mutex_lock(&pool->lock);
	pool->irqchip = irqchip;
	pthread_mutex_unlock(&pool->lock);
}

void pool_get(struct alcatraz_pool *pool)
{
	pthread_mutex_lock(&pool->lock);
	pool->refs++;
	pthread_mutex_unlock(&pool->lock);
}

int pool_retire(struct alcatraz_pool *pool, int pidfd, const struct vm_cgroup *cg)
{
	int ret = -EAGAIN;

	pthread_mutex_lock(&pool->lock);
	if (!pool->stop && pool->nretired < POOL_MAX_RETIRED) {
		pool->retired[pool->nretired++] = (struct retired){ .pidfd = pidfd, .cg = *cg };
		ret = 0;
	}
	pthread_mutex_unlock(&pool->lock);
	if (!ret)
		wake(pool);
	return ret;
}

int alcatraz_pool_new(unsigned int size, const char *vmm_path, struct alcatraz_pool **out)
{
	struct alcatraz_config where = { .vmm_path = (char *)vmm_path };
	struct alcatraz_pool *pool;
	sigset_t all, old;
	int ret;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (size == 0 || size > POOL_MAX_SIZE || (vmm_path && !*vmm_path))
		return -EINVAL;
	pool = calloc(1, sizeof(*pool));
	if (!pool)
		return -ENOMEM;
	pthread_mutex_init(&pool->lock, NULL);
	pool->size = size;
	pool->refs = 1;
	/* Until a configuration says otherwise: Linux guests have one. */
	pool->irqchip = true;
	pool->starting_pidfd = -1;
	pool->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	pool->ready = calloc(size, sizeof(pool->ready[0]));
	pool->pfd = calloc(1 + size + POOL_MAX_RETIRED, sizeof(pool->pfd[0]));
	if (pool->wake_fd < 0 || !pool->ready || !pool->pfd) {
		ret = pool->wake_fd < 0 ? -errno : -ENOMEM;
		goto fail;
	}
	ret = vmm_binary_path(&where, pool->path, sizeof(pool->path));
	/* Filled before it is returned: a wrong alcatraz-vmm fails here. */
	while (!ret && pool->nready < size) {
		ret = start_one(pool, &pool->ready[pool->nready]);
		if (!ret)
			pool->nready++;
	}
	if (ret)
		goto fail;
	/* The caller's signals are never delivered to the refill thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = -pthread_create(&pool->thread, NULL, refill_main, pool);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret)
		goto fail;
	*out = pool;
	return 0;
fail:
	discard_ready(pool);
	pool_release(pool);
	return ret;
}

void alcatraz_pool_free(struct alcatraz_pool *pool)
{
	if (!pool)
		return;
	pthread_mutex_lock(&pool->lock);
	pool->stop = true;
	end_starting_locked(pool);
	pthread_mutex_unlock(&pool->lock);
	wake(pool);
	pthread_join(pool->thread, NULL);
	discard_ready(pool);
	pool_put(pool);
}

int alcatraz_config_set_pool(struct alcatraz_config *cfg, struct alcatraz_pool *pool)
{
	if (!cfg)
		return -EINVAL;
	cfg->pool = pool;
	return 0;
}
