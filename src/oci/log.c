// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * alcatraz-oci's messages. containerd's shim (go-runc) reads the --log file
 * line by line, each a JSON object {"level","msg","time"}, and reports the
 * last "error" one as the runtime's failure, so errors always go there as
 * one line; the text format is runc's logrus one (time=... level=... msg=...).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "oci.h"

static int log_fd = -1;
static enum oci_log_format log_format = OCI_LOG_TEXT;
static bool stderr_quiet;

bool oci_log_open(const char *path, enum oci_log_format fmt)
{
	log_format = fmt;
	if (!path)
		return true;
	log_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
	if (log_fd < 0) {
		fprintf(stderr, "alcatraz-oci: cannot open the log '%s': %s\n", path, strerror(errno));
		return false;
	}
	return true;
}

void oci_log_quiet_stderr(void)
{
	stderr_quiet = true;
}

void oci_stdio_to_null(void)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (null < 0)
		return;
	dup2(null, STDIN_FILENO);
	dup2(null, STDOUT_FILENO);
	dup2(null, STDERR_FILENO);
	close(null);
}

static void log_line(const char *level, const char *msg)
{
	char now[40], *line = NULL;
	json_t *obj;

	if (log_fd < 0)
		return;
	oci_now_rfc3339(now, sizeof(now));
	if (log_format == OCI_LOG_JSON) {
		obj = json_pack("{s:s, s:s, s:s}", "level", level, "msg", msg, "time", now);
		line = obj ? json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
		json_decref(obj);
		if (line)
			dprintf(log_fd, "%s\n", line);
		free(line);
		return;
	}
	/* logrus quotes a message with spaces; a quote or backslash inside is
	 * escaped, and guest-chosen bytes never break the line. */
	dprintf(log_fd, "time=\"%s\" level=%s msg=\"", now, level);
	for (const char *p = msg; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '"' || c == '\\')
			dprintf(log_fd, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			dprintf(log_fd, "\\x%02x", c);
		else
			dprintf(log_fd, "%c", c);
	}
	dprintf(log_fd, "\"\n");
}

static void emit(const char *level, bool to_stderr, const char *fmt, va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* One line, whatever the message holds. */
	for (char *p = msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (to_stderr && !stderr_quiet)
		fprintf(stderr, "alcatraz-oci: %s\n", msg);
	log_line(level, msg);
}

int oci_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit("error", true, fmt, ap);
	va_end(ap);
	return 1;
}

void oci_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit("warning", true, fmt, ap);
	va_end(ap);
}

void oci_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit("info", false, fmt, ap);
	va_end(ap);
}
