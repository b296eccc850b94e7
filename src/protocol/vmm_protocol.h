/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The protocol between libalcatraz (the client) and alcatraz-vmm (one jailed
 * process per VM). Both sides include this header and nothing of each other.
 *
 * Transport: one AF_UNIX SOCK_SEQPACKET socket, the VMM's descriptor
 * VMM_PROTO_SOCK_FD. One message per datagram: a struct vmm_msg header and
 * up to VMM_MSG_MAX_PAYLOAD bytes; descriptors travel as SCM_RIGHTS.
 *
 *   VMM -> lib  HELLO      right after exec: protocol version, VMM version
 *   lib -> VMM  CONFIG     descriptors: [0] a sealed memfd holding the
 *                          configuration (TLV records below), [1..] the
 *                          files the records name by index
 *   VMM -> lib  CREATED    err 0, or a negative code and a one-line text
 *   lib -> VMM  START
 *   VMM -> lib  STARTED    err
 *   lib -> VMM  KILL       any time after CREATED
 *   VMM -> lib  RESULT     payload: struct alcatraz_result; then it exits
 *
 * Further commands in a running Linux guest ("execs"), after STARTED:
 *
 *   lib -> VMM  EXEC         payload: struct vmm_exec_req; descriptors: [0]
 *                            a memfd holding the command (ARG, ENV and
 *                            WORKDIR records as in the configuration), then
 *                            stdin, stdout, stderr where the flags say so
 *   VMM -> lib  EXEC_STARTED err, or 0 and payload: u32 id
 *   lib -> VMM  EXEC_SIGNAL  payload: struct vmm_exec_signal (no answer)
 *   lib -> VMM  EXEC_RESIZE  payload: struct vmm_exec_resize (no answer): the
 *                            terminal of the exec's stdio has a new size
 *   VMM -> lib  EXEC_DONE    payload: struct vmm_exec_done, once per id,
 *                            after all of its output was written, before
 *                            the VM's RESULT
 *
 * One EXEC is outstanding at a time: its EXEC_STARTED comes before any
 * other EXEC_STARTED.
 *
 * Snapshots (issue 18), after STARTED:
 *
 *   lib -> VMM  SNAPSHOT       descriptors: [0] the state file, [1] the
 *                              memory file, both opened for writing by the
 *                              library (the jailed VMM opens nothing)
 *   VMM -> lib  SNAPSHOT_DONE  err, and a one-line text when it failed
 *
 * One SNAPSHOT is outstanding at a time. A restore is a CONFIG with a
 * VMM_CFG_SNAPSHOT record.
 *
 * The SIGSYS reporter of a VMM thread that broke its seccomp list writes
 * the bare text "SANDBOX <nr>\n" (no header) before the process dies.
 *
 * Each side treats the other's messages as hostile: magic, version, type
 * and length are checked from the header before the payload is used, and
 * the VMM validates every configuration record (src/vmm/config_decode.c).
 * A closed socket ends the VM: the VMM exits when its client goes away.
 */
#ifndef ALCATRAZ_VMM_PROTOCOL_H
#define ALCATRAZ_VMM_PROTOCOL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "alcatraz/alcatraz.h"

#define VMM_PROTO_MAGIC 0x5a434c41u /* "ALCZ" little-endian */
#define VMM_PROTO_VERSION 1
/* The socket is this descriptor in the VMM process (dup2'ed before exec). */
#define VMM_PROTO_SOCK_FD 3
/* A warm pool's process (argv "--pool") finds /dev/kvm here from its start,
 * to make its VM before its configuration; absent when the library could
 * not open it. */
#define VMM_PROTO_KVM_FD 4
/* A warm pool's process: argv[1], then optionally argv[2] when its VM
 * should get the in-kernel irqchip ahead (the pool's guess from its last
 * configuration: KVM takes an irqchip only before the first vCPU, and the
 * process makes vCPU 0 while it waits). */
