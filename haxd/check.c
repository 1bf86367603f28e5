#include "check.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/util.h"

/* At most this many names on the first line; the rest are counted ("and 3 more"). */
#define NAMES_MAX 5

static const char *const code_names[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};

static const char *const metric_names[CHECK_M_COUNT] = {
    [CHECK_M_HOSTS_ONLINE] = "hosts_online",
    [CHECK_M_HOSTS_TOTAL] = "hosts_total",
    [CHECK_M_QUORATE] = "quorate",
    [CHECK_M_DOMAINS_RUNNING] = "domains_running",
    [CHECK_M_DOMAINS_RECOVERING] = "domains_recovering",
    [CHECK_M_DOMAINS_FAILED] = "domains_failed",
    [CHECK_M_TOLERATES] = "tolerates_host_failures",
    [CHECK_M_FENCE_FAILURES] = "fence_failures",
    [CHECK_M_HOSTS_LOST] = "hosts_lost",
    [CHECK_M_HOSTS_FENCED] = "hosts_fenced",
    [CHECK_M_HOSTS_MAINTENANCE] = "hosts_maintenance",
    [CHECK_M_LEADER_CHANGES] = "leader_changes",
    [CHECK_M_STORAGE_UNFENCED] = "storage_unfenced",
    [CHECK_M_STRANDED] = "domains_stranded",
};

const char *check_code_name(enum check_code c)
{
	return (unsigned)c < HAX_ARRAY_SIZE(code_names) ? code_names[c] : "UNKNOWN";
}

const char *check_metric_name(enum check_metric m)
{
	return (unsigned)m < CHECK_M_COUNT ? metric_names[m] : "?";
}

/* ---- ranges ------------------------------------------------------------------------ */

/* A whole, finite decimal number: no blanks, no "inf"/"nan"/hex that strtod would take. */
static int parse_number(const char *s, size_t len, double *out)
{
	char buf[32], *end;
	size_t i;
	double v;

	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	for (i = 0; i < len; i++)
		if (!strchr("0123456789.+-eE", s[i]))
			return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	v = strtod(buf, &end);
	if (*end || errno || !isfinite(v))
		return -EINVAL;
	*out = v;
	return 0;
}

int check_range_parse(const char *s, struct check_range *out)
{
	struct check_range r = {.set = true};
	const char *p = s, *colon;

	if (!s || hax_strlcpy(r.text, s, sizeof(r.text)) < 0)
		return -EINVAL;
	if (*p == '@') {
		r.inside = true;
		p++;
	}
	colon = strchr(p, ':');
	if (!colon) {
		/* "10" is 0..10 */
		if (parse_number(p, strlen(p), &r.high) < 0)
			return -EINVAL;
	} else {
		if (colon == p && colon[1] == '\0')
			return -EINVAL; /* ":" bounds nothing; "~:" says so on purpose */
		if (colon - p == 1 && *p == '~')
			r.no_low = true;
		else if (colon > p && parse_number(p, (size_t)(colon - p), &r.low) < 0)
			return -EINVAL; /* an empty start is 0, as in the plugins' own parser */
		if (colon[1] == '\0')
			r.no_high = true;
		else if (parse_number(colon + 1, strlen(colon + 1), &r.high) < 0)
			return -EINVAL;
	}
	if (!r.no_low && !r.no_high && r.low > r.high)
		return -EINVAL;
	*out = r;
	return 0;
}

bool check_range_alert(const struct check_range *r, double v)
{
	bool in;

	if (!r || !r->set)
		return false;
	in = (r->no_low || v >= r->low) && (r->no_high || v <= r->high);
	return r->inside ? in : !in;
}

