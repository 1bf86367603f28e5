/*
 * DRBD for DRBD-backed domains: the "drbd" fence level (fence_drbd.c, through the
 * driver registry) and the promotion haxd runs on the new host once a fence is
 * confirmed. Both run drbdadm as a child on the one loop, with a deadline.
 */
#ifndef HAX_FENCE_DRBD_H
#define HAX_FENCE_DRBD_H

#include <stddef.h>

#include "fence.h"

#define FENCE_DRBD_DEFAULT_DRBDADM "/usr/sbin/drbdadm"
/* drbdadm primary may wait: for the peers' answers (drbdadm counts it among its
 * long-running commands) and, with "fencing resource-and-stonith" and a peer not known
 * Outdated, for DRBD's fence-peer handler, hax-fence-peer, which waits up to 90 s by
 * default for haxd to confirm a fresh fence. Beyond this it is stuck, not slow. */
#define FENCE_DRBD_PROMOTE_TIMEOUT_MS 120000

/* Run `DRBDADM primary RESOURCE` (drbdadm NULL or "": the default path). Call it only
 * after the fence of every host that may hold the resource is confirmed: DRBD's own
 * refusal (a disk not UpToDate, another Primary) is the last guard, not the first.
 * done(0) = this host is Primary now; -errno with a reason otherwise. 0 with *op, or
 * -errno (no done() then). Exactly one done() unless fence_drbd_cancel() first. */
int fence_drbd_promote(const char *drbdadm, const char *resource, fence_done_fn done, void *opaque,
		       struct fence_op **op);

/* Run `DRBDADM secondary RESOURCE` once a domain has left this host (stopped,
 * destroyed, migrated away), so that the next host can promote it. DRBD refuses while
 * the device is still open (exit 11, -EPERM). As fence_drbd_promote otherwise. */
#define FENCE_DRBD_DEMOTE_TIMEOUT_MS 30000
int fence_drbd_demote(const char *drbdadm, const char *resource, fence_done_fn done, void *opaque,
		      struct fence_op **op);

/* Cancel a promote (or a drbd fence): kills drbdadm, no done(). Accepts NULL. */
void fence_drbd_cancel(struct fence_op *op);

/* Pure: whether `drbdadm status RESOURCE` output shows that peer cannot hold newer data
 * than this host: the connection to peer is down (any state but Connected) and every
 * local volume is UpToDate. 0, or -EBUSY (still connected), -ESTALE (a local volume
 * not UpToDate), -ENOENT (resource or peer not listed), -EPROTO (unreadable); why gets
 * one line either way. */
int fence_drbd_check_status(const char *output, const char *resource, const char *peer, char *why,
			    size_t len);

#endif
