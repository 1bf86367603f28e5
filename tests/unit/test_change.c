/*
 * Unit tests of state changes (haxd/change.c): every op applies and bumps seq by exactly
 * one; every rejected change is -EINVAL with a message and leaves the state byte for byte
 * as it was (compared through state_to_string), seq included.
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

#include "haxd/change.h"

/* ---- helpers ----------------------------------------------------------------------- */

static json_t *parse(const char *text)
{
	json_error_t jerr;
	json_t *j = json_loads(text, JSON_DECODE_ANY, &jerr);

	if (!j)
		fail_msg("bad JSON in the test itself: %s: %s", text, jerr.text);
	return j;
}

static void apply_ok_json(struct hax_state *s, json_t *c)
{
	char err[256] = "";
	uint64_t seq = s->seq;
	int r = change_apply(s, c, err, sizeof(err));

	if (r != 0) {
		char *text = json_dumps(c, JSON_COMPACT);

		fail_msg("change %s: %d (%s)", text, r, err);
	}
	assert_int_equal(s->seq, seq + 1);
}

static void apply_ok(struct hax_state *s, const char *text)
{
	json_t *c = parse(text);

	apply_ok_json(s, c);
	json_decref(c);
}

/* Rejected with -EINVAL and a message naming want (if any); the state is untouched. */
static void apply_bad_json(struct hax_state *s, const json_t *c, const char *want,
			   const char *label)
{
	char *before = state_to_string(s), *after;
	char err[256];
	uint64_t seq = s->seq;
	int r;

	memset(err, 0, sizeof(err));
	r = change_apply(s, c, err, sizeof(err));
	if (r != -EINVAL)
		fail_msg("%s: expected -EINVAL, got %d", label, r);
	if (err[0] == '\0')
		fail_msg("%s: rejected without a message", label);
	if (want && !strstr(err, want))
		fail_msg("%s: message \"%s\" does not contain \"%s\"", label, err, want);
	assert_int_equal(s->seq, seq);
	after = state_to_string(s);
	if (strcmp(before, after) != 0)
		fail_msg("%s: state changed by a rejected change:\n%s\n%s", label, before, after);
	free(before);
	free(after);
}

static void apply_bad(struct hax_state *s, const char *text, const char *want)
{
	json_t *c = parse(text);

	apply_bad_json(s, c, want, text);
	json_decref(c);
}

static const char web_domain[] =
    "{\"name\":\"web\",\"definition\":\"disk = /tmp/web\\n\",\"memory_mib\":512,"
    "\"vcpus\":2,\"priority\":10,\"anti_affinity\":[\"front\"],\"prefer\":[\"h2\",\"h1\"]}";

/* Two hosts, two domains, epoch 1; seq counts the changes that built it. */
static struct hax_state *fixture(void)
{
	struct hax_state *s = state_new("lab");
	char text[1024];

	assert_non_null(s);
	apply_ok(s, "{\"op\":\"epoch\",\"epoch\":1}");
	apply_ok(s, "{\"op\":\"host-set\",\"name\":\"h1\",\"nodeid\":1,\"state\":\"online\","
		    "\"mem_total_mib\":8192,\"vcpus_total\":8}");
	apply_ok(s, "{\"op\":\"host-set\",\"name\":\"h2\",\"nodeid\":2}");
	snprintf(text, sizeof(text), "{\"op\":\"domain-add\",\"domain\":%s}", web_domain);
	apply_ok(s, text);
	apply_ok(s, "{\"op\":\"domain-add\",\"domain\":{\"name\":\"db\",\"definition\":\"\","
		    "\"memory_mib\":1024,\"vcpus\":1}}");
	apply_ok(s, "{\"op\":\"domain-set\",\"name\":\"db\",\"state\":\"running\","
		    "\"host\":\"h1\",\"incarnation\":4}");
	assert_int_equal(s->seq, 6);
	return s;
}

