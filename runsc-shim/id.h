/* Container IDs, validated as runc does: they name a directory under --root
 * and appear in socket paths, so nothing else may get through. */
#ifndef SHIM_ID_H
#define SHIM_ID_H

#define ID_MAX_LEN 1024

/* 0 if id matches ^[\w+-\.]+$ (runc's pattern; the class range "+-." also
 * admits ','), is not "." or "..", and is at most ID_MAX_LEN bytes; else
 * -EINVAL. */
int id_validate(const char *id);

#endif
