/*
 * Leader: observe (inventories, results, membership), then decide in one tick.
 * Safety rules enforced here (DESIGN.md "Never two writers"):
 *  - nothing is started before every member has reported its inventory;
 *  - a domain is started only when its last host is known safe: that host is a member
 *    whose inventory does not list it (fencing adds "fenced" as safe);
 *  - one operation per domain at a time; an agent that reports a domain busy is waited for;
 *  - a domain reported on two hosts is a double run: the older incarnation is destroyed.
 */
#include "leader.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "change.h"
#include "lib/loop.h"
#include "policy.h"

#define LEADER_MAX_HOSTS 64
#define FENCE_BACKOFF_MAX_MS 300000

struct leader;
struct lhost;

struct fence_cb {
	struct leader *l;
	struct lhost *h;
	int slot;
};

/* One host being fenced by this leader: levels in order, the devices of a level in
 * parallel, a level confirmed when all its devices are. */
struct fence_run {
	bool active;
	bool manual;             /* haxctl fence: runs even against a live member */
	int level;
	int pending;             /* devices of the level still running */
	bool level_ok;
	char why[STATE_REASON_MAX];
	void *ops[CONF_MAX_LEVEL_DEVS];
	struct fence_cb cbs[CONF_MAX_LEVEL_DEVS];
	uint64_t next_try_ns;    /* monotonic; retries back off */
	uint64_t backoff_ms;
	uint64_t lost_since_ns;  /* monotonic; when it was first seen agent-lost */
};

struct lhost {
	char name[HAX_NAME_MAX];
	uint32_t nodeid;
	bool member;
	bool alive;              /* in corosync's membership */
	json_t *inv;             /* last inventory; NULL = not reported since joining */
	uint64_t need_gen;       /* an inventory older than this predates a result */
	uint64_t unreported_since_ns; /* monotonic; a member without a fresh inventory since */
	bool fenced_here;        /* this leader confirmed its fence (or the operator's ack) */
	struct fence_run fr;
};

static bool inv_fresh(const struct lhost *h)
{
	return h->inv && (uint64_t)json_integer_value(json_object_get(h->inv, "gen")) >= h->need_gen;
}


struct pending {
	char name[HAX_NAME_MAX];
	char cmd[16];
	char host[HAX_NAME_MAX];
	uint64_t incarnation;
	uint64_t deadline_ns;    /* monotonic; past it the operation is forgotten */
	uint32_t settle_attempts; /* "settle": wait until the state shows this many */
	uint64_t not_before_ns;   /* "settle": and retry no sooner (monotonic) */
};

/* A host where a domain's start just failed: the retry goes elsewhere. */
struct avoid {
	char dom[HAX_NAME_MAX];
	char host[HAX_NAME_MAX];
};

/* Failed migrations of a domain since its last success: retries are bounded. */
struct migfail {
	char dom[HAX_NAME_MAX];
	uint32_t n;
};

#define MIGRATE_RETRIES 3

/* A DRBD peer's fence request that won its resource (see peer_fence_check). */
#define PEER_FENCE_MAX 64
#define PEER_RESOURCE_MAX 128
struct peer_fence {
	char resource[PEER_RESOURCE_MAX];
	char requester[HAX_NAME_MAX];
	char target[HAX_NAME_MAX];
};

/* One domain in one inventory. The sightings of a name are linked through next, in
 * host then inventory order; entry is borrowed from that host's inventory. */
struct seen {
	size_t host;             /* index in leader.hosts */
	const json_t *entry;
	size_t next;             /* SIZE_MAX: the last sighting of that name */
};

struct leader {
	/* The inventories indexed by domain name, so that a tick is linear in domains (a
	 * scan of every inventory per domain was quadratic). Built on first use, dropped
	 * whenever an inventory changes. */
	json_t *seen_index;      /* name -> integer: its first struct seen; NULL: rebuild */
	json_t *busy_index;      /* name -> true: some agent reports it busy */
	struct seen *seen;
	size_t nseen;
	size_t navoid;
	struct avoid *avoid;
	size_t nmigfail;
	struct migfail *migfail;
	const struct hax_conf *conf;
	struct leader_ops ops;
	size_t nhosts;
	struct lhost hosts[LEADER_MAX_HOSTS];
	size_t npend;
	struct pending *pend;
	uint64_t next_inc;       /* next incarnation to hand out */
	uint64_t last_tick_ns;   /* monotonic, of the last leader_tick() */
	uint64_t tilt_until_ns;  /* TILT: no new fence before this (monotonic) */
	size_t npeerf;
	struct peer_fence peerf[PEER_FENCE_MAX];
};

/* A member that has not reported a fresh inventory for agent_lost_timeout: its agent
 * cannot list (a wedged hypervisor), and it is handled as agent-lost. */
static bool wedged(const struct leader *l, const struct lhost *h)
{
	return h->member && h->unreported_since_ns &&
	       l->ops.now_mono(l->ops.opaque) - h->unreported_since_ns >=
		       l->conf->cluster.agent_lost_timeout_ms * 1000000ull;
}

static const struct hax_state *cur(const struct leader *l)
{
	return l->ops.state(l->ops.opaque);
}

static void propose(struct leader *l, json_t *change)
{
	int r;

	json_object_set_new(change, "now_ns", json_integer((json_int_t)l->ops.now_real(l->ops.opaque)));
	r = l->ops.propose(l->ops.opaque, change);
	if (r < 0)
		hax_log(LOG_ERR, "leader: cannot replicate a change: %s", strerror(-r));
}

static struct lhost *lhost(struct leader *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->nhosts; i++)
		if (strcmp(l->hosts[i].name, name) == 0)
			return &l->hosts[i];
	return NULL;
}

struct leader *leader_new(const struct hax_conf *conf, const struct leader_ops *ops)
{
	struct leader *l = hax_xcalloc(1, sizeof(*l));

	l->next_inc = ops->first_incarnation;
	l->conf = conf;
	l->ops = *ops;
	return l;
}

/* Drop the index of the inventories: one of them changed. */
static void index_drop(struct leader *l)
{
	json_decref(l->seen_index);
	json_decref(l->busy_index);
	l->seen_index = l->busy_index = NULL;
	free(l->seen);
	l->seen = NULL;
	l->nseen = 0;
}

static void index_build(struct leader *l)
{
	size_t i, k, n = 0;

	if (l->seen_index)
		return;
	for (i = 0; i < l->nhosts; i++)
		n += json_array_size(json_object_get(l->hosts[i].inv, "domains"));
	l->seen = hax_xcalloc(n ? n : 1, sizeof(*l->seen));
	l->seen_index = json_object();
	l->busy_index = json_object();
	/* Backwards, each sighting put first: the lists come out in host, then entry order. */
	for (i = l->nhosts; i-- > 0;) {
		const json_t *doms = json_object_get(l->hosts[i].inv, "domains");
		const json_t *busy = json_object_get(l->hosts[i].inv, "busy");

		for (k = json_array_size(doms); k-- > 0;) {
			const json_t *d = json_array_get(doms, k);
			const char *name = json_string_value(json_object_get(d, "name"));
			const json_t *first;

			if (!name)
				continue;
			first = json_object_get(l->seen_index, name);
			l->seen[l->nseen] = (struct seen){
			    .host = i, .entry = d,
			    .next = first ? (size_t)json_integer_value(first) : SIZE_MAX};
			json_object_set_new(l->seen_index, name, json_integer((json_int_t)l->nseen));
			l->nseen++;
		}
		for (k = 0; k < json_array_size(busy); k++)
			if (json_is_string(json_array_get(busy, k)))
				json_object_set_new(l->busy_index,
						    json_string_value(json_array_get(busy, k)),
						    json_true());
	}
}

static void fence_cancel_all(struct leader *l, struct lhost *h);
static void fence_tick(struct leader *l);
static bool settling(struct leader *l, const struct hax_domain *d);
static json_t *req_fence(struct leader *l, const json_t *req, bool ack);
static void migrate_in_done(struct leader *l, const struct hax_domain *d, const char *host,
			    bool ok, const char *error, const json_t *res);
static void migrate_out_done(struct leader *l, const struct hax_domain *d, bool ok,
			     const char *error);
static void evacuate_tick(struct leader *l);

void leader_free(struct leader *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->nhosts; i++) {
		fence_cancel_all(l, &l->hosts[i]);
		json_decref(l->hosts[i].inv);
	}
	index_drop(l);
	free(l->pend);
	free(l->avoid);
	free(l->migfail);
	free(l);
}

void leader_set_member(struct leader *l, const char *host, uint32_t nodeid, bool member,
		       bool alive)
{
	struct lhost *h = lhost(l, host);

	if (!h) {
		if (l->nhosts == LEADER_MAX_HOSTS)
			return;
		h = &l->hosts[l->nhosts++];
		hax_strlcpy(h->name, host, sizeof(h->name));
	}
	h->nodeid = nodeid;
	if (h->member != member) {
		json_decref(h->inv);
		h->inv = NULL;
		index_drop(l);
	}
	/* A host that left answers nothing more: its operations are forgotten now rather
	 * than at their deadline, so that recovery (after the fence) is not held up. */
	if (h->member && !member) {
		size_t i = 0;

		while (i < l->npend) {
			if (strcmp(l->pend[i].host, host) == 0 &&
			    strcmp(l->pend[i].cmd, "settle") != 0) {
				hax_log(LOG_NOTICE, "leader: %s left: forgetting its %s %s", host,
					l->pend[i].cmd, l->pend[i].name);
				l->pend[i] = l->pend[--l->npend];
				continue;
			}
			i++;
		}
	}
	h->member = member;
	h->alive = alive || member;
}

