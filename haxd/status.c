#include "status.h"

#include <stdlib.h>
#include <string.h>

#include "plan.h"
#include "policy.h"

/* The newest fence record of a host, or NULL. */
static const struct hax_fence_record *last_fence(const struct hax_state *s, const char *host)
{
	size_t i;

	for (i = s->nfence; i > 0; i--)
		if (strcmp(s->fence[i - 1].host, host) == 0)
			return &s->fence[i - 1];
	return NULL;
}

static json_t *fence_json(const struct hax_fence_record *r)
{
	if (!r)
		return json_null();
	return json_pack("{s:b, s:s, s:s, s:I}", "ok", r->ok, "method", r->method, "detail",
			 r->detail, "time_ns", (json_int_t)r->time_ns);
}

/* Hosts not fenced yet whose last fence attempt failed: their domains cannot move. */
static int fence_failures(const struct hax_state *s)
{
	int n = 0;
	size_t i;

	for (i = 0; i < s->nhosts; i++) {
		const struct hax_fence_record *r = last_fence(s, s->hosts[i].name);

		if (r && !r->ok && (s->hosts[i].state == HOST_FENCING ||
				    s->hosts[i].state == HOST_SUSPECT ||
				    s->hosts[i].state == HOST_AGENT_LOST))
			n++;
	}
	return n;
}

static json_t *host_json(const struct hax_state *s, size_t h)
{
	const struct hax_host *host = &s->hosts[h];
	json_t *names = json_array();
	int64_t mem_free, cpu_free;
	size_t j;

	for (j = 0; j < s->ndomains; j++)
		if (policy_dom_holds_host(&s->domains[j]) &&
		    strcmp(s->domains[j].host, host->name) == 0)
			json_array_append_new(names, json_string(s->domains[j].name));
	policy_host_free(s, h, &mem_free, &cpu_free);
	return json_pack("{s:s, s:I, s:s, s:b, s:b, s:I, s:I, s:I, s:I, s:o, s:o}", "name",
			 host->name, "nodeid", (json_int_t)host->nodeid, "state",
			 host_state_name(host->state), "maintenance", host->maintenance,
			 "evacuating", host->evacuating,
			 "mem_total_mib", (json_int_t)host->mem_total_mib, "mem_free_mib",
			 (json_int_t)(mem_free > 0 ? mem_free : 0), "vcpus_total",
			 (json_int_t)host->vcpus_total, "watchdog_ms", (json_int_t)host->watchdog_ms,
			 "domains", names, "last_fence",
			 fence_json(last_fence(s, host->name)));
}

static json_t *domain_json(const struct hax_domain *d, const json_t *progress)
{
	const json_t *p = d->state == DOM_MIGRATING ? json_object_get(progress, d->name) : NULL;
	json_t *mig = json_null();

	if (p)
		mig = json_pack("{s:O, s:O, s:O, s:O, s:O, s:O}", "phase",
				json_object_get(p, "phase"), "bytes_done",
				json_object_get(p, "bytes_done"), "bytes_total",
				json_object_get(p, "bytes_total"), "percent",
				json_object_get(p, "percent"), "elapsed_ms",
				json_object_get(p, "elapsed_ms"), "downtime_ms",
				json_object_get(p, "downtime_ms"));
	return json_pack("{s:s, s:s, s:s, s:i, s:I, s:I, s:I, s:I, s:b, s:s, s:I, s:s, s:o}", "name",
			 d->name, "state", dom_state_name(d->state), "host", d->host, "priority",
			 (int)d->priority, "incarnation", (json_int_t)d->incarnation, "restarts",
			 (json_int_t)d->restarts, "memory_mib",
			 (json_int_t)d->memory_mib, "vcpus", (json_int_t)d->vcpus, "enabled",
			 d->enabled, "reason", d->reason, "since_ns", (json_int_t)d->since_ns,
			 "target", d->target, "migration", mig ? mig : json_null());
}

static int tolerates(const struct hax_state *s)
{
	bool *ok = hax_xcalloc(s->nhosts ? s->nhosts : 1, sizeof(*ok));
	size_t i;
	int k;

	for (i = 0; i < s->nhosts; i++)
		ok[i] = s->hosts[i].state == HOST_ONLINE;
	k = policy_tolerated_failures(s, ok);
	free(ok);
	return k;
}

json_t *status_json(const struct hax_state *s, const struct status_runtime *rt)
{
	json_t *hosts = json_array(), *doms = json_array();
	size_t i;

	for (i = 0; i < s->nhosts; i++)
		json_array_append_new(hosts, host_json(s, i));
	for (i = 0; i < s->ndomains; i++)
		json_array_append_new(doms, domain_json(&s->domains[i], rt->progress));
	return json_pack("{s:b, s:{s:s, s:b, s:s, s:I, s:I, s:s, s:s, s:i, s:i, s:I, s:o, s:I}, s:o, s:o}",
			 "ok", 1, "cluster", "name", rt->cluster, "quorate", rt->quorate,
			 "leader", rt->leader, "epoch", (json_int_t)s->epoch, "seq",
			 (json_int_t)s->seq, "mode", rt->mode, "self", rt->self, "fence_failures",
			 fence_failures(s), "tolerates_host_failures", tolerates(s), "leader_changes",
			 (json_int_t)rt->leader_changes, "stranded_by_one_loss",
			 plan_single_losses(s), "dropped_messages", (json_int_t)rt->dropped_messages,
			 "hosts",
			 hosts, "domains", doms);
}
