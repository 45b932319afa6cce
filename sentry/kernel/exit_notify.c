#include "sentry/kernel/exit_notify.h"

#include <pthread.h>
#include <stdbool.h>

#include "sentry/kernel/kernel.h"

static pthread_cond_t init_exit_cond = PTHREAD_COND_INITIALIZER;
static bool init_exited;
static int init_status;

void exit_notify_init(int status)
{
	init_exited = true;
	init_status = status;
	pthread_cond_broadcast(&init_exit_cond);
}

int exit_wait_init(void)
{
	while (!init_exited)
		pthread_cond_wait(&init_exit_cond, &kernel_lock);
	return init_status;
}
