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

/* The members are a strict majority of the configured hosts (or the host is alone by
 * configuration): two such views always share a member, and the sync adopts its state.
 * A view that leads without it (every node of a quorate ring is a member, as in a
 * two-node cluster with a quorum device) leads as a minority (leader.h). */
bool sync_members_majority(size_t nmembers, size_t nconfigured);

/* The index of the newest state among n (NULL entries skipped): highest (epoch, seq),
 * the first on a tie; -1 if there is none. */
int sync_pick_newest(struct hax_state *const *states, size_t n);

/* The epoch a new leader with this nodeid proposes after cur, at wall-clock time now_ns:
 * the term in the high half, the nodeid in the low half. Two leaders never propose the
 * same epoch, so a version (epoch, seq) names one history. The term is the next one,
 * or the wall clock's second if that is later: where histories fork (a two-node cluster
 * whose halves led in turn, each after fencing the other), the one begun later sorts
 * newer, as long as the hosts' clocks agree better than a fence takes. */
uint64_t sync_next_epoch(uint64_t cur, uint32_t nodeid, uint64_t now_ns);

/* The first incarnation a leader hands out in the term of epoch, as the host of the
 * given rank (its place among the configured nodeids, sorted; 0..63): the term in the
 * top 31 bits, the rank in the next 6, then a counter of 2^26 starts. Two leaders never
 * hand out the same incarnation, even in histories that never meet (an incarnation
 * names one start on one host: the guest journal's oracle relies on it). */
uint64_t sync_first_incarnation(uint64_t epoch, unsigned rank);

/* The rank of nodeid among the n configured nodeids (sorted), for the above. */
unsigned sync_rank(const uint32_t *nodeids, size_t n, uint32_t nodeid);

/* The sync adopts states[best] with the highest incarnation any member handed out: a
 * history that lost the merge may have numbered starts the winner never saw, and an
 * incarnation names one start on one host. */
void sync_merge_incarnations(struct hax_state *const *states, size_t n, int best);

#endif