static int setup(void **st)
{
	*st = fixture();
	return 0;
}

static int teardown(void **st)
{
	state_free(*st);
	return 0;
}

/* ---- each op ----------------------------------------------------------------------- */

static void test_epoch(void **st)
{
	struct hax_state *s = *st;

	apply_ok(s, "{\"op\":\"epoch\",\"epoch\":5}");
	assert_int_equal(s->epoch, 5);
	apply_bad(s, "{\"op\":\"epoch\",\"epoch\":5}", "not newer");
	apply_bad(s, "{\"op\":\"epoch\",\"epoch\":4}", "not newer");
	apply_bad(s, "{\"op\":\"epoch\",\"epoch\":0}", "not newer");
	apply_ok(s, "{\"op\":\"epoch\",\"epoch\":6,\"now_ns\":99}");
	assert_int_equal(s->epoch, 6);
	assert_int_equal(s->seq, 8);
}

/* The doubt (state.h): members of the last term that are not members of the new one
 * may hold changes this history lacks; they leave it by coming back or being fenced. */
static void test_epoch_members_and_doubt(void **st)
{
	struct hax_state *s = *st;

	apply_ok(s, "{\"op\":\"epoch\",\"epoch\":5,\"members\":[\"h1\",\"h2\",\"h3\"]}");
	assert_int_equal(s->nepoch_members, 3);
	assert_int_equal(s->ndoubt, 0);
	/* h3 left with a split: in doubt. */
	apply_ok(s, "{\"op\":\"epoch\",\"epoch\":6,\"members\":[\"h1\",\"h2\"]}");
	assert_int_equal(s->ndoubt, 1);
	assert_string_equal(s->doubt[0], "h3");
	/* Another term without h3 and now without h2 either: both stay in doubt. */
	apply_ok(s, "{\"op\":\"epoch\",\"epoch\":7,\"members\":[\"h1\"]}");
	assert_int_equal(s->ndoubt, 2);
	/* h2 back as a member: out of doubt; h3 fenced: out of doubt. */
	apply_ok(s, "{\"op\":\"epoch\",\"epoch\":8,\"members\":[\"h1\",\"h2\"]}");
	assert_int_equal(s->ndoubt, 1);
	assert_string_equal(s->doubt[0], "h3");
	apply_ok(s, "{\"op\":\"host-set\",\"name\":\"h3\",\"nodeid\":3,\"state\":\"fenced\"}");
	assert_int_equal(s->ndoubt, 0);
	/* An epoch without members (an older leader) leaves both lists alone. */
	apply_ok(s, "{\"op\":\"epoch\",\"epoch\":9}");
	assert_int_equal(s->nepoch_members, 2);
	apply_bad(s, "{\"op\":\"epoch\",\"epoch\":10,\"members\":\"h1\"}", "members");
	apply_bad(s, "{\"op\":\"epoch\",\"epoch\":10,\"members\":[\"-x\"]}", "member name");
	apply_bad(s, "{\"op\":\"epoch\",\"epoch\":10,\"members\":[7]}", "member name");
}

/* restarts counts new starts of a domain that ran before; a migration does not count. */
static void test_restarts(void **st)
{
	struct hax_state *s = *st;
	struct hax_domain *d = state_domain(s, "db");

	assert_int_equal(d->restarts, 0); /* its first start (incarnation 4) */
	apply_ok(s, "{\"op\":\"domain-set\",\"name\":\"db\",\"state\":\"starting\","
		    "\"host\":\"h2\",\"incarnation\":7}");
	assert_int_equal(state_domain(s, "db")->restarts, 1);
	apply_ok(s, "{\"op\":\"domain-set\",\"name\":\"db\",\"state\":\"running\","
		    "\"host\":\"h1\",\"incarnation\":9}"); /* a stop-and-copy target */
	assert_int_equal(state_domain(s, "db")->restarts, 1);
	apply_ok(s, "{\"op\":\"domain-set\",\"name\":\"db\",\"state\":\"starting\","
		    "\"incarnation\":9}"); /* the same incarnation: no new start */
	assert_int_equal(state_domain(s, "db")->restarts, 1);
}

