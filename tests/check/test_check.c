/*
 * Unit tests of check_haxd's pure half (haxd/check.c): the Monitoring Plugins range
 * syntax and its evaluation, -w/-c parsing, and the plugin output built from crafted
 * status documents (docs/status-json.md): the state of each default, -w/-c overriding
 * them, all perfdata on the first line, and the --host and --domain modes.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "haxd/check.h"

#define NOW_NS 1750000000000000000ull /* 2025-06-15T15:06:40Z */
#define S(x) ((x)*1000000000ll)

/* ---- helpers ----------------------------------------------------------------------- */

/* Three online hosts, d1 and d4 on h1, d2 on h2, d3 disabled; quorate, N+1. */
static json_t *healthy(void)
{
	json_error_t jerr;
	char text[4096];
	json_t *j;

	snprintf(
	    text, sizeof(text),
	    "{\"ok\": true,"
	    " \"cluster\": {\"name\": \"haxlab\", \"quorate\": true, \"leader\": \"h1\","
	    "  \"epoch\": 5, \"seq\": 46, \"mode\": \"cluster\", \"self\": \"h2\","
	    "  \"fence_failures\": 0, \"tolerates_host_failures\": 1, \"leader_changes\": 0},"
	    " \"hosts\": ["
	    "  {\"name\": \"h1\", \"nodeid\": 1, \"state\": \"online\", \"maintenance\": false,"
	    "   \"domains\": [\"d1\", \"d4\"], \"last_fence\": null},"
	    "  {\"name\": \"h2\", \"nodeid\": 2, \"state\": \"online\", \"maintenance\": false,"
	    "   \"domains\": [\"d2\"], \"last_fence\": null},"
	    "  {\"name\": \"h3\", \"nodeid\": 3, \"state\": \"online\", \"maintenance\": false,"
	    "   \"domains\": [], \"last_fence\": null}],"
	    " \"domains\": ["
	    "  {\"name\": \"d1\", \"state\": \"running\", \"host\": \"h1\", \"incarnation\": 1,"
	    "   \"enabled\": true, \"reason\": \"\", \"since_ns\": %lld},"
	    "  {\"name\": \"d2\", \"state\": \"running\", \"host\": \"h2\", \"incarnation\": 1,"
	    "   \"enabled\": true, \"reason\": \"\", \"since_ns\": %lld},"
	    "  {\"name\": \"d3\", \"state\": \"disabled\", \"host\": \"\", \"incarnation\": 0,"
	    "   \"enabled\": false, \"reason\": \"\", \"since_ns\": %lld},"
	    "  {\"name\": \"d4\", \"state\": \"running\", \"host\": \"h1\", \"incarnation\": 1,"
	    "   \"enabled\": true, \"reason\": \"\", \"since_ns\": %lld}]}",
	    (long long)(NOW_NS - S(7380)), (long long)(NOW_NS - S(60)),
	    (long long)(NOW_NS - S(86400)), (long long)(NOW_NS - S(5)));
	j = json_loads(text, 0, &jerr);
	if (!j)
		fail_msg("bad JSON in the test itself: %s", jerr.text);
	return j;
}

static json_t *host_of(json_t *st, size_t i)
{
	return json_array_get(json_object_get(st, "hosts"), i);
}

static json_t *dom_of(json_t *st, size_t i)
{
	return json_array_get(json_object_get(st, "domains"), i);
}

static void set_str(json_t *o, const char *key, const char *v)
{
	json_object_set_new(o, key, json_string(v));
}

static void set_int(json_t *o, const char *key, long long v)
{
	json_object_set_new(o, key, json_integer(v));
}

/* The first line of out, in a static buffer. */
static const char *line1(const char *out)
{
	static char buf[2048];
	size_t n = strcspn(out, "\n");

	assert_true(n < sizeof(buf));
	memcpy(buf, out, n);
	buf[n] = '\0';
	return buf;
}

static void assert_has(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("expected [%s] in:\n%s", needle, hay);
}

/* Run the cluster mode with thresholds given as "w:METRIC=RANGE"/"c:..." (NULL-ended);
 * check the code and that the first line starts with "HAXD <code> - "; return the output. */
