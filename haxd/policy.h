/*
 * Placement decisions: pure functions of a read-only state and the leader's view of which
 * hosts may take work. No I/O, no clock, no globals (STYLE.md habit 3).
 */
#ifndef HAX_POLICY_H
#define HAX_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "state.h"

/* Domain states whose memory and vcpus count against their host. */
bool policy_dom_holds_host(const struct hax_domain *d);

/* Plan placements. host_ok[i] says whether s->hosts[i] may receive work now (online, in
 * the quorate partition, inventory reported); maintenance is checked here. wanted[j] says
 * whether s->domains[j] needs a host. Domains are placed highest priority first (then by
 * name), each one counting the placements made before it. On return, out_host[j] is the
 * chosen host index or -1; for -1 with wanted[j], reason[j] says why. */
void policy_plan(const struct hax_state *s, const bool *host_ok, const bool *wanted,
		 int *out_host, char (*reason)[STATE_REASON_MAX]);

/* The same, where avoid (NULL = none; else ndomains x nhosts, row-major) marks hosts a
 * domain must not go to now (a start that just failed there). */
void policy_plan_avoiding(const struct hax_state *s, const bool *host_ok, const bool *wanted,
			  const bool *avoid, int *out_host, char (*reason)[STATE_REASON_MAX]);

/* What-if: the hosts in failed[] die now. wanted[j] (written) says whether domain j ran
 * there and, enabled, would be restarted; out_host/reason as policy_plan for those, on
 * the other host_ok hosts. The placement N+k and haxctl plan --lose share. */
void policy_plan_loss(const struct hax_state *s, const bool *host_ok, const bool *failed,
		      bool *wanted, int *out_host, char (*reason)[STATE_REASON_MAX]);

/* Free memory (MiB) and vcpus of host index h given the current assignments. */
void policy_host_free(const struct hax_state *s, size_t h, int64_t *mem_free,
		      int64_t *vcpus_free);

/* How many simultaneous host failures the current placement survives (N+k): the largest
 * k such that for every set of k usable hosts (host_ok and not in maintenance), all their
 * enabled domains fit on the rest. Exact over the first POLICY_NK_EXACT_MAX usable hosts. */
#define POLICY_NK_EXACT_MAX 16
int policy_tolerated_failures(const struct hax_state *s, const bool *host_ok);

#endif
