/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libalcatraz: run untrusted code in KVM microVMs.
 *
 * The API follows liburing/libseccomp conventions: one prefix (alcatraz_),
 * opaque handles, and every function that can fail returns 0 (or a positive
 * value where documented) on success and a negative errno value on failure.
 * No function sets errno, and the library never calls exit() or abort()
 * because of anything a guest does.
 *
 * Threading: distinct handles may be used from distinct threads at the same
 * time; the library keeps no global mutable state. On one VM handle,
 * alcatraz_vm_wait(), alcatraz_vm_result(), alcatraz_vm_kill(),
 * alcatraz_vm_fd() and the alcatraz_vm_exec*() calls may be called from any
 * number of threads at the same time (each waiter returns once the VM has
 * ended, with the same result);
 * alcatraz_vm_start() is called once, before any wait; alcatraz_vm_destroy()
 * must not overlap any other call on the handle. A configuration handle is
 * used by one thread at a time.
 *
 * Processes: every VM runs in its own VMM process, alcatraz-vmm, started
 * with clone3 and exec (never a fork of the caller: it holds nothing of the
 * caller's memory, descriptors or environment) and controlled through a
 * pidfd. Its exit signal is 0, so the caller's SIGCHLD handler and
 * waitpid(-1, ...) never see it.
 *
 * Typical use:
 *
 *	struct alcatraz_config *cfg;
 *	struct alcatraz_vm *vm;
 *	struct alcatraz_result res;
 *
 *	alcatraz_config_new(&cfg);
 *	alcatraz_config_set_guest_image(cfg, "hello.img");
 *	alcatraz_vm_create(cfg, &vm);
 *	alcatraz_config_free(cfg);          // the VM keeps its own copy
 *	alcatraz_vm_start(vm);
 *	alcatraz_vm_wait(vm, -1);
 *	alcatraz_vm_result(vm, &res);
 *	alcatraz_vm_destroy(vm);
 */
#ifndef ALCATRAZ_ALCATRAZ_H
#define ALCATRAZ_ALCATRAZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ALCATRAZ_VERSION_MAJOR 0
#define ALCATRAZ_VERSION_MINOR 1

/* Errors specific to Alcatraz, beyond the errno range. */
enum {
	ALCATRAZ_E_BASE = 4096,
	/* /dev/kvm is present but cannot run a Linux guest usefully (kvm_pvm). */
	ALCATRAZ_E_SLOWKVM = 4097,
	/* The image is not a format the loader understands. */
	ALCATRAZ_E_BADIMAGE = 4098,
	/* The sandbox (seccomp, namespaces) could not be installed. */
	ALCATRAZ_E_SANDBOX = 4099,
};

/** Opaque VM configuration. */
struct alcatraz_config;
/** Opaque VM instance. */
struct alcatraz_vm;
/** Opaque warm pool of VMM processes (alcatraz_pool_new()). */
struct alcatraz_pool;

/** How a VM ended. */
enum alcatraz_exit_kind {
	ALCATRAZ_EXIT_RUNNING = 0,  /* not ended yet (or never started) */
	ALCATRAZ_EXIT_STATUS,       /* the guest reported an exit status */
	ALCATRAZ_EXIT_SIGNALED,     /* the guest's command was killed by a signal */
	ALCATRAZ_EXIT_HALT,         /* every vCPU halted (raw guests without irqchip) */
	ALCATRAZ_EXIT_RESET,        /* the guest asked for a reset (i8042, triple fault not included) */
	ALCATRAZ_EXIT_SHUTDOWN,     /* the guest powered off without reporting a status */
	/* triple fault, an unrecoverable vCPU state, or a Linux guest that reset
	 * or powered off before alcatraz-init reported the command's status (a
	 * kernel panic reboots) */
	ALCATRAZ_EXIT_CRASH,
	ALCATRAZ_EXIT_TIMEOUT,      /* the configured timeout expired */
	ALCATRAZ_EXIT_KILLED,       /* alcatraz_vm_kill() was called */
	ALCATRAZ_EXIT_ERROR,        /* a host-side error; see error and message */
	ALCATRAZ_EXIT_SANDBOX,      /* the VMM broke its sandbox and was killed */
};

/** Wall-clock milestones of a run, in nanoseconds since alcatraz_vm_start(); 0 = not reached. */
struct alcatraz_timings {
	uint64_t vmm_ready_ns;     /* VM built, first KVM_RUN about to happen */
	uint64_t first_exit_ns;    /* first exit to the VMM from the guest */
	uint64_t init_start_ns;    /* Linux guests: alcatraz-init reported its start */
	uint64_t cmd_start_ns;     /* Linux guests: the command was started */
	uint64_t end_ns;           /* the VM ended */
	uint64_t reserved[3];
};

/** What a VM used; 0 where not measured. */
struct alcatraz_usage {
	/* CPU time of the vCPU threads: the guest's own time plus the exits
	 * the VMM handled on them (CLOCK_THREAD_CPUTIME_ID). */
	uint64_t vcpu_cpu_ns;
	/* The VMM process's peak resident set (guest RAM it touched included). */
	uint64_t vmm_peak_rss_bytes;
	/* Bytes the guest read from and wrote to its virtio-blk disks. */
	uint64_t disk_read_bytes;
	uint64_t disk_written_bytes;
};

/** The outcome of a VM, valid once alcatraz_vm_wait() returned 0. */
struct alcatraz_result {
	enum alcatraz_exit_kind kind;
	/* STATUS: the exit status (0-255). SIGNALED: the signal number. */
	int status;
	/* ERROR/SANDBOX: a negative errno-style code. */
	int error;
	/* Human-readable one-line explanation (always NUL-terminated). */
	char message[256];
	struct alcatraz_timings timings;
	struct alcatraz_usage usage;
	uint64_t reserved[4];
};

/**
 * alcatraz_strerror - describe an error code
 * @err: a negative (or positive) errno value, or an ALCATRAZ_E_* code
 *
 * Returns a static string; never NULL.
 */
const char *alcatraz_strerror(int err);

/**
 * alcatraz_exit_kind_name - short name of an exit kind ("status", "timeout", ...)
 */
const char *alcatraz_exit_kind_name(enum alcatraz_exit_kind kind);

/**
 * alcatraz_version - the library version as "major.minor.patch"
 */
const char *alcatraz_version(void);

/* ------------------------------------------------------------------------ */
/* Configuration                                                            */
/* ------------------------------------------------------------------------ */

/**
 * alcatraz_config_new - allocate a configuration with defaults
 * @out: receives the new handle
 *
 * Defaults: 1 vCPU, 128 MiB, no timeout, serial console discarded.
 * Returns 0 or -ENOMEM.
 */
int alcatraz_config_new(struct alcatraz_config **out);

/** alcatraz_config_free - release a configuration (NULL is allowed). */
void alcatraz_config_free(struct alcatraz_config *cfg);

/**
 * alcatraz_config_set_vcpus - number of vCPUs
 * Returns -EINVAL for 0 or more than 64.
 */
int alcatraz_config_set_vcpus(struct alcatraz_config *cfg, unsigned int n);

/**
 * alcatraz_config_set_memory_mib - guest RAM in MiB
 * Returns -EINVAL for less than 2 MiB or more than 3072 MiB (RAM sits below
 * the 32-bit MMIO hole). alcatraz_vm_create() fails with -ENOMEM when the
 * host does not have that much memory.
 */
int alcatraz_config_set_memory_mib(struct alcatraz_config *cfg, uint64_t mib);

/**
 * alcatraz_config_set_guest_image - run a raw 64-bit freestanding image
 * @path: flat binary, loaded at guest-physical 0x100000 and entered there in
 *        64-bit mode, CPL0, with an identity map of the first 4 GiB,
 *        RSP at the top of RAM minus 64 KiB per vCPU and RDI = vCPU index.
 *
 * Mutually exclusive with alcatraz_config_set_kernel().
 * Returns -EINVAL on an empty path, -ENOMEM.
 */
int alcatraz_config_set_guest_image(struct alcatraz_config *cfg, const char *path);

/**
 * alcatraz_config_set_kernel - boot a Linux kernel (vmlinux ELF or bzImage)
 * Mutually exclusive with alcatraz_config_set_guest_image().
 */
int alcatraz_config_set_kernel(struct alcatraz_config *cfg, const char *path);

/** alcatraz_config_set_initrd - initial ramdisk for a Linux kernel. */
int alcatraz_config_set_initrd(struct alcatraz_config *cfg, const char *path);

/** alcatraz_config_set_cmdline - kernel command line (at most 4095 bytes). */
int alcatraz_config_set_cmdline(struct alcatraz_config *cfg, const char *cmdline);

/**
 * alcatraz_config_set_serial_fd - where the guest's COM1 output goes
 * @fd: a file descriptor the library writes to (it is dup'ed), or -1 to
 *      discard the output (the default).
 */
int alcatraz_config_set_serial_fd(struct alcatraz_config *cfg, int fd);

/**
 * alcatraz_config_set_log_fd - where the VMM writes its own diagnostics
 * @fd: dup'ed; -1 (the default) discards them.
 */
int alcatraz_config_set_log_fd(struct alcatraz_config *cfg, int fd);

/**
 * alcatraz_config_set_timeout_ms - stop the VM after this long (0 = never)
 *
 * The VM ends with ALCATRAZ_EXIT_TIMEOUT; running vCPUs are kicked out of
 * KVM_RUN with immediate_exit and a signal. If the VMM has not reported the
 * VM's end 30 s after the timeout (a vCPU the kernel never lets go of), a
 * waiting caller's library kills the VMM process and reports the timeout,
 * its message ending in "was killed".
 */
int alcatraz_config_set_timeout_ms(struct alcatraz_config *cfg, uint64_t ms);

/** How the in-kernel interrupt controller is chosen. */
enum alcatraz_irqchip {
	ALCATRAZ_IRQCHIP_AUTO = 0, /* on for Linux kernels, off for raw images */
	ALCATRAZ_IRQCHIP_ON,       /* in-kernel LAPIC/IOAPIC/PIC and PIT */
	ALCATRAZ_IRQCHIP_OFF,      /* none: HLT exits to the VMM */
};

/**
 * alcatraz_config_set_irqchip - choose the in-kernel irqchip mode
 *
 * With the irqchip a halted vCPU sleeps inside KVM; without it, HLT is seen
 * by the VMM and a VM whose every vCPU halted ends with ALCATRAZ_EXIT_HALT.
 */
int alcatraz_config_set_irqchip(struct alcatraz_config *cfg, enum alcatraz_irqchip mode);

/**
 * alcatraz_config_set_allow_slow_kvm - let Linux kernels start on kvm_pvm
 *
 * By default alcatraz_vm_create() refuses a Linux kernel with
 * -ALCATRAZ_E_SLOWKVM on a host whose /dev/kvm emulates guest kernel code,
 * because such a guest crawls for seconds and then usually fails. Raw images
 * are always allowed.
 */
int alcatraz_config_set_allow_slow_kvm(struct alcatraz_config *cfg, bool allow);

/**
 * alcatraz_config_set_insecure_no_sandbox - run the VMM without its sandbox
 *
 * By default every VM's VMM runs in its own process, jailed (new mount, PID,
 * network, IPC and UTS namespaces, and a user namespace when not root; an
 * empty read-only root; no capabilities; no_new_privs; bounded files and
 * tasks; its own cgroup where cgroup v2 allows), and each of its threads
 * runs under its own seccomp allow list. When that cannot be set up,
 * alcatraz_vm_create() fails with -ALCATRAZ_E_SANDBOX and the VM never
 * starts. Passing true here runs the VMM process without the jail, the
 * seccomp lists and the cgroup: a guest that escapes the VMM then has the
 * caller's rights on the host. For debugging only; the log says so.
 */
int alcatraz_config_set_insecure_no_sandbox(struct alcatraz_config *cfg, bool insecure);

/**
 * alcatraz_config_set_vmm_binary - the alcatraz-vmm program to start
 * @path: an executable alcatraz-vmm of this library's version
 *
 * Default: $ALCATRAZ_VMM (read with secure_getenv()), else the installed
 * <prefix>/<libexecdir>/alcatraz/alcatraz-vmm. alcatraz_vm_create() fails
 * with -ENOENT or -EACCES when it is missing or not executable, -ENOEXEC
 * when it does not greet, and -EPROTO when it speaks another protocol
 * version (the log says which).
 */
int alcatraz_config_set_vmm_binary(struct alcatraz_config *cfg, const char *path);

/**
 * alcatraz_config_set_cgroup_parent - where the VM's cgroup is made
 * @dir: an absolute directory of the cgroup v2 hierarchy (for instance
 *       /sys/fs/cgroup/ci.slice) whose memory, pids and cpu controllers are
 *       delegated or can be enabled
 *
 * Each sandboxed VM gets a child cgroup there, alcatraz-vm-PID-N, limited
 * to its RAM plus a margin, its vCPUs and a few tasks; the VMM is born in
 * it. Default: the calling process's own cgroup.
 */
int alcatraz_config_set_cgroup_parent(struct alcatraz_config *cfg, const char *dir);

/**
 * alcatraz_config_set_require_cgroup - fail instead of running without limits
 *
 * By default a VM whose cgroup cannot be made (no cgroup v2, controllers
 * not delegated) runs without those limits, and the log has an info line.
 * With true, alcatraz_vm_create() fails with -ALCATRAZ_E_SANDBOX instead.
 */
int alcatraz_config_set_require_cgroup(struct alcatraz_config *cfg, bool require);

/**
 * alcatraz_config_set_net_user - user-mode networking through passt
 *
 * The VM gets a virtio-net device whose other end is passt (Debian package
 * passt; ALCATRAZ_PASST overrides /usr/bin/passt), started for the VM
 * before the VMM and confined by itself: outbound TCP and UDP through the
 * host's sockets, DNS forwarded to the host's resolver, and the name
 * host.alcatraz.internal for the host's loopback. The guest is 10.0.2.15/24
 * with gateway 10.0.2.2. alcatraz_vm_create() fails with -ENOENT when passt
 * is missing. Default: no network.
 */
int alcatraz_config_set_net_user(struct alcatraz_config *cfg);

/**
 * alcatraz_config_set_net_tap - networking through an existing tap device
 * @spec: NAME[,mac=AA:BB:CC:DD:EE:FF][,ip=A.B.C.D/P][,gw=G][,dns=D]: the
 *        tap's name, the guest's MAC (default: random, locally
 *        administered) and, optionally, the address alcatraz-init gives eth0
 *
 * For platforms that set up the network namespace themselves. -EINVAL for a
 * malformed spec; alcatraz_vm_create() fails with -ENODEV when NAME is not
 * an existing tap device.
 */
int alcatraz_config_set_net_tap(struct alcatraz_config *cfg, const char *spec);

/**
 * alcatraz_config_add_port_forward - publish a guest port on the host
 * @spec: [HOSTADDR:]HOSTPORT:GUESTPORT[/tcp|/udp], as docker run -p
 *
 * User-mode networking only. -EINVAL for a malformed spec, -ENOSPC past 32;
 * alcatraz_vm_create() fails with -EADDRINUSE when the host port is taken.
 */
int alcatraz_config_add_port_forward(struct alcatraz_config *cfg, const char *spec);

/** Which guest output sinks (serial, the command's stdout) are filtered. */
enum alcatraz_output_filter {
	ALCATRAZ_OUTPUT_FILTER_TTY = 0, /* those that are terminals (isatty) */
	ALCATRAZ_OUTPUT_FILTER_OFF,     /* none: the guest's bytes as they are */
	ALCATRAZ_OUTPUT_FILTER_ON,      /* all of them */
};

/**
 * alcatraz_config_set_output_filter - keep guest bytes from driving a terminal
 *
 * A filtered sink gets \n, \r, \t, printable ASCII and valid UTF-8 of
 * printable characters as they are; every other byte (ESC and the other
 * C0 and C1 controls, DEL, malformed UTF-8) arrives as the four visible
 * characters "\xHH", so escape sequences from the guest cannot retitle,
 * reprogram or read back the host's terminal. Default:
 * ALCATRAZ_OUTPUT_FILTER_TTY. Returns 0 or -EINVAL.
 */
int alcatraz_config_set_output_filter(struct alcatraz_config *cfg,
				      enum alcatraz_output_filter mode);

/* ------------------------------------------------------------------------ */
/* VM lifecycle                                                             */
/* ------------------------------------------------------------------------ */

/**
 * alcatraz_vm_create - build a VM from a configuration
 * @cfg: the configuration; copied, so it may be freed afterwards
 * @out: receives the VM handle
 *
 * Opens /dev/kvm, allocates guest memory and loads the image; no guest code
 * runs yet. On failure nothing is leaked.
 * Returns 0, or -ENOENT (/dev/kvm or image missing), -EACCES (/dev/kvm not
 * accessible), -ENOMEM, -EINVAL (no image configured, bad combination),
 * -ALCATRAZ_E_BADIMAGE, or another negative errno from KVM.
 */
int alcatraz_vm_create(const struct alcatraz_config *cfg, struct alcatraz_vm **out);

/**
 * alcatraz_vm_start - start running the guest's vCPUs in background threads
 * Returns 0, -EALREADY if already started, or a negative errno.
 */
int alcatraz_vm_start(struct alcatraz_vm *vm);

/**
 * alcatraz_vm_wait - wait for the VM to end
 * @timeout_ms: how long to wait; -1 waits forever, 0 polls
 *
 * Returns 0 once the VM has ended (then alcatraz_vm_result() is valid),
 * -ETIMEDOUT if it is still running after @timeout_ms, -EINVAL if it was
 * never started.
 */
int alcatraz_vm_wait(struct alcatraz_vm *vm, int timeout_ms);

/**
 * alcatraz_vm_kill - stop a running VM; it ends with ALCATRAZ_EXIT_KILLED
 * Returns 0 (also when it had already ended).
 */
int alcatraz_vm_kill(struct alcatraz_vm *vm);

/**
 * alcatraz_vm_result - read how the VM ended
 * Returns 0, or -EBUSY while the VM still runs.
 */
int alcatraz_vm_result(struct alcatraz_vm *vm, struct alcatraz_result *res);

/**
 * alcatraz_vm_fd - a descriptor that becomes readable when the VM has ended
 *
 * For event loops (poll, epoll, io_uring): once it polls readable,
 * alcatraz_vm_wait(vm, 0) returns 0 and alcatraz_vm_result() is valid. It is
 * the VMM process's pidfd: owned by the handle, valid until
 * alcatraz_vm_destroy(); do not close it or read from it.
 * Returns the descriptor, or -EINVAL.
 */
int alcatraz_vm_fd(struct alcatraz_vm *vm);

/**
 * alcatraz_vm_snapshot - save a running VM to a directory
 * @dir: an existing directory; its files "state" and "memory" are created
 *       (mode 0600) or overwritten
 *
 * Pauses the VM at a consistent point (every vCPU out of the guest, its
 * pending I/O completed), writes its vCPUs', in-kernel devices', clock's
 * and emulated devices' state to "state" (versioned, checksummed) and its
 * RAM to "memory" (pages of zeros as holes), then lets it go on. The VMM
 * writes to descriptors the library opened; it opens nothing itself.
 * A configuration with alcatraz_config_set_restore() starts from it.
 *
 * A Linux guest is saved at rest: its main command running (a waiter, such
 * as `sleep 2147483647`), no exec queued, running or not yet reaped, nothing
 * in flight on the control channel or the console; else -EBUSY (try again
 * a moment later). A VM with virtio-net, virtio-fs volumes or virtio-blk
 * disks is refused with -ENOTSUP, never saved half-way.
 * Returns 0, -EINVAL (also before alcatraz_vm_start()), -ESRCH (the VM
 * has ended), -ENOTSUP, -EBUSY, or what opening or writing the files
 * returned; a refusal's reason is in the VM's log.
 */
int alcatraz_vm_snapshot(struct alcatraz_vm *vm, const char *dir);

/**
 * alcatraz_config_set_restore - start the VM from a snapshot instead of booting
 * @dir: a directory alcatraz_vm_snapshot() wrote
 *
 * The configuration must name the same guest image (checked by its
 * identity, a hash in the state file), vCPU count, RAM size and irqchip
 * setting as the snapshotted VM. Guest RAM is mapped copy-on-write from
 * "memory" (read lazily, shared by every VM restored from it). The state
 * file is hostile input: alcatraz_vm_create() checks it whole and fails
 * with -EBADMSG (truncated or corrupt), -EPROTONOSUPPORT (another
 * version), -EFBIG (too large) or -EINVAL (another guest, vCPU count or
 * RAM size, a memory file too small, not a state file), with one line in
 * the log. A Linux guest goes on where it was saved: its main command is
 * not sent again (the configuration names one all the same, with no
 * stdio); run commands in it with alcatraz_vm_exec(). Its kernel's random
 * number generator is reseeded from the host's before anything runs, so
 * no two VMs restored from one snapshot draw the same numbers.
 */
int alcatraz_config_set_restore(struct alcatraz_config *cfg, const char *dir);

/**
 * alcatraz_vm_destroy - kill (if needed) and free a VM (NULL is allowed)
 *
 * A VM made from a warm pool that is still alive returns once its VMM is
 * killed: the kernel's teardown of the process (the guest's memory, KVM's
 * VM, the namespaces) goes on, and the pool's thread reaps it and removes
 * its cgroup (see alcatraz_pool_free()). Any other VM's destroy returns
 * once its VMM is reaped and its cgroup removed.
 */
void alcatraz_vm_destroy(struct alcatraz_vm *vm);

/**
 * alcatraz_pool_new - keep VMM processes ready for alcatraz_vm_create()
 * @size: how many processes to keep ready, 1 to 256
 * @vmm_path: the alcatraz-vmm to start, or NULL for the default lookup
 *            (as alcatraz_config_set_vmm_binary() describes)
 * @out: receives the pool
 *
 * A warm pool keeps @size alcatraz-vmm processes started (clone3 into a
 * new PID namespace, exec, greeting checked) that have made their jail's
 * namespaces, their threads, a KVM VM and its vCPU 0, and wait for a
 * configuration. They hold nothing of any VM's configuration or data. KVM
 * takes the in-kernel irqchip only before the first vCPU, so a process
 * makes one when the pool's last configuration had one (at first: yes, as
 * a Linux guest has); a configuration of the other kind gets a VM made
 * after it, as without a pool.
 * A sandboxed configuration given the pool (alcatraz_config_set_pool())
 * takes one at alcatraz_vm_create(), which moves it into the VM's cgroup
 * and sends it the configuration; a thread of the pool starts the
 * replacement in the background. Where the processes get cgroups of their
 * own (cgroup v2 with the cpu controller), they start and wait with the
 * lowest CPU claim (cpu.idle, else cpu.weight 1), so that starting them
 * never takes CPU from running VMs (this call's own starts included: on a
 * busy CPU it returns later), and the VM that takes one gets the normal
 * claim back. A process that dies while it waits is
 * reaped and replaced, never handed out. When none is ready, or the
 * configuration names another alcatraz-vmm or opts out of the sandbox,
 * alcatraz_vm_create() starts a process itself as without a pool. A VM
 * made from the pool is handed back to it by alcatraz_vm_destroy(), which
 * then returns without waiting for the kernel to tear its process down.
 *
 * Returns 0 once @size processes are ready, or -EINVAL, -ENOMEM, and what
 * alcatraz_vm_create() returns for a missing or wrong alcatraz-vmm
 * (-ENOENT, -EACCES, -ENOEXEC, -EPROTO). Any number of threads may create
 * VMs from one pool at the same time. The processes' environment is taken
 * when each starts. A pool is not usable in a child the caller forks.
 */
int alcatraz_pool_new(unsigned int size, const char *vmm_path, struct alcatraz_pool **out);

/**
 * alcatraz_pool_free - stop a pool and end its waiting processes (NULL is allowed)
 *
 * Kills and reaps every process still waiting, waits until the processes
 * of the pool's destroyed VMs are reaped and their cgroups removed, and
 * stops the pool's thread: nothing of the pool is left when it returns.
 * VMs already created from the pool are not affected; one destroyed after
 * this call is torn down by alcatraz_vm_destroy() itself. No configuration
 * may name the pool afterwards, and no alcatraz_vm_create() with such a
 * configuration may be running. Should the caller exit without it, the
 * waiting processes see their socket close and exit.
 */
void alcatraz_pool_free(struct alcatraz_pool *pool);

/**
 * alcatraz_config_set_pool - create this configuration's VMs from a warm pool
 * @pool: a pool from alcatraz_pool_new(), or NULL for none
 *
 * The configuration borrows @pool: it must outlive every
 * alcatraz_vm_create() with this configuration. See alcatraz_pool_new().
 */
int alcatraz_config_set_pool(struct alcatraz_config *cfg, struct alcatraz_pool *pool);

/**
 * alcatraz_kvm_probe - check that this host can run VMs
 * @msg: receives a one-line explanation (may be NULL)
 * @len: size of @msg
 *
 * Returns 0 when /dev/kvm is usable at hardware speed, -ALCATRAZ_E_SLOWKVM
 * when it is usable but is a software-assisted implementation (kvm_pvm) on
 * which Linux guests cannot boot usefully, or -ENOENT/-EACCES/-ENXIO.
 */
int alcatraz_kvm_probe(char *msg, size_t len);

/* ------------------------------------------------------------------------ */
/* Linux guests: command, standard I/O, disks, root filesystem              */
/* ------------------------------------------------------------------------ */
/*
 * A VM with a kernel and a command boots Linux with alcatraz-init as PID 1,
 * which receives the command over a virtio-vsock control channel and runs
 * it with its standard streams on the virtio console. The VM ends when the
 * command ends: ALCATRAZ_EXIT_STATUS with its status (126: not executable,
 * 127: not found), or ALCATRAZ_EXIT_SIGNALED with the signal number.
 * Unless an initrd is given, the library writes the initramfs itself from
 * alcatraz-init and a static busybox (or from a host directory).
 */

/**
 * alcatraz_config_set_command - the command to run in the guest
 * @argv: NULL-terminated; argv[0] is looked up in the guest's PATH
 * Returns -EINVAL (empty), -E2BIG (beyond execve limits), -ENOMEM.
 */
int alcatraz_config_set_command(struct alcatraz_config *cfg, const char *const *argv);

/** alcatraz_config_add_env - add "KEY=VALUE" to the command's environment. */
int alcatraz_config_add_env(struct alcatraz_config *cfg, const char *key_value);

/** alcatraz_config_set_workdir - the command's working directory (absolute). */
int alcatraz_config_set_workdir(struct alcatraz_config *cfg, const char *dir);

/**
 * alcatraz_config_set_stdio - the command's standard streams on the host
 * @in_fd:  read for the command's stdin (dup'ed); -1: empty stdin
 * @out_fd: receives the command's stdout (dup'ed), and its stderr too when
 *          err_fd is -1; -1: discarded
 * @err_fd: receives the command's stderr (dup'ed); -1: stderr goes to out_fd
 * Default: empty stdin, output discarded.
 */
int alcatraz_config_set_stdio(struct alcatraz_config *cfg, int in_fd, int out_fd, int err_fd);

/**
 * alcatraz_config_add_disk - attach a raw disk image (virtio-blk)
 * Disks appear as /dev/vda, /dev/vdb, ... in the order added (after the
 * root disk, which is always /dev/vda). alcatraz_vm_create() fails with
 * -EBUSY when another VM holds the image's lock. At most 8 disks.
 */
int alcatraz_config_add_disk(struct alcatraz_config *cfg, const char *path, bool readonly);

/**
 * alcatraz_config_set_root_disk - boot from an ext4 image (read-write, /dev/vda)
 * The image is the root file system and needs nothing of Alcatraz's:
 * alcatraz-init starts from the library's initramfs and mounts it.
 */
int alcatraz_config_set_root_disk(struct alcatraz_config *cfg, const char *path);

/* alcatraz_config_add_volume()'s flag. */
#define ALCATRAZ_VOLUME_READONLY 1u

/**
 * alcatraz_config_add_volume - share a host directory with the guest (virtio-fs)
 * @host_dir:  an existing directory (checked now: -ENOENT, -ENOTDIR)
 * @guest_dir: where alcatraz-init mounts it: absolute, no "." or ".."
 *             component (-EINVAL); "/" is the root (one at most, -EEXIST;
 *             not with a root disk, rootfs dir or initrd): read-only, it
 *             gets a writable layer in guest RAM
 * @flags:     ALCATRAZ_VOLUME_READONLY: the guest cannot write it, whatever
 *             its kernel sends (the host daemon sees it read-only)
 * Each volume is served by its own virtiofsd (Debian 12: /usr/lib/qemu/virtiofsd,
 * package qemu-system-common; $ALCATRAZ_VIRTIOFSD overrides), started by
 * alcatraz_vm_create() and confined to the directory; it needs root. At
 * most 4 volumes.
 */
int alcatraz_config_add_volume(struct alcatraz_config *cfg, const char *host_dir,
			       const char *guest_dir, unsigned int flags);

/** alcatraz_config_set_rootfs_dir - pack a host directory as the initramfs. */
int alcatraz_config_set_rootfs_dir(struct alcatraz_config *cfg, const char *dir);

/**
 * alcatraz_config_set_guest_init - the files the default initramfs is made of
 * @init: the static alcatraz-init (NULL: see alcatraz_default_init())
 * @busybox: a static busybox (NULL: $ALCATRAZ_BUSYBOX, read with secure_getenv(),
 *           then /bin/busybox and /usr/bin/busybox)
 */
int alcatraz_config_set_guest_init(struct alcatraz_config *cfg, const char *init,
				   const char *busybox);

/**
 * alcatraz_default_kernel - find the default guest kernel
 * @buf: receives its path
 * $ALCATRAZ_KERNEL when set (read with secure_getenv(), so ignored in a
 * set-user-ID program), else the installed <prefix>/<datadir>/alcatraz/vmlinux.
 * No build-tree path is compiled in: an uninstalled build sets the variable
 * through `meson devenv -C BUILDDIR`. Returns 0, -ENOENT (@buf then holds
 * the path that is missing or unreadable), -EINVAL or -ENAMETOOLONG.
 */
int alcatraz_default_kernel(char *buf, size_t len);

/**
 * alcatraz_default_init - find the alcatraz-init packed into the initramfs
 * @buf: receives its path
 * $ALCATRAZ_INIT when set (secure_getenv()), else the installed
 * <prefix>/<libexecdir>/alcatraz/alcatraz-init; the library uses the same
 * lookup when alcatraz_config_set_guest_init() gave no init. Returns 0,
 * -ENOENT (@buf then holds the path that is missing or unreadable), -EINVAL
 * or -ENAMETOOLONG.
 */
int alcatraz_default_init(char *buf, size_t len);

/*
 * Further commands in a running Linux guest ("execs"), each with its own
 * argv, environment, working directory, standard streams and exit status:
 * a CI runner runs a job's steps in one VM. The VM still ends when its main
 * command does, and every exec with it: start a main command that waits
 * (such as `sleep infinity`) and end the VM with alcatraz_vm_kill(). Up to
 * 16 execs run at once.
 */

/** What alcatraz_vm_exec() runs. Set every field: 0 is a descriptor. */
struct alcatraz_exec {
	const char *const *argv;  /* NULL-terminated; argv[0] without '/' is
				   * looked up in PATH of envp, else in
				   * /usr/local/sbin:/usr/local/bin:/usr/sbin:
				   * /usr/bin:/sbin:/bin */
	const char *const *envp;  /* NULL-terminated "KEY=VALUE", or NULL: none */
	const char *workdir;      /* absolute, or NULL: the guest's / */
	int in_fd;                /* read for its stdin (dup'ed); -1: empty */
	int out_fd;               /* receives its stdout (dup'ed); -1: discarded */
	int err_fd;               /* receives its stderr (dup'ed); -1: discarded */
	uint32_t flags;           /* 0 */
	uint64_t reserved[4];     /* 0 */
};

/**
 * alcatraz_vm_exec - start a command in a running Linux guest
 * @id: receives the exec's id, for alcatraz_vm_exec_wait() and _kill()
 * Output is written to out_fd and err_fd as the main command's is (a
 * terminal gets the output filter). Returns 0; -EINVAL (a malformed exec,
 * or the VM not started), -E2BIG (larger than the guest takes), -EAGAIN
 * (16 execs running), -EOPNOTSUPP (no Linux guest, or its init runs no
 * execs), -ESRCH (the VM has ended), -ENOMEM, or -errno of a descriptor.
 * Any thread, also while others wait for the VM.
 */
int alcatraz_vm_exec(struct alcatraz_vm *vm, const struct alcatraz_exec *exec, uint32_t *id);

/**
 * alcatraz_vm_exec_wait - wait for an exec to end
 * @timeout_ms: -1 forever, 0 poll
 * @exit_code: receives its status as a shell counts it (the command's code,
 *             128+n for signal n, 126 not executable, 127 not found, 125 when
 *             the guest could not start it)
 * Returns 0 (all of its output has been written by then; the id is free
 * again), -ETIMEDOUT, -ENOENT (no exec of that id, or its status was taken
 * already), -ESRCH (the VM ended before the exec did), -EOPNOTSUPP (the
 * guest's init runs no execs). One caller per id.
 */
int alcatraz_vm_exec_wait(struct alcatraz_vm *vm, uint32_t id, int timeout_ms,
			  int *exit_code);

/**
 * alcatraz_vm_exec_kill - send a signal to an exec's process group
 * @signo: 1..64
 * Returns 0, -EINVAL, or -ESRCH when it is not running.
 */
int alcatraz_vm_exec_kill(struct alcatraz_vm *vm, uint32_t id, int signo);

/**
 * alcatraz_vm_exec_resize - tell an exec its terminal has a new size
 * @rows: 1..65535
 * @cols: 1..65535
 *
 * For an exec whose stdio is a terminal of the caller's that was resized:
 * the guest's init queues SIGWINCH with the size (rows << 16 | cols) to the
 * exec's process, which sets it on a terminal of its own (alcatraz-oci's
 * guest helper does). Returns 0, -EINVAL, or -ESRCH when it is not running.
 * The VMM drops the size when the guest's init is too old to take it.
 */
int alcatraz_vm_exec_resize(struct alcatraz_vm *vm, uint32_t id, unsigned int rows,
			    unsigned int cols);

/**
 * alcatraz_result_exit_code - a result as a shell exit status
 * Returns the command's status; 128+n for signal n; 124 timeout; 137 killed;
 * 125 for every runtime error and CRASH. HALT/SHUTDOWN/RESET give 0: raw
 * guests end that way, Linux guests only after their status (see CRASH).
 */
int alcatraz_result_exit_code(const struct alcatraz_result *res);

#ifdef __cplusplus
}
#endif

#endif /* ALCATRAZ_ALCATRAZ_H */
