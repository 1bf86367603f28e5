/*
 * The agent role, on every host: runs the leader's commands through the hypervisor
 * driver, one operation per domain at a time, and reports the host's inventory.
 * Messages in and out are JSON objects; how they travel (a direct call in standalone
 * mode, CPG in a cluster) is the caller's business, behind struct agent_out.
 */
#ifndef HAX_AGENT_H
#define HAX_AGENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "hv.h"

struct agent_out {
	void *opaque;
	/* {"op":"inventory","host","nodeid","domains":[{name,incarnation,state,memory_mib,
	 *  vcpus}],"busy":[names],"mem_total_mib","vcpus_total","gen"}; borrowed reference.
	 * gen counts completed operations when the list began: an inventory older than a
	 * result (result gen > inventory gen) may miss what that operation did. */
	void (*inventory)(void *opaque, const json_t *inv);
	/* {"op":"result","host","cmd","name","incarnation","ok","error","gen"}; borrowed. */
	void (*result)(void *opaque, const json_t *res);
	/* {"op":"progress","host","name","target","phase","bytes_done","bytes_total",
	 *  "percent","downtime_ms","elapsed_ms"} during a migrate-out, at most
	 *  AGENT_PROGRESS_MS apart (and the last one); borrowed. NULL: not reported. */
	void (*progress)(void *opaque, const json_t *prog);
	/* Asked before a start or migrate-in runs: 0 lets it run; -errno refuses it, and
	 * the result says why (err). NULL: always allowed. (Watchdog fencing: a host whose
	 * device is not armed must not take domains the leader would later wait out.) */
	int (*may_start)(void *opaque, char *err, size_t errlen);
	/* Whether hax manages the domain called name: the no-quorum policy stops or
	 * freezes only those (an operator's own VMs on the host are not hax's to touch).
	 * NULL: every domain listed. */
	bool (*managed)(void *opaque, const char *name);
};

#define AGENT_PROGRESS_MS 500

struct agent;

/* Starts polling the driver every poll_ms; NULL + err on failure (driver init). */
struct agent *agent_new(const struct hv_ops *driver, const struct hv_host *host,
			uint64_t poll_ms, const struct agent_out *out, char *err, size_t errlen);
/* Cancels in-flight operations (domains keep running) and frees; accepts NULL. */
void agent_free(struct agent *a);

/* A command from the leader:
 *   {"op":"start","domain":{name,definition,memory_mib,vcpus},"incarnation":N}
 *   {"op":"stop","name","timeout_ms"}   {"op":"destroy","name"}
 *   {"op":"migrate-in","domain":{...as start},"incarnation":N,"source","listen_addr"}
 *       (target: get ready; the result carries "uri" for the source)
 *   {"op":"migrate-out","name","incarnation":N,"target","target_addr","uri","timeout_ms"}
 *       (source: send; progress reports, then the result)
 * Exactly one result follows, possibly at once (a bad command, a busy domain). */
void agent_command(struct agent *a, const json_t *cmd);

/* The no-quorum policy, for a host cut off from the quorate partition: stop every
 * managed domain (graceful, destroyed after stop_timeout_ms) or freeze them in place.
 * Done once per isolation; agent_rejoined() thaws the domains it froze (no others) when
 * quorum returns (a host that was fenced meanwhile has them destroyed by the leader
 * instead). */
void agent_isolated(struct agent *a, bool freeze, uint64_t stop_timeout_ms);
void agent_rejoined(struct agent *a);

/* Report the inventory at the next poll even if unchanged (a new leader's sync). */
void agent_request_inventory(struct agent *a);

/* A fresh inventory: listed after this call, with the operations in flight at the time
 * it completes, and no operation completed in between (a stale list is redone). fn gets
 * a borrowed reference; it is not called if the agent is freed first. */
typedef void (*agent_snapshot_fn)(void *opaque, const json_t *inv);
void agent_snapshot(struct agent *a, agent_snapshot_fn fn, void *opaque);

/* Operations in flight now (starts, stops, migrations...), whatever the last list said. */
size_t agent_ops_in_flight(const struct agent *a);

/* The last inventory sent (borrowed; NULL before the first). */
const json_t *agent_last_inventory(const struct agent *a);

#endif