bool leader_host_reported(const struct leader *l, const char *host)
{
	const struct lhost *h = lhost((struct leader *)l, host);

	return h && h->member && h->inv;
}

void leader_on_inventory(struct leader *l, const json_t *inv)
{
	const char *host = json_string_value(json_object_get(inv, "host"));
	struct lhost *h = host ? lhost(l, host) : NULL;

	if (!h || !h->member || !json_is_array(json_object_get(inv, "domains")) ||
	    !json_is_array(json_object_get(inv, "busy"))) {
		hax_log(LOG_WARNING, "leader: inventory from %s dropped (unknown host or malformed)",
			host ? host : "?");
		return;
	}
	json_decref(h->inv);
	h->inv = json_deep_copy(inv);
	index_drop(l);
}

/* After a result, that host's inventory is stale until one listed after it arrives. */
static void note_result_gen(struct leader *l, const char *host, const json_t *res)
{
	struct lhost *h = lhost(l, host);
	uint64_t gen = (uint64_t)json_integer_value(json_object_get(res, "gen"));

	if (h && gen > h->need_gen)
		h->need_gen = gen;
}

/* ---- pending operations ---- */

static struct pending *pending(struct leader *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->npend; i++)
		if (strcmp(l->pend[i].name, name) == 0)
			return &l->pend[i];
	return NULL;
}

static void pending_del(struct leader *l, struct pending *p)
{
	*p = l->pend[--l->npend];
}

static void command(struct leader *l, const char *host, const char *name, json_t *cmd,
		    uint64_t inc, uint64_t timeout_ms)
{
	struct pending *p;
	const char *op = json_string_value(json_object_get(cmd, "op"));
	const struct hax_domain *d = state_domain(cur(l), name);

	/* An agent that takes a domain off its host releases what the definition names
	 * (DRBD resources made Secondary): it needs the definition for that. */
	if (d && d->definition && !json_object_get(cmd, "domain") &&
	    (strcmp(op, "stop") == 0 || strcmp(op, "destroy") == 0 ||
	     strcmp(op, "migrate-out") == 0))
		json_object_set_new(cmd, "definition", json_string(d->definition));
	l->pend = hax_xrealloc(l->pend, (l->npend + 1) * sizeof(*l->pend));
	p = &l->pend[l->npend++];
	memset(p, 0, sizeof(*p));
	hax_strlcpy(p->name, name, sizeof(p->name));
	hax_strlcpy(p->cmd, op, sizeof(p->cmd));
	hax_strlcpy(p->host, host, sizeof(p->host));
	p->incarnation = inc;
	/* The agent bounds each operation itself; this only forgets a lost answer. */
	p->deadline_ns = l->ops.now_mono(l->ops.opaque) + (timeout_ms + 30000) * 1000000ull;
	if (l->ops.command(l->ops.opaque, host, cmd) < 0) {
		hax_log(LOG_ERR, "leader: cannot send %s %s to %s", p->cmd, name, host);
		pending_del(l, p);
	}
}

static void expire_pending(struct leader *l)
{
	uint64_t now = l->ops.now_mono(l->ops.opaque);
	size_t i = 0;

	while (i < l->npend) {
		if (now > l->pend[i].deadline_ns) {
			struct lhost *h = lhost(l, l->pend[i].host);

			hax_log(LOG_WARNING, "leader: no answer to %s %s from %s, forgetting it",
				l->pend[i].cmd, l->pend[i].name, l->pend[i].host);
			/* Forgetting it must not make the domain look free: that host's next
			 * inventory (which lists it running or busy if the operation goes on)
			 * is awaited before anything is decided again. */
			if (h && h->inv)
				h->need_gen = (uint64_t)json_integer_value(json_object_get(h->inv, "gen")) + 1;
			pending_del(l, &l->pend[i]);
			continue;
		}
		i++;
	}
}

/* ---- what the inventories say ---- */

struct sighting {
	struct lhost *host;
	uint64_t incarnation;
	bool running;            /* the hypervisor says running (not paused, crashed...) */
	bool leftover;           /* an incoming copy not committed, or one migrated away */
	bool incoming;
};

static size_t where_running(struct leader *l, const char *name, struct sighting *out,
			    size_t max)
{
	const json_t *first;
	size_t k, n = 0;

	index_build(l);
	first = json_object_get(l->seen_index, name);
	for (k = first ? (size_t)json_integer_value(first) : SIZE_MAX; k != SIZE_MAX && n < max;
	     k = l->seen[k].next) {
		struct lhost *h = &l->hosts[l->seen[k].host];
		const json_t *d = l->seen[k].entry;
		const struct hax_host *sh = state_host(cur(l), h->name);

		/* A fenced host that rejoined is purged (rejoin rule), never adopted from. */
		if (!h->member || (sh && sh->state == HOST_FENCED))
			continue;
		const char *st = json_string_value(json_object_get(d, "state")) ?: "";

		out[n].host = h;
		out[n].incarnation = json_integer_value(json_object_get(d, "incarnation"));
		out[n].running = strcmp(st, "running") == 0;
		out[n].incoming = strcmp(st, "incoming") == 0;
		out[n].leftover = out[n].incoming || strcmp(st, "migrated") == 0;
		n++;
	}
	return n;
}

static bool busy_anywhere(struct leader *l, const char *name)
{
	index_build(l);
	return json_object_get(l->busy_index, name) != NULL;
}

/* Decisions wait until every member's inventory is newer than its last result: a list
 * taken before a start completed would not show the domain, and the leader would start
 * it again elsewhere. */
static bool all_members_reported(const struct leader *l)
{
	size_t i, n = 0;

	for (i = 0; i < l->nhosts; i++) {
		const struct hax_host *sh = state_host(cur(l), l->hosts[i].name);

		/* A fenced member (a wedged host fenced by storage) runs nothing we need. */
		if (l->hosts[i].member && !inv_fresh(&l->hosts[i]) &&
		    !(sh && sh->state == HOST_FENCED))
			return false;
		n += l->hosts[i].member;
	}
	return n > 0;
}

/* A host is known safe for a domain when it is a member that reported an inventory;
 * the callers have already checked that the inventory does not list the domain. */
static bool host_safe(struct leader *l, const char *host)
{
	const struct lhost *h = lhost(l, host);
	const struct hax_host *sh = state_host(cur(l), host);

	if (h && h->member && inv_fresh(h))
		return true;
	return sh && sh->state == HOST_FENCED;
}

/* The host where a domain may run unseen: its recorded host, or the target of a
 * migration whose outcome is not known (after a committed live migration the copy runs
 * on the target, and the result saying so may never arrive). NULL when both are safe. */
static const char *unsafe_host(struct leader *l, const struct hax_domain *d)
{
	if (d->host[0] && !host_safe(l, d->host))
		return d->host;
	if (d->target[0] && !host_safe(l, d->target))
		return d->target;
	return NULL;
}

/* ---- where a start failed ---- */

static bool avoided(const struct leader *l, const char *dom, const char *host)
{
	size_t i;

	for (i = 0; i < l->navoid; i++)
		if (strcmp(l->avoid[i].dom, dom) == 0 && strcmp(l->avoid[i].host, host) == 0)
			return true;
	return false;
}

static void avoid_add(struct leader *l, const char *dom, const char *host)
{
	if (avoided(l, dom, host))
		return;
	l->avoid = hax_xrealloc(l->avoid, (l->navoid + 1) * sizeof(*l->avoid));
	hax_strlcpy(l->avoid[l->navoid].dom, dom, HAX_NAME_MAX);
	hax_strlcpy(l->avoid[l->navoid].host, host, HAX_NAME_MAX);
	l->navoid++;
}

static void avoid_clear(struct leader *l, const char *dom)
{
	size_t i = 0;

	while (i < l->navoid) {
		if (strcmp(l->avoid[i].dom, dom) == 0)
			l->avoid[i] = l->avoid[--l->navoid];
		else
			i++;
	}
}

/* ---- decisions ---- */

/* A change that ends any migration intent: no target, no target incarnation. */
static void clear_target(json_t *c)
{
	json_object_set_new(c, "target", json_string(""));
	json_object_set_new(c, "target_incarnation", json_integer(0));
}

static void set_domain(struct leader *l, const struct hax_domain *d, enum dom_state st,
		       const char *host, const char *reason)
{
	json_t *c;

	if (d->state == st && (!host || strcmp(d->host, host) == 0) &&
	    (!reason || strcmp(d->reason, reason) == 0))
		return;
	c = change_domain_set(d->name);
	json_object_set_new(c, "state", json_string(dom_state_name(st)));
	if (host)
		json_object_set_new(c, "host", json_string(host));
	if (reason)
		json_object_set_new(c, "reason", json_string(reason));
	propose(l, c);
}

static void resolve_double_run(struct leader *l, const struct hax_domain *d,
			       struct sighting *s, size_t n)
{
	size_t i, keep = 0;

	/* Keep what the hypervisor says is running (a paused twin of a live migration is
	 * the leftover), then the newest incarnation. */
	for (i = 1; i < n; i++)
		if (s[i].running > s[keep].running ||
		    (s[i].running == s[keep].running && s[i].incarnation > s[keep].incarnation))
			keep = i;
	for (i = 0; i < n; i++) {
		if (i == keep)
			continue;
		hax_log(LOG_CRIT, "+double-run %s: incarnation %llu on %s and %llu on %s; destroying the older",
			d->name, (unsigned long long)s[i].incarnation, s[i].host->name,
			(unsigned long long)s[keep].incarnation, s[keep].host->name);
		command(l, s[i].host->name, d->name,
			json_pack("{s:s, s:s, s:I}", "op", "destroy", "name", d->name,
				  "incarnation", (json_int_t)s[i].incarnation),
			s[i].incarnation, l->conf->cluster.stop_timeout_ms);
		return; /* one operation per domain at a time */
	}
}

