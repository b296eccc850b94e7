// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * create, start, state, kill and delete, with runc's options and its error
 * texts where the shim looks for them ("does not exist", "container not
 * running", "no such process").
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <alcatraz/alcatraz.h>

#include "oci.h"

#define STOP_WAIT_MS 30000

/* A flag without value: --name, --name=true/false. */
static bool opt_flag(const char *arg, const char *name, const char *alias, bool *val)
{
	size_t n = strlen(name);

	if (arg[0] == '-' && arg[1] == '-')
		arg++;
	if (arg[0] != '-')
		return false;
	arg++;
	if (!strcmp(arg, name) || (alias && !strcmp(arg, alias))) {
		*val = true;
		return true;
	}
	if (!strncmp(arg, name, n) && arg[n] == '=') {
		*val = !strcmp(arg + n + 1, "true") || !strcmp(arg + n + 1, "1");
		return true;
	}
	return false;
}

int oci_open_container(const struct oci_globals *g, const char *id, int *dirfd)
{
	if (oci_id_check(id))
		return oci_error("invalid container id '%.64s': 1 to %d of [A-Za-z0-9_+.-], not "
				 "'.' or '..'", id, OCI_MAX_ID);
	*dirfd = oci_state_dir_open(g->root, id);
	if (*dirfd == -ENOENT)
		return oci_error("container %s does not exist", id);
	if (*dirfd < 0)
		return oci_error("container %s: %s", id, strerror(-*dirfd));
	return 0;
}

/* "created", "running", "paused" or "stopped" (also for a supervisor that
 * is gone). */
static const char *status_of(int dirfd, char *buf, size_t len)
{
	int ret = oci_request(dirfd, "state", buf, len);

	return ret == 0 ? buf : "stopped";
}

/* Kills the container and waits until its supervisor is gone. */
static int stop_and_wait(int dirfd)
{
	char reply[256];
	struct timespec ts = { .tv_nsec = 10 * 1000 * 1000 };

	oci_request(dirfd, "killall KILL", reply, sizeof(reply));
	for (int i = 0; i < STOP_WAIT_MS / 10; i++) {
		int s = oci_connect(dirfd);
		if (s < 0)
			return 0;
		close(s);
		nanosleep(&ts, NULL);
	}
	return -ETIMEDOUT;
}

/* ---- create ---- */

struct create_opts {
	const char *bundle, *pid_file, *console_socket, *id;
};

static int create_args(int argc, char **argv, struct create_opts *o)
{
	bool missing = false, flag;
	const char *v;
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if ((v = oci_opt_value(argc, argv, &i, "bundle", "b", &missing)))
			o->bundle = v;
		else if ((v = oci_opt_value(argc, argv, &i, "pid-file", NULL, &missing)))
			o->pid_file = v;
		else if ((v = oci_opt_value(argc, argv, &i, "console-socket", NULL, &missing)))
			o->console_socket = v;
		else if ((v = oci_opt_value(argc, argv, &i, "preserve-fds", NULL, &missing))) {
			if (strcmp(v, "0"))
				return oci_error("--preserve-fds %s: passing descriptors into a VM is "
						 "not supported", v);
		} else if (missing)
			return oci_error("option %s needs a value", argv[i]);
		else if (!opt_flag(argv[i], "no-pivot", NULL, &flag) &&
			 !opt_flag(argv[i], "no-new-keyring", NULL, &flag) &&
			 !opt_flag(argv[i], "detach", "d", &flag))
			return oci_error("create: unknown option %s", argv[i]);
	}
	if (i + 1 != argc)
		return oci_error("create needs exactly one container id (create [options] ID)");
	o->id = argv[i];
	return 0;
}

static int check_binds(struct oci_spec *spec);

