/* /proc/net and /proc/sys/net show the namespace's real state: a socket
 * this program binds appears in /proc/net/tcp and udp, lo in dev, and the
 * sysctls parse. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "check.h"

static char *slurp(const char *path)
{
	static char buf[1 << 20];
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		FAIL_AT("open %s: %s", path, strerror(errno));
	ssize_t n = read_full(fd, buf, sizeof(buf) - 1);
	CHECK(n > 0);
	buf[n] = 0;
	close(fd);
	return buf;
}

int main(void)
{
	CHECK(strstr(slurp("/proc/net/dev"), " lo:") != NULL);
	CHECK(strstr(slurp("/proc/net/route"), "Iface") != NULL);
	CHECK(strstr(slurp("/proc/net/snmp"), "Tcp:") != NULL);

	int l = SYS(socket(AF_INET, SOCK_STREAM, 0));
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	SYS(bind(l, (struct sockaddr *)&a, sizeof(a)));
	SYS(listen(l, 1));
	socklen_t al = sizeof(a);
	SYS(getsockname(l, (struct sockaddr *)&a, &al));
	char want[64];
	snprintf(want, sizeof(want), "0100007F:%04X 00000000:0000 0A",
		 ntohs(a.sin_port));
	CHECK(strstr(slurp("/proc/net/tcp"), want) != NULL);
	close(l);
	/* Re-read after the change: gone. */
	CHECK(strstr(slurp("/proc/net/tcp"), want) == NULL);

	int u = SYS(socket(AF_INET, SOCK_DGRAM, 0));
	a.sin_port = 0;
	SYS(bind(u, (struct sockaddr *)&a, sizeof(a)));
	al = sizeof(a);
	SYS(getsockname(u, (struct sockaddr *)&a, &al));
	snprintf(want, sizeof(want), "0100007F:%04X", ntohs(a.sin_port));
	CHECK(strstr(slurp("/proc/net/udp"), want) != NULL);
	close(u);

	int fd = open("/proc/net/if_inet6", O_RDONLY);
	if (fd >= 0) {
		close(fd);
		char *s = slurp("/proc/net/if_inet6");
		if (*s)
			CHECK(strstr(s, "lo") != NULL);
		slurp("/proc/net/tcp6");
	}

	int v = atoi(slurp("/proc/sys/net/core/somaxconn"));
	CHECK(v > 0);
	int lo = 0, hi = 0;
	CHECK_EQ(sscanf(slurp("/proc/sys/net/ipv4/ip_local_port_range"),
			"%d %d", &lo, &hi),
		 2);
	CHECK(lo > 0 && lo <= hi && hi < 65536);
	pass("procnet");
	return 0;
}
