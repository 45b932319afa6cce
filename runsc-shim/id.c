#include "runsc-shim/id.h"

#include <errno.h>
#include <string.h>

static int id_char_ok(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || (c >= '+' && c <= '.');
}

int id_validate(const char *id)
{
	size_t n = strnlen(id, ID_MAX_LEN + 1);
	if (n == 0 || n > ID_MAX_LEN)
		return -EINVAL;
	if (!strcmp(id, ".") || !strcmp(id, ".."))
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!id_char_ok((unsigned char)id[i]))
			return -EINVAL;
	return 0;
}
