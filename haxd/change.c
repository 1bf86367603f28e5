#include "change.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static const char *get_str(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Optional unsigned member: 1 if present and valid, 0 if absent, -EINVAL if wrong. */
static int get_u64(const json_t *o, const char *key, uint64_t max, uint64_t *out)
{
	const json_t *v = json_object_get(o, key);

	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) > max)
		return -EINVAL;
	*out = (uint64_t)json_integer_value(v);
	return 1;
}

/* An optional string member that is present with another type. */
static bool bad_str(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return v && !json_is_string(v);
}

static int get_bool(const json_t *o, const char *key, bool *out)
{
	const json_t *v = json_object_get(o, key);

	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return -EINVAL;
	*out = json_is_true(v);
	return 1;
}

static uint64_t stamp(const json_t *change)
{
	uint64_t now = 0;

	get_u64(change, "now_ns", UINT64_MAX, &now);
	return now;
}

static bool in_names(const char (*names)[HAX_NAME_MAX], size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

static void names_add(char (*names)[HAX_NAME_MAX], size_t *n, const char *name)
{
	if (*n < STATE_MAX_HOSTS && !in_names((const char (*)[HAX_NAME_MAX])names, *n, name))
		hax_strlcpy(names[(*n)++], name, HAX_NAME_MAX);
}

/* Drop name from a list, keeping the others' order. */
static void names_del(char (*names)[HAX_NAME_MAX], size_t *n, const char *name)
{
	size_t i, k = 0;

	for (i = 0; i < *n; i++)
		if (strcmp(names[i], name) != 0)
			memmove(names[k++], names[i], HAX_NAME_MAX);
	*n = k;
}

/* A new term. "members" (the haxd members of the view that elected its leader) moves
 * the last term's members that are not among them into the doubt (state.h). */
static int apply_epoch(struct hax_state *s, const json_t *c, char *err, size_t errlen)
{
	const json_t *members = json_object_get(c, "members");
	char (*doubt)[HAX_NAME_MAX] = s->doubt;
	uint64_t epoch;
	size_t i, n;

	if (get_u64(c, "epoch", INT64_MAX, &epoch) != 1)
		return fail(err, errlen, "epoch: expected an integer");
	if (epoch <= s->epoch)
		return fail(err, errlen, "epoch %llu is not newer than %llu",
			    (unsigned long long)epoch, (unsigned long long)s->epoch);
	if (members && (!json_is_array(members) || json_array_size(members) > STATE_MAX_HOSTS))
		return fail(err, errlen, "epoch: members must be a list of host names");
	for (i = 0; i < json_array_size(members); i++) {
		const char *m = json_string_value(json_array_get(members, i));

		if (!m || !hax_valid_name(m))
			return fail(err, errlen, "epoch: bad member name");
	}
	s->epoch = epoch;
	if (!members)
		return 0;
	for (i = 0; i < s->nepoch_members; i++)
		names_add(doubt, &s->ndoubt, s->epoch_members[i]);
	s->nepoch_members = 0;
	for (i = 0, n = json_array_size(members); i < n; i++) {
		const char *m = json_string_value(json_array_get(members, i));

		names_del(doubt, &s->ndoubt, m);
		names_add(s->epoch_members, &s->nepoch_members, m);
	}
	return 0;
}

/* Checks every member first so that a bad change leaves the host untouched. */
static int apply_host_set(struct hax_state *s, const json_t *c, char *err, size_t errlen)
{
	const char *name = get_str(c, "name"), *st = get_str(c, "state");
	uint64_t nodeid, mt = 0, mf = 0, vc = 0, wd = 0;
	enum host_state hs = HOST_UNKNOWN;
	struct hax_host *h;
	bool maint = false, evac = false;
	uint64_t conc = 0;
	int r_mt, r_mf, r_vc, r_m, r_e, r_c, r_wd;

	if (!name || get_u64(c, "nodeid", 0x7fffffff, &nodeid) != 1 || nodeid == 0)
		return fail(err, errlen, "host-set: name and nodeid required");
	if (json_object_get(c, "state") && (!st || host_state_parse(st, &hs) < 0))
		return fail(err, errlen, "host-set: bad state");
	r_mt = get_u64(c, "mem_total_mib", UINT32_MAX * 1024ull, &mt);
	r_mf = get_u64(c, "mem_free_mib", UINT32_MAX * 1024ull, &mf);
	r_vc = get_u64(c, "vcpus_total", 1u << 20, &vc);
	r_m = get_bool(c, "maintenance", &maint);
	r_e = get_bool(c, "evacuating", &evac);
	r_c = get_u64(c, "evacuate_concurrency", 64, &conc);
	r_wd = get_u64(c, "watchdog_ms", 24ull * 3600 * 1000, &wd);
	if (r_mt < 0 || r_mf < 0 || r_vc < 0 || r_m < 0 || r_e < 0 || r_c < 0 || r_wd < 0)
		return fail(err, errlen, "host-set %s: bad member type", name);
	if (state_add_host(s, name, (uint32_t)nodeid, &h) < 0)
		return fail(err, errlen, "host-set: cannot add host %s (nodeid %llu)", name,
			    (unsigned long long)nodeid);
	if (st && h->state != hs) {
		h->state = hs;
		h->since_ns = stamp(c);
	}
	/* Fenced: whatever it held or ran is gone. */
	if (st && hs == HOST_FENCED)
		names_del(s->doubt, &s->ndoubt, name);
	if (r_mt)
		h->mem_total_mib = mt;
	if (r_mf)
		h->mem_free_mib = mf;
	if (r_vc)
		h->vcpus_total = (uint32_t)vc;
	if (r_m)
		h->maintenance = maint;
	if (r_e)
		h->evacuating = evac;
	if (r_c)
		h->evacuate_concurrency = (uint32_t)conc;
	if (r_wd)
		h->watchdog_ms = wd;
	return 0;
}

static int apply_domain_add(struct hax_state *s, const json_t *c, char *err, size_t errlen)
{
	struct hax_domain d;
	int r;

	r = domain_from_json(json_object_get(c, "domain"), &d, err, errlen);
	if (r < 0)
		return r;
	r = state_add_domain(s, &d, err, errlen);
	domain_clear(&d);
	if (r == -EEXIST)
		return fail(err, errlen, "domain %s already exists", d.name);
	return r < 0 ? -EINVAL : 0;
}

static int apply_domain_remove(struct hax_state *s, const json_t *c, char *err, size_t errlen)
{
	const char *name = get_str(c, "name");

	if (!name || state_remove_domain(s, name) < 0)
		return fail(err, errlen, "domain-remove: no domain %s", name ? name : "(null)");
	return 0;
}

struct domain_set {
	bool enabled;
	enum dom_state st;
	const char *host, *target, *reason;
	uint64_t inc, attempts, tinc;
	int r_en, r_inc, r_att, r_tinc;
};

static int check_domain_set(const json_t *c, const struct hax_domain *d, struct domain_set *ds,
			    char *err, size_t errlen)
{
	const char *st = get_str(c, "state");

	ds->host = get_str(c, "host");
	ds->target = get_str(c, "target");
	ds->reason = get_str(c, "reason");
	ds->r_en = get_bool(c, "enabled", &ds->enabled);
	ds->r_inc = get_u64(c, "incarnation", INT64_MAX, &ds->inc);
	ds->r_att = get_u64(c, "start_attempts", 1000000, &ds->attempts);
	ds->r_tinc = get_u64(c, "target_incarnation", INT64_MAX, &ds->tinc);
	if (ds->r_en < 0 || ds->r_inc < 0 || ds->r_att < 0 || ds->r_tinc < 0 || bad_str(c, "host") ||
	    bad_str(c, "target") || bad_str(c, "reason"))
		return fail(err, errlen, "domain-set %s: bad member type", d->name);
	if (json_object_get(c, "state") && (!st || dom_state_parse(st, &ds->st) < 0))
		return fail(err, errlen, "domain-set %s: bad state", d->name);
	if (!st)
		ds->st = d->state;
	if ((ds->host && *ds->host && !hax_valid_name(ds->host)) ||
	    (ds->target && *ds->target && !hax_valid_name(ds->target)))
		return fail(err, errlen, "domain-set %s: bad host name", d->name);
	if (ds->r_inc && ds->inc < d->incarnation)
		return fail(err, errlen, "domain-set %s: incarnation %llu < %llu", d->name,
			    (unsigned long long)ds->inc, (unsigned long long)d->incarnation);
	return 0;
}

static int apply_domain_set(struct hax_state *s, const json_t *c, char *err, size_t errlen)
{
	const char *name = get_str(c, "name");
	struct hax_domain *d = name ? state_domain(s, name) : NULL;
	struct domain_set ds;
	int r;

	if (!d)
		return fail(err, errlen, "domain-set: no domain %s", name ? name : "(null)");
	r = check_domain_set(c, d, &ds, err, errlen);
	if (r < 0)
		return r;
	if (ds.r_en)
		d->enabled = ds.enabled;
	if (ds.st != d->state) {
		d->state = ds.st;
		d->since_ns = stamp(c);
	}
	if (ds.host)
		hax_strlcpy(d->host, ds.host, sizeof(d->host));
	if (ds.target)
		hax_strlcpy(d->target, ds.target, sizeof(d->target));
	if (ds.reason)
		hax_strlcpy(d->reason, ds.reason, sizeof(d->reason));
	if (ds.r_att)
		d->start_attempts = (uint32_t)ds.attempts;
	/* A new start of a domain that ran before (not a migration: its target copy
	 * arrives running): counted, since incarnations number starts cluster-wide. */
	if (ds.r_inc && ds.inc > d->incarnation && d->incarnation && ds.st == DOM_STARTING &&
	    d->restarts < UINT32_MAX)
		d->restarts++;
	if (ds.r_inc) {
		d->incarnation = ds.inc;
		if (ds.inc > s->last_incarnation)
			s->last_incarnation = ds.inc;
	}
	/* Handed out to a migration target: never handed out again, whatever happens. */
	if (ds.r_tinc) {
		d->target_incarnation = ds.tinc;
		if (ds.tinc > s->last_incarnation)
			s->last_incarnation = ds.tinc;
	}
	return 0;
}

static int apply_fence_record(struct hax_state *s, const json_t *c, char *err, size_t errlen)
{
	const json_t *r = json_object_get(c, "record");
	struct hax_fence_record fr = {0};
	const char *host = get_str(r, "host"), *method = get_str(r, "method");
	const char *detail = get_str(r, "detail");
	bool ok;

	if (!json_is_object(r) || !host || !hax_valid_name(host) || !method ||
	    bad_str(r, "detail") ||
	    get_bool(r, "ok", &ok) != 1 || get_u64(r, "time_ns", UINT64_MAX, &fr.time_ns) != 1)
		return fail(err, errlen, "fence-record: host, time_ns, ok and method required");
	hax_strlcpy(fr.host, host, sizeof(fr.host));
	hax_strlcpy(fr.method, method, sizeof(fr.method));
	hax_strlcpy(fr.detail, detail ? detail : "", sizeof(fr.detail));
	fr.ok = ok;
	state_add_fence_record(s, &fr);
	return 0;
}

static const struct {
	const char *op;
	int (*apply)(struct hax_state *, const json_t *, char *, size_t);
} ops[] = {
	{"epoch", apply_epoch},
	{"host-set", apply_host_set},
	{"domain-add", apply_domain_add},
	{"domain-remove", apply_domain_remove},
	{"domain-set", apply_domain_set},
	{"fence-record", apply_fence_record},
};

int change_apply(struct hax_state *s, const json_t *change, char *err, size_t errlen)
{
	const char *op = get_str(change, "op");
	uint64_t now;
	size_t i;
	int r;

	if (!json_is_object(change) || !op)
		return fail(err, errlen, "change: not an object with an \"op\"");
	if (get_u64(change, "now_ns", INT64_MAX, &now) < 0)
		return fail(err, errlen, "change: now_ns: expected an integer");
	for (i = 0; i < HAX_ARRAY_SIZE(ops); i++) {
		if (strcmp(ops[i].op, op) != 0)
			continue;
		r = ops[i].apply(s, change, err, errlen);
		if (r == 0)
			s->seq++;
		return r;
	}
	return fail(err, errlen, "change: unknown op \"%s\"", op);
}

json_t *change_domain_set(const char *name)
{
	return json_pack("{s:s, s:s}", "op", "domain-set", "name", name);
}

json_t *change_host_set(const char *name, uint32_t nodeid)
{
	return json_pack("{s:s, s:s, s:I}", "op", "host-set", "name", name, "nodeid",
			 (json_int_t)nodeid);
}
