#include "plan.h"

#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "lib/util.h"

struct what_if {
	bool *ok, *failed, *wanted;
	int *where;
	char (*reason)[STATE_REASON_MAX];
	size_t *order;
};

static void what_if_alloc(const struct hax_state *s, struct what_if *w)
{
	size_t nh = s->nhosts ? s->nhosts : 1, nd = s->ndomains ? s->ndomains : 1, h;

	w->ok = hax_xcalloc(nh, sizeof(*w->ok));
	w->failed = hax_xcalloc(nh, sizeof(*w->failed));
	w->wanted = hax_xcalloc(nd, sizeof(*w->wanted));
	w->where = hax_xcalloc(nd, sizeof(*w->where));
	w->reason = hax_xcalloc(nd, sizeof(*w->reason));
	w->order = hax_xcalloc(nd, sizeof(*w->order));
	/* As the N+k count in status: the hosts that are online may take work. */
	for (h = 0; h < s->nhosts; h++)
		w->ok[h] = s->hosts[h].state == HOST_ONLINE;
}

static void what_if_free(struct what_if *w)
{
	free(w->ok);
	free(w->failed);
	free(w->wanted);
	free(w->where);
	free(w->reason);
	free(w->order);
}

static long host_index(const struct hax_state *s, const char *name)
{
	size_t h;

	for (h = 0; h < s->nhosts; h++)
		if (strcmp(s->hosts[h].name, name) == 0)
			return (long)h;
	return -1;
}

/* The leader's order: highest priority first, then name (policy's own rule). */
static bool before(const struct hax_domain *a, const struct hax_domain *b)
{
	return a->priority != b->priority ? a->priority > b->priority
					  : strcmp(a->name, b->name) < 0;
}

static json_t *error(const char *fmt, const char *arg)
{
	char msg[256];

	snprintf(msg, sizeof(msg), fmt, arg);
	return json_pack("{s:b, s:s}", "ok", 0, "error", msg);
}

json_t *plan_lose(const struct hax_state *s, const json_t *lose)
{
	struct what_if w;
	json_t *doms, *names = json_array(), *v;
	size_t i, j, k, n = 0, left = 0, stranded = 0;

	if (!json_is_array(lose) || json_array_size(lose) == 0) {
		json_decref(names);
		return error("%s", "plan --lose needs at least one host");
	}
	what_if_alloc(s, &w);
	json_array_foreach(lose, i, v) {
		const char *name = json_string_value(v);
		long h = name && hax_valid_name(name) ? host_index(s, name) : -1;

		if (h < 0 || w.failed[h]) {
			what_if_free(&w);
			json_decref(names);
			return error(h < 0 ? "no such host: %s" : "%s is named twice",
				     name && hax_valid_name(name) ? name : "(invalid name)");
		}
		w.failed[h] = true;
		json_array_append_new(names, json_string(name));
	}
	for (i = 0; i < s->nhosts; i++)
		left += w.ok[i] && !w.failed[i];
	policy_plan_loss(s, w.ok, w.failed, w.wanted, w.where, w.reason);
	for (j = 0; j < s->ndomains; j++) {
		if (!w.wanted[j])
			continue;
		for (k = n; k > 0 && before(&s->domains[j], &s->domains[w.order[k - 1]]); k--)
			w.order[k] = w.order[k - 1];
		w.order[k] = j;
		n++;
	}
	doms = json_array();
	for (k = 0; k < n; k++) {
		const struct hax_domain *d = &s->domains[w.order[k]];
		int to = w.where[w.order[k]];

		stranded += to < 0;
		json_array_append_new(doms, json_pack("{s:s, s:s, s:o, s:i, s:I, s:I, s:s}",
			"name", d->name, "from", d->host,
			"to", to < 0 ? json_null() : json_string(s->hosts[to].name),
			"priority", (int)d->priority, "memory_mib", (json_int_t)d->memory_mib,
			"vcpus", (json_int_t)d->vcpus, "reason", to < 0 ? w.reason[w.order[k]] : ""));
	}
	what_if_free(&w);
	/* votequorum's default: one vote per configured host, a strict majority to act. */
	return json_pack("{s:b, s:o, s:b, s:I, s:{s:I, s:I, s:I, s:b}, s:o}", "ok", 1, "lose",
			 names, "fits", stranded == 0, "stranded", (json_int_t)stranded, "quorum",
			 "hosts_total", (json_int_t)s->nhosts, "hosts_left", (json_int_t)left,
			 "majority", (json_int_t)(s->nhosts / 2 + 1), "quorate",
			 left >= s->nhosts / 2 + 1, "domains", doms);
}

json_t *plan_single_losses(const struct hax_state *s)
{
	json_t *out = json_array();
	struct what_if w;
	size_t h, j;

	what_if_alloc(s, &w);
	for (h = 0; h < s->nhosts; h++) {
		json_t *names = NULL;

		if (!w.ok[h] || s->hosts[h].maintenance)
			continue;
		w.failed[h] = true;
		policy_plan_loss(s, w.ok, w.failed, w.wanted, w.where, w.reason);
		w.failed[h] = false;
		for (j = 0; j < s->ndomains; j++) {
			if (!w.wanted[j] || w.where[j] >= 0)
				continue;
			if (!names)
				names = json_array();
			json_array_append_new(names, json_string(s->domains[j].name));
		}
		if (names)
			json_array_append_new(out, json_pack("{s:s, s:o}", "host", s->hosts[h].name,
							     "domains", names));
	}
	what_if_free(&w);
	return out;
}
