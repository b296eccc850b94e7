/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Networking, library side (issue 16). The library opens the backend before
 * the VMM exists and hands the VMM one descriptor (struct vm_config's
 * net_fd); the jailed VMM never creates sockets or opens devices.
 *
 * - user mode: passt (Debian package passt), one per VM, started here on one
 *   end of a socketpair (--fd), speaking the length-prefixed stream protocol
 *   on it. Outbound TCP/UDP and DNS go through the host's sockets; the
 *   guest's gateway address reaches the host's loopback (passt maps TCP
 *   connections to the gateway there); published ports are passt's -t/-u.
 *   passt confines itself (namespaces, seccomp, no capabilities, nobody's
 *   uid when started as root); the library adds an empty environment, a new
 *   session and no descriptor but its socket and log.
 * - tap: an existing tap device by name, attached with TUNSETIFF (no
 *   IFF_VNET_HDR: plain frames).
 *
 * The guest's addresses (user mode: fixed, slirp-like) reach alcatraz-init
 * as alcatraz.net=... on the kernel command line (src/guest/net.c).
 */
#ifndef ALCATRAZ_LIB_NET_H
#define ALCATRAZ_LIB_NET_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define NET_MAX_FORWARDS 32
#define NET_USER_GUEST_IP "10.0.2.15"
#define NET_USER_PREFIX 24
#define NET_USER_GATEWAY "10.0.2.2"  /* also host.alcatraz.internal */
#define NET_USER_DNS "10.0.2.3"      /* passt forwards it to the host's resolver */
#define NET_USER_MTU 65520
#define NET_CMDLINE_MAX 256
#define PASST_PATH "/usr/bin/passt"

/* NET_MODE_TEST_FD: test builds only, a stream socket the caller made
 * (alcatraz_test_config_set_net_fd, tests/hostile). */
enum net_mode { NET_MODE_NONE, NET_MODE_USER, NET_MODE_TAP, NET_MODE_TEST_FD };
enum net_proto { NET_PROTO_TCP, NET_PROTO_UDP };

struct net_forward {
	enum net_proto proto;
	char host_addr[46];      /* "" = every address (passt's default) */
	uint16_t host_port, guest_port;
};

struct net_config {
	enum net_mode mode;
	char tap_name[IFNAMSIZ];
	uint8_t mac[6];
	bool mac_set;
	/* Tap only (user mode has fixed ones): the guest's configuration, if any. */
	char ip[19];             /* "A.B.C.D/P" or "" */
	char gateway[16], dns[16];
	struct net_forward fwd[NET_MAX_FORWARDS];
	unsigned int nr_fwd;
	int test_fd;             /* NET_MODE_TEST_FD: the caller's, duplicated */
};

/* What net_open() opened for one VM. */
struct net_backend {
	int fd;                  /* for the VMM (vm_config.net_fd), or -1 */
	int kind;                /* VMM_NET_TAP or VMM_NET_STREAM */
	uint8_t mac[6];
	uint16_t mtu;            /* offered to the guest, 0: none */
	pid_t passt;             /* user mode's daemon, or 0 */
	char cmdline[NET_CMDLINE_MAX]; /* alcatraz.net=... for the guest, or "" */
};

/*
 * Parses "[HOSTADDR:]HOSTPORT:GUESTPORT[/tcp|/udp]" (docker run -p). 0, or
 * -EINVAL with a one-line reason in err.
 */
int net_forward_parse(const char *spec, struct net_forward *f, char *err, size_t errlen);
/* Parses "AA:BB:CC:DD:EE:FF" (a unicast address). 0 or -EINVAL. */
int net_mac_parse(const char *s, uint8_t mac[6]);
/*
 * Parses the --net argument: "none", "user" or
 * "tap=NAME[,mac=M][,ip=A/P][,gw=G][,dns=D]" into c (forwards untouched).
 * 0, or -EINVAL with a one-line reason in err.
 */
int net_mode_parse(const char *spec, struct net_config *c, char *err, size_t errlen);

/* passt's path: ALCATRAZ_PASST, else PASST_PATH. */
const char *passt_path(void);

/*
 * Opens c's backend (nothing for NET_MODE_NONE: b->fd = -1): starts passt or
 * attaches the tap. log_fd takes passt's messages (-1: discarded). 0, or
 * -errno with a one-line reason in err (the tap does not exist, passt is
 * missing or refused to start, a published port is in use); nothing is
 * left running or open on failure.
 */
int net_open(const struct net_config *c, int log_fd, struct net_backend *b, char *err,
	     size_t errlen);
/* Closes what net_open() left (the fd if still ours) and stops passt. */
void net_close(struct net_backend *b);

#endif
