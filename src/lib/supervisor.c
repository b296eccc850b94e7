// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The VMM process of one VM, from the library's side. Layout:
 *
 *   caller (libalcatraz) --socket-- alcatraz-vmm (PID 1 of a new PID
 *                                   namespace, born in the VM's cgroup)
 *
 * It is started with clone3 (CLONE_PIDFD, CLONE_NEWPID, CLONE_INTO_CGROUP)
 * and exec: the child runs only async-signal-safe calls between the two, and
 * after exec nothing of the calling program is in it, neither memory nor
 * descriptors (its socket and /dev/null apart) nor environment. The VMM is
 * controlled through its pidfd, so a signal can never reach a recycled pid,
 * and reaped with waitid(P_PIDFD). Its exit signal is 0: the caller's own
 * SIGCHLD handling and waitpid(-1) never see it.
 *
 * wait, result and kill may run at the same time from any threads: one
 * caller at a time reads the socket (the "reader"), the others sleep on
 * the condition until the result is in.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <seccomp.h>

#include "cgroup.h"
#include "exec_records.h"
#include "lib.h"
#include "pool.h"
#include "supervisor.h"
#include "vmm_protocol.h"

struct jailed_vm {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int pidfd;       /* open until destroy: readable once the VMM exited */
	pid_t pid;       /* in our PID namespace, for tests and logs only */
	int sock;
	int log_fd;      /* dup of the configuration's, or -1 */
	bool started, ended, reading, reaped;
	bool pooled;     /* the VMM came from a warm pool: replaced once if killed before CREATED */
	bool start_replied;
	int start_err;   /* STARTED's answer */
	struct vm_cgroup cgroup;
	struct alcatraz_pool *pool; /* held while the VMM came from it, else NULL */
	struct alcatraz_result res;
	int violation;   /* syscall number reported by the VMM's SIGSYS handler, or -1 */
	struct net_backend net; /* passt or the tap, opened before CONFIG */
	struct exec_records execs;
	bool snapshotting, snap_replied; /* one SNAPSHOT at a time */
	int snap_err;
	char snap_why[200];
	/* The VM's timeout, which the VMM enforces; the backstop, armed at
	 * START, kills a VMM that has not ended the VM BACKSTOP_GRACE_MS
	 * after it (a vCPU the kernel never lets go of). */
	uint64_t timeout_ms;
	struct timespec backstop;
	bool backstop_armed, backstop_fired;
};

#define BACKSTOP_GRACE_MS 30000

/* Reaps the VMM (lock held): its status, or -1 when already reaped. */
static int reap_locked(struct jailed_vm *j)
{
	if (j->pidfd < 0 || j->reaped)
		return -1;
	j->reaped = true;
	return vmm_pidfd_reap(j->pidfd);
}

static int make_cgroup(struct jailed_vm *j, const struct alcatraz_config *cfg, int *cg_fd);

/* A pool's process that waits in a cgroup of its own under the default
 * parent keeps it: the VM's limits are written there. */
static bool keep_pool_cgroup(struct jailed_vm *j, const struct alcatraz_config *cfg,
			     struct vmm_proc *p)
{
	int ret;

	if (!p->cg.path[0] || cfg->cgroup_parent)
		return false;
	/* The normal CPU claim back (the pool's is the lowest) and the limits. */
	ret = vm_cgroup_set_limits(&p->cg, cfg->mem_mib << 20, cfg->vcpus);
	if (ret) {
		lib_log(j->log_fd, "alcatraz: debug: pool: cannot set the CPU claim and limits in "
			"%s (%s): moving the VMM to a new cgroup\n", p->cg.path, strerror(-ret));
		return false;
	}
	j->cgroup = p->cg;
	p->cg.path[0] = '\0';
	lib_log(j->log_fd, "alcatraz: info: cgroup v2 limits applied: %s\n", j->cgroup.path);
	return true;
}

/* A warm pool's process when cfg has a pool and one is ready (in its own
 * cgroup with the VM's limits, or moved into the VM's), else a fresh one
 * born in the VM's cgroup. */
static int get_vmm(struct jailed_vm *j, const struct alcatraz_config *cfg, const char *path)
{
	bool linux_guest = !cfg->image_path; /* as config_encode decides */
	struct vmm_proc p;
	int cg_fd = -1, ret = 0;
	bool pooled;

	/* Before the take: it starts the replacement. */
	if (cfg->pool && !cfg->no_sandbox)
		pool_note_irqchip(cfg->pool, vmm_irqchip_wanted(cfg->irqchip, linux_guest));
	pooled = cfg->pool && !cfg->no_sandbox && pool_take(cfg->pool, path, j->log_fd, &p) == 0;

	if (pooled && keep_pool_cgroup(j, cfg, &p))
		goto have;
	if (!cfg->no_sandbox)
		ret = make_cgroup(j, cfg, &cg_fd);
	if (!ret && pooled && cg_fd < 0 && p.cg.path[0]) {
		/* No cgroup for the VM: not one with a waiting process's limits. */
		vmm_proc_discard(&p);
		pooled = false;
	}
	if (!ret && pooled) {
		ret = cg_fd >= 0 ? pool_proc_into_cgroup(&p, cg_fd) : 0;
		if (ret) {
			lib_log(j->log_fd, "alcatraz: error: cannot move a pool's VMM into %s: %s\n",
				j->cgroup.path, strerror(-ret));
			ret = -ALCATRAZ_E_SANDBOX;
		} else if (cg_fd >= 0) {
			vm_cgroup_remove(&p.cg); /* empty now */
		}
	} else if (!ret) {
		ret = vmm_proc_start(path, cg_fd, j->log_fd, &p);
		pooled = false;
	}
	if (cg_fd >= 0)
		close(cg_fd);
	if (ret) {
		if (pooled)
			vmm_proc_discard(&p);
		return ret;
	}
have:
	if (pooled) {
		j->pool = cfg->pool;
		pool_get(j->pool);
	}
	j->pidfd = p.pidfd;
	j->pid = p.pid;
	j->sock = p.sock;
	j->pooled = pooled;
	return 0;
}

/* Reaps a VMM that ended before CREATED: its status (128+n: signal n). */
static int reap_early(struct jailed_vm *j)
{
	pthread_mutex_lock(&j->lock);
	int code = reap_locked(j);
	pthread_mutex_unlock(&j->lock);
	return code;
}

/* The VMM ended before CREATED: the caller sees only -ECHILD, so the log
 * says how (a crash, a seccomp kill or an exit after its own message). */
static void log_early_end(struct jailed_vm *j, int code)
{
	if (code > 128)
		lib_log(j->log_fd, "alcatraz: error: alcatraz-vmm was killed by signal %d (%s) "
			"while it built the VM\n", code - 128, strsignal(code - 128));
	else if (code >= 0)
		lib_log(j->log_fd, "alcatraz: error: alcatraz-vmm exited with status %d while it "
			"built the VM\n", code);
}

/* Sends the configuration; the VMM answers CREATED once the VM is built
 * inside its jail. */
static int configure(struct jailed_vm *j, const struct cfg_blob *b)
{
	struct vmm_msg_buf m;
	int ret = vmm_msg_send(j->sock, VMM_MSG_CONFIG, 0, NULL, 0, b->fds, b->nfds);

	if (ret)
		return ret;
	ret = vmm_msg_recv(j->sock, &m, NULL, 0, NULL);
	if (ret == VMM_MSG_SANDBOX_LINE)
		ret = -ALCATRAZ_E_SANDBOX;
	if (ret)
		return ret == -EPIPE ? -ECHILD : ret;
	if (m.hdr.type != VMM_MSG_CREATED)
		return -EPROTO;
	if (m.hdr.err && m.hdr.len) {
		size_t n = m.hdr.len < sizeof(m.payload) ? m.hdr.len : sizeof(m.payload) - 1;
		m.payload[n] = '\0';
		lib_log(j->log_fd, "alcatraz: error: %s%.*s\n",
			m.hdr.err == -ALCATRAZ_E_SANDBOX ? "sandbox: " : "", (int)n,
			(const char *)m.payload);
	}
	return m.hdr.err > 0 ? -EPROTO : m.hdr.err;
}

/*
 * A fresh VMM (never the pool's) in the VM's cgroup in place of the pool's
 * that was killed, sent the configuration: the same blob when its CONFIG
 * never left (its descriptors are still ours alone and are sent again),
 * else encoded anew, as the dead VMM may have used them (begun the
 * vhost-user session of a volume's virtiofsd).
 */
static int retry_fresh(struct jailed_vm *j, const struct alcatraz_config *cfg, const char *path,
		       struct cfg_blob *blob, bool sent)
{
	struct vmm_proc p;
	int ret;

	close(j->pidfd); /* reaped */
	close(j->sock);
	j->pidfd = j->sock = -1;
	j->reaped = j->pooled = false;
	ret = vmm_proc_start_in(path, &j->cgroup, j->log_fd, &p);
	if (ret)
		return ret;
	j->pidfd = p.pidfd;
	j->pid = p.pid;
	j->sock = p.sock;
	if (sent) {
		cfg_blob_free(blob);
		ret = config_encode(cfg, &j->net, blob);
	}
	return ret ? ret : configure(j, blob);
}

/* The VMM ended before CREATED (ret: -ECHILD, or -EPIPE from sending
 * CONFIG). A pool's process killed from outside while it waited is
 * replaced once (pool_proc_killed_waiting says when); any other end is
 * that VMM's or the configuration's failure, logged and returned as is. */
static int early_end(struct jailed_vm *j, const struct alcatraz_config *cfg, const char *path,
		     struct cfg_blob *blob, int ret)
{
	bool sent = ret == -ECHILD;
	int code = reap_early(j);

	if (j->pooled && pool_proc_killed_waiting(code, sent, j->log_fd)) {
		ret = retry_fresh(j, cfg, path, blob, sent);
		code = ret == -ECHILD ? reap_early(j) : -1;
	}
	if (ret == -ECHILD)
		log_early_end(j, code);
	return ret;
}

/* The files every VM needs, by name: cheaper than starting a VMM to learn
 * that one is missing. config_encode() opens them for real later. */
static int precheck_files(const struct alcatraz_config *cfg, int log_fd)
{
	const struct {
		const char *what, *path;
		int mode;
	} files[] = {
		{ "KVM", "/dev/kvm", F_OK },
		{ cfg->image_path ? "image" : "kernel",
		  cfg->image_path ? cfg->image_path : cfg->kernel_path, R_OK },
		{ "initrd", cfg->initrd_path, R_OK },
	};

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (!files[i].path || access(files[i].path, files[i].mode) == 0)
			continue;
		int err = errno;
		lib_log(log_fd, "alcatraz: error: %s '%s': %s\n", files[i].what, files[i].path,
			strerror(err));
		return -err;
	}
	return 0;
}

