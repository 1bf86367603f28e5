/*
 * State changes: the only way the replicated state moves. The leader builds a change,
 * every member (the leader too) applies it in delivery order and persists the result.
 * A change is a JSON object {"op": NAME, ...}; each applied change bumps seq by one.
 * Pure code: no I/O, no logging.
 */
#ifndef HAX_CHANGE_H
#define HAX_CHANGE_H

#include <jansson.h>
#include <stddef.h>

#include "state.h"

/* Apply one change to s. 0, or -EINVAL (malformed or inapplicable, message in err) with s
 * unchanged. Ops:
 *   {"op":"epoch","epoch":N,["members":[host...]]}   new leader term (N > current)
 *   {"op":"host-set","name","nodeid",["state"],["maintenance"],["mem_total_mib"],
 *    ["mem_free_mib"],["vcpus_total"],["watchdog_ms"]}  adds the host if absent
 *   {"op":"domain-add","domain":{...}}               a domain_to_json object
 *   {"op":"domain-remove","name"}
 *   {"op":"domain-set","name",["enabled"],["state"],["host"],["target"],["incarnation"],
 *    ["start_attempts"],["reason"]}                 incarnation must not go backwards
 *   {"op":"fence-record","record":{host,time_ns,ok,method,detail}}
 * "now_ns" (optional, every op) stamps since_ns of what changed state. */
int change_apply(struct hax_state *s, const json_t *change, char *err, size_t errlen);

/* Builders for the common changes; each returns a new reference. */
json_t *change_domain_set(const char *name);   /* add members with json_object_set_new */
json_t *change_host_set(const char *name, uint32_t nodeid);

#endif
