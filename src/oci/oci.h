/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * alcatraz-oci: a runc-compatible OCI runtime whose containers are Alcatraz
 * microVMs. What its files share:
 *
 *   main.c        global options, subcommand dispatch, --version, features
 *   commands.c    create, start, state, kill, delete
 *   exec.c        exec (and the per-exec process that holds its pid)
 *   control.c     pause, resume, ps, update, events: the VMM's cgroup
 *   console.c     the pty of --console-socket
 *   spec.c        config.json, parsed as hostile input
 *   netns.c       the network namespace config.json names
 *   process.c     a process object (config.json's, exec's process.json) and
 *                 the guest helper's command line
 *   spec_json.c   the JSON readers both share (spec_json.h)
 *   state.c       container ids, the state directory, state.json
 *   supervisor.c  the per-container process: holds the VM, answers requests
 *   vm_boot.c     the container's VM: its configuration, the copied files
 *   proto.c       the requests between the commands and a supervisor
 *   log.c         errors on stderr and, as runc writes them, in --log
 *   args.c        signal names and option values
 */
#ifndef ALCATRAZ_OCI_H
#define ALCATRAZ_OCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#define OCI_SPEC_VERSION "1.0.2"
/* config.json, a process.json and state.json are read whole, at most this. */
#define OCI_MAX_CONFIG_BYTES (1u << 20)
#define OCI_MAX_PROCESS_BYTES (128u << 10)
/* Deeper JSON than this is refused (config.json needs 5 levels). */
#define OCI_MAX_DEPTH 32
#define OCI_MAX_ARGS 1024
#define OCI_MAX_ENV 1024
#define OCI_MAX_ARG_BYTES (128u << 10)
#define OCI_MAX_PATH 4096
#define OCI_MAX_MOUNTS 64
#define OCI_MAX_GROUPS 32
#define OCI_MAX_RLIMITS 16
#define OCI_MAX_ID 200
#define OCI_MAX_CONSOLE_DIM 65535
/* The library shares at most 4 directories: the root, the guest helper
 * (see supervisor.c) and this many bind mounts. */
#define OCI_MAX_BINDS 2
/* Bind mounts of files (/etc/hosts, resolv.conf, hostname) take no shared
 * directory: each is copied into the guest (see supervisor.c). */
#define OCI_MAX_BIND_MOUNTS 16
#define OCI_MAX_FILE_BIND_BYTES (1u << 20)
/* The library's limits on a VM's size. */
#define OCI_MIN_MEMORY_MIB 2
#define OCI_MAX_MEMORY_MIB 3072
#define OCI_DEFAULT_MEMORY_MIB 128
#define OCI_MAX_VCPUS 64
/* Where the guest sees the helper directory, and the waiter in it. */
#define OCI_GUEST_HELPER_DIR "/.alcatraz-oci"
#define OCI_PAUSE_NAME "alcatraz-oci-pause"
#define OCI_CGROUP2_MOUNT "/sys/fs/cgroup"

/* ---- log.c ---- */
enum oci_log_format { OCI_LOG_TEXT, OCI_LOG_JSON };
/* --log FILE (NULL: none) and --log-format; false and a line on stderr
 * when the file cannot be opened. */
bool oci_log_open(const char *path, enum oci_log_format fmt);
/* Once the supervisor runs, stderr is the container's: log only to the file. */
void oci_log_quiet_stderr(void);
/* /dev/null on fds 0-2, so that this process keeps no end of the caller's
 * pipes open (best effort: without /dev/null they stay as they are). */
void oci_stdio_to_null(void);
/* One line: "alcatraz-oci: MSG" on stderr, {"level":"error","msg":MSG,...}
 * in the log. Returns 1 (the exit status of a failed command). */
int oci_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void oci_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void oci_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- spec.c ---- */
struct oci_mount {
	char *source;      /* absolute (relative ones are made bundle-relative) */
	char *destination; /* absolute, no "." or ".." component */
	bool readonly;
	/* Set by create once it has looked at the source: */
	bool file;         /* a regular file: copied, not shared */
	uint64_t size;     /* its bytes, in create's memfd in mount order */
	unsigned int mode; /* its permission bits */
};

