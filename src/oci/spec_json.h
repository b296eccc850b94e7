/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Inside the config.json/process.json parsers only (spec.c, process.c):
 * the JSON readers of spec_json.c.  Each getter returns 0, or -1 with a
 * one-line error naming the field in err.
 */
#ifndef ALCATRAZ_OCI_SPEC_JSON_H
#define ALCATRAZ_OCI_SPEC_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "oci.h"

int spec_fail(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A JSON object, at most OCI_MAX_DEPTH deep, duplicate keys refused. */
json_t *spec_load(const char *buf, size_t len, const char *what, char *err, size_t errlen);
int spec_get_string(json_t *obj, const char *key, const char *name, bool required, size_t max,
		    char **out, char *err, size_t len);
int spec_get_bool(json_t *obj, const char *key, const char *name, bool *out, char *err,
		  size_t len);
int spec_get_strv(json_t *obj, const char *key, const char *name, size_t max, char ***out,
		  char *err, size_t len);
void spec_free_strv(char **v);
/* Absolute, no "." or ".." component. */
bool spec_clean_abs_path(const char *p);
/* A path of the bundle: absolute as it is, else joined to the bundle. */
int spec_bundle_path(const char *bundle, const char *p, const char *name, char **out, char *err,
		     size_t len);
/* process.c: a process object at where ("process"), into proc. */
int spec_parse_process(json_t *p, const char *where, struct oci_process *proc, char *err,
		       size_t len);

#endif
