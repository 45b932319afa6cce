/* The console bridge. One thread waits (poll) on the host terminal and on
 * an eventfd that an entry on the master's wait queue kicks, and moves
 * bytes with non-blocking reads and writes of the master, so it never
 * sleeps inside the tty. The host terminal is raw: the sentry's line
 * discipline does the editing, echo and signals. The host window size is
 * read on SIGWINCH (the caller's terminal sends it to the sentry, which is
 * in its foreground group) and at least every 250 ms (a --console-socket
 * pty nobody has as controlling terminal sends none). When the host side
 * goes (EOF or EIO), the master is closed: the guest's terminal hangs up,
 * as a pty's does when its master closes. */
#include "sentry/tty/console.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "bulkhead/log.h"
#include "sentry/fs/devpts/devpts.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/uio.h"
#include "sentry/tty/tty.h"
#include "sentry/vfs/fs.h"

#define CONSOLE_IN	 0
#define CONSOLE_OUT	 1
#define CONSOLE_POLL_MS	 250
#define CONSOLE_DRAIN_MS 2000

struct console {
	struct file *master; /* the bridge's, until the host side goes */
	struct tty *tty;     /* a reference */
	int evfd;
	struct wait_entry we; /* on tty->master_wq */
	/* Guest output: a chunk read from the master is written to the
	 * host under it, so the bridge and console_drain keep the order. */
	struct kmutex out_lock;
	bool out_done;	   /* out_lock: the guest side closed, or the host's */
	struct winsize ws; /* the bridge thread's */
};

static struct console *con;
static _Atomic bool con_active;

static bool console_wake(struct wait_entry *e, uint32_t events, int depth)
{
	(void)events, (void)depth;
	struct console *c = e->priv;
	uint64_t one = 1;
	/* An eventfd write never blocks here (the counter is far from
	 * full): the queue's lock is held for a moment only. */
	ssize_t r = write(c->evfd, &one, sizeof(one));
	(void)r;
	return true;
}

