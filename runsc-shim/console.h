/* Host terminals for process.terminal: a new pty whose master goes to the
 * caller's console socket (runc's --console-socket, SCM_RIGHTS with the
 * pty's name as the message) while the sandbox gets its slave, or the
 * caller's own terminal, in raw mode while the container runs. The host
 * terminal stays raw: the sentry's own pty does the line discipline. */
#ifndef BULKHEAD_SHIM_CONSOLE_H
#define BULKHEAD_SHIM_CONSOLE_H

#include <stddef.h>
#include <termios.h>

/* A new host pty: the slave (raw, O_CLOEXEC) in *slave, its master sent
 * over the socket at path. 0, or -errno with one line in err. */
int console_socket_pty(const char *path, int *slave, char *err, size_t errlen);
/* Put terminal fd in raw mode, keeping its settings in *saved. */
int console_make_raw(int fd, struct termios *saved);
void console_restore(int fd, const struct termios *saved);

#endif
