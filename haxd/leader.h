/*
 * The leader role: observes agents' inventories and results, decides in one tick, and
 * acts only through its ops (propose a state change, command an agent). It reads the
 * replicated state but never writes it: every change goes through ops->propose, which
 * applies it locally in standalone mode and multicasts it in a cluster.
 */
#ifndef HAX_LEADER_H
#define HAX_LEADER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "../conf/conf.h"
#include "state.h"

struct leader_ops {
	void *opaque;
	/* The current replicated state (owned by the caller, changes as proposals apply). */
	const struct hax_state *(*state)(void *opaque);
	/* Replicate a change (reference stolen); 0 or -errno. */
	int (*propose)(void *opaque, json_t *change);
	/* Send a command to the agent of host (reference stolen); 0 or -errno. */
	int (*command)(void *opaque, const char *host, json_t *cmd);
	/* Check a hypervisor definition; 0 or -EINVAL + err. */
	int (*validate)(void *opaque, const char *definition, char *err, size_t errlen);
	/* Fence host with device dev (index into conf->fences); done(data, result, msg)
	 * once, from the loop. 0 with *handle, or -errno. */
	int (*fence)(void *opaque, const char *host, uint32_t nodeid, int dev, bool dry_run,
		     void (*done)(void *data, int result, const char *msg), void *data,
		     void **handle);
	void (*fence_cancel)(void *opaque, void *handle);
	/* May d be started or restarted now? false while SCSI fencing is not known to be
	 * in force on a storage it uses, with the reason in why. NULL: always. */
	bool (*start_ok)(void *opaque, const struct hax_domain *d, char *why, size_t len);
	/* Wall and monotonic clocks, in ns (a simulator provides its own). */
	uint64_t (*now_real)(void *opaque);
	uint64_t (*now_mono)(void *opaque);
	/* The hypervisor driver migrates live (the guest keeps its incarnation) rather than
	 * stop-and-copy (the target copy gets a new one). */
	bool migrate_live;
	/* This host's name: a peer's fence request (DRBD fence-peer) never fences it. */
	const char *self;
	/* The view's haxd members are not a strict majority of the configured hosts (a two-
	 * node cluster with a quorum device, or votequorum's tie-breaker): the state may be
	 * older than one the others wrote meanwhile, fenced marks included, so nothing is
	 * started until this leader has itself fenced every host outside the view. */
	bool minority;
	/* Where this term's incarnations begin (sync_first_incarnation); 0: after the
	 * state's last one. */
	uint64_t first_incarnation;
};

struct leader;

struct leader *leader_new(const struct hax_conf *conf, const struct leader_ops *ops);
void leader_free(struct leader *l);   /* accepts NULL */

/* Membership: member = its haxd is in this view; alive = its corosync is in this view
 * (alive and not member: haxd died, "agent-lost"). A host that stops being a member
 * loses its inventory. */
void leader_set_member(struct leader *l, const char *host, uint32_t nodeid, bool member,
		       bool alive);

/* Facts from agents (borrowed references); malformed ones are dropped and logged. */
void leader_on_inventory(struct leader *l, const json_t *inv);
void leader_on_result(struct leader *l, const json_t *res);

/* Decide and act once. Does nothing until every member has reported an inventory. */
void leader_tick(struct leader *l);

/* An operator request ({"cmd": "domain-add"|"domain-remove"|"domain-enable"|
 * "domain-disable"|"fence"|"fence-ack"|"migrate"|"evacuate"|"maintenance", ...}); returns
 * the reply {"ok":bool,"error":...} (new reference). evacuate with "dry_run" (and every
 * evacuate) answers "plan":[{"domain","target"|null,"reason"}] and "fits". */
json_t *leader_request(struct leader *l, const json_t *req);

/* What one leader's term hands the next term on the same host: every view change ends
 * a term (node.c makes a new leader), but a host agent-lost for a while is still so, and
 * a fence that kept failing still backs off. Without this a cluster whose views change
 * more often than agent_lost_timeout never fences an agent-lost host, and every view
 * change retries failed fences at once. Per host, monotonic ns / ms. */
#define LEADER_MEMORY_HOSTS 64
struct leader_memory {
	size_t n;
	struct {
		char host[HAX_NAME_MAX];
		uint64_t lost_since_ns, next_try_ns, backoff_ms;
	} h[LEADER_MEMORY_HOSTS];
};
void leader_remember(const struct leader *l, struct leader_memory *m);
/* After leader_set_member for every host; hosts unknown to l are skipped. */
void leader_recall(struct leader *l, const struct leader_memory *m);

/* Per-host runtime facts for status: is it a member, has it reported. */
bool leader_host_reported(const struct leader *l, const char *host);

#endif
