/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The micro-VMM's private core types. One VM = one struct vm; each vCPU runs
 * in its own thread; devices hang off two buses (port I/O and MMIO).
 *
 * Guest memory is hostile input: nothing outside memory.c does arithmetic on
 * guest-physical addresses; everything goes through gmem_ptr()/gmem_read()/
 * gmem_write(), which check the whole [gpa, gpa+len) range.
 */
#ifndef ALCATRAZ_VMM_H
#define ALCATRAZ_VMM_H

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/kvm.h>

#include "alcatraz/alcatraz.h"
#include "vmm_protocol.h"

#define VMM_MAX_VCPUS 64
#define VMM_MAX_DEVICES 32

#define __must_check __attribute__((warn_unused_result))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct vm;
struct vcpu;

/* ---------------------------------------------------------------- memory */

/* Guest RAM: one contiguous slot at guest-physical 0, with guard pages on
 * both sides of the host mapping so a host-side overrun faults instead of
 * reaching other heap data. */
struct guest_mem {
	uint8_t *host;        /* guest-physical 0 */
	uint64_t size;        /* bytes of RAM */
	void *map_base;       /* whole mapping including guards */
	size_t map_len;
	int fd;               /* the sealed memfd behind RAM (vhost-user shares it) */
};

int gmem_init(struct guest_mem *m, uint64_t size) __must_check;
void gmem_fini(struct guest_mem *m);
/* Host pointer to [gpa, gpa+len) if it lies entirely in RAM, else NULL.
 * len 0 is rejected: a zero-length guest buffer is never useful here. */
void *gmem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len);
int gmem_read(const struct guest_mem *m, uint64_t gpa, void *dst, uint64_t len) __must_check;
int gmem_write(struct guest_mem *m, uint64_t gpa, const void *src, uint64_t len) __must_check;

/* ------------------------------------------------------------------ bus */

/* A device region on the port-I/O or MMIO bus. Accesses are 1, 2, 4 or 8
 * bytes; offset is relative to base and always < len. */
struct bus_ops {
	void (*read)(void *opaque, uint64_t offset, void *data, uint32_t size);
	void (*write)(void *opaque, uint64_t offset, const void *data, uint32_t size);
};

struct bus_region {
	const char *name;
	uint64_t base;
	uint64_t len;
	const struct bus_ops *ops;
	void *opaque;
};

struct bus {
	struct bus_region regions[VMM_MAX_DEVICES];
	unsigned int count;
	pthread_mutex_t lock;   /* serialises device emulation across vCPUs */
	uint64_t unclaimed;     /* accesses nothing owned (logged, then counted) */
};

int bus_init(struct bus *b) __must_check;
void bus_fini(struct bus *b);
int bus_register(struct bus *b, const char *name, uint64_t base, uint64_t len,
		 const struct bus_ops *ops, void *opaque) __must_check;
/* Returns true when a device owned the access; unowned reads yield all ones. */
bool bus_access(struct bus *b, uint64_t addr, void *data, uint32_t size, bool is_write);

/* ------------------------------------------------------------------- log */

enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };

