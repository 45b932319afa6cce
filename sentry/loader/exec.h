/* The program loader: execve of ELF binaries (static, dynamic through
 * their interpreter, PIE) and #! scripts, building the new address space,
 * stack, auxv and registers (Linux fs/exec.c and fs/binfmt_*.c). */
#ifndef BULKHEAD_LOADER_EXEC_H
#define BULKHEAD_LOADER_EXEC_H

struct task;

/* execve: load path (ELF or #! script) with argv/envp (NULL-terminated)
 * into t's process, replacing its address space; on success t->regs is set
 * to the new entry state and 0 is returned. Before the point of no return
 * errors are returned as -errno and the old image is intact. A failure
 * after it returns -EXEC_FATAL: the old image is gone, signal handlers are
 * already reset, and the caller must kill the process (SIGSEGV, as Linux's
 * force_fatal_sig). */
#define EXEC_FATAL 4096 /* never an errno */
int kernel_execve(struct task *t, const char *path, char *const argv[],
		  char *const envp[]);
/* execveat: path relative to dirfd; flags AT_EMPTY_PATH (path "" names
 * dirfd itself) and AT_SYMLINK_NOFOLLOW. */
int kernel_execveat(struct task *t, int dirfd, const char *path,
		    char *const argv[], char *const envp[], int flags);

/* Bounds of execve's argv + envp, as Linux with an 8 MiB stack. */
#define EXEC_ARG_MAX  (2UL << 20)
#define EXEC_ARGC_MAX 0x7fffffff

#endif
