// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Description: the library's network backends (src/lib/net.c): --publish
 * and --net parsing with one-line errors, a missing tap device or passt, a
 * published port already in use all refused before anything runs; passt
 * started on a socketpair answers ARP for the gateway in the stream
 * protocol, and a connection to a published host port reaches the guest
 * side as a TCP SYN to the guest port. The passt checks skip (77 for the
 * whole program is not used: they pass trivially) without /usr/bin/passt.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_main.h"
#include "net.h"
#include "vmm.h"

#define WAIT_MS 5000

static char err[256];

START_TEST(publish_specs)
{
	struct net_forward f;

	ck_assert_int_eq(net_forward_parse("8080:80", &f, err, sizeof(err)), 0);
	ck_assert_uint_eq(f.host_port, 8080);
	ck_assert_uint_eq(f.guest_port, 80);
	ck_assert_int_eq(f.proto, NET_PROTO_TCP);
	ck_assert_str_eq(f.host_addr, "");
	ck_assert_int_eq(net_forward_parse("127.0.0.1:5353:53/udp", &f, err, sizeof(err)), 0);
	ck_assert_str_eq(f.host_addr, "127.0.0.1");
	ck_assert_uint_eq(f.host_port, 5353);
	ck_assert_int_eq(f.proto, NET_PROTO_UDP);
	ck_assert_int_eq(net_forward_parse("1:65535/tcp", &f, err, sizeof(err)), 0);

	static const char *const bad[] = { "80", "0:80", "80:65536", "x:80", "80:", ":80",
					   "80:80/sctp", "1.2.3:80:80", "::80:80", "80:80/",
					   "a:b:c:d", "8080:80 ", "-1:80", "" };
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_msg(net_forward_parse(bad[i], &f, err, sizeof(err)) == -EINVAL,
			      "'%s' accepted", bad[i]);
		ck_assert_ptr_nonnull(strstr(err, "--publish"));
		ck_assert_ptr_null(strchr(err, '\n'));
	}
}
END_TEST

START_TEST(net_specs)
{
	struct net_config c = { 0 };

	ck_assert_int_eq(net_mode_parse("none", &c, err, sizeof(err)), 0);
	ck_assert_int_eq(c.mode, NET_MODE_NONE);
	ck_assert_int_eq(net_mode_parse("user", &c, err, sizeof(err)), 0);
	ck_assert_int_eq(c.mode, NET_MODE_USER);
	ck_assert_int_eq(net_mode_parse("tap=tap0,mac=02:00:00:00:00:07,ip=10.1.0.2/24,gw=10.1.0.1",
					&c, err, sizeof(err)), 0);
	ck_assert_int_eq(c.mode, NET_MODE_TAP);
	ck_assert_str_eq(c.tap_name, "tap0");
	ck_assert(c.mac_set);
	ck_assert_uint_eq(c.mac[5], 7);
	ck_assert_str_eq(c.ip, "10.1.0.2/24");
	ck_assert_str_eq(c.gateway, "10.1.0.1");

	static const char *const bad[] = { "", "tap", "tap=", "tap=x,mac=01:00:00:00:00:01",
					   "tap=x,ip=10.0.0.1", "tap=x,ip=10.0.0.1/33",
					   "tap=x,gw=10.0.0.1", "tap=x,foo=1", "tap=x,mac",
					   "tap=aaaaaaaaaaaaaaaaaaaa", "bridge" };
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_msg(net_mode_parse(bad[i], &c, err, sizeof(err)) == -EINVAL,
			      "'%s' accepted", bad[i]);
		ck_assert_ptr_nonnull(strstr(err, "--net"));
	}
}
END_TEST

START_TEST(missing_tap_refused)
{
	struct net_config c = { 0 };
	struct net_backend b;

	ck_assert_int_eq(net_mode_parse("tap=alcatraz-nope0", &c, err, sizeof(err)), 0);
	ck_assert_int_eq(net_open(&c, -1, &b, err, sizeof(err)), -ENODEV);
	ck_assert_str_eq(err, "tap device 'alcatraz-nope0' does not exist");
	ck_assert_int_eq(b.fd, -1);
	/* lo exists and is no tap. */
	ck_assert_int_eq(net_mode_parse("tap=lo", &c, err, sizeof(err)), 0);
	ck_assert_int_eq(net_open(&c, -1, &b, err, sizeof(err)), -ENODEV);
	ck_assert_str_eq(err, "'lo' is not a tap device");
}
END_TEST

START_TEST(missing_passt_refused)
{
	struct net_config c = { .mode = NET_MODE_USER };
	struct net_backend b;

	setenv("ALCATRAZ_PASST", "/nonexistent/passt", 1);
	ck_assert_int_eq(net_open(&c, -1, &b, err, sizeof(err)), -ENOENT);
	unsetenv("ALCATRAZ_PASST");
	ck_assert_ptr_nonnull(strstr(err, "Debian package passt"));
	ck_assert_int_eq(b.fd, -1);
	ck_assert_int_eq(b.passt, 0);
}
END_TEST

static bool have_passt(void)
{
	return access(PASST_PATH, X_OK) == 0;
}

/* A listening TCP socket on 127.0.0.1 at a free port; returns the port. */
static uint16_t listen_any(int *fd)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);

	*fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(*fd, 0);
	ck_assert_int_eq(bind(*fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(*fd, 1), 0);
	ck_assert_int_eq(getsockname(*fd, (struct sockaddr *)&sa, &len), 0);
	return ntohs(sa.sin_port);
}

