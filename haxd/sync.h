/*
 * The view-sync rules, pure (no I/O, no clock, no logging): who may lead a view, and
 * which of the members' states a sync adopts. haxd/node.c and the simulator (sim/) both
 * call these, so the simulator checks the very rules haxd runs.
 */
#ifndef HAX_SYNC_H
#define HAX_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "state.h"

/* The nodeid that leads a synced view, or 0 for nobody. members: the haxd members
 * (sorted, lowest first); nnodes: corosync nodes in the ring; nconfigured: hosts in
 * haxd.conf (0: a standalone host).
 *
 * corosync's quorum counts nodes, not haxd: a ring of three nodes where only one haxd
 * runs is quorate, but that haxd may hold a state persisted long ago (its host was off
 * while the others started, moved and numbered domains). Such a view must not lead: the
 * members must form a quorum on their own (a strict majority of the configured hosts),
 * or be every node of the quorate ring. Either way they include a member of the last
 * view that led, and the sync adopts its state. */
uint32_t sync_view_leader(bool quorate, const uint32_t *members, size_t nmembers,
			  size_t nnodes, size_t nconfigured);

/* The index of the newest state among n (NULL entries skipped): highest (epoch, seq),
 * the first on a tie; -1 if there is none. */
int sync_pick_newest(struct hax_state *const *states, size_t n);

#endif