static void test_host_set_adds_and_updates(void **st)
{
	struct hax_state *s = *st;
	struct hax_host *h;

	apply_ok(s, "{\"op\":\"host-set\",\"name\":\"h3\",\"nodeid\":3,\"state\":\"online\","
		    "\"maintenance\":true,\"mem_total_mib\":4096,\"mem_free_mib\":3000,"
		    "\"vcpus_total\":16,\"now_ns\":1234}");
	assert_int_equal(s->nhosts, 3);
	h = state_host(s, "h3");
	assert_non_null(h);
	assert_int_equal(h->nodeid, 3);
	assert_int_equal(h->state, HOST_ONLINE);
	assert_true(h->maintenance);
	assert_int_equal(h->mem_total_mib, 4096);
	assert_int_equal(h->mem_free_mib, 3000);
	assert_int_equal(h->vcpus_total, 16);
	assert_int_equal(h->since_ns, 1234);

	/* Absent members are left as they are; the same state does not restamp. */
	apply_ok(s, "{\"op\":\"host-set\",\"name\":\"h3\",\"nodeid\":3,\"state\":\"online\","
		    "\"maintenance\":false,\"now_ns\":5678}");
	h = state_host(s, "h3");
	assert_false(h->maintenance);
	assert_int_equal(h->mem_total_mib, 4096);
	assert_int_equal(h->vcpus_total, 16);
	assert_int_equal(h->since_ns, 1234);

	apply_ok(s, "{\"op\":\"host-set\",\"name\":\"h3\",\"nodeid\":3,\"state\":\"fenced\","
		    "\"now_ns\":9999}");
	h = state_host(s, "h3");
	assert_int_equal(h->state, HOST_FENCED);
	assert_int_equal(h->since_ns, 9999);
	assert_int_equal(s->nhosts, 3);
	assert_int_equal(s->seq, 9);

	/* The result is a state the decoder accepts. */
	{
		struct hax_state *copy = NULL;
		char *text = state_to_string(s), err[256] = "";

		assert_int_equal(state_from_string(text, strlen(text), &copy, err, sizeof(err)), 0);
		state_free(copy);
		free(text);
	}
}

static void test_host_set_validates(void **st)
{
	struct hax_state *s = *st;
	char text[128];
	int i;

	apply_bad(s, "{\"op\":\"host-set\",\"name\":\"h1\",\"nodeid\":7}", "h1");
	apply_bad(s, "{\"op\":\"host-set\",\"name\":\"h9\",\"nodeid\":2}", "h9");
	apply_bad(s, "{\"op\":\"host-set\",\"name\":\"bad name\",\"nodeid\":9}", NULL);
	apply_bad(s, "{\"op\":\"host-set\",\"name\":\"h9\",\"nodeid\":9,\"state\":\"dead\"}",
		  "bad state");
	apply_bad(s, "{\"op\":\"host-set\",\"name\":\"h9\",\"nodeid\":9,\"vcpus_total\":-1}",
		  "bad member type");
	apply_bad(s, "{\"op\":\"host-set\",\"name\":\"h9\",\"nodeid\":2147483648}", NULL);
	assert_null(state_host(s, "h9"));

	/* Up to STATE_MAX_HOSTS, then refused. */
	for (i = (int)s->nhosts; i < STATE_MAX_HOSTS; i++) {
		snprintf(text, sizeof(text), "{\"op\":\"host-set\",\"name\":\"x%d\",\"nodeid\":%d}",
			 i, 100 + i);
		apply_ok(s, text);
	}
	assert_int_equal(s->nhosts, STATE_MAX_HOSTS);
	apply_bad(s, "{\"op\":\"host-set\",\"name\":\"one-too-many\",\"nodeid\":99999}",
		  "cannot add host");
	/* An existing host may still be updated. */
	apply_ok(s, "{\"op\":\"host-set\",\"name\":\"h2\",\"nodeid\":2,\"maintenance\":true}");
	assert_true(state_host(s, "h2")->maintenance);
}

