/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Alcatraz control channel: the wire protocol between the VMM (host) and
 * alcatraz-init (PID 1 in the guest).
 *
 * This header is shared by both sides.  It only uses freestanding headers
 * (<stdint.h>, <stddef.h>) so it can be included by the static guest init
 * and by the VMM alike; it must not grow libc or kernel dependencies.
 *
 * Transport
 * ---------
 * One AF_VSOCK stream connection.  The guest connects to
 * ALCATRAZ_CTL_HOST_CID:ALCATRAZ_CTL_VSOCK_PORT as soon as PID 1 has mounted
 * the basic filesystems; the host (VMM's virtio-vsock device) accepts it.
 *
 * Framing
 * -------
 * Every record is a 12-byte header followed by `len` payload bytes.  All
 * integers are little-endian, whatever the host CPU; use the
 * alcatraz_ctl_{get,put}_le* helpers below rather than casting structs over
 * byte buffers, so neither side ever depends on alignment or padding.
 *
 *     offset 0  u32 magic   ALCATRAZ_CTL_MAGIC
 *     offset 4  u32 type    enum alcatraz_ctl_type
 *     offset 8  u32 len     payload length in bytes (header excluded)
 *     offset 12 u8  payload[len]
 *
 * A receiver MUST validate magic, type and len (against the per-type limits
 * below) from the header alone, before reading or allocating the payload.
 * Any violation is a protocol error: the receiver drops the connection.
 * The host treats the guest as hostile: a guest protocol error ends the VM
 * with a runtime error (exit 125), never crashes or stalls the VMM.
 *
 * Conversation
 * ------------
 *   guest -> host  EVENT(INIT_START)          right after connect
 *   host  -> guest ARG+                       argv[0..n-1], in order, >= 1
 *   host  -> guest ENV*                       "KEY=VALUE", in order
 *   host  -> guest WORKDIR?                   at most once, absolute path
 *   host  -> guest STDIO?                     at most once, flags
 *   host  -> guest END                        command is complete
 *   guest -> host  EVENT(CMD_START)           just before the fork/exec
 *   host  -> guest STDIN_EOF?                 at most once, any time after END
 *   host  -> guest SIGNAL*                    any time after END
 *   host  -> guest WINSIZE*                   any time after END (tty mode)
 *   guest -> host  INIT_REASON?               at most once, before STATUS: why
 *                                             init failed (a root it cannot
 *                                             mount: device, file system, the
 *                                             kernel's words), one line of text
 *   guest -> host  STATUS                     exactly once, last record
 * then the guest syncs filesystems and powers off / reboots the VM (the VMM
 * treats ACPI-less reboot: i8042 reset, triple fault / KVM shutdown, as the
 * end of the VM).  The host may kill the VM as soon as STATUS has arrived
 * and it has drained the console device: the guest syncs and drains the
 * console (tcdrain) *before* sending STATUS.
 *
 * Before END only ARG/ENV/WORKDIR/STDIO/END are valid host records; after
 * END only STDIN_EOF/SIGNAL/WINSIZE, RESEED and the EXEC_* and SESSION
 * records below.  The guest sends nothing but EVENT, INIT_REASON, STATUS,
 * EXEC_* and SESSION_ACK records, and nothing after STATUS.  The host shows INIT_REASON (non-printable bytes
 * escaped) as the error of a STATUS(INIT_ERROR) and nowhere else; init then
 * writes that line only to the kernel log, not to the console as well.
 *
 * Further commands (execs)
 * ------------------------
 * A guest that sets ALCATRAZ_CTL_FEAT_EXEC in its INIT_START event (the
 * u32 after the event number; older guests send 0) runs further commands
 * while the main one runs, each with its own argv, environment, working
 * directory, stdin, stdout, stderr and exit status, multiplexed over this
 * connection by a host-chosen id (non-zero, not in use):
 *   host  -> guest EXEC(id, ...)             after END; at most
 *                                            ALCATRAZ_CTL_MAX_EXECS live ids
 *   guest -> host  EXEC_START(id)            first, exactly once per id
 *   host  -> guest EXEC_STDIN(id, bytes)*    empty payload after the id = EOF
 *   guest -> host  EXEC_STDIN_ACK(id, n)*    n stdin bytes left the guest's buffer
 *   guest -> host  EXEC_DATA(id, stream, bytes)*   stream 1 stdout, 2 stderr
 *   host  -> guest EXEC_ACK(id, stream, n)*  n bytes of that stream written out
 *   host  -> guest EXEC_SIGNAL(id, signo)*   to the exec's process group
 *   host  -> guest EXEC_WINSIZE(id, rows, cols)*  the exec's terminal was
 *                                            resized (FEAT_EXEC_WINSIZE)
 *   guest -> host  EXEC_STATUS(id, ...)      last, exactly once; after all
 *                                            of its EXEC_DATA; frees the id
 * Flow control is a window per exec and direction: a sender may have at
 * most ALCATRAZ_CTL_EXEC_WINDOW bytes of one stream sent and not yet
 * acknowledged; more is a protocol error, so neither side buffers more.
 * The host treats EXEC_START or EXEC_STATUS for an id it did not send (or
 * twice), EXEC_DATA for an id that has no live exec, and acknowledgements
 * beyond what it sent as protocol errors.  The guest ignores EXEC_STDIN,
 * EXEC_ACK, EXEC_SIGNAL and EXEC_WINSIZE for ids it no longer knows (they
 * cross the status on the wire).
 * EXEC_WINSIZE (only to a guest whose INIT_START set FEAT_EXEC_WINSIZE; an
 * older init would take it for a protocol error) carries the new size of
 * the host terminal an exec's stdio comes from, rows and cols 1..65535 (0
 * is a protocol error). Init passes it to the exec's process (its
 * process group leader) as a SIGWINCH queued with the value rows << 16 |
 * cols (sigqueue, si_pid 1): a process that keeps a terminal of its own for
 * its children (alcatraz-oci-pause --tty) sets that terminal's size, and
 * the kernel sends SIGWINCH on to its foreground process group. A process
 * that does not handle SIGWINCH ignores it, by default.
 * The main command's end still ends the VM: init reports STATUS and powers
 * off whatever execs still run.  A host that wants a VM for several
 * commands (a CI job's steps) runs a main command that waits, e.g.
 * `sleep infinity`, and kills the VM when it is done.
 *
 * Sessions (restored snapshots)
 * -----------------------------
 * A guest that sets ALCATRAZ_CTL_FEAT_SESSION in its INIT_START connects
 * again when the transport resets its connection (virtio-vsock's
 * VIRTIO_VSOCK_EVENT_TRANSPORT_RESET: the guest kernel takes the new guest
 * CID and fails the socket with ECONNRESET; a read then fails with ENOTCONN)
 * instead of going on without the channel.  An end of file is the host
 * closing the channel, never a reset.  The host resets the transport of
 * every VM restored from a snapshot, with a new guest CID, and the new
 * connection is a new session:
 *   host  -> guest SESSION(id)               its first record
 *   guest -> host  SESSION_ACK(id)           its first record, the same id
 * then the conversation goes on as after END (RESEED, EXEC*, ...); the
 * command is not sent again.  Nothing of the old connection is carried
 * over: records half received or still queued on either side are dropped,
 * and the guest kills its execs (the new session has none).  The id is
 * non-zero and differs from the snapshot's.  A record before SESSION
 * (SESSION_ACK), a second one, one on a connection that was not reset, a
 * zero id or an id other than the host sent is a protocol error.
 *
 * A clone with a network gets a new MAC (virtio-net's config has it): after
 * RESEED the host sends NET_IDENTITY(mac) to a guest whose INIT_START set
 * ALCATRAZ_CTL_FEAT_NET_IDENTITY; the guest takes the link down, sets the
 * MAC, brings it up and applies its boot addresses and route again.  A
 * wrong length, non-zero padding, or a multicast or zero MAC is a protocol
 * error.
 *
 * Standard I/O
 * ------------
 * The command's stdio is the virtio console, /dev/hvc0 in the guest (the
 * kernel log must go elsewhere: console=ttyS0, never console=hvc0).
 *  - Default ("pipe" mode, STDIO flags 0): the guest puts hvc0 in raw mode
 *    (no echo, no CR/LF translation, no signal characters), so output is
 *    byte-exact.  stdout and stderr are hvc0.  stdin is a pipe that init
 *    fills with the bytes it reads from hvc0; a tty cannot carry an
 *    end-of-file in raw mode, so the host sends STDIN_EOF{total} when its
 *    own stdin ends, `total` being the number of bytes it has delivered to
 *    the console's receive queue in all.  Init closes the pipe once it has
 *    relayed that many bytes.  A host whose stdin is /dev/null or closed
 *    sends STDIN_EOF{0} right after END.
 *  - ALCATRAZ_CTL_STDIO_TTY: interactive mode.  The command gets a pty as
 *    its stdin, stdout, stderr and controlling terminal (job control, ^C,
 *    echo and line editing happen there, as over ssh -t); init copies bytes
 *    between the pty and hvc0, which stays raw.  The host is expected to put
 *    its own terminal in raw mode.  STDIN_EOF is ignored (the user types
 *    ^D); WINSIZE sets the pty's window size (and sends SIGWINCH).
 *  - ALCATRAZ_CTL_STDIO_STDERR_PORT: stderr goes to the virtio-console port
 *    named ALCATRAZ_CTL_STDERR_PORT_NAME (a second port of a multiport
 *    virtio-console device) if the guest finds it, else to hvc0.
 * The host must not put stdin bytes into the console's receive queue before
 * it has received EVENT(CMD_START): until then the tty may still be in its
 * boot-time cooked mode, which would echo and translate them.
 * The command runs as a session leader.  hvc0 is never its controlling
 * terminal: the exit of a session leader hangs up its controlling (non-pty)
 * terminal, which would flush output still queued and cut the console off
 * under init's feet.  In pipe mode it has no controlling terminal at all.
 *
 * Exit status (mapped by the host, see alcatraz_ctl_status_to_exit):
 *   EXITED      value = exit code (0..255)   -> value
 *   SIGNALED    value = signal number        -> 128 + value
 *   EXEC_FAILED value = Linux errno of execve: ENOENT/ENOTDIR -> 127,
 *               anything else (EACCES, ENOEXEC, ...) -> 126
 *   INIT_ERROR  value = Linux errno of what failed in init before the
 *               command could start (chdir to WORKDIR, fork, ...) -> 125
 */
#ifndef ALCATRAZ_CONTROL_PROTO_H
#define ALCATRAZ_CONTROL_PROTO_H

#include <stddef.h>
#include <stdint.h>

/* vsock addressing: CID 2 is VMADDR_CID_HOST, fixed by the vsock ABI. */
#define ALCATRAZ_CTL_HOST_CID   2u
#define ALCATRAZ_CTL_VSOCK_PORT 1024u

/* "ALC1" read as a little-endian u32; the digit is the protocol version. */
#define ALCATRAZ_CTL_MAGIC      0x31434c41u

#define ALCATRAZ_CTL_HDR_SIZE   12u

enum alcatraz_ctl_type {
	/* host -> guest, before END */
	ALCATRAZ_CTL_ARG       = 1,  /* one argv string, no NUL inside or at end */
	ALCATRAZ_CTL_ENV       = 2,  /* "KEY=VALUE", KEY non-empty, no NUL */
	ALCATRAZ_CTL_WORKDIR   = 3,  /* absolute path, no NUL */
	ALCATRAZ_CTL_STDIO     = 4,  /* u32 flags (ALCATRAZ_CTL_STDIO_*) */
	ALCATRAZ_CTL_END       = 5,  /* empty */
	/* host -> guest, after END */
	ALCATRAZ_CTL_STDIN_EOF = 6,  /* u64 total stdin bytes sent */
	ALCATRAZ_CTL_SIGNAL    = 7,  /* u32 signo, sent to the command's pgrp */
	ALCATRAZ_CTL_WINSIZE   = 8,  /* u16 rows, u16 cols */
	ALCATRAZ_CTL_EXEC      = 9,  /* u32 id, u32 flags (0), u32 argc, u32 envc,
				      * argc + envc + 1 NUL-terminated strings:
				      * argv, "KEY=VALUE"s, workdir ("" = none) */
	ALCATRAZ_CTL_EXEC_STDIN  = 10, /* u32 id, 0..EXEC_CHUNK bytes (0: EOF) */
	ALCATRAZ_CTL_EXEC_SIGNAL = 11, /* u32 id, u32 signo */
	ALCATRAZ_CTL_EXEC_ACK    = 12, /* u32 id, u32 stream, u32 bytes */
	ALCATRAZ_CTL_RESEED      = 13, /* RESEED_LEN bytes of host entropy: a
				      * restored snapshot's clone (FEAT_RESEED) */
	ALCATRAZ_CTL_EXEC_WINSIZE = 14, /* u32 id, u16 rows, u16 cols, each
				      * 1..65535 (FEAT_EXEC_WINSIZE) */
	ALCATRAZ_CTL_SESSION     = 15, /* u64 session id, non-zero: the first
				      * record after a transport reset */
	/* guest -> host */
	ALCATRAZ_CTL_EVENT     = 16, /* u32 event, u32 features (INIT_START) or 0,
				      * u64 guest ns */
	ALCATRAZ_CTL_STATUS    = 17, /* u32 kind, i32 value, u64 guest ns */
	ALCATRAZ_CTL_EXEC_START  = 18, /* u32 id, u32 guest pid, u64 guest ns */
	ALCATRAZ_CTL_EXEC_DATA   = 19, /* u32 id, u32 stream, 1..EXEC_CHUNK bytes */
	ALCATRAZ_CTL_EXEC_STDIN_ACK = 20, /* u32 id, u32 bytes */
	ALCATRAZ_CTL_EXEC_STATUS = 21, /* u32 id, u32 kind, i32 value, u32 0, u64 ns */
	ALCATRAZ_CTL_INIT_REASON = 22, /* 1..MAX_REASON bytes: init's line on what
				      * failed, before STATUS(INIT_ERROR) */
	ALCATRAZ_CTL_SESSION_ACK = 23, /* u64 the SESSION's id: the guest's first
				      * record after a transport reset */
	/* host -> guest, numbered after the guest's (15 was the last free) */
	ALCATRAZ_CTL_NET_IDENTITY = 24, /* 6-byte MAC, 2 zero bytes: a restored
				      * clone's new MAC (FEAT_NET_IDENTITY) */
};

/* INIT_START features. */
#define ALCATRAZ_CTL_FEAT_EXEC          0x1u
#define ALCATRAZ_CTL_FEAT_RESEED        0x2u
#define ALCATRAZ_CTL_FEAT_EXEC_WINSIZE  0x4u
#define ALCATRAZ_CTL_FEAT_SESSION       0x8u
#define ALCATRAZ_CTL_FEAT_NET_IDENTITY  0x10u
/* EXEC_DATA / EXEC_ACK streams. */
#define ALCATRAZ_CTL_STREAM_STDOUT      1u
#define ALCATRAZ_CTL_STREAM_STDERR      2u

/* STDIO flags. Unknown bits are a protocol error. */
#define ALCATRAZ_CTL_STDIO_TTY          0x1u
#define ALCATRAZ_CTL_STDIO_STDERR_PORT  0x2u
#define ALCATRAZ_CTL_STDIO_ALL          0x3u
#define ALCATRAZ_CTL_STDERR_PORT_NAME   "alcatraz.stderr"

enum alcatraz_ctl_event {
	ALCATRAZ_CTL_EV_INIT_START = 1,  /* PID 1 is up and connected */
	ALCATRAZ_CTL_EV_CMD_START  = 2,  /* about to fork+exec the command */
};

enum alcatraz_ctl_status_kind {
	ALCATRAZ_CTL_ST_EXITED      = 1,
	ALCATRAZ_CTL_ST_SIGNALED    = 2,
	ALCATRAZ_CTL_ST_EXEC_FAILED = 3,
	ALCATRAZ_CTL_ST_INIT_ERROR  = 4,
};

/*
 * Payload sizes.  Fixed-size records must have exactly this length.
 * EVENT/STATUS timestamps are the guest's CLOCK_BOOTTIME in nanoseconds,
 * i.e. time since the guest kernel started its clock; the host should
 * timestamp arrivals with its own clock for cross-VM timings and use these
 * only as the guest's view.
 */
#define ALCATRAZ_CTL_STDIO_LEN      4u
#define ALCATRAZ_CTL_END_LEN        0u
#define ALCATRAZ_CTL_STDIN_EOF_LEN  8u
#define ALCATRAZ_CTL_SIGNAL_LEN     4u
#define ALCATRAZ_CTL_WINSIZE_LEN    4u
#define ALCATRAZ_CTL_EVENT_LEN      16u
#define ALCATRAZ_CTL_STATUS_LEN     16u
#define ALCATRAZ_CTL_EXEC_HDR_LEN   16u  /* EXEC's fixed part */
#define ALCATRAZ_CTL_EXEC_SIGNAL_LEN 8u
#define ALCATRAZ_CTL_EXEC_ACK_LEN   12u
#define ALCATRAZ_CTL_RESEED_LEN     64u
#define ALCATRAZ_CTL_SESSION_LEN    8u
#define ALCATRAZ_CTL_NET_IDENTITY_LEN 8u
#define ALCATRAZ_CTL_MAC_LEN        6u
#define ALCATRAZ_CTL_EXEC_WINSIZE_LEN 8u
#define ALCATRAZ_CTL_EXEC_START_LEN 16u
#define ALCATRAZ_CTL_EXEC_DATA_HDR  8u   /* EXEC_DATA's id and stream */
#define ALCATRAZ_CTL_EXEC_STDIN_ACK_LEN 8u
#define ALCATRAZ_CTL_EXEC_STATUS_LEN 24u

/*
 * Limits, enforced by both sides (the sender refuses to send more, the
 * receiver treats more as a protocol error).  They mirror Linux execve
 * limits: MAX_ARG_STRLEN is 32 pages including the NUL, PATH_MAX 4096
 * including the NUL, and the default 8 MiB stack allows 2 MiB of argv+envp.
 */
#define ALCATRAZ_CTL_MAX_STRING     131071u  /* one ARG or ENV payload */
#define ALCATRAZ_CTL_MAX_WORKDIR    4095u
#define ALCATRAZ_CTL_MAX_ARGS       4096u
#define ALCATRAZ_CTL_MAX_ENVS       4096u
/* Sum of ARG+ENV payloads, plus one byte (the NUL) per string. */
#define ALCATRAZ_CTL_MAX_TOTAL      (1024u * 1024u)
/* Execs: live at once; bytes per EXEC_STDIN/EXEC_DATA record; the flow-
 * control window of each stream of each exec. */
#define ALCATRAZ_CTL_MAX_EXECS      16u
#define ALCATRAZ_CTL_EXEC_CHUNK     16384u
#define ALCATRAZ_CTL_EXEC_WINDOW    65536u
/* Largest payload of any record type: lets a reader use one fixed buffer.
 * An EXEC record (argv, environment and workdir together) fits it too. */
#define ALCATRAZ_CTL_MAX_PAYLOAD    ALCATRAZ_CTL_MAX_STRING
/* The guest sends at most this many EVENT records before STATUS. */
#define ALCATRAZ_CTL_MAX_EVENTS     8u
/* Longest INIT_REASON payload. */
#define ALCATRAZ_CTL_MAX_REASON     200u
/* Signals the guest will forward (1..64); others are a protocol error. */
#define ALCATRAZ_CTL_MAX_SIGNO      64u

/* Linux errno values used in EXEC_FAILED mapping (x86-64 ABI numbers). */
#define ALCATRAZ_CTL_ENOENT   2
#define ALCATRAZ_CTL_ENOEXEC  8
#define ALCATRAZ_CTL_EACCES   13
#define ALCATRAZ_CTL_ENOTDIR  20

/* CLI exit statuses that do not come from the command itself. */
#define ALCATRAZ_CTL_EXIT_TIMEOUT      124
#define ALCATRAZ_CTL_EXIT_RUNTIME      125
#define ALCATRAZ_CTL_EXIT_NOEXEC       126
#define ALCATRAZ_CTL_EXIT_NOTFOUND     127

static inline void alcatraz_ctl_put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void alcatraz_ctl_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline void alcatraz_ctl_put_le64(uint8_t *p, uint64_t v)
{
	alcatraz_ctl_put_le32(p, (uint32_t)v);
	alcatraz_ctl_put_le32(p + 4, (uint32_t)(v >> 32));
}

static inline uint16_t alcatraz_ctl_get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t alcatraz_ctl_get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) |
	       ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline uint64_t alcatraz_ctl_get_le64(const uint8_t *p)
{
	return (uint64_t)alcatraz_ctl_get_le32(p) |
	       ((uint64_t)alcatraz_ctl_get_le32(p + 4) << 32);
}

