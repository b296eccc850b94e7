// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Which console device carries the command's stdio, and where its stderr
 * port is.  virtio-console announces ports asynchronously, so these wait
 * briefly rather than decide on the first look.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "init.h"

#define HVC_PATH "/dev/hvc0"

static bool has_virtio_console(void)
{
	DIR *d = opendir("/sys/bus/virtio/drivers/virtio_console");
	struct dirent *de;
	bool found = false;

	if (!d)
		return false;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, "virtio", 6))
			found = true;
	closedir(d);
	return found;
}

/*
 * Multiport virtio-console ports are announced asynchronously by the
 * device, so a port (or hvc0 itself) may show up a little after PID 1
 * starts.  Poll briefly instead of failing.
 */
static bool wait_for(bool (*ready)(void *), void *arg, int timeout_ms)
{
	for (int waited = 0;; waited += 5) {
		if (ready(arg))
			return true;
		if (waited >= timeout_ms)
			return false;
		usleep(5 * 1000);
	}
}

/*
 * The console can be opened. Its device node alone is not enough: with a
 * multiport device hvc0 is set up by the driver's control work while init
 * already runs, and the hvc layer creates the nodes of all its ttys before
 * it has the console's, whose open then fails with ENODEV for a moment.
 */
static bool console_opens(void *path)
{
	int fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return errno != ENOENT && errno != ENODEV && errno != ENXIO;
	close(fd);
	return true;
}

static bool find_port(void *out)
{
	char *dev = out, path[PATH_MAX], name[64];
	DIR *d = opendir("/sys/class/virtio-ports");
	struct dirent *de;
	bool found = false;

	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		int fd;
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/class/virtio-ports/%s/name", de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, name, sizeof(name) - 1);
		close(fd);
		if (n <= 0)
			continue;
		name[n] = '\0';
		name[strcspn(name, "\n")] = '\0';
		if (!strcmp(name, ALCATRAZ_CTL_STDERR_PORT_NAME)) {
			snprintf(dev, PATH_MAX, "/dev/%s", de->d_name);
			found = true;
		}
	}
	closedir(d);
	return found;
}

/* `dev` has room for PATH_MAX bytes. */
bool find_stderr_port(char *dev, int timeout_ms)
{
	return wait_for(find_port, dev, timeout_ms);
}

const char *pick_console(void)
{
	if (g.test)
		return g.console;
	if (has_virtio_console() && wait_for(console_opens, HVC_PATH, ANNOUNCED_WAIT_MS))
		return HVC_PATH;
	klog(4, "no virtio console, using /dev/console for the command");
	return "/dev/console";
}