static void test_domain_add(void **st)
{
	struct hax_state *s = *st;
	struct hax_domain d = {
	    .name = "mail",
	    .definition = "disk = /tmp/mail\n",
	    .memory_mib = 2048,
	    .vcpus = 4,
	    .priority = -3,
	    .n_anti = 1,
	    .anti = {"mx"},
	    .enabled = true,
	    .state = DOM_STOPPED,
	};
	const struct hax_domain *got;
	json_t *c = json_pack("{s:s, s:o}", "op", "domain-add", "domain", domain_to_json(&d));
	char text[1024];

	apply_ok_json(s, c);
	got = state_domain(s, "mail");
	assert_non_null(got);
	assert_int_equal(s->ndomains, 3);
	assert_string_equal(got->definition, "disk = /tmp/mail\n");
	assert_ptr_not_equal(got->definition, d.definition);
	assert_int_equal(got->memory_mib, 2048);
	assert_int_equal(got->vcpus, 4);
	assert_int_equal(got->priority, -3);
	assert_int_equal(got->n_anti, 1);
	assert_string_equal(got->anti[0], "mx");

	/* The same domain again, or another one of the same name: rejected. */
	apply_bad_json(s, c, "already exists", "duplicate domain-add");
	json_decref(c);
	snprintf(text, sizeof(text), "{\"op\":\"domain-add\",\"domain\":%s}", web_domain);
	apply_bad(s, text, "already exists");
	assert_int_equal(s->ndomains, 3);
	assert_int_equal(state_domain(s, "web")->memory_mib, 512);
}

static void test_domain_add_limit(void **st)
{
	struct hax_state *s = *st;
	char text[256];
	size_t i;

	for (i = s->ndomains; i < STATE_MAX_DOMAINS; i++) {
		snprintf(text, sizeof(text),
			 "{\"op\":\"domain-add\",\"domain\":{\"name\":"
			 "\"d%zu\",\"definition\":\"\",\"memory_mib\":1,\"vcpus\":1}}",
			 i);
		apply_ok(s, text);
	}
	apply_bad(s,
		  "{\"op\":\"domain-add\",\"domain\":{\"name\":\"last\",\"definition\":"
		  "\"\",\"memory_mib\":1,\"vcpus\":1}}",
		  "too many");
	assert_int_equal(s->ndomains, STATE_MAX_DOMAINS);
}

static void test_domain_remove(void **st)
{
	struct hax_state *s = *st;

	apply_ok(s, "{\"op\":\"domain-remove\",\"name\":\"web\"}");
	assert_null(state_domain(s, "web"));
	assert_non_null(state_domain(s, "db"));
	assert_int_equal(s->ndomains, 1);
	apply_bad(s, "{\"op\":\"domain-remove\",\"name\":\"web\"}", "no domain web");
}

static void test_domain_set(void **st)
{
	struct hax_state *s = *st;
	struct hax_domain *d;

	apply_ok(s, "{\"op\":\"domain-set\",\"name\":\"web\",\"state\":\"starting\","
		    "\"host\":\"h2\",\"incarnation\":5,\"start_attempts\":2,"
		    "\"reason\":\"failover from h1\",\"enabled\":false,\"now_ns\":77}");
	d = state_domain(s, "web");
	assert_int_equal(d->state, DOM_STARTING);
	assert_string_equal(d->host, "h2");
	assert_int_equal(d->incarnation, 5);
	assert_int_equal(d->start_attempts, 2);
	assert_string_equal(d->reason, "failover from h1");
	assert_false(d->enabled);
	assert_int_equal(d->since_ns, 77);
	assert_int_equal(s->last_incarnation, 5);

	/* Same state: no new stamp. Target set, reason and host cleared. */
	apply_ok(s, "{\"op\":\"domain-set\",\"name\":\"web\",\"state\":\"starting\","
		    "\"target\":\"h1\",\"reason\":\"\",\"now_ns\":88}");
	d = state_domain(s, "web");
	assert_int_equal(d->since_ns, 77);
	assert_string_equal(d->target, "h1");
	assert_string_equal(d->reason, "");
	apply_ok(s, "{\"op\":\"domain-set\",\"name\":\"web\",\"host\":\"\",\"target\":\"\"}");
	d = state_domain(s, "web");
	assert_string_equal(d->host, "");
	assert_string_equal(d->target, "");
	assert_int_equal(d->incarnation, 5);
	assert_int_equal(s->seq, 9);
}

