/* Exits with the code in argv[1], dies of signal N for "sig:N", or faults
 * for "segv": the runner checks that `bulkhead run` passes each back
 * (signal N as 128+N). exec.c also execs it as a separate program. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: exitcode CODE | sig:N | segv\n");
		return 2;
	}
	if (strcmp(argv[1], "segv") == 0) {
		/* A fault kills even a PID 1, which ignores sent signals. */
		signal(SIGSEGV, SIG_DFL);
		*(volatile int *)0 = 1;
		return 1;
	}
	if (strncmp(argv[1], "sig:", 4) == 0) {
		int sig = atoi(argv[1] + 4);
		signal(sig, SIG_DFL);
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, sig);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		kill(getpid(), sig);
		/* A PID 1 ignores signals it has no handler for, even fatal
		 * ones sent by itself: then exit as a shell would report it. */
		return 128 + sig;
	}
	return atoi(argv[1]);
}