static int make_cgroup(struct jailed_vm *j, const struct alcatraz_config *cfg, int *cg_fd)
{
	char why[300];

	if (vm_cgroup_create(&j->cgroup, cfg->cgroup_parent, cfg->mem_mib << 20, cfg->vcpus, cg_fd,
			     why, sizeof(why)) == 0) {
		lib_log(j->log_fd, "alcatraz: info: cgroup v2 limits applied: %s\n", j->cgroup.path);
		return 0;
	}
	if (cfg->require_cgroup) {
		lib_log(j->log_fd, "alcatraz: error: cgroup v2 limits required but not applied: %s\n", why);
		return -ALCATRAZ_E_SANDBOX;
	}
	lib_log(j->log_fd, "alcatraz: info: cgroup v2 limits not applied: %s\n", why);
	return 0;
}

static struct jailed_vm *jailed_new(const struct alcatraz_config *cfg)
{
	struct jailed_vm *j = calloc(1, sizeof(*j));
	pthread_condattr_t ca;

	if (!j)
		return NULL;
	j->violation = -1;
	j->net.fd = -1;
	j->pidfd = j->sock = -1;
	j->log_fd = cfg->log_fd >= 0 ? fcntl(cfg->log_fd, F_DUPFD_CLOEXEC, 3) : -1;
	j->timeout_ms = cfg->timeout_ms;
	pthread_mutex_init(&j->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&j->cond, &ca);
	pthread_condattr_destroy(&ca);
	return j;
}

