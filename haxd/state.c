/*
 * The replicated cluster state: lifecycle, lookups, validation, JSON form, persistence.
 *
 * Every record type (state, host, domain, fence record) is described once by a field
 * table; the encoder, the decoder and the validator all walk the same table, so the JSON
 * form, the defaults and the bounds cannot drift apart.
 *
 * JSON members and their defaults when absent (absent required members are -EINVAL):
 *   top level    format, epoch, seq, cluster, last_incarnation, hosts, domains: required;
 *                fence_history: [].
 *   hosts[]      name, nodeid: required; state "unknown", maintenance false,
 *                evacuating false, evacuate_concurrency 0, mem_total_mib 0, mem_free_mib 0, vcpus_total 0,
 *                watchdog_ms 0, since_ns 0.
 *   domains[]    name, definition, memory_mib, vcpus: required; priority 0,
 *                anti_affinity [], prefer [], enabled true, state "stopped", host "",
 *                target "", incarnation 0, target_incarnation 0, since_ns 0, start_attempts 0, reason "".
 *   fence_history[]  host, time_ns, ok: required; method "", detail "".
 * Unknown members are ignored so that a newer haxd can add members without a new format.
 *
 * 64-bit counters travel as JSON integers, which jansson holds in a long long: they are
 * limited to 0..INT64_MAX (clocks reach that in 2262). The validator refuses larger values
 * and the encoder saturates them rather than emit a negative number.
 */
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATE_FILE "state.json"
#define STATE_TMP_FILE ".state.json.tmp"

#define DOM_MEMORY_MAX 16777216LL /* MiB, 16 TiB */
#define DOM_VCPUS_MAX 1024LL
#define DOM_PRIORITY_MIN -1000LL
#define DOM_PRIORITY_MAX 1000LL
#define NODEID_MAX 2147483647LL
#define JSON_U64_MAX ((long long)INT64_MAX)

/* clang-format off */
static const char *const host_state_names[HOST_STATE_COUNT] = {
	[HOST_UNKNOWN] = "unknown",   [HOST_ONLINE] = "online",
	[HOST_SUSPECT] = "suspect",   [HOST_FENCING] = "fencing",
	[HOST_FENCED] = "fenced",     [HOST_AGENT_LOST] = "agent-lost",
};

static const char *const dom_state_names[DOM_STATE_COUNT] = {
	[DOM_STOPPED] = "stopped",     [DOM_STARTING] = "starting",
	[DOM_RUNNING] = "running",     [DOM_STOPPING] = "stopping",
	[DOM_MIGRATING] = "migrating", [DOM_RECOVERING] = "recovering",
	[DOM_FAILED] = "failed",       [DOM_DISABLED] = "disabled",
};
/* clang-format on */

const char *host_state_name(enum host_state st)
{
	if ((unsigned)st >= HOST_STATE_COUNT)
		return "invalid";
	return host_state_names[st];
}

const char *dom_state_name(enum dom_state st)
{
	if ((unsigned)st >= DOM_STATE_COUNT)
		return "invalid";
	return dom_state_names[st];
}