/* Fill a 12-byte record header. */
static inline void alcatraz_ctl_put_hdr(uint8_t *hdr, uint32_t type, uint32_t len)
{
	alcatraz_ctl_put_le32(hdr, ALCATRAZ_CTL_MAGIC);
	alcatraz_ctl_put_le32(hdr + 4, type);
	alcatraz_ctl_put_le32(hdr + 8, len);
}

/*
 * Validate a header received from the peer.  `from_guest` selects which
 * side's record types are legal.  Returns 0 and sets *type and *len when the
 * record may be read, -1 on a protocol error.  Per-conversation checks
 * (ordering, counts, totals, NUL bytes in strings) are the caller's job.
 */
static inline int alcatraz_ctl_check_hdr(const uint8_t *hdr, int from_guest,
					 uint32_t *type, uint32_t *len)
{
	uint32_t t = alcatraz_ctl_get_le32(hdr + 4);
	uint32_t l = alcatraz_ctl_get_le32(hdr + 8);
	uint32_t want;

	if (alcatraz_ctl_get_le32(hdr) != ALCATRAZ_CTL_MAGIC)
		return -1;
	if (from_guest) {
		switch (t) {
		case ALCATRAZ_CTL_EVENT:  want = ALCATRAZ_CTL_EVENT_LEN; break;
		case ALCATRAZ_CTL_STATUS: want = ALCATRAZ_CTL_STATUS_LEN; break;
		case ALCATRAZ_CTL_EXEC_START: want = ALCATRAZ_CTL_EXEC_START_LEN; break;
		case ALCATRAZ_CTL_EXEC_STDIN_ACK: want = ALCATRAZ_CTL_EXEC_STDIN_ACK_LEN; break;
		case ALCATRAZ_CTL_EXEC_STATUS: want = ALCATRAZ_CTL_EXEC_STATUS_LEN; break;
		case ALCATRAZ_CTL_SESSION_ACK: want = ALCATRAZ_CTL_SESSION_LEN; break;
		case ALCATRAZ_CTL_EXEC_DATA:
			if (l <= ALCATRAZ_CTL_EXEC_DATA_HDR ||
			    l > ALCATRAZ_CTL_EXEC_DATA_HDR + ALCATRAZ_CTL_EXEC_CHUNK)
				return -1;
			want = l;
			break;
		case ALCATRAZ_CTL_INIT_REASON:
			if (l == 0 || l > ALCATRAZ_CTL_MAX_REASON)
				return -1;
			want = l;
			break;
		default: return -1;
		}
		if (l != want)
			return -1;
	} else {
		switch (t) {
		case ALCATRAZ_CTL_ARG:
		case ALCATRAZ_CTL_ENV:
			if (l > ALCATRAZ_CTL_MAX_STRING)
				return -1;
			break;
		case ALCATRAZ_CTL_WORKDIR:
			if (l == 0 || l > ALCATRAZ_CTL_MAX_WORKDIR)
				return -1;
			break;
		case ALCATRAZ_CTL_STDIO:     want = ALCATRAZ_CTL_STDIO_LEN; goto fixed;
		case ALCATRAZ_CTL_END:       want = ALCATRAZ_CTL_END_LEN; goto fixed;
		case ALCATRAZ_CTL_STDIN_EOF: want = ALCATRAZ_CTL_STDIN_EOF_LEN; goto fixed;
		case ALCATRAZ_CTL_SIGNAL:    want = ALCATRAZ_CTL_SIGNAL_LEN; goto fixed;
		case ALCATRAZ_CTL_WINSIZE:   want = ALCATRAZ_CTL_WINSIZE_LEN; goto fixed;
		case ALCATRAZ_CTL_EXEC_SIGNAL: want = ALCATRAZ_CTL_EXEC_SIGNAL_LEN; goto fixed;
		case ALCATRAZ_CTL_EXEC_ACK:  want = ALCATRAZ_CTL_EXEC_ACK_LEN; goto fixed;
		case ALCATRAZ_CTL_RESEED:    want = ALCATRAZ_CTL_RESEED_LEN; goto fixed;
		case ALCATRAZ_CTL_SESSION:   want = ALCATRAZ_CTL_SESSION_LEN; goto fixed;
		case ALCATRAZ_CTL_NET_IDENTITY: want = ALCATRAZ_CTL_NET_IDENTITY_LEN; goto fixed;
		case ALCATRAZ_CTL_EXEC_WINSIZE: want = ALCATRAZ_CTL_EXEC_WINSIZE_LEN; goto fixed;
		case ALCATRAZ_CTL_EXEC:
			/* The fixed part, argv[0] and at least the workdir's NUL. */
			if (l < ALCATRAZ_CTL_EXEC_HDR_LEN + 2 || l > ALCATRAZ_CTL_MAX_PAYLOAD)
				return -1;
			break;
		case ALCATRAZ_CTL_EXEC_STDIN:
			if (l < 4 || l > 4 + ALCATRAZ_CTL_EXEC_CHUNK)
				return -1;
			break;
		default:
			return -1;
		fixed:
			if (l != want)
				return -1;
			break;
		}
	}
	*type = t;
	*len = l;
	return 0;
}

