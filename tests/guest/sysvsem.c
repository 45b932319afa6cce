/* System V semaphores: values (GETVAL/SETVAL/GETALL/SETALL, ERANGE), a
 * semop that applies all of its operations or none, waits (IPC_NOWAIT,
 * semtimedop's timeout, a waiter woken by another process, GETNCNT and
 * GETZCNT while it waits, EIDRM when the set goes), SEM_UNDO undone at
 * exit, GETPID, limits (EFBIG, E2BIG), IPC_STAT and SEM_INFO. Every set
 * made is removed. */
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/wait.h>
#include <time.h>

#include "check.h"

union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
	struct seminfo *info;
};

static int op(int s, unsigned short num, short o, short flg)
{
	struct sembuf b = {.sem_num = num, .sem_op = o, .sem_flg = flg};
	return semop(s, &b, 1);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Wait (up to ~30 s: a loaded machine) until semaphore num has n waiters
 * of the kind. */
static int wait_cnt(int s, int num, int cmd, int n)
{
	for (int i = 0; i < 3000; i++) {
		if (semctl(s, num, cmd) == n)
			return 1;
		usleep(10000);
	}
	return 0;
}

static void values(void)
{
	int s = SYS(semget(IPC_PRIVATE, 3, 0600));
	CHECK_EQ(semctl(s, 0, GETVAL), 0);
	SYS(semctl(s, 1, SETVAL, (union semun){.val = 5}));
	CHECK_EQ(semctl(s, 1, GETVAL), 5);
	CHECK_ERR(semctl(s, 1, SETVAL, (union semun){.val = 32768}), ERANGE);
	CHECK_ERR(semctl(s, 1, SETVAL, (union semun){.val = -1}), ERANGE);
	CHECK_ERR(semctl(s, 3, GETVAL), EINVAL);
	unsigned short all[3] = {7, 8, 9}, got[3] = {0};
	SYS(semctl(s, 0, SETALL, (union semun){.array = all}));
	SYS(semctl(s, 0, GETALL, (union semun){.array = got}));
	CHECK(got[0] == 7 && got[1] == 8 && got[2] == 9);
	CHECK_EQ(semctl(s, 2, GETPID), getpid());
	struct semid_ds ds;
	SYS(semctl(s, 0, IPC_STAT, (union semun){.buf = &ds}));
	CHECK_EQ(ds.sem_nsems, 3);
	CHECK_EQ(ds.sem_perm.mode & 0777, 0600);
	/* All or nothing: the second operation cannot go, the first is not
	 * applied either. */
	struct sembuf two[2] = {{0, -1, IPC_NOWAIT}, {1, -100, IPC_NOWAIT}};
	CHECK_ERR(semop(s, two, 2), EAGAIN);
	CHECK_EQ(semctl(s, 0, GETVAL), 7);
	two[1].sem_op = -8;
	SYS(semop(s, two, 2));
	CHECK_EQ(semctl(s, 0, GETVAL), 6);
	CHECK_EQ(semctl(s, 1, GETVAL), 0);
	/* Past SEMVMX: ERANGE; a sem_num past the set: EFBIG; too many
	 * operations: E2BIG; none: EINVAL. */
	SYS(semctl(s, 0, SETVAL, (union semun){.val = 32767}));
	CHECK_ERR(op(s, 0, 1, 0), ERANGE);
	CHECK_ERR(op(s, 3, 1, 0), EFBIG);
	static struct sembuf many[501];
	CHECK_ERR(semop(s, many, 501), E2BIG);
	CHECK_ERR(semop(s, many, 0), EINVAL);
	/* A new semget of the key with more semaphores is EINVAL. */
	key_t key = (key_t)(0x53000000 | (getpid() & 0xffffff));
	int k = SYS(semget(key, 2, IPC_CREAT | IPC_EXCL | 0600));
	CHECK_EQ(semget(key, 2, 0), k);
	CHECK_EQ(semget(key, 0, 0), k);
	CHECK_ERR(semget(key, 3, 0), EINVAL);
	CHECK_ERR(semget(IPC_PRIVATE, 0, 0600), EINVAL);
	SYS(semctl(k, 0, IPC_RMID));
	SYS(semctl(s, 0, IPC_RMID));
	CHECK_ERR(semctl(s, 0, GETVAL), EINVAL);
}

static void waits(void)
{
	int s = SYS(semget(IPC_PRIVATE, 2, 0600));
	CHECK_ERR(op(s, 0, -1, IPC_NOWAIT), EAGAIN);
	/* semtimedop gives up with EAGAIN after its timeout. */
	struct sembuf b = {0, -1, 0};
	struct timespec to = {0, 150 * 1000 * 1000};
	double t0 = now();
	CHECK_ERR(semtimedop(s, &b, 1, &to), EAGAIN);
	CHECK(now() - t0 >= 0.14);
	/* A waiter for an increase, counted in GETNCNT, woken by us. */
	pid_t c = SYS(fork());
	if (c == 0)
		_exit(op(s, 0, -2, 0) == 0 ? 0 : 1);
	CHECK(wait_cnt(s, 0, GETNCNT, 1));
	SYS(op(s, 0, 1, 0));
	usleep(50 * 1000);
	CHECK_EQ(semctl(s, 0, GETNCNT), 1); /* 1 < 2: still waiting */
	SYS(op(s, 0, 1, 0));
	int st;
	SYS(waitpid(c, &st, 0));
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK_EQ(semctl(s, 0, GETVAL), 0);
	CHECK_EQ(semctl(s, 0, GETNCNT), 0);
	/* A waiter for zero, counted in GETZCNT. */
	SYS(semctl(s, 1, SETVAL, (union semun){.val = 1}));
	c = SYS(fork());
	if (c == 0)
		_exit(op(s, 1, 0, 0) == 0 ? 0 : 1);
	CHECK(wait_cnt(s, 1, GETZCNT, 1));
	SYS(op(s, 1, -1, 0));
	SYS(waitpid(c, &st, 0));
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* A waiter learns that the set is gone: EIDRM. */
	c = SYS(fork());
	if (c == 0)
		_exit(op(s, 0, -1, 0) < 0 && errno == EIDRM ? 0 : 1);
	CHECK(wait_cnt(s, 0, GETNCNT, 1));
	SYS(semctl(s, 0, IPC_RMID));
	SYS(waitpid(c, &st, 0));
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void undo(void)
{
	int s = SYS(semget(IPC_PRIVATE, 1, 0600));
	SYS(semctl(s, 0, SETVAL, (union semun){.val = 3}));
	/* A child's SEM_UNDO operations are undone when it exits; those
	 * without SEM_UNDO stay. */
	pid_t c = SYS(fork());
	if (c == 0) {
		if (op(s, 0, -2, SEM_UNDO) || op(s, 0, 5, 0))
			_exit(1);
		_exit(semctl(s, 0, GETVAL) == 6 ? 0 : 2);
	}
	int st;
	SYS(waitpid(c, &st, 0));
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK_EQ(semctl(s, 0, GETVAL), 8);
	CHECK_EQ(semctl(s, 0, GETPID), c);
	/* SETVAL forgets the adjustments: the child's +1 stays. */
	c = SYS(fork());
	if (c == 0) {
		if (op(s, 0, 1, SEM_UNDO))
			_exit(1);
		semctl(s, 0, SETVAL, (union semun){.val = 10});
		_exit(0);
	}
	SYS(waitpid(c, &st, 0));
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK_EQ(semctl(s, 0, GETVAL), 10);
	struct seminfo si;
	int top = SYS(semctl(0, 0, SEM_INFO, (union semun){.info = &si}));
	CHECK(top >= 0);
	CHECK(si.semusz >= 1);
	SYS(semctl(0, 0, IPC_INFO, (union semun){.info = &si}));
	CHECK_EQ(si.semvmx, 32767);
	SYS(semctl(s, 0, IPC_RMID));
}

int main(void)
{
	values();
	waits();
	undo();
	pass("sysvsem");
	return 0;
}
