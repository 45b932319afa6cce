/* Read-only commands: state, list, ps. */
#ifndef SHIM_QUERY_H
#define SHIM_QUERY_H

#include "runsc-shim/cli.h"

int cmd_state(struct cli_globals *g, int argc, char **argv);
int cmd_list(struct cli_globals *g, int argc, char **argv);
int cmd_ps(struct cli_globals *g, int argc, char **argv);

#endif