/*
 * Validate an EXEC payload (the header check has bounded its length):
 * a non-zero id, flags 0, 1..MAX_ARGS arguments, up to MAX_ENVS
 * "KEY=VALUE" strings with a non-empty KEY, then an empty or absolute
 * workdir of at most MAX_WORKDIR bytes; every string NUL-terminated and
 * at most MAX_STRING bytes, nothing after the workdir.  0 or -1.
 */
static inline int alcatraz_ctl_check_exec(const uint8_t *p, uint32_t len)
{
	uint32_t argc, envc, n = 0, off = ALCATRAZ_CTL_EXEC_HDR_LEN, start;

	if (len < ALCATRAZ_CTL_EXEC_HDR_LEN || alcatraz_ctl_get_le32(p) == 0 ||
	    alcatraz_ctl_get_le32(p + 4) != 0)
		return -1;
	argc = alcatraz_ctl_get_le32(p + 8);
	envc = alcatraz_ctl_get_le32(p + 12);
	if (argc < 1 || argc > ALCATRAZ_CTL_MAX_ARGS || envc > ALCATRAZ_CTL_MAX_ENVS)
		return -1;
	while (off < len) {
		start = off;
		while (off < len && p[off])
			off++;
		if (off == len || off - start > ALCATRAZ_CTL_MAX_STRING)
			return -1;
		if (n >= argc && n < argc + envc && (p[start] == '=' || p[start] == 0))
			return -1;
		if (n >= argc && n < argc + envc) {
			uint32_t k = start;

			while (p[k] && p[k] != '=')
				k++;
			if (!p[k])
				return -1;
		}
		if (n == argc + envc && off > start &&
		    (p[start] != '/' || off - start > ALCATRAZ_CTL_MAX_WORKDIR))
			return -1;
		off++;
		n++;
	}
	return n == argc + envc + 1 ? 0 : -1;
}

