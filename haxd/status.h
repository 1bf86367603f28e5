/* The status document shared by haxctl status --json, check_haxd and the man page. */
#ifndef HAX_STATUS_H
#define HAX_STATUS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "state.h"

struct status_runtime {
	const char *cluster;
	bool quorate;
	const char *leader;       /* host name, "" when there is none */
	const char *self;         /* the host answering */
	const char *mode;         /* "standalone" or "cluster" */
	const json_t *progress;   /* {domain: the last migration progress report}; may be NULL */
	uint64_t leader_changes;  /* leader changes this haxd saw since it started */
	uint64_t dropped_messages; /* cluster messages refused (version, shape) since start */
};

/* {"ok":true,"cluster":{"name","quorate","leader","epoch","seq","mode","self",
 *             "fence_failures","tolerates_host_failures","leader_changes",
 *             "stranded_by_one_loss":[{"host","domains":[names]}],
 *             "dropped_messages"},
 *  "hosts":[{"name","nodeid","state","maintenance","evacuating","mem_total_mib","mem_free_mib",
 *            "vcpus_total","domains":[names],
 *            "last_fence":null|{"ok","method","detail","time_ns"}}],
 *  "domains":[{"name","state","host","priority","incarnation","memory_mib","vcpus",
 *              "enabled","reason","since_ns","target",
 *              "migration":null|{"phase","bytes_done","bytes_total","percent",
 *                                "elapsed_ms","downtime_ms"}}]}  (new reference) */
json_t *status_json(const struct hax_state *s, const struct status_runtime *rt);

#endif