int check_threshold_arg(struct check_thresholds *t, bool critical, const char *arg, char *err,
			size_t errlen)
{
	const char *opt = critical ? "-c" : "-w", *eq = strchr(arg, '=');
	struct check_range r;
	size_t m;

	if (!eq) {
		snprintf(err, errlen, "%s %s: expected METRIC=RANGE, e.g. %s domains_failed=0", opt,
			 arg, opt);
		return -EINVAL;
	}
	for (m = 0; m < CHECK_M_COUNT; m++)
		if (strlen(metric_names[m]) == (size_t)(eq - arg) &&
		    strncmp(metric_names[m], arg, (size_t)(eq - arg)) == 0)
			break;
	if (m == CHECK_M_COUNT) {
		snprintf(err, errlen,
			 "%s %s: unknown metric \"%.*s\" (one of the perfdata labels: "
			 "hosts_online, hosts_total, quorate, domains_running, domains_recovering, "
			 "domains_failed, tolerates_host_failures, fence_failures, hosts_lost, "
			 "hosts_fenced, hosts_maintenance, leader_changes, storage_unfenced, "
			 "domains_stranded)",
			 opt, arg, (int)(eq - arg), arg);
		return -EINVAL;
	}
	if (check_range_parse(eq + 1, &r) < 0) {
		snprintf(err, errlen,
			 "%s %s: invalid range \"%s\" (expected N, N:, ~:N, N:M or "
			 "@N:M with N <= M)",
			 opt, arg, eq + 1);
		return -EINVAL;
	}
	if (critical)
		t->crit[m] = r;
	else
		t->warn[m] = r;
	t->user[m] = true;
	return 0;
}

/* ---- reading the status document ------------------------------------------------------ */

struct metrics {
	long v[CHECK_M_COUNT];
	const json_t *storage; /* the status's "storage" array (the answering host's view) */
};

