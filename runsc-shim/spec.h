/* `bulkhead spec`: write a default config.json, like `runc spec`. */
#ifndef SHIM_SPEC_H
#define SHIM_SPEC_H

#include "runsc-shim/cli.h"

/* The default config.json text (also what tests start from). */
extern const char spec_default_json[];

int cmd_spec(struct cli_globals *g, int argc, char **argv);

#endif
