// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * alcatraz-oci-pause: the main command of a container's VM. It only waits:
 * the container's own process runs as an exec beside it, and the VM ends
 * when the supervisor kills it. Static, so that it runs in any image.
 */
#include <signal.h>
#include <unistd.h>

int main(void)
{
	struct sigaction sa = { .sa_handler = SIG_IGN };

	/* A stray kill -1 in the guest must not end the VM under its container. */
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &sa, NULL);
	for (;;)
		pause();
}
