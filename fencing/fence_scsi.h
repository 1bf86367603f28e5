/*
 * The scsi fence driver's one piece of local knowledge. A PREEMPT must come from a
 * registered initiator, so the fencer acts as itself: this host's own key
 * (fence_scsi_key(nodeid)) and its own initiator name ([host] iqn in haxd.conf).
 * fence.h's start() is told the device and the victim, not who is asking, so haxd
 * says it once, here.
 */
#ifndef HAX_FENCE_SCSI_H
#define HAX_FENCE_SCSI_H

#include <stdint.h>

/* Remember this host (nodeid and initiator IQN; copied). haxd calls it at start, once it
 * knows its own [host] section, and again if a reload changes either. Until then every
 * scsi fence and dry run fails with a message saying so. 0, or -EINVAL (nodeid 0, IQN
 * empty, too long or holding control characters). */
int fence_scsi_set_local(uint32_t nodeid, const char *iqn);

#endif
