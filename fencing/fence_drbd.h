/*
 * DRBD for DRBD-backed domains: the "drbd" fence level (fence_drbd.c, through the
 * driver registry). It runs drbdadm through lib/drbdadm.h, as the agent's promotion
 * and demotion do.
 */
#ifndef HAX_FENCE_DRBD_H
#define HAX_FENCE_DRBD_H

#include <stddef.h>

#include "fence.h"

/* Pure: whether `drbdadm status RESOURCE` output shows that peer cannot hold newer data
 * than this host: the connection to peer is down (any state but Connected) and every
 * local volume is UpToDate. 0, or -EBUSY (still connected), -ESTALE (a local volume
 * not UpToDate), -ENOENT (resource or peer not listed), -EPROTO (unreadable); why gets
 * one line either way. */
int fence_drbd_check_status(const char *output, const char *resource, const char *peer, char *why,
			    size_t len);

#endif
