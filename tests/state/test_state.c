/*
 * Unit tests of the replicated state (haxd/state.c): JSON round trip, validation of bad
 * input, truncation and fuzzing of the decoder, persistence, fence history, versions.
 * The states are struct literals (STYLE.md habit 3); nothing here needs root.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/xl_parse.h"
#include "haxd/msg.h"
#include "haxd/state.h"

/* ---- fixture: a state written as struct literals ------------------------------------ */

/* clang-format off */
static struct hax_host lit_hosts[] = {
	{ .name = "h1", .nodeid = 1, .state = HOST_ONLINE, .mem_total_mib = 65536,
	  .mem_free_mib = 30720, .vcpus_total = 32, .since_ns = 1700000000123456789ull },
	{ .name = "h2", .nodeid = 2, .state = HOST_FENCED, .maintenance = true,
	  .mem_total_mib = 131072, .mem_free_mib = 131072, .vcpus_total = 64,
	  .since_ns = 1700000100000000000ull },
	{ .name = "h3.example", .nodeid = 2147483647, .state = HOST_AGENT_LOST },
};

static char def_web[] = "name = \"web\"\nmemory = 2048\nvcpus = 2\n"
			"disk = [ 'phy:/dev/mapper/web,xvda,w' ]\n";
static char def_db[] = "# caf\xc3\xa9 \xe2\x98\x95 \xf0\x9f\x90\xa7 \"quoted\" \\ back\\slash\n"
		       "\tname=\"db\"\r\n\x01\x1f control / slash";
static char def_empty[] = "";

static struct hax_domain lit_domains[] = {
	{ .name = "web", .definition = def_web, .memory_mib = 2048, .vcpus = 2,
	  .priority = 100, .n_anti = 2, .anti = { "frontend", "web" }, .n_prefer = 2,
	  .prefer = { "h1", "h2" }, .enabled = true, .state = DOM_RUNNING, .host = "h1",
	  .incarnation = 7, .since_ns = 1700000000000000001ull },
	{ .name = "db", .definition = def_db, .memory_mib = 8192, .vcpus = 4,
	  .priority = -1000, .n_anti = 1, .anti = { "db" }, .enabled = true,
	  .state = DOM_MIGRATING, .host = "h1", .target = "h3.example", .incarnation = 9,
	  .since_ns = 5 },
	{ .name = "batch_1", .definition = def_web, .memory_mib = 16777216, .vcpus = 1024,
	  .priority = 1000, .n_prefer = 1, .prefer = { "h3.example" }, .enabled = true,
	  .state = DOM_RECOVERING, .start_attempts = 3,
	  .reason = "no host has 16777216 MiB free \xe2\x80\x94 \"waiting\"" },
	{ .name = "off", .definition = def_empty, .memory_mib = 1, .vcpus = 1,
	  .enabled = false, .state = DOM_DISABLED },
};

static struct hax_fence_record lit_fence[] = {
	{ .host = "h2", .time_ns = 1700000050000000000ull, .ok = false, .method = "ipmi",
	  .detail = "timeout after 60s" },
	{ .host = "h2", .time_ns = 1700000060000000000ull, .ok = true,
	  .method = "ipmi+scsi", .detail = "operator said \"unplugged\" \xe2\x9c\x93" },
};

static struct hax_state lit = {
	.epoch = 3, .seq = 42, .cluster = "lab", .last_incarnation = 9,
	.nhosts = 3, .hosts = lit_hosts,
	.ndomains = 4, .domains = lit_domains,
	.nfence = 2, .fence = lit_fence,
};
/* clang-format on */

/* ---- helpers ----------------------------------------------------------------------- */

static void assert_domain_equal(const struct hax_domain *a, const struct hax_domain *b)
{
	size_t i;

	assert_string_equal(a->name, b->name);
	assert_non_null(a->definition);
	assert_non_null(b->definition);
	assert_string_equal(a->definition, b->definition);
	assert_int_equal(a->memory_mib, b->memory_mib);
	assert_int_equal(a->vcpus, b->vcpus);
	assert_int_equal(a->priority, b->priority);
	assert_int_equal(a->n_anti, b->n_anti);
	for (i = 0; i < a->n_anti; i++)
		assert_string_equal(a->anti[i], b->anti[i]);
	assert_int_equal(a->n_prefer, b->n_prefer);
	for (i = 0; i < a->n_prefer; i++)
		assert_string_equal(a->prefer[i], b->prefer[i]);
	assert_int_equal(a->enabled, b->enabled);
	assert_int_equal(a->state, b->state);
	assert_string_equal(a->host, b->host);
	assert_string_equal(a->target, b->target);
	assert_int_equal(a->incarnation, b->incarnation);
	assert_int_equal(a->since_ns, b->since_ns);
	assert_int_equal(a->start_attempts, b->start_attempts);
	assert_string_equal(a->reason, b->reason);
}

static void assert_state_equal(const struct hax_state *a, const struct hax_state *b)
{
	size_t i;

	assert_int_equal(a->epoch, b->epoch);
	assert_int_equal(a->seq, b->seq);
	assert_string_equal(a->cluster, b->cluster);
	assert_int_equal(a->last_incarnation, b->last_incarnation);
	assert_int_equal(a->nhosts, b->nhosts);
	for (i = 0; i < a->nhosts; i++) {
		assert_string_equal(a->hosts[i].name, b->hosts[i].name);
		assert_int_equal(a->hosts[i].nodeid, b->hosts[i].nodeid);
		assert_int_equal(a->hosts[i].state, b->hosts[i].state);
		assert_int_equal(a->hosts[i].maintenance, b->hosts[i].maintenance);
		assert_int_equal(a->hosts[i].mem_total_mib, b->hosts[i].mem_total_mib);
		assert_int_equal(a->hosts[i].mem_free_mib, b->hosts[i].mem_free_mib);
		assert_int_equal(a->hosts[i].vcpus_total, b->hosts[i].vcpus_total);
		assert_int_equal(a->hosts[i].since_ns, b->hosts[i].since_ns);
	}
	assert_int_equal(a->ndomains, b->ndomains);
	for (i = 0; i < a->ndomains; i++)
		assert_domain_equal(&a->domains[i], &b->domains[i]);
	assert_int_equal(a->nfence, b->nfence);
	for (i = 0; i < a->nfence; i++) {
		assert_string_equal(a->fence[i].host, b->fence[i].host);
		assert_int_equal(a->fence[i].time_ns, b->fence[i].time_ns);
		assert_int_equal(a->fence[i].ok, b->fence[i].ok);
		assert_string_equal(a->fence[i].method, b->fence[i].method);
		assert_string_equal(a->fence[i].detail, b->fence[i].detail);
	}
}

/* Parses text of exactly len bytes from its own allocation, so valgrind sees overreads. */
static int parse_exact(const char *text, size_t len, struct hax_state **out, char *err,
		       size_t errlen)
{
	char *copy = malloc(len ? len : 1);
	int r;

	assert_non_null(copy);
	memcpy(copy, text, len);
	r = state_from_string(copy, len, out, err, errlen);
	free(copy);
	return r;
}

/* A growing string for generated documents. */
struct buf {
	char *p;
	size_t len, cap;
};