static void test_incarnation_never_backwards(void **st)
{
	struct hax_state *s = *st;

	/* db is at incarnation 4. */
	apply_bad(s, "{\"op\":\"domain-set\",\"name\":\"db\",\"incarnation\":3}", "incarnation");
	apply_bad(s, "{\"op\":\"domain-set\",\"name\":\"db\",\"incarnation\":0}", "incarnation");
	/* A live migration keeps its incarnation: equal is fine. */
	apply_ok(s, "{\"op\":\"domain-set\",\"name\":\"db\",\"incarnation\":4}");
	assert_int_equal(s->last_incarnation, 4);
	apply_ok(s, "{\"op\":\"domain-set\",\"name\":\"db\",\"incarnation\":40}");
	assert_int_equal(state_domain(s, "db")->incarnation, 40);
	assert_int_equal(s->last_incarnation, 40);
	/* Another domain's smaller incarnation does not lower the cluster's highest. */
	apply_ok(s, "{\"op\":\"domain-set\",\"name\":\"web\",\"incarnation\":7}");
	assert_int_equal(state_domain(s, "web")->incarnation, 7);
	assert_int_equal(s->last_incarnation, 40);
	/* A rejected set of several members applies none of them. */
	apply_bad(s,
		  "{\"op\":\"domain-set\",\"name\":\"web\",\"state\":\"running\","
		  "\"host\":\"h1\",\"incarnation\":6}",
		  "incarnation");
	assert_int_equal(state_domain(s, "web")->state, DOM_STOPPED);
}

static void test_fence_record(void **st)
{
	struct hax_state *s = *st;
	int i;

	apply_ok(s, "{\"op\":\"fence-record\",\"record\":{\"host\":\"h2\",\"time_ns\":100,"
		    "\"ok\":false,\"method\":\"ipmi\",\"detail\":\"timeout\"}}");
	apply_ok(s, "{\"op\":\"fence-record\",\"record\":{\"host\":\"h2\",\"time_ns\":200,"
		    "\"ok\":true,\"method\":\"ipmi+scsi\"}}");
	assert_int_equal(s->nfence, 2);
	assert_string_equal(s->fence[0].host, "h2");
	assert_int_equal(s->fence[0].time_ns, 100);
	assert_false(s->fence[0].ok);
	assert_string_equal(s->fence[0].method, "ipmi");
	assert_string_equal(s->fence[0].detail, "timeout");
	assert_int_equal(s->fence[1].time_ns, 200);
	assert_true(s->fence[1].ok);
	assert_string_equal(s->fence[1].method, "ipmi+scsi");
	assert_string_equal(s->fence[1].detail, "");

	/* The history is bounded; each record is still one change. */
	for (i = 0; i < STATE_MAX_FENCE_HISTORY; i++)
		apply_ok(s, "{\"op\":\"fence-record\",\"record\":{\"host\":\"h1\","
			    "\"time_ns\":300,\"ok\":true,\"method\":\"manual-ack\"}}");
	assert_int_equal(s->nfence, STATE_MAX_FENCE_HISTORY);
	assert_string_equal(s->fence[0].host, "h1");
	assert_int_equal(s->seq, 6 + 2 + STATE_MAX_FENCE_HISTORY);
}