/* ALCATRAZ_TRACE_CREATE=1: one stderr line per step of jailed_create(),
 * the time since the previous one (the VMM prints its own steps, see
 * src/vmm/util.c): for measuring only, off unless asked. */
static void trace_create(const struct alcatraz_config *cfg, const char *step,
			 struct timespec *last)
{
	const char *on = secure_getenv("ALCATRAZ_TRACE_CREATE");
	struct timespec now;

	if (!on || strcmp(on, "1"))
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (last->tv_sec || last->tv_nsec)
		fprintf(stderr, "alcatraz: debug: %s: create %-12s %8.1f us\n",
			cfg->no_sandbox ? "open" : cfg->pool ? "pool" : "exec", step,
			((now.tv_sec - last->tv_sec) * 1000000000LL + (now.tv_nsec - last->tv_nsec)) /
				1e3);
	*last = now;
}
#define TRACE_CREATE(step) trace_create(cfg, step, &trace_last)
#define TRACE_CREATE_START                                      \
	struct timespec trace_last = { 0, 0 };                  \
	trace_create(cfg, "start", &trace_last)

int jailed_create(const struct alcatraz_config *cfg, struct jailed_vm **out)
{
	struct jailed_vm *j;
	struct cfg_blob blob = { .nfds = 0 };
	char path[4096], why[512];
	int ret;

	TRACE_CREATE_START;
	ret = vmm_binary_path(cfg, path, sizeof(path));
	j = jailed_new(cfg);
	if (!j)
		return -ENOMEM;
	if (ret) {
		lib_log(j->log_fd, "alcatraz: error: alcatraz-vmm '%s' %s (reinstall alcatraz; in "
			"a build tree: meson devenv -C BUILDDIR; or set ALCATRAZ_VMM)\n", path,
			ret == -ENOENT ? "is missing" : "is not executable");
		jailed_destroy(j);
		return ret;
	}
	/* Files that are not there fail the VM before any process exists. */
	ret = precheck_files(cfg, j->log_fd);
	/* The VMM next: a wrong or broken one is reported as such, before
	 * any file of the configuration is opened. */
	TRACE_CREATE("checks");
	if (!ret)
		ret = get_vmm(j, cfg, path);
	TRACE_CREATE("cgroup+vmm");
	if (!ret && (ret = net_open(&cfg->net, j->log_fd, &j->net, why, sizeof(why))))
		lib_log(j->log_fd, "alcatraz: error: %s\n", why);
	if (!ret)
		ret = config_encode(cfg, &j->net, &blob);
	TRACE_CREATE("encode");
	if (!ret)
		ret = configure(j, &blob);
	if (ret == -ECHILD || (ret == -EPIPE && j->pooled))
		ret = early_end(j, cfg, path, &blob, ret);
	TRACE_CREATE("configure");
	if (blob.nfds)
		cfg_blob_free(&blob);
	if (ret) {
		jailed_destroy(j);
		return ret;
	}
	*out = j;
	return 0;
}