/*
 * Decode an EXEC_WINSIZE payload of len bytes: the id and a size of 1..65535
 * rows and columns.  0, or -1 for a bad length or a zero row or column count.
 */
static inline int alcatraz_ctl_get_exec_winsize(const uint8_t *p, uint32_t len, uint32_t *id,
						uint16_t *rows, uint16_t *cols)
{
	if (len != ALCATRAZ_CTL_EXEC_WINSIZE_LEN)
		return -1;
	*id = alcatraz_ctl_get_le32(p);
	*rows = alcatraz_ctl_get_le16(p + 4);
	*cols = alcatraz_ctl_get_le16(p + 6);
	return *rows && *cols ? 0 : -1;
}

/*
 * Map a STATUS record to the CLI exit status.  Out-of-range values from a
 * hostile guest become a runtime error rather than being trusted.
 */
static inline int alcatraz_ctl_status_to_exit(uint32_t kind, int32_t value)
{
	switch (kind) {
	case ALCATRAZ_CTL_ST_EXITED:
		return (value >= 0 && value <= 255) ? value : ALCATRAZ_CTL_EXIT_RUNTIME;
	case ALCATRAZ_CTL_ST_SIGNALED:
		return (value >= 1 && value <= (int32_t)ALCATRAZ_CTL_MAX_SIGNO) ?
		       128 + value : ALCATRAZ_CTL_EXIT_RUNTIME;
	case ALCATRAZ_CTL_ST_EXEC_FAILED:
		if (value == ALCATRAZ_CTL_ENOENT || value == ALCATRAZ_CTL_ENOTDIR)
			return ALCATRAZ_CTL_EXIT_NOTFOUND;
		return ALCATRAZ_CTL_EXIT_NOEXEC;
	case ALCATRAZ_CTL_ST_INIT_ERROR:
	default:
		return ALCATRAZ_CTL_EXIT_RUNTIME;
	}
}

