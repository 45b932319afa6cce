#include "sentry/kernel/exit_notify.h"

#include <pthread.h>
#include <stdbool.h>

#include "sentry/kernel/kernel.h"

static struct kmutex exit_lock = KMUTEX_INITIALIZER("exit_notify", LR_LEAF);
static pthread_cond_t init_exit_cond = PTHREAD_COND_INITIALIZER;
static bool init_exited;
static int init_status;

void exit_notify_init(int status)
{
	kmutex_lock(&exit_lock);
	init_exited = true;
	init_status = status;
	pthread_cond_broadcast(&init_exit_cond);
	kmutex_unlock(&exit_lock);
}

int exit_wait_init(void)
{
	kmutex_lock(&exit_lock);
	while (!init_exited)
		kcond_wait(&init_exit_cond, &exit_lock);
	int st = init_status;
	kmutex_unlock(&exit_lock);
	return st;
}
