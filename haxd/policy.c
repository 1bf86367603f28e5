#include "policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool policy_dom_holds_host(const struct hax_domain *d)
{
	return d->host[0] && (d->state == DOM_STARTING || d->state == DOM_RUNNING ||
			      d->state == DOM_STOPPING || d->state == DOM_MIGRATING);
}

static bool dom_on_host(const struct hax_domain *d, const char *host)
{
	if (!policy_dom_holds_host(d))
		return false;
	return strcmp(d->host, host) == 0 ||
	       (d->state == DOM_MIGRATING && strcmp(d->target, host) == 0);
}

void policy_host_free(const struct hax_state *s, size_t h, int64_t *mem_free,
		      int64_t *vcpus_free)
{
	const struct hax_host *host = &s->hosts[h];
	int64_t mem = (int64_t)host->mem_total_mib, cpu = host->vcpus_total;
	size_t j;

	for (j = 0; j < s->ndomains; j++) {
		if (!dom_on_host(&s->domains[j], host->name))
			continue;
		mem -= s->domains[j].memory_mib;
		cpu -= s->domains[j].vcpus;
	}
	*mem_free = mem;
	*vcpus_free = cpu;
}

struct host_load {
	int64_t mem, cpu;
	int ndom;
};

static bool shares_tag(const struct hax_domain *a, const struct hax_domain *b)
{
	size_t i, k;

	for (i = 0; i < a->n_anti; i++)
		for (k = 0; k < b->n_anti; k++)
			if (strcmp(a->anti[i], b->anti[k]) == 0)
				return true;
	return false;
}

/* Anti-affinity against domains already on host h and those planned there this round. */
static bool tag_conflict(const struct hax_state *s, size_t h, const struct hax_domain *d,
			 const int *planned)
{
	size_t j;

	if (d->n_anti == 0)
		return false;
	for (j = 0; j < s->ndomains; j++) {
		const struct hax_domain *o = &s->domains[j];

		if (o == d || !shares_tag(d, o))
			continue;
		if (planned[j] == (int)h || (planned[j] < 0 && dom_on_host(o, s->hosts[h].name)))
			return true;
	}
	return false;
}

static int prefer_rank(const struct hax_domain *d, const char *host)
{
	size_t i;

	for (i = 0; i < d->n_prefer; i++)
		if (strcmp(d->prefer[i], host) == 0)
			return (int)i;
	return (int)d->n_prefer;
}

/* Better = preferred earlier, then fewer domains, then more free memory, then name. */
static bool better(const struct hax_state *s, const struct hax_domain *d,
		   const struct host_load *load, size_t a, size_t b)
{
	int ra = prefer_rank(d, s->hosts[a].name), rb = prefer_rank(d, s->hosts[b].name);

	if (ra != rb)
		return ra < rb;
	if (load[a].ndom != load[b].ndom)
		return load[a].ndom < load[b].ndom;
	if (load[a].mem != load[b].mem)
		return load[a].mem > load[b].mem;
	return strcmp(s->hosts[a].name, s->hosts[b].name) < 0;
}

static int place_one(const struct hax_state *s, const bool *host_ok, const bool *avoid,
		     struct host_load *load, const int *planned, size_t j, char *reason)
{
	const struct hax_domain *d = &s->domains[j];
	int best = -1, nok = 0, nmem = 0, ntag = 0, nfail = 0;
	size_t h;

	for (h = 0; h < s->nhosts; h++) {
		if (!host_ok[h] || s->hosts[h].maintenance)
			continue;
		if (avoid && avoid[j * s->nhosts + h]) {
			nfail++;
			continue;
		}
		nok++;
		if (load[h].mem < (int64_t)d->memory_mib || load[h].cpu < (int64_t)d->vcpus) {
			nmem++;
			continue;
		}
		if (tag_conflict(s, h, d, planned)) {
			ntag++;
			continue;
		}
		if (best < 0 || better(s, d, load, h, (size_t)best))
			best = (int)h;
	}
	if (best < 0) {
		if (nok == 0 && nfail > 0)
			snprintf(reason, STATE_REASON_MAX, "its start failed on every available host");
		else if (nok == 0)
			snprintf(reason, STATE_REASON_MAX, "no host available (online, not in maintenance)");
		else
			snprintf(reason, STATE_REASON_MAX,
				 "fits nowhere: %d host(s) short of %u MiB/%u vcpus, %d blocked by anti-affinity",
				 nmem, d->memory_mib, d->vcpus, ntag);
	}
	return best;
}

static bool before(const struct hax_state *s, size_t ia, size_t ib)
{
	const struct hax_domain *a = &s->domains[ia], *b = &s->domains[ib];

	if (a->priority != b->priority)
		return a->priority > b->priority;
	return strcmp(a->name, b->name) < 0;
}

/* Merge sort, stable and O(n log n) (an insertion sort was quadratic in domains on
 * every tick); qsort has no context pointer, and a global would make this impure. */
static void sort_by_priority(const struct hax_state *s, size_t *order)
{
	size_t n = s->ndomains, w, lo, *tmp, *a = order, *b;

	if (n < 2)
		return;
	tmp = hax_xcalloc(n, sizeof(*tmp));
	b = tmp;
	for (w = 1; w < n; w *= 2) {
		for (lo = 0; lo < n; lo += 2 * w) {
			size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
			size_t i = lo, j = mid, k = lo;

			while (i < mid && j < hi)
				b[k++] = before(s, a[j], a[i]) ? a[j++] : a[i++];
			while (i < mid)
				b[k++] = a[i++];
			while (j < hi)
				b[k++] = a[j++];
		}
		size_t *t = a;
		a = b;
		b = t;
	}
	if (a != order)
		memcpy(order, a, n * sizeof(*order));
	free(tmp);
}