static void adopt_running(struct leader *l, const struct hax_domain *d, const struct sighting *s)
{
	json_t *c;

	if (d->state == DOM_RUNNING && strcmp(d->host, s->host->name) == 0 &&
	    d->incarnation == s->incarnation && !d->target[0])
		return;
	c = change_domain_set(d->name);
	json_object_set_new(c, "state", json_string("running"));
	json_object_set_new(c, "host", json_string(s->host->name));
	clear_target(c);
	json_object_set_new(c, "reason", json_string(""));
	/* Incarnations never go backwards in the state; an older copy keeps the newer number. */
	if (s->incarnation >= d->incarnation)
		json_object_set_new(c, "incarnation", json_integer((json_int_t)s->incarnation));
	propose(l, c);
}

/* With no operation in flight for the domain anywhere, an incoming copy that was never
 * committed and a copy migrated away are leftovers: destroyed, one at a time. The rest
 * of the sightings (compacted in place) are what decide() reasons about. */
static bool destroy_leftovers(struct leader *l, const struct hax_domain *d,
			      struct sighting *s, size_t *n)
{
	size_t i, k = 0;

	for (i = 0; i < *n; i++) {
		if (!s[i].leftover) {
			s[k++] = s[i];
			continue;
		}
		hax_log(LOG_NOTICE, "leader: %s: destroying the leftover of a migration on %s (if still %s)",
			d->name, s[i].host->name, s[i].incoming ? "incoming" : "migrated");
		/* Only if the agent still sees it so: our inventory of an incoming copy may
		 * predate the commit that made it the live one. */
		command(l, s[i].host->name, d->name,
			json_pack("{s:s, s:s, s:I, s:s}", "op", "destroy", "name", d->name,
				  "incarnation", (json_int_t)s[i].incarnation, "if_state",
				  s[i].incoming ? "incoming" : "migrated"),
			s[i].incarnation, l->conf->cluster.stop_timeout_ms);
		return true;
	}
	*n = k;
	return false;
}

static void decide_disabled(struct leader *l, const struct hax_domain *d, struct sighting *s,
			    size_t n)
{
	if (n == 1) {
		set_domain(l, d, DOM_STOPPING, s[0].host->name, "disabled by the operator");
		command(l, s[0].host->name, d->name,
			json_pack("{s:s, s:s, s:I, s:I}", "op", "stop", "name", d->name, "timeout_ms",
				  (json_int_t)l->conf->cluster.stop_timeout_ms, "incarnation",
				  (json_int_t)s[0].incarnation),
			s[0].incarnation, l->conf->cluster.stop_timeout_ms);
		return;
	}
	set_domain(l, d, DOM_DISABLED, "", "");
}

/* Returns true when the domain needs a host. */
static bool decide(struct leader *l, const struct hax_domain *d)
{
	struct sighting s[LEADER_MAX_HOSTS];
	size_t n;
	char why[STATE_REASON_MAX];
	const char *lost;

	if (settling(l, d) || busy_anywhere(l, d->name))
		return false;
	n = where_running(l, d->name, s, HAX_ARRAY_SIZE(s));
	if (destroy_leftovers(l, d, s, &n))
		return false;
	if (n > 1) {
		resolve_double_run(l, d, s, n);
		return false;
	}
	/* Seen nowhere, but it may still run where nobody can look: wait for the fence,
	 * whatever the operator asked meanwhile (disable, enable and remove never erase
	 * the host it may run on). */
	if (n == 0 && (lost = unsafe_host(l, d))) {
		snprintf(why, sizeof(why), "awaiting fence of %s", lost);
		set_domain(l, d, d->enabled ? DOM_RECOVERING : d->state, NULL, why);
		return false;
	}
	if (!d->enabled) {
		decide_disabled(l, d, s, n);
		return false;
	}
	if (n == 1) {
		adopt_running(l, d, &s[0]);
		return false;
	}
	if (d->state == DOM_FAILED)
		return false; /* the operator re-enables it */
	if (l->ops.start_ok && !l->ops.start_ok(l->ops.opaque, d, why, sizeof(why))) {
		/* Safety over liveness: a restart while a fenced host could write again. */
		set_domain(l, d, d->state == DOM_STOPPED ? DOM_STOPPED : DOM_RECOVERING, NULL, why);
		return false;
	}
	if (d->state == DOM_RUNNING)
		hax_log(LOG_WARNING, "leader: %s vanished from %s, restarting it", d->name, d->host);
	return true;
}

static void start_on(struct leader *l, const struct hax_domain *d, const char *host)
{
	uint64_t inc = l->next_inc++;
	json_t *c = change_domain_set(d->name);

	json_object_set_new(c, "state", json_string("starting"));
	json_object_set_new(c, "host", json_string(host));
	clear_target(c);
	json_object_set_new(c, "incarnation", json_integer((json_int_t)inc));
	json_object_set_new(c, "reason", json_string(""));
	propose(l, c);
	command(l, host, d->name,
		json_pack("{s:s, s:{s:s, s:s, s:I, s:I}, s:I}", "op", "start", "domain", "name",
			  d->name, "definition", d->definition, "memory_mib",
			  (json_int_t)d->memory_mib, "vcpus", (json_int_t)d->vcpus, "incarnation",
			  (json_int_t)inc),
		inc, l->conf->cluster.start_timeout_ms);
}

/* A host whose haxd is not in the view: "agent-lost" while its corosync is still there
 * (its domains most likely still run), "suspect" once the node itself is gone. Hosts
 * being fenced or fenced keep that state; hosts never seen stay unknown. */
static void host_left(struct leader *l, const struct lhost *h, const struct hax_host *sh)
{
	enum host_state want = h->alive ? HOST_AGENT_LOST : HOST_SUSPECT;
	json_t *c;

	if (!sh || sh->state == want ||
	    (sh->state != HOST_ONLINE && sh->state != HOST_AGENT_LOST && sh->state != HOST_SUSPECT))
		return;
	c = change_host_set(h->name, sh->nodeid);
	json_object_set_new(c, "state", json_string(host_state_name(want)));
	propose(l, c);
}

/* Rejoin rule: a fenced host (or one whose fence was under way) that comes back destroys
 * every domain hax manages that it still runs before it is online again (its domains may
 * run elsewhere by now, or be unable to write); what hax does not manage is not its to
 * destroy. True while purging. */
static bool purge_fenced(struct leader *l, struct lhost *h)
{
	const json_t *doms = json_object_get(h->inv, "domains");
	size_t k, n = 0;

	for (k = 0; k < json_array_size(doms); k++) {
		const char *name = json_string_value(json_object_get(json_array_get(doms, k), "name"));

		if (!name || !state_domain(cur(l), name))
			continue;
		n++;
		if (pending(l, name))
			continue;
		hax_log(LOG_WARNING, "leader: fenced host %s rejoined still running %s: destroying it",
			h->name, name);
		command(l, h->name, name, json_pack("{s:s, s:s}", "op", "destroy", "name", name), 0,
			l->conf->cluster.stop_timeout_ms);
	}
	return n > 0 || json_array_size(json_object_get(h->inv, "busy")) > 0;
}

/* Make the replicated host records follow the members' reports. */
static void sync_hosts(struct leader *l)
{
	const struct hax_state *s = cur(l);
	size_t i;

	for (i = 0; i < l->nhosts; i++) {
		struct lhost *h = &l->hosts[i];
		const struct hax_host *sh = state_host(s, h->name);
		json_int_t mem = json_integer_value(json_object_get(h->inv, "mem_total_mib"));
		json_int_t cpu = json_integer_value(json_object_get(h->inv, "vcpus_total"));
		json_t *c;

		if (!h->member || wedged(l, h)) {
			host_left(l, h, sh);
			continue;
		}
		if (!h->inv)
			continue;
		/* Back while still "fencing": a fence level may have run (a SCSI preempt
		 * leaves its domains unable to write), so the rejoin rule applies too. */
		if (sh && (sh->state == HOST_FENCED || sh->state == HOST_FENCING) &&
		    purge_fenced(l, h))
			continue;
		if (sh && sh->state == HOST_ONLINE && sh->mem_total_mib == (uint64_t)mem &&
		    sh->vcpus_total == (uint32_t)cpu && sh->nodeid == h->nodeid)
			continue;
		c = change_host_set(h->name, h->nodeid);
		json_object_set_new(c, "state", json_string("online"));
		json_object_set_new(c, "mem_total_mib", json_integer(mem));
		json_object_set_new(c, "vcpus_total", json_integer(cpu));
		propose(l, c);
	}
}

/* Record in the replicated state the watchdog each member reports armed (its accepted
 * timeout; 0 or absent: not armed), so that any later leader's watchdog fence trusts a
 * wait only for a host that said its device would reset it in time. */
static void sync_watchdogs(struct leader *l)
{
	size_t i;

	for (i = 0; i < l->nhosts; i++) {
		const struct lhost *h = &l->hosts[i];
		const struct hax_host *sh = state_host(cur(l), h->name);
		json_int_t ms = json_integer_value(json_object_get(h->inv, "watchdog_ms"));
		json_t *c;

		if (!h->member || !h->inv || !sh || ms < 0 || sh->watchdog_ms == (uint64_t)ms)
			continue;
		c = change_host_set(h->name, sh->nodeid);
		json_object_set_new(c, "watchdog_ms", json_integer(ms));
		propose(l, c);
	}
}

