/* Virtual pids: one table (hashed by number) of every number in use as a
 * thread id, a process id, a process group id or a session id. Lookups are
 * O(1); a new number is never one still in use in any of these roles, so a
 * pid is not reused while it names a live process group or session (as
 * Linux's alloc_pid). Everything here is under tasklist_lock. */
#ifndef BULKHEAD_PID_H
#define BULKHEAD_PID_H

#include <stdbool.h>

#include "bulkhead/htable.h"
#include "bulkhead/list.h"

#define PID_MAX 32768 /* virtual pids wrap below this, like pid_max */

struct task;
struct process;

struct kpid {
	struct hnode hn;
	int nr;
	bool reserved;		  /* allocated, not yet attached */
	int pins;		  /* terminals naming it (session, pgrp) */
	struct task *task;	  /* the task whose tid is nr */
	struct process *proc;	  /* the process whose pid is nr */
	struct list_head pgrp;	  /* processes whose pgid is nr */
	struct list_head session; /* processes whose sid is nr */
};

int pid_init(void);
/* A free number, reserved until a task or process takes it; -EAGAIN. */
int pid_alloc(void);
/* Give back a reserved number nobody took (a failed clone). */
void pid_unreserve(int nr);
struct kpid *pid_lookup(int nr);

void pid_attach_task(struct task *t, int nr);
void pid_detach_task(struct task *t);
void pid_attach_process(struct process *p);
void pid_detach_process(struct process *p);
/* Join (or move to) process group pgid / session sid. */
void pid_set_pgid(struct process *p, int pgid);
void pid_set_sid(struct process *p, int sid);
/* Leave both at the end of the process. */
void pid_leave_groups(struct process *p);

/* Keep nr from being reused while a terminal names it as its session or
 * foreground group (Linux holds a struct pid); nr must be in use. */
void pid_pin(int nr);
void pid_unpin(int nr);

struct task *pid_task(int nr);
struct process *pid_process(int nr); /* not yet reaped */
/* The list of processes in group pgid (struct process.pgrp_node), or
 * NULL if there is none. */
struct list_head *pid_pgrp(int pgid);
struct list_head *pid_session(int sid);
int pid_last(void); /* the last number handed out, for /proc/loadavg */

#endif