void policy_plan(const struct hax_state *s, const bool *host_ok, const bool *wanted,
		 int *out_host, char (*reason)[STATE_REASON_MAX])
{
	policy_plan_avoiding(s, host_ok, wanted, NULL, out_host, reason);
}

void policy_plan_avoiding(const struct hax_state *s, const bool *host_ok, const bool *wanted,
			  const bool *avoid, int *out_host, char (*reason)[STATE_REASON_MAX])
{
	struct host_load *load = hax_xcalloc(s->nhosts, sizeof(*load));
	size_t *order = hax_xcalloc(s->ndomains, sizeof(*order));
	size_t h, j;

	for (h = 0; h < s->nhosts; h++) {
		policy_host_free(s, h, &load[h].mem, &load[h].cpu);
		for (j = 0; j < s->ndomains; j++)
			load[h].ndom += dom_on_host(&s->domains[j], s->hosts[h].name);
	}
	for (j = 0; j < s->ndomains; j++) {
		order[j] = j;
		out_host[j] = -1;
		reason[j][0] = '\0';
	}
	sort_by_priority(s, order);
	for (j = 0; j < s->ndomains; j++) {
		size_t k = order[j];
		int best;

		if (!wanted[k])
			continue;
		best = place_one(s, host_ok, avoid, load, out_host, k, reason[k]);
		out_host[k] = best;
		if (best < 0)
			continue;
		load[best].mem -= s->domains[k].memory_mib;
		load[best].cpu -= s->domains[k].vcpus;
		load[best].ndom++;
	}
	free(order);
	free(load);
}

void policy_plan_loss(const struct hax_state *s, const bool *host_ok, const bool *failed,
		      bool *wanted, int *out_host, char (*reason)[STATE_REASON_MAX])
{
	bool *ok = hax_xcalloc(s->nhosts ? s->nhosts : 1, sizeof(*ok));
	struct hax_state *v = state_clone(s);
	size_t h, j;

	for (h = 0; h < s->nhosts; h++)
		ok[h] = host_ok[h] && !failed[h];
	/* The failed hosts' domains are the ones to place, as if they held nothing. */
	for (j = 0; j < v->ndomains; j++) {
		wanted[j] = false;
		for (h = 0; h < v->nhosts; h++)
			if (failed[h] && policy_dom_holds_host(&v->domains[j]) &&
			    strcmp(v->domains[j].host, v->hosts[h].name) == 0)
				break;
		if (h == v->nhosts)
			continue;
		wanted[j] = v->domains[j].enabled;
		v->domains[j].state = DOM_RECOVERING;
	}
	policy_plan(v, ok, wanted, out_host, reason);
	state_free(v);
	free(ok);
}

/* Would every domain of the hosts in failed[] find a place on the others? */
static bool survives(const struct hax_state *s, const bool *host_ok, const bool *failed)
{
	size_t n = s->ndomains ? s->ndomains : 1, j;
	bool *wanted = hax_xcalloc(n, sizeof(*wanted));
	int *where = hax_xcalloc(n, sizeof(*where));
	char (*reason)[STATE_REASON_MAX] = hax_xcalloc(n, sizeof(*reason));
	bool good = true;

	policy_plan_loss(s, host_ok, failed, wanted, where, reason);
	for (j = 0; j < s->ndomains; j++)
		if (wanted[j] && where[j] < 0)
			good = false;
	free(reason);
	free(where);
	free(wanted);
	return good;
}

/* Try every set of k hosts among the usable ones (idx[0..n)); true if all survive. */
static bool all_subsets_survive(const struct hax_state *s, const bool *host_ok,
				const size_t *idx, size_t n, size_t k)
{
	size_t pick[POLICY_NK_EXACT_MAX], i;
	bool *failed = hax_xcalloc(s->nhosts, sizeof(*failed));
	bool good = true;

	for (i = 0; i < k; i++)
		pick[i] = i;
	for (;;) {
		memset(failed, 0, s->nhosts * sizeof(*failed));
		for (i = 0; i < k; i++)
			failed[idx[pick[i]]] = true;
		if (!survives(s, host_ok, failed)) {
			good = false;
			break;
		}
		/* next combination in lexicographic order */
		for (i = k; i > 0 && pick[i - 1] == n - k + i - 1; i--)
			;
		if (i == 0)
			break;
		pick[i - 1]++;
		for (; i < k; i++)
			pick[i] = pick[i - 1] + 1;
	}
	free(failed);
	return good;
}

int policy_tolerated_failures(const struct hax_state *s, const bool *host_ok)
{
	size_t idx[POLICY_NK_EXACT_MAX], n = 0, k, h;

	for (h = 0; h < s->nhosts && n < POLICY_NK_EXACT_MAX; h++)
		if (host_ok[h] && !s->hosts[h].maintenance)
			idx[n++] = h;
	if (n == 0)
		return 0;
	for (k = 1; k < n; k++)
		if (!all_subsets_survive(s, host_ok, idx, n, k))
			return (int)k - 1;
	return (int)n - 1;
}
