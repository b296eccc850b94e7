/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Volumes: host directories shared with a guest over virtio-fs. The library
 * checks each one, starts one virtiofsd per volume and hands the VMM the
 * vhost-user socket (the VMM never sees a host path).
 *
 * virtiofsd is Debian 12's, from qemu-system-common: /usr/lib/qemu/virtiofsd
 * (QEMU 7.2's C daemon; the Rust one at /usr/libexec/virtiofsd is taken when
 * that is what exists; ALCATRAZ_VIRTIOFSD overrides both). It confines itself:
 * new mount, PID and network namespaces with the shared directory as its
 * root (-o sandbox=namespace), its own seccomp list and capability set. The
 * library adds what it cannot: a read-only volume is a read-only recursive
 * bind mount in a mount namespace of its own, so the daemon cannot write it
 * whatever the guest asks; no descriptor but its socket and log survives
 * into it, its environment is empty.
 */
#ifndef ALCATRAZ_LIB_VOLUME_H
#define ALCATRAZ_LIB_VOLUME_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define VOLUME_GUEST_PATH_MAX 256
#define VIRTIOFSD_DEBIAN "/usr/lib/qemu/virtiofsd"
#define VIRTIOFSD_RUST "/usr/libexec/virtiofsd"

struct volume {
	char *host_dir;     /* canonical (realpath) */
	char *guest_path;   /* normalised; "/" = the guest's root */
	bool readonly;
};

/*
 * Parses the command line's HOSTDIR:GUESTDIR[:ro|:rw] into v (strings
 * allocated). 0, or -EINVAL with a one-line reason in err.
 */
int volume_parse(const char *spec, struct volume *v, char *err, size_t errlen);
/*
 * Checks host_dir (an existing directory: it becomes its realpath) and
 * guest_path (absolute, no "." or ".." component, at most
 * VOLUME_GUEST_PATH_MAX bytes, "/" only when root_ok). 0 or -errno with a
 * one-line reason in err.
 */
int volume_check(struct volume *v, bool root_ok, char *err, size_t errlen);
void volume_free(struct volume *v);

/* The virtiofsd to run: ALCATRAZ_VIRTIOFSD, else the first that exists. */
const char *virtiofsd_path(void);

/*
 * Starts virtiofsd sharing v->host_dir. *sock receives the connected
 * vhost-user socket for the VMM, *pid the daemon (virtiofsd_stop reaps it;
 * it also exits by itself when the VMM closes the socket). pid NULL: the
 * daemon is detached (init reaps it; it ends with the socket). log_fd takes
 * its messages (-1: discarded). 0 or -errno with a one-line reason in err.
 */
int virtiofsd_start(const struct volume *v, int log_fd, int *sock, pid_t *pid, char *err,
		    size_t errlen);
/* Kills (if still running) and reaps the daemon. */
void virtiofsd_stop(pid_t pid);

/* A VM's volumes, each with its running daemon. */
#define VOLUME_TAG_MAX 36
struct volume_daemon {
	int sock;                       /* for the VMM (struct vm_volume's sock_fd) */
	pid_t pid;
	char tag[VOLUME_TAG_MAX + 1];   /* "root" for "/", else "vol<N>" */
};
/* Starts one virtiofsd per volume (checked already); on failure stops the
 * ones it started. */
int volumes_start(const struct volume *v, unsigned int n, int log_fd, struct volume_daemon *out,
		  char *err, size_t errlen);
/* Closes the sockets not handed over (sock >= 0) and stops every daemon. */
void volumes_stop(struct volume_daemon *d, unsigned int n);

struct alcatraz_config;
/* alcatraz_config_free's part: the volume list. */
void volume_config_free(struct alcatraz_config *cfg);
/* The volume on "/" (the guest's root over virtio-fs), or NULL. */
const struct volume *volume_root(const struct alcatraz_config *cfg);

#endif
