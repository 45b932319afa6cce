/* devpts (Linux's fs/devpts): every mount is an instance of its own
 * ("newinstance"), with a ptmx node (5:2) whose opens make pty pairs and
 * one node per live pair, /dev/pts/<n> (136:n), which goes when the
 * master closes. /dev/ptmx (a char device 5:2 anywhere, or devfs's
 * symlink to pts/ptmx) opens the instance mounted beside it on "pts";
 * /dev/tty (5:0) opens the caller's controlling terminal. */
#ifndef BULKHEAD_FS_DEVPTS_H
#define BULKHEAD_FS_DEVPTS_H

#include "sentry/vfs/fstype.h"

struct file;
struct task;
struct tty;

/* Ptys in the whole sandbox (each holds ~36 KiB of queues). */
#define DEVPTS_PTYS_MAX 1024

extern const struct fs_type devpts_type;

/* The char devices 5:0 (tty) and 5:2 (ptmx). */
int devpts_init(void);
/* The master of tty closed: its node disappears. */
void devpts_pty_kill(struct tty *tty);
/* The pair is freed: its number may be reused. */
void devpts_index_release(void *devpts, int index);
/* Open tty's slave through its instance's mount (TIOCGPTPEER). */
int devpts_open_slave(struct task *t, struct tty *tty, int flags,
		      struct file **out);

#endif
