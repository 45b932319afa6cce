/* Names and interfaces: getaddrinfo("localhost") (from /etc/hosts),
 * getaddrinfo with a numeric host, and the interface ioctls for lo. */
#include <arpa/inet.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "check.h"

static void test_getaddrinfo(void)
{
	struct addrinfo hints = {.ai_family = AF_INET,
				 .ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;
	int r = getaddrinfo("localhost", "80", &hints, &res);
	if (r)
		FAIL_AT("getaddrinfo(localhost): %s", gai_strerror(r));
	CHECK(res != NULL);
	struct sockaddr_in *sin = (struct sockaddr_in *)res->ai_addr;
	CHECK_EQ(res->ai_family, AF_INET);
	CHECK_EQ(sin->sin_addr.s_addr, htonl(INADDR_LOOPBACK));
	CHECK_EQ(ntohs(sin->sin_port), 80);
	freeaddrinfo(res);
	hints.ai_flags = AI_NUMERICHOST;
	CHECK_EQ(getaddrinfo("127.0.0.1", NULL, &hints, &res), 0);
	freeaddrinfo(res);
}

static void test_ifioctl(void)
{
	int s = SYS(socket(AF_INET, SOCK_DGRAM, 0));
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	SYS(ioctl(s, SIOCGIFFLAGS, &ifr));
	CHECK(ifr.ifr_flags & IFF_UP);
	CHECK(ifr.ifr_flags & IFF_LOOPBACK);
	SYS(ioctl(s, SIOCGIFINDEX, &ifr));
	int idx = ifr.ifr_ifindex;
	CHECK(idx > 0);
	CHECK_EQ((int)if_nametoindex("lo"), idx);
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_ifindex = idx;
	SYS(ioctl(s, SIOCGIFNAME, &ifr));
	CHECK_STR(ifr.ifr_name, "lo");
	SYS(ioctl(s, SIOCGIFADDR, &ifr));
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
	CHECK_EQ(sin->sin_family, AF_INET);
	CHECK_EQ(sin->sin_addr.s_addr, htonl(INADDR_LOOPBACK));
	SYS(ioctl(s, SIOCGIFNETMASK, &ifr));
	CHECK_EQ(sin->sin_addr.s_addr, htonl(0xff000000));
	SYS(ioctl(s, SIOCGIFMTU, &ifr));
	CHECK(ifr.ifr_mtu > 0);
	strcpy(ifr.ifr_name, "nosuchif0");
	CHECK_ERR(ioctl(s, SIOCGIFFLAGS, &ifr), ENODEV);
	/* SIOCGIFCONF: the size first, then the list, which has lo. */
	struct ifconf ifc = {.ifc_len = 0, .ifc_buf = NULL};
	SYS(ioctl(s, SIOCGIFCONF, &ifc));
	CHECK(ifc.ifc_len >= (int)sizeof(struct ifreq));
	struct ifreq list[64];
	ifc.ifc_len = sizeof(list);
	ifc.ifc_req = list;
	SYS(ioctl(s, SIOCGIFCONF, &ifc));
	int found = 0;
	for (int i = 0; i < ifc.ifc_len / (int)sizeof(struct ifreq); i++)
		if (!strcmp(list[i].ifr_name, "lo"))
			found++;
	CHECK_EQ(found, 1);
	/* A terminal ioctl means nothing on a socket. */
	char tio[64];
	CHECK_ERR(ioctl(s, 0x5401 /* TCGETS */, tio), ENOTTY);
	close(s);
}

int main(void)
{
	test_getaddrinfo();
	test_ifioctl();
	pass("inet_names");
	return 0;
}
