/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the pieces of alcatraz-init share.  Nothing outside src/guest
 * includes this: the only interface init has with the host is
 * control_proto.h.
 */
#ifndef ALCATRAZ_GUEST_INIT_H
#define ALCATRAZ_GUEST_INIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "control_proto.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define RELAY_BUF (64 * 1024)
/*
 * How long init waits for what the VMM announced (the console, the stderr
 * port, the control connection) and for the VMM to end the VM after
 * STATUS.  Far beyond what hardware needs: on a loaded or nested host the
 * guest's clock runs on while the VMM is slow, and giving up early loses
 * the command's output.
 */
#define ANNOUNCED_WAIT_MS 30000

struct command {
	char **argv;
	size_t argc, argv_cap;
	char **envp;
	size_t envc, envp_cap;
	char *workdir;
	uint32_t stdio;
	size_t total;
	bool have_workdir, have_stdio;
};

/* Set up once by main(); every piece reads it. */
struct init_state {
	bool test;            /* not PID 1: host-side test run */
	bool debug;           /* alcatraz.debug: trace to the kernel log */
	int kmsg;             /* /dev/kmsg, or stderr in test mode */
	int ctl;              /* control connection, -1 in fallback mode */
	const char *console;  /* path of the command's console */
	char cmdline[4096];   /* kernel command line */
	uint64_t t_start;
};

extern struct init_state g;

/*
 * CLOCK_BOOTTIME so that EVENT/STATUS times count from the guest kernel's
 * start, as control_proto.h promises.
 */
static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* log.c: diagnostics go to the kernel log (the serial port), never the
 * console, which belongs to the command. */
__attribute__((format(printf, 2, 3)))
void klog(int level, const char *fmt, ...);

/* Traces at KERN_ERR so they pass "quiet"; only with alcatraz.debug. */
#define dbg(...) do { if (g.debug) klog(3, "debug: " __VA_ARGS__); } while (0)

/* io.c */
int write_full(int fd, const void *buf, size_t len);
/* 0 on success, -EPIPE on a clean EOF before len bytes, -errno otherwise. */
int read_full(int fd, void *buf, size_t len);

/* command.c */
int strv_push(char ***vec, size_t *n, size_t *cap, char *s);
int command_add_default_path(struct command *cmd);

/* cmdline.c: the kernel command line, and the command it may carry */
void cmdline_read(void);
bool cmdline_get(const char *key, char *val, size_t valsz);
int fallback_command(struct command *cmd);

/* control.c: the vsock conversation with the VMM */
int ctl_connect(void);
void send_event(uint32_t ev, uint64_t t);
void send_status(uint32_t kind, int32_t value);
void send_reason(const char *line);
int recv_command(int fd, struct command *cmd);

/* root.c: alcatraz.root= (mount, move /dev /proc /sys /run, chroot) and
 * alcatraz.volumes=; 0 or -errno after saying why on the console */
int setup_root_and_volumes(void);

/* net.c: eth0, resolv.conf and hosts from alcatraz.net= (if given) */
void net_setup(void);
/* NET_IDENTITY from the host: a clone's new MAC; -1 on a malformed record. */
int net_identity(const uint8_t *p, uint32_t len);

/* system.c: what a bare kernel does not give PID 1 */
void setup_system(void);
void install_busybox_links(void);

/* console.c */
const char *pick_console(void);
bool find_stderr_port(char *dev, int timeout_ms);

/*
 * relay.c: a one-way byte pump between non-blocking descriptors, driven by
 * the poll loop: console -> stdin pipe or pty master, pty master -> console.
 */
struct pump {
	int in, out;      /* not owned; out = -1 once the pump is done */
	bool reading;     /* still taking bytes from `in` */
	bool counted;     /* stop after `target` bytes (STDIN_EOF) */
	bool close_out;   /* close `out` when done: the stdin pipe's EOF */
	uint64_t target, got;
	size_t off, len;
	uint8_t buf[RELAY_BUF];
};

void pump_done_out(struct pump *p);
void pump_check_done(struct pump *p);
void pump_read(struct pump *p);
void pump_write(struct pump *p);
void pump_drain(struct pump *p, int ms);

/* control.c: records after END, read incrementally so the poll loop never
 * blocks on them. */
struct ctl_in {
	uint8_t buf[ALCATRAZ_CTL_HDR_SIZE + ALCATRAZ_CTL_MAX_PAYLOAD];
	size_t have;
	bool open;
	bool await_session;   /* connected again: SESSION comes first */
};

void handle_post_end(struct ctl_in *c, struct pump *in, pid_t child,
		     bool child_alive, int winsize_fd);

/* exec.c: what went wrong in the child before or at execve */
enum child_stage { STAGE_SETUP = 0, STAGE_EXEC = 1 };

__attribute__((noreturn))
void child_run(struct command *cmd, int errfd, int in_fd, const char *stderr_port);
int exec_search(char **argv, char **envp);
__attribute__((noreturn))
void child_fail(int errfd, enum child_stage stage, int err);

/* execs.c: further commands the host starts while the main one runs */
struct pollfd;
int execs_host_record(uint32_t type, uint8_t *p, uint32_t len);
/* reseed.c: RESEED from the host (a restored snapshot's clone). */
void reseed(const uint8_t *p, uint32_t len);
bool execs_reaped(pid_t pid, int wst);
int execs_add_pollfds(struct pollfd *pfd, int np, int max);
int execs_timeout_ms(void);
void execs_handle(const struct pollfd *pfd);
/* Records for the host, written as the socket takes them. */
bool ctl_queue_pending(void);
void ctl_queue_flush(bool block);
void ctl_queue_record(uint32_t type, const void *payload, size_t len);
/* A new control session: the old one's queued records and execs go. */
void execs_new_session(void);

/* run.c */
void run_command(struct command *cmd, uint32_t *kind, int32_t *value);

/* finish.c */
__attribute__((noreturn))
void finish(uint32_t kind, int32_t value, bool fallback);

#endif /* ALCATRAZ_GUEST_INIT_H */