static char *cluster(json_t *st, enum check_code want, const char *const *args)
{
	struct check_thresholds t;
	char err[512], head[64], *out = NULL;
	enum check_code code;

	memset(&t, 0, sizeof(t));
	for (; args && *args; args++)
		if (check_threshold_arg(&t, (*args)[0] == 'c', *args + 2, err, sizeof(err)) < 0)
			fail_msg("%s: %s", *args, err);
	code = check_cluster(st, &t, false, NOW_NS, &out);
	assert_non_null(out);
	snprintf(head, sizeof(head), "HAXD %s - ", check_code_name(want));
	if (code != want || strncmp(out, head, strlen(head)) != 0)
		fail_msg("expected %s (%d), got %d:\n%s", check_code_name(want), want, code, out);
	json_decref(st);
	return out;
}

/* ---- ranges ------------------------------------------------------------------------ */

struct range_case {
	const char *text;
	double v;
	bool alert;
};

static void test_range_forms(void **state)
{
	static const struct range_case cases[] = {
	    /* "10": alert outside 0..10 */
	    {"10", -1, true},
	    {"10", 0, false},
	    {"10", 10, false},
	    {"10", 10.5, true},
	    /* "10:": alert below 10 */
	    {"10:", 9.9, true},
	    {"10:", 10, false},
	    {"10:", 1e9, false},
	    /* "~:10": alert above 10 */
	    {"~:10", -1e9, false},
	    {"~:10", 10, false},
	    {"~:10", 11, true},
	    /* "10:20": alert outside, bounds included in the range */
	    {"10:20", 9, true},
	    {"10:20", 10, false},
	    {"10:20", 20, false},
	    {"10:20", 21, true},
	    /* "@10:20": alert inside, bounds included */
	    {"@10:20", 9, false},
	    {"@10:20", 10, true},
	    {"@10:20", 15, true},
	    {"@10:20", 20, true},
	    {"@10:20", 20.1, false},
	    /* others */
	    {"0", 0, false},
	    {"0", 1, true},
	    {"1:", 0, true},
	    {"1:", 1, false},
	    {"@0", 0, true},
	    {"@0", 1, false},
	    {"@~:0", -5, true},
	    {"@10:", 11, true},
	    {"@10:", 9, false},
	    {"~:", -1e300, false},
	    {"~:", 1e300, false},
	    {":5", -1, true},
	    {":5", 3, false},
	    {"-5:-1", -3, false},
	    {"-5:-1", 0, true},
	    {"1.5:2.5", 2, false},
	    {"1.5:2.5", 1, true},
	    {"1e1", 10, false},
	    {"1e1", 11, true},
	    {"5:5", 5, false},
	};
	struct check_range r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&r, 0xa5, sizeof(r));
		if (check_range_parse(cases[i].text, &r) != 0)
			fail_msg("range \"%s\" rejected", cases[i].text);
		assert_string_equal(r.text, cases[i].text);
		if (check_range_alert(&r, cases[i].v) != cases[i].alert)
			fail_msg("range \"%s\" at %g: expected alert=%d", cases[i].text, cases[i].v,
				 cases[i].alert);
	}
}

static void test_range_fields(void **state)
{
	struct check_range r;

	(void)state;
	assert_int_equal(check_range_parse("10", &r), 0);
	assert_true(r.set && !r.inside && !r.no_low && !r.no_high);
	assert_true(r.low == 0 && r.high == 10);
	assert_int_equal(check_range_parse("10:", &r), 0);
	assert_true(r.low == 10 && r.no_high && !r.no_low);
	assert_int_equal(check_range_parse("~:10", &r), 0);
	assert_true(r.no_low && !r.no_high && r.high == 10);
	assert_int_equal(check_range_parse("@10:20", &r), 0);
	assert_true(r.inside && r.low == 10 && r.high == 20);
}

static void test_range_bad(void **state)
{
	static const char *const bad[] = {
	    "",	      "@",     ":",    "@:",  "abc",  "10:5",
	    "@20:10", "1:2:3", "~",    "~10", "10:~", " 10",
	    "10 ",    "10x",   "x:10", "inf", "nan",  "1:inf",
	    "0x10",   "--1",   "@@1",  "~:~", "1:2:", "100000000000000000000000000000000000000",
	};
	struct check_range r = {.set = false, .text = "untouched"};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (check_range_parse(bad[i], &r) != -EINVAL)
			fail_msg("range \"%s\" accepted", bad[i]);
		assert_false(r.set); /* out-parameter written only on success */
	}
	assert_false(check_range_alert(NULL, 1));
	assert_false(check_range_alert(&r, 1e9));
}

