/*
 * What-if (haxctl plan --lose, check_haxd's stranded_by_one_loss): what the leader would
 * do if some hosts died now, from the replicated state and the same pure placement code
 * the leader and the N+k count use (policy_plan_loss). Pure: no I/O, no clock; changes
 * nothing.
 */
#ifndef HAX_PLAN_H
#define HAX_PLAN_H

#include <jansson.h>
#include <stddef.h>

#include "state.h"

/* The hosts named in lose (a JSON array of names) die now. Reply (new reference):
 * {"ok":true, "lose":[names], "fits":bool, "stranded":N,
 *  "quorum":{"hosts_total","hosts_left","majority","quorate"},
 *  "domains":[{"name","from","to"|null,"priority","memory_mib","vcpus","reason"}]}
 * in the order the leader would place them (highest priority first, then name); or
 * {"ok":false,"error"} for an empty list, a bad or unknown name or a repeated one. */
json_t *plan_lose(const struct hax_state *s, const json_t *lose);

/* For every online host not in maintenance whose loss alone would leave some enabled
 * domain with nowhere to go: [{"host", "domains":[names]}] (new reference; [] = none). */
json_t *plan_single_losses(const struct hax_state *s);

#endif
