/* The console (process.terminal): the sentry's stdin and stdout are a
 * host terminal, in raw mode (the CLI's pty for --console-socket, or the
 * caller's own terminal for `run` in the foreground). The guest's init
 * gets the slave of a sentry pty instead, as its controlling terminal;
 * one sentry thread copies bytes between the host terminal and that
 * pty's master and carries the host's window size over. */
#ifndef BULKHEAD_TTY_CONSOLE_H
#define BULKHEAD_TTY_CONSOLE_H

#include <stdbool.h>

struct task;

/* At boot, for init (its fd table and fs made): install the console's
 * slave at fds 0-2 and start the bridge. Negative errno when there is no
 * console to make (the caller gives init the host's stdio instead). */
int console_setup(struct task *init);
/* Is a console bridged? */
bool console_active(void);
/* The host told the sentry its window changed (SIGWINCH). */
void console_winch(void);
/* Before the sentry exits: what the guest wrote reaches the host. */
void console_drain(void);

#endif