struct oci_process {
	char **args;   /* NULL-terminated, at least one */
	char **env;    /* NULL-terminated */
	char *cwd;     /* absolute; "/" when absent */
	bool terminal;
	bool container;  /* config.json's process, not an exec's */
	unsigned int rows, cols; /* process.consoleSize; 0: not set */
	unsigned int uid, gid; /* process.user; 0:0 when absent */
	unsigned int gids[OCI_MAX_GROUPS], nr_gids; /* user.additionalGids */
	struct oci_rlimit {
		int resource;       /* RLIMIT_* */
		uint64_t soft, hard;
	} rlimits[OCI_MAX_RLIMITS];
	unsigned int nr_rlimits;
};

struct oci_spec {
	char *oci_version;
	struct oci_process process;
	char *root_path;   /* absolute */
	bool root_readonly;
	struct oci_mount binds[OCI_MAX_BIND_MOUNTS];
	unsigned int nr_binds;
	char *hostname;    /* NULL when absent */
	/* linux.namespaces' network entry: its path (absolute) to start the
	 * VM's user networking in, or none; netns_new when the entry has no
	 * path (runc's new, empty namespace). */
	char *netns_path;
	bool netns_new;
	uint64_t memory_mib; /* 0: the default */
	unsigned int vcpus;  /* 0: the default */
	json_t *annotations; /* an object, never NULL once parsed */
};

/* Parses config.json (len bytes) of a bundle at the absolute path bundle.
 * 0, or -1 with a one-line reason in err. Nothing of the host is read. */
int oci_spec_parse(const char *buf, size_t len, const char *bundle, struct oci_spec *spec,
		   char *err, size_t errlen);
void oci_spec_free(struct oci_spec *spec);
/* A process.json (exec --process): the same rules as config.json's process. */
int oci_process_parse(const char *buf, size_t len, struct oci_process *proc, char *err,
		      size_t errlen);
void oci_process_free(struct oci_process *proc);
/* netns.c: the network namespace at path (hostile: checked to be one
 * without opening anything else), open O_RDONLY|O_CLOEXEC for setns: the
 * fd, or -1 with a one-line reason in err. */
int oci_netns_open(const char *path, char *err, size_t errlen);
/* "0-3,5" (linux.resources.cpu.cpus): how many CPUs, or -1. */
int oci_cpuset_count(const char *s);
/* A whole regular file of at most max bytes, NUL-terminated: 0 or -errno
 * (-EFBIG when larger). */
int oci_read_file(const char *path, size_t max, char **buf, size_t *len);

/* ---- state.c ---- */
/* 0 when id is usable as a container id (and a directory name). */
int oci_id_check(const char *id);

struct oci_state {
	char id[OCI_MAX_ID + 1];
	pid_t pid;                /* the supervisor: the container's pid-file process */
	char bundle[OCI_MAX_PATH];
	char rootfs[OCI_MAX_PATH];
	char created[40];         /* RFC 3339, UTC */
	json_t *annotations;      /* an object */
};

/* The state directory root/id: made (0700, -EEXIST when it exists),
 * opened (-ENOENT) or removed with what it holds. */
int oci_state_dir_make(const char *root, const char *id);
int oci_state_dir_open(const char *root, const char *id);
int oci_state_dir_remove(const char *root, const char *id);
/* state.json in the directory dirfd, written atomically (a temporary file
 * renamed over it); read back with every field checked. */
int oci_state_write(int dirfd, const struct oci_state *st);
int oci_state_read(int dirfd, struct oci_state *st, char *err, size_t errlen);
void oci_state_free(struct oci_state *st);
/* A pid file written atomically, as runc does. */
int oci_write_pid_file(const char *path, pid_t pid);
void oci_now_rfc3339(char *buf, size_t len);

/* ---- proto.c: requests to a supervisor over STATEDIR/sock ---- */
#define OCI_SOCK_NAME "sock"
#define OCI_MSG_MAX (OCI_MAX_PROCESS_BYTES + 64)
/* A connected SOCK_SEQPACKET socket to the supervisor of the directory
 * dirfd; -ECONNREFUSED or -ENOENT when it is gone (the container stopped). */
int oci_connect(int dirfd);
/* Send one message, with up to 3 descriptors (nfds 0 or 3). */
int oci_send(int sock, const char *msg, size_t len, const int *fds, int nfds);
/* Receive one message (NUL-terminated; its length returned), and its
 * descriptors when fds is given (*nfds set; unexpected ones closed). */