static int write_all(int fd, const char *buf, size_t n)
{
	while (n) {
		ssize_t r = write(fd, buf, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		buf += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Guest output to the host, until the master has nothing more now.
 * Returns false once the guest side is gone. */
static bool pump_out(struct console *c)
{
	char buf[4096];
	kmutex_lock(&c->out_lock);
	while (!c->out_done) {
		struct uio u;
		uio_init_kernel(&u, buf, sizeof(buf));
		u.flags = UIO_NOWAIT;
		ssize_t n = c->master->fops->read(c->master, &u, NULL);
		if (n == -EAGAIN)
			break;
		if (n <= 0 || write_all(CONSOLE_OUT, buf, (size_t)n) < 0)
			c->out_done = true;
	}
	bool more = !c->out_done;
	kmutex_unlock(&c->out_lock);
	return more;
}

static void resize(struct console *c)
{
	struct winsize ws;
	if (ioctl(CONSOLE_IN, TIOCGWINSZ, &ws) < 0 ||
	    !memcmp(&ws, &c->ws, sizeof(ws)))
		return;
	c->ws = ws;
	tty_set_winsize(c->tty, &ws);
}

static void *console_main(void *arg)
{
	struct console *c = arg;
	char in[4096];
	size_t ilen = 0, ioff = 0;
	bool in_open = true;
	while (in_open) {
		pump_out(c);
		if (ioff < ilen) {
			struct uio u;
			uio_init_kernel(&u, in + ioff, ilen - ioff);
			u.flags = UIO_NOWAIT;
			ssize_t n = c->master->fops->write(c->master, &u, NULL);
			if (n > 0)
				ioff += (size_t)n;
			if (ioff == ilen)
				ioff = ilen = 0;
		}
		resize(c);
		struct pollfd p[2] = {
		    {.fd = CONSOLE_IN, .events = ilen ? 0 : POLLIN},
		    {.fd = c->evfd, .events = POLLIN},
		};
		int r = poll(p, 2, CONSOLE_POLL_MS);
		if (r < 0 && errno != EINTR)
			break;
		if (p[1].revents & POLLIN) {
			uint64_t v;
			ssize_t k = read(c->evfd, &v, sizeof(v));
			(void)k;
		}
		if (!ilen && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t n = read(CONSOLE_IN, in, sizeof(in));
			if (n > 0)
				ilen = (size_t)n;
			else if (n == 0 || (errno != EINTR && errno != EAGAIN))
				in_open = false;
		}
	}
	/* The host terminal is gone: what is left of the guest's output
	 * has nowhere to go, and the guest's terminal hangs up. */
	kmutex_lock(&c->out_lock);
	c->out_done = true;
	struct file *m = c->master;
	c->master = NULL;
	kmutex_unlock(&c->out_lock);
	waitq_remove(&c->we);
	bh_info("console: the host terminal closed; hanging up");
	file_put(m);
	return NULL;
}

int console_setup(struct task *init)
{
	if (!isatty(CONSOLE_IN) || !isatty(CONSOLE_OUT))
		return -ENOTTY;
	struct console *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->evfd = -1;
	/* The opens speak for init (its credentials, its root, its session:
	 * the slave becomes its controlling terminal). */
	struct task *saved = current;
	current = init;
	struct file *slave = NULL;
	int r = vfs_open(init, AT_FDCWD, "/dev/ptmx", O_RDWR | O_NOCTTY, 0,
			 &c->master);
	if (!r && !file_is_tty(c->master)) {
		file_put(c->master);
		r = -ENOTTY;
	}
	if (!r) {
		c->tty = c->master->priv;
		tty_get(c->tty);
		tty_lock(c->tty);
		c->tty->locked = false;
		tty_unlock(c->tty);
		r = devpts_open_slave(init, c->tty, O_RDWR, &slave);
		if (r) {
			file_put(c->master);
			tty_put(c->tty);
		}
	}
	current = saved;
	if (r) {
		free(c);
		return r;
	}
	for (int fd = 0; fd < 3 && !r; fd++)
		r = fd_install_at(init->files, fd, slave, false) < 0 ? -EMFILE
								     : 0;
	file_put(slave);
	c->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r || c->evfd < 0) {
		r = r ? r : -errno;
		goto fail;
	}
	kmutex_init(&c->out_lock, "console", LR_CONSOLE);
	list_init(&c->we.node);
	c->we.fn = console_wake;
	c->we.priv = c;
	waitq_add(&c->tty->master_wq, &c->we);
	resize(c);
	pthread_t th;
	if (pthread_create(&th, NULL, console_main, c) != 0) {
		waitq_remove(&c->we);
		r = -EAGAIN;
		goto fail;
	}
	pthread_detach(th);
	con = c;
	atomic_store(&con_active, true);
	return 0;
fail:
	/* init's fds 0-2 stay the slave: a console without its bridge
	 * reads nothing and writes into a queue, as a closed terminal. */
	if (c->evfd >= 0)
		close(c->evfd);
	file_put(c->master);
	tty_put(c->tty);
	free(c);
	return r;
}

bool console_active(void)
{
	return atomic_load(&con_active);
}

void console_winch(void)
{
	if (!console_active())
		return;
	uint64_t one = 1;
	ssize_t r = write(con->evfd, &one, sizeof(one));
	(void)r;
}

static long long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void console_drain(void)
{
	if (!console_active())
		return;
	/* The guest has exited: its slaves are closed, so the master reads
	 * what is left and then EIO. A host side that stopped reading (a
	 * client gone quiet, a terminal on ^S) gets CONSOLE_DRAIN_MS, not
	 * the power to keep the sentry alive. */
	long long deadline = mono_ms() + CONSOLE_DRAIN_MS;
	while (!kmutex_trylock(&con->out_lock)) {
		if (mono_ms() >= deadline)
			return;
		usleep(10000);
	}
	char buf[4096];
	while (!con->out_done) {
		struct uio u;
		uio_init_kernel(&u, buf, sizeof(buf));
		u.flags = UIO_NOWAIT;
		ssize_t n = con->master->fops->read(con->master, &u, NULL);
		if (n <= 0)
			break;
		struct pollfd p = {.fd = CONSOLE_OUT, .events = POLLOUT};
		long long left = deadline - mono_ms();
		if (left <= 0 || poll(&p, 1, (int)left) != 1 ||
		    write_all(CONSOLE_OUT, buf, (size_t)n) < 0)
			break;
	}
	kmutex_unlock(&con->out_lock);
}
