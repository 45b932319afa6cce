/* The container lifecycle commands: create, start, run, kill, delete. Each
 * takes the command's own argv (argv[0] is the command name) and returns the
 * process exit status. */
#ifndef SHIM_LIFECYCLE_H
#define SHIM_LIFECYCLE_H

#include "runsc-shim/cli.h"

int cmd_create(struct cli_globals *g, int argc, char **argv);
int cmd_start(struct cli_globals *g, int argc, char **argv);
int cmd_run(struct cli_globals *g, int argc, char **argv);
int cmd_kill(struct cli_globals *g, int argc, char **argv);
int cmd_delete(struct cli_globals *g, int argc, char **argv);

#endif
