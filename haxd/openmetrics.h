/*
 * haxctl status --openmetrics: the status document in the OpenMetrics text format
 * (check_haxd's cluster metrics, then per-host and per-domain gauges, "# EOF" last),
 * written so that the Prometheus text parser of node_exporter's textfile collector reads
 * it too: only gauge and counter families, states as a "state" label. Pure: no I/O.
 */
#ifndef HAX_OPENMETRICS_H
#define HAX_OPENMETRICS_H

#include <jansson.h>

/* The exposition of a status reply (malloc'd); NULL if it is a refusal or malformed. */
char *openmetrics_text(const json_t *status);

/* What to expose when haxd cannot be asked: hax_up 0 alone (malloc'd). */
char *openmetrics_down(void);

#endif