/* The bundle's config.json, parsed and checked against the host. */
static int load_bundle(const char *bundle_arg, char *bundle, size_t blen, struct oci_spec *spec)
{
	char path[OCI_MAX_PATH + 16], err[512], *buf;
	struct stat st;
	size_t len;
	int ret;

	if (!realpath(bundle_arg, bundle) || strlen(bundle) >= blen)
		return oci_error("bundle '%s': %s", bundle_arg, strerror(errno));
	snprintf(path, sizeof(path), "%s/config.json", bundle);
	ret = oci_read_file(path, OCI_MAX_CONFIG_BYTES, &buf, &len);
	if (ret == -EFBIG)
		return oci_error("%s: larger than %u bytes", path, OCI_MAX_CONFIG_BYTES);
	if (ret)
		return oci_error("%s: %s", path, strerror(-ret));
	ret = oci_spec_parse(buf, len, bundle, spec, err, sizeof(err));
	free(buf);
	if (ret)
		return oci_error("%s", err);
	if (stat(spec->root_path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		oci_error("root.path %s: %s", spec->root_path,
			  access(spec->root_path, F_OK) < 0 ? strerror(errno) : "not a directory");
		oci_spec_free(spec);
		return 1;
	}
	if ((ret = check_binds(spec)))
		oci_spec_free(spec);
	return ret;
}

/* Each bind mount's source: a directory (shared, at most OCI_MAX_BINDS) or
 * a regular file of at most OCI_MAX_FILE_BIND_BYTES (copied). */
static int check_binds(struct oci_spec *spec)
{
	unsigned int dirs = 0;
	struct stat st;

	for (unsigned int i = 0; i < spec->nr_binds; i++) {
		struct oci_mount *b = &spec->binds[i];
		if (stat(b->source, &st) < 0)
			return oci_error("mount source %s: %s", b->source, strerror(errno));
		if (S_ISREG(st.st_mode)) {
			if ((uint64_t)st.st_size > OCI_MAX_FILE_BIND_BYTES)
				return oci_error("mount source %s: a bind-mounted file is copied into "
						 "the VM, at most %u bytes", b->source,
						 OCI_MAX_FILE_BIND_BYTES);
			b->file = true;
			b->mode = st.st_mode & 07777;
		} else if (!S_ISDIR(st.st_mode)) {
			return oci_error("mount source %s: not a directory or a regular file",
					 b->source);
		} else if (++dirs > OCI_MAX_BINDS) {
			return oci_error("mount source %s: at most %d bind mounts of directories are "
					 "supported (the root and the runtime's helper use the other "
					 "two of the VM's 4 shared directories)", b->source,
					 OCI_MAX_BINDS);
		}
	}
	return 0;
}

/* The bind-mounted files, one after the other in a memfd the supervisor
 * feeds to the guest: what each held at create (its size set here). */
static int copy_files(struct oci_spec *spec, int *out)
{
	char buf[16384];
	int fd = -1, src;

	*out = -1;
	for (unsigned int i = 0; i < spec->nr_binds; i++) {
		struct oci_mount *b = &spec->binds[i];
		uint64_t got = 0;
		ssize_t n = 0;
		if (!b->file)
			continue;
		if (fd < 0 && (fd = memfd_create("alcatraz-oci-files", MFD_CLOEXEC)) < 0)
			return oci_error("cannot copy the bind-mounted files: %s", strerror(errno));
		src = open(b->source, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (src < 0) {
			close(fd);
			return oci_error("mount source %s: %s", b->source, strerror(errno));
		}
		const char *why = NULL;
		while ((n = read(src, buf, sizeof(buf))) > 0) {
			if (got + (uint64_t)n > OCI_MAX_FILE_BIND_BYTES) {
				why = "grew past the limit while it was copied";
				break;
			}
			if (write(fd, buf, (size_t)n) != n) {
				why = "cannot copy it";
				break;
			}
			got += (uint64_t)n;
		}
		if (n < 0)
			why = strerror(errno);
		close(src);
		if (why) {
			close(fd);
			return oci_error("mount source %s: %s", b->source, why);
		}
		b->size = got;
	}
	*out = fd;
	return 0;
}

/* What the VM needs from the host, each missing one a line before forking. */
static int check_host(void)
{
	char path[OCI_MAX_PATH];
	int ret;

	if ((ret = alcatraz_default_kernel(path, sizeof(path))))
		return oci_error("no guest kernel: %s (set ALCATRAZ_KERNEL)",
				 ret == -ENOENT ? path : alcatraz_strerror(ret));
	if ((ret = alcatraz_default_init(path, sizeof(path))))
		return oci_error("no alcatraz-init: %s (set ALCATRAZ_INIT)",
				 ret == -ENOENT ? path : alcatraz_strerror(ret));
	if ((ret = oci_helper_dir(path, sizeof(path))))
		return oci_error("no %s in %s: %s (set ALCATRAZ_OCI_HELPER_DIR)", OCI_PAUSE_NAME,
				 path, strerror(-ret));
	return 0;
}

/* The supervisor's "ok" or its one-line error; 0 or the status. */
static int await_supervisor(int fd, pid_t pid, const char *id)
{
	char msg[1024];
	size_t got = 0;
	ssize_t n;
	int status;

	while ((n = read(fd, msg + got, sizeof(msg) - 1 - got)) > 0 ||
	       (n < 0 && errno == EINTR))
		if (n > 0)
			got += (size_t)n;
	msg[got] = '\0';
	if (!strcmp(msg, "ok"))
		return 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!strncmp(msg, "err ", 4))
		return oci_error("container %s: %s", id, msg + 4);
	return oci_error("container %s: the supervisor died before the VM was created", id);
}

int oci_cmd_create(const struct oci_globals *g, int argc, char **argv)
{
	struct create_opts o = { .bundle = "." };
	struct oci_state st = { 0 };
	struct oci_spec spec;
	int ret, dirfd, ready[2], files_fd = -1, master = -1, slave = -1, netns_fd = -1;
	pid_t pid;

	if ((ret = create_args(argc, argv, &o)))
		return ret;
	if (oci_id_check(o.id))
		return oci_error("invalid container id '%.64s': 1 to %d of [A-Za-z0-9_+.-], not "
				 "'.' or '..'", o.id, OCI_MAX_ID);
	if ((ret = load_bundle(o.bundle, st.bundle, sizeof(st.bundle), &spec)))
		return ret;
	/* runc's words for a terminal without a socket and the reverse. */
	if (spec.process.terminal && !o.console_socket) {
		ret = oci_error("cannot allocate tty if runc will detach without setting console "
				"socket");
		goto out_spec;
	}
	if (!spec.process.terminal && o.console_socket) {
		ret = oci_error("cannot use console socket if runc will not detach or allocate tty");
		goto out_spec;
	}
	if ((ret = check_host()) || (ret = copy_files(&spec, &files_fd)))
		goto out_spec;
	if (spec.netns_path) {
		char why[OCI_MAX_PATH + 96];
		if ((netns_fd = oci_netns_open(spec.netns_path, why, sizeof(why))) < 0) {
			ret = oci_error("%s", why);
			goto out_spec;
		}
	}
	if (o.console_socket && (ret = oci_console_open(&master, &slave))) {
		ret = oci_error("cannot allocate a terminal: %s", strerror(-ret));
		goto out_spec;
	}
	ret = oci_state_dir_make(g->root, o.id);
	if (ret == -EEXIST) {
		ret = oci_error("container with id exists: %s", o.id);
		goto out_spec;
	}
	if (ret || (dirfd = oci_state_dir_open(g->root, o.id)) < 0) {
		ret = oci_error("state directory %s/%s: %s", g->root, o.id, strerror(-ret));
		goto out_spec;
	}
	if (pipe2(ready, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
		ret = oci_error("cannot start the supervisor: %s", strerror(errno));
		goto out_dir;
	}
	if (pid == 0) {
		close(ready[0]);
		if (master >= 0)
			close(master);
		oci_supervise(&spec, dirfd, ready[1], files_fd, slave, netns_fd);
	}
	close(ready[1]);
	ret = await_supervisor(ready[0], pid, o.id);
	close(ready[0]);
	if (ret)
		goto out_dir;
	if (master >= 0 && (ret = oci_console_send(o.console_socket, master))) {
		ret = oci_error("--console-socket %s: %s", o.console_socket, strerror(-ret));
		stop_and_wait(dirfd);
		goto out_dir;
	}
	snprintf(st.id, sizeof(st.id), "%s", o.id);
	st.pid = pid;
	snprintf(st.rootfs, sizeof(st.rootfs), "%s", spec.root_path);
	oci_now_rfc3339(st.created, sizeof(st.created));
	st.annotations = spec.annotations;
	if ((ret = oci_state_write(dirfd, &st))) {
		ret = oci_error("container %s: writing state.json: %s", o.id, strerror(-ret));
		stop_and_wait(dirfd);
		goto out_dir;
	}
	if (o.pid_file && (ret = oci_write_pid_file(o.pid_file, pid))) {
		ret = oci_error("--pid-file %s: %s", o.pid_file, strerror(-ret));
		stop_and_wait(dirfd);
		goto out_dir;
	}
	ret = 0;
	goto out_fds;
out_dir:
	oci_state_dir_remove(g->root, o.id);
out_fds:
	close(dirfd);
out_spec:
	/* The supervisor has its own copies. */
	if (files_fd >= 0)
		close(files_fd);
	if (netns_fd >= 0)
		close(netns_fd);
	if (master >= 0)
		close(master);
	if (slave >= 0)
		close(slave);
	oci_spec_free(&spec);
	return ret;
}

/* ---- start, state, kill, delete ---- */

static int one_id(int argc, char **argv, const char *cmd, const char **id)
{
	if (argc != 2 || argv[1][0] == '-')
		return oci_error("%s needs exactly one container id (%s ID)", cmd, cmd);
	*id = argv[1];
	return 0;
}

int oci_cmd_start(const struct oci_globals *g, int argc, char **argv)
{
	char reply[512];
	const char *id = NULL;
	int ret, dirfd;

	if ((ret = one_id(argc, argv, "start", &id)) || (ret = oci_open_container(g, id, &dirfd)))
		return ret;
	ret = oci_request(dirfd, "start", reply, sizeof(reply));
	if (ret < 0 && ret != -1)
		snprintf(reply, sizeof(reply), "cannot start a container that has stopped");
	if (ret)
		ret = oci_error("container %s: %s", id, reply);
	close(dirfd);
	return ret;
}

int oci_cmd_state(const struct oci_globals *g, int argc, char **argv)
{
	char err[512], buf[32];
	struct oci_state st;
	const char *id = NULL, *status;
	json_t *obj;
	char *text;
	int ret, dirfd;

	if ((ret = one_id(argc, argv, "state", &id)) || (ret = oci_open_container(g, id, &dirfd)))
		return ret;
	if (oci_state_read(dirfd, &st, err, sizeof(err))) {
		close(dirfd);
		return oci_error("container %s: %s", id, err);
	}
	status = status_of(dirfd, buf, sizeof(buf));
	close(dirfd);
	obj = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:O}", "ociVersion", OCI_SPEC_VERSION,
			"id", st.id, "pid", (json_int_t)(strcmp(status, "stopped") ? st.pid : 0),
			"status", status, "bundle", st.bundle, "rootfs", st.rootfs, "created",
			st.created, "annotations", st.annotations);
	text = obj ? json_dumps(obj, JSON_PRESERVE_ORDER | JSON_INDENT(2)) : NULL;
	json_decref(obj);
	oci_state_free(&st);
	if (!text)
		return oci_error("out of memory");
	printf("%s\n", text);
	free(text);
	return 0;
}