static void test_builders(void **st)
{
	struct hax_state *s = *st;
	json_t *c = change_host_set("h5", 5);

	json_object_set_new(c, "vcpus_total", json_integer(12));
	apply_ok_json(s, c);
	json_decref(c);
	assert_int_equal(state_host(s, "h5")->vcpus_total, 12);

	c = change_domain_set("web");
	json_object_set_new(c, "state", json_string("recovering"));
	json_object_set_new(c, "reason", json_string("h1 fenced"));
	apply_ok_json(s, c);
	json_decref(c);
	assert_int_equal(state_domain(s, "web")->state, DOM_RECOVERING);
	assert_string_equal(state_domain(s, "web")->reason, "h1 fenced");
}

/* ---- rejected changes, table-driven ------------------------------------------------ */

/* clang-format off */
static const struct bad_change {
	const char *json;
	const char *want; /* in the message; NULL = any message */
} bad_changes[] = {
	/* not a change */
	{"[]", "op"},
	{"\"epoch\"", "op"},
	{"42", "op"},
	{"null", "op"},
	{"{}", "op"},
	{"{\"op\":7}", "op"},
	{"{\"op\":null,\"epoch\":9}", "op"},
	{"{\"op\":\"reboot\"}", "unknown op"},
	{"{\"op\":\"Epoch\",\"epoch\":9}", "unknown op"},
	/* epoch */
	{"{\"op\":\"epoch\"}", "epoch"},
	{"{\"op\":\"epoch\",\"epoch\":\"9\"}", "epoch"},
	{"{\"op\":\"epoch\",\"epoch\":9.5}", "epoch"},
	{"{\"op\":\"epoch\",\"epoch\":-9}", "epoch"},
	{"{\"op\":\"epoch\",\"epoch\":1}", "not newer"},
	/* host-set */
	{"{\"op\":\"host-set\",\"nodeid\":3}", "name and nodeid"},
	{"{\"op\":\"host-set\",\"name\":\"h3\"}", "name and nodeid"},
	{"{\"op\":\"host-set\",\"name\":\"h3\",\"nodeid\":0}", "name and nodeid"},
	{"{\"op\":\"host-set\",\"name\":3,\"nodeid\":3}", "name and nodeid"},
	{"{\"op\":\"host-set\",\"name\":\"h3\",\"nodeid\":\"3\"}", "name and nodeid"},
	{"{\"op\":\"host-set\",\"name\":\"h3\",\"nodeid\":3,\"state\":1}", "bad state"},
	{"{\"op\":\"host-set\",\"name\":\"h3\",\"nodeid\":3,\"state\":\"ONLINE\"}", "bad state"},
	{"{\"op\":\"host-set\",\"name\":\"h3\",\"nodeid\":3,\"maintenance\":1}", "bad member"},
	{"{\"op\":\"host-set\",\"name\":\"h3\",\"nodeid\":3,\"mem_total_mib\":\"8G\"}",
	 "bad member"},
	{"{\"op\":\"host-set\",\"name\":\"h3\",\"nodeid\":3,\"mem_free_mib\":-1}", "bad member"},
	{"{\"op\":\"host-set\",\"name\":\"h3\",\"nodeid\":3,\"vcpus_total\":1048577}",
	 "bad member"},
	{"{\"op\":\"host-set\",\"name\":\".h3\",\"nodeid\":3}", "cannot add host"},
	{"{\"op\":\"host-set\",\"name\":\"h1\",\"nodeid\":2}", "cannot add host"},
	/* domain-add */
	{"{\"op\":\"domain-add\"}", NULL},
	{"{\"op\":\"domain-add\",\"domain\":\"web\"}", NULL},
	{"{\"op\":\"domain-add\",\"domain\":{\"name\":\"x\",\"definition\":\"\","
	 "\"vcpus\":1}}", "memory_mib"},
	{"{\"op\":\"domain-add\",\"domain\":{\"name\":\"x\",\"definition\":\"\","
	 "\"memory_mib\":0,\"vcpus\":1}}", "memory_mib"},
	{"{\"op\":\"domain-add\",\"domain\":{\"name\":\"x\",\"definition\":\"\","
	 "\"memory_mib\":\"512\",\"vcpus\":1}}", "memory_mib"},
	{"{\"op\":\"domain-add\",\"domain\":{\"name\":\"no/slash\",\"definition\":\"\","
	 "\"memory_mib\":1,\"vcpus\":1}}", "name"},
	{"{\"op\":\"domain-add\",\"domain\":{\"name\":\"db\",\"definition\":\"\","
	 "\"memory_mib\":1,\"vcpus\":1}}", "already exists"},
	/* domain-remove */
	{"{\"op\":\"domain-remove\"}", "no domain"},
	{"{\"op\":\"domain-remove\",\"name\":\"nosuch\"}", "no domain nosuch"},
	{"{\"op\":\"domain-remove\",\"name\":[\"web\"]}", "no domain"},
	/* domain-set */
	{"{\"op\":\"domain-set\"}", "no domain"},
	{"{\"op\":\"domain-set\",\"name\":\"nosuch\",\"state\":\"running\"}", "no domain nosuch"},
	{"{\"op\":\"domain-set\",\"name\":\"web\",\"state\":\"up\"}", "bad state"},
	{"{\"op\":\"domain-set\",\"name\":\"web\",\"state\":2}", "bad state"},
	{"{\"op\":\"domain-set\",\"name\":\"web\",\"state\":null}", "bad state"},
	{"{\"op\":\"domain-set\",\"name\":\"web\",\"enabled\":\"yes\"}", "bad member type"},
	{"{\"op\":\"domain-set\",\"name\":\"web\",\"incarnation\":-1}", "bad member type"},
	{"{\"op\":\"domain-set\",\"name\":\"web\",\"incarnation\":\"8\"}", "bad member type"},
	{"{\"op\":\"domain-set\",\"name\":\"web\",\"start_attempts\":1000001}", "bad member"},
	{"{\"op\":\"domain-set\",\"name\":\"web\",\"host\":\"no such host\"}", "bad host name"},
	{"{\"op\":\"domain-set\",\"name\":\"web\",\"target\":\"-h1\"}", "bad host name"},
	{"{\"op\":\"domain-set\",\"name\":\"db\",\"state\":\"stopped\",\"incarnation\":1}",
	 "incarnation"},
	/* fence-record */
	{"{\"op\":\"fence-record\"}", "fence-record"},
	{"{\"op\":\"fence-record\",\"record\":[]}", "fence-record"},
	{"{\"op\":\"fence-record\",\"record\":{\"time_ns\":1,\"ok\":true,\"method\":\"m\"}}",
	 "fence-record"},
	{"{\"op\":\"fence-record\",\"record\":{\"host\":\"h1\",\"ok\":true,\"method\":\"m\"}}",
	 "fence-record"},
	{"{\"op\":\"fence-record\",\"record\":{\"host\":\"h1\",\"time_ns\":1,\"method\":\"m\"}}",
	 "fence-record"},
	{"{\"op\":\"fence-record\",\"record\":{\"host\":\"h1\",\"time_ns\":1,\"ok\":true}}",
	 "fence-record"},
	{"{\"op\":\"fence-record\",\"record\":{\"host\":\"h1\",\"time_ns\":1,\"ok\":\"true\","
	 "\"method\":\"m\"}}", "fence-record"},
	{"{\"op\":\"fence-record\",\"record\":{\"host\":\"h1\",\"time_ns\":-1,\"ok\":true,"
	 "\"method\":\"m\"}}", "fence-record"},
	{"{\"op\":\"fence-record\",\"record\":{\"host\":\"h 1\",\"time_ns\":1,\"ok\":true,"
	 "\"method\":\"m\"}}", "fence-record"},
	{"{\"op\":\"fence-record\",\"record\":{\"host\":\"h1\",\"time_ns\":1,\"ok\":true,"
	 "\"method\":5}}", "fence-record"},
};
/* clang-format on */

