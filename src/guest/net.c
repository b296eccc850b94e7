// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The network, when the VMM gives the VM one: eth0 configured statically
 * from the kernel command line (no DHCP client in the guest), and the name
 * files the command's resolver reads.
 *
 *   alcatraz.net=ip=A.B.C.D/P[,gw=G][,dns=D][,mtu=M][,host=H]
 *
 * host= is the address that reaches the host's loopback (user-mode
 * networking maps its gateway there); it becomes host.alcatraz.internal in
 * /etc/hosts. resolv.conf and hosts are written under /run/alcatraz and
 * bind-mounted over /etc's (as container runtimes do), so a root disk's own
 * files are never changed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <net/route.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "init.h"

#define NET_IFNAME "eth0"
#define HOST_NAME "host.alcatraz.internal"
#define RUN_DIR "/run/alcatraz"
#define HOSTS_MAX 65536
#define MTU_MIN 68
#define MTU_MAX 65535

struct net_params {
	struct in_addr ip, gw, dns, host;
	unsigned int prefix, mtu;
	bool have_gw, have_dns, have_host;
};

static bool parse_addr(const char *s, struct in_addr *a)
{
	return inet_pton(AF_INET, s, a) == 1;
}

static bool parse_uint(const char *s, unsigned int min, unsigned int max, unsigned int *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = (unsigned int)v;
	return true;
}

/* Fills p from "ip=A/P,gw=G,..."; false (p partly filled) on any error. */
static bool parse_params(char *val, struct net_params *p)
{
	bool have_ip = false;
	char *save = NULL;

	memset(p, 0, sizeof(*p));
	for (char *kv = strtok_r(val, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		char *v = strchr(kv, '=');
		if (!v)
			return false;
		*v++ = '\0';
		if (!strcmp(kv, "ip")) {
			char *slash = strchr(v, '/');
			if (!slash)
				return false;
			*slash = '\0';
			have_ip = parse_addr(v, &p->ip) && parse_uint(slash + 1, 1, 32, &p->prefix);
			if (!have_ip)
				return false;
		} else if (!strcmp(kv, "gw")) {
			if (!(p->have_gw = parse_addr(v, &p->gw)))
				return false;
		} else if (!strcmp(kv, "dns")) {
			if (!(p->have_dns = parse_addr(v, &p->dns)))
				return false;
		} else if (!strcmp(kv, "host")) {
			if (!(p->have_host = parse_addr(v, &p->host)))
				return false;
		} else if (!strcmp(kv, "mtu")) {
			if (!parse_uint(v, MTU_MIN, MTU_MAX, &p->mtu))
				return false;
		} else {
			return false;
		}
	}
	return have_ip;
}

static void set_sin(struct sockaddr *sa, struct in_addr a)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr = a };

	memcpy(sa, &sin, sizeof(sin));
}

static int if_ioctl(int fd, unsigned long req, struct ifreq *ifr, const char *what)
{
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", NET_IFNAME);
	if (ioctl(fd, req, ifr) < 0) {
		klog(3, "network: %s on " NET_IFNAME ": %s", what, strerror(errno));
		return -errno;
	}
	return 0;
}

static void write_proc(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write_full(fd, val, strlen(val)) < 0)
		klog(4, "network: %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
}

static int configure_link(const struct net_params *p)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct in_addr mask = { htonl(p->prefix == 32 ? ~0u : ~(~0u >> p->prefix)) };
	struct ifreq ifr = { 0 };
	int r;

	if (fd < 0) {
		klog(3, "network: socket: %s", strerror(errno));
		return -errno;
	}
	if (p->mtu) {
		ifr.ifr_mtu = (int)p->mtu;
		if ((r = if_ioctl(fd, SIOCSIFMTU, &ifr, "setting the MTU")))
			goto out;
	}
	set_sin(&ifr.ifr_addr, p->ip);
	if ((r = if_ioctl(fd, SIOCSIFADDR, &ifr, "setting the address")))
		goto out;
	set_sin(&ifr.ifr_netmask, mask);
	if ((r = if_ioctl(fd, SIOCSIFNETMASK, &ifr, "setting the netmask")))
		goto out;
	/* A gratuitous ARP when the link comes up: user-mode networking
	 * learns the guest's MAC from its first frame, and a guest that only
	 * serves published ports might otherwise never send one. */
	write_proc("/proc/sys/net/ipv4/conf/" NET_IFNAME "/arp_notify", "1\n");
	if ((r = if_ioctl(fd, SIOCGIFFLAGS, &ifr, "reading the flags")))
		goto out;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if ((r = if_ioctl(fd, SIOCSIFFLAGS, &ifr, "bringing it up")))
		goto out;
	if (p->have_gw) {
		struct rtentry rt = { .rt_flags = RTF_UP | RTF_GATEWAY, .rt_dev = NET_IFNAME };
		set_sin(&rt.rt_dst, (struct in_addr){ 0 });
		set_sin(&rt.rt_genmask, (struct in_addr){ 0 });
		set_sin(&rt.rt_gateway, p->gw);
		if (ioctl(fd, SIOCADDRT, &rt) < 0 && errno != EEXIST) {
			r = -errno;
			klog(3, "network: default route via the gateway: %s", strerror(errno));
		}
	}