static void place(struct leader *l, bool *wanted)
{
	const struct hax_state *s = cur(l);
	size_t nh = s->nhosts, nd = s->ndomains, i;

	for (i = 0; i < nd && !wanted[i]; i++)
		;
	if (i == nd)
		return; /* nothing to place: no plan (nor a copy of the state) on every tick */

	bool *host_ok = hax_xcalloc(nh, sizeof(*host_ok));
	int *where = hax_xcalloc(nd, sizeof(*where));
	char (*reason)[STATE_REASON_MAX] = hax_xcalloc(nd, sizeof(*reason));
	struct hax_state *snap = state_clone(s); /* proposals may change s under us */

	/* Starts sent but not yet applied to the state hold their host's capacity too: the
	 * next placement must not hand the same room out twice. */
	for (i = 0; i < l->npend; i++) {
		struct hax_domain *pd = state_domain(snap, l->pend[i].name);

		if (pd && strcmp(l->pend[i].cmd, "start") == 0) {
			pd->state = DOM_STARTING;
			hax_strlcpy(pd->host, l->pend[i].host, sizeof(pd->host));
		}
	}

	bool *avoid = hax_xcalloc(nd * nh > 0 ? nd * nh : 1, sizeof(*avoid));
	size_t j;

	for (i = 0; i < nh; i++)
		host_ok[i] = snap->hosts[i].state == HOST_ONLINE && leader_host_reported(l, snap->hosts[i].name);
	for (j = 0; j < nd; j++)
		for (i = 0; i < nh; i++)
			avoid[j * nh + i] = avoided(l, snap->domains[j].name, snap->hosts[i].name);
	policy_plan_avoiding(snap, host_ok, wanted, avoid, where, reason);
	for (i = 0; i < nd; i++) {
		if (!wanted[i])
			continue;
		if (where[i] >= 0) {
			start_on(l, &snap->domains[i], snap->hosts[where[i]].name);
			continue;
		}
		set_domain(l, &snap->domains[i], DOM_RECOVERING, NULL, reason[i]);
		/* Failed everywhere but tries are left: every host gets another chance. */
		avoid_clear(l, snap->domains[i].name);
	}
	free(avoid);
	state_free(snap);
	free(reason);
	free(where);
	free(host_ok);
}

static bool listed(const char (*names)[HAX_NAME_MAX], size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

/* A host that may hold changes this history lacks (state.h, "doubt"), and run domains
 * this state does not place there: a member of the last term that left (this leader's
 * own epoch may not be applied yet, so the last term's members count too), neither back
 * as a member nor fenced; in a minority view (leader.h), any host outside the view that
 * this leader has not fenced itself. NULL when there is none. */
static const char *doubtful_host(struct leader *l)
{
	const struct hax_state *s = cur(l);
	size_t i;

	for (i = 0; i < l->nhosts; i++) {
		const struct lhost *h = &l->hosts[i];
		const struct hax_host *sh = state_host(s, h->name);

		if (h->member || h->fenced_here)
			continue;
		if (l->ops.minority)
			return h->name;
		if (sh && sh->state == HOST_FENCED)
			continue;
		if (listed((const char (*)[HAX_NAME_MAX])s->doubt, s->ndoubt, h->name) ||
		    listed((const char (*)[HAX_NAME_MAX])s->epoch_members, s->nepoch_members,
			   h->name))
			return h->name;
	}
	return NULL;
}

/* While a host is in doubt nothing starts: what it may run is unknown here. Its fence
 * (it is not a member, so fence_tick takes it) ends the wait. */
static bool hold_starts(struct leader *l, const bool *wanted)
{
	const char *dh = doubtful_host(l);
	struct hax_state *snap;
	char why[STATE_REASON_MAX];
	size_t j;

	if (!dh)
		return false;
	snprintf(why, sizeof(why), "awaiting fence of %s (it may run domains this view has not seen)",
		 dh);
	snap = state_clone(cur(l));
	for (j = 0; j < snap->ndomains; j++)
		if (wanted[j])
			set_domain(l, &snap->domains[j], DOM_RECOVERING, NULL, why);
	state_free(snap);
	return true;
}

/* TILT (Redis Sentinel's): a tick long after the previous one means this process did not
 * run for a while (stopped, swapped out, its VM paused). Its timers all expired at once
 * and what the others said meanwhile may still be queued behind this tick: it keeps
 * observing, but starts no fence until a quiet period has passed, and the timers that
 * measured time it did not observe (agent-lost, unreported) start again. */
#define TILT_STALL_MS 2000
#define TILT_QUIET_MS 10000
static void tilt_check(struct leader *l)
{
	uint64_t now = l->ops.now_mono(l->ops.opaque), tick = l->conf->cluster.tick_ms;
	size_t i;

	if (l->last_tick_ns && now - l->last_tick_ns > (3 * tick + TILT_STALL_MS) * 1000000ull) {
		l->tilt_until_ns = now + (TILT_QUIET_MS > 2 * tick ? TILT_QUIET_MS : 2 * tick) *
						 1000000ull;
		hax_log(LOG_WARNING, "leader: +tilt: %llu ms since the last tick; no new fence for a while",
			(unsigned long long)((now - l->last_tick_ns) / 1000000));
		for (i = 0; i < l->nhosts; i++) {
			l->hosts[i].unreported_since_ns = 0;
			l->hosts[i].fr.lost_since_ns = 0;
		}
		/* Operations in flight were not forgotten by anyone but us: their deadlines
		 * move by the time we did not observe. */
		for (i = 0; i < l->npend; i++) {
			l->pend[i].deadline_ns += now - l->last_tick_ns;
			if (l->pend[i].not_before_ns)
				l->pend[i].not_before_ns += now - l->last_tick_ns;
		}
	}
	l->last_tick_ns = now;
}

/* When each member last stopped reporting fresh inventories. */
static void note_reporting(struct leader *l)
{
	uint64_t now = l->ops.now_mono(l->ops.opaque);
	size_t i;

	for (i = 0; i < l->nhosts; i++) {
		struct lhost *h = &l->hosts[i];

		if (!h->member || inv_fresh(h))
			h->unreported_since_ns = 0;
		else if (!h->unreported_since_ns)
			h->unreported_since_ns = now;
	}
}

void leader_tick(struct leader *l)
{
	const struct hax_state *s;
	struct hax_state *snap;
	bool *wanted;
	size_t j;

	/* Hosts and fencing first: a member whose hypervisor cannot list holds up the
	 * decisions about domains (any of them may be starting there), never the fence of
	 * another host; past agent_lost_timeout it is itself treated as agent-lost. */
	tilt_check(l);
	expire_pending(l);
	note_reporting(l);
	sync_hosts(l);
	sync_watchdogs(l);
	fence_tick(l);
	if (!all_members_reported(l))
		return;
	s = cur(l);
	if (l->next_inc <= s->last_incarnation)
		l->next_inc = s->last_incarnation + 1;
	snap = state_clone(s);
	wanted = hax_xcalloc(snap->ndomains ? snap->ndomains : 1, sizeof(*wanted));
	for (j = 0; j < snap->ndomains; j++)
		wanted[j] = decide(l, &snap->domains[j]);
	state_free(snap);
	/* decide() may have proposed changes: placement works on the state they produced. */
	if (cur(l)->ndomains == j && !hold_starts(l, wanted))
		place(l, wanted);
	free(wanted);
	evacuate_tick(l);
}

/* ---- answers from agents ---- */

/* After a failed start the leader's own change (recovering or failed) is in flight:
 * until the state shows it, the domain is left alone, or a decision taken on the old
 * state would retry it at once and forever. The retry also waits a little longer after
 * each failure (START_RETRY_STEP_MS times the attempts): a storage hiccup that fails
 * every start for a second must not use up start_retries in that second. */
#define START_RETRY_STEP_MS 1000
static void settle(struct leader *l, const char *name, uint32_t attempts)
{
	struct pending *p;

	l->pend = hax_xrealloc(l->pend, (l->npend + 1) * sizeof(*l->pend));
	p = &l->pend[l->npend++];
	memset(p, 0, sizeof(*p));
	hax_strlcpy(p->name, name, sizeof(p->name));
	hax_strlcpy(p->cmd, "settle", sizeof(p->cmd));
	p->settle_attempts = attempts;
	p->not_before_ns = l->ops.now_mono(l->ops.opaque) +
			   (uint64_t)attempts * START_RETRY_STEP_MS * 1000000ull;
	p->deadline_ns = p->not_before_ns + 30000000000ull;
}

/* True while a domain's pending settle is not reflected yet; drops it once it is. */
static bool settling(struct leader *l, const struct hax_domain *d)
{
	struct pending *p = pending(l, d->name);

	if (!p || strcmp(p->cmd, "settle") != 0)
		return p != NULL;
	if (d->start_attempts < p->settle_attempts ||
	    l->ops.now_mono(l->ops.opaque) < p->not_before_ns)
		return true;
	pending_del(l, p);
	return false;
}

static void start_failed(struct leader *l, const struct hax_domain *d, const char *host,
			 const char *error)
{
	json_t *c = change_domain_set(d->name);
	uint32_t attempts = d->start_attempts + 1;
	char why[STATE_REASON_MAX];

	if (attempts > l->conf->cluster.start_retries) {
		snprintf(why, sizeof(why), "start failed %u times, last on %s: %s", attempts, host,
			 error);
		json_object_set_new(c, "state", json_string("failed"));
	} else {
		snprintf(why, sizeof(why), "start on %s failed: %s", host, error);
		json_object_set_new(c, "state", json_string("recovering"));
	}
	/* The agent answered, so its host is a live member and the next inventory shows
	 * whether anything was left running there; until then the host stays recorded. */
	json_object_set_new(c, "start_attempts", json_integer(attempts));
	json_object_set_new(c, "reason", json_string(why));
	propose(l, c);
	settle(l, d->name, attempts);
}

void leader_on_result(struct leader *l, const json_t *res)
{
	const char *host = json_string_value(json_object_get(res, "host"));
	const char *cmd = json_string_value(json_object_get(res, "cmd"));
	const char *name = json_string_value(json_object_get(res, "name"));
	const char *error = json_string_value(json_object_get(res, "error"));
	bool ok = json_is_true(json_object_get(res, "ok"));
	struct pending *p = name ? pending(l, name) : NULL;
	const struct hax_domain *d = name ? state_domain(cur(l), name) : NULL;

	if (host)
		note_result_gen(l, host, res);
	if (!host || !cmd || !p || strcmp(p->host, host) || strcmp(p->cmd, cmd)) {
		hax_log(LOG_WARNING, "leader: unexpected result %s %s from %s, ignoring",
			cmd ? cmd : "?", name ? name : "?", host ? host : "?");
		return;
	}
	pending_del(l, p);
	if (!d)
		return;
	if (strcmp(cmd, "start") == 0 && ok) {
		json_t *c = change_domain_set(d->name);

		avoid_clear(l, d->name);
		json_object_set_new(c, "state", json_string("running"));
		json_object_set_new(c, "start_attempts", json_integer(0));
		propose(l, c);
	} else if (strcmp(cmd, "start") == 0) {
		avoid_add(l, d->name, host);
		start_failed(l, d, host, error ? error : "unknown error");
	} else if (strcmp(cmd, "migrate-in") == 0) {
		migrate_in_done(l, d, host, ok, error ? error : "unknown error", res);
	} else if (strcmp(cmd, "migrate-out") == 0) {
		migrate_out_done(l, d, ok, error ? error : "unknown error");
	} else if (strcmp(cmd, "stop") == 0 && ok) {
		set_domain(l, d, d->enabled ? DOM_STOPPED : DOM_DISABLED, "", "");
	} else if (!ok) {
		hax_log(strncmp(error ?: "", "left alone", 10) == 0 ? LOG_INFO : LOG_WARNING,
			"leader: %s %s on %s failed: %s; will retry", cmd, name, host,
			error ? error : "?");
	}
}

/* ---- operator requests ---- */

static json_t *reply_error(const char *fmt, const char *arg)
{
	char msg[512];

	snprintf(msg, sizeof(msg), fmt, arg);
	return json_pack("{s:b, s:s}", "ok", 0, "error", msg);
}

static json_t *reply_ok(void)
{
	return json_pack("{s:b}", "ok", 1);
}

/* ---- migration and evacuation ---- */

static struct migfail *migfail(struct leader *l, const char *dom, bool add)
{
	size_t i;

	for (i = 0; i < l->nmigfail; i++)
		if (strcmp(l->migfail[i].dom, dom) == 0)
			return &l->migfail[i];
	if (!add)
		return NULL;
	l->migfail = hax_xrealloc(l->migfail, (l->nmigfail + 1) * sizeof(*l->migfail));
	memset(&l->migfail[l->nmigfail], 0, sizeof(*l->migfail));
	hax_strlcpy(l->migfail[l->nmigfail].dom, dom, HAX_NAME_MAX);
	return &l->migfail[l->nmigfail++];
}

static uint32_t migfail_count(struct leader *l, const char *dom)
{
	const struct migfail *m = migfail(l, dom, false);

	return m ? m->n : 0;
}

static uint64_t new_incarnation(struct leader *l)
{
	if (l->next_inc <= cur(l)->last_incarnation)
		l->next_inc = cur(l)->last_incarnation + 1;
	return l->next_inc++;
}

static const char *host_addr(const struct leader *l, const char *host)
{
	const struct conf_host *ch = conf_host_by_name(l->conf, host);

	return ch && ch->address[0] ? ch->address : NULL;
}

/* The intent first (state migrating, the target's incarnation recorded so that it is
 * never handed out twice), then the target is asked to get ready; the source is told to
 * send once the target answers (leader_on_result). */
static int start_migration(struct leader *l, const struct hax_domain *d, const char *target,
			   char *err, size_t errlen)
{
	const char *addr = host_addr(l, target);
	uint64_t inc;
	json_t *c;

	if (!addr) {
		snprintf(err, errlen, "host %s has no address in haxd.conf: nothing to migrate to",
			 target);
		return -EINVAL;
	}
	inc = l->ops.migrate_live ? d->incarnation : new_incarnation(l);
	c = change_domain_set(d->name);
	json_object_set_new(c, "state", json_string("migrating"));
	json_object_set_new(c, "target", json_string(target));
	json_object_set_new(c, "target_incarnation", json_integer((json_int_t)inc));
	json_object_set_new(c, "reason", json_string(""));
	propose(l, c);
	hax_log(LOG_NOTICE, "leader: migrating %s from %s to %s (incarnation %llu there)", d->name,
		d->host, target, (unsigned long long)inc);
	command(l, target, d->name,
		json_pack("{s:s, s:{s:s, s:s, s:I, s:I}, s:I, s:s, s:s}", "op", "migrate-in",
			  "domain", "name", d->name, "definition", d->definition, "memory_mib",
			  (json_int_t)d->memory_mib, "vcpus", (json_int_t)d->vcpus, "incarnation",
			  (json_int_t)inc, "source", d->host, "listen_addr", addr),
		inc, l->conf->cluster.start_timeout_ms);
	return 0;
}

/* The domain is still where it was (the drivers resume the source on failure; if it is
 * gone after all, the next inventories say so and it is restarted like any other). */
static void migration_failed(struct leader *l, const struct hax_domain *d, const char *target,
			     const char *error)
{
	char why[STATE_REASON_MAX];
	json_t *c = change_domain_set(d->name);

	avoid_add(l, d->name, target);
	migfail(l, d->name, true)->n++;
	snprintf(why, sizeof(why), "migration to %s failed: %s", target, error);
	hax_log(LOG_WARNING, "leader: %s: %s", d->name, why);
	json_object_set_new(c, "state", json_string("running"));
	clear_target(c);
	json_object_set_new(c, "reason", json_string(why));
	propose(l, c);
}

static void migrate_in_done(struct leader *l, const struct hax_domain *d, const char *host,
			    bool ok, const char *error, const json_t *res)
{
	const char *uri = json_string_value(json_object_get(res, "uri"));

	if (d->state != DOM_MIGRATING || strcmp(d->target, host) != 0)
		return; /* the incoming copy is a leftover now; decide() destroys it */
	if (!ok || !uri) {
		migration_failed(l, d, host, ok ? "the target gave no address" : error);
		return;
	}
	command(l, d->host, d->name,
		json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:I}", "op", "migrate-out", "name",
			  d->name, "incarnation", (json_int_t)d->target_incarnation, "target",
			  host, "target_addr", host_addr(l, host) ?: "", "uri", uri, "timeout_ms",
			  (json_int_t)l->conf->cluster.migrate_timeout_ms),
		d->target_incarnation, l->conf->cluster.migrate_timeout_ms);
}

