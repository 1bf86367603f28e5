/*
 * Events: every state transition, once, on change, through one function (STYLE.md
 * habit 6). Named "+STATE"/"-STATE" (e.g. "+running", "-maintenance"); logged and kept
 * in a bounded ring for `haxctl events`.
 */
#ifndef HAX_EVENTS_H
#define HAX_EVENTS_H

#include <jansson.h>

#include "state.h"

/* Emit the events that lead from old to new (either may be NULL: nothing to compare). */
void events_diff(const struct hax_state *old, const struct hax_state *new);

/* One event by name with a free-text subject line. */
void event_emit(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The retained events, oldest first: [{"time_ns","event","text"}] (new reference). */
json_t *events_json(void);

#endif