void vm_log(struct vm *vm, enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ------------------------------------------------------------------ vcpu */

/* Interrupts a vCPU's KVM_RUN; blocked everywhere else (vcpu.c). */
#define VCPU_KICK_SIGNAL SIGUSR2

struct vcpu {
	struct vm *vm;
	unsigned int index;
	int fd;
	struct kvm_run *run;
	size_t run_size;
	pthread_t thread;
	bool thread_started;     /* joinable: set by the starter once created */
	/* Set by the thread itself before it first looks at vm->stopping:
	 * from then on a kick reaches it (vcpu_kick()). */
	pthread_t self;
	int kickable;
	bool halted;
};

/* ------------------------------------------------------------------- vm */

/* A network backend: a tap device (one read or write per frame) or a
 * stream socket (each frame after its 32-bit big-endian length: passt). */
enum vm_net_backend { NET_BACKEND_NONE, NET_BACKEND_TAP, NET_BACKEND_STREAM };

/* The VMM-side copy of the public configuration. */
struct vm_config {
	unsigned int vcpus;
	uint64_t mem_bytes;
	/* The files: descriptors the VMM owns (received from the library), or
	 * -1 with a path that in-process callers (tests) let vm_create() open.
	 * The paths double as the names messages use. */
	int kvm_fd;            /* /dev/kvm, or -1 */
	int image_fd;          /* raw guest, or -1 */
	int kernel_fd;         /* Linux, or -1 */
	int initrd_fd;         /* or -1 */
	char *image_path;      /* raw guest */
	char *kernel_path;     /* Linux */
	char *initrd_path;
	char *cmdline;
	int serial_fd;         /* owned (dup'ed) or -1 */
	int log_fd;            /* owned (dup'ed) or -1 */
	uint64_t timeout_ms;
	enum alcatraz_irqchip irqchip;
	bool seccomp;          /* each VMM thread installs its seccomp list */
	enum alcatraz_output_filter output_filter; /* guest output to terminals */

	/* Linux guests (issue 4). Owned by the VM from vm_create() on, also on
	 * failure: platform_devices_fini() releases them. */
	char **argv;           /* NULL-terminated command; NULL = none */
	char **envp;           /* NULL-terminated "KEY=VALUE" list or NULL */
	char *workdir;
	/* The three fds below are meaningful (and owned) only when argv is set. */
	int stdin_fd;          /* owned, or -1: the command's stdin is empty */
	int stdout_fd;         /* owned, or -1: the command's output is discarded */
	int stderr_fd;         /* owned, or -1: stderr goes with stdout (Linux guests
	                        * get it on a second virtio-console port) */
	struct vm_disk *disks; /* the first is /dev/vda */
	unsigned int nr_disks;
	bool root_disk;        /* boot from disks[0] (ext4) */
	struct vm_volume *volumes; /* virtio-fs, one virtiofsd each (issue 17) */
	unsigned int nr_volumes;
	uint8_t *initrd_data;  /* in-memory initramfs (instead of initrd_path) */
	uint64_t initrd_len;
	/* Networking (issue 16): virtio-net on this backend descriptor, owned
	 * (the device takes it over); NET_BACKEND_NONE (0): no network. */
	enum vm_net_backend net_backend;
	int net_fd;
	uint8_t net_mac[6];
	uint16_t net_mtu;      /* offered to the guest; 0: not offered */

	/* Restore from a snapshot (issue 18, vstate/snapshot.c): the state and
	 * memory files, owned, meaningful only when restore is set. */
	bool restore;
	int snap_state_fd;
	int snap_mem_fd;

	/* Test builds only (ALCATRAZ_TEST_HOOKS, platform_raw.c): a raw guest
	 * also gets the platform devices above (and its cmdline at
	 * RAW_TEST_CMDLINE). No public API sets it; release builds ignore it. */
	bool test_raw_platform;
};

/* A host directory shared through virtio-fs: a vhost-user socket to the
 * virtiofsd the library started for it. alcatraz-init mounts it by tag. */
#define VM_VOLUME_TAG_MAX 36
struct vm_volume {
	int sock_fd;           /* owned (the device takes it), or -1 */
	char tag[VM_VOLUME_TAG_MAX + 1]; /* [A-Za-z0-9_.-], 1 to 36 bytes */
	char *guest_path;      /* owned: where it is mounted; "/" = the root */
	bool readonly;
};

struct vm_disk {
	char *path;            /* its name; opened by the VMM only when fd is -1 */
	int fd;                /* owned, flocked by the library, or -1 */
	bool readonly;
};

/* What a warm pool's process makes of its VM before its configuration
 * (kvm_create_vm_ahead): descriptors -1 and run NULL where none. */
struct vm_ahead {
	int kvm_fd, vm_fd;
	bool irqchip;           /* the irqchip, PIT and real-mode helpers were made */
	int vcpu0_fd;           /* vCPU 0, its kvm_run mapped at vcpu0_run */
	struct kvm_run *vcpu0_run;
};

struct vm {
	struct vm_config cfg;
	int kvm_fd;
	int vm_fd;
	bool irqchip;
	struct vm_ahead ahead;       /* what was made ahead and not yet taken */
	struct guest_mem mem;
	struct bus pio;
	struct bus mmio;
	struct vcpu vcpus[VMM_MAX_VCPUS];
	unsigned int nr_vcpus;
	struct kvm_cpuid2 *cpuid;   /* filtered template; per-vCPU ids patched */

	/* Devices. */
	struct serial *serial;

	/* Linux guests: boot state, virtio devices, device thread (issue 4). */
	struct linux_boot *boot;
	struct virtio_dev *virtio[12];
	unsigned int nr_virtio;
	char *virtio_cmdline;
	struct evloop *evloop;
	struct virtio_dev *console_dev;
	struct virtio_dev *vsock_dev;
	struct control *control;
	struct vm_restore *restore;  /* the parsed snapshot while vm_create() restores */
	uint64_t guest_file_size;    /* the image or kernel file's, for its identity */

	/* Lifecycle. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool started;
	bool ended;
	unsigned int running_vcpus;
	unsigned int confined_threads; /* threads whose seccomp filter is in */
	unsigned int halted_vcpus;
	bool pause_req;              /* vm_pause(): vCPU threads park (vm->lock) */
	unsigned int parked_vcpus;
	volatile int stopping;       /* read by vCPU threads without the lock */
	int end_fd;                  /* eventfd, readable once the VM has ended */
	pthread_t watchdog;
	bool watchdog_started;
	uint64_t start_ns;
	struct alcatraz_result result;
	pthread_mutex_t log_lock;
	struct outbuf *log_ob;       /* the log's sink, drained like guest output */
	bool outputs_ended;          /* the final bytes were handed to the buffers */
	bool output_abandoned;       /* timeout or kill: stop waiting for the sinks */
};

/* vm.c */
int vm_create(const struct vm_config *cfg, struct vm **out) __must_check;
/* vm_create on a VM made ahead by kvm_create_vm_ahead(), which must fit
 * cfg (vm_ahead_fits): its descriptors are taken over (also on failure),
 * cfg->kvm_fd is closed. */
int vm_create_on(const struct vm_config *cfg, struct vm_ahead *ahead, struct vm **out) __must_check;
/* Whether a VM made ahead can be cfg's: its irqchip as cfg wants, or
 * nothing made yet that decides it (no irqchip, no vCPU). */
bool vm_ahead_fits(const struct vm_ahead *ahead, const struct vm_config *cfg);
int vm_start(struct vm *vm) __must_check;
int vm_wait(struct vm *vm, int timeout_ms);
void vm_kill(struct vm *vm);
void vm_destroy(struct vm *vm);
/* Ends the VM once (first caller wins) and stops every vCPU. */
void vm_end(struct vm *vm, enum alcatraz_exit_kind kind, int status, int error,
	    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/*
 * The guest reset or powered off (kind RESET or SHUTDOWN).  A Linux guest
 * whose alcatraz-init has not reported the command's status yet ends as a
 * CRASH instead: a kernel panic reboots (panic=-1), and exit 0 would hide it.
 * Not with the control channel's lock held.
 */
void vm_guest_ended(struct vm *vm, enum alcatraz_exit_kind kind, const char *what);
void vm_mark(struct vm *vm, uint64_t *milestone);
/* A thread of this VM has its seccomp filter in (vm_start waits for all). */
void vm_count_confined(struct vm *vm);
/* The device thread wrote a buffer out: wakes whoever waits for the end. */
void vm_output_progress(struct vm *vm);
/* Whether guest output to fd goes through the terminal filter. */
bool vm_output_filtered(const struct vm *vm, int fd);
/* The same for a descriptor known to be (or not be) a terminal. */
bool vm_output_filtered_tty(const struct vm *vm, bool tty);
uint64_t vmm_now_ns(void);
/* ALCATRAZ_TRACE_CREATE=1: a stderr line per create/start step (util.c). */
void vmm_trace_init(void);
void vmm_trace_mode(const char *mode);
void vmm_trace_step(const char *step);

/* kvm.c: thin wrappers over /dev/kvm */
/* Checks /dev/kvm's API on given (taken over) or, when it is -1, on
 * /dev/kvm opened here; *kvm_fd receives the descriptor. */
int kvm_open(int given, int *kvm_fd) __must_check;
/* A warm pool's VM, made before its configuration: KVM_CREATE_VM on given
 * (taken over; checked to be KVM before the host's facts are probed), with
 * @irqchip the irqchip, PIT and real-mode helpers, then vCPU 0. 0 with
 * what was made in *a (at least the VM: a vCPU that cannot be made is
 * left to the configuration), or -errno and nothing. */
int kvm_create_vm_ahead(int given, bool irqchip, struct vm_ahead *a) __must_check;
/* Closes what is left in *a. */
void kvm_ahead_release(struct vm_ahead *a);
/* The VM (unless vm->vm_fd holds one made ahead), its irqchip and RAM. */
int kvm_setup_vm(struct vm *vm) __must_check;

#define KVM_CPUID_MAX_ENTRIES 256
/* Immutable facts about the host's KVM, probed once per process. */
struct kvm_host_facts {
	int err;                   /* 0, or why /dev/kvm is unusable */
	int vcpu_mmap_size;
	struct kvm_cpuid2 *cpuid;  /* KVM_GET_SUPPORTED_CPUID */
	bool tsc_deadline;         /* the in-kernel LAPIC emulates the TSC-deadline timer */
};
const struct kvm_host_facts *kvm_host_facts(void);

/* cpuid.c */
int cpuid_build(struct vm *vm) __must_check;
int cpuid_apply(struct vm *vm, struct vcpu *vcpu) __must_check;
/*
 * Filters one entry of KVM's supported CPUID to what this VMM provides.
 * deadline_timer: the guest has KVM's in-kernel LAPIC and KVM emulates its
 * TSC-deadline mode (KVM_CAP_TSC_DEADLINE_TIMER).
 */
void cpuid_filter_entry(struct kvm_cpuid_entry2 *e, bool deadline_timer, unsigned int nr_vcpus);

/* vcpu.c */
int vcpu_create(struct vm *vm, unsigned int index) __must_check;
void vcpu_destroy(struct vcpu *vcpu);
int vcpu_start(struct vcpu *vcpu) __must_check;
void vcpu_kick(struct vcpu *vcpu);
/* Parks every running vCPU thread outside KVM_RUN, its pending I/O
 * completed (a consistent point to read its state): 0, or -ESHUTDOWN when
 * the VM ended first (it is resumed then). */
int vm_pause(struct vm *vm) __must_check;
void vm_resume(struct vm *vm);
void vcpu_dump_regs(struct vcpu *vcpu);

/* x86.c: processor state for entering guests */
#define X86_BOOT_GDT 0x1000ULL
#define X86_BOOT_PML4 0x2000ULL
#define X86_BOOT_PDPT 0x3000ULL
#define X86_BOOT_PD 0x4000ULL /* four pages: identity map of 4 GiB */
int x86_build_identity_map(struct vm *vm) __must_check;
int x86_enter_long_mode(struct vcpu *vcpu, uint64_t rip, uint64_t rsp, uint64_t rdi,
			uint64_t rsi) __must_check;

/* loader_raw.c */
#define RAW_IMAGE_BASE 0x100000ULL
#define RAW_STACK_PER_VCPU 0x10000ULL
int raw_image_load(struct vm *vm) __must_check;
int raw_image_setup_vcpu(struct vm *vm, struct vcpu *vcpu) __must_check;

/* linux.c: Linux boot (bzImage or vmlinux ELF with a PVH note) */
int linux_load(struct vm *vm) __must_check;
int linux_setup_vcpu(struct vm *vm, struct vcpu *vcpu) __must_check;
/* Writes the command line (with `extra` appended), boot parameters, memory
 * map and MP table; called by platform.c once the devices are known. */
int linux_finish(struct vm *vm, const char *extra) __must_check;
void linux_free(struct vm *vm);

/* platform.c: devices that only Linux guests get (virtio-mmio) */
int platform_devices_init(struct vm *vm) __must_check;
void platform_devices_fini(struct vm *vm);
/* The control channel (when a command is set), virtio console, vsock, rng,
 * then the disks: Linux guests' devices, and test builds' raw guests'. */
int platform_virtio_init(struct vm *vm) __must_check;
/* platform_raw.c: the same devices for raw guests, in test builds only. */
#define RAW_TEST_CMDLINE 0x9000ULL
#define RAW_TEST_CMDLINE_MAX 0x1000ULL
int platform_raw_init(struct vm *vm) __must_check;

/* Legacy devices (one file each). */
#define SERIAL_COM1_BASE 0x3f8
#define SERIAL_COM1_IRQ 4
#define I8042_PORT_DATA 0x60
#define I8042_PORT_CMD 0x64
#define EXITDEV_PORT 0xf4

struct serial;
struct outbuf;
/* Takes ob (NULL: output is discarded), also on failure. */
struct serial *serial_new(struct outbuf *ob, void (*raise_irq)(void *ctx, int level), void *ctx);
void serial_free(struct serial *s);
/* Hands a partial last line to the buffer (the end of the output). */
void serial_flush(struct serial *s);
extern const struct bus_ops serial_ops;

int serial_device_init(struct vm *vm) __must_check;
int i8042_device_init(struct vm *vm) __must_check;
int exitdev_device_init(struct vm *vm) __must_check;

/* serial.c: the registers a snapshot keeps (the gathered partial line is
 * flushed first; received bytes not read yet are dropped). */
#define SERIAL_STATE_SIZE 8
void serial_save(struct serial *s, uint8_t out[SERIAL_STATE_SIZE]);
int serial_restore(struct serial *s, const uint8_t *in, uint64_t len) __must_check;

/* vstate/snapshot.c (issue 18) */
struct vm_restore;
/* Writes the paused VM's state and RAM to the two files (written from
 * offset 0, truncated to their size), then resumes it. why: one line. */
int vm_snapshot(struct vm *vm, int state_fd, int mem_fd, char *why, size_t why_len) __must_check;
/* vm_create() steps when cfg.restore is set (each a no-op otherwise). */
int snapshot_load(struct vm *vm) __must_check;
int snapshot_restore_vcpu(struct vm *vm, struct vcpu *vcpu) __must_check;
int snapshot_restore_vm(struct vm *vm) __must_check;
void snapshot_restore_free(struct vm *vm);
int gmem_init_file(struct guest_mem *m, uint64_t size, int fd) __must_check;

/* File helpers. */
int read_whole_file(const char *path, uint64_t max, uint8_t **data, uint64_t *len) __must_check;
/* The same from a descriptor (read from offset 0 with pread; fd stays open). */
int read_whole_fd(int fd, uint64_t max, uint8_t **data, uint64_t *len) __must_check;
/* The first size bytes of fd, with pread, into a new buffer (a file shorter
 * than size is -EIO); for a size known from an earlier fstat. */
int read_fd_size(int fd, uint64_t size, uint8_t **data) __must_check;
/* An empty configuration: no files (every descriptor -1), one vCPU. */
void vm_config_defaults(struct vm_config *vc);
/* Closes the files of the configuration that vm_create() took over and
 * the devices do not own: /dev/kvm, image, kernel, initrd, serial, log. */
void vm_config_close_files(struct vm_config *vc);
/* A file of the configuration, whole: from its descriptor when it has one,
 * else from the path (in-process callers). */
int vm_config_read(int fd, const char *path, uint64_t max, uint8_t **data,
		   uint64_t *len) __must_check;
int fcntl_dup_cloexec(int fd);

#endif /* ALCATRAZ_VMM_H */
