/* Host processes named by pid and start time: a pid alone can be reused by
 * an unrelated process after the sandbox dies, so every signal we send is
 * checked against the start time recorded at create. */
#ifndef SHIM_PROC_H
#define SHIM_PROC_H

#include <stdbool.h>
#include <sys/types.h>

/* Field 22 of /proc/PID/stat (clock ticks since boot). -ESRCH if gone;
 * *zombie set when the process has exited but is not reaped. */
int proc_start_time(pid_t pid, unsigned long long *start, bool *zombie);
/* True if pid runs (not a zombie) with the given start time. */
bool proc_alive(pid_t pid, unsigned long long start);
/* SIGKILL pid if it is still the recorded process, then wait (reaping it if
 * it is our child) up to timeout_ms for it to be gone. -ETIMEDOUT if not. */
int proc_kill_wait(pid_t pid, unsigned long long start, int timeout_ms);

#endif