#define VMM_ARG_POOL "--pool"
#define VMM_ARG_POOL_IRQCHIP "--irqchip"

/* Whether a VM gets the in-kernel irqchip: mode (enum alcatraz_irqchip)
 * ON or OFF, else (AUTO) when it boots Linux. One rule for the VMM and
 * the pool's guess. */
static inline bool vmm_irqchip_wanted(uint32_t mode, bool linux_guest)
{
	return mode == ALCATRAZ_IRQCHIP_ON || (mode != ALCATRAZ_IRQCHIP_OFF && linux_guest);
}
#define VMM_MSG_MAX_PAYLOAD 2048
/* Descriptors in one CONFIG message: the memfd plus the files. */
#define VMM_MSG_MAX_FDS 24
/* The configuration blob: enough for 4096 arguments of a few hundred bytes;
 * larger blobs are refused before they are read. */
#define VMM_CONFIG_MAX_BYTES (8u << 20)

enum vmm_msg_type {
	VMM_MSG_HELLO = 1,
	VMM_MSG_CONFIG,
	VMM_MSG_CREATED,
	VMM_MSG_START,
	VMM_MSG_STARTED,
	VMM_MSG_KILL,
	VMM_MSG_RESULT,
	VMM_MSG_EXEC,
	VMM_MSG_EXEC_STARTED,
	VMM_MSG_EXEC_SIGNAL,
	VMM_MSG_EXEC_DONE,
	VMM_MSG_SNAPSHOT,
	VMM_MSG_SNAPSHOT_DONE,
	VMM_MSG_EXEC_RESIZE,
	VMM_MSG_TYPE_END,
};

struct vmm_msg {
	uint32_t magic;
	uint16_t version;
	uint16_t type;
	int32_t err;      /* 0 or a negative errno / -ALCATRAZ_E_* */
	uint32_t len;     /* payload bytes that follow, <= VMM_MSG_MAX_PAYLOAD */
};

struct vmm_msg_buf {
	struct vmm_msg hdr;
	uint8_t payload[VMM_MSG_MAX_PAYLOAD];
};

/* HELLO's payload. */
struct vmm_hello {
	uint32_t proto_version;
	uint32_t pid;     /* the VMM's pid in its own namespace (1) */
	char vmm_version[32];
};

/*
 * The configuration: a sequence of records, each an 8-byte header
 *     u16 tag, u16 zero, u32 len
 * followed by len value bytes, padded with zeros to a multiple of 8.
 * Integers are little-endian (both sides are x86-64). Strings are len
 * bytes without NUL and contain no NUL. A descriptor is a u32 index into
 * the CONFIG message's descriptor array, 1 or more, each used at most once.
 */
enum vmm_cfg_tag {
	VMM_CFG_VCPUS = 1,       /* u32, 1..64 */
	VMM_CFG_MEM_BYTES,       /* u64 */
	VMM_CFG_TIMEOUT_MS,      /* u64 */
	VMM_CFG_IRQCHIP,         /* u32 enum alcatraz_irqchip */
	VMM_CFG_OUTPUT_FILTER,   /* u32 enum alcatraz_output_filter */
	VMM_CFG_SANDBOX,         /* u32 0/1: jail and seccomp lists */
	VMM_CFG_KVM_FD,          /* fd: /dev/kvm */
	VMM_CFG_IMAGE_FD,        /* fd: a raw guest image */
	VMM_CFG_KERNEL_FD,       /* fd: a Linux kernel */
	VMM_CFG_INITRD_FD,       /* fd: an initramfs */
	VMM_CFG_IMAGE_NAME,      /* string: the image's or kernel's name, for messages */
	VMM_CFG_INITRD_NAME,     /* string */
	VMM_CFG_CMDLINE,         /* string */
	VMM_CFG_SERIAL_FD,       /* fd */
	VMM_CFG_LOG_FD,          /* fd */
	VMM_CFG_ARG,             /* string, repeated in order: the command */
	VMM_CFG_ENV,             /* string "KEY=VALUE", repeated */
	VMM_CFG_WORKDIR,         /* string, absolute */
	VMM_CFG_STDIN_FD,        /* fd */
	VMM_CFG_STDOUT_FD,       /* fd */
	VMM_CFG_STDERR_FD,       /* fd */
	VMM_CFG_DISK,            /* struct vmm_cfg_disk, then the name's bytes */
	VMM_CFG_ROOT_DISK,       /* u32 1: boot from the first disk */
	VMM_CFG_VOLUME,          /* struct vmm_cfg_volume, the tag, then the guest path */
	VMM_CFG_TEST_RAW_PLATFORM, /* u32 1: test builds only (refused otherwise) */
	VMM_CFG_NET,             /* struct vmm_cfg_net: virtio-net's backend (issue 16) */
	VMM_CFG_SNAPSHOT,        /* struct vmm_cfg_snapshot: restore (issue 18) */
	VMM_CFG_TAG_END,
};

