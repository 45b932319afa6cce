/* System V message queues: the bodies of msgget, msgsnd, msgrcv, msgctl
 * (sys_ipc.c copies nothing itself; these take guest addresses). */
#ifndef BULKHEAD_IPC_MSG_H
#define BULKHEAD_IPC_MSG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct task;

/* Linux's defaults (kernel.msgmax, msgmnb, msgmni). */
#define MSG_MAX 8192
#define MSG_MNB 16384
#define MSG_MNI 32000

void msg_init(void);
long msg_get(struct task *t, key_t key, int flg);
long msg_snd(struct task *t, int id, uint64_t uaddr, size_t len, int flg);
long msg_rcv(struct task *t, int id, uint64_t uaddr, size_t bufsz, long msgtyp,
	     int flg);
long msg_ctl(struct task *t, int id, int cmd, uint64_t ubuf);

#endif