static void migrate_out_done(struct leader *l, const struct hax_domain *d, bool ok,
			     const char *error)
{
	json_t *c;
	struct migfail *m;

	if (d->state != DOM_MIGRATING || !d->target[0])
		return;
	if (!ok) {
		migration_failed(l, d, d->target, error);
		return;
	}
	avoid_clear(l, d->name);
	m = migfail(l, d->name, false);
	if (m)
		m->n = 0;
	c = change_domain_set(d->name);
	json_object_set_new(c, "state", json_string("running"));
	json_object_set_new(c, "host", json_string(d->target));
	json_object_set_new(c, "incarnation", json_integer((json_int_t)d->target_incarnation));
	clear_target(c);
	json_object_set_new(c, "reason", json_string(""));
	propose(l, c);
}

/* The evacuation plan of host index h: wanted[j] (domains to move now), where[j] and
 * reason[j] as policy_plan gives them. Domains moved already, busy or out of retries are
 * not wanted. Returns how many domains still hold the host. */
static size_t evac_plan(struct leader *l, const struct hax_state *snap, size_t h, bool *wanted,
			int *where, char (*reason)[STATE_REASON_MAX])
{
	size_t nh = snap->nhosts, nd = snap->ndomains, i, j, left = 0;
	bool *host_ok = hax_xcalloc(nh, sizeof(*host_ok));
	bool *avoid = hax_xcalloc(nd * nh > 0 ? nd * nh : 1, sizeof(*avoid));

	for (i = 0; i < nh; i++)
		host_ok[i] = i != h && snap->hosts[i].state == HOST_ONLINE &&
			     leader_host_reported(l, snap->hosts[i].name);
	for (j = 0; j < nd; j++) {
		const struct hax_domain *d = &snap->domains[j];

		if (!policy_dom_holds_host(d) || strcmp(d->host, snap->hosts[h].name) != 0)
			continue;
		left++;
		wanted[j] = d->state == DOM_RUNNING && d->enabled && !pending(l, d->name) &&
			    !busy_anywhere(l, d->name) && migfail_count(l, d->name) < MIGRATE_RETRIES;
		for (i = 0; i < nh; i++)
			avoid[j * nh + i] = avoided(l, d->name, snap->hosts[i].name);
	}
	policy_plan_avoiding(snap, host_ok, wanted, avoid, where, reason);
	free(avoid);
	free(host_ok);
	return left;
}

static size_t host_index(const struct hax_state *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->nhosts; i++)
		if (strcmp(s->hosts[i].name, name) == 0)
			return i;
	return SIZE_MAX;
}

struct mig_load {
	uint32_t total;          /* migrations under way in the cluster */
	uint32_t *host;          /* per host index, as source or target */
};