#define VMM_CFG_DISK_READONLY 1u
#define VMM_CFG_VOLUME_READONLY 1u

/* A virtio-fs volume (issue 17): fd_index names the vhost-user socket to its
 * virtiofsd; tag_len bytes of tag follow, then the guest path. */
struct vmm_cfg_volume {
	uint32_t fd_index;
	uint32_t flags;
	uint32_t tag_len;
	uint32_t zero;
};

/* Restore from a snapshot: its state and memory files, opened read-only. */
struct vmm_cfg_snapshot {
	uint32_t state_fd_index;
	uint32_t mem_fd_index;
};

struct vmm_cfg_disk {
	uint32_t fd_index;
	uint32_t flags;
};

/* kind: the VMM's enum vm_net_backend. */
#define VMM_NET_TAP 1u       /* a frame per read/write */
#define VMM_NET_STREAM 2u    /* each frame after its u32 big-endian length (passt) */
struct vmm_cfg_net {
	uint32_t fd_index;
	uint32_t kind;
	uint8_t mac[6];
	uint16_t mtu;            /* offered to the guest, 0: not offered */
};

/*
 * How the VMM writes an exec's output descriptor without looking at it
 * itself (its jailed control thread may not fstat, ioctl or open): the
 * library classifies each one (proto_sink_classify) and sends its finding.
 */
enum vmm_sink_class {
	VMM_SINK_FILE = 1,  /* regular file or block device: plain writes */
	VMM_SINK_SOCKET,    /* send(MSG_DONTWAIT) */
	VMM_SINK_NONBLOCK,  /* a pipe or terminal reopened O_NONBLOCK */
	VMM_SINK_POLLED,    /* could not be reopened: poll, then <= PIPE_BUF */
	VMM_SINK_CLASS_END,
};

#define VMM_EXEC_HAS_STDIN 1u
#define VMM_EXEC_HAS_STDOUT 2u
#define VMM_EXEC_HAS_STDERR 4u
#define VMM_EXEC_FLAGS (VMM_EXEC_HAS_STDIN | VMM_EXEC_HAS_STDOUT | VMM_EXEC_HAS_STDERR)
/* The command's memfd and the three streams. */
#define VMM_EXEC_MAX_FDS 4
/* The command's records: far less than a configuration. */
#define VMM_EXEC_MAX_BYTES (1u << 20)

struct vmm_exec_req {
	uint32_t flags;       /* VMM_EXEC_HAS_* */
	uint8_t out_class;    /* enum vmm_sink_class, with HAS_STDOUT */
	uint8_t err_class;    /* with HAS_STDERR */
	uint8_t out_tty;      /* 0/1: the caller's descriptor is a terminal */
	uint8_t err_tty;
};

struct vmm_exec_signal {
	uint32_t id;
	uint32_t signo;       /* 1..64 */
};

struct vmm_exec_resize {
	uint32_t id;
	uint16_t rows, cols;  /* 1..65535 each */
};