static void test_bad_changes(void **st)
{
	struct hax_state *s = *st;
	size_t i;

	assert_true(HAX_ARRAY_SIZE(bad_changes) >= 15);
	for (i = 0; i < HAX_ARRAY_SIZE(bad_changes); i++)
		apply_bad(s, bad_changes[i].json, bad_changes[i].want);
	assert_int_equal(s->seq, 6);
}

/*
 * Optional members of the wrong type must be refused like every other malformed input
 * (DESIGN.md: malformed messages are dropped), not silently skipped while seq moves on.
 */
static void test_wrong_type_optional_members(void **st)
{
	static const char *const bad[] = {
	    "{\"op\":\"domain-set\",\"name\":\"web\",\"host\":5}",
	    "{\"op\":\"domain-set\",\"name\":\"web\",\"target\":true}",
	    "{\"op\":\"domain-set\",\"name\":\"web\",\"reason\":{}}",
	    ("{\"op\":\"fence-record\",\"record\":{\"host\":\"h1\",\"time_ns\":1,\"ok\":true,"
	     "\"method\":\"m\",\"detail\":7}}"),
	    "{\"op\":\"epoch\",\"epoch\":9,\"now_ns\":\"yesterday\"}",
	    "{\"op\":\"domain-set\",\"name\":\"web\",\"state\":\"running\",\"now_ns\":-1}",
	};
	struct hax_state *s = *st;
	char accepted[1024] = "", err[256];
	size_t i;

	/* First name every accepted one, so that one run shows them all. */
	for (i = 0; i < HAX_ARRAY_SIZE(bad); i++) {
		struct hax_state *copy = state_clone(s);
		json_t *c = parse(bad[i]);

		if (change_apply(copy, c, err, sizeof(err)) == 0) {
			strncat(accepted, "\n  ", sizeof(accepted) - strlen(accepted) - 1);
			strncat(accepted, bad[i], sizeof(accepted) - strlen(accepted) - 1);
		}
		json_decref(c);
		state_free(copy);
	}
	if (accepted[0])
		fail_msg("changes with a member of the wrong type were applied:%s", accepted);
	for (i = 0; i < HAX_ARRAY_SIZE(bad); i++)
		apply_bad(s, bad[i], NULL);
}

