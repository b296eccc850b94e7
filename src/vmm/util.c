// SPDX-License-Identifier: LGPL-2.1-or-later
/* Small host-side helpers: whole-file reads, close-on-exec, logging. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "evloop.h"
#include "outbuf.h"
#include "vmm.h"

int read_fd_size(int fd, uint64_t size, uint8_t **data)
{
	uint8_t *buf = malloc(size ? (size_t)size : 1);
	uint64_t done = 0;

	if (!buf)
		return -ENOMEM;
	/* pread: the descriptor may be shared with the sender, whose offset
	 * is none of our business. */
	while (done < size) {
		ssize_t n = pread(fd, buf + done, (size_t)(size - done), (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			return n < 0 ? -errno : -EIO;
		}
		done += (uint64_t)n;
	}
	*data = buf;
	return 0;
}

int read_whole_fd(int fd, uint64_t max, uint8_t **data, uint64_t *len)
{
	struct stat st;
	int ret;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return S_ISDIR(st.st_mode) ? -EISDIR : -ALCATRAZ_E_BADIMAGE;
	if ((uint64_t)st.st_size > max)
		return -EFBIG;
	ret = read_fd_size(fd, (uint64_t)st.st_size, data);
	if (!ret)
		*len = (uint64_t)st.st_size;
	return ret;
}

int read_whole_file(const char *path, uint64_t max, uint8_t **data, uint64_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return -errno;
	ret = read_whole_fd(fd, max, data, len);
	close(fd);
	return ret;
}

void vm_config_defaults(struct vm_config *vc)
{
	memset(vc, 0, sizeof(*vc));
	vc->kvm_fd = vc->image_fd = vc->kernel_fd = vc->initrd_fd = -1;
	vc->serial_fd = vc->log_fd = vc->stdin_fd = vc->stdout_fd = vc->stderr_fd = -1;
	vc->snap_state_fd = vc->snap_mem_fd = -1;
	vc->vcpus = 1;
}

void vm_config_close_files(struct vm_config *vc)
{
	int *fds[] = { &vc->kvm_fd, &vc->image_fd, &vc->kernel_fd, &vc->initrd_fd,
		       &vc->serial_fd, &vc->log_fd };

	for (size_t i = 0; i < ARRAY_SIZE(fds); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
	/* A zeroed configuration (restore unset) owns no snapshot files. */
	if (vc->restore) {
		if (vc->snap_state_fd >= 0)
			close(vc->snap_state_fd);
		if (vc->snap_mem_fd >= 0)
			close(vc->snap_mem_fd);
		vc->snap_state_fd = vc->snap_mem_fd = -1;
	}
}

int vm_config_read(int fd, const char *path, uint64_t max, uint8_t **data, uint64_t *len)
{
	if (fd >= 0)
		return read_whole_fd(fd, max, data, len);
	return path ? read_whole_file(path, max, data, len) : -EINVAL;
}

uint64_t vmm_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void vm_log(struct vm *vm, enum log_level lvl, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	char line[1024];
	va_list ap;
	int n;

	if (!vm || vm->cfg.log_fd < 0)
		return;
	n = snprintf(line, sizeof(line), "alcatraz: %s: ", names[lvl]);
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	/* Whole lines into the log's buffer (dropped, never waited for, when
	 * the sink is full): the device thread writes them out, or this thread
	 * does, without waiting, while no device thread runs. */
	pthread_mutex_lock(&vm->log_lock);
	if (vm->log_ob) {
		(void)outbuf_put_all(vm->log_ob, line, (size_t)n);
		if (!evloop_running(vm->evloop))
			(void)outbuf_drain(vm->log_ob);
	}
	pthread_mutex_unlock(&vm->log_lock);
}

int fcntl_dup_cloexec(int fd)
{
	return fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

/*
 * ALCATRAZ_TRACE_CREATE=1 in the VMM's environment (the library passes it
 * on): one stderr line per step of the create and start paths with the time
 * since the previous step and the page faults the process took in it (what
 * hardware pays for them differs from what an emulator does), for
 * measuring where a VM's start goes.  Off unless asked; stderr is the VM's
 * log.
 */
static bool trace_on;
static const char *trace_mode_name = "exec";

void vmm_trace_init(void)
{
	const char *v = getenv("ALCATRAZ_TRACE_CREATE");

	trace_on = v && !strcmp(v, "1");
}

void vmm_trace_mode(const char *mode)
{
	trace_mode_name = mode;
}

void vmm_trace_step(const char *step)
{
	static uint64_t last;
	static long last_faults;
	struct rusage ru;
	uint64_t now;
	long faults;

	if (!trace_on)
		return;
	now = vmm_now_ns();
	faults = getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_minflt + ru.ru_majflt : 0;
	if (last)
		fprintf(stderr, "alcatraz-vmm: debug: %s: %-18s %4ld faults %8.1f us\n",
			trace_mode_name, step, faults - last_faults, (double)(now - last) / 1e3);
	last = now;
	last_faults = faults;
}
