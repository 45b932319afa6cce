/* /proc/net/unix: the sandbox's unix sockets, in Linux's format
 * (unix_seq_show): kernel addresses are hidden as for an unprivileged
 * reader (%pK prints zeros), abstract names start with '@'. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sentry/net/unix/af_unix.h"
#include "sentry/net/unix/unix.h"

#define SO_ACCEPTCON 0x10000 /* __SO_ACCEPTCON */
enum { SS_UNCONNECTED_ = 1, SS_CONNECTING_, SS_CONNECTED_, SS_DISCONNECTING_ };

/* One line for u (gc lock held), into buf. */
static int line(struct unix_sock *u, char *buf, size_t cap)
{
	kmutex_lock(&u->lock);
	int refs = atomic_load(&u->refs);
	bool listening = u->state == US_LISTEN;
	bool connected = u->state == US_CONNECTED;
	struct unix_addr *a = u->addr;
	int ss = u->sock ? (connected ? SS_CONNECTED_ : SS_UNCONNECTED_)
			 : (connected ? SS_CONNECTING_ : SS_DISCONNECTING_);
	uint64_t ino = u->sock ? sock_ino(u->sock) : 0;
	int n = snprintf(buf, cap,
			 "0000000000000000: %08X %08X %08X %04X %02X %5llu",
			 refs, 0, listening ? SO_ACCEPTCON : 0, u->type, ss,
			 (unsigned long long)ino);
	if (a && n > 0 && (size_t)n < cap) {
		buf[n++] = ' ';
		size_t plen = a->len - sizeof(sa_family_t);
		const char *p = a->name.sun.sun_path;
		if (p[0]) {
			plen = strnlen(p, plen);
		}
		for (size_t i = 0; i < plen && (size_t)n + 1 < cap; i++)
			buf[n++] = p[i] ? p[i] : '@';
		buf[n] = 0;
	}
	kmutex_unlock(&u->lock);
	if (n > 0 && (size_t)n + 1 < cap) {
		buf[n++] = '\n';
		buf[n] = 0;
	}
	return n;
}

long unix_proc_net_unix(char **out)
{
	static const char head[] =
	    "Num       RefCount Protocol Flags    Type St Inode Path\n";
	/* A line is at most ~70 bytes and a 108-byte name. */
	enum { LINE_MAX_ = 200, FILE_MAX_ = 1 << 20 };
	size_t cap = 4096, len = 0;
	char *b = malloc(cap);
	if (!b)
		return -ENOMEM;
	memcpy(b, head, sizeof(head) - 1);
	len = sizeof(head) - 1;
	kmutex_lock(&unix_gc_lock);
	struct list_head *p;
	list_for_each(p, unix_all_socks())
	{
		if (cap - len < LINE_MAX_) {
			if (cap >= FILE_MAX_)
				break; /* bounded, as any /proc file here */
			char *nb = realloc(b, cap * 2);
			if (!nb)
				break;
			b = nb;
			cap *= 2;
		}
		struct unix_sock *u = list_entry(p, struct unix_sock, all_node);
		int n = line(u, b + len, cap - len);
		if (n > 0)
			len += (size_t)n;
	}
	kmutex_unlock(&unix_gc_lock);
	*out = b;
	return (long)len;
}
