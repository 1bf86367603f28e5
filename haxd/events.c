#include "events.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/loop.h"

#define EVENTS_KEEP 1000

struct event {
	uint64_t time_ns;
	char name[40];
	char text[256];
};

/* The ring is process state by nature: one daemon, one event history. */
static struct event ring[EVENTS_KEEP];
static size_t ring_next, ring_count;

void event_emit(const char *name, const char *fmt, ...)
{
	struct event *e = &ring[ring_next];
	va_list ap;

	e->time_ns = hax_now_real_ns();
	hax_strlcpy(e->name, name, sizeof(e->name));
	va_start(ap, fmt);
	vsnprintf(e->text, sizeof(e->text), fmt, ap);
	va_end(ap);
	ring_next = (ring_next + 1) % EVENTS_KEEP;
	if (ring_count < EVENTS_KEEP)
		ring_count++;
	hax_log(strcmp(name, "+double-run") == 0 || strcmp(name, "+fence-failed") == 0 ? LOG_CRIT
											: LOG_NOTICE,
		"%s %s", name, e->text);
}

json_t *events_json(void)
{
	json_t *arr = json_array();
	size_t i, start = (ring_next + EVENTS_KEEP - ring_count) % EVENTS_KEEP;

	for (i = 0; i < ring_count; i++) {
		const struct event *e = &ring[(start + i) % EVENTS_KEEP];

		json_array_append_new(arr, json_pack("{s:I, s:s, s:s}", "time_ns",
						     (json_int_t)e->time_ns, "event", e->name,
						     "text", e->text));
	}
	return arr;
}

static void domain_events(const struct hax_domain *o, const struct hax_domain *n)
{
	char name[48];

	if (!o) {
		event_emit("+domain", "%s added (%u MiB, %u vcpus, priority %d)", n->name,
			   n->memory_mib, n->vcpus, n->priority);
		return;
	}
	if (o->enabled != n->enabled)
		event_emit(n->enabled ? "+enabled" : "-enabled", "%s", n->name);
	if (o->state == n->state && strcmp(o->host, n->host) == 0 &&
	    strcmp(o->target, n->target) == 0)
		return;
	if (o->state == DOM_MIGRATING && n->state == DOM_RUNNING && strcmp(o->host, n->host)) {
		event_emit("+migrated", "%s from %s to %s incarnation %llu", n->name, o->host,
			   n->host, (unsigned long long)n->incarnation);
		return;
	}
	snprintf(name, sizeof(name), "+%s", dom_state_name(n->state));
	event_emit(name, "%s%s%s%s%s incarnation %llu%s%s", n->name, n->host[0] ? " on " : "",
		   n->host, n->target[0] ? " to " : "", n->target,
		   (unsigned long long)n->incarnation, n->reason[0] ? ": " : "", n->reason);
}

static void host_events(const struct hax_host *o, const struct hax_host *n)
{
	char name[48];

	if (!o || o->state != n->state) {
		snprintf(name, sizeof(name), "+%s", host_state_name(n->state));
		event_emit(name, "host %s (nodeid %u)", n->name, n->nodeid);
	}
	if (o && o->maintenance != n->maintenance)
		event_emit(n->maintenance ? "+maintenance" : "-maintenance", "host %s", n->name);
	if (o && o->evacuating != n->evacuating)
		event_emit(n->evacuating ? "+evacuating" : "-evacuating", "host %s", n->name);
}

/* Fence records appended since old: each failure is an event of its own. */
static void fence_events(const struct hax_state *old, const struct hax_state *new)
{
	uint64_t last = old->nfence ? old->fence[old->nfence - 1].time_ns : 0;
	size_t i;

	for (i = 0; i < new->nfence; i++) {
		const struct hax_fence_record *r = &new->fence[i];

		if (r->time_ns <= last)
			continue;
		if (r->ok)
			event_emit("+fence-ok", "host %s by %s: %s", r->host, r->method, r->detail);
		else
			event_emit("+fence-failed", "host %s: %s", r->host, r->detail);
	}
}

void events_diff(const struct hax_state *old, const struct hax_state *new)
{
	size_t i;

	if (!old || !new)
		return;
	fence_events(old, new);
	for (i = 0; i < new->nhosts; i++)
		host_events(state_host(old, new->hosts[i].name), &new->hosts[i]);
	for (i = 0; i < new->ndomains; i++)
		domain_events(state_domain(old, new->domains[i].name), &new->domains[i]);
	for (i = 0; i < old->ndomains; i++)
		if (!state_domain(new, old->domains[i].name))
			event_emit("-domain", "%s removed", old->domains[i].name);
}