struct vmm_exec_done {
	uint32_t id;
	int32_t exit_code;    /* as alcatraz_result_exit_code() counts */
	uint32_t kind;        /* the guest's report, 0 when it never ran */
	int32_t value;
	int32_t error;        /* 0, or why the exec could not run (-EOPNOTSUPP...) */
};

struct vmm_cfg_rec {
	uint16_t tag;
	uint16_t zero;
	uint32_t len;
};

#define VMM_CFG_ALIGN 8u

static inline size_t vmm_cfg_padded(size_t len)
{
	return (len + VMM_CFG_ALIGN - 1) & ~(size_t)(VMM_CFG_ALIGN - 1);
}

/* A reader over a received blob: every step checked against the end. */
struct vmm_cfg_iter {
	const uint8_t *pos, *end;
};

/* 1 and the next record's tag, value and length; 0 at the clean end;
 * -1 when the record does not fit or its padding is not zero. */
static inline int vmm_cfg_next(struct vmm_cfg_iter *it, uint16_t *tag, const uint8_t **val,
			       uint32_t *len)
{
	struct vmm_cfg_rec r;
	size_t left = (size_t)(it->end - it->pos), padded;

	if (left == 0)
		return 0;
	if (left < sizeof(r))
		return -1;
	memcpy(&r, it->pos, sizeof(r));
	left -= sizeof(r);
	padded = vmm_cfg_padded(r.len);
	if (r.zero || r.len > left || padded > left)
		return -1;
	for (size_t i = r.len; i < padded; i++)
		if (it->pos[sizeof(r) + i])
			return -1;
	*tag = r.tag;
	*val = it->pos + sizeof(r);
	*len = r.len;
	it->pos += sizeof(r) + padded;
	return 1;
}

/* codes.c: the words for error codes and exit kinds (static strings). */
const char *proto_error_text(int err);
const char *proto_exit_kind_name(enum alcatraz_exit_kind kind);

/* io.c: write() without raising SIGPIPE in the calling thread (EPIPE then). */
ssize_t proto_write_nosigpipe(int fd, const void *buf, size_t len);
/* One diagnostic line (up to PROTO_LOG_LINE_MAX - 1 bytes) to a log fd,
 * from the library's or the VMM's own threads: it waits at most
 * PROTO_LOG_WAIT_MS for room, then drops the line. */
#define PROTO_LOG_LINE_MAX 512
#define PROTO_LOG_WAIT_MS 100
void proto_log_line(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void proto_vlog_line(int fd, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* sink_class.c: how to write to output descriptor fd without blocking or
 * SIGPIPE. *own_fd: a non-blocking reopen of a pipe or terminal, the
 * caller's to close (VMM_SINK_NONBLOCK), else -1. */
enum vmm_sink_class proto_sink_classify(int fd, bool *tty, int *own_fd);

/* vmm_msg.c: one message (and its descriptors) over the socket. */

/* 0 or -errno (-EPIPE: the peer is gone). Never raises SIGPIPE. */
int vmm_msg_send(int sock, uint16_t type, int32_t err, const void *payload, uint32_t len,
		 const int *fds, unsigned int nfds);

/* What vmm_msg_recv() returns for the SIGSYS reporter's line; m->hdr.err
 * then holds the system call number. */
#define VMM_MSG_SANDBOX_LINE 1

/*
 * Receives one message into m, and up to max_fds descriptors (O_CLOEXEC)
 * into fds, their number into *nfds (fds may be NULL when none are
 * expected: any that come are closed). Checks magic, version, type and that
 * the payload length is what arrived. 0, VMM_MSG_SANDBOX_LINE, -EPIPE when
 * the peer closed, -EPROTO for a malformed message (its descriptors closed),
 * or -errno.
 */
int vmm_msg_recv(int sock, struct vmm_msg_buf *m, int *fds, unsigned int max_fds,
		 unsigned int *nfds);

#endif