out:
	close(fd);
	return r;
}

/* Writes len bytes to RUN_DIR/name and mounts that file over /etc/name. */
static void install_file(const char *name, const char *data, size_t len)
{
	char run[64], etc[64];
	int fd;

	snprintf(run, sizeof(run), RUN_DIR "/%s", name);
	snprintf(etc, sizeof(etc), "/etc/%s", name);
	fd = open(run, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write_full(fd, data, len) < 0) {
		klog(3, "network: writing %s: %s", run, strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	close(fd);
	/* The mount point must exist: create it where /etc is writable (an
	 * initramfs); a dangling symlink (systemd-resolved's) is replaced. */
	mkdir("/etc", 0755);
	fd = open(etc, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0 && errno == ELOOP && unlink(etc) == 0)
		fd = open(etc, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd >= 0)
		close(fd);
	if (mount(run, etc, NULL, MS_BIND, NULL) < 0)
		klog(3, "network: mounting %s on %s: %s", run, etc, strerror(errno));
}

/* /etc/hosts as the image has it (or a localhost line), plus the host's name. */
static void write_hosts(const struct net_params *p)
{
	static char buf[HOSTS_MAX + 128];
	size_t len = 0;
	int fd = open("/etc/hosts", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		ssize_t n;
		while (len < HOSTS_MAX && (n = read(fd, buf + len, HOSTS_MAX - len)) > 0)
			len += (size_t)n;
		close(fd);
	}
	if (len == 0)
		len = (size_t)snprintf(buf, sizeof(buf), "127.0.0.1\tlocalhost\n");
	else if (buf[len - 1] != '\n')
		buf[len++] = '\n';
	if (p->have_host) {
		char a[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &p->host, a, sizeof(a));
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s\t" HOST_NAME "\n", a);
	}
	install_file("hosts", buf, len);
}

static void write_resolv(const struct net_params *p)
{
	char buf[64], a[INET_ADDRSTRLEN];
	int len;

	inet_ntop(AF_INET, &p->dns, a, sizeof(a));
	len = snprintf(buf, sizeof(buf), "nameserver %s\n", a);
	install_file("resolv.conf", buf, (size_t)len);
}

/* The boot's configuration, applied again with a clone's new MAC. */
static struct net_params boot_params;
static bool configured;

void net_setup(void)
{
	char val[256], copy[256];
	struct net_params p;

	if (!cmdline_get("alcatraz.net", val, sizeof(val)))
		return;
	snprintf(copy, sizeof(copy), "%s", val);
	if (!parse_params(copy, &p)) {
		klog(3, "network: alcatraz.net=%s: expected ip=A.B.C.D/P[,gw=G][,dns=D]"
		     "[,mtu=M][,host=H]", val);
		return;
	}
	if (configure_link(&p))
		return;
	boot_params = p;
	configured = true;
	if (mkdir(RUN_DIR, 0755) < 0 && errno != EEXIST) {
		klog(3, "network: creating " RUN_DIR ": %s", strerror(errno));
		return;
	}
	if (p.have_dns)
		write_resolv(&p);
	write_hosts(&p);
	dbg("network: " NET_IFNAME " configured (%s)", val);
}

/*
 * NET_IDENTITY: this VM is a clone restored from a snapshot, with a new MAC
 * in virtio-net's config (the driver read the old one at probe). The link
 * goes down (its routes and neighbours go with it), takes the MAC, and
 * comes up with the boot's address and route; coming up sends a gratuitous
 * ARP, so the clone's new backend learns the MAC at once. -1: a malformed
 * record (a protocol error).
 */
int net_identity(const uint8_t *p, uint32_t len)
{
	uint8_t mac[ALCATRAZ_CTL_MAC_LEN];
	struct ifreq ifr = { 0 };
	int fd;

	if (alcatraz_ctl_net_identity_decode(p, len, mac))
		return -1;
	if (!configured) {
		klog(4, "network: a new MAC for a network this VM did not configure");
		return 0;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		klog(3, "network: socket: %s", strerror(errno));
		return 0;
	}
	if (!if_ioctl(fd, SIOCGIFFLAGS, &ifr, "reading the flags")) {
		ifr.ifr_flags &= (short)~IFF_UP;
		if (!if_ioctl(fd, SIOCSIFFLAGS, &ifr, "taking it down")) {
			ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
			memcpy(ifr.ifr_hwaddr.sa_data, mac, sizeof(mac));
			if (!if_ioctl(fd, SIOCSIFHWADDR, &ifr, "setting the MAC"))
				klog(6, "network: " NET_IFNAME " has a new MAC "
				     "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
				     mac[4], mac[5]);
		}
	}
	close(fd);
	/* Up again even when the MAC could not be set: the old one still
	 * works with the new backend, which learns it from the guest's frames. */
	configure_link(&boot_params);
	return 0;
}
