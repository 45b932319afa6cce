/* Bounded encoder/decoder for the sentry <-> gofer protocol. Every read is
 * checked against the bytes actually received; errors are sticky so that a
 * handler may decode a whole request and check b->err once. */
#include "bulkhead/gofer_proto.h"

#include <errno.h>
#include <string.h>

void gp_buf_init(struct gp_buf *b, void *data, size_t cap)
{
	b->data = data;
	b->cap = cap;
	b->len = 0;
	b->off = 0;
	b->err = 0;
}

void gp_buf_view(struct gp_buf *b, const void *data, size_t len)
{
	/* The decoder never writes through data; the cast only reuses the
	 * struct for both directions. */
	b->data = (uint8_t *)data;
	b->cap = len;
	b->len = len;
	b->off = 0;
	b->err = 0;
}

void gp_begin(struct gp_buf *b, uint16_t op, uint32_t tag, int32_t err)
{
	struct gp_hdr h = {
	    .len = 0, .op = op, .flags = 0, .tag = tag, .err = err};
	b->len = 0;
	b->off = 0;
	b->err = 0;
	gp_put(b, &h, sizeof(h));
}

void gp_put(struct gp_buf *b, const void *p, size_t n)
{
	if (b->err)
		return;
	if (n > b->cap - b->len) {
		b->err = -EMSGSIZE;
		return;
	}
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
}

void gp_put_str(struct gp_buf *b, const char *s, size_t n)
{
	if (b->err)
		return;
	if (n > UINT16_MAX || n > GP_PATH_MAX) {
		b->err = -EMSGSIZE;
		return;
	}
	if (2 + n > b->cap - b->len) {
		b->err = -EMSGSIZE;
		return;
	}
	uint16_t l = (uint16_t)n;
	gp_put(b, &l, sizeof(l));
	gp_put(b, s, n);
}

long gp_finish(struct gp_buf *b)
{
	if (b->err)
		return b->err;
	if (b->len < sizeof(struct gp_hdr) || b->len > GP_MSG_MAX) {
		b->err = -EMSGSIZE;
		return b->err;
	}
	uint32_t len = (uint32_t)b->len;
	memcpy(b->data + offsetof(struct gp_hdr, len), &len, sizeof(len));
	return (long)b->len;
}

int gp_get_hdr(struct gp_buf *b, struct gp_hdr *h)
{
	b->off = 0;
	memset(h, 0, sizeof(*h));
	if (b->len < sizeof(*h) || b->len > GP_MSG_MAX) {
		b->err = -EPROTO;
		return b->err;
	}
	memcpy(h, b->data, sizeof(*h));
	if (h->len != b->len || h->op == 0 || h->op >= GP_OP_MAX) {
		b->err = -EPROTO;
		return b->err;
	}
	b->off = sizeof(*h);
	b->err = 0;
	return 0;
}

void gp_get(struct gp_buf *b, void *p, size_t n)
{
	if (b->err || n > b->len - b->off) {
		if (!b->err)
			b->err = -EPROTO;
		memset(p, 0, n);
		return;
	}
	memcpy(p, b->data + b->off, n);
	b->off += n;
}

void gp_get_str(struct gp_buf *b, char *out, size_t cap, size_t maxlen)
{
	uint16_t l = 0;
	if (cap)
		out[0] = '\0';
	if (b->err)
		return;
	if (sizeof(l) > b->len - b->off) {
		b->err = -EPROTO;
		return;
	}
	memcpy(&l, b->data + b->off, sizeof(l));
	if (l > b->len - b->off - sizeof(l)) {
		b->err = -EPROTO;
		return;
	}
	if (cap == 0 || l > cap - 1 || l > maxlen) {
		b->err = -ENAMETOOLONG;
		return;
	}
	const uint8_t *s = b->data + b->off + sizeof(l);
	/* An embedded NUL would silently shorten the string the receiver
	 * acts on ("a\0/../x" seen as "a"): refuse it outright. */
	if (memchr(s, '\0', l)) {
		b->err = -EPROTO;
		return;
	}
	memcpy(out, s, l);
	out[l] = '\0';
	b->off += sizeof(l) + l;
}

int gp_name_valid(const char *name)
{
	size_t n = strnlen(name, GP_NAME_MAX + 1);
	if (n == 0 || n > GP_NAME_MAX)
		return 0;
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return 0;
	return memchr(name, '/', n) == NULL;
}