static void test_threshold_args(void **state)
{
	struct check_thresholds t;
	char err[512];

	(void)state;
	memset(&t, 0, sizeof(t));
	assert_int_equal(
	    check_threshold_arg(&t, false, "tolerates_host_failures=1:", err, sizeof(err)), 0);
	assert_true(t.user[CHECK_M_TOLERATES] && t.warn[CHECK_M_TOLERATES].set);
	assert_false(t.crit[CHECK_M_TOLERATES].set);
	assert_int_equal(check_threshold_arg(&t, true, "domains_recovering=2", err, sizeof(err)),
			 0);
	assert_true(t.crit[CHECK_M_DOMAINS_RECOVERING].set);
	assert_string_equal(t.crit[CHECK_M_DOMAINS_RECOVERING].text, "2");
	assert_int_equal(check_threshold_arg(&t, false, "leader_changes=3", err, sizeof(err)), 0);
	assert_true(t.user[CHECK_M_LEADER_CHANGES] && t.warn[CHECK_M_LEADER_CHANGES].set);

	assert_int_equal(check_threshold_arg(&t, false, "bogus=1", err, sizeof(err)), -EINVAL);
	assert_has(err, "-w bogus=1: unknown metric \"bogus\"");
	assert_int_equal(check_threshold_arg(&t, true, "domains_failed=1:0", err, sizeof(err)),
			 -EINVAL);
	assert_has(err, "-c domains_failed=1:0: invalid range \"1:0\"");
	assert_int_equal(check_threshold_arg(&t, true, "domains_failed", err, sizeof(err)),
			 -EINVAL);
	assert_has(err, "expected METRIC=RANGE");
	assert_int_equal(check_threshold_arg(&t, true, "domains_failed=", err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(check_threshold_arg(&t, true, "=1", err, sizeof(err)), -EINVAL);
	assert_int_equal(check_threshold_arg(&t, true, "domains=1", err, sizeof(err)), -EINVAL);
	assert_false(t.user[CHECK_M_DOMAINS_FAILED]);
}

/* ---- cluster mode -------------------------------------------------------------------- */

/* haxd says the loss of h2 alone would strand d3 (and of h1, d3 again and d1): WARNING
 * naming them; d3 counted once. A single-host cluster says nothing of it. */
static void test_cluster_stranded(void **state)
{
	json_t *st = healthy();
	char *out;

	(void)state;
	json_object_set_new(json_object_get(st, "cluster"), "stranded_by_one_loss",
			    json_pack("[{s:s, s:[s]}, {s:s, s:[s, s]}]", "host", "h2", "domains",
				      "d3", "host", "h1", "domains", "d3", "d1"));
	out = cluster(st, CHECK_WARNING, NULL);
	assert_has(line1(out), "HAXD WARNING - 2 domains with nowhere to go if one host dies "
			       "(d3 if h2 dies, d3 if h1 dies, d1 if h1 dies)");
	assert_has(line1(out), " domains_stranded=2;0;;0");
	free(out);
}

static void test_cluster_ok(void **state)
{
	char *out = cluster(healthy(), CHECK_OK, NULL);
	const char *l1 = line1(out);

	(void)state;
	assert_string_equal(
	    l1, "HAXD OK - cluster haxlab: 3/3 hosts online, quorate, 3 domains running, "
		"tolerates 1 host failure | hosts_online=3;;;0;3 hosts_total=3;;;0 "
		"quorate=1;;1:;0;1 domains_running=3;;;0 domains_recovering=0;0;;0 "
		"domains_failed=0;;0;0 tolerates_host_failures=1;1:;;0 fence_failures=0;;0;0 "
		"hosts_lost=0;0;;0 hosts_fenced=0;0;;0 hosts_maintenance=0;;;0 "
		"leader_changes=0c;;;0 storage_unfenced=0;;0;0 domains_stranded=0;0;;0");
	/* nothing in trouble: a single line */
	assert_string_equal(out + strlen(l1), "\n");
	free(out);
}

static void test_cluster_verbose(void **state)
{
	json_t *st = healthy();
	char *out = NULL;

	(void)state;
	assert_int_equal(check_cluster(st, NULL, true, NOW_NS, &out), CHECK_OK);
	assert_has(out,
		   "\ncluster haxlab: mode cluster, leader h1, epoch 5, seq 46, answered by h2\n");
	assert_has(out, "\nhost h1: online, domains d1, d4\n");
	assert_has(out, "\nhost h3: online, no domains\n");
	assert_has(out, "\ndomain d1: running on h1 since 2025-06-15T13:03:40Z (2h 3m), "
			"incarnation 1\n");
	assert_has(out, "\ndomain d3: disabled (not enabled) since 2025-06-14T15:06:40Z "
			"(1d 0h), incarnation 0\n");
	json_decref(st);
	free(out);
}

static void test_cluster_quorum_lost(void **state)
{
	json_t *st = healthy();
	char *out;

	(void)state;
	json_object_set_new(json_object_get(st, "cluster"), "quorate", json_false());
	out = cluster(st, CHECK_CRITICAL, NULL);
	assert_has(line1(out), "HAXD CRITICAL - no quorum; cluster haxlab: 3/3 hosts online, "
			       "3 domains running, tolerates 1 host failure | ");
	assert_has(line1(out), " quorate=0;;1:;0;1 ");
	free(out);
}

static void test_cluster_recovering(void **state)
{
	json_t *st = healthy(), *d = dom_of(st, 1);
	char *out;

	(void)state;
	set_str(d, "state", "recovering");
	set_str(d, "reason", "awaiting fence of h2");
	out = cluster(st, CHECK_WARNING, NULL);
	assert_has(line1(out), "HAXD WARNING - 1 domain recovering (d2); cluster haxlab: ");
	assert_has(line1(out), " domains_recovering=1;0;;0 ");
	assert_has(out, "\ndomain d2: recovering on h2 since 2025-06-15T15:05:40Z (1m 0s), "
			"incarnation 1: awaiting fence of h2\n");
	free(out);
}

static void test_cluster_failed(void **state)
{
	json_t *st = healthy();
	char *out;

	(void)state;
	set_str(dom_of(st, 0), "state", "failed");
	set_str(dom_of(st, 1), "state", "recovering");
	out = cluster(st, CHECK_CRITICAL, NULL);
	/* critical problems first, then warnings, then the summary */
	assert_has(line1(out), "HAXD CRITICAL - 1 domain failed (d1), 1 domain recovering (d2); "
			       "cluster haxlab: 3/3 hosts online, quorate, 1 domain running, ");
	assert_has(line1(out), " domains_failed=1;;0;0 ");
	free(out);
}

static void test_cluster_n_plus_k_zero(void **state)
{
	json_t *st = healthy();
	char *out;

	(void)state;
	set_int(json_object_get(st, "cluster"), "tolerates_host_failures", 0);
	out = cluster(st, CHECK_WARNING, NULL);
	assert_has(line1(out), "HAXD WARNING - tolerates 0 host failures; cluster haxlab: ");
	assert_has(line1(out), " tolerates_host_failures=0;1:;;0 ");
	free(out);

	/* a single host cannot survive its own failure: no default then */
	st = healthy();
	set_int(json_object_get(st, "cluster"), "tolerates_host_failures", 0);
	json_array_remove(json_object_get(st, "hosts"), 2);
	json_array_remove(json_object_get(st, "hosts"), 1);
	out = cluster(st, CHECK_OK, NULL);
	assert_has(line1(out), "HAXD OK - cluster haxlab: 1/1 hosts online, quorate, 3 domains "
			       "running | ");
	assert_has(line1(out), " tolerates_host_failures=0;;;0 ");
	free(out);
}

static void test_cluster_fence_failure(void **state)
{
	json_t *st = healthy(), *h = host_of(st, 2);
	char *out;

	(void)state;
	set_int(json_object_get(st, "cluster"), "fence_failures", 1);
	set_int(json_object_get(st, "cluster"), "tolerates_host_failures", 0);
	set_str(h, "state", "fencing");
	json_object_set_new(h, "last_fence",
			    json_pack("{s:b, s:s, s:s, s:I}", "ok", 0, "method", "ipmi", "detail",
				      "no route to BMC", "time_ns", (json_int_t)(NOW_NS - S(30))));
	out = cluster(st, CHECK_CRITICAL, NULL);
	assert_has(line1(out), "HAXD CRITICAL - 1 fence failure, tolerates 0 host failures, "
			       "1 host lost (h3 fencing); cluster haxlab: 2/3 hosts online, ");
	assert_has(line1(out), " fence_failures=1;;0;0 ");
	assert_has(out, "\nhost h3: fencing, no domains; last fence FAILED via ipmi at "
			"2025-06-15T15:06:10Z (30s ago): no route to BMC\n");
	free(out);
}

/* Issue 17: a storage whose SCSI fencing is lost (target failed over) or unknown is
 * CRITICAL; one where only our own key went ("unregistered") is still fenced. */
static void test_cluster_storage_unfenced(void **state)
{
	json_t *st = healthy();
	char *out;

	(void)state;
	json_object_set_new(st, "storage",
			    json_pack("[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}]", "name", "san-a",
				      "fencing", "lost", "name", "san-b", "fencing", "unregistered",
				      "name", "san-c", "fencing", "in force"));
	out = cluster(st, CHECK_CRITICAL, NULL);
	assert_has(line1(out), "HAXD CRITICAL - SCSI fencing not in force on 1 storage (san-a); ");
	assert_has(line1(out), " storage_unfenced=1;;0;0");
	free(out);
	st = healthy();
	json_object_set_new(st, "storage", json_pack("[{s:s, s:s}]", "name", "san-a", "fencing",
						     "in force"));
	out = cluster(st, CHECK_OK, NULL);
	assert_has(line1(out), " storage_unfenced=0;;0;0");
	free(out);
}

static void test_cluster_hosts(void **state)
{
	json_t *st = healthy();
	char *out;

	(void)state;
	set_str(host_of(st, 1), "state", "fenced");
	json_object_set_new(host_of(st, 0), "maintenance", json_true());
	out = cluster(st, CHECK_WARNING, NULL);
	/* maintenance is on purpose: reported, not alerted */
	assert_has(line1(out), "HAXD WARNING - 1 host fenced (h2); cluster haxlab: 2/3 hosts "
			       "online, quorate, 3 domains running, tolerates 1 host failure, "
			       "1 host in maintenance (h1) | ");
	assert_has(line1(out), " hosts_online=2;;;0;3 ");
	assert_has(line1(out), " hosts_fenced=1;0;;0 hosts_maintenance=1;;;0");
	assert_has(out, "\nhost h1: online, in maintenance, domains d1, d4\n");
	assert_has(out, "\nhost h2: fenced, domains d2\n");
	free(out);

	st = healthy();
	set_str(host_of(st, 2), "state", "agent-lost");
	out = cluster(st, CHECK_WARNING, NULL);
	assert_has(line1(out), "HAXD WARNING - 1 host lost (h3 agent-lost); ");
	free(out);
}

static void test_cluster_overrides(void **state)
{
	static const char *const warn_tol[] = {"w:tolerates_host_failures=2:", NULL};
	static const char *const crit_rec[] = {"c:domains_recovering=1", NULL};
	static const char *const demote[] = {"w:fence_failures=0", "w:quorate=1:", NULL};
	static const char *const off[] = {"w:tolerates_host_failures=~:", NULL};
	static const char *const inside[] = {"c:domains_running=@2:3", NULL};
	json_t *st;
	char *out;

	(void)state;
	/* a stricter N+k */
	out = cluster(healthy(), CHECK_WARNING, warn_tol);
	assert_has(line1(out), " tolerates_host_failures=1;2:;;0 ");
	free(out);

	/* -c on recovering replaces its default -w: 1 recovering passes, 2 are critical */
	st = healthy();
	set_str(dom_of(st, 1), "state", "recovering");
	out = cluster(st, CHECK_OK, crit_rec);
	assert_has(line1(out), "HAXD OK - cluster haxlab: 3/3 hosts online, quorate, "
			       "2 domains running, 1 domain recovering (d2), tolerates 1 host "
			       "failure | ");
	assert_has(line1(out), " domains_recovering=1;;1;0 ");
	free(out);
	st = healthy();
	set_str(dom_of(st, 1), "state", "recovering");
	set_str(dom_of(st, 0), "state", "recovering");
	out = cluster(st, CHECK_CRITICAL, crit_rec);
	assert_has(line1(out), "HAXD CRITICAL - 2 domains recovering (d1, d2); ");
	free(out);

	/* a fence failure and no quorum demoted to WARNING */
	st = healthy();
	set_int(json_object_get(st, "cluster"), "fence_failures", 1);
	json_object_set_new(json_object_get(st, "cluster"), "quorate", json_false());
	out = cluster(st, CHECK_WARNING, demote);
	assert_has(line1(out), "HAXD WARNING - no quorum, 1 fence failure; ");
	free(out);

	/* "~:" never alerts: the N+k default switched off */
	st = healthy();
	set_int(json_object_get(st, "cluster"), "tolerates_host_failures", 0);
	out = cluster(st, CHECK_OK, off);
	assert_has(line1(out), " tolerates_host_failures=0;~:;;0 ");
	free(out);

	/* '@' inverts: 3 running is inside 2:3 */
	out = cluster(healthy(), CHECK_CRITICAL, inside);
	assert_has(line1(out), "HAXD CRITICAL - 3 domains running; ");
	assert_has(line1(out), " domains_running=3;;@2:3;0 ");
	free(out);
}

/* The leader-change counter: shown once non-zero, unit "c", no default threshold, and
 * -w/-c ranges on it like on any metric; an older haxd without the field counts 0. */
static void test_cluster_leader_changes(void **state)
{
	static const char *const warn1[] = {"w:leader_changes=1", NULL};
	static const char *const crit0[] = {"c:leader_changes=0", "w:leader_changes=~:", NULL};
	json_t *st;
	char *out;

	(void)state;
	st = healthy();
	set_int(json_object_get(st, "cluster"), "leader_changes", 2);
	set_str(json_object_get(st, "cluster"), "leader", "h2");
	out = cluster(st, CHECK_OK, NULL);
	assert_has(line1(out), "HAXD OK - cluster haxlab: 3/3 hosts online, quorate, 3 domains "
			       "running, tolerates 1 host failure, leader changed 2 times (now h2) | ");
	assert_has(line1(out), " leader_changes=2c;;;0");
	free(out);

	st = healthy();
	set_int(json_object_get(st, "cluster"), "leader_changes", 2);
	out = cluster(st, CHECK_WARNING, warn1);
	assert_has(line1(out), "HAXD WARNING - leader changed 2 times (now h1); cluster haxlab: ");
	assert_has(line1(out), " leader_changes=2c;1;;0");
	free(out);

	st = healthy();
	set_int(json_object_get(st, "cluster"), "leader_changes", 1);
	set_str(json_object_get(st, "cluster"), "leader", "");
	json_object_set_new(json_object_get(st, "cluster"), "quorate", json_false());
	out = cluster(st, CHECK_CRITICAL, crit0);
	assert_has(line1(out), "HAXD CRITICAL - no quorum, leader changed 1 time (now none); ");
	assert_has(line1(out), " leader_changes=1c;~:;0;0");
	free(out);

	/* within the range: OK, and 1 is no more than 1 */
	st = healthy();
	set_int(json_object_get(st, "cluster"), "leader_changes", 1);
	out = cluster(st, CHECK_OK, warn1);
	assert_has(line1(out), ", leader changed 1 time (now h1) | ");
	free(out);

	st = healthy();
	json_object_del(json_object_get(st, "cluster"), "leader_changes");
	out = cluster(st, CHECK_OK, NULL);
	assert_has(line1(out), " leader_changes=0c;;;0 ");
	assert_null(strstr(line1(out), "leader changed"));
	free(out);
}

/* Every perfdata label on the first line, none after it. */
static void test_perfdata_line1(void **state)
{
	static const char *const labels[] = {
	    "hosts_online=",
	    "hosts_total=",
	    "quorate=",
	    "domains_running=",
	    "domains_recovering=",
	    "domains_failed=",
	    "tolerates_host_failures=",
	    "fence_failures=",
	    "leader_changes=",
	};
	json_t *st = healthy();
	char *out = NULL;
	const char *l1, *pipe;
	size_t i;

	(void)state;
	set_str(dom_of(st, 0), "state", "failed");
	set_str(host_of(st, 2), "state", "suspect");
	assert_int_equal(check_cluster(st, NULL, true, NOW_NS, &out), CHECK_CRITICAL);
	l1 = line1(out);
	pipe = strchr(l1, '|');
	assert_non_null(pipe);
	assert_null(strchr(pipe + 1, '|'));
	for (i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
		assert_has(pipe, labels[i]);
	assert_null(strchr(out + strlen(l1), '|'));
	assert_int_equal(out[strlen(out) - 1], '\n');
	json_decref(st);
	free(out);
}

static void test_malformed(void **state)
{
	json_t *st;
	char *out = NULL;

	(void)state;
	st = json_pack("{s:b, s:s}", "ok", 0, "error", "not synced yet");
	assert_int_equal(check_cluster(st, NULL, false, NOW_NS, &out), CHECK_UNKNOWN);
	assert_string_equal(out,
			    "HAXD UNKNOWN - haxd refused the status request: not synced yet\n");
	free(out);
	assert_int_equal(check_host(st, "h1", false, NOW_NS, &out), CHECK_UNKNOWN);
	free(out);
	json_decref(st);
	st = json_pack("{s:b, s:[]}", "ok", 1, "hosts");
	assert_int_equal(check_domain(st, "d1", false, NOW_NS, &out), CHECK_UNKNOWN);
	assert_has(out, "HAXD UNKNOWN - malformed status from haxd");
	free(out);
	json_decref(st);
}

/* ---- host and domain modes ----------------------------------------------------------- */

static enum check_code host(json_t *st, const char *name, char **out)
{
	enum check_code c = check_host(st, name, false, NOW_NS, out);

	json_decref(st);
	return c;
}

static void test_host_mode(void **state)
{
	json_t *st;
	char *out;

	(void)state;
	assert_int_equal(host(healthy(), "h1", &out), CHECK_OK);
	assert_string_equal(out, "HAXD OK - host h1 online, running 2 domains: d1, d4 | "
				 "domains=2;;;0\n");
	free(out);
	assert_int_equal(host(healthy(), "h3", &out), CHECK_OK);
	assert_string_equal(line1(out), "HAXD OK - host h3 online, running no domains | "
					"domains=0;;;0");
	free(out);
	assert_int_equal(host(healthy(), "h9", &out), CHECK_UNKNOWN);
	assert_string_equal(out, "HAXD UNKNOWN - no host h9 in cluster haxlab\n");
	free(out);

	st = healthy();
	json_object_set_new(host_of(st, 0), "maintenance", json_true());
	set_str(dom_of(st, 3), "state", "migrating");
	assert_int_equal(host(st, "h1", &out), CHECK_WARNING);
	assert_has(line1(out), "HAXD WARNING - host h1 online, in maintenance, running 2 domains: "
			       "d1, d4 (migrating) | domains=2;;;0");
	assert_has(out, "\ndomain d4: migrating on h1 ");
	free(out);

	static const char *const bad[] = {"fenced", "suspect", "fencing", "agent-lost", "unknown"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		st = healthy();
		set_str(host_of(st, 1), "state", bad[i]);
		json_object_set_new(host_of(st, 1), "last_fence",
				    json_pack("{s:b, s:s, s:s, s:I}", "ok", 1, "method", "ipmi",
					      "detail", "", "time_ns",
					      (json_int_t)(NOW_NS - S(3600))));
		assert_int_equal(host(st, "h2", &out), CHECK_CRITICAL);
		assert_has(line1(out), "HAXD CRITICAL - host h2 ");
		assert_has(line1(out), bad[i]);
		assert_has(out,
			   "; last fence succeeded via ipmi at 2025-06-15T14:06:40Z (1h 0m ago)\n");
		free(out);
	}
}

static enum check_code domain(json_t *st, const char *name, char **out)
{
	enum check_code c = check_domain(st, name, false, NOW_NS, out);

	json_decref(st);
	return c;
}

static void test_domain_mode(void **state)
{
	static const struct {
		const char *state;
		bool enabled;
		enum check_code code;
	} cases[] = {
	    {"running", true, CHECK_OK},	{"starting", true, CHECK_WARNING},
	    {"migrating", true, CHECK_WARNING}, {"recovering", true, CHECK_WARNING},
	    {"stopping", true, CHECK_WARNING},	{"failed", true, CHECK_CRITICAL},
	    {"stopped", true, CHECK_CRITICAL},	{"stopped", false, CHECK_OK},
	    {"disabled", false, CHECK_OK},	{"exploded", true, CHECK_UNKNOWN},
	};
	json_t *st;
	char *out;
	size_t i;

	(void)state;
	assert_int_equal(domain(healthy(), "d1", &out), CHECK_OK);
	assert_string_equal(line1(out), "HAXD OK - domain d1 running on h1 since "
					"2025-06-15T13:03:40Z (2h 3m) | incarnation=1;;;0 "
					"state_age=7380s;;;0");
	free(out);
	assert_int_equal(domain(healthy(), "d3", &out), CHECK_OK);
	assert_has(line1(out),
		   "HAXD OK - domain d3 disabled (disabled: hax keeps it stopped) since");
	free(out);
	assert_int_equal(domain(healthy(), "nope", &out), CHECK_UNKNOWN);
	assert_string_equal(out, "HAXD UNKNOWN - no domain nope in cluster haxlab\n");
	free(out);

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		st = healthy();
		set_str(dom_of(st, 1), "state", cases[i].state);
		json_object_set_new(dom_of(st, 1), "enabled", json_boolean(cases[i].enabled));
		if (domain(st, "d2", &out) != cases[i].code)
			fail_msg("%s enabled=%d: expected %d:\n%s", cases[i].state,
				 cases[i].enabled, cases[i].code, out);
		free(out);
	}

	/* failed over: restarted once (incarnation 2), started 60 s ago on h2, h3 fenced
	 * 90 s ago */
	st = healthy();
	set_int(dom_of(st, 1), "incarnation", 2);
	set_int(dom_of(st, 1), "restarts", 1);
	json_object_set_new(host_of(st, 2), "last_fence",
			    json_pack("{s:b, s:s, s:s, s:I}", "ok", 1, "method", "redfish",
				      "detail", "", "time_ns", (json_int_t)(NOW_NS - S(90))));
	assert_int_equal(domain(st, "d2", &out), CHECK_OK);
	assert_string_equal(line1(out), "HAXD OK - domain d2 running on h2 since "
					"2025-06-15T15:05:40Z (1m 0s), restarted 1 time, last "
					"failover after the fence of h3 at 2025-06-15T15:05:10Z "
					"(1m 30s ago) | incarnation=2;;;0 state_age=60s;;;0");
	free(out);

	/* restarted in place, no fence */
	st = healthy();
	set_int(dom_of(st, 1), "incarnation", 4);
	set_int(dom_of(st, 1), "restarts", 3);
	set_str(dom_of(st, 1), "state", "failed");
	set_str(dom_of(st, 1), "reason", "start failed 3 times");
	assert_int_equal(domain(st, "d2", &out), CHECK_CRITICAL);
	assert_has(line1(out), "HAXD CRITICAL - domain d2 failed on h2 since 2025-06-15T15:05:40Z "
			       "(1m 0s): start failed 3 times, restarted 3 times | ");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_range_forms),
	    cmocka_unit_test(test_range_fields),
	    cmocka_unit_test(test_range_bad),
	    cmocka_unit_test(test_threshold_args),
	    cmocka_unit_test(test_cluster_ok),
	    cmocka_unit_test(test_cluster_stranded),
	    cmocka_unit_test(test_cluster_verbose),
	    cmocka_unit_test(test_cluster_quorum_lost),
	    cmocka_unit_test(test_cluster_recovering),
	    cmocka_unit_test(test_cluster_failed),
	    cmocka_unit_test(test_cluster_n_plus_k_zero),
	    cmocka_unit_test(test_cluster_fence_failure),
	    cmocka_unit_test(test_cluster_storage_unfenced),
	    cmocka_unit_test(test_cluster_hosts),
	    cmocka_unit_test(test_cluster_overrides),
	    cmocka_unit_test(test_cluster_leader_changes),
	    cmocka_unit_test(test_perfdata_line1),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_host_mode),
	    cmocka_unit_test(test_domain_mode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
