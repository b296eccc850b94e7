// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The JSON readers config.json and process.json share (spec.c, process.c):
 * a bounded file read, a nesting limit, duplicate keys refused, and typed
 * field getters that name the field in their one-line error.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spec_json.h"

int spec_fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -1;
}

int oci_read_file(const char *path, size_t max, char **buf, size_t *len)
{
	struct stat st;
	size_t got = 0;
	char *b;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		int err = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		close(fd);
		return err;
	}
	if ((uint64_t)st.st_size > max) {
		close(fd);
		return -EFBIG;
	}
	b = malloc(max + 1);
	if (!b) {
		close(fd);
		return -ENOMEM;
	}
	/* Read up to max + 1: a file that grew since fstat is still refused. */
	for (;;) {
		ssize_t n = read(fd, b + got, max + 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = -errno;
			free(b);
			close(fd);
			return err;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got > max) {
			free(b);
			close(fd);
			return -EFBIG;
		}
	}
	close(fd);
	b[got] = '\0';
	*buf = b;
	*len = got;
	return 0;
}

/* Depth of nesting, refused beyond OCI_MAX_DEPTH before anything is read. */
static bool depth_ok(json_t *v, int depth)
{
	const char *key;
	json_t *item;
	size_t i;

	if (depth > OCI_MAX_DEPTH)
		return false;
	if (json_is_object(v)) {
		json_object_foreach(v, key, item)
			if (!depth_ok(item, depth + 1))
				return false;
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, item)
			if (!depth_ok(item, depth + 1))
				return false;
	}
	return true;
}

json_t *spec_load(const char *buf, size_t len, const char *what, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);

	if (!root) {
		spec_fail(err, errlen, "%s: malformed JSON at line %d column %d: %s", what, jerr.line,
			  jerr.column, jerr.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		spec_fail(err, errlen, "%s: not a JSON object", what);
		return NULL;
	}
	if (!depth_ok(root, 1)) {
		json_decref(root);
		spec_fail(err, errlen, "%s: nested deeper than %d levels", what, OCI_MAX_DEPTH);
		return NULL;
	}
	return root;
}

/* A string field of at most max bytes (NUL never: jansson refuses \u0000). */
int spec_get_string(json_t *obj, const char *key, const char *name, bool required, size_t max,
		    char **out, char *err, size_t len)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return required ? spec_fail(err, len, "%s is missing", name) : 0;
	if (!json_is_string(v))
		return spec_fail(err, len, "%s must be a string", name);
	if (json_string_length(v) > max)
		return spec_fail(err, len, "%s is longer than %zu bytes", name, max);
	*out = strdup(json_string_value(v));
	return *out ? 0 : spec_fail(err, len, "out of memory");
}

int spec_get_bool(json_t *obj, const char *key, const char *name, bool *out, char *err,
		  size_t len)
{
	json_t *v = json_object_get(obj, key);

	*out = false;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return spec_fail(err, len, "%s must be true or false", name);
	*out = json_is_true(v);
	return 0;
}

void spec_free_strv(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

/* An array of at most max strings, NULL-terminated. */
int spec_get_strv(json_t *obj, const char *key, const char *name, size_t max, char ***out,
		  char *err, size_t len)
{
	json_t *v = json_object_get(obj, key), *item;
	size_t i, n;

	*out = NULL;
	if (v && !json_is_null(v) && !json_is_array(v))
		return spec_fail(err, len, "%s must be an array of strings", name);
	n = v ? json_array_size(v) : 0;
	if (n > max)
		return spec_fail(err, len, "%s has %zu entries (at most %zu)", name, n, max);
	*out = calloc(n + 1, sizeof(char *));
	if (!*out)
		return spec_fail(err, len, "out of memory");
	json_array_foreach(v, i, item) {
		if (!json_is_string(item)) {
			spec_free_strv(*out);
			*out = NULL;
			return spec_fail(err, len, "%s[%zu] must be a string", name, i);
		}
		if (json_string_length(item) > OCI_MAX_ARG_BYTES) {
			spec_free_strv(*out);
			*out = NULL;
			return spec_fail(err, len, "%s[%zu] is longer than %u bytes", name, i,
					 OCI_MAX_ARG_BYTES);
		}
		if (!((*out)[i] = strdup(json_string_value(item)))) {
			spec_free_strv(*out);
			*out = NULL;
			return spec_fail(err, len, "out of memory");
		}
	}
	return 0;
}

/* Absolute, no "." or ".." component, no empty one but a trailing '/'. */
bool spec_clean_abs_path(const char *p)
{
	if (p[0] != '/')
		return false;
	for (const char *c = p; *c;) {
		while (*c == '/')
			c++;
		const char *e = strchrnul(c, '/');
		size_t n = (size_t)(e - c);
		if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		c = e;
	}
	return true;
}

/* A path of the bundle: absolute as it is, else joined to the bundle. */
int spec_bundle_path(const char *bundle, const char *p, const char *name, char **out, char *err,
		     size_t len)
{
	*out = NULL;
	if (!*p)
		return spec_fail(err, len, "%s is empty", name);
	if (p[0] == '/') {
		*out = strdup(p);
	} else if (asprintf(out, "%s/%s", bundle, p) < 0) {
		*out = NULL;
	}
	if (!*out)
		return spec_fail(err, len, "out of memory");
	if (strlen(*out) >= OCI_MAX_PATH || !spec_clean_abs_path(*out)) {
		free(*out);
		*out = NULL;
		return spec_fail(err, len, "%s '%s': a path without '.' or '..' components, at most %d "
				 "bytes, is needed", name, p, OCI_MAX_PATH - 1);
	}
	return 0;
}