/* The VMM is gone without a result (lock held): say how it died. */
static void vmm_died_locked(struct jailed_vm *j)
{
	int code = reap_locked(j);

	if (j->ended)
		return; /* the real result is in; nothing replaces it */
	memset(&j->res, 0, sizeof(j->res));
	if (j->backstop_fired) {
		j->res.kind = ALCATRAZ_EXIT_TIMEOUT;
		j->res.error = -ETIMEDOUT;
		snprintf(j->res.message, sizeof(j->res.message),
			 "timed out after %llu ms; the VMM had not stopped the VM %d ms later "
			 "and was killed", (unsigned long long)j->timeout_ms, BACKSTOP_GRACE_MS);
	} else if (j->violation >= 0 || code == 128 + SIGSYS) {
		char *name = j->violation >= 0
				     ? seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, j->violation)
				     : NULL;
		j->res.kind = ALCATRAZ_EXIT_SANDBOX;
		j->res.error = -ALCATRAZ_E_SANDBOX;
		snprintf(j->res.message, sizeof(j->res.message),
			 "sandbox violation: the VMM attempted %s and was killed with SIGSYS",
			 name ? name : "a forbidden system call");
		free(name);
	} else {
		j->res.kind = ALCATRAZ_EXIT_ERROR;
		j->res.error = -EPIPE;
		snprintf(j->res.message, sizeof(j->res.message),
			 "the VMM process ended unexpectedly (status %d)", code);
	}
	j->ended = true;
}

