/* Commands that describe the runtime itself: features, version. */
#ifndef SHIM_INFO_H
#define SHIM_INFO_H

#include "runsc-shim/cli.h"

#define BULKHEAD_VERSION  "0.1.0"
#define BULKHEAD_OCI_SPEC "1.0.2"

int cmd_features(struct cli_globals *g, int argc, char **argv);
int cmd_version(struct cli_globals *g, int argc, char **argv);

#endif