/* A MAC a clone may take: unicast (the group bit clear) and not all zeros. */
static inline int alcatraz_ctl_mac_ok(const uint8_t *mac)
{
	uint8_t any = 0;

	for (unsigned int i = 0; i < ALCATRAZ_CTL_MAC_LEN; i++)
		any |= mac[i];
	return any && !(mac[0] & 1u);
}

/* NET_IDENTITY's payload, from the host: 0 and the MAC in mac[6], or -1 on a
 * wrong length, non-zero padding, or a multicast or zero MAC. */
static inline int alcatraz_ctl_net_identity_decode(const uint8_t *p, uint32_t len, uint8_t *mac)
{
	if (len != ALCATRAZ_CTL_NET_IDENTITY_LEN || p[6] || p[7] || !alcatraz_ctl_mac_ok(p))
		return -1;
	for (unsigned int i = 0; i < ALCATRAZ_CTL_MAC_LEN; i++)
		mac[i] = p[i];
	return 0;
}

static inline void alcatraz_ctl_net_identity_encode(uint8_t *p, const uint8_t *mac)
{
	for (unsigned int i = 0; i < ALCATRAZ_CTL_MAC_LEN; i++)
		p[i] = mac[i];
	p[6] = p[7] = 0;
}

#endif /* ALCATRAZ_CONTROL_PROTO_H */
