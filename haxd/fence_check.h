/*
 * haxctl fence HOST --dry-run: ask every fence device of every level of HOST whether it
 * could fence it, from this host, changing nothing (each driver's dry run: a fence
 * agent's "monitor", Redfish's power state, SCSI's READ KEYS, DRBD's probe). Runs on the
 * host haxctl talks to, not on the leader: any member may become the leader, so the
 * operator proves each host's path to each device. Needs no quorum.
 */
#ifndef HAX_FENCE_CHECK_H
#define HAX_FENCE_CHECK_H

#include "../conf/conf.h"
#include "ipc.h"

/* Start the dry run of host's levels and answer call once every device has (reply:
 * {"ok":true, "host", "fenceable": a whole level answered, "all_ok": every device did,
 * "levels":[{"level", "method", "ok", "devices":[{"device","driver","ok","message"}]}]}),
 * or at once with {"ok":false,"error"} for an unknown host. */
void fence_check_start(const struct hax_conf *conf, const char *host, struct ipc_call *call);

/* Cancel every dry run in flight (their clients get no answer). */
void fence_check_stop_all(void);

#endif