static const char *str_of(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

static long int_of(const json_t *o, const char *key)
{
	return (long)json_integer_value(json_object_get(o, key));
}

static bool is_state(const json_t *o, const char *state)
{
	return strcmp(str_of(o, "state"), state) == 0;
}

/* Not online and not fenced: suspect, fencing, agent-lost, or never seen (unknown). */
static bool host_lost(const json_t *h)
{
	return !is_state(h, "online") && !is_state(h, "fenced");
}

static bool host_fenced(const json_t *h)
{
	return is_state(h, "fenced");
}

static bool host_maint(const json_t *h)
{
	return json_is_true(json_object_get(h, "maintenance"));
}

/* SCSI fencing not known to be in force ("unregistered" is in force: only our key went). */
static bool storage_unfenced(const json_t *st)
{
	const char *v = json_string_value(json_object_get(st, "fencing"));

	return !v || (strcmp(v, "in force") != 0 && strcmp(v, "unregistered") != 0);
}

static bool dom_running(const json_t *d)
{
	return is_state(d, "running");
}

static bool dom_recovering(const json_t *d)
{
	return is_state(d, "recovering");
}

static bool dom_failed(const json_t *d)
{
	return is_state(d, "failed");
}

static long count(const json_t *arr, bool (*pick)(const json_t *))
{
	size_t i;
	json_t *o;
	long n = 0;

	json_array_foreach(arr, i, o) if (pick(o)) n++;
	return n;
}

/* The three parts of a status reply, or an UNKNOWN reason in err. */
static int status_parts(const json_t *st, const json_t **cl, const json_t **hosts,
			const json_t **doms, char *err, size_t errlen)
{
	if (!json_is_object(st)) {
		snprintf(err, errlen, "malformed status from haxd");
		return -EPROTO;
	}
	if (!json_is_true(json_object_get(st, "ok"))) {
		const char *e = json_string_value(json_object_get(st, "error"));

		snprintf(err, errlen, "haxd refused the status request: %s", e ? e : "no reason");
		return -EPROTO;
	}
	*cl = json_object_get(st, "cluster");
	*hosts = json_object_get(st, "hosts");
	*doms = json_object_get(st, "domains");
	if (!json_is_object(*cl) || !json_is_array(*hosts) || !json_is_array(*doms)) {
		snprintf(err, errlen, "malformed status from haxd (no cluster, hosts or domains)");
		return -EPROTO;
	}
	return 0;
}

/* Distinct domains in stranded_by_one_loss ([{"host","domains":[names]}]): one domain
 * stranded by the loss of either of two hosts counts once. */
static long stranded_count(const json_t *list)
{
	json_t *seen = json_object(), *e, *n;
	size_t i, k;
	long c;

	json_array_foreach(list, i, e) json_array_foreach(json_object_get(e, "domains"), k, n)
		if (json_string_value(n))
			json_object_set(seen, json_string_value(n), json_true());
	c = (long)json_object_size(seen);
	json_decref(seen);
	return c;
}

/* " (d3 if h2 dies, d5 if h1 dies and 2 more)" */
static void put_stranded(FILE *f, const json_t *list)
{
	json_t *e, *n;
	size_t i, k;
	long shown = 0, more = 0;

	json_array_foreach(list, i, e) json_array_foreach(json_object_get(e, "domains"), k, n)
	{
		if (shown == NAMES_MAX) {
			more++;
			continue;
		}
		fprintf(f, "%s%s if %s dies", shown++ ? ", " : " (",
			json_string_value(n) ? json_string_value(n) : "?", str_of(e, "host"));
	}
	if (more)
		fprintf(f, " and %ld more", more);
	if (shown)
		fputc(')', f);
}

static void metrics_of(const json_t *cl, const json_t *hosts, const json_t *doms, struct metrics *m)
{
	memset(m, 0, sizeof(*m));
	m->v[CHECK_M_HOSTS_TOTAL] = (long)json_array_size(hosts);
	m->v[CHECK_M_HOSTS_LOST] = count(hosts, host_lost);
	m->v[CHECK_M_HOSTS_FENCED] = count(hosts, host_fenced);
	m->v[CHECK_M_HOSTS_ONLINE] =
	    m->v[CHECK_M_HOSTS_TOTAL] - m->v[CHECK_M_HOSTS_LOST] - m->v[CHECK_M_HOSTS_FENCED];
	m->v[CHECK_M_HOSTS_MAINTENANCE] = count(hosts, host_maint);
	m->v[CHECK_M_QUORATE] = json_is_true(json_object_get(cl, "quorate"));
	m->v[CHECK_M_DOMAINS_RECOVERING] = count(doms, dom_recovering);
	m->v[CHECK_M_DOMAINS_FAILED] = count(doms, dom_failed);
	m->v[CHECK_M_DOMAINS_RUNNING] = count(doms, dom_running);
	m->v[CHECK_M_TOLERATES] = int_of(cl, "tolerates_host_failures");
	m->v[CHECK_M_FENCE_FAILURES] = int_of(cl, "fence_failures");
	m->v[CHECK_M_LEADER_CHANGES] = int_of(cl, "leader_changes");
	m->v[CHECK_M_STRANDED] = stranded_count(json_object_get(cl, "stranded_by_one_loss"));
}

int check_metrics(const json_t *status, long *v)
{
	const json_t *cl, *hosts, *doms;
	struct metrics m;
	char err[256];

	if (status_parts(status, &cl, &hosts, &doms, err, sizeof(err)) < 0)
		return -EPROTO;
	metrics_of(cl, hosts, doms, &m);
	memcpy(v, m.v, sizeof(m.v));
	return 0;
}

/* ---- output helpers -------------------------------------------------------------------- */

static const char *plural(long n)
{
	return n == 1 ? "" : "s";
}

/* "3d 2h", "2h 3m", "5m 3s", "12s"; "" when unknown or in the future. */
static void age_text(uint64_t now_ns, uint64_t since_ns, char *buf, size_t n)
{
	uint64_t s;

	buf[0] = '\0';
	if (since_ns == 0 || since_ns > now_ns)
		return;
	s = (now_ns - since_ns) / 1000000000ull;
	if (s >= 86400)
		snprintf(buf, n, "%llud %lluh", (unsigned long long)(s / 86400),
			 (unsigned long long)(s % 86400 / 3600));
	else if (s >= 3600)
		snprintf(buf, n, "%lluh %llum", (unsigned long long)(s / 3600),
			 (unsigned long long)(s % 3600 / 60));
	else if (s >= 60)
		snprintf(buf, n, "%llum %llus", (unsigned long long)(s / 60),
			 (unsigned long long)(s % 60));
	else
		snprintf(buf, n, "%llus", (unsigned long long)s);
}

/* UTC, so that the output does not depend on the monitoring host's time zone. */
static void time_text(uint64_t ns, char *buf, size_t n)
{
	time_t t = (time_t)(ns / 1000000000ull);
	struct tm tm;

	if (ns == 0 || !gmtime_r(&t, &tm) || !strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, n, "unknown time");
}

/* " (a, b, c and 2 more)" for the members of arr that pick selects. */
static void put_names(FILE *f, const json_t *arr, bool (*pick)(const json_t *), bool with_state)
{
	size_t i;
	json_t *o;
	long n = 0, more = 0;

	json_array_foreach(arr, i, o)
	{
		if (!pick(o))
			continue;
		if (n == NAMES_MAX) {
			more++;
			continue;
		}
		fprintf(f, "%s%s", n++ ? ", " : " (", str_of(o, "name"));
		if (with_state)
			fprintf(f, " %s", str_of(o, "state"));
	}
	if (more)
		fprintf(f, " and %ld more", more);
	if (n)
		fputc(')', f);
}

/* The phrase for a metric on the first line. */
static void put_metric(FILE *f, enum check_metric m, const struct metrics *mv, const json_t *cl,
		       const json_t *hosts, const json_t *doms)
{
	long v = mv->v[m];

	switch (m) {
	case CHECK_M_HOSTS_ONLINE:
		fprintf(f, "%ld/%ld hosts online", v, mv->v[CHECK_M_HOSTS_TOTAL]);
		break;
	case CHECK_M_HOSTS_TOTAL:
		fprintf(f, "%ld host%s", v, plural(v));
		break;
	case CHECK_M_QUORATE:
		fputs(v ? "quorate" : "no quorum", f);
		break;
	case CHECK_M_DOMAINS_RUNNING:
		fprintf(f, "%ld domain%s running", v, plural(v));
		break;
	case CHECK_M_DOMAINS_RECOVERING:
		fprintf(f, "%ld domain%s recovering", v, plural(v));
		put_names(f, doms, dom_recovering, false);
		break;
	case CHECK_M_DOMAINS_FAILED:
		fprintf(f, "%ld domain%s failed", v, plural(v));
		put_names(f, doms, dom_failed, false);
		break;
	case CHECK_M_TOLERATES:
		fprintf(f, "tolerates %ld host failure%s", v, plural(v));
		break;
	case CHECK_M_FENCE_FAILURES:
		fprintf(f, "%ld fence failure%s", v, plural(v));
		break;
	case CHECK_M_HOSTS_LOST:
		fprintf(f, "%ld host%s lost", v, plural(v));
		put_names(f, hosts, host_lost, true);
		break;
	case CHECK_M_HOSTS_FENCED:
		fprintf(f, "%ld host%s fenced", v, plural(v));
		put_names(f, hosts, host_fenced, false);
		break;
	case CHECK_M_HOSTS_MAINTENANCE:
		fprintf(f, "%ld host%s in maintenance", v, plural(v));
		put_names(f, hosts, host_maint, false);
		break;
	case CHECK_M_LEADER_CHANGES:
		fprintf(f, "leader changed %ld time%s (now %s)", v, plural(v),
			*str_of(cl, "leader") ? str_of(cl, "leader") : "none");
		break;
	case CHECK_M_STORAGE_UNFENCED:
		fprintf(f, "SCSI fencing not in force on %ld storage%s", v, plural(v));
		put_names(f, mv->storage, storage_unfenced, false);
		break;
	case CHECK_M_STRANDED:
		fprintf(f, "%ld domain%s with nowhere to go if one host dies", v, plural(v));
		put_stranded(f, json_object_get(cl, "stranded_by_one_loss"));
		break;
	case CHECK_M_COUNT:
		break;
	}
}

static void put_fence(FILE *f, const json_t *lf, uint64_t now_ns)
{
	char when[32], age[32];

	time_text((uint64_t)int_of(lf, "time_ns"), when, sizeof(when));
	age_text(now_ns, (uint64_t)int_of(lf, "time_ns"), age, sizeof(age));
	fprintf(f, "last fence %s via %s at %s%s%s%s",
		json_is_true(json_object_get(lf, "ok")) ? "succeeded" : "FAILED",
		str_of(lf, "method"), when, *age ? " (" : "", age, *age ? " ago)" : "");
	if (*str_of(lf, "detail"))
		fprintf(f, ": %s", str_of(lf, "detail"));
}

/* "host h1: online, maintenance, domains d1, d4; last fence ..." */
static void host_line(FILE *f, const json_t *h, uint64_t now_ns)
{
	const json_t *names = json_object_get(h, "domains"), *lf = json_object_get(h, "last_fence");
	size_t i;
	json_t *n;

	fprintf(f, "host %s: %s%s", str_of(h, "name"), str_of(h, "state"),
		host_maint(h) ? ", in maintenance" : "");
	if (json_array_size(names) == 0)
		fputs(", no domains", f);
	json_array_foreach(names, i, n) fprintf(f, "%s%s", i ? ", " : ", domains ",
						json_string_value(n) ? json_string_value(n) : "?");
	if (json_is_object(lf)) {
		fputs("; ", f);
		put_fence(f, lf, now_ns);
	}
	fputc('\n', f);
}

/* "domain d3: recovering on h1 since 2025-...Z (5m 3s), incarnation 2: reason" */
static void domain_line(FILE *f, const json_t *d, uint64_t now_ns)
{
	char when[32], age[32];
	uint64_t since = (uint64_t)int_of(d, "since_ns");

	time_text(since, when, sizeof(when));
	age_text(now_ns, since, age, sizeof(age));
	fprintf(f, "domain %s: %s%s%s%s since %s%s%s%s, incarnation %ld", str_of(d, "name"),
		str_of(d, "state"),
		json_is_false(json_object_get(d, "enabled")) ? " (not enabled)" : "",
		*str_of(d, "host") ? " on " : "", str_of(d, "host"), when, *age ? " (" : "", age,
		*age ? ")" : "", int_of(d, "incarnation"));
	if (*str_of(d, "reason"))
		fprintf(f, ": %s", str_of(d, "reason"));
	fputc('\n', f);
}

/* A host worth a line without -v. */
static bool host_troubled(const json_t *h)
{
	const json_t *lf = json_object_get(h, "last_fence");

	return !is_state(h, "online") || host_maint(h) ||
	       (json_is_object(lf) && !json_is_true(json_object_get(lf, "ok")));
}

static bool dom_enabled(const json_t *d)
{
	return !json_is_false(json_object_get(d, "enabled"));
}

/* A domain worth a line without -v: anything but running, disabled, or stopped on purpose. */
static bool domain_troubled(const json_t *d)
{
	if (is_state(d, "running") || is_state(d, "disabled"))
		return false;
	return !is_state(d, "stopped") || dom_enabled(d);
}

static void put_perf(FILE *f, const char *label, long v, const char *uom,
		     const struct check_range *w, const struct check_range *c, long max)
{
	fprintf(f, " %s=%ld%s;%s;%s;0", label, v, uom, w && w->set ? w->text : "",
		c && c->set ? c->text : "");
	if (max >= 0)
		fprintf(f, ";%ld", max);
}

/* Close the stream into *out and hand back code. */
static enum check_code finish(FILE *f, char **buf, char **out, enum check_code code)
{
	if (fclose(f) != 0 || !*buf)
		abort(); /* out of memory */
	*out = *buf;
	return code;
}

static FILE *open_out(char **buf)
{
	size_t len;
	FILE *f = open_memstream(buf, &len);

	if (!f)
		abort(); /* out of memory */
	return f;
}

static enum check_code unknown(const char *why, char **out)
{
	char *buf;
	FILE *f = open_out(&buf);

	fprintf(f, "HAXD UNKNOWN - %s\n", why);
	return finish(f, &buf, out, CHECK_UNKNOWN);
}

/* ---- cluster mode ------------------------------------------------------------------------ */

/* The thresholds in force: the user's for a metric given -w/-c, else the defaults. */
static void effective(const struct check_thresholds *user, const struct metrics *m,
		      struct check_thresholds *t)
{
	size_t i;

	memset(t, 0, sizeof(*t));
	check_range_parse("1:", &t->crit[CHECK_M_QUORATE]);
	check_range_parse("0", &t->crit[CHECK_M_FENCE_FAILURES]);
	check_range_parse("0", &t->crit[CHECK_M_STORAGE_UNFENCED]);
	check_range_parse("0", &t->crit[CHECK_M_DOMAINS_FAILED]);
	check_range_parse("0", &t->warn[CHECK_M_DOMAINS_RECOVERING]);
	check_range_parse("0", &t->warn[CHECK_M_HOSTS_LOST]);
	check_range_parse("0", &t->warn[CHECK_M_HOSTS_FENCED]);
	/* N+k means nothing with a single host: it can never survive its own failure. */
	if (m->v[CHECK_M_HOSTS_TOTAL] > 1) {
		check_range_parse("1:", &t->warn[CHECK_M_TOLERATES]);
		/* Names what N+k only counts: which domain, and which host's loss. */
		check_range_parse("0", &t->warn[CHECK_M_STRANDED]);
	}
	for (i = 0; user && i < CHECK_M_COUNT; i++)
		if (user->user[i]) {
			t->warn[i] = user->warn[i];
			t->crit[i] = user->crit[i];
		}
}

/* Problems at level want, comma-separated, in metric order; how many were written. */
static int put_problems(FILE *f, const enum check_code *codes, enum check_code want, int n,
			const struct metrics *m, const json_t *cl, const json_t *hosts,
			const json_t *doms)
{
	size_t i;

	for (i = 0; i < CHECK_M_COUNT; i++)
		if (codes[i] == want) {
			fputs(n++ ? ", " : "", f);
			put_metric(f, (enum check_metric)i, m, cl, hosts, doms);
		}
	return n;
}

/* On the first line when not a problem: the headline numbers, and counts of trouble that
 * the thresholds let pass. */
static bool in_summary(enum check_metric i, const struct metrics *m)
{
	switch (i) {
	case CHECK_M_QUORATE:
	case CHECK_M_HOSTS_ONLINE:
	case CHECK_M_DOMAINS_RUNNING:
		return true;
	case CHECK_M_TOLERATES:
		return m->v[CHECK_M_HOSTS_TOTAL] > 1;
	case CHECK_M_STRANDED:
		/* A lone host's domains can never go elsewhere: nothing worth a word. */
		return m->v[CHECK_M_HOSTS_TOTAL] > 1 && m->v[i] != 0;
	case CHECK_M_HOSTS_TOTAL:
		return false;
	default:
		return m->v[i] != 0;
	}
}

enum check_code check_cluster(const json_t *status, const struct check_thresholds *user,
			      bool verbose, uint64_t now_ns, char **out)
{
	const json_t *cl, *hosts, *doms;
	enum check_code codes[CHECK_M_COUNT], code = CHECK_OK;
	struct check_thresholds t;
	struct metrics m;
	char err[256], *buf;
	size_t i;
	json_t *o;
	FILE *f;
	int n;

	if (status_parts(status, &cl, &hosts, &doms, err, sizeof(err)) < 0)
		return unknown(err, out);
	metrics_of(cl, hosts, doms, &m);
	m.storage = json_object_get(status, "storage");
	m.v[CHECK_M_STORAGE_UNFENCED] = count(m.storage, storage_unfenced);
	effective(user, &m, &t);
	for (i = 0; i < CHECK_M_COUNT; i++) {
		codes[i] = check_range_alert(&t.crit[i], (double)m.v[i])   ? CHECK_CRITICAL
			   : check_range_alert(&t.warn[i], (double)m.v[i]) ? CHECK_WARNING
									   : CHECK_OK;
		if (codes[i] > code)
			code = codes[i];
	}
	f = open_out(&buf);
	fprintf(f, "HAXD %s - ", check_code_name(code));
	n = put_problems(f, codes, CHECK_CRITICAL, 0, &m, cl, hosts, doms);
	n = put_problems(f, codes, CHECK_WARNING, n, &m, cl, hosts, doms);
	fprintf(f, "%scluster %s: ", n ? "; " : "", str_of(cl, "name"));
	for (i = 0, n = 0; i < CHECK_M_COUNT; i++)
		if (codes[i] == CHECK_OK && in_summary((enum check_metric)i, &m)) {
			fputs(n++ ? ", " : "", f);
			put_metric(f, (enum check_metric)i, &m, cl, hosts, doms);
		}
	fputs(" |", f);
	for (i = 0; i < CHECK_M_COUNT; i++)
		put_perf(f, metric_names[i], m.v[i], i == CHECK_M_LEADER_CHANGES ? "c" : "",
			 &t.warn[i], &t.crit[i],
			 i == CHECK_M_HOSTS_ONLINE ? m.v[CHECK_M_HOSTS_TOTAL]
			 : i == CHECK_M_QUORATE	   ? 1
						   : -1);
	fputc('\n', f);
	if (verbose)
		fprintf(f, "cluster %s: mode %s, leader %s, epoch %ld, seq %ld, answered by %s\n",
			str_of(cl, "name"), str_of(cl, "mode"),
			*str_of(cl, "leader") ? str_of(cl, "leader") : "none", int_of(cl, "epoch"),
			int_of(cl, "seq"), str_of(cl, "self"));
	json_array_foreach(hosts, i, o) if (verbose || host_troubled(o)) host_line(f, o, now_ns);
	json_array_foreach(doms, i, o) if (verbose || domain_troubled(o)) domain_line(f, o, now_ns);
	return finish(f, &buf, out, code);
}

/* ---- host and domain modes ---------------------------------------------------------------- */

static const json_t *find(const json_t *arr, const char *name)
{
	size_t i;
	json_t *o;

	json_array_foreach(arr, i, o) if (strcmp(str_of(o, "name"), name) == 0) return o;
	return NULL;
}

enum check_code check_host(const json_t *status, const char *name, bool verbose, uint64_t now_ns,
			   char **out)
{
	const json_t *cl, *hosts, *doms, *h, *names, *d;
	enum check_code code = CHECK_OK;
	char err[256], *buf;
	size_t i;
	json_t *n;
	FILE *f;

	if (status_parts(status, &cl, &hosts, &doms, err, sizeof(err)) < 0)
		return unknown(err, out);
	if (!(h = find(hosts, name))) {
		snprintf(err, sizeof(err), "no host %s in cluster %s", name, str_of(cl, "name"));
		return unknown(err, out);
	}
	if (!is_state(h, "online"))
		code = CHECK_CRITICAL;
	else if (host_maint(h))
		code = CHECK_WARNING;
	names = json_object_get(h, "domains");
	f = open_out(&buf);
	fprintf(f, "HAXD %s - host %s %s%s, running ", check_code_name(code), name,
		str_of(h, "state"), host_maint(h) ? ", in maintenance" : "");
	if (json_array_size(names) == 0)
		fputs("no domains", f);
	else
		fprintf(f, "%zu domain%s: ", json_array_size(names),
			plural((long)json_array_size(names)));
	json_array_foreach(names, i, n)
	{
		const char *dn = json_string_value(n) ? json_string_value(n) : "?";

		d = find(doms, dn);
		fprintf(f, "%s%s", i ? ", " : "", dn);
		if (d && !is_state(d, "running"))
			fprintf(f, " (%s)", str_of(d, "state"));
	}
	fputs(" |", f);
	put_perf(f, "domains", (long)json_array_size(names), "", NULL, NULL, -1);
	fputc('\n', f);
	if (verbose || code != CHECK_OK || json_is_object(json_object_get(h, "last_fence")))
		host_line(f, h, now_ns);
	json_array_foreach(
	    names, i, n) if ((d = find(doms, json_string_value(n) ? json_string_value(n) : "")) &&
			     (verbose || domain_troubled(d))) domain_line(f, d, now_ns);
	return finish(f, &buf, out, code);
}

static enum check_code domain_code(const json_t *d, const char **note)
{
	static const char *const warn[] = {"starting", "migrating", "recovering", "stopping"};
	size_t i;

	*note = "";
	if (is_state(d, "running"))
		return CHECK_OK;
	if (is_state(d, "disabled")) {
		*note = " (disabled: hax keeps it stopped)";
		return CHECK_OK;
	}
	if (is_state(d, "stopped")) {
		if (dom_enabled(d)) {
			*note = " but enabled";
			return CHECK_CRITICAL;
		}
		*note = " (not enabled)";
		return CHECK_OK;
	}
	if (is_state(d, "failed"))
		return CHECK_CRITICAL;
	for (i = 0; i < HAX_ARRAY_SIZE(warn); i++)
		if (is_state(d, warn[i]))
			return CHECK_WARNING;
	return CHECK_UNKNOWN;
}

/* The newest fence of any host up to the domain's last state change: what most likely made
 * it fail over. NULL if none. */
static const json_t *failover_fence(const json_t *hosts, uint64_t since_ns, const json_t **host)
{
	const json_t *best = NULL;
	size_t i;
	json_t *h;

	json_array_foreach(hosts, i, h)
	{
		const json_t *lf = json_object_get(h, "last_fence");
		uint64_t t = (uint64_t)int_of(lf, "time_ns");

		if (json_is_object(lf) && json_is_true(json_object_get(lf, "ok")) && t &&
		    t <= since_ns && (!best || t > (uint64_t)int_of(best, "time_ns"))) {
			best = lf;
			*host = h;
		}
	}
	return best;
}

static void put_failover(FILE *f, const json_t *hosts, const json_t *d, uint64_t now_ns)
{
	long inc = int_of(d, "restarts") + 1; /* the starts so far */
	const json_t *host = NULL, *lf;
	char when[32], age[32];

	if (inc <= 1)
		return;
	lf = failover_fence(hosts, (uint64_t)int_of(d, "since_ns"), &host);
	if (!lf) {
		fprintf(f, ", restarted %ld time%s", inc - 1, plural(inc - 1));
		return;
	}
	time_text((uint64_t)int_of(lf, "time_ns"), when, sizeof(when));
	age_text(now_ns, (uint64_t)int_of(lf, "time_ns"), age, sizeof(age));
	fprintf(f, ", restarted %ld time%s, last failover after the fence of %s at %s%s%s%s",
		inc - 1, plural(inc - 1), str_of(host, "name"), when, *age ? " (" : "", age,
		*age ? " ago)" : "");
}

enum check_code check_domain(const json_t *status, const char *name, bool verbose, uint64_t now_ns,
			     char **out)
{
	const json_t *cl, *hosts, *doms, *d, *h;
	char err[256], when[32], age[32], *buf;
	const char *note;
	enum check_code code;
	uint64_t since;
	FILE *f;

	if (status_parts(status, &cl, &hosts, &doms, err, sizeof(err)) < 0)
		return unknown(err, out);
	if (!(d = find(doms, name))) {
		snprintf(err, sizeof(err), "no domain %s in cluster %s", name, str_of(cl, "name"));
		return unknown(err, out);
	}
	code = domain_code(d, &note);
	since = (uint64_t)int_of(d, "since_ns");
	time_text(since, when, sizeof(when));
	age_text(now_ns, since, age, sizeof(age));
	f = open_out(&buf);
	fprintf(f, "HAXD %s - domain %s %s%s%s%s since %s%s%s%s", check_code_name(code), name,
		str_of(d, "state"), note, *str_of(d, "host") ? " on " : "", str_of(d, "host"), when,
		*age ? " (" : "", age, *age ? ")" : "");
	if (*str_of(d, "reason"))
		fprintf(f, ": %s", str_of(d, "reason"));
	put_failover(f, hosts, d, now_ns);
	fputs(" |", f);
	put_perf(f, "incarnation", int_of(d, "incarnation"), "", NULL, NULL, -1);
	put_perf(f, "state_age",
		 since && since <= now_ns ? (long)((now_ns - since) / 1000000000ull) : 0, "s", NULL,
		 NULL, -1);
	fputc('\n', f);
	domain_line(f, d, now_ns);
	if ((h = find(hosts, str_of(d, "host"))) &&
	    (verbose || host_troubled(h) || json_is_object(json_object_get(h, "last_fence"))))
		host_line(f, h, now_ns);
	return finish(f, &buf, out, code);
}
