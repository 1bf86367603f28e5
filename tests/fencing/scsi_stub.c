/*
 * Test-only stand-in for fencing/fence_scsi.c, so that the registry (fencing/fence.c)
 * links without libiscsi. No start(): fence_driver_for() reports "none" for it.
 */
#include "fencing/fence.h"

const struct fence_driver fence_scsi_driver = {.kind = CONF_FENCE_SCSI, .name = "scsi"};
