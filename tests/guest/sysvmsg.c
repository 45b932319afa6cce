/* System V message queues: keys and flags, typed receives (first, by
 * type, MSG_EXCEPT, lowest type), sizes (E2BIG, MSG_NOERROR), full and
 * empty queues with IPC_NOWAIT, a blocked receiver woken by another
 * process, EIDRM for a waiter when the queue goes, IPC_STAT/IPC_SET,
 * permissions, MSG_INFO/MSG_STAT. Every queue made is removed (natively
 * they would outlive the test). */
#include <signal.h>
#include <stdbool.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/wait.h>
#include <time.h>

#include "check.h"

struct m64 {
	long mtype;
	char text[64];
};

static void snd(int q, long type, const char *s)
{
	struct m64 m = {.mtype = type};
	snprintf(m.text, sizeof(m.text), "%s", s);
	SYS(msgsnd(q, &m, strlen(s) + 1, 0));
}

static long rcv(int q, long type, int flg, char *out)
{
	struct m64 m;
	memset(&m, 0, sizeof(m));
	ssize_t n = msgrcv(q, &m, sizeof(m.text), type, flg);
	if (n >= 0 && out)
		memcpy(out, m.text, sizeof(m.text));
	return n < 0 ? -1 : m.mtype;
}

static void basics(void)
{
	int q = SYS(msgget(IPC_PRIVATE, IPC_CREAT | 0600));
	char buf[64];
	snd(q, 5, "five");
	snd(q, 2, "two");
	snd(q, 9, "nine");
	snd(q, 2, "two-b");
	struct msqid_ds ds;
	SYS(msgctl(q, IPC_STAT, &ds));
	CHECK_EQ(ds.msg_qnum, 4);
	CHECK_EQ(ds.__msg_cbytes, 5 + 4 + 5 + 6);
	CHECK_EQ(ds.msg_lspid, getpid());
	CHECK_EQ(ds.msg_perm.mode & 0777, 0600);
	CHECK_EQ(ds.msg_qbytes, 16384);
	/* By type, skipping others; then MSG_EXCEPT; then lowest <= 9. */
	CHECK_EQ(rcv(q, 2, 0, buf), 2);
	CHECK_STR(buf, "two");
	CHECK_EQ(rcv(q, 5, MSG_EXCEPT, buf), 9);
	CHECK_STR(buf, "nine");
	CHECK_EQ(rcv(q, -9, 0, buf), 2); /* lowest type <= 9 */
	CHECK_STR(buf, "two-b");
	CHECK_EQ(rcv(q, 0, 0, buf), 5);
	CHECK_ERR(msgrcv(q, buf, sizeof(buf), 0, IPC_NOWAIT), ENOMSG);
	SYS(msgctl(q, IPC_STAT, &ds));
	CHECK_EQ(ds.msg_qnum, 0);
	CHECK_EQ(ds.msg_lrpid, getpid());
	/* Too big for the buffer: E2BIG and the message stays; with
	 * MSG_NOERROR it comes truncated. */
	snd(q, 1, "a longer message");
	struct {
		long mtype;
		char t[4];
	} small;
	CHECK_ERR(msgrcv(q, &small, sizeof(small.t), 0, IPC_NOWAIT), E2BIG);
	CHECK_EQ(msgrcv(q, &small, sizeof(small.t), 0, MSG_NOERROR), 4);
	CHECK(memcmp(small.t, "a lo", 4) == 0);
	/* Bad input. */
	struct m64 m = {.mtype = 0};
	CHECK_ERR(msgsnd(q, &m, 1, 0), EINVAL);
	m.mtype = 1;
	CHECK_ERR(msgsnd(q, &m, 8193, 0), EINVAL);
	CHECK_ERR(msgsnd(q, (void *)16, 1, 0), EFAULT);
	CHECK_ERR(msgsnd(q + 1, &m, 1, 0), EINVAL);
	CHECK_ERR(msgctl(q, 12345, &ds), EINVAL);
	SYS(msgctl(q, IPC_RMID, NULL));
	CHECK_ERR(msgsnd(q, &m, 1, 0), EINVAL);
	CHECK_ERR(msgctl(q, IPC_STAT, &ds), EINVAL);
}

static void keys(void)
{
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	key_t key = (key_t)(0x42000000 | (rand() & 0xffffff));
	CHECK_ERR(msgget(key, 0600), ENOENT);
	int q = SYS(msgget(key, IPC_CREAT | IPC_EXCL | 0640));
	CHECK_EQ(msgget(key, 0), q);
	CHECK_EQ(msgget(key, IPC_CREAT | 0600), q);
	CHECK_ERR(msgget(key, IPC_CREAT | IPC_EXCL | 0600), EEXIST);
	/* IPC_PRIVATE is always a new queue. */
	int p1 = SYS(msgget(IPC_PRIVATE, 0600));
	int p2 = SYS(msgget(IPC_PRIVATE, 0600));
	CHECK(p1 != p2 && p1 != q);
	SYS(msgctl(p1, IPC_RMID, NULL));
	SYS(msgctl(p2, IPC_RMID, NULL));
	/* A removed key is free again, and its new queue has a new id. */
	SYS(msgctl(q, IPC_RMID, NULL));
	int q2 = SYS(msgget(key, IPC_CREAT | 0600));
	CHECK(q2 != q);
	SYS(msgctl(q2, IPC_RMID, NULL));
}