static void test_null_change(void **st)
{
	struct hax_state *s = *st;

	apply_bad_json(s, NULL, "op", "NULL change");
}

/* A message buffer too small, or none, must not overflow or crash. */
static void test_small_error_buffer(void **st)
{
	struct hax_state *s = *st;
	json_t *c = parse("{\"op\":\"domain-remove\",\"name\":\"nosuch-domain-with-a-long-name\"}");
	char err[8];

	memset(err, 'Z', sizeof(err));
	assert_int_equal(change_apply(s, c, err, 4), -EINVAL);
	assert_int_equal(err[3], '\0');
	assert_int_equal(err[4], 'Z');
	assert_int_equal(change_apply(s, c, NULL, 0), -EINVAL);
	json_decref(c);
	assert_int_equal(s->seq, 6);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_epoch),
	    T(test_epoch_members_and_doubt),
	    T(test_restarts),
	    T(test_host_set_adds_and_updates),
	    T(test_host_set_validates),
	    T(test_domain_add),
	    T(test_domain_add_limit),
	    T(test_domain_remove),
	    T(test_domain_set),
	    T(test_incarnation_never_backwards),
	    T(test_fence_record),
	    T(test_builders),
	    T(test_bad_changes),
	    T(test_wrong_type_optional_members),
	    T(test_null_change),
	    T(test_small_error_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