int oci_cmd_kill(const struct oci_globals *g, int argc, char **argv)
{
	const char *id = NULL, *sigarg = "TERM";
	char req[32];
	bool all = false, flag;
	int i, sig;

	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (opt_flag(argv[i], "all", "a", &flag))
			all = flag;
		else
			return oci_error("kill: unknown option %s", argv[i]);
	}
	if (argc - i < 1 || argc - i > 2)
		return oci_error("kill needs a container id and an optional signal (kill [--all] ID "
				 "[SIGNAL])");
	id = argv[i];
	if (argc - i == 2)
		sigarg = argv[i + 1];
	if ((sig = oci_signal_parse(sigarg)) < 0)
		return oci_error("unknown signal '%.32s'", sigarg);
	snprintf(req, sizeof(req), "%s %d", all ? "killall" : "kill", sig);
	return oci_request_container(g, id, req);
}

int oci_cmd_delete(const struct oci_globals *g, int argc, char **argv)
{
	bool force = false, flag;
	char buf[32];
	const char *status;
	int i, ret, dirfd;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (opt_flag(argv[i], "force", "f", &flag))
			force = flag;
		else
			return oci_error("delete: unknown option %s", argv[i]);
	}
	if (i + 1 != argc)
		return oci_error("delete needs exactly one container id (delete [--force] ID)");
	if (oci_id_check(argv[i]))
		return oci_open_container(g, argv[i], &dirfd);
	dirfd = oci_state_dir_open(g->root, argv[i]);
	if (dirfd == -ENOENT)
		return force ? 0 : oci_error("container %s does not exist", argv[i]);
	if (dirfd < 0)
		return oci_error("container %s: %s", argv[i], strerror(-dirfd));
	status = status_of(dirfd, buf, sizeof(buf));
	if ((!strcmp(status, "running") || !strcmp(status, "paused")) && !force) {
		close(dirfd);
		return oci_error("cannot delete container %s that is not stopped: %s", argv[i],
				 status);
	}
	/* A created container is deleted as runc does: its VM killed. */
	if (strcmp(status, "stopped") && stop_and_wait(dirfd)) {
		close(dirfd);
		return oci_error("container %s: its supervisor did not end", argv[i]);
	}
	close(dirfd);
	ret = oci_state_dir_remove(g->root, argv[i]);
	if (ret)
		return oci_error("container %s: removing its state: %s", argv[i], strerror(-ret));
	return 0;
}
