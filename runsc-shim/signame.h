/* Signal arguments of `bulkhead kill`: a number, "KILL" or "SIGKILL". */
#ifndef SHIM_SIGNAME_H
#define SHIM_SIGNAME_H

/* The signal number, or -EINVAL. */
int signame_parse(const char *s);

#endif