static void full_and_wait(void)
{
	int q = SYS(msgget(IPC_PRIVATE, 0600));
	struct msqid_ds ds;
	SYS(msgctl(q, IPC_STAT, &ds));
	ds.msg_qbytes = 10;
	SYS(msgctl(q, IPC_SET, &ds));
	struct m64 m = {.mtype = 1};
	SYS(msgsnd(q, &m, 8, IPC_NOWAIT));
	CHECK_ERR(msgsnd(q, &m, 8, IPC_NOWAIT), EAGAIN);
	/* A blocked sender goes on once a receiver makes room. */
	pid_t c = SYS(fork());
	if (c == 0) {
		struct m64 mm = {.mtype = 2};
		_exit(msgsnd(q, &mm, 8, 0) == 0 ? 0 : 1);
	}
	usleep(100 * 1000);
	SYS(msgctl(q, IPC_STAT, &ds));
	CHECK_EQ(ds.msg_qnum, 1); /* the child waits */
	CHECK_EQ(rcv(q, 0, 0, NULL), 1);
	int st;
	SYS(waitpid(c, &st, 0));
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK_EQ(rcv(q, 0, IPC_NOWAIT, NULL), 2);
	SYS(msgctl(q, IPC_STAT, &ds));
	ds.msg_qbytes = 16384;
	SYS(msgctl(q, IPC_SET, &ds));
	/* A blocked receiver is woken by another process's send. */
	c = SYS(fork());
	if (c == 0) {
		char b[64];
		_exit(rcv(q, 7, 0, b) == 7 && !strcmp(b, "late") ? 0 : 1);
	}
	usleep(100 * 1000);
	snd(q, 3, "other");
	snd(q, 7, "late");
	SYS(waitpid(c, &st, 0));
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK_EQ(rcv(q, 0, IPC_NOWAIT, NULL), 3);
	/* A waiter learns that the queue is gone: EIDRM. */
	c = SYS(fork());
	if (c == 0) {
		char b[64];
		_exit(rcv(q, 0, 0, b) == -1 && errno == EIDRM ? 0 : 1);
	}
	usleep(100 * 1000);
	SYS(msgctl(q, IPC_RMID, NULL));
	SYS(waitpid(c, &st, 0));
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void on_alarm(int s)
{
	(void)s;
}

static void interrupted(void)
{
	int q = SYS(msgget(IPC_PRIVATE, 0600));
	struct sigaction sa = {.sa_handler = on_alarm};
	sigemptyset(&sa.sa_mask);
	SYS(sigaction(SIGALRM, &sa, NULL));
	alarm(1);
	char b[64];
	CHECK_EQ(rcv(q, 0, 0, b), -1);
	CHECK_EQ(errno, EINTR);
	SYS(msgctl(q, IPC_RMID, NULL));
}

/* Whether we hold capability cap (CapEff of /proc/self/status). */
static bool capable(int cap)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	unsigned long long eff = 0;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			break;
	if (f)
		fclose(f);
	return eff & (1ull << cap);
}

static void perms_and_info(void)
{
	/* Mode 0: even the owner needs CAP_IPC_OWNER (15) to use it. */
	int z = SYS(msgget(IPC_PRIVATE, 0));
	struct m64 zm = {.mtype = 1};
	if (capable(15)) {
		SYS(msgsnd(z, &zm, 1, IPC_NOWAIT));
	} else {
		CHECK_ERR(msgsnd(z, &zm, 1, IPC_NOWAIT), EACCES);
		CHECK_ERR(msgrcv(z, &zm, 1, 0, IPC_NOWAIT), EACCES);
	}
	SYS(msgctl(z, IPC_RMID, NULL)); /* the owner may */
	int q = SYS(msgget(IPC_PRIVATE, 0600));
	if (getuid() == 0) {
		pid_t c = SYS(fork());
		if (c == 0) {
			/* Another user (where we may become one). */
			if (setuid(1000) < 0)
				_exit(errno == EPERM ? 0 : 2);
			struct m64 m = {.mtype = 1};
			struct msqid_ds ds;
			int ok =
			    msgsnd(q, &m, 1, IPC_NOWAIT) < 0 &&
			    errno == EACCES && msgctl(q, IPC_STAT, &ds) < 0 &&
			    errno == EACCES && msgctl(q, IPC_RMID, NULL) < 0 &&
			    errno == EPERM;
			_exit(ok ? 0 : 1);
		}
		int st;
		SYS(waitpid(c, &st, 0));
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	struct msginfo mi;
	int top = SYS(msgctl(0, MSG_INFO, (struct msqid_ds *)&mi));
	CHECK(top >= 0);
	CHECK(mi.msgpool >= 1); /* queues in use */
	SYS(msgctl(0, IPC_INFO, (struct msqid_ds *)&mi));
	CHECK_EQ(mi.msgmax, 8192);
	CHECK_EQ(mi.msgmnb, 16384);
	/* MSG_STAT takes an index and answers the id. */
	struct msqid_ds ds;
	bool found = false;
	for (int i = 0; i <= top; i++)
		if (msgctl(i, MSG_STAT, &ds) == q)
			found = true;
	CHECK(found);
	SYS(msgctl(q, IPC_RMID, NULL));
}

int main(void)
{
	basics();
	keys();
	full_and_wait();
	interrupted();
	perms_and_info();
	pass("sysvmsg");
	return 0;
}