static void evacuate_host(struct leader *l, size_t h, struct mig_load *ml)
{
	struct hax_state *snap = state_clone(cur(l));
	size_t nd = snap->ndomains, j, left, moving = 0, started = 0;
	bool *wanted = hax_xcalloc(nd ? nd : 1, sizeof(*wanted));
	int *where = hax_xcalloc(nd ? nd : 1, sizeof(*where));
	char (*reason)[STATE_REASON_MAX] = hax_xcalloc(nd ? nd : 1, sizeof(*reason));
	const struct hax_host *hh = &snap->hosts[h];
	uint32_t bound = hh->evacuate_concurrency ? hh->evacuate_concurrency
						  : l->conf->cluster.migrate_host_concurrency;
	char err[STATE_REASON_MAX], why[STATE_REASON_MAX];

	left = evac_plan(l, snap, h, wanted, where, reason);
	for (j = 0; j < nd; j++) {
		const struct hax_domain *d = &snap->domains[j];

		if (policy_dom_holds_host(d) && strcmp(d->host, hh->name) == 0 && !wanted[j] &&
		    (d->state != DOM_RUNNING || pending(l, d->name) || busy_anywhere(l, d->name)))
			moving++; /* under way or in transition: not stuck yet */
		if (!wanted[j])
			continue;
		if (where[j] < 0) {
			/* The avoided hosts are where its migrations failed, not its starts. */
			snprintf(why, sizeof(why), "cannot evacuate: %s",
				 strncmp(reason[j], "its start failed", 16) == 0
					 ? "its migration failed on every available host"
					 : reason[j]);
			set_domain(l, d, DOM_RUNNING, NULL, why);
			continue;
		}
		if (ml->total >= l->conf->cluster.migrate_concurrency ||
		    ml->host[h] >= bound ||
		    ml->host[where[j]] >= l->conf->cluster.migrate_host_concurrency) {
			moving++;
			continue;
		}
		if (start_migration(l, d, snap->hosts[where[j]].name, err, sizeof(err)) < 0) {
			set_domain(l, d, DOM_RUNNING, NULL, err);
			continue;
		}
		ml->total++;
		ml->host[h]++;
		ml->host[where[j]]++;
		started++;
	}
	if (left == 0 || (moving == 0 && started == 0)) {
		json_t *c = change_host_set(hh->name, hh->nodeid);

		if (left == 0)
			hax_log(LOG_NOTICE, "leader: evacuation of %s complete", hh->name);
		else
			hax_log(LOG_WARNING, "leader: evacuation of %s incomplete: %zu domain(s) cannot move (see their reasons)",
				hh->name, left);
		json_object_set_new(c, "evacuating", json_false());
		propose(l, c);
	}
	free(reason);
	free(where);
	free(wanted);
	state_free(snap);
}

/* Start what the evacuations allow now, within the cluster's and the hosts' bounds. */
static void evacuate_tick(struct leader *l)
{
	const struct hax_state *s = cur(l);
	struct mig_load ml = {.host = hax_xcalloc(s->nhosts ? s->nhosts : 1, sizeof(uint32_t))};
	size_t i, nh = s->nhosts;
	char (*names)[HAX_NAME_MAX] = hax_xcalloc(nh ? nh : 1, HAX_NAME_MAX);

	for (i = 0; i < s->ndomains; i++) {
		const struct hax_domain *d = &s->domains[i];
		size_t a, b;

		if (d->state != DOM_MIGRATING)
			continue;
		ml.total++;
		a = host_index(s, d->host);
		b = host_index(s, d->target);
		if (a < nh)
			ml.host[a]++;
		if (b < nh)
			ml.host[b]++;
	}
	/* A migration whose intent is not applied yet (its migrate-in is on its way) holds
	 * its bounds too, or the next tick would start one more. */
	for (i = 0; i < l->npend; i++) {
		const struct hax_domain *d = state_domain(s, l->pend[i].name);
		size_t a, b;

		if (!d || d->state == DOM_MIGRATING || strcmp(l->pend[i].cmd, "migrate-in") != 0)
			continue;
		ml.total++;
		a = host_index(s, d->host);
		b = host_index(s, l->pend[i].host);
		if (a < nh)
			ml.host[a]++;
		if (b < nh)
			ml.host[b]++;
	}
	/* Proposals may change the state under us: walk a copy of the host names. An
	 * evacuation of a host that left ends: failover takes its domains now. */
	json_t *ended = json_array();

	for (i = 0; i < nh; i++) {
		const struct hax_host *h = &s->hosts[i];

		hax_strlcpy(names[i], h->evacuating && h->state == HOST_ONLINE ? h->name : "",
			    HAX_NAME_MAX);
		if (h->evacuating && h->state != HOST_ONLINE) {
			json_t *c = change_host_set(h->name, h->nodeid);

			hax_log(LOG_WARNING, "leader: evacuation of %s ended: the host is %s",
				h->name, host_state_name(h->state));
			json_object_set_new(c, "evacuating", json_false());
			json_array_append_new(ended, c);
		}
	}
	for (i = 0; i < json_array_size(ended); i++)
		propose(l, json_incref(json_array_get(ended, i)));
	json_decref(ended);
	for (i = 0; i < nh; i++) {
		size_t h = names[i][0] ? host_index(cur(l), names[i]) : SIZE_MAX;

		if (h < cur(l)->nhosts && cur(l)->nhosts == nh)
			evacuate_host(l, h, &ml);
	}
	free(names);
	free(ml.host);
}

static json_t *plan_json(struct leader *l, size_t h, bool *fits)
{
	struct hax_state *snap = state_clone(cur(l));
	size_t nd = snap->ndomains, j;
	bool *wanted = hax_xcalloc(nd ? nd : 1, sizeof(*wanted));
	int *where = hax_xcalloc(nd ? nd : 1, sizeof(*where));
	char (*reason)[STATE_REASON_MAX] = hax_xcalloc(nd ? nd : 1, sizeof(*reason));
	json_t *plan = json_array();

	evac_plan(l, snap, h, wanted, where, reason);
	*fits = true;
	for (j = 0; j < nd; j++) {
		const struct hax_domain *d = &snap->domains[j];

		if (!policy_dom_holds_host(d) || strcmp(d->host, snap->hosts[h].name) != 0)
			continue;
		if (!wanted[j] && d->state == DOM_MIGRATING) {
			json_array_append_new(plan, json_pack("{s:s, s:s, s:s}", "domain", d->name,
							      "target", d->target, "reason",
							      "migrating now"));
			continue;
		}
		if (!wanted[j])
			snprintf(reason[j], STATE_REASON_MAX, "%s",
				 migfail_count(l, d->name) >= MIGRATE_RETRIES ? "migration failed too often"
									       : "busy (not running, or an operation is under way)");
		*fits = *fits && wanted[j] && where[j] >= 0;
		json_array_append_new(plan, json_pack("{s:s, s:o, s:s}", "domain", d->name, "target",
						      wanted[j] && where[j] >= 0
							  ? json_string(snap->hosts[where[j]].name)
							  : json_null(),
						      "reason", wanted[j] && where[j] >= 0 ? "" : reason[j]));
	}
	free(reason);
	free(where);
	free(wanted);
	state_free(snap);
	return plan;
}

static json_t *req_maintenance(struct leader *l, const json_t *req)
{
	const char *name = json_string_value(json_object_get(req, "host"));
	const struct hax_host *h = name ? state_host(cur(l), name) : NULL;
	bool on = json_is_true(json_object_get(req, "on"));
	json_t *c;

	if (!h)
		return reply_error("no such host: %s", name ? name : "(none)");
	if (!json_is_boolean(json_object_get(req, "on")))
		return reply_error("maintenance %s: on or off?", name);
	c = change_host_set(h->name, h->nodeid);
	json_object_set_new(c, "maintenance", json_boolean(on));
	if (!on)
		json_object_set_new(c, "evacuating", json_false());
	propose(l, c);
	return reply_ok();
}

static json_t *req_evacuate(struct leader *l, const json_t *req)
{
	const char *name = json_string_value(json_object_get(req, "host"));
	const struct hax_host *h = name ? state_host(cur(l), name) : NULL;
	json_int_t conc = json_integer_value(json_object_get(req, "concurrency"));
	bool fits;
	json_t *c, *reply, *plan;

	if (!h)
		return reply_error("no such host: %s", name ? name : "(none)");
	if (conc < 0 || conc > 64)
		return reply_error("evacuate %s: concurrency must be 1..64", name);
	if (json_is_true(json_object_get(req, "abort"))) {
		if (!h->evacuating)
			return reply_error("no evacuation of %s is under way", name);
		c = change_host_set(h->name, h->nodeid);
		json_object_set_new(c, "evacuating", json_false());
		propose(l, c);
		hax_log(LOG_NOTICE, "leader: evacuation of %s aborted by the operator", name);
		return reply_ok();
	}
	plan = plan_json(l, host_index(cur(l), name), &fits);
	reply = json_pack("{s:b, s:o, s:b}", "ok", 1, "plan", plan, "fits", fits);
	if (json_is_true(json_object_get(req, "dry_run")))
		return reply;
	if (h->state != HOST_ONLINE) {
		json_decref(reply);
		return reply_error("%s is not online: nothing to evacuate from it", name);
	}
	c = change_host_set(h->name, h->nodeid);
	json_object_set_new(c, "maintenance", json_true());
	json_object_set_new(c, "evacuating", json_true());
	json_object_set_new(c, "evacuate_concurrency", json_integer(conc));
	propose(l, c);
	hax_log(LOG_NOTICE, "leader: evacuating %s (concurrency %lld)", name,
		(long long)(conc ? conc : (json_int_t)l->conf->cluster.migrate_host_concurrency));
	return reply;
}