/* Reads one message as the reader (lock not held): -ETIMEDOUT, or 0 with
 * the message, or the VMM's end. */
static int read_one(struct jailed_vm *j, struct vmm_msg_buf *m, int timeout_ms)
{
	struct pollfd p = { .fd = j->sock, .events = POLLIN };
	int r;

	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return -ETIMEDOUT;
	return vmm_msg_recv(j->sock, m, NULL, 0, NULL);
}

/* Now on CLOCK_MONOTONIC, plus ms. */
static void deadline_after(struct timespec *ts, uint64_t ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += (time_t)(ms / 1000);
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static int remaining_ms(const struct timespec *deadline, int timeout_ms)
{
	struct timespec now;
	int64_t ms;

	if (timeout_ms < 0)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (int64_t)(deadline->tv_sec - now.tv_sec) * 1000 +
	     (deadline->tv_nsec - now.tv_nsec) / 1000000;
	return ms < 0 ? 0 : (int)ms;
}

static bool vm_ended(const struct jailed_vm *j, const void *arg)
{
	(void)arg;
	return j->ended;
}

static bool start_answered(const struct jailed_vm *j, const void *arg)
{
	(void)arg;
	return j->ended || j->start_replied;
}

static bool exec_answered(const struct jailed_vm *j, const void *arg)
{
	(void)arg;
	return j->ended || j->execs.start_replied;
}

/* arg: the exec's id */
static bool exec_ended(const struct jailed_vm *j, const void *arg)
{
	struct exec_record *e = exec_records_find((struct exec_records *)&j->execs,
					       *(const uint32_t *)arg);
	return j->ended || !e || e->done;
}

/* One message from the VMM, taken into the state (lock held). */
static void take_locked(struct jailed_vm *j, int r, const struct vmm_msg_buf *m)
{
	if (r == VMM_MSG_SANDBOX_LINE) {
		j->violation = m->hdr.err;
	} else if (r == 0 && m->hdr.type == VMM_MSG_RESULT && m->hdr.len == sizeof(j->res)) {
		memcpy(&j->res, m->payload, sizeof(j->res));
		j->res.message[sizeof(j->res.message) - 1] = '\0';
		j->ended = true;
		/* It exits right after its result; a pool reaps its own VMs'
		 * processes (jailed_destroy). */
		if (!j->pool)
			reap_locked(j);
	} else if (r == 0 && m->hdr.type == VMM_MSG_STARTED && !j->start_replied) {
		j->start_replied = true;
		j->start_err = m->hdr.err > 0 ? -EPROTO : m->hdr.err;
	} else if (r == 0 && m->hdr.type == VMM_MSG_SNAPSHOT_DONE && j->snapshotting &&
		   !j->snap_replied && m->hdr.err <= 0) {
		size_t n = m->hdr.len < sizeof(j->snap_why) ? m->hdr.len : sizeof(j->snap_why) - 1;
		j->snap_replied = true;
		j->snap_err = m->hdr.err;
		memcpy(j->snap_why, m->payload, n);
		j->snap_why[n] = '\0';
	} else if (r == 0 && (m->hdr.type == VMM_MSG_EXEC_STARTED ||
			      m->hdr.type == VMM_MSG_EXEC_DONE) &&
		   exec_records_take(&j->execs, m)) {
		/* taken */
	} else {
		/* Gone, or it broke the protocol: it is not trusted further. */
		if (!j->reaped)
			vmm_pidfd_signal(j->pidfd, SIGKILL);
		vmm_died_locked(j);
	}
}

/* The VM's timeout plus BACKSTOP_GRACE_MS has passed without its result:
 * the VMM cannot stop it (a vCPU thread the kernel never returns from
 * KVM_RUN). It is killed; its end, read next, reports the timeout. */
static void backstop_fire_locked(struct jailed_vm *j)
{
	if (j->ended || j->reaped)
		return;
	j->backstop_fired = true;
	vmm_pidfd_signal(j->pidfd, SIGKILL);
}

static void backstop_arm_locked(struct jailed_vm *j)
{
	uint64_t ms;

	if (!j->timeout_ms || __builtin_add_overflow(j->timeout_ms, BACKSTOP_GRACE_MS, &ms) ||
	    ms > (uint64_t)INT32_MAX)
		return; /* no timeout, or one beyond what poll() can wait */
	deadline_after(&j->backstop, ms);
	j->backstop_armed = true;
}

/*
 * Becomes the reader (or waits for the current one) until done(j) holds.
 * Lock held on entry and exit. 0, or -ETIMEDOUT. Every message read is
 * taken into the state, whoever reads it, so no waiter misses one.
 */
static int pump_locked(struct jailed_vm *j, bool (*done)(const struct jailed_vm *, const void *),
		       const void *arg, int timeout_ms)
{
	struct timespec deadline;

	deadline_after(&deadline, timeout_ms > 0 ? (uint64_t)timeout_ms : 0);
	while (!done(j, arg)) {
		struct vmm_msg_buf m;
		int r;

		if (j->reading) {
			if (timeout_ms < 0)
				pthread_cond_wait(&j->cond, &j->lock);
			else if (pthread_cond_timedwait(&j->cond, &j->lock, &deadline) == ETIMEDOUT &&
				 !done(j, arg))
				return -ETIMEDOUT;
			continue;
		}
		int wait = remaining_ms(&deadline, timeout_ms);
		int bwait = j->backstop_armed && !j->backstop_fired ? remaining_ms(&j->backstop, 0)
								   : -1;
		bool backstop = bwait >= 0 && (wait < 0 || bwait < wait);

		j->reading = true;
		pthread_mutex_unlock(&j->lock);
		r = read_one(j, &m, backstop ? bwait : wait);
		pthread_mutex_lock(&j->lock);
		j->reading = false;
		if (r != -ETIMEDOUT)
			take_locked(j, r, &m);
		else if (backstop)
			backstop_fire_locked(j);
		pthread_cond_broadcast(&j->cond);
		if (r == -ETIMEDOUT && !backstop && !done(j, arg))
			return r;
	}
	return 0;
}

int jailed_start(struct jailed_vm *j)
{
	int ret = 0;

	pthread_mutex_lock(&j->lock);
	if (j->started) {
		pthread_mutex_unlock(&j->lock);
		return -EALREADY;
	}
	j->started = true;
	if (vmm_msg_send(j->sock, VMM_MSG_START, 0, NULL, 0, NULL, 0) < 0) {
		if (!j->ended)
			vmm_died_locked(j);
	} else {
		pump_locked(j, start_answered, NULL, -1);
		/* An ended VM's result says why; a start error is the caller's. */
		ret = j->start_replied ? j->start_err : 0;
		if (j->start_replied && !j->start_err)
			backstop_arm_locked(j);
	}
	pthread_mutex_unlock(&j->lock);
	return ret;
}

int jailed_wait(struct jailed_vm *j, int timeout_ms)
{
	int ret;

	pthread_mutex_lock(&j->lock);
	if (!j->started) {
		pthread_mutex_unlock(&j->lock);
		return -EINVAL;
	}
	ret = pump_locked(j, vm_ended, NULL, timeout_ms);
	pthread_mutex_unlock(&j->lock);
	return ret;
}

int jailed_kill(struct jailed_vm *j)
{
	bool ended;

	pthread_mutex_lock(&j->lock);
	ended = j->ended;
	/* One datagram is atomic: concurrent senders cannot interleave. */
	if (!ended && vmm_msg_send(j->sock, VMM_MSG_KILL, 0, NULL, 0, NULL, 0) < 0 &&
	    j->pidfd >= 0 && !j->reaped)
		vmm_pidfd_signal(j->pidfd, SIGKILL);
	pthread_mutex_unlock(&j->lock);
	return 0;
}

int jailed_result(struct jailed_vm *j, struct alcatraz_result *res)
{
	int ret = jailed_wait(j, 0);

	if (ret == -ETIMEDOUT || ret == -EINVAL)
		return -EBUSY;
	pthread_mutex_lock(&j->lock);
	*res = j->res;
	pthread_mutex_unlock(&j->lock);
	return 0;
}

int jailed_exec_start(struct jailed_vm *j, const struct vmm_exec_req *req, const int *fds,
		      unsigned int nfds, uint32_t *id)
{
	int ret;

	pthread_mutex_lock(&j->lock);
	/* One EXEC at a time: its answer is the next EXEC_STARTED. */
	while (j->execs.starting && !j->ended)
		pthread_cond_wait(&j->cond, &j->lock);
	if (!j->started || j->ended) {
		ret = j->started ? -ESRCH : -EINVAL;
		goto out;
	}
	ret = exec_records_reserve(&j->execs);
	if (ret)
		goto out;
	j->execs.starting = true;
	j->execs.start_replied = false;
	ret = vmm_msg_send(j->sock, VMM_MSG_EXEC, 0, req, sizeof(*req), fds, nfds);
	if (ret == 0) {
		pump_locked(j, exec_answered, NULL, -1);
		ret = j->execs.start_replied ? j->execs.start_err : -ESRCH;
		if (!ret)
			*id = j->execs.start_id;
	} else {
		ret = -ESRCH; /* the VMM is gone: its result says why */
	}
	j->execs.starting = false;
	pthread_cond_broadcast(&j->cond);
out:
	pthread_mutex_unlock(&j->lock);
	return ret;
}

static bool snapshot_answered(const struct jailed_vm *j, const void *arg)
{
	(void)arg;
	return j->ended || j->snap_replied;
}

int jailed_snapshot(struct jailed_vm *j, int state_fd, int mem_fd, char *why, size_t why_len)
{
	int fds[2] = { state_fd, mem_fd };
	int ret;

	why[0] = '\0';
	pthread_mutex_lock(&j->lock);
	while (j->snapshotting && !j->ended)
		pthread_cond_wait(&j->cond, &j->lock);
	if (!j->started || j->ended) {
		ret = j->started ? -ESRCH : -EINVAL;
		goto out;
	}
	j->snapshotting = true;
	j->snap_replied = false;
	ret = vmm_msg_send(j->sock, VMM_MSG_SNAPSHOT, 0, NULL, 0, fds, 2);
	if (ret == 0) {
		pump_locked(j, snapshot_answered, NULL, -1);
		ret = j->snap_replied ? j->snap_err : -ESRCH;
		if (ret)
			snprintf(why, why_len, "%s", j->snap_replied ? j->snap_why : "the VM ended");
	} else {
		ret = -ESRCH;
	}
	j->snapshotting = false;
	pthread_cond_broadcast(&j->cond);
out:
	pthread_mutex_unlock(&j->lock);
	return ret;
}

int jailed_exec_wait(struct jailed_vm *j, uint32_t id, int timeout_ms,
		     struct vmm_exec_done *res)
{
	struct exec_record *e;
	int ret;

	pthread_mutex_lock(&j->lock);
	ret = pump_locked(j, exec_ended, &id, timeout_ms);
	e = exec_records_find(&j->execs, id);
	if (!e) {
		ret = -ENOENT;
	} else if (e->done) {
		*res = e->res;
		exec_records_drop(&j->execs, e);
		ret = 0;
	} else if (!ret) {
		/* The VM ended first: the exec ended with it. */
		exec_records_drop(&j->execs, e);
		ret = -ESRCH;
	}
	pthread_mutex_unlock(&j->lock);
	return ret;
}

/* A message about a running exec: -ESRCH once it has ended (or the VM). */
static int exec_msg_send(struct jailed_vm *j, uint32_t id, uint16_t type, const void *body,
			 uint32_t len)
{
	struct exec_record *e;
	int ret = 0;

	pthread_mutex_lock(&j->lock);
	e = exec_records_find(&j->execs, id);
	if (!e || e->done || j->ended)
		ret = -ESRCH;
	else if (vmm_msg_send(j->sock, type, 0, body, len, NULL, 0) < 0)
		ret = -ESRCH;
	pthread_mutex_unlock(&j->lock);
	return ret;
}

int jailed_exec_signal(struct jailed_vm *j, uint32_t id, int signo)
{
	struct vmm_exec_signal sig = { .id = id, .signo = (uint32_t)signo };

	return exec_msg_send(j, id, VMM_MSG_EXEC_SIGNAL, &sig, sizeof(sig));
}

int jailed_exec_resize(struct jailed_vm *j, uint32_t id, uint16_t rows, uint16_t cols)
{
	struct vmm_exec_resize r = { .id = id, .rows = rows, .cols = cols };

	return exec_msg_send(j, id, VMM_MSG_EXEC_RESIZE, &r, sizeof(r));
}

int jailed_fd(struct jailed_vm *j)
{
	return j->pidfd >= 0 ? j->pidfd : -EBADF;
}

pid_t jailed_pid(struct jailed_vm *j)
{
	return j->pid;
}

void jailed_destroy(struct jailed_vm *j)
{
	if (!j)
		return;
	if (j->started && !j->ended) {
		jailed_kill(j);
		if (jailed_wait(j, 2000) == -ETIMEDOUT && j->pidfd >= 0 && !j->reaped)
			vmm_pidfd_signal(j->pidfd, SIGKILL);
	}
	bool retired = false;
	pthread_mutex_lock(&j->lock);
	if (j->pidfd >= 0 && !j->reaped) {
		/* PID 1 of its namespace: the namespace dies with it. The
		 * kernel's teardown is left to the pool, where there is one. */
		vmm_pidfd_signal(j->pidfd, SIGKILL);
		retired = j->pool && pool_retire(j->pool, j->pidfd, &j->cgroup) == 0;
		if (!retired)
			reap_locked(j);
	}
	pthread_mutex_unlock(&j->lock);
	if (!retired && j->pidfd >= 0)
		close(j->pidfd);
	if (!retired)
		vm_cgroup_remove(&j->cgroup);
	if (j->pool)
		pool_put(j->pool);
	net_close(&j->net);
	exec_records_free(&j->execs);
	if (j->sock >= 0)
		close(j->sock);
	if (j->log_fd >= 0)
		close(j->log_fd);
	pthread_cond_destroy(&j->cond);
	pthread_mutex_destroy(&j->lock);
	free(j);
}