START_TEST(published_port_in_use_refused)
{
	struct net_config c = { .mode = NET_MODE_USER, .nr_fwd = 1 };
	struct net_backend b;
	char want[128];
	int l;
	uint16_t port = listen_any(&l);

	if (!have_passt())
		return;
	snprintf(want, sizeof(want), "127.0.0.1:%u:80", port);
	ck_assert_int_eq(net_forward_parse(want, &c.fwd[0], err, sizeof(err)), 0);
	ck_assert_int_eq(net_open(&c, -1, &b, err, sizeof(err)), -EADDRINUSE);
	snprintf(want, sizeof(want), "published port 127.0.0.1:%u/tcp: already in use", port);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(b.passt, 0);
	close(l);
}
END_TEST

/* Length and frame in one write, as the VMM sends them (virtio/net.c):
 * passt drops a frame whose length it reads apart from the frame. */
static void send_frame(int fd, const uint8_t *f, uint32_t len)
{
	uint8_t buf[4 + 128];
	uint32_t be = htonl(len);

	ck_assert_uint_le(len, sizeof(buf) - 4);
	memcpy(buf, &be, 4);
	memcpy(buf + 4, f, len);
	ck_assert_int_eq(write(fd, buf, 4 + len), (ssize_t)(4 + len));
}

/* The next frame from passt, which must come within WAIT_MS (what: which). */
static uint32_t recv_frame(int fd, uint8_t *f, uint32_t cap, const char *what)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint32_t be, len;

	ck_assert_msg(poll(&p, 1, WAIT_MS) == 1, "no frame from passt within %d ms: %s", WAIT_MS, what);
	ck_assert_int_eq(recv(fd, &be, 4, MSG_WAITALL), 4);
	len = ntohl(be);
	ck_assert_uint_le(len, cap);
	ck_assert_int_eq(recv(fd, f, len, MSG_WAITALL), (ssize_t)len);
	return len;
}

static const uint8_t guest_mac[6] = { 0x02, 0xa1, 0xca, 0, 0, 1 };

/* Who has the gateway? From the guest's address. */
static void send_arp(int fd)
{
	uint8_t f[42] = { 0 };
	struct in_addr me, gw;

	inet_pton(AF_INET, NET_USER_GUEST_IP, &me);
	inet_pton(AF_INET, NET_USER_GATEWAY, &gw);
	memset(f, 0xff, 6);
	memcpy(f + 6, guest_mac, 6);
	f[12] = 0x08, f[13] = 0x06;
	f[14] = 0, f[15] = 1, f[16] = 0x08, f[17] = 0, f[18] = 6, f[19] = 4, f[20] = 0, f[21] = 1;
	memcpy(f + 22, guest_mac, 6);
	memcpy(f + 28, &me, 4);
	memcpy(f + 38, &gw, 4);
	send_frame(fd, f, sizeof(f));
}

START_TEST(passt_answers_arp_and_forwards)
{
	struct net_config c = { .mode = NET_MODE_USER, .nr_fwd = 1 };
	struct net_backend b;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	uint8_t f[70000];
	char spec[64];
	int l, cl, st;
	uint16_t port;
	bool syn = false;

	if (!have_passt())
		return;
	port = listen_any(&l);
	close(l); /* free again: published below */
	snprintf(spec, sizeof(spec), "127.0.0.1:%u:80", port);
	ck_assert_int_eq(net_forward_parse(spec, &c.fwd[0], err, sizeof(err)), 0);
	ck_assert_msg(net_open(&c, -1, &b, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_ge(b.fd, 0);
	ck_assert_int_eq(b.kind, NET_BACKEND_STREAM);
	ck_assert_int_gt(b.passt, 0);
	ck_assert_uint_eq(b.mac[0] & 3, 2); /* local, unicast */
	ck_assert_str_eq(b.cmdline, "alcatraz.net=ip=10.0.2.15/24,gw=10.0.2.2,dns=10.0.2.3,"
				    "mtu=65520,host=10.0.2.2");

	send_arp(b.fd);
	ck_assert_uint_ge(recv_frame(b.fd, f, sizeof(f), "the ARP reply"), 42);
	ck_assert_mem_eq(f, guest_mac, 6);          /* to us */
	ck_assert_uint_eq(f[12] << 8 | f[13], 0x0806);
	ck_assert_uint_eq(f[21], 2);                /* a reply */

	/* A client on the host's published port: passt opens the connection
	 * towards the guest's port 80. */
	sa.sin_port = htons(port);
	cl = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	ck_assert_int_ge(cl, 0);
	(void)connect(cl, (struct sockaddr *)&sa, sizeof(sa));
	for (int i = 0; i < 8 && !syn; i++) {
		uint32_t n = recv_frame(b.fd, f, sizeof(f), "the SYN towards port 80");
		if (n >= 54 && f[12] == 0x08 && f[13] == 0 && f[23] == 6) {
			unsigned int ihl = (f[14] & 15) * 4u;
			const uint8_t *tcp = f + 14 + ihl;
			syn = (tcp[2] << 8 | tcp[3]) == 80 && (tcp[13] & 0x02);
		}
	}
	ck_assert_msg(syn, "no SYN to the guest's port 80");
	close(cl);

	pid_t pid = b.passt;
	net_close(&b);
	ck_assert_int_eq(b.fd, -1);
	ck_assert_int_eq(waitpid(pid, &st, WNOHANG), -1); /* reaped */
}
END_TEST

int main(void)
{
	Suite *s = suite_create("libnet");
	TCase *tc = tcase_create("libnet");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, publish_specs);
	tcase_add_test(tc, net_specs);
	tcase_add_test(tc, missing_tap_refused);
	tcase_add_test(tc, missing_passt_refused);
	tcase_add_test(tc, published_port_in_use_refused);
	tcase_add_test(tc, passt_answers_arp_and_forwards);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