static json_t *req_migrate(struct leader *l, const struct hax_domain *d, const json_t *req)
{
	const char *target = json_string_value(json_object_get(req, "host"));
	const struct hax_host *th = target ? state_host(cur(l), target) : NULL;
	struct hax_state *snap;
	char err[STATE_REASON_MAX];
	size_t nd, j;
	bool *wanted, *host_ok;
	int *where;
	char (*reason)[STATE_REASON_MAX];
	json_t *reply = NULL;

	if (!th)
		return reply_error("no such host: %s", target ? target : "(none)");
	if (d->state != DOM_RUNNING || !d->enabled || pending(l, d->name) ||
	    busy_anywhere(l, d->name))
		return reply_error("domain %s is not running, or an operation on it is under way",
				   d->name);
	if (strcmp(d->host, target) == 0)
		return reply_error("domain %s already runs on that host", d->name);
	if (th->state != HOST_ONLINE || !leader_host_reported(l, target) || th->maintenance)
		return reply_error("host %s is not online, not reporting, or in maintenance", target);
	if (!l->ops.migrate_live && !host_addr(l, target))
		return reply_error("host %s has no address in haxd.conf", target);
	/* The target must have the room, as for any placement. */
	snap = state_clone(cur(l));
	nd = snap->ndomains;
	wanted = hax_xcalloc(nd, sizeof(*wanted));
	host_ok = hax_xcalloc(snap->nhosts, sizeof(*host_ok));
	where = hax_xcalloc(nd, sizeof(*where));
	reason = hax_xcalloc(nd, sizeof(*reason));
	host_ok[host_index(snap, target)] = true;
	for (j = 0; j < nd; j++)
		wanted[j] = strcmp(snap->domains[j].name, d->name) == 0;
	policy_plan(snap, host_ok, wanted, where, reason);
	for (j = 0; j < nd && !reply; j++)
		if (wanted[j] && where[j] < 0)
			reply = reply_error("it does not fit: %s", reason[j]);
	if (!reply && start_migration(l, d, target, err, sizeof(err)) < 0)
		reply = reply_error("%s", err);
	free(reason);
	free(where);
	free(host_ok);
	free(wanted);
	state_free(snap);
	return reply ? reply : reply_ok();
}

static json_t *req_add(struct leader *l, const json_t *req)
{
	struct hax_domain d;
	char err[256];
	json_t *dj;
	int r;

	if (domain_from_json(json_object_get(req, "domain"), &d, err, sizeof(err)) < 0)
		return reply_error("invalid domain: %s", err);
	if (state_domain(cur(l), d.name)) {
		domain_clear(&d);
		return reply_error("domain %s already exists", json_string_value(json_object_get(json_object_get(req, "domain"), "name")));
	}
	r = l->ops.validate(l->ops.opaque, d.definition, err, sizeof(err));
	if (r < 0) {
		domain_clear(&d);
		return reply_error("invalid definition: %s", err);
	}
	/* What state_add_domain will refuse when the change applies: say so now. */
	if (cur(l)->ndomains >= STATE_MAX_DOMAINS ||
	    STATE_FIXED_RESERVE + cur(l)->budget + state_domain_budget(&d) > STATE_MAX_JSON_BYTES) {
		domain_clear(&d);
		return reply_error("the cluster state is full: at most %s domains, and all of them with their definitions in 6 MiB (haxctl(8))",
				   "2048");
	}
	/* Whatever the client sent, a new domain starts life stopped, nowhere, enabled. */
	d.state = DOM_STOPPED;
	d.host[0] = d.target[0] = d.reason[0] = '\0';
	d.incarnation = 0;
	d.start_attempts = 0;
	d.since_ns = l->ops.now_real(l->ops.opaque);
	dj = domain_to_json(&d);
	domain_clear(&d);
	propose(l, json_pack("{s:s, s:o}", "op", "domain-add", "domain", dj));
	return reply_ok();
}

static json_t *req_remove(struct leader *l, const struct hax_domain *d)
{
	struct sighting s[LEADER_MAX_HOSTS];

	if (where_running(l, d->name, s, HAX_ARRAY_SIZE(s)) > 0 || policy_dom_holds_host(d) ||
	    pending(l, d->name))
		return reply_error("domain %s is running or busy; disable it and wait until it is stopped",
				   d->name);
	if (d->host[0])
		return reply_error("domain %s may still run on a lost host; it cannot be removed until that host is fenced",
				   d->name);
	propose(l, json_pack("{s:s, s:s}", "op", "domain-remove", "name", d->name));
	return reply_ok();
}

static json_t *req_enable(struct leader *l, const struct hax_domain *d, bool enable)
{
	json_t *c = change_domain_set(d->name);

	json_object_set_new(c, "enabled", json_boolean(enable));
	if (enable && (d->state == DOM_FAILED || d->state == DOM_DISABLED)) {
		json_object_set_new(c, "state", json_string("stopped"));
		json_object_set_new(c, "start_attempts", json_integer(0));
		json_object_set_new(c, "reason", json_string(""));
	}
	propose(l, c);
	return reply_ok();
}

json_t *leader_request(struct leader *l, const json_t *req)
{
	const char *cmd = json_string_value(json_object_get(req, "cmd"));
	const char *name = json_string_value(json_object_get(req, "name"));
	const struct hax_domain *d;

	if (!cmd)
		return reply_error("malformed request%s", "");
	if (strcmp(cmd, "domain-add") == 0)
		return req_add(l, req);
	if (strcmp(cmd, "fence") == 0 || strcmp(cmd, "fence-ack") == 0)
		return req_fence(l, req, strcmp(cmd, "fence-ack") == 0);
	if (strcmp(cmd, "maintenance") == 0)
		return req_maintenance(l, req);
	if (strcmp(cmd, "evacuate") == 0)
		return req_evacuate(l, req);
	if (!name)
		return reply_error("%s: a domain name is required", cmd);
	d = state_domain(cur(l), name);
	if (!d)
		return reply_error("no such domain: %s", name);
	if (strcmp(cmd, "domain-remove") == 0)
		return req_remove(l, d);
	if (strcmp(cmd, "domain-enable") == 0)
		return req_enable(l, d, true);
	if (strcmp(cmd, "domain-disable") == 0)
		return req_enable(l, d, false);
	if (strcmp(cmd, "migrate") == 0)
		return req_migrate(l, d, req);
	return reply_error("unknown command: %s", cmd);
}

/* ---- fencing: levels in order, devices of a level together ---- */

static void fence_record(struct leader *l, const char *host, bool ok, const char *method,
			 const char *detail)
{
	propose(l, json_pack("{s:s, s:{s:s, s:I, s:b, s:s, s:s}}", "op", "fence-record", "record",
			     "host", host, "time_ns",
			     (json_int_t)l->ops.now_real(l->ops.opaque), "ok", ok, "method",
			     method, "detail", detail));
}

static void set_host_state(struct leader *l, const struct lhost *h, enum host_state st)
{
	json_t *c = change_host_set(h->name, h->nodeid);

	json_object_set_new(c, "state", json_string(host_state_name(st)));
	propose(l, c);
}

static void fence_cancel_all(struct leader *l, struct lhost *h)
{
	int k;

	for (k = 0; k < CONF_MAX_LEVEL_DEVS; k++) {
		if (!h->fr.ops[k])
			continue;
		l->ops.fence_cancel(l->ops.opaque, h->fr.ops[k]);
		h->fr.ops[k] = NULL;
	}
	h->fr.active = false;
	h->fr.pending = 0;
}

static void level_name(const struct leader *l, const struct conf_fence_level *lv, char *out,
		       size_t len)
{
	int k;

	out[0] = '\0';
	for (k = 0; k < lv->ndev; k++)
		snprintf(out + strlen(out), len - strlen(out), "%s%s", k ? "+" : "",
			 l->conf->fences[lv->dev[k]].name);
}

static void run_level(struct leader *l, struct lhost *h);

/* Every level failed: nothing is restarted; retry later, backing off. */
static void fence_failed(struct leader *l, struct lhost *h)
{
	uint64_t now = l->ops.now_mono(l->ops.opaque);

	hax_log(LOG_CRIT, "leader: every fence level of %s failed (%s); its domains stay down, retrying in %llu s",
		h->name, h->fr.why, (unsigned long long)(h->fr.backoff_ms / 1000));
	fence_record(l, h->name, false, "all levels", h->fr.why);
	h->fr.active = false;
	h->fr.next_try_ns = now + h->fr.backoff_ms * 1000000ull;
	h->fr.backoff_ms = h->fr.backoff_ms * 2 > FENCE_BACKOFF_MAX_MS ? FENCE_BACKOFF_MAX_MS
								     : h->fr.backoff_ms * 2;
}

static void level_done(struct leader *l, struct lhost *h)
{
	const struct conf_host *ch = conf_host_by_name(l->conf, h->name);
	char method[HAX_NAME_MAX];

	level_name(l, &ch->levels[h->fr.level], method, sizeof(method));
	if (h->fr.level_ok) {
		hax_log(LOG_NOTICE, "leader: %s fenced by level %d (%s): confirmed", h->name,
			h->fr.level + 1, method);
		fence_record(l, h->name, true, method, "confirmed");
		set_host_state(l, h, HOST_FENCED);
		h->fenced_here = true;
		h->fr.active = false;
		h->fr.backoff_ms = l->conf->cluster.fence_retry_ms;
		return;
	}
	if (++h->fr.level < ch->nlevels) {
		run_level(l, h);
		return;
	}
	fence_failed(l, h);
}

static void fence_cb(void *data, int result, const char *msg)
{
	struct fence_cb *cb = data;
	struct lhost *h = cb->h;
	size_t len = strlen(h->fr.why);

	h->fr.ops[cb->slot] = NULL;
	h->fr.pending--;
	if (result < 0) {
		h->fr.level_ok = false;
		snprintf(h->fr.why + len, sizeof(h->fr.why) - len, "%s%s", len ? "; " : "",
			 msg ? msg : strerror(-result));
	}
	if (h->fr.pending == 0)
		level_done(cb->l, h);
}

