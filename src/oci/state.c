// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Container ids and the state directory: --root (default
 * /run/alcatraz-oci), one directory per container id (0700), holding
 * state.json (written atomically), the supervisor's socket and the VMM's
 * log. The status is never stored: it is asked of the supervisor, and a
 * container whose supervisor is gone is stopped.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "oci.h"

#define STATE_FILE "state.json"
#define STATE_TMP "state.json.tmp"

int oci_id_check(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n > OCI_MAX_ID || !strcmp(id, ".") || !strcmp(id, ".."))
		return -EINVAL;
	for (const char *p = id; *p; p++) {
		char c = *p;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.' || c == '+'))
			return -EINVAL;
	}
	return 0;
}

void oci_now_rfc3339(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	char base[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%09ldZ", base, ts.tv_nsec);
}

static int mkdir_p(const char *path, mode_t mode)
{
	char buf[OCI_MAX_PATH];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int oci_state_dir_make(const char *root, const char *id)
{
	char path[OCI_MAX_PATH];
	int ret = mkdir_p(root, 0700);

	if (ret)
		return ret;
	if (snprintf(path, sizeof(path), "%s/%s", root, id) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	return mkdir(path, 0700) < 0 ? -errno : 0;
}

int oci_state_dir_open(const char *root, const char *id)
{
	char path[OCI_MAX_PATH];
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", root, id) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	return fd < 0 ? -errno : fd;
}

int oci_state_dir_remove(const char *root, const char *id)
{
	char path[OCI_MAX_PATH];
	struct dirent *de;
	DIR *d;
	int fd = oci_state_dir_open(root, id), ret = 0;

	if (fd < 0)
		return fd;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	/* Only files of ours live there: no subdirectory to recurse into. */
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
		    unlinkat(fd, de->d_name, 0) < 0 && errno != ENOENT)
			ret = -errno;
	closedir(d);
	snprintf(path, sizeof(path), "%s/%s", root, id);
	if (rmdir(path) < 0 && errno != ENOENT)
		ret = -errno;
	return ret;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Writes tmp in dirfd and renames it over name: readers see the old file
 * or the new one, never a part. */
static int write_atomic(int dirfd, const char *tmp, const char *name, const char *data)
{
	int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	int ret;

	if (fd < 0)
		return -errno;
	ret = write_all(fd, data, strlen(data));
	if (!ret && fsync(fd) < 0)
		ret = -errno;
	close(fd);
	if (!ret && renameat(dirfd, tmp, dirfd, name) < 0)
		ret = -errno;
	if (ret)
		unlinkat(dirfd, tmp, 0);
	return ret;
}

int oci_state_write(int dirfd, const struct oci_state *st)
{
	json_t *obj = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:o}", "ociVersion",
				OCI_SPEC_VERSION, "id", st->id, "pid", (json_int_t)st->pid, "bundle",
				st->bundle, "rootfs", st->rootfs, "created", st->created,
				"annotations",
				st->annotations ? json_incref(st->annotations) : json_object());
	char *text;
	int ret;

	if (!obj)
		return -ENOMEM;
	text = json_dumps(obj, JSON_PRESERVE_ORDER | JSON_COMPACT);
	json_decref(obj);
	if (!text)
		return -ENOMEM;
	ret = write_atomic(dirfd, STATE_TMP, STATE_FILE, text);
	free(text);
	return ret;
}

static int copy_field(json_t *obj, const char *key, char *out, size_t len, char *err,
		      size_t errlen)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_string(v) || json_string_length(v) >= len) {
		snprintf(err, errlen, "state.json: '%s' is missing or malformed", key);
		return -1;
	}
	memcpy(out, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

int oci_state_read(int dirfd, struct oci_state *st, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len;
	json_error_t jerr;
	json_t *obj = NULL, *pid, *ann;
	int ret = -1;
	int fd = openat(dirfd, STATE_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	char path[64];

	memset(st, 0, sizeof(*st));
	if (fd < 0) {
		snprintf(err, errlen, "state.json: %s", strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if ((ret = oci_read_file(path, OCI_MAX_CONFIG_BYTES, &buf, &len))) {
		close(fd);
		snprintf(err, errlen, "state.json: %s", strerror(-ret));
		return -1;
	}
	close(fd);
	ret = -1;
	obj = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	free(buf);
	if (!json_is_object(obj)) {
		snprintf(err, errlen, "state.json: malformed");
		goto out;
	}
	pid = json_object_get(obj, "pid");
	ann = json_object_get(obj, "annotations");
	if (!json_is_integer(pid) || json_integer_value(pid) <= 0 ||
	    json_integer_value(pid) > 0x7fffffff || !json_is_object(ann)) {
		snprintf(err, errlen, "state.json: 'pid' or 'annotations' is malformed");
		goto out;
	}
	if (copy_field(obj, "id", st->id, sizeof(st->id), err, errlen) ||
	    copy_field(obj, "bundle", st->bundle, sizeof(st->bundle), err, errlen) ||
	    copy_field(obj, "rootfs", st->rootfs, sizeof(st->rootfs), err, errlen) ||
	    copy_field(obj, "created", st->created, sizeof(st->created), err, errlen))
		goto out;
	if (oci_id_check(st->id)) {
		snprintf(err, errlen, "state.json: 'id' is malformed");
		goto out;
	}
	st->pid = (pid_t)json_integer_value(pid);
	st->annotations = json_incref(ann);
	ret = 0;
out:
	json_decref(obj);
	return ret;
}

void oci_state_free(struct oci_state *st)
{
	json_decref(st->annotations);
	st->annotations = NULL;
}

int oci_write_pid_file(const char *path, pid_t pid)
{
	char tmp[OCI_MAX_PATH + 16], data[24];
	const char *slash = strrchr(path, '/');
	int dirfd, ret;

	/* Beside the file, so that the rename stays in its file system. */
	if (snprintf(tmp, sizeof(tmp), ".%s.%d.tmp", slash ? slash + 1 : path, (int)getpid()) >=
	    (int)sizeof(tmp))
		return -ENAMETOOLONG;
	if (slash) {
		char dir[OCI_MAX_PATH];
		if ((size_t)(slash - path) >= sizeof(dir))
			return -ENAMETOOLONG;
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash == path ? 1 : slash - path), path);
		dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	} else {
		dirfd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (dirfd < 0)
		return -errno;
	snprintf(data, sizeof(data), "%d", (int)pid);
	ret = write_atomic(dirfd, tmp, slash ? slash + 1 : path, data);
	close(dirfd);
	return ret;
}
