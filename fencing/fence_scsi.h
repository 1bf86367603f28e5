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

struct hax_conf;
struct fence_op;

/* Register this host's key (and take the type-5 reservation if nobody holds one) on every
 * storage any scsi fence device names: the step of the rejoin rule that lets this host
 * write again, and the precondition for it to preempt others. Never done on a conflict by
 * itself: haxd calls it at start and when a fenced host is let back in. -ENOENT if no
 * scsi device is configured; otherwise like fence_driver.start (done once; cancel with
 * fence_scsi_driver.cancel). */
#include "fence.h"
int fence_scsi_register(const struct hax_conf *conf, fence_done_fn done, void *opaque,
			struct fence_op **out);

#endif