static void run_level(struct leader *l, struct lhost *h)
{
	const struct conf_host *ch = conf_host_by_name(l->conf, h->name);
	const struct conf_fence_level *lv = &ch->levels[h->fr.level];
	int k;

	h->fr.level_ok = true;
	h->fr.pending = lv->ndev;
	for (k = 0; k < lv->ndev; k++) {
		struct fence_cb *cb = &h->fr.cbs[k];
		const char *dev = l->conf->fences[lv->dev[k]].name;
		size_t len = strlen(h->fr.why);

		*cb = (struct fence_cb){l, h, k};
		if (l->ops.fence(l->ops.opaque, h->name, h->nodeid, lv->dev[k], false, fence_cb,
				 cb, &h->fr.ops[k]) == 0)
			continue;
		h->fr.ops[k] = NULL;
		h->fr.pending--;
		h->fr.level_ok = false;
		snprintf(h->fr.why + len, sizeof(h->fr.why) - len, "%s%s: cannot start",
			 len ? "; " : "", dev);
	}
	if (h->fr.pending == 0)
		level_done(l, h); /* every device failed to start */
}

static void fence_start(struct leader *l, struct lhost *h, bool manual)
{
	const struct conf_host *ch = conf_host_by_name(l->conf, h->name);
	const struct hax_host *sh = state_host(cur(l), h->name);

	if (!ch || ch->nlevels == 0) {
		snprintf(h->fr.why, sizeof(h->fr.why),
			 "no fence device configured (haxctl fence-ack %s once it is off)", h->name);
		fence_failed(l, h);
		return;
	}
	hax_log(LOG_WARNING, "leader: fencing %s%s", h->name, manual ? " (operator request)" : "");
	h->fr = (struct fence_run){.active = true, .manual = manual, .backoff_ms = h->fr.backoff_ms,
				   .lost_since_ns = h->fr.lost_since_ns};
	if (!h->fr.backoff_ms)
		h->fr.backoff_ms = l->conf->cluster.fence_retry_ms;
	if (sh && sh->state != HOST_FENCING)
		set_host_state(l, h, HOST_FENCING);
	run_level(l, h);
}

/* Which hosts need fencing now: left the membership (suspect), a fence underway when this
 * leader took over (fencing), or haxd gone for too long on a live node (agent-lost). */
static void fence_tick(struct leader *l)
{
	uint64_t now = l->ops.now_mono(l->ops.opaque);
	size_t i;

	for (i = 0; i < l->nhosts; i++) {
		struct lhost *h = &l->hosts[i];
		const struct hax_host *sh = state_host(cur(l), h->name);
		bool stuck = wedged(l, h), lost = (!h->member && h->alive) || stuck;

		if (!lost)
			h->fr.lost_since_ns = 0;
		else if (!h->fr.lost_since_ns)
			h->fr.lost_since_ns = stuck ? h->unreported_since_ns : now;
		if (h->member && !stuck) {
			if (h->fr.active && !h->fr.manual) {
				hax_log(LOG_NOTICE, "leader: %s is back before its fence completed; cancelling it",
					h->name);
				fence_cancel_all(l, h);
			}
			continue;
		}
		if (h->fr.active || now < h->fr.next_try_ns || now < l->tilt_until_ns)
			continue;
		/* A minority view trusts no fence it did not do itself (leader.h). */
		if (l->ops.minority && !h->fenced_here && !h->alive) {
			fence_start(l, h, false);
			continue;
		}
		if (!sh)
			continue;
		if (sh->state == HOST_SUSPECT || sh->state == HOST_FENCING ||
		    (sh->state == HOST_AGENT_LOST &&
		     now - h->fr.lost_since_ns >= l->conf->cluster.agent_lost_timeout_ms * 1000000ull))
			fence_start(l, h, false);
	}
}

/* A host this leader is fencing, or that is fenced and not back yet. */
static bool fence_in_force(struct leader *l, const char *host)
{
	const struct lhost *h = lhost(l, host);
	const struct hax_host *sh = state_host(cur(l), host);

	return (h && h->fr.active) ||
	       (sh && (sh->state == HOST_FENCING || sh->state == HOST_FENCED));
}

/*
 * A fence request from DRBD's fence-peer handler (hax-fence-peer: "resource", and the
 * "requester" host its haxd stamped on it). When a resource's replication link breaks,
 * both peers ask to fence each other: one request per resource wins while its fence
 * stands (the target is being fenced or is fenced, until it is back), a host being
 * fenced has no say, and the leader never fences its own host on a peer's word (its
 * own handler's request against that peer wins instead). NULL: go ahead (recorded).
 */
static json_t *peer_fence_check(struct leader *l, const json_t *req, const char *target)
{
	const char *res = json_string_value(json_object_get(req, "resource"));
	const char *from = json_string_value(json_object_get(req, "requester")) ?: "";
	struct peer_fence *slot = NULL;
	char msg[384];
	size_t i;

	if (!json_object_get(req, "resource"))
		return NULL; /* an operator's haxctl fence */
	if (!res || !*res || strlen(res) >= PEER_RESOURCE_MAX)
		return reply_error("refused: a peer fence request needs a DRBD resource name%s", "");
	if (l->ops.self && strcmp(target, l->ops.self) == 0)
		snprintf(msg, sizeof(msg), "refused: %s runs the leader; a DRBD peer's request (resource %s, from %s) never fences it",
			 target, res, from[0] ? from : "?");
	else if (!from[0] || strcmp(from, target) == 0 || fence_in_force(l, from))
		snprintf(msg, sizeof(msg), "refused: the requester %s is unknown, the target itself, or being fenced (resource %s)",
			 from[0] ? from : "?", res);
	else
		msg[0] = '\0';
	for (i = 0; i < l->npeerf && !msg[0]; i++) {
		struct peer_fence *p = &l->peerf[i];

		if (!fence_in_force(l, p->target)) {
			slot = slot ? slot : p; /* that fence is over: a free slot */
			continue;
		}
		if (strcmp(p->resource, res) == 0 &&
		    (strcmp(p->requester, from) != 0 || strcmp(p->target, target) != 0))
			snprintf(msg, sizeof(msg), "refused: DRBD resource %s: %s already asked to fence %s",
				 res, p->requester, p->target);
		else if (strcmp(p->resource, res) == 0)
			return NULL; /* the same request again */
	}
	if (!msg[0] && !slot && l->npeerf == PEER_FENCE_MAX)
		snprintf(msg, sizeof(msg), "refused: %d DRBD peer fences already stand", PEER_FENCE_MAX);
	if (msg[0]) {
		hax_log(LOG_WARNING, "leader: %s", msg);
		return reply_error("%s", msg);
	}
	slot = slot ? slot : &l->peerf[l->npeerf++];
	hax_strlcpy(slot->resource, res, sizeof(slot->resource));
	hax_strlcpy(slot->requester, from, sizeof(slot->requester));
	hax_strlcpy(slot->target, target, sizeof(slot->target));
	return NULL;
}

void leader_remember(const struct leader *l, struct leader_memory *m)
{
	size_t i;

	m->n = 0;
	for (i = 0; i < l->nhosts && m->n < LEADER_MEMORY_HOSTS; i++) {
		const struct lhost *h = &l->hosts[i];

		hax_strlcpy(m->h[m->n].host, h->name, sizeof(m->h[m->n].host));
		m->h[m->n].lost_since_ns = h->fr.lost_since_ns;
		m->h[m->n].next_try_ns = h->fr.next_try_ns;
		m->h[m->n].backoff_ms = h->fr.backoff_ms;
		m->n++;
	}
}

void leader_recall(struct leader *l, const struct leader_memory *m)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		struct lhost *h = lhost(l, m->h[i].host);

		if (!h)
			continue;
		/* A host that is a member again is no longer lost (fence_tick agrees). */
		h->fr.lost_since_ns = h->member ? 0 : m->h[i].lost_since_ns;
		h->fr.next_try_ns = m->h[i].next_try_ns;
		h->fr.backoff_ms = m->h[i].backoff_ms;
	}
}

static json_t *req_fence(struct leader *l, const json_t *req, bool ack)
{
	const char *name = json_string_value(json_object_get(req, "host"));
	struct lhost *h = name ? lhost(l, name) : NULL;
	json_t *refused;

	if (!h)
		return reply_error("no such host: %s", name ? name : "(none)");
	if (!ack && (refused = peer_fence_check(l, req, name)))
		return refused;
	if (!ack) {
		if (h->fr.active)
			return reply_error("%s is already being fenced", name);
		fence_start(l, h, true);
		return reply_ok();
	}
	if (!json_is_true(json_object_get(req, "confirmed")))
		return reply_error("fence-ack of %s needs --yes-i-checked-it-is-off", name);
	if (h->member)
		return reply_error("%s is a live member of the cluster: acknowledging a fence would allow two writers",
				   name);
	/* haxd gone but corosync still there (agent-lost): the host is up, its domains
	 * may be running, whatever the operator believes. */
	if (h->alive)
		return reply_error("%s is still a member of corosync's membership (its haxd is gone, the host is up): acknowledging a fence would allow two writers",
				   name);
	fence_cancel_all(l, h);
	hax_log(LOG_CRIT, "leader: MANUAL fence confirmation of %s by the operator: its domains may now start elsewhere",
		name);
	fence_record(l, name, true, "manual-ack", "the operator confirmed it is off");
	set_host_state(l, h, HOST_FENCED);
	h->fenced_here = true;
	return reply_ok();
}