static int parse_name(const char *const *names, int count, const char *name)
{
	int i;

	if (!name)
		return -EINVAL;
	for (i = 0; i < count; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -EINVAL;
}

int host_state_parse(const char *name, enum host_state *out)
{
	int i = parse_name(host_state_names, HOST_STATE_COUNT, name);

	if (i < 0)
		return i;
	*out = (enum host_state)i;
	return 0;
}

int dom_state_parse(const char *name, enum dom_state *out)
{
	int i = parse_name(dom_state_names, DOM_STATE_COUNT, name);

	if (i < 0)
		return i;
	*out = (enum dom_state)i;
	return 0;
}

/* ---- messages ---------------------------------------------------------------------- */

static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Where a message points: "domains[3]" + member "memory_mib", or just the member. */
struct jctx {
	char *err;
	size_t errlen;
	char path[48];
};

static int jfail(const struct jctx *c, const char *member, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Always returns -EINVAL, so that callers can "return jfail(...)". */
static int jfail(const struct jctx *c, const char *member, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->path[0] && member)
		seterr(c->err, c->errlen, "%s.%s: %s", c->path, member, msg);
	else if (c->path[0] || member)
		seterr(c->err, c->errlen, "%s: %s", c->path[0] ? c->path : member, msg);
	else
		seterr(c->err, c->errlen, "%s", msg);
	return -EINVAL;
}

/* Input is echoed in messages only when it cannot garble a log line. */
static bool printable(const char *s)
{
	size_t n = 0;

	for (; *s; s++, n++)
		if (*s < 0x20 || *s > 0x7e || *s == '"' || n >= 40)
			return false;
	return true;
}

static int bad_name(const struct jctx *c, const char *member, const char *s)
{
	static const char rule[] = "1..63 of A-Z a-z 0-9 . _ -, not starting with - or .";

	if (s && printable(s))
		return jfail(c, member, "\"%s\" is not a valid name (%s)", s, rule);
	return jfail(c, member, "not a valid name (%s)", rule);
}

/* ---- UTF-8 ------------------------------------------------------------------------- */

/* Length of the well-formed UTF-8 sequence at s (RFC 3629, as jansson checks it), 0 if
 * it is not one. */
static size_t utf8_seq(const unsigned char *s, size_t left)
{
	uint32_t cp;
	size_t n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (left < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static bool utf8_valid(const char *s, size_t len)
{
	size_t i = 0, n;

	while (i < len) {
		n = utf8_seq((const unsigned char *)s + i, len - i);
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

/* ---- field tables ------------------------------------------------------------------ */

enum ftype {
	F_U32,
	F_U64,
	F_I32,
	F_BOOL,
	F_NAME,	      /* char[HAX_NAME_MAX], a valid name */
	F_OPT_NAME,   /* char[HAX_NAME_MAX], "" or a valid name */
	F_TEXT,	      /* char[size], any UTF-8 text without NUL */
	F_DEFINITION, /* owned char *, up to STATE_MAX_DEFINITION bytes */
	F_NAMES,      /* char[max][HAX_NAME_MAX] plus a size_t count, distinct valid names */
	F_HOST_STATE,
	F_DOM_STATE,
};

struct field {
	const char *key;
	enum ftype type;
	bool required;
	long long min, max; /* integers; F_NAMES: max = entries */
	long long def;	    /* default of an absent integer, boolean or state */
	size_t off;	    /* of the member in its record */
	size_t size;	    /* of the member */
	size_t count_off;   /* F_NAMES: of the count */
};

/* clang-format off */
#define FIELD(rec, member, k, t, req, lo, hi, d)                                       \
	{                                                                              \
		.key = (k), .type = (t), .required = (req), .min = (lo), .max = (hi),   \
		.def = (d), .off = offsetof(struct rec, member),                       \
		.size = sizeof(((struct rec *)0)->member)                              \
	}
#define NAMES(rec, member, count, k, maxn)                                             \
	{                                                                              \
		.key = (k), .type = F_NAMES, .max = (maxn),                            \
		.off = offsetof(struct rec, member), .size = HAX_NAME_MAX,             \
		.count_off = offsetof(struct rec, count)                               \
	}
#define TEXT(rec, member, k, t, req) FIELD(rec, member, k, t, req, 0, 0, 0)

static const struct field state_fields[] = {
	FIELD(hax_state, epoch, "epoch", F_U64, true, 0, JSON_U64_MAX, 0),
	FIELD(hax_state, seq, "seq", F_U64, true, 0, JSON_U64_MAX, 0),
	TEXT(hax_state, cluster, "cluster", F_NAME, true),
	FIELD(hax_state, last_incarnation, "last_incarnation", F_U64, true, 0, JSON_U64_MAX, 0),
	NAMES(hax_state, epoch_members, nepoch_members, "epoch_members", STATE_MAX_HOSTS),
	NAMES(hax_state, doubt, ndoubt, "doubt", STATE_MAX_HOSTS),
};

static const struct field host_fields[] = {
	TEXT(hax_host, name, "name", F_NAME, true),
	FIELD(hax_host, nodeid, "nodeid", F_U32, true, 1, NODEID_MAX, 0),
	FIELD(hax_host, state, "state", F_HOST_STATE, false, 0, 0, HOST_UNKNOWN),
	FIELD(hax_host, maintenance, "maintenance", F_BOOL, false, 0, 1, false),
	FIELD(hax_host, evacuating, "evacuating", F_BOOL, false, 0, 1, false),
	FIELD(hax_host, evacuate_concurrency, "evacuate_concurrency", F_U32, false, 0, 64, 0),
	FIELD(hax_host, mem_total_mib, "mem_total_mib", F_U64, false, 0, JSON_U64_MAX, 0),
	FIELD(hax_host, mem_free_mib, "mem_free_mib", F_U64, false, 0, JSON_U64_MAX, 0),
	FIELD(hax_host, vcpus_total, "vcpus_total", F_U32, false, 0, UINT32_MAX, 0),
	FIELD(hax_host, watchdog_ms, "watchdog_ms", F_U64, false, 0, JSON_U64_MAX, 0),
	FIELD(hax_host, since_ns, "since_ns", F_U64, false, 0, JSON_U64_MAX, 0),
};

static const struct field domain_fields[] = {
	TEXT(hax_domain, name, "name", F_NAME, true),
	FIELD(hax_domain, definition, "definition", F_DEFINITION, true, 0,
	      STATE_MAX_DEFINITION, 0),
	FIELD(hax_domain, memory_mib, "memory_mib", F_U32, true, 1, DOM_MEMORY_MAX, 0),
	FIELD(hax_domain, vcpus, "vcpus", F_U32, true, 1, DOM_VCPUS_MAX, 0),
	FIELD(hax_domain, priority, "priority", F_I32, false, DOM_PRIORITY_MIN,
	      DOM_PRIORITY_MAX, 0),
	NAMES(hax_domain, anti, n_anti, "anti_affinity", STATE_MAX_TAGS),
	NAMES(hax_domain, prefer, n_prefer, "prefer", STATE_MAX_PREFER),
	FIELD(hax_domain, enabled, "enabled", F_BOOL, false, 0, 1, true),
	FIELD(hax_domain, state, "state", F_DOM_STATE, false, 0, 0, DOM_STOPPED),
	TEXT(hax_domain, host, "host", F_OPT_NAME, false),
	TEXT(hax_domain, target, "target", F_OPT_NAME, false),
	FIELD(hax_domain, incarnation, "incarnation", F_U64, false, 0, JSON_U64_MAX, 0),
	FIELD(hax_domain, target_incarnation, "target_incarnation", F_U64, false, 0,
	      JSON_U64_MAX, 0),
	FIELD(hax_domain, since_ns, "since_ns", F_U64, false, 0, JSON_U64_MAX, 0),
	FIELD(hax_domain, start_attempts, "start_attempts", F_U32, false, 0, UINT32_MAX, 0),
	FIELD(hax_domain, restarts, "restarts", F_U32, false, 0, UINT32_MAX, 0),
	TEXT(hax_domain, reason, "reason", F_TEXT, false),
};

/* method is a label ("manual-ack", a level such as "ipmi+scsi"), not necessarily a name. */
static const struct field fence_fields[] = {
	TEXT(hax_fence_record, host, "host", F_NAME, true),
	FIELD(hax_fence_record, time_ns, "time_ns", F_U64, true, 0, JSON_U64_MAX, 0),
	FIELD(hax_fence_record, ok, "ok", F_BOOL, true, 0, 1, 0),
	TEXT(hax_fence_record, method, "method", F_TEXT, false),
	TEXT(hax_fence_record, detail, "detail", F_TEXT, false),
};
/* clang-format on */

/* Integers of any width and sign, widened; false if a u64 is beyond what JSON carries. */
static bool load_int(const struct field *f, const void *p, long long *v)
{
	uint64_t u;

	switch (f->type) {
	case F_U32:
		*v = *(const uint32_t *)p;
		return true;
	case F_I32:
		*v = *(const int32_t *)p;
		return true;
	default:
		u = *(const uint64_t *)p;
		*v = u > (uint64_t)JSON_U64_MAX ? JSON_U64_MAX : (long long)u;
		return u <= (uint64_t)JSON_U64_MAX;
	}
}

/* Stores an integer, boolean or state already checked against the field's bounds. */
static void store_int(const struct field *f, void *p, long long v)
{
	switch (f->type) {
	case F_U32:
		*(uint32_t *)p = (uint32_t)v;
		break;
	case F_U64:
		*(uint64_t *)p = (uint64_t)v;
		break;
	case F_I32:
		*(int32_t *)p = (int32_t)v;
		break;
	case F_BOOL:
		*(bool *)p = v != 0;
		break;
	case F_HOST_STATE:
		*(enum host_state *)p = (enum host_state)v;
		break;
	case F_DOM_STATE:
		*(enum dom_state *)p = (enum dom_state)v;
		break;
	default:
		break;
	}
}

static int range_fail(const struct jctx *c, const struct field *f)
{
	return jfail(c, f->key, "expected an integer %lld..%lld", f->min, f->max);
}

/* ---- validation of records in memory ----------------------------------------------- */

static int check_name(const struct jctx *c, const char *member, const char *s, bool opt)
{
	size_t len = strnlen(s, HAX_NAME_MAX);

	if (len == HAX_NAME_MAX)
		return bad_name(c, member, NULL);
	if (opt && len == 0)
		return 0;
	if (!hax_valid_name(s))
		return bad_name(c, member, s);
	return 0;
}

static int check_text(const struct jctx *c, const char *member, const char *s, size_t max)
{
	size_t len = strnlen(s, max + 1);

	if (len > max)
		return jfail(c, member, "longer than %zu bytes", max);
	if (!utf8_valid(s, len))
		return jfail(c, member, "not valid UTF-8");
	return 0;
}

static int check_names(const struct jctx *c, const struct field *f, const char *rec)
{
	const char(*arr)[HAX_NAME_MAX] = (const void *)(rec + f->off);
	size_t n = *(const size_t *)(rec + f->count_off), i, j;
	char member[64];
	int r;

	if (n > (size_t)f->max)
		return jfail(c, f->key, "too many entries (%zu, at most %lld)", n, f->max);
	for (i = 0; i < n; i++) {
		snprintf(member, sizeof(member), "%s[%zu]", f->key, i);
		r = check_name(c, member, arr[i], false);
		if (r < 0)
			return r;
		for (j = 0; j < i; j++)
			if (strcmp(arr[i], arr[j]) == 0)
				return jfail(c, member, "duplicate entry \"%s\"", arr[i]);
	}
	return 0;
}

static int check_field(const struct jctx *c, const struct field *f, const char *rec)
{
	const void *p = rec + f->off;
	const char *def;
	long long v;

	switch (f->type) {
	case F_U32:
	case F_U64:
	case F_I32:
		if (!load_int(f, p, &v) || v < f->min || v > f->max)
			return range_fail(c, f);
		return 0;
	case F_NAME:
	case F_OPT_NAME:
		return check_name(c, f->key, p, f->type == F_OPT_NAME);
	case F_TEXT:
		return check_text(c, f->key, p, f->size - 1);
	case F_DEFINITION:
		def = *(char *const *)p;
		return def ? check_text(c, f->key, def, (size_t)f->max) : 0;
	case F_NAMES:
		return check_names(c, f, rec);
	case F_HOST_STATE:
		if ((unsigned)*(const enum host_state *)p >= HOST_STATE_COUNT)
			return jfail(c, f->key, "invalid host state");
		return 0;
	case F_DOM_STATE:
		if ((unsigned)*(const enum dom_state *)p >= DOM_STATE_COUNT)
			return jfail(c, f->key, "invalid domain state");
		return 0;
	case F_BOOL:
		return 0;
	}
	return 0;
}

static int check_fields(const struct jctx *c, const struct field *t, size_t n, const void *rec)
{
	size_t i;
	int r;

	for (i = 0; i < n; i++) {
		r = check_field(c, &t[i], rec);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Beyond a valid name: not one xl would read as another domain's migration leftover. */
static int check_domain_name(const struct jctx *c, const struct hax_domain *d)
{
	const char *sfx = hax_reserved_domain_suffix(d->name);

	if (sfx)
		return jfail(c, "name", "\"%s\" ends in \"%s\", which xl reserves for a domain in migration",
			     printable(d->name) ? d->name : "(name)", sfx);
	return 0;
}

int state_domain_validate(const struct hax_domain *d, char *err, size_t errlen)
{
	struct jctx c = {.err = err, .errlen = errlen};
	int r;

	if (!d)
		return jfail(&c, NULL, "no domain");
	r = check_fields(&c, domain_fields, HAX_ARRAY_SIZE(domain_fields), d);
	return r < 0 ? r : check_domain_name(&c, d);
}

/* ---- lifecycle --------------------------------------------------------------------- */

/*
 * Arrays hold the next power of two of their length, so the capacity needs no field of
 * its own: an append reallocates exactly when the length is 0 or a power of two.
 */
static size_t cap_for(size_t n)
{
	size_t c = 1;

	if (n == 0)
		return 0;
	while (c < n)
		c <<= 1;
	return c;
}

static void *grow_for_append(void *arr, size_t n, size_t elem)
{
	if (n == 0 || (n & (n - 1)) == 0)
		return hax_xrealloc(arr, cap_for(n + 1) * elem);
	return arr;
}

static void *new_array(size_t n, size_t elem)
{
	return n ? hax_xcalloc(cap_for(n), elem) : NULL;
}

static void *dup_array(const void *src, size_t n, size_t elem)
{
	void *p;

	if (n == 0)
		return NULL;
	p = hax_xmalloc(cap_for(n) * elem);
	memcpy(p, src, n * elem);
	return p;
}

/* NULL for a cluster name that is not a valid name. */
struct hax_state *state_new(const char *cluster)
{
	struct hax_state *s;

	if (!cluster || !hax_valid_name(cluster))
		return NULL;
	s = hax_xcalloc(1, sizeof(*s));
	hax_strlcpy(s->cluster, cluster, sizeof(s->cluster));
	return s;
}

void domain_clear(struct hax_domain *d)
{
	if (!d)
		return;
	free(d->definition);
	d->definition = NULL;
}

void state_free(struct hax_state *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->ndomains; i++)
		domain_clear(&s->domains[i]);
	free(s->domains);
	free(s->hosts);
	free(s->fence);
	free(s);
}

struct hax_state *state_clone(const struct hax_state *s)
{
	struct hax_state *c;
	size_t i;

	if (!s)
		return NULL;
	c = hax_xmalloc(sizeof(*c));
	*c = *s;
	c->hosts = dup_array(s->hosts, s->nhosts, sizeof(*s->hosts));
	c->domains = dup_array(s->domains, s->ndomains, sizeof(*s->domains));
	c->fence = dup_array(s->fence, s->nfence, sizeof(*s->fence));
	for (i = 0; i < s->ndomains; i++)
		if (s->domains[i].definition)
			c->domains[i].definition = hax_xstrdup(s->domains[i].definition);
	return c;
}

/* A missing state is older than any state, so a node with none adopts the first seen. */
int state_version_cmp(const struct hax_state *a, const struct hax_state *b)
{
	if (!a || !b)
		return (a != NULL) - (b != NULL);
	if (a->epoch != b->epoch)
		return a->epoch < b->epoch ? -1 : 1;
	if (a->seq != b->seq)
		return a->seq < b->seq ? -1 : 1;
	return 0;
}

/* ---- lookups and changes ----------------------------------------------------------- */

struct hax_host *state_host(const struct hax_state *s, const char *name)
{
	size_t i;

	if (!s || !name)
		return NULL;
	for (i = 0; i < s->nhosts; i++)
		if (strcmp(s->hosts[i].name, name) == 0)
			return &s->hosts[i];
	return NULL;
}

struct hax_host *state_host_by_nodeid(const struct hax_state *s, uint32_t nodeid)
{
	size_t i;

	if (!s)
		return NULL;
	for (i = 0; i < s->nhosts; i++)
		if (s->hosts[i].nodeid == nodeid)
			return &s->hosts[i];
	return NULL;
}

struct hax_domain *state_domain(const struct hax_state *s, const char *name)
{
	size_t i;

	if (!s || !name)
		return NULL;
	for (i = 0; i < s->ndomains; i++)
		if (strcmp(s->domains[i].name, name) == 0)
			return &s->domains[i];
	return NULL;
}

/*
 * A name already present with another nodeid is -EEXIST too: a host's identity is the
 * pair, and silently renumbering it would confuse storage keys derived from the nodeid.
 * The array may move: pointers from earlier lookups are stale after a successful add.
 */
int state_add_host(struct hax_state *s, const char *name, uint32_t nodeid, struct hax_host **out)
{
	struct hax_host *h;

	if (!s || !name || !hax_valid_name(name) || nodeid == 0 || nodeid > NODEID_MAX)
		return -EINVAL;
	h = state_host(s, name);
	if (h) {
		if (h->nodeid != nodeid)
			return -EEXIST;
		if (out)
			*out = h;
		return 0;
	}
	if (state_host_by_nodeid(s, nodeid))
		return -EEXIST;
	if (s->nhosts >= STATE_MAX_HOSTS)
		return -E2BIG;
	s->hosts = grow_for_append(s->hosts, s->nhosts, sizeof(*s->hosts));
	h = &s->hosts[s->nhosts++];
	memset(h, 0, sizeof(*h));
	hax_strlcpy(h->name, name, sizeof(h->name));
	h->nodeid = nodeid;
	h->state = HOST_UNKNOWN;
	if (out)
		*out = h;
	return 0;
}

size_t state_domain_budget(const struct hax_domain *d)
{
	struct hax_domain c = *d;
	json_t *j;
	char *text;
	size_t n;

	/* The changing fields at their shortest: the reserve covers them at their longest. */
	c.enabled = true;
	c.state = DOM_STOPPED;
	c.host[0] = c.target[0] = c.reason[0] = '\0';
	c.incarnation = c.target_incarnation = c.since_ns = 0;
	c.start_attempts = c.restarts = 0;
	j = domain_to_json(&c);
	text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	n = text ? strlen(text) : STATE_MAX_JSON_BYTES;
	free(text);
	json_decref(j);
	return n + STATE_DOMAIN_RESERVE;
}

/* A NULL definition is stored as "", so that every domain in a state owns a string. */
int state_add_domain(struct hax_state *s, const struct hax_domain *d, char *err, size_t errlen)
{
	struct hax_domain *slot;
	size_t b;
	int r;

	if (!s) {
		seterr(err, errlen, "no state");
		return -EINVAL;
	}
	r = state_domain_validate(d, err, errlen);
	if (r < 0)
		return r;
	if (state_domain(s, d->name)) {
		seterr(err, errlen, "domain \"%s\" already exists", d->name);
		return -EEXIST;
	}
	if (s->ndomains >= STATE_MAX_DOMAINS) {
		seterr(err, errlen, "too many domains (at most %d)", STATE_MAX_DOMAINS);
		return -E2BIG;
	}
	b = state_domain_budget(d);
	if (STATE_FIXED_RESERVE + s->budget + b > STATE_MAX_JSON_BYTES) {
		seterr(err, errlen,
		       "the state would outgrow its limit of %u MiB (with room for every domain's changes): %zu domains take %zu KiB, this one %zu KiB",
		       STATE_MAX_JSON_BYTES >> 20, s->ndomains, s->budget >> 10, b >> 10);
		return -E2BIG;
	}
	s->budget += b;
	s->domains = grow_for_append(s->domains, s->ndomains, sizeof(*s->domains));
	slot = &s->domains[s->ndomains++];
	*slot = *d;
	slot->definition = hax_xstrdup(d->definition ? d->definition : "");
	return 0;
}

/* Keeps the order of the remaining domains, which is the order of the JSON form. */
int state_remove_domain(struct hax_state *s, const char *name)
{
	struct hax_domain *d = state_domain(s, name);
	size_t i;

	if (!d)
		return -ENOENT;
	i = (size_t)(d - s->domains);
	s->budget -= state_domain_budget(d);
	domain_clear(d);
	memmove(d, d + 1, (s->ndomains - i - 1) * sizeof(*d));
	s->ndomains--;
	return 0;
}

void state_add_fence_record(struct hax_state *s, const struct hax_fence_record *r)
{
	struct hax_fence_record *slot;

	if (!s || !r)
		return;
	if (s->nfence >= STATE_MAX_FENCE_HISTORY) {
		memmove(s->fence, s->fence + 1, (s->nfence - 1) * sizeof(*s->fence));
		s->nfence--;
	} else {
		s->fence = grow_for_append(s->fence, s->nfence, sizeof(*s->fence));
	}
	slot = &s->fence[s->nfence++];
	*slot = *r;
	/* A caller's unterminated buffer must not make the encoder read past the record. */
	slot->host[sizeof(slot->host) - 1] = '\0';
	slot->method[sizeof(slot->method) - 1] = '\0';
	slot->detail[sizeof(slot->detail) - 1] = '\0';
}

/* ---- encoding ---------------------------------------------------------------------- */

/* jansson fails only for lack of memory once strings are valid UTF-8: abort, as hax_x*. */
static json_t *must(json_t *j)
{
	if (!j) {
		fputs("hax: out of memory (json)\n", stderr);
		abort();
	}
	return j;
}

static void jset(json_t *o, const char *key, json_t *v)
{
	if (json_object_set_new(o, key, must(v)) < 0)
		must(NULL);
}

static void jappend(json_t *a, json_t *v)
{
	if (json_array_append_new(a, must(v)) < 0)
		must(NULL);
}

/*
 * A string of at most max bytes. Invalid UTF-8 (a reason cut mid-character by
 * hax_strlcpy) becomes '?' rather than make the whole state unencodable.
 */
static json_t *jstr(const char *s, size_t max)
{
	size_t len = strnlen(s, max), i = 0, n;
	json_t *v;
	char *copy;

	if (utf8_valid(s, len))
		return must(json_stringn(s, len));
	copy = hax_xmalloc(len + 1);
	memcpy(copy, s, len);
	while (i < len) {
		n = utf8_seq((const unsigned char *)copy + i, len - i);
		if (n == 0) {
			copy[i] = '?';
			n = 1;
		}
		i += n;
	}
	v = must(json_stringn(copy, len));
	free(copy);
	return v;
}

static json_t *encode_names(const struct field *f, const char *rec)
{
	const char(*arr)[HAX_NAME_MAX] = (const void *)(rec + f->off);
	size_t n = *(const size_t *)(rec + f->count_off), i;
	json_t *a = must(json_array());

	if (n > (size_t)f->max)
		n = (size_t)f->max; /* never read past the array of a corrupt record */
	for (i = 0; i < n; i++)
		jappend(a, jstr(arr[i], HAX_NAME_MAX));
	return a;
}

static json_t *encode_field(const struct field *f, const char *rec)
{
	const void *p = rec + f->off;
	const char *def;
	long long v;

	switch (f->type) {
	case F_U32:
	case F_U64:
	case F_I32:
		load_int(f, p, &v);
		return json_integer(v);
	case F_BOOL:
		return json_boolean(*(const bool *)p);
	case F_NAME:
	case F_OPT_NAME:
	case F_TEXT:
		return jstr(p, f->size);
	case F_DEFINITION:
		def = *(char *const *)p;
		return jstr(def ? def : "", SIZE_MAX);
	case F_NAMES:
		return encode_names(f, rec);
	case F_HOST_STATE:
		return json_string(host_state_name(*(const enum host_state *)p));
	case F_DOM_STATE:
		return json_string(dom_state_name(*(const enum dom_state *)p));
	}
	return NULL;
}

static void encode_fields(json_t *o, const struct field *t, size_t n, const void *rec)
{
	size_t i;

	for (i = 0; i < n; i++)
		jset(o, t[i].key, encode_field(&t[i], rec));
}

static json_t *encode_record(const struct field *t, size_t n, const void *rec)
{
	json_t *o = must(json_object());

	encode_fields(o, t, n, rec);
	return o;
}

json_t *domain_to_json(const struct hax_domain *d)
{
	if (!d)
		return NULL;
	return encode_record(domain_fields, HAX_ARRAY_SIZE(domain_fields), d);
}

static json_t *encode_array(const struct field *t, size_t nt, const void *arr, size_t n,
			    size_t elem)
{
	json_t *a = must(json_array());
	size_t i;

	for (i = 0; i < n; i++)
		jappend(a, encode_record(t, nt, (const char *)arr + i * elem));
	return a;
}

json_t *state_to_json(const struct hax_state *s)
{
	json_t *o;

	if (!s)
		return NULL;
	o = must(json_object());
	jset(o, "format", json_integer(STATE_FORMAT_VERSION));
	encode_fields(o, state_fields, HAX_ARRAY_SIZE(state_fields), s);
	jset(o, "hosts",
	     encode_array(host_fields, HAX_ARRAY_SIZE(host_fields), s->hosts, s->nhosts,
			  sizeof(*s->hosts)));
	jset(o, "domains",
	     encode_array(domain_fields, HAX_ARRAY_SIZE(domain_fields), s->domains, s->ndomains,
			  sizeof(*s->domains)));
	jset(o, "fence_history",
	     encode_array(fence_fields, HAX_ARRAY_SIZE(fence_fields), s->fence, s->nfence,
			  sizeof(*s->fence)));
	return o;
}

/* Insertion order is kept by jansson, so equal states give byte-identical text. */
char *state_to_string(const struct hax_state *s)
{
	json_t *j = state_to_json(s);
	char *text;

	if (!j)
		return NULL;
	text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!text)
		must(NULL);
	return text;
}

/* ---- decoding ---------------------------------------------------------------------- */

/* Copies a JSON string into a char[size] member: F_NAME, F_OPT_NAME or F_TEXT rules. */
static int decode_str(const struct jctx *c, const char *member, enum ftype type, size_t size,
		      const json_t *v, char *dst)
{
	const char *s;
	size_t len;

	if (!json_is_string(v))
		return jfail(c, member, "expected a string");
	s = json_string_value(v);
	len = json_string_length(v);
	if (memchr(s, '\0', len))
		return jfail(c, member, "contains a NUL byte");
	if (type == F_TEXT) {
		if (len >= size)
			return jfail(c, member, "longer than %zu bytes", size - 1);
	} else if (!(type == F_OPT_NAME && len == 0)) {
		if (len >= size || !hax_valid_name(s))
			return bad_name(c, member, s);
	}
	memcpy(dst, s, len + 1);
	return 0;
}

static int decode_definition(const struct jctx *c, const struct field *f, const json_t *v,
			     char **dst)
{
	size_t len;

	if (!json_is_string(v))
		return jfail(c, f->key, "expected a string");
	len = json_string_length(v);
	if (len > (size_t)f->max)
		return jfail(c, f->key, "longer than %lld bytes", f->max);
	if (memchr(json_string_value(v), '\0', len))
		return jfail(c, f->key, "contains a NUL byte");
	*dst = hax_xstrdup(json_string_value(v));
	return 0;
}

static int decode_names(const struct jctx *c, const struct field *f, const json_t *v, char *rec)
{
	char(*arr)[HAX_NAME_MAX] = (void *)(rec + f->off);
	size_t n, i;
	char member[64];
	int r;

	if (!json_is_array(v))
		return jfail(c, f->key, "expected an array");
	n = json_array_size(v);
	if (n > (size_t)f->max)
		return jfail(c, f->key, "too many entries (%zu, at most %lld)", n, f->max);
	for (i = 0; i < n; i++) {
		snprintf(member, sizeof(member), "%s[%zu]", f->key, i);
		r = decode_str(c, member, F_NAME, HAX_NAME_MAX, json_array_get(v, i), arr[i]);
		if (r < 0)
			return r;
	}
	*(size_t *)(rec + f->count_off) = n;
	return 0;
}

static int decode_state_name(const struct jctx *c, const struct field *f, const json_t *v, void *p)
{
	const char *what = f->type == F_HOST_STATE ? "host" : "domain";
	const char *s;
	int i;

	if (!json_is_string(v))
		return jfail(c, f->key, "expected a string");
	s = json_string_value(v);
	if (f->type == F_HOST_STATE)
		i = parse_name(host_state_names, HOST_STATE_COUNT, s);
	else
		i = parse_name(dom_state_names, DOM_STATE_COUNT, s);
	if (i < 0 && printable(s))
		return jfail(c, f->key, "unknown %s state \"%s\"", what, s);
	if (i < 0)
		return jfail(c, f->key, "unknown %s state", what);
	store_int(f, p, i);
	return 0;
}

static int decode_field(const struct jctx *c, const json_t *obj, const struct field *f, char *rec)
{
	const json_t *v = json_object_get(obj, f->key);
	void *p = rec + f->off;

	if (!v) {
		if (f->required)
			return jfail(c, f->key, "missing");
		if (f->type == F_DEFINITION)
			*(char **)p = hax_xstrdup("");
		else
			store_int(f, p, f->def); /* strings and lists: already empty */
		return 0;
	}
	switch (f->type) {
	case F_U32:
	case F_U64:
	case F_I32:
		if (!json_is_integer(v) || json_integer_value(v) < f->min ||
		    json_integer_value(v) > f->max)
			return range_fail(c, f);
		store_int(f, p, json_integer_value(v));
		return 0;
	case F_BOOL:
		if (!json_is_boolean(v))
			return jfail(c, f->key, "expected a boolean");
		store_int(f, p, json_is_true(v));
		return 0;
	case F_NAME:
	case F_OPT_NAME:
	case F_TEXT:
		return decode_str(c, f->key, f->type, f->size, v, p);
	case F_DEFINITION:
		return decode_definition(c, f, v, p);
	case F_NAMES:
		return decode_names(c, f, v, rec);
	case F_HOST_STATE:
	case F_DOM_STATE:
		return decode_state_name(c, f, v, p);
	}
	return jfail(c, f->key, "unsupported field type");
}

/*
 * Decodes then validates one record into rec, which must be zeroed. On failure rec may
 * hold a partly decoded record (a domain's definition included): the caller clears it.
 */
static int decode_record(const struct jctx *c, const json_t *obj, const struct field *t, size_t n,
			 void *rec)
{
	size_t i;
	int r;

	if (!json_is_object(obj))
		return jfail(c, NULL, "expected an object");
	for (i = 0; i < n; i++) {
		r = decode_field(c, obj, &t[i], rec);
		if (r < 0)
			return r;
	}
	return check_fields(c, t, n, rec);
}

static int domain_decode(const struct jctx *c, const json_t *j, struct hax_domain *out)
{
	struct hax_domain d;
	int r;

	memset(&d, 0, sizeof(d));
	r = decode_record(c, j, domain_fields, HAX_ARRAY_SIZE(domain_fields), &d);
	if (r == 0)
		r = check_domain_name(c, &d);
	if (r < 0) {
		domain_clear(&d);
		return r;
	}
	*out = d;
	return 0;
}

int domain_from_json(const json_t *j, struct hax_domain *out, char *err, size_t errlen)
{
	struct jctx c = {.err = err, .errlen = errlen};

	if (!out)
		return jfail(&c, NULL, "no output");
	return domain_decode(&c, j, out);
}

/*
 * The top-level member must be an array of at most max entries; *out is NULL if it is
 * absent. The path is reset: the previous array's last element must not prefix messages.
 */
static int get_array(struct jctx *c, const json_t *obj, const char *key, bool required, size_t max,
		     const json_t **out)
{
	const json_t *v = json_object_get(obj, key);

	c->path[0] = '\0';
	*out = NULL;
	if (!v)
		return required ? jfail(c, key, "missing") : 0;
	if (!json_is_array(v))
		return jfail(c, key, "expected an array");
	if (json_array_size(v) > max)
		return jfail(c, key, "too many entries (%zu, at most %zu)", json_array_size(v),
			     max);
	*out = v;
	return 0;
}

static int decode_hosts(struct jctx *c, const json_t *top, struct hax_state *s)
{
	const json_t *a;
	struct hax_host *h;
	size_t i, j;
	int r;

	r = get_array(c, top, "hosts", true, STATE_MAX_HOSTS, &a);
	if (r < 0)
		return r;
	s->hosts = new_array(json_array_size(a), sizeof(*s->hosts));
	for (i = 0; i < json_array_size(a); i++) {
		h = &s->hosts[i];
		snprintf(c->path, sizeof(c->path), "hosts[%zu]", i);
		r = decode_record(c, json_array_get(a, i), host_fields, HAX_ARRAY_SIZE(host_fields),
				  h);
		if (r < 0)
			return r;
		s->nhosts = i + 1;
		for (j = 0; j < i; j++) {
			if (strcmp(s->hosts[j].name, h->name) == 0)
				return jfail(c, "name",
					     "duplicate host name \"%s\" (also hosts[%zu])",
					     h->name, j);
			if (s->hosts[j].nodeid == h->nodeid)
				return jfail(c, "nodeid", "duplicate nodeid %u (also hosts[%zu])",
					     h->nodeid, j);
		}
	}
	return 0;
}

static int cmp_domain_ptr(const void *a, const void *b)
{
	const struct hax_domain *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

/* Sorting finds duplicates in n log n: a state may hold thousands of domains. */
static int check_domain_names(struct jctx *c, const struct hax_state *s)
{
	const struct hax_domain **v;
	size_t i, a, b;
	int r = 0;

	if (s->ndomains < 2)
		return 0;
	v = hax_xmalloc(s->ndomains * sizeof(*v));
	for (i = 0; i < s->ndomains; i++)
		v[i] = &s->domains[i];
	qsort(v, s->ndomains, sizeof(*v), cmp_domain_ptr);
	for (i = 1; i < s->ndomains && r == 0; i++) {
		if (strcmp(v[i - 1]->name, v[i]->name) != 0)
			continue;
		a = (size_t)(v[i - 1] - s->domains);
		b = (size_t)(v[i] - s->domains);
		snprintf(c->path, sizeof(c->path), "domains[%zu]", a > b ? a : b);
		r = jfail(c, "name", "duplicate domain name \"%s\" (also domains[%zu])", v[i]->name,
			  a > b ? b : a);
	}
	free(v);
	return r;
}

/*
 * A domain whose incarnation is above last_incarnation means the counter went back: the
 * next start would reuse an incarnation, which the guest journal oracle treats as a
 * second writer. Such a state is refused rather than repaired.
 */
static int decode_domains(struct jctx *c, const json_t *top, struct hax_state *s)
{
	const json_t *a;
	struct hax_domain *d;
	size_t i;
	int r;

	r = get_array(c, top, "domains", true, STATE_MAX_DOMAINS, &a);
	if (r < 0)
		return r;
	s->domains = new_array(json_array_size(a), sizeof(*s->domains));
	for (i = 0; i < json_array_size(a); i++) {
		d = &s->domains[i];
		snprintf(c->path, sizeof(c->path), "domains[%zu]", i);
		r = domain_decode(c, json_array_get(a, i), d);
		if (r < 0)
			return r;
		s->ndomains = i + 1;
		if (d->incarnation > s->last_incarnation)
			return jfail(c, "incarnation", "%llu is above last_incarnation %llu",
				     (unsigned long long)d->incarnation,
				     (unsigned long long)s->last_incarnation);
	}
	c->path[0] = '\0';
	r = check_domain_names(c, s);
	if (r < 0)
		return r;
	for (i = 0; i < s->ndomains; i++)
		s->budget += state_domain_budget(&s->domains[i]);
	if (STATE_FIXED_RESERVE + s->budget > STATE_MAX_JSON_BYTES)
		return jfail(c, "domains", "more than fits in %u MiB with room for their changes",
			     STATE_MAX_JSON_BYTES >> 20);
	return 0;
}

static int decode_fence(struct jctx *c, const json_t *top, struct hax_state *s)
{
	const json_t *a;
	size_t i;
	int r;

	r = get_array(c, top, "fence_history", false, STATE_MAX_FENCE_HISTORY, &a);
	if (r < 0 || !a)
		return r;
	s->fence = new_array(json_array_size(a), sizeof(*s->fence));
	for (i = 0; i < json_array_size(a); i++) {
		snprintf(c->path, sizeof(c->path), "fence_history[%zu]", i);
		r = decode_record(c, json_array_get(a, i), fence_fields,
				  HAX_ARRAY_SIZE(fence_fields), &s->fence[i]);
		if (r < 0)
			return r;
		s->nfence = i + 1;
	}
	return 0;
}

/* The version is checked first: a newer format's other members may mean other things. */
static int check_format(const struct jctx *c, const json_t *j)
{
	const json_t *v = json_object_get(j, "format");

	if (!v)
		return jfail(c, "format", "missing");
	if (!json_is_integer(v))
		return jfail(c, "format", "expected an integer");
	if (json_integer_value(v) != STATE_FORMAT_VERSION)
		return jfail(c, "format", "unsupported version %lld (this haxd reads %d)",
			     (long long)json_integer_value(v), STATE_FORMAT_VERSION);
	return 0;
}

int state_from_json(const json_t *j, struct hax_state **out, char *err, size_t errlen)
{
	struct jctx c = {.err = err, .errlen = errlen};
	struct hax_state *s;
	int r;

	if (!out)
		return jfail(&c, NULL, "no output");
	if (!json_is_object(j))
		return jfail(&c, NULL, "expected a JSON object");
	r = check_format(&c, j);
	if (r < 0)
		return r;
	s = hax_xcalloc(1, sizeof(*s));
	r = decode_record(&c, j, state_fields, HAX_ARRAY_SIZE(state_fields), s);
	if (r == 0)
		r = decode_hosts(&c, j, s);
	if (r == 0)
		r = decode_domains(&c, j, s);
	if (r == 0)
		r = decode_fence(&c, j, s);
	if (r < 0) {
		state_free(s); /* frees exactly the definitions decoded so far */
		return r;
	}
	*out = s;
	return 0;
}

int state_from_string(const char *text, size_t len, struct hax_state **out, char *err,
		      size_t errlen)
{
	json_error_t jerr;
	json_t *j;
	int r;

	if (len > STATE_MAX_JSON_BYTES) {
		seterr(err, errlen, "state is %zu bytes, more than the limit of %u", len,
		       STATE_MAX_JSON_BYTES);
		return -E2BIG;
	}
	if (!text) {
		seterr(err, errlen, "no input");
		return -EINVAL;
	}
	j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j) {
		seterr(err, errlen, "line %d column %d: %s", jerr.line, jerr.column, jerr.text);
		return -EINVAL;
	}
	r = state_from_json(j, out, err, errlen);
	json_decref(j);
	return r;
}

/* ---- persistence ------------------------------------------------------------------- */

static int path_join(char *buf, size_t n, const char *dir, const char *file)
{
	int len = snprintf(buf, n, "%s/%s", dir, file);

	if (len < 0 || (size_t)len >= n)
		return -ENAMETOOLONG;
	return 0;
}

static int write_all(int fd, const char *buf, size_t len)
{
	ssize_t w;

	while (len > 0) {
		w = write(fd, buf, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* Writes the temp file completely and durably; on failure it is removed. */
static int write_temp(const char *tmp, const char *text, size_t len)
{
	int fd, r;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	r = write_all(fd, text, len);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

/*
 * state.json is replaced only by rename of a complete, fsynced file, so a crash at any
 * point leaves either the old or the new state. A state too large for state_load to
 * accept is refused with -E2BIG instead of being written.
 */
int state_save(const struct hax_state *s, const char *dir)
{
	char tmp[PATH_MAX], dst[PATH_MAX];
	char *text;
	size_t len;
	int r;

	if (!s || !dir)
		return -EINVAL;
	r = path_join(tmp, sizeof(tmp), dir, STATE_TMP_FILE);
	if (r == 0)
		r = path_join(dst, sizeof(dst), dir, STATE_FILE);
	if (r < 0)
		return r;
	text = state_to_string(s);
	len = strlen(text);
	if (len + 1 > STATE_MAX_JSON_BYTES) {
		free(text);
		return -E2BIG;
	}
	text[len] = '\n'; /* for people who cat the file; the NUL is not written */
	r = write_temp(tmp, text, len + 1);
	free(text);
	if (r < 0)
		return r;
	if (rename(tmp, dst) < 0) {
		r = -errno;
		unlink(tmp);
		return r;
	}
	/* The new file is complete; only the durability of the rename is in doubt. */
	return fsync_dir(dir);
}

/* Reads a regular file of at most STATE_MAX_JSON_BYTES, even one that grows meanwhile. */
static int read_bounded(int fd, char **out, size_t *outlen)
{
	struct stat st;
	size_t cap, len = 0;
	ssize_t n;
	char *buf;
	int r;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if ((uint64_t)st.st_size > STATE_MAX_JSON_BYTES)
		return -E2BIG;
	cap = (size_t)st.st_size + 1;
	buf = hax_xmalloc(cap);
	for (;;) {
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len < cap)
			continue;
		if (cap > STATE_MAX_JSON_BYTES)
			break;
		cap = cap * 2 > STATE_MAX_JSON_BYTES + 1 ? STATE_MAX_JSON_BYTES + 1 : cap * 2;
		buf = hax_xrealloc(buf, cap);
	}
	r = n < 0 ? -errno : len > STATE_MAX_JSON_BYTES ? -E2BIG : 0;
	if (r < 0) {
		free(buf);
		return r;
	}
	*out = buf;
	*outlen = len;
	return 0;
}

int state_load(const char *dir, struct hax_state **out, char *err, size_t errlen)
{
	char path[PATH_MAX], msg[512];
	char *text = NULL;
	size_t len = 0;
	int fd, r;

	r = dir ? path_join(path, sizeof(path), dir, STATE_FILE) : -EINVAL;
	if (r < 0) {
		seterr(err, errlen, "state directory: %s", strerror(-r));
		return r;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		seterr(err, errlen, "%s: %s", path, strerror(-r));
		return r;
	}
	r = read_bounded(fd, &text, &len);
	close(fd);
	if (r < 0) {
		seterr(err, errlen, "%s: %s", path,
		       r == -EINVAL  ? "not a regular file"
		       : r == -E2BIG ? "larger than the limit"
				     : strerror(-r));
		return r;
	}
	r = state_from_string(text, len, out, msg, sizeof(msg));
	free(text);
	if (r < 0)
		seterr(err, errlen, "%s: %s", path, msg);
	return r;
}