static void buf_add(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		assert_true(n >= 0);
		if ((size_t)n < b->cap - b->len)
			break;
		b->cap = (b->cap + (size_t)n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	b->len += (size_t)n;
}

static struct buf buf_new(void)
{
	struct buf b = {.p = malloc(64), .len = 0, .cap = 64};

	assert_non_null(b.p);
	b.p[0] = '\0';
	return b;
}

static void expect_invalid(const char *text, size_t len, const char *want)
{
	struct hax_state sentinel, *out = &sentinel;
	char err[512] = "";
	int r = parse_exact(text, len, &out, err, sizeof(err));

	/* The path must lead the message; jansson's own messages start with the position. */
	if (r != -EINVAL || !(strncmp(err, want, strlen(want)) == 0 ||
			      (strncmp(err, "line ", 5) == 0 && strstr(err, want))))
		fail_msg("input %.200s\n  r=%d err \"%s\"\n  wanted -EINVAL and \"%s\"", text, r,
			 err, want);
	assert_ptr_equal(out, &sentinel);
}

static void expect_valid(const char *text)
{
	struct hax_state *out = NULL;
	char err[512] = "";
	int r = parse_exact(text, strlen(text), &out, err, sizeof(err));

	if (r != 0)
		fail_msg("input %.200s\n  r=%d err \"%s\"", text, r, err);
	state_free(out);
}

/* ---- round trip -------------------------------------------------------------------- */

static void test_round_trip(void **unused)
{
	struct hax_state *s = NULL, *c;
	char err[256] = "";
	char *t1, *t2;

	(void)unused;
	t1 = state_to_string(&lit);
	assert_non_null(t1);
	assert_int_equal(state_from_string(t1, strlen(t1), &s, err, sizeof(err)), 0);
	assert_state_equal(&lit, s);
	t2 = state_to_string(s);
	assert_string_equal(t1, t2);
	/* The members named in DESIGN.md, in order, with states by name. */
	assert_memory_equal(t1,
			    "{\"format\":1,\"epoch\":3,\"seq\":42,\"cluster\":\"lab\","
			    "\"last_incarnation\":9,\"epoch_members\":[],\"doubt\":[],"
			    "\"hosts\":[{\"name\":\"h1\",",
			    strlen("{\"format\":1,\"epoch\":3,\"seq\":42,\"cluster\":\"lab\","
				   "\"last_incarnation\":9,\"epoch_members\":[],\"doubt\":[],"
				   "\"hosts\":[{\"name\":\"h1\","));
	assert_non_null(strstr(t1, "\"state\":\"agent-lost\""));
	assert_non_null(strstr(t1, "\"state\":\"migrating\",\"host\":\"h1\","
				   "\"target\":\"h3.example\""));
	assert_non_null(strstr(t1, "\"anti_affinity\":[\"frontend\",\"web\"]"));
	c = state_clone(s);
	assert_state_equal(&lit, c);
	assert_ptr_not_equal(c->domains[0].definition, s->domains[0].definition);
	free(t1);
	free(t2);
	state_free(s);
	state_free(c);
}

static void test_domain_json(void **unused)
{
	struct hax_domain d;
	char err[256] = "";
	json_t *j = domain_to_json(&lit_domains[1]);

	(void)unused;
	assert_non_null(j);
	assert_int_equal(domain_from_json(j, &d, err, sizeof(err)), 0);
	assert_domain_equal(&lit_domains[1], &d);
	domain_clear(&d);
	assert_null(d.definition);
	domain_clear(NULL);
	json_decref(j);

	/* Only the required members: every other one takes its documented default. */
	j = json_loads("{\"name\":\"m\",\"definition\":\"\",\"memory_mib\":1,\"vcpus\":1,"
		       "\"future_member\":{\"x\":[1,2]}}",
		       0, NULL);
	assert_int_equal(domain_from_json(j, &d, err, sizeof(err)), 0);
	assert_int_equal(d.priority, 0);
	assert_int_equal(d.n_anti, 0);
	assert_int_equal(d.n_prefer, 0);
	assert_true(d.enabled);
	assert_int_equal(d.state, DOM_STOPPED);
	assert_string_equal(d.host, "");
	assert_string_equal(d.target, "");
	assert_int_equal(d.incarnation, 0);
	assert_string_equal(d.reason, "");
	assert_string_equal(d.definition, "");
	domain_clear(&d);
	json_decref(j);
}

/* A failure leaves *out untouched and frees what it decoded (valgrind checks the latter). */
static void test_domain_json_failure(void **unused)
{
	struct hax_domain d, sentinel;
	char err[256] = "";
	json_t *j;

	(void)unused;
	j = json_loads("{\"name\":\"m\",\"definition\":\"abc\",\"memory_mib\":1,\"vcpus\":1,"
		       "\"reason\":7}",
		       0, NULL);
	memset(&sentinel, 0xa5, sizeof(sentinel));
	memcpy(&d, &sentinel, sizeof(d));
	assert_int_equal(domain_from_json(j, &d, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "reason: expected a string");
	assert_memory_equal(&d, &sentinel, sizeof(d));
	json_decref(j);
}

/* ---- bad input --------------------------------------------------------------------- */

/* clang-format off */
#define TOP(rest) \
	"{\"format\":1,\"epoch\":1,\"seq\":2,\"cluster\":\"c\",\"last_incarnation\":5" rest "}"
#define DOC(hosts, domains) TOP(",\"hosts\":[" hosts "],\"domains\":[" domains "]")
#define DOCF(fence) TOP(",\"hosts\":[],\"domains\":[],\"fence_history\":[" fence "]")
#define HOST1 "{\"name\":\"h1\",\"nodeid\":1}"
#define HOST(extra) DOC("{\"name\":\"h1\",\"nodeid\":1," extra "}", "")
#define DOM1 "{\"name\":\"d1\",\"definition\":\"x\",\"memory_mib\":512,\"vcpus\":1}"
#define DOM(extra) \
	DOC("", "{\"name\":\"d1\",\"definition\":\"x\",\"memory_mib\":512,\"vcpus\":1," extra "}")
#define DOMNO(members) DOC("", "{" members "}")
#define FENCE(extra) DOCF("{\"host\":\"h1\",\"time_ns\":1,\"ok\":true" extra "}")
#define X10 "xxxxxxxxxx"
#define X80 X10 X10 X10 X10 X10 X10 X10 X10
#define N64 "n123456789012345678901234567890123456789012345678901234567890123"
#define A4 "\"a\",\"a\",\"a\",\"a\","
#define A17 A4 A4 A4 A4 "\"a\""
#define U64 "0..9223372036854775807"

static const struct {
	const char *json;
	const char *want;
} bad_cases[] = {
	/* top level */
	{ "[]", "expected a JSON object" },
	{ "{}", "format: missing" },
	{ "{\"format\":2,\"epoch\":\"new\"}", "format: unsupported version 2 (this haxd reads 1)" },
	{ "{\"format\":\"1\"}", "format: expected an integer" },
	{ "{\"format\":1.0}", "format: expected an integer" },
	{ "{\"format\":1,\"seq\":2,\"cluster\":\"c\",\"last_incarnation\":5,\"hosts\":[],"
	  "\"domains\":[]}", "epoch: missing" },
	{ "{\"format\":1,\"epoch\":-1,\"seq\":2,\"cluster\":\"c\",\"last_incarnation\":5,"
	  "\"hosts\":[],\"domains\":[]}", "epoch: expected an integer " U64 },
	{ "{\"format\":1,\"epoch\":1,\"seq\":1.5,\"cluster\":\"c\",\"last_incarnation\":5,"
	  "\"hosts\":[],\"domains\":[]}", "seq: expected an integer " U64 },
	{ "{\"format\":1,\"epoch\":1,\"seq\":2,\"cluster\":\"bad name\",\"last_incarnation\":5,"
	  "\"hosts\":[],\"domains\":[]}", "cluster: \"bad name\" is not a valid name" },
	{ "{\"format\":1,\"epoch\":1,\"seq\":2,\"cluster\":7,\"last_incarnation\":5,"
	  "\"hosts\":[],\"domains\":[]}", "cluster: expected a string" },
	{ "{\"format\":1,\"epoch\":1,\"seq\":2,\"cluster\":\"c\",\"hosts\":[],\"domains\":[]}",
	  "last_incarnation: missing" },
	{ TOP(",\"domains\":[]"), "hosts: missing" },
	{ TOP(",\"hosts\":{},\"domains\":[]"), "hosts: expected an array" },
	{ TOP(",\"hosts\":[]"), "domains: missing" },
	{ TOP(",\"hosts\":[],\"domains\":null"), "domains: expected an array" },
	{ TOP(",\"hosts\":[" HOST1 "],\"domains\":{}"), "domains: expected an array" },
	{ TOP(",\"hosts\":[" HOST1 "],\"domains\":[" DOM1 "],\"fence_history\":7"),
	  "fence_history: expected an array" },
	/* hosts */
	{ DOC("1", ""), "hosts[0]: expected an object" },
	{ DOC("{\"nodeid\":1}", ""), "hosts[0].name: missing" },
	{ DOC("{\"name\":\"h1\"}", ""), "hosts[0].nodeid: missing" },
	{ DOC("{\"name\":\"h1\",\"nodeid\":0}", ""),
	  "hosts[0].nodeid: expected an integer 1..2147483647" },
	{ DOC("{\"name\":\"h1\",\"nodeid\":2147483648}", ""),
	  "hosts[0].nodeid: expected an integer 1..2147483647" },
	{ DOC("{\"name\":\"h1\",\"nodeid\":\"1\"}", ""), "hosts[0].nodeid: expected an integer" },
	{ DOC("{\"name\":\"-h1\",\"nodeid\":1}", ""), "hosts[0].name: \"-h1\" is not a valid name" },
	{ DOC("{\"name\":\".h1\",\"nodeid\":1}", ""), "hosts[0].name: \".h1\" is not a valid name" },
	{ DOC("{\"name\":\"\",\"nodeid\":1}", ""), "hosts[0].name: \"\" is not a valid name" },
	{ DOC("{\"name\":\"" N64 "\",\"nodeid\":1}", ""), "hosts[0].name: not a valid name" },
	{ DOC("{\"name\":\"h\\n1\",\"nodeid\":1}", ""), "hosts[0].name: not a valid name" },
	{ DOC(HOST1 ",{\"name\":\"h1\",\"nodeid\":2}", ""),
	  "hosts[1].name: duplicate host name \"h1\" (also hosts[0])" },
	{ DOC(HOST1 ",{\"name\":\"h2\",\"nodeid\":1}", ""),
	  "hosts[1].nodeid: duplicate nodeid 1 (also hosts[0])" },
	{ HOST("\"state\":\"zombie\""), "hosts[0].state: unknown host state \"zombie\"" },
	{ HOST("\"state\":\"running\""), "hosts[0].state: unknown host state \"running\"" },
	{ HOST("\"state\":1"), "hosts[0].state: expected a string" },
	{ HOST("\"maintenance\":\"yes\""), "hosts[0].maintenance: expected a boolean" },
	{ HOST("\"maintenance\":null"), "hosts[0].maintenance: expected a boolean" },
	{ HOST("\"mem_total_mib\":-5"), "hosts[0].mem_total_mib: expected an integer " U64 },
	{ HOST("\"mem_free_mib\":1e3"), "hosts[0].mem_free_mib: expected an integer " U64 },
	{ HOST("\"vcpus_total\":4294967296"), "hosts[0].vcpus_total: expected an integer 0..4294967295" },
	{ HOST("\"since_ns\":-1"), "hosts[0].since_ns: expected an integer " U64 },
	/* domains */
	{ DOC("", "7"), "domains[0]: expected an object" },
	{ DOMNO("\"definition\":\"x\",\"memory_mib\":1,\"vcpus\":1"), "domains[0].name: missing" },
	{ DOMNO("\"name\":\"d1\",\"memory_mib\":1,\"vcpus\":1"), "domains[0].definition: missing" },
	{ DOMNO("\"name\":\"d1\",\"definition\":\"x\",\"vcpus\":1"), "domains[0].memory_mib: missing" },
	{ DOMNO("\"name\":\"d1\",\"definition\":\"x\",\"memory_mib\":1"), "domains[0].vcpus: missing" },
	{ DOMNO("\"name\":\"d/1\",\"definition\":\"x\",\"memory_mib\":1,\"vcpus\":1"),
	  "domains[0].name: \"d/1\" is not a valid name" },
	{ DOMNO("\"name\":\"d1\",\"definition\":5,\"memory_mib\":1,\"vcpus\":1"),
	  "domains[0].definition: expected a string" },
	{ DOMNO("\"name\":\"d1\",\"definition\":\"a\\u0000b\",\"memory_mib\":1,\"vcpus\":1"),
	  "\\u0000 is not allowed" },
	{ DOMNO("\"name\":\"d1\",\"definition\":\"x\",\"memory_mib\":0,\"vcpus\":1"),
	  "domains[0].memory_mib: expected an integer 1..16777216" },
	{ DOMNO("\"name\":\"d1\",\"definition\":\"x\",\"memory_mib\":16777217,\"vcpus\":1"),
	  "domains[0].memory_mib: expected an integer 1..16777216" },
	{ DOMNO("\"name\":\"d1\",\"definition\":\"x\",\"memory_mib\":-512,\"vcpus\":1"),
	  "domains[0].memory_mib: expected an integer 1..16777216" },
	{ DOMNO("\"name\":\"d1\",\"definition\":\"x\",\"memory_mib\":1,\"vcpus\":0"),
	  "domains[0].vcpus: expected an integer 1..1024" },
	{ DOMNO("\"name\":\"d1\",\"definition\":\"x\",\"memory_mib\":1,\"vcpus\":1025"),
	  "domains[0].vcpus: expected an integer 1..1024" },
	{ DOMNO("\"name\":\"d1\",\"definition\":\"x\",\"memory_mib\":1,\"vcpus\":2.0"),
	  "domains[0].vcpus: expected an integer 1..1024" },
	{ DOM("\"priority\":1001"), "domains[0].priority: expected an integer -1000..1000" },
	{ DOM("\"priority\":-1001"), "domains[0].priority: expected an integer -1000..1000" },
	{ DOM("\"anti_affinity\":\"web\""), "domains[0].anti_affinity: expected an array" },
	{ DOM("\"anti_affinity\":[\"a\",\"b c\"]"),
	  "domains[0].anti_affinity[1]: \"b c\" is not a valid name" },
	{ DOM("\"anti_affinity\":[\"a\",\"a\"]"), "domains[0].anti_affinity[1]: duplicate entry \"a\"" },
	{ DOM("\"anti_affinity\":[" A17 "]"),
	  "domains[0].anti_affinity: too many entries (17, at most 16)" },
	{ DOM("\"prefer\":[1]"), "domains[0].prefer[0]: expected a string" },
	{ DOM("\"prefer\":[" A17 "," A17 "]"), "domains[0].prefer: too many entries (34, at most 32)" },
	{ DOM("\"enabled\":1"), "domains[0].enabled: expected a boolean" },
	{ DOM("\"state\":\"sleeping\""), "domains[0].state: unknown domain state \"sleeping\"" },
	{ DOM("\"state\":\"online\""), "domains[0].state: unknown domain state \"online\"" },
	{ DOM("\"state\":\"Running\""), "domains[0].state: unknown domain state \"Running\"" },
	{ DOM("\"host\":\"h 1\""), "domains[0].host: \"h 1\" is not a valid name" },
	{ DOM("\"host\":null"), "domains[0].host: expected a string" },
	{ DOM("\"target\":\"../x\""), "domains[0].target: \"../x\" is not a valid name" },
	{ DOM("\"incarnation\":-1"), "domains[0].incarnation: expected an integer " U64 },
	{ DOM("\"incarnation\":6"), "domains[0].incarnation: 6 is above last_incarnation 5" },
	{ DOM("\"start_attempts\":-3"), "domains[0].start_attempts: expected an integer 0..4294967295" },
	{ DOM("\"reason\":\"" X80 X80 "\""), "domains[0].reason: longer than 159 bytes" },
	{ DOM("\"reason\":[]"), "domains[0].reason: expected a string" },
	{ DOC("", DOM1 "," DOM1), "domains[1].name: duplicate domain name \"d1\" (also domains[0])" },
	{ DOC("", DOM1 ",{\"name\":\"d2\",\"definition\":\"\",\"memory_mib\":1,\"vcpus\":1}," DOM1),
	  "domains[2].name: duplicate domain name \"d1\" (also domains[0])" },
	/* fence history */
	{ TOP(",\"hosts\":[],\"domains\":[],\"fence_history\":{}"), "fence_history: expected an array" },
	{ DOCF("\"h1\""), "fence_history[0]: expected an object" },
	{ DOCF("{\"time_ns\":1,\"ok\":true}"), "fence_history[0].host: missing" },
	{ DOCF("{\"host\":\"h1\",\"ok\":true}"), "fence_history[0].time_ns: missing" },
	{ DOCF("{\"host\":\"h1\",\"time_ns\":1}"), "fence_history[0].ok: missing" },
	{ DOCF("{\"host\":\"h1\",\"time_ns\":-1,\"ok\":true}"),
	  "fence_history[0].time_ns: expected an integer " U64 },
	{ DOCF("{\"host\":\"h_1!\",\"time_ns\":1,\"ok\":true}"),
	  "fence_history[0].host: \"h_1!\" is not a valid name" },
	{ FENCE(",\"ok\":\"true\""), "duplicate object key" },
	{ FENCE(",\"detail\":\"" X80 X80 "\""), "fence_history[0].detail: longer than 159 bytes" },
	{ FENCE(",\"method\":\"" N64 "\""), "fence_history[0].method: longer than 63 bytes" },
	/* refused by the parser */
	{ "{\"format\":1,\"format\":1}", "duplicate object key" },
	{ "{\"format\":1}x", "end of file expected" },
	{ "", "line 1 column 0: '[' or '{' expected near end of file" },
	{ "null", "'[' or '{' expected" },
	{ "{\"format\":1,\"epoch\":99999999999999999999}", "too big integer" },
	{ "{\"a\":\"\xff\"}", "unable to decode byte 0xff" },
	{ "{\"a\":1,}", "line 1 column 8" },
};
/* clang-format on */

static void test_bad_input(void **unused)
{
	size_t i;

	(void)unused;
	assert_true(HAX_ARRAY_SIZE(bad_cases) >= 25);
	for (i = 0; i < HAX_ARRAY_SIZE(bad_cases); i++)
		expect_invalid(bad_cases[i].json, strlen(bad_cases[i].json), bad_cases[i].want);
}

/* The table's valid neighbours, so that a case fails for the reason it names. */
static void test_good_input(void **unused)
{
	(void)unused;
	expect_valid(DOC(HOST1, DOM1));
	expect_valid(TOP(",\"hosts\":[],\"domains\":[],\"added_in_v1.1\":{\"x\":1}"));
	expect_valid(
	    HOST("\"state\":\"agent-lost\",\"maintenance\":true,\"vcpus_total\":4294967295"));
	expect_valid(DOC("{\"name\":\"h1\",\"nodeid\":2147483647}", ""));
	expect_valid(DOM("\"priority\":-1000,\"host\":\"\",\"target\":\"\",\"incarnation\":5"));
	expect_valid(
	    DOM("\"anti_affinity\":[\"a\",\"b\"],\"prefer\":[\"h1\"],\"reason\":\"" X80 "\""));
	expect_valid(
	    DOMNO("\"name\":\"d1\",\"definition\":\"x\",\"memory_mib\":16777216,\"vcpus\":1024"));
	expect_valid(FENCE(",\"method\":\"a+b level\",\"detail\":\"\""));
	expect_valid(TOP(",\"hosts\":[],\"domains\":[],\"fence_history\":[]"));
}

/* Strings with NUL can be built through the jansson API even though the parser refuses them. */
static void test_nul_in_strings(void **unused)
{
	struct hax_state sentinel, *out = &sentinel;
	struct hax_domain d;
	char err[256];
	json_t *j, *dom;

	(void)unused;
	j = json_loads(DOC(HOST1, DOM1), 0, NULL);
	assert_non_null(j);
	dom = json_array_get(json_object_get(j, "domains"), 0);
	json_object_set_new(dom, "definition", json_stringn("a\0b", 3));
	assert_int_equal(state_from_json(j, &out, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "domains[0].definition: contains a NUL byte");
	assert_int_equal(domain_from_json(dom, &d, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "definition: contains a NUL byte");
	json_object_set_new(dom, "definition", json_string("ok"));
	json_object_set_new(dom, "reason", json_stringn("r\0", 2));
	assert_int_equal(state_from_json(j, &out, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "domains[0].reason: contains a NUL byte");
	json_object_set_new(dom, "reason", json_string(""));
	json_object_set_new(json_array_get(json_object_get(j, "hosts"), 0), "name",
			    json_stringn("h1\0x", 4));
	assert_int_equal(state_from_json(j, &out, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "hosts[0].name: contains a NUL byte");
	assert_ptr_equal(out, &sentinel);
	assert_int_equal(state_from_json(NULL, &out, err, sizeof(err)), -EINVAL);
	json_decref(j);
}

static void test_limits(void **unused)
{
	struct buf b;
	char *def;
	size_t i;

	(void)unused;
	/* A definition of exactly STATE_MAX_DEFINITION bytes is fine; one more is not. */
	def = malloc(STATE_MAX_DEFINITION + 2);
	assert_non_null(def);
	memset(def, 'd', STATE_MAX_DEFINITION + 1);
	def[STATE_MAX_DEFINITION] = '\0';
	b = buf_new();
	buf_add(&b, DOMNO("\"name\":\"d1\",\"definition\":\"%s\",\"memory_mib\":1,\"vcpus\":1"),
		def);
	expect_valid(b.p);
	b.len = 0;
	def[STATE_MAX_DEFINITION] = 'd';
	def[STATE_MAX_DEFINITION + 1] = '\0';
	buf_add(&b, DOMNO("\"name\":\"d1\",\"definition\":\"%s\",\"memory_mib\":1,\"vcpus\":1"),
		def);
	expect_invalid(b.p, b.len, "domains[0].definition: longer than 65536 bytes");
	free(def);

	/* STATE_MAX_HOSTS hosts are fine, one more is refused. */
	for (size_t n = STATE_MAX_HOSTS; n <= STATE_MAX_HOSTS + 1; n++) {
		b.len = 0;
		buf_add(&b, "{\"format\":1,\"epoch\":1,\"seq\":1,\"cluster\":\"c\","
			    "\"last_incarnation\":0,\"domains\":[],\"hosts\":[");
		for (i = 0; i < n; i++)
			buf_add(&b, "%s{\"name\":\"h%zu\",\"nodeid\":%zu}", i ? "," : "", i, i + 1);
		buf_add(&b, "]}");
		if (n == STATE_MAX_HOSTS)
			expect_valid(b.p);
		else
			expect_invalid(b.p, b.len, "hosts: too many entries (65, at most 64)");
	}

	/* The same for fence records. */
	for (size_t n = STATE_MAX_FENCE_HISTORY; n <= STATE_MAX_FENCE_HISTORY + 1; n++) {
		b.len = 0;
		buf_add(&b,
			"{\"format\":1,\"epoch\":1,\"seq\":1,\"cluster\":\"c\","
			"\"last_incarnation\":0,\"hosts\":[],\"domains\":[],\"fence_history\":[");
		for (i = 0; i < n; i++)
			buf_add(&b, "%s{\"host\":\"h1\",\"time_ns\":%zu,\"ok\":false}",
				i ? "," : "", i);
		buf_add(&b, "]}");
		if (n == STATE_MAX_FENCE_HISTORY)
			expect_valid(b.p);
		else
			expect_invalid(b.p, b.len,
				       "fence_history: too many entries (65, at most 64)");
	}
	free(b.p);
}

static void build_domains(struct buf *b, size_t n, size_t dup_of)
{
	size_t i;

	b->len = 0;
	buf_add(b, "{\"format\":1,\"epoch\":1,\"seq\":1,\"cluster\":\"c\","
		   "\"last_incarnation\":0,\"hosts\":[],\"domains\":[");
	for (i = 0; i < n; i++)
		buf_add(b,
			"%s{\"name\":\"vm%zu\",\"definition\":\"\",\"memory_mib\":1,\"vcpus\":1}",
			i ? "," : "", i == n - 1 && dup_of < n ? dup_of : i);
	buf_add(b, "]}");
}

static void test_many_domains(void **unused)
{
	struct buf b = buf_new();

	(void)unused;
	build_domains(&b, STATE_MAX_DOMAINS, SIZE_MAX);
	expect_valid(b.p);
	build_domains(&b, STATE_MAX_DOMAINS, 17);
	expect_invalid(b.p, b.len,
		       "domains[2047].name: duplicate domain name \"vm17\" (also domains[17])");
	build_domains(&b, STATE_MAX_DOMAINS + 1, SIZE_MAX);
	expect_invalid(b.p, b.len, "domains: too many entries (2049, at most 2048)");
	free(b.p);
}

static void test_err_buffer(void **unused)
{
	struct hax_state *out = NULL;
	char small[12];
	const char *bad = DOM("\"priority\":1001");

	(void)unused;
	memset(small, 'z', sizeof(small));
	assert_int_equal(state_from_string(bad, strlen(bad), &out, small, sizeof(small)), -EINVAL);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_int_equal(state_from_string(bad, strlen(bad), &out, NULL, 0), -EINVAL);
	assert_int_equal(state_from_string(NULL, 0, &out, small, sizeof(small)), -EINVAL);
	assert_null(out);
}

/* ---- truncation, size, fuzz -------------------------------------------------------- */

static void test_truncated(void **unused)
{
	char *text = state_to_string(&lit);
	size_t len = strlen(text), i;
	struct hax_state sentinel, *out;
	char err[256];

	(void)unused;
	for (i = 0; i < len; i++) {
		out = &sentinel;
		err[0] = '\0';
		assert_int_equal(parse_exact(text, i, &out, err, sizeof(err)), -EINVAL);
		assert_ptr_equal(out, &sentinel);
		assert_true(err[0] != '\0');
	}
	out = NULL;
	assert_int_equal(parse_exact(text, len, &out, err, sizeof(err)), 0);
	state_free(out);
	free(text);
}

static void test_oversized(void **unused)
{
	size_t len = STATE_MAX_JSON_BYTES + 1;
	char *big = malloc(len);
	struct hax_state *out = NULL;
	char err[256] = "";

	(void)unused;
	assert_non_null(big);
	memset(big, ' ', len);
	memcpy(big, "{}", 2);
	assert_int_equal(state_from_string(big, len, &out, err, sizeof(err)), -E2BIG);
	assert_non_null(strstr(err, "more than the limit"));
	assert_null(out);
	/* At the limit the text is parsed, and refused for what it says. */
	assert_int_equal(state_from_string(big, len - 1, &out, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "format: missing");
	free(big);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Whatever the decoder accepts must encode and decode back to the same text. */
static void check_fuzz_input(const char *p, size_t len)
{
	struct hax_state *out = NULL, *again = NULL;
	char err[256];
	char *t1, *t2;
	int r = parse_exact(p, len, &out, err, sizeof(err));

	assert_true(r == 0 || r == -EINVAL);
	if (r < 0) {
		assert_null(out);
		return;
	}
	t1 = state_to_string(out);
	assert_int_equal(state_from_string(t1, strlen(t1), &again, err, sizeof(err)), 0);
	t2 = state_to_string(again);
	assert_string_equal(t1, t2);
	free(t1);
	free(t2);
	state_free(out);
	state_free(again);
}

static void test_fuzz(void **unused)
{
	static const char alphabet[] = "{}[]\":,0123456789-.eE truefalsnul\\u\"name\"h1";
	char *base = state_to_string(&lit);
	size_t blen = strlen(base), len, i, k;
	char buf[4096];
	int iter;

	(void)unused;
	for (iter = 0; iter < 3000; iter++) {
		/* Random bytes, half of them from JSON's own alphabet. */
		len = rng() % 300;
		for (i = 0; i < len; i++)
			buf[i] =
			    (rng() & 1) ? (char)rng() : alphabet[rng() % (sizeof(alphabet) - 1)];
		check_fuzz_input(buf, len);
	}
	assert_true(blen < sizeof(buf));
	for (iter = 0; iter < 3000; iter++) {
		/* The valid encoding with a few bytes replaced: reaches the validator. */
		memcpy(buf, base, blen);
		for (k = 0; k < 1 + rng() % 3; k++)
			buf[rng() % blen] =
			    (rng() & 1) ? (char)rng() : alphabet[rng() % (sizeof(alphabet) - 1)];
		check_fuzz_input(buf, blen);
	}
	free(base);
}

/* ---- persistence ------------------------------------------------------------------- */

static char *path_in(const char *dir, const char *file)
{
	char *p;

	assert_true(asprintf(&p, "%s/%s", dir, file) > 0);
	return p;
}

static bool exists(const char *dir, const char *file)
{
	char *p = path_in(dir, file);
	bool r = access(p, F_OK) == 0;

	free(p);
	return r;
}

static void write_file(const char *dir, const char *file, const char *text)
{
	char *p = path_in(dir, file);
	FILE *f = fopen(p, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	free(p);
}

static void remove_in(const char *dir, const char *file)
{
	char *p = path_in(dir, file);

	unlink(p);
	free(p);
}

static void test_save_load(void **unused)
{
	char dir[] = "/tmp/hax-state-test.XXXXXX";
	struct hax_state *s = NULL, *c;
	char err[512] = "";
	char *text, *p;
	FILE *f;
	char file[8192];
	size_t n;

	(void)unused;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(state_load(dir, &s, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "state.json"));
	assert_null(s);

	assert_int_equal(state_save(&lit, dir), 0);
	assert_false(exists(dir, ".state.json.tmp"));
	assert_int_equal(state_load(dir, &s, err, sizeof(err)), 0);
	assert_state_equal(&lit, s);

	/* The file is the compact encoding plus a newline. */
	p = path_in(dir, "state.json");
	f = fopen(p, "r");
	assert_non_null(f);
	n = fread(file, 1, sizeof(file) - 1, f);
	fclose(f);
	file[n] = '\0';
	text = state_to_string(&lit);
	assert_int_equal(n, strlen(text) + 1);
	assert_memory_equal(file, text, n - 1);
	assert_int_equal(file[n - 1], '\n');
	free(text);
	free(p);

	/* A second save replaces the first. */
	c = state_clone(s);
	c->seq++;
	assert_int_equal(state_remove_domain(c, "db"), 0);
	assert_int_equal(state_save(c, dir), 0);
	state_free(s);
	s = NULL;
	assert_int_equal(state_load(dir, &s, err, sizeof(err)), 0);
	assert_state_equal(c, s);
	state_free(c);
	state_free(s);
	remove_in(dir, "state.json");
	assert_int_equal(rmdir(dir), 0);
}

static void test_load_corrupt(void **unused)
{
	char dir[] = "/tmp/hax-state-test.XXXXXX";
	struct hax_state sentinel, *s = &sentinel;
	char err[512] = "";
	char *p;
	int fd;

	(void)unused;
	assert_non_null(mkdtemp(dir));
	write_file(dir, "state.json", "{\"format\":1,\"epoch\":");
	assert_int_equal(state_load(dir, &s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "/state.json: line 1 column"));

	write_file(dir, "state.json", DOM("\"vcpus\":2"));
	assert_int_equal(state_load(dir, &s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "duplicate object key"));

	write_file(dir, "state.json", DOM("\"priority\":5000"));
	assert_int_equal(state_load(dir, &s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "/state.json: domains[0].priority: expected an integer"));

	write_file(dir, "state.json", "");
	assert_int_equal(state_load(dir, &s, err, sizeof(err)), -EINVAL);

	/* Too big to be a state: refused before it is read. */
	p = path_in(dir, "state.json");
	fd = open(p, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, STATE_MAX_JSON_BYTES + 1), 0);
	close(fd);
	assert_int_equal(state_load(dir, &s, err, sizeof(err)), -E2BIG);
	unlink(p);

	/* A directory where the file should be. */
	assert_int_equal(mkdir(p, 0700), 0);
	assert_int_equal(state_load(dir, &s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a regular file"));
	assert_int_equal(rmdir(p), 0);
	free(p);
	assert_ptr_equal(s, &sentinel);
	assert_int_equal(rmdir(dir), 0);
}

static void test_save_failures(void **unused)
{
	char dir[] = "/tmp/hax-state-test.XXXXXX";
	char *missing, *p;
	int r;

	(void)unused;
	assert_non_null(mkdtemp(dir));
	missing = path_in(dir, "missing");
	assert_int_equal(state_save(&lit, missing), -ENOENT);
	assert_false(exists(dir, "missing"));
	free(missing);

	/* /proc refuses new files even to root. */
	assert_true(state_save(&lit, "/proc") < 0);
	assert_false(exists("/proc", ".state.json.tmp"));

	if (geteuid() != 0) {
		assert_int_equal(chmod(dir, 0500), 0);
		assert_int_equal(state_save(&lit, dir), -EACCES);
		assert_int_equal(chmod(dir, 0700), 0);
	} else {
		print_message("running as root: the read-only directory case relies on /proc\n");
	}

	/* rename fails onto a directory: the temp file goes, the directory stays. */
	p = path_in(dir, "state.json");
	assert_int_equal(mkdir(p, 0700), 0);
	r = state_save(&lit, dir);
	assert_true(r == -EISDIR || r == -EEXIST || r == -ENOTEMPTY);
	assert_false(exists(dir, ".state.json.tmp"));
	assert_int_equal(rmdir(p), 0);
	free(p);

	assert_int_equal(state_save(&lit, dir), 0);
	remove_in(dir, "state.json");
	assert_int_equal(state_save(NULL, dir), -EINVAL);
	assert_int_equal(state_save(&lit, NULL), -EINVAL);
	assert_int_equal(rmdir(dir), 0);
}

/* A write that fails half way (here: the file size limit) must leave the old state. */
static void test_save_write_failure(void **unused)
{
	char dir[] = "/tmp/hax-state-test.XXXXXX";
	struct hax_state *s = NULL, *c;
	struct rlimit old, small;
	char err[512] = "";
	void (*old_handler)(int);

	(void)unused;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(state_save(&lit, dir), 0);
	c = state_clone(&lit);
	c->seq = 1000;

	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	small = old;
	small.rlim_cur = 100;
	old_handler = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	assert_int_equal(state_save(c, dir), -EFBIG);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, old_handler);

	assert_false(exists(dir, ".state.json.tmp"));
	assert_int_equal(state_load(dir, &s, err, sizeof(err)), 0);
	assert_state_equal(&lit, s);
	state_free(s);

	/* A stale temp file from a crash is simply overwritten. */
	write_file(dir, ".state.json.tmp", "garbage");
	assert_int_equal(state_save(c, dir), 0);
	assert_false(exists(dir, ".state.json.tmp"));
	state_free(c);
	remove_in(dir, "state.json");
	assert_int_equal(rmdir(dir), 0);
}

/* A state whose encoding state_load would refuse is not written at all. */
static void test_save_too_big(void **unused)
{
	char dir[] = "/tmp/hax-state-test.XXXXXX";
	struct hax_state *s = state_new("big");
	struct hax_domain d = {.memory_mib = 1, .vcpus = 1, .enabled = true};
	char err[256] = "";
	size_t i;

	(void)unused;
	assert_non_null(mkdtemp(dir));
	d.definition = malloc(STATE_MAX_DEFINITION + 1);
	assert_non_null(d.definition);
	memset(d.definition, 'x', STATE_MAX_DEFINITION);
	d.definition[STATE_MAX_DEFINITION] = '\0';
	/* Past what state_add_domain accepts (test_size_budget): built by hand, so that
	 * state_save's own guard is what is tested. */
	s->domains = calloc(STATE_MAX_JSON_BYTES / STATE_MAX_DEFINITION + 1, sizeof(d));
	assert_non_null(s->domains);
	for (i = 0; i < STATE_MAX_JSON_BYTES / STATE_MAX_DEFINITION + 1; i++) {
		snprintf(d.name, sizeof(d.name), "vm%zu", i);
		s->domains[i] = d;
		s->domains[i].definition = strdup(d.definition);
		s->ndomains++;
	}
	(void)err;
	free(d.definition);
	assert_int_equal(state_save(s, dir), -E2BIG);
	assert_false(exists(dir, "state.json"));
	assert_false(exists(dir, ".state.json.tmp"));
	state_free(s);
	assert_int_equal(rmdir(dir), 0);
}

/* ---- API --------------------------------------------------------------------------- */

static void test_names(void **unused)
{
	enum host_state hs;
	enum dom_state ds;
	int i;

	(void)unused;
	for (i = 0; i < HOST_STATE_COUNT; i++) {
		assert_int_equal(host_state_parse(host_state_name(i), &hs), 0);
		assert_int_equal(hs, i);
	}
	for (i = 0; i < DOM_STATE_COUNT; i++) {
		assert_int_equal(dom_state_parse(dom_state_name(i), &ds), 0);
		assert_int_equal(ds, i);
	}
	assert_string_equal(host_state_name(HOST_AGENT_LOST), "agent-lost");
	assert_string_equal(dom_state_name(DOM_RECOVERING), "recovering");
	assert_string_equal(host_state_name(HOST_STATE_COUNT), "invalid");
	assert_string_equal(dom_state_name((enum dom_state) - 1), "invalid");
	hs = HOST_ONLINE;
	assert_int_equal(host_state_parse("agent_lost", &hs), -EINVAL);
	assert_int_equal(host_state_parse(NULL, &hs), -EINVAL);
	assert_int_equal(hs, HOST_ONLINE);
	assert_int_equal(dom_state_parse("", &ds), -EINVAL);
}

/* Issue 12 item 3: a domain named like xl's migration leftover of another one
 * ("web--incoming" is "web" in state incoming to the xl driver) would never be seen
 * running and would be started again on every tick. Such names are refused wherever a
 * domain enters the state: an added domain (domain_from_json, state_add_domain) and a
 * decoded state (a hello, the state file). The refusal follows xl_split_name exactly. */
static void test_reserved_domain_names(void **unused)
{
	static const char *const names[] = {"web--incoming", "web--migratedaway", "a--incoming",
					    "web-incoming", "web--incomin", "web--incoming2",
					    "web--migrated", "web.incoming", "incoming", "web"};
	char base[HAX_NAME_MAX], err[256], text[512];
	struct hax_state *s = state_new("c"), *out = NULL;
	struct hax_domain d = {.definition = "", .memory_mib = 1, .vcpus = 1, .enabled = true};
	size_t i;

	(void)unused;
	for (i = 0; i < HAX_ARRAY_SIZE(names); i++) {
		bool xl_other = xl_split_name(names[i], base, sizeof(base)) != XL_NAME_PLAIN;
		json_t *j;
		int r;

		assert_true(hax_valid_name(names[i]));
		assert_int_equal(hax_reserved_domain_suffix(names[i]) != NULL, xl_other);
		j = json_pack("{s:s, s:s, s:i, s:i}", "name", names[i], "definition", "",
			      "memory_mib", 1, "vcpus", 1);
		r = domain_from_json(j, &d, err, sizeof(err));
		json_decref(j);
		assert_int_equal(r, xl_other ? -EINVAL : 0);
		if (xl_other)
			assert_non_null(strstr(err, "reserves"));
		else
			domain_clear(&d);
		hax_strlcpy(d.name, names[i], sizeof(d.name));
		d.definition = "";
		assert_int_equal(state_add_domain(s, &d, err, sizeof(err)), xl_other ? -EINVAL : 0);
		snprintf(text, sizeof(text),
			 TOP(",\"hosts\":[],\"domains\":[{\"name\":\"%s\",\"definition\":\"\","
			     "\"memory_mib\":1,\"vcpus\":1}]"),
			 names[i]);
		r = state_from_string(text, strlen(text), &out, err, sizeof(err));
		assert_int_equal(r, xl_other ? -EINVAL : 0);
		if (xl_other)
			assert_non_null(strstr(err, "domains[0].name"));
		state_free(out);
		out = NULL;
	}
	assert_int_equal(s->ndomains, 7);
	state_free(s);
}

/* Issue 12 item 8: any state that state_add_domain accepts, after any change to its
 * domains, with every host and the whole fence history at their longest, fits in
 * STATE_MAX_JSON_BYTES, and a hello carrying it with the largest inventory fits in
 * MSG_MAX_BYTES. Definitions of control characters (six bytes each in JSON) and domains
 * with every tag and preferred host make the worst case; the adds stop with -E2BIG. */
static void fill63(char *dst, char c, size_t i)
{
	memset(dst, c, HAX_NAME_MAX - 1);
	dst[HAX_NAME_MAX - 1] = '\0';
	snprintf(dst + HAX_NAME_MAX - 9, 9, "%08x", (unsigned)(i & 0xffffffffu));
}

static void test_size_budget(void **unused)
{
	struct hax_state *s = state_new("c"), *back = NULL;
	struct hax_domain d = {.memory_mib = 1, .vcpus = 1, .enabled = true, .priority = -1000};
	struct hax_fence_record fr = {.time_ns = UINT64_MAX >> 1};
	char err[256], *text, *big = malloc(STATE_MAX_DEFINITION + 1);
	size_t i, k, nbig = 0, len;
	json_t *inv, *doms, *hello;
	int r;

	(void)unused;
	assert_non_null(big);
	memset(big, '\x01', STATE_MAX_DEFINITION);
	big[STATE_MAX_DEFINITION] = '\0';
	for (i = 0; i < STATE_MAX_HOSTS; i++) {
		struct hax_host *h;
		char name[HAX_NAME_MAX];

		fill63(name, 'h', i);
		assert_int_equal(state_add_host(s, name, (uint32_t)i + 1, &h), 0);
		h->state = HOST_AGENT_LOST;
		h->maintenance = h->evacuating = true;
		h->evacuate_concurrency = 64;
		h->mem_total_mib = h->mem_free_mib = h->since_ns = UINT64_MAX >> 1;
		h->vcpus_total = UINT32_MAX;
	}
	for (i = 0; i < STATE_MAX_FENCE_HISTORY; i++) {
		fill63(fr.host, 'f', i);
		fill63(fr.method, 'm', i);
		memset(fr.detail, '\x01', STATE_REASON_MAX - 1);
		state_add_fence_record(s, &fr);
	}
	d.n_anti = STATE_MAX_TAGS;
	d.n_prefer = STATE_MAX_PREFER;
	for (k = 0; k < STATE_MAX_TAGS; k++)
		fill63(d.anti[k], 't', k);
	for (k = 0; k < STATE_MAX_PREFER; k++)
		fill63(d.prefer[k], 'p', k);
	/* Big definitions first, then small domains, each until the state is full. */
	for (i = 0;; i++) {
		fill63(d.name, 'd', i);
		d.definition = nbig < 8 ? big : "x";
		r = state_add_domain(s, &d, err, sizeof(err));
		if (r < 0 && nbig < 8 && d.definition == big) {
			nbig = 8; /* the big ones no longer fit: go on with small ones */
			continue;
		}
		if (r < 0)
			break;
		nbig += d.definition == big;
	}
	assert_int_equal(r, -E2BIG);
	assert_non_null(strstr(err, "outgrow its limit"));
	assert_true(s->ndomains < STATE_MAX_DOMAINS);
	/* Every changing field of every domain at its longest. */
	for (i = 0; i < s->ndomains; i++) {
		struct hax_domain *x = &s->domains[i];

		x->state = DOM_RECOVERING;
		fill63(x->host, 'H', i);
		fill63(x->target, 'T', i);
		memset(x->reason, '\x01', STATE_REASON_MAX - 1);
		x->incarnation = x->target_incarnation = x->since_ns = INT64_MAX;
		x->start_attempts = UINT32_MAX;
		x->enabled = false;
	}
	s->epoch = s->seq = s->last_incarnation = INT64_MAX;
	text = state_to_string(s);
	assert_non_null(text);
	len = strlen(text);
	fprintf(stderr, "worst state: %zu domains (%zu with 64 KiB definitions), %zu bytes of %u\n",
		s->ndomains, nbig, len, STATE_MAX_JSON_BYTES);
	assert_true(len <= STATE_MAX_JSON_BYTES);
	/* Accepted back (decoding applies the same budget). */
	assert_int_equal(state_from_string(text, len, &back, err, sizeof(err)), 0);
	state_free(back);
	free(text);

	/* The hello: this state and an inventory of STATE_MAX_DOMAINS long entries. */
	doms = json_array();
	for (i = 0; i < STATE_MAX_DOMAINS; i++) {
		char name[HAX_NAME_MAX];

		fill63(name, 'i', i);
		json_array_append_new(doms, json_pack("{s:s, s:s, s:I, s:I, s:I}", "name", name,
						      "state", "migrated", "incarnation",
						      (json_int_t)INT64_MAX, "memory_mib",
						      (json_int_t)INT64_MAX, "vcpus",
						      (json_int_t)INT64_MAX));
	}
	inv = json_pack("{s:s, s:s, s:I, s:o, s:[], s:I, s:I, s:I}", "op", "inventory", "host",
			s->hosts[0].name, "nodeid", (json_int_t)INT32_MAX, "domains", doms, "busy",
			"mem_total_mib",
			(json_int_t)INT64_MAX, "vcpus_total", (json_int_t)INT64_MAX, "gen",
			(json_int_t)INT64_MAX);
	for (i = 0; i < STATE_MAX_DOMAINS; i++)
		json_array_append_new(json_object_get(inv, "busy"),
				      json_incref(json_object_get(json_array_get(doms, i), "name")));
	hello = msg_new(MSG_HELLO);
	json_object_set_new(hello, "view", json_pack("{s:s, s:[]}", "ring", "ffffffffffffffff.ffffffff", "members"));
	for (i = 0; i < 64; i++)
		json_array_append_new(json_object_get(json_object_get(hello, "view"), "members"),
				      json_integer(INT32_MAX));
	json_object_set_new(hello, "version", json_pack("{s:I, s:I}", "epoch", (json_int_t)INT64_MAX,
							"seq", (json_int_t)INT64_MAX));
	json_object_set_new(hello, "state", state_to_json(s));
	json_object_set_new(hello, "inventory", inv);
	text = msg_encode(hello, &len);
	assert_non_null(text);
	fprintf(stderr, "worst hello: %zu bytes of %u\n", len, MSG_MAX_BYTES);
	free(text);
	json_decref(hello);
	state_free(s);
	free(big);
}

static void test_hosts(void **unused)
{
	struct hax_state *s = state_new("c1");
	struct hax_host *h = NULL, *h2 = NULL;
	char name[16];
	int i;

	(void)unused;
	assert_null(state_new("bad name"));
	assert_null(state_new(NULL));
	assert_int_equal(state_add_host(s, "h1", 1, &h), 0);
	assert_string_equal(h->name, "h1");
	assert_int_equal(h->state, HOST_UNKNOWN);
	assert_int_equal(state_add_host(s, "h1", 1, &h2), 0);
	assert_int_equal(s->nhosts, 1);
	assert_int_equal(state_add_host(s, "h2", 1, NULL), -EEXIST);
	assert_int_equal(state_add_host(s, "h1", 7, NULL), -EEXIST);
	assert_int_equal(state_add_host(s, "h 2", 2, NULL), -EINVAL);
	assert_int_equal(state_add_host(s, "h2", 0, NULL), -EINVAL);
	assert_int_equal(state_add_host(s, "h2", 0x80000000u, NULL), -EINVAL);
	for (i = 2; i <= STATE_MAX_HOSTS; i++) {
		snprintf(name, sizeof(name), "h%d", i);
		assert_int_equal(state_add_host(s, name, (uint32_t)i, NULL), 0);
	}
	assert_int_equal(state_add_host(s, "h65", 65, NULL), -E2BIG);
	assert_string_equal(state_host_by_nodeid(s, 40)->name, "h40");
	assert_null(state_host_by_nodeid(s, 99));
	assert_int_equal(state_host(s, "h33")->nodeid, 33);
	assert_null(state_host(s, "h99"));
	assert_null(state_host(NULL, "h1"));
	state_free(s);
	state_free(NULL);
}

static void test_domains(void **unused)
{
	struct hax_state *s = state_new("c1"), *c;
	char def[] = "kernel = 'x'";
	struct hax_domain d = {
	    .name = "a", .definition = def, .memory_mib = 512, .vcpus = 1, .enabled = true};
	char err[256] = "";

	(void)unused;
	assert_int_equal(state_add_domain(s, &d, err, sizeof(err)), 0);
	def[0] = 'K'; /* the state holds its own copy */
	assert_string_equal(state_domain(s, "a")->definition, "kernel = 'x'");
	assert_int_equal(state_add_domain(s, &d, err, sizeof(err)), -EEXIST);
	assert_string_equal(err, "domain \"a\" already exists");
	strcpy(d.name, "b");
	d.definition = NULL; /* stored as "" */
	assert_int_equal(state_add_domain(s, &d, err, sizeof(err)), 0);
	assert_string_equal(state_domain(s, "b")->definition, "");
	strcpy(d.name, "c");
	assert_int_equal(state_add_domain(s, &d, err, sizeof(err)), 0);
	d.vcpus = 0;
	assert_int_equal(state_add_domain(s, &d, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "vcpus: expected an integer 1..1024");

	c = state_clone(s);
	assert_int_equal(state_remove_domain(s, "a"), 0);
	assert_int_equal(state_remove_domain(s, "a"), -ENOENT);
	assert_int_equal(s->ndomains, 2);
	assert_string_equal(s->domains[0].name, "b");
	assert_string_equal(s->domains[1].name, "c");
	assert_null(state_domain(s, "a"));
	/* The clone is independent of the original. */
	assert_int_equal(c->ndomains, 3);
	assert_string_equal(state_domain(c, "a")->definition, "kernel = 'x'");
	assert_int_equal(state_remove_domain(s, "b"), 0);
	assert_int_equal(state_remove_domain(s, "c"), 0);
	assert_int_equal(s->ndomains, 0);
	strcpy(d.name, "d");
	d.vcpus = 1;
	assert_int_equal(state_add_domain(s, &d, err, sizeof(err)), 0);
	state_free(s);
	state_free(c);
	assert_null(state_clone(NULL));
}

static void test_validate(void **unused)
{
	struct hax_domain d = {.name = "v", .definition = NULL, .memory_mib = 1, .vcpus = 1};
	char err[256] = "";
	char *long_def;

	(void)unused;
	assert_int_equal(state_domain_validate(&d, err, sizeof(err)), 0);
	assert_int_equal(state_domain_validate(NULL, err, sizeof(err)), -EINVAL);

	d.n_anti = 2;
	strcpy(d.anti[0], "t");
	strcpy(d.anti[1], "t");
	assert_int_equal(state_domain_validate(&d, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "anti_affinity[1]: duplicate entry \"t\"");
	d.n_anti = STATE_MAX_TAGS + 1;
	assert_int_equal(state_domain_validate(&d, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "anti_affinity: too many entries (17, at most 16)");
	d.n_anti = 0;

	d.n_prefer = 1;
	strcpy(d.prefer[0], "");
	assert_int_equal(state_domain_validate(&d, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "prefer[0]: \"\" is not a valid name"));
	d.n_prefer = 0;

	memset(d.host, 'h', sizeof(d.host)); /* unterminated */
	assert_int_equal(state_domain_validate(&d, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "host: not a valid name"));
	d.host[0] = '\0';

	d.state = DOM_STATE_COUNT;
	assert_int_equal(state_domain_validate(&d, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "state: invalid domain state");
	d.state = DOM_RUNNING;

	d.priority = -1001;
	assert_int_equal(state_domain_validate(&d, err, sizeof(err)), -EINVAL);
	d.priority = 0;
	d.incarnation = UINT64_MAX; /* not representable as a JSON integer */
	assert_int_equal(state_domain_validate(&d, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "incarnation: expected an integer 0..9223372036854775807");
	d.incarnation = 1;

	strcpy(d.reason, "cut \xc3");
	assert_int_equal(state_domain_validate(&d, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "reason: not valid UTF-8");
	d.reason[0] = '\0';

	long_def = malloc(STATE_MAX_DEFINITION + 2);
	memset(long_def, 'x', STATE_MAX_DEFINITION + 1);
	long_def[STATE_MAX_DEFINITION + 1] = '\0';
	d.definition = long_def;
	assert_int_equal(state_domain_validate(&d, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "definition: longer than 65536 bytes");
	long_def[STATE_MAX_DEFINITION] = '\0';
	assert_int_equal(state_domain_validate(&d, err, sizeof(err)), 0);
	free(long_def);
}

/* Fields changed after validation must still encode to JSON that decodes. */
static void test_encode_defensive(void **unused)
{
	struct hax_state *s = state_clone(&lit), *out = NULL;
	char err[256] = "";
	char *text;

	(void)unused;
	strcpy(s->domains[0].reason, "cut mid-character \xe2\x80");
	s->epoch = UINT64_MAX;
	text = state_to_string(s);
	assert_non_null(text);
	assert_int_equal(state_from_string(text, strlen(text), &out, err, sizeof(err)), 0);
	assert_string_equal(out->domains[0].reason, "cut mid-character ??");
	assert_int_equal(out->epoch, INT64_MAX);
	free(text);
	state_free(out);
	state_free(s);
	assert_null(state_to_json(NULL));
	assert_null(state_to_string(NULL));
	assert_null(domain_to_json(NULL));
}

static void test_fence_history(void **unused)
{
	struct hax_state *s = state_new("c1"), *out = NULL;
	struct hax_fence_record r = {.host = "h1", .ok = true, .method = "manual-ack"};
	char err[256] = "";
	char *text;
	int i;

	(void)unused;
	for (i = 0; i < 100; i++) {
		r.time_ns = (uint64_t)i;
		state_add_fence_record(s, &r);
		assert_int_equal(s->nfence,
				 i < STATE_MAX_FENCE_HISTORY ? i + 1 : STATE_MAX_FENCE_HISTORY);
		assert_int_equal(s->fence[s->nfence - 1].time_ns, i);
	}
	assert_int_equal(s->fence[0].time_ns, 100 - STATE_MAX_FENCE_HISTORY);
	for (i = 1; i < STATE_MAX_FENCE_HISTORY; i++)
		assert_int_equal(s->fence[i].time_ns, s->fence[i - 1].time_ns + 1);
	text = state_to_string(s);
	assert_int_equal(state_from_string(text, strlen(text), &out, err, sizeof(err)), 0);
	assert_state_equal(s, out);
	free(text);
	state_free(out);
	state_free(s);
}

static void test_version_cmp(void **unused)
{
	struct hax_state a = {.epoch = 2, .seq = 5}, b = {.epoch = 2, .seq = 5};

	(void)unused;
	assert_int_equal(state_version_cmp(&a, &b), 0);
	b.seq = 6;
	assert_true(state_version_cmp(&a, &b) < 0);
	assert_true(state_version_cmp(&b, &a) > 0);
	a.epoch = 3; /* a newer epoch wins whatever the seq */
	a.seq = 0;
	assert_true(state_version_cmp(&a, &b) > 0);
	assert_true(state_version_cmp(&b, &a) < 0);
	b.epoch = UINT64_MAX;
	assert_true(state_version_cmp(&a, &b) < 0);
	assert_true(state_version_cmp(NULL, &a) < 0);
	assert_true(state_version_cmp(&a, NULL) > 0);
	assert_int_equal(state_version_cmp(NULL, NULL), 0);
}

int main(void)
{
	/* clang-format off */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_domain_json),
		cmocka_unit_test(test_domain_json_failure),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_good_input),
		cmocka_unit_test(test_nul_in_strings),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_many_domains),
		cmocka_unit_test(test_err_buffer),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_oversized),
		cmocka_unit_test(test_fuzz),
		cmocka_unit_test(test_save_load),
		cmocka_unit_test(test_load_corrupt),
		cmocka_unit_test(test_save_failures),
		cmocka_unit_test(test_save_write_failure),
		cmocka_unit_test(test_save_too_big),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_reserved_domain_names),
		cmocka_unit_test(test_size_budget),
		cmocka_unit_test(test_hosts),
		cmocka_unit_test(test_domains),
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_encode_defensive),
		cmocka_unit_test(test_fence_history),
		cmocka_unit_test(test_version_cmp),
	};
	/* clang-format on */

	return cmocka_run_group_tests_name("state", tests, NULL, NULL);
}