ssize_t oci_recv(int sock, char *buf, size_t len, int *fds, int *nfds);
/* One request and its one-message reply: 0 with the reply's text after
 * "ok " in reply, or -1 with the supervisor's error there. */
int oci_request(int dirfd, const char *req, char *reply, size_t len);

/* The argv an exec of proc runs: its own args, or, when it needs what an
 * exec cannot do (a hostname, a user other than root, groups, rlimits, a
 * terminal; signals for the container's process alone, as runc's kill
 * sends them), the guest helper that does it first. Free it (one allocation) when it
 * is not proc->args; NULL when out of memory. */
char **oci_launch_argv(const struct oci_process *proc, const char *hostname);

/* ---- supervisor.c ---- */
/* Runs in the child forked by create: builds and boots the VM, writes
 * "ok" (or "err MSG") to ready_fd, then serves requests until the
 * container's process ends; exits with its status. Never returns.
 * files_fd: the bind-mounted files' contents (a memfd) or -1; tty_fd: the
 * terminal's slave, the process's stdio instead of fds 0-2, or -1;
 * netns_fd: spec->netns_path's namespace (oci_netns_open) or -1. */
void oci_supervise(struct oci_spec *spec, int dirfd, int ready_fd, int files_fd, int tty_fd,
		   int netns_fd) __attribute__((noreturn));
/* Where the guest helper (the static waiter) is on the host. */
int oci_helper_dir(char *buf, size_t len);
/* vm_boot.c: the container's VM made and started (its log in dirfd's
 * vmm.log), and the bind-mounted files copied into it; 0, or a negative
 * errno with one line in err. */
struct alcatraz_vm;
int oci_vm_boot(const struct oci_spec *spec, int dirfd, struct alcatraz_vm **vm, char *err,
		size_t len);
int oci_vm_install_files(struct alcatraz_vm *vm, const struct oci_spec *spec, int files_fd,
			 char *err, size_t len);

/* ---- console.c ---- */
/* A pty for --console-socket, as runc makes it: the master is sent over
 * the unix socket at path with SCM_RIGHTS (its name as the message), the
 * slave (raw: the guest's own pty does the line discipline) is returned
 * in *slave. open first, send once the process exists. */
int oci_console_open(int *master, int *slave);
int oci_console_send(const char *path, int master);

/* ---- commands.c, exec.c ---- */
struct oci_globals {
	const char *root;
	bool systemd_cgroup;
};
int oci_cmd_create(const struct oci_globals *g, int argc, char **argv);
int oci_cmd_start(const struct oci_globals *g, int argc, char **argv);
int oci_cmd_state(const struct oci_globals *g, int argc, char **argv);
int oci_cmd_kill(const struct oci_globals *g, int argc, char **argv);
int oci_cmd_delete(const struct oci_globals *g, int argc, char **argv);
int oci_cmd_exec(const struct oci_globals *g, int argc, char **argv);
int oci_cmd_pause(const struct oci_globals *g, int argc, char **argv);
int oci_cmd_resume(const struct oci_globals *g, int argc, char **argv);
int oci_cmd_ps(const struct oci_globals *g, int argc, char **argv);
int oci_cmd_update(const struct oci_globals *g, int argc, char **argv);
int oci_cmd_events(const struct oci_globals *g, int argc, char **argv);
/* The id argument and the container's state directory: 0, or the status
 * after a line ("container X does not exist"). */
int oci_open_container(const struct oci_globals *g, const char *id, int *dirfd);
/* oci_request to container id's supervisor, its refusal or absence as the
 * command's one error line: 0 or the command's exit status. */
int oci_request_container(const struct oci_globals *g, const char *id, const char *req);
/* A signal by name (KILL, SIGKILL, sigkill) or number: 1..64, or -1. */
int oci_signal_parse(const char *s);
/* Blocks sigs (n of them) and returns a non-blocking signalfd for them
 * (-1 and errno on failure): how a command's own signals reach its VM. */
int oci_signalfd(const int *sigs, size_t n);
/* The value of a --name VALUE or --name=VALUE option at argv[*i], or NULL
 * (when argv[*i] is not that option); *i moves past what was used. */
const char *oci_opt_value(int argc, char **argv, int *i, const char *name, const char *alias,
			  bool *missing);

#endif /* ALCATRAZ_OCI_H */
