/*
 * The real leader (haxd/leader.c) against an in-process world: the replicated state is
 * a struct hax_state that proposals reach only when the test delivers them (as the
 * cluster does, after the tick), agents are inventories the test writes, commands and
 * fence calls are recorded. No corosync, no loop: one tick is one leader_tick().
 *
 *   test_leader            the cmocka tests (suite unit)
 *   test_leader --bench N  time per steady tick with N domains on 4 hosts (bench/)
 *
 * The suite also runs the tests under valgrind (unit-leader-valgrind): the scale test
 * drives a few hundred domains through start, adoption and steady ticks, so a leak per
 * domain and tick (issue 12 item 5) is a definite leak there.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include <cmocka.h>

#include "conf/conf.h"
#include "haxd/change.h"
#include "haxd/leader.h"
#include "lib/loop.h"
#include "haxd/state.h"

/* ---- the world ------------------------------------------------------------------- */

#define NHOSTS 4
#define MAX_FENCE_CALLS 32

struct fence_call {
	char host[HAX_NAME_MAX];
	void (*done)(void *data, int result, const char *msg);
	void *data;
	bool cancelled;
	bool answered;
};

static struct world {
	struct hax_conf conf;
	struct hax_state *st;
	json_t *queue;            /* proposals not delivered yet */
	json_t *cmds;             /* [{host, cmd}] since the last take_commands() */
	uint64_t mono_ns;
	size_t nfence;
	struct fence_call fence[MAX_FENCE_CALLS];
	int bad_changes;
	uint64_t gen[NHOSTS];     /* inventory generations */
	struct leader *l;
} W;

static const char *const host_names[NHOSTS] = {"h1", "h2", "h3", "h4"};

void hax_log(int prio, const char *fmt, ...)
{
	va_list ap;

	if (!getenv("TEST_LEADER_LOG") && prio > LOG_ERR)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static const struct hax_state *ops_state(void *o)
{
	(void)o;
	return W.st;
}

static int ops_propose(void *o, json_t *change)
{
	(void)o;
	json_array_append_new(W.queue, change);
	return 0;
}

static int ops_command(void *o, const char *host, json_t *cmd)
{
	(void)o;
	json_array_append_new(W.cmds, json_pack("{s:s, s:o}", "host", host, "cmd", cmd));
	return 0;
}

static int ops_validate(void *o, const char *def, char *err, size_t errlen)
{
	(void)o, (void)def, (void)err, (void)errlen;
	return 0;
}

static int ops_fence(void *o, const char *host, uint32_t nodeid, int dev, bool dry_run,
		     void (*done)(void *, int, const char *), void *data, void **handle)
{
	struct fence_call *f;

	(void)o, (void)nodeid, (void)dev, (void)dry_run;
	if (W.nfence == MAX_FENCE_CALLS)
		return -ENOSPC;
	f = &W.fence[W.nfence++];
	memset(f, 0, sizeof(*f));
	hax_strlcpy(f->host, host, sizeof(f->host));
	f->done = done;
	f->data = data;
	*handle = f;
	return 0;
}

static void ops_fence_cancel(void *o, void *handle)
{
	(void)o;
	((struct fence_call *)handle)->cancelled = true;
}

static uint64_t ops_now_real(void *o)
{
	(void)o;
	return 1700000000000000000ull + W.mono_ns;
}

static uint64_t ops_now_mono(void *o)
{
	(void)o;
	return W.mono_ns;
}

/* Apply what the leader proposed, in order, as every member would. */
static void deliver(void)
{
	char err[256];
	size_t i;

	for (i = 0; i < json_array_size(W.queue); i++) {
		if (change_apply(W.st, json_array_get(W.queue, i), err, sizeof(err)) < 0) {
			W.bad_changes++;
			hax_log(LOG_ERR, "change refused: %s", err);
		}
	}
	json_array_clear(W.queue);
}

static const char conf_text[] = "[cluster]\nname = t\ndriver = sim\nstate_dir = /nonexistent\n"
				"[host h1]\nnodeid = 1\naddress = 10.99.0.1\nfence = pw\n"
				"[host h2]\nnodeid = 2\naddress = 10.99.0.2\nfence = pw\n"
				"[host h3]\nnodeid = 3\naddress = 10.99.0.3\nfence = pw\n"
				"[host h4]\nnodeid = 4\naddress = 10.99.0.4\nfence = pw\n"
				"[fence pw]\ndriver = agent\nagent = /bin/true\n";

static void world_init(const char *self)
{
	struct conf_errors errs = {0};
	struct leader_ops ops = {
	    .opaque = NULL,
	    .state = ops_state,
	    .propose = ops_propose,
	    .command = ops_command,
	    .validate = ops_validate,
	    .fence = ops_fence,
	    .fence_cancel = ops_fence_cancel,
	    .now_real = ops_now_real,
	    .now_mono = ops_now_mono,
	    .self = self,
	};
	size_t i;

	memset(&W, 0, sizeof(W));
	if (conf_parse_string("test.conf", conf_text, &W.conf, &errs) < 0)
		fail_msg("the test's own configuration does not parse");
	conf_errors_free(&errs);
	W.st = state_new("t");
	W.queue = json_array();
	W.cmds = json_array();
	W.mono_ns = 1000000000ull;
	W.l = leader_new(&W.conf, &ops);
	for (i = 0; i < NHOSTS; i++)
		leader_set_member(W.l, host_names[i], (uint32_t)i + 1, true, true);
}

static void world_free(void)
{
	leader_free(W.l);
	state_free(W.st);
	json_decref(W.queue);
	json_decref(W.cmds);
}

/* What host h's agent would report: every domain the state places on it as running
 * (but omit), plus extra (with incarnation inc) if not NULL. */
static void report_edit(size_t h, const char *omit, const char *extra, uint64_t inc)
{
	json_t *doms = json_array();
	size_t j;

	for (j = 0; j < W.st->ndomains; j++) {
		const struct hax_domain *d = &W.st->domains[j];

		if (strcmp(d->host, host_names[h]) == 0 &&
		    (d->state == DOM_RUNNING || d->state == DOM_STARTING) &&
		    (!omit || strcmp(d->name, omit) != 0))
			json_array_append_new(doms, json_pack("{s:s, s:s, s:I}", "name", d->name,
							      "state", "running", "incarnation",
							      (json_int_t)d->incarnation));
	}
	if (extra)
		json_array_append_new(doms, json_pack("{s:s, s:s, s:I}", "name", extra, "state",
						      "running", "incarnation", (json_int_t)inc));
	json_t *inv = json_pack("{s:s, s:o, s:[], s:I, s:I, s:I}", "host", host_names[h],
				"domains", doms, "busy", "mem_total_mib", (json_int_t)1 << 30,
				"vcpus_total", (json_int_t)1 << 20, "gen",
				(json_int_t)++W.gen[h]);
	leader_on_inventory(W.l, inv);
	json_decref(inv);
}

static void report(size_t h)
{
	report_edit(h, NULL, NULL, 0);
}

static void report_all(void)
{
	size_t h;

	for (h = 0; h < NHOSTS; h++)
		report(h);
}

/* One tick, then the cluster delivers what it proposed. */
static void tick(void)
{
	W.mono_ns += 200000000ull;
	leader_tick(W.l);
	deliver();
}

/* Every start command succeeds: answered with a result (the state says running). */
static size_t answer_starts(void)
{
	size_t i, n = 0;

	for (i = 0; i < json_array_size(W.cmds); i++) {
		const json_t *c = json_array_get(W.cmds, i);
		const json_t *cmd = json_object_get(c, "cmd");
		const char *host = json_string_value(json_object_get(c, "host"));

		if (strcmp(json_string_value(json_object_get(cmd, "op")), "start") != 0)
			continue;
		json_t *res = json_pack(
		    "{s:s, s:s, s:s, s:b, s:s, s:I}", "host", host, "cmd", "start", "name",
		    json_string_value(json_object_get(json_object_get(cmd, "domain"), "name")),
		    "ok", 1, "error", "", "gen", (json_int_t)W.gen[host[1] - '1'] + 1);
		leader_on_result(W.l, res);
		json_decref(res);
		n++;
	}
	json_array_clear(W.cmds);
	deliver();
	return n;
}

static void add_domains(size_t n)
{
	char err[256];
	size_t j;

	for (j = 0; j < n; j++) {
		char name[HAX_NAME_MAX];
		json_t *c;

		/* Added in an order that is not the placement order (priority, then name). */
		snprintf(name, sizeof(name), "d%05zu", (j * 7919) % n);
		c = json_pack("{s:s, s:{s:s, s:s, s:i, s:i, s:i}}", "op", "domain-add", "domain",
			      "name", name, "definition", "x", "memory_mib", 1, "vcpus", 1,
			      "priority", (int)(j % 3));
		if (change_apply(W.st, c, err, sizeof(err)) < 0)
			fail_msg("domain-add %s: %s", name, err);
		json_decref(c);
	}
}

/* n domains started by the leader and running, each on one host, as the state says. */
static void steady_world(size_t n)
{
	size_t j, started;

	add_domains(n);
	report_all();
	tick();                          /* hosts online */
	report_all();
	tick();                          /* every domain placed and started */
	started = answer_starts();
	if (started != n)
		fail_msg("%zu of %zu domains started in one tick", started, n);
	report_all();
	tick();
	for (j = 0; j < W.st->ndomains; j++)
		if (W.st->domains[j].state != DOM_RUNNING || !W.st->domains[j].host[0])
			fail_msg("%s is %s on \"%s\"", W.st->domains[j].name,
				 dom_state_name(W.st->domains[j].state), W.st->domains[j].host);
}

/* ---- issue 12 item 5: a tick over hundreds of domains, leak-free ---------------------- */

static void test_scale_steady(void **unused)
{
	size_t j, per_host[NHOSTS] = {0}, k;

	(void)unused;
	world_init("h1");
	steady_world(400);
	for (k = 0; k < 10; k++) {
		report_all();
		tick();
	}
	/* Steady: no command, no change, every domain where it was started. */
	assert_int_equal(json_array_size(W.cmds), 0);
	assert_int_equal(W.bad_changes, 0);
	for (j = 0; j < W.st->ndomains; j++) {
		const struct hax_domain *d = &W.st->domains[j];

		assert_int_equal(d->state, DOM_RUNNING);
		per_host[d->host[1] - '1']++;
	}
	for (k = 0; k < NHOSTS; k++)
		assert_true(per_host[k] >= 90); /* spread, as placement does */
	world_free();
}

/* The index of the inventories follows them: a domain that vanishes from its host is
 * restarted (once), one reported on two hosts is resolved by destroying the older. */
static void test_index_follows_inventories(void **unused)
{
	struct hax_domain *d;
	char host[HAX_NAME_MAX];
	size_t h, i;

	(void)unused;
	world_init("h1");
	steady_world(40);
	d = state_domain(W.st, "d00007");
	hax_strlcpy(host, d->host, sizeof(host));
	h = (size_t)(host[1] - '1');
	/* A second copy with an older incarnation shows up on another host. */
	report_edit((h + 1) % NHOSTS, NULL, "d00007", d->incarnation - 1);
	tick();
	assert_int_equal(json_array_size(W.cmds), 1);
	assert_string_equal(json_string_value(json_object_get(
				json_object_get(json_array_get(W.cmds, 0), "cmd"), "op")),
			    "destroy");
	assert_string_equal(json_string_value(json_object_get(json_array_get(W.cmds, 0), "host")),
			    host_names[(h + 1) % NHOSTS]);
	json_array_clear(W.cmds);
	world_free();

	/* Vanished from its host (the host reports without it): started again, once. */
	world_init("h1");
	steady_world(40);
	d = state_domain(W.st, "d00011");
	h = (size_t)(d->host[1] - '1');
	for (i = 0; i < NHOSTS; i++)
		report_edit(i, i == h ? "d00011" : NULL, NULL, 0);
	tick();
	assert_int_equal(json_array_size(W.cmds), 1);
	assert_string_equal(json_string_value(json_object_get(
				json_object_get(json_array_get(W.cmds, 0), "cmd"), "op")),
			    "start");
	json_array_clear(W.cmds);
	world_free();
}

/* ---- issue 12 items 1 and 2: a domain that may run where nobody can look ----------- */

static size_t starts_of(const char *name)
{
	size_t i, n = 0;

	for (i = 0; i < json_array_size(W.cmds); i++) {
		const json_t *cmd = json_object_get(json_array_get(W.cmds, i), "cmd");

		n += strcmp(json_string_value(json_object_get(cmd, "op")), "start") == 0 &&
		     strcmp(json_string_value(json_object_get(json_object_get(cmd, "domain"),
								 "name")), name) == 0;
	}
	return n;
}

static void request_ok(json_t *req)
{
	json_t *reply = leader_request(W.l, req);

	if (!json_is_true(json_object_get(reply, "ok")))
		fail_msg("request refused: %s", json_string_value(json_object_get(reply, "error")));
	json_decref(reply);
	json_decref(req);
	deliver();
}

/* The reports of every member but lost, then a tick. */
static void tick_without(size_t lost)
{
	size_t h;

	for (h = 0; h < NHOSTS; h++)
		if (h != lost)
			report(h);
	tick();
}

/* The pending fence of host, confirmed. */
static void confirm_fence(const char *host)
{
	size_t i;

	for (i = 0; i < W.nfence; i++)
		if (strcmp(W.fence[i].host, host) == 0 && !W.fence[i].cancelled && !W.fence[i].answered) {
			W.fence[i].answered = true;
			W.fence[i].done(W.fence[i].data, 0, NULL);
		}
	deliver();
}

/* Item 1: a domain runs on h3; h3 is lost and its fence does not complete. Disabling
 * and enabling it (the operator "restarting" it) must not start it elsewhere: its host
 * stays recorded until the fence confirms. */
static void test_disable_enable_keeps_lost_host(void **unused)
{
	const struct hax_domain *d = NULL;
	char name[HAX_NAME_MAX];
	size_t j, k;

	(void)unused;
	world_init("h1");
	steady_world(8);
	for (j = 0; j < W.st->ndomains && !d; j++)
		if (strcmp(W.st->domains[j].host, "h3") == 0)
			d = &W.st->domains[j];
	assert_non_null(d);
	hax_strlcpy(name, d->name, sizeof(name));
	leader_set_member(W.l, "h3", 3, false, false);
	tick_without(2);
	json_array_clear(W.cmds);
	request_ok(json_pack("{s:s, s:s}", "cmd", "domain-disable", "name", name));
	for (k = 0; k < 3; k++)
		tick_without(2);
	request_ok(json_pack("{s:s, s:s}", "cmd", "domain-enable", "name", name));
	for (k = 0; k < 5; k++)
		tick_without(2);
	assert_int_equal(starts_of(name), 0);
	assert_string_equal(state_domain(W.st, name)->host, "h3");
	/* Not vacuous: once h3 is fenced, it starts elsewhere. */
	confirm_fence("h3");
	W.mono_ns += 10000000000ull;
	for (k = 0; k < 3; k++)
		tick_without(2);
	assert_int_equal(starts_of(name), 1);
	world_free();
}

/* Item 2: a live migration h1 -> h2 committed (the copy runs on h2, none on h1), then
 * h2 is lost before the result arrives. The domain must wait for h2's fence, not start
 * a third copy because its recorded host h1 no longer lists it. */
static void test_migration_target_waited_for(void **unused)
{
	const struct hax_domain *d = NULL;
	char name[HAX_NAME_MAX];
	size_t j, k;

	(void)unused;
	world_init("h3");
	steady_world(8);
	for (j = 0; j < W.st->ndomains && !d; j++)
		if (strcmp(W.st->domains[j].host, "h1") == 0)
			d = &W.st->domains[j];
	assert_non_null(d);
	hax_strlcpy(name, d->name, sizeof(name));
	request_ok(json_pack("{s:s, s:s, s:s}", "cmd", "migrate", "name", name, "host", "h2"));
	assert_int_equal(state_domain(W.st, name)->state, DOM_MIGRATING);
	json_array_clear(W.cmds);
	leader_set_member(W.l, "h2", 2, false, false);
	for (k = 0; k < 5; k++)
		tick_without(1); /* h1 lists it no more: the migration committed */
	assert_int_equal(starts_of(name), 0);
	assert_non_null(strstr(state_domain(W.st, name)->reason, "h2"));
	confirm_fence("h2");
	W.mono_ns += 10000000000ull;
	for (k = 0; k < 3; k++)
		tick_without(1);
	assert_int_equal(starts_of(name), 1);
	world_free();
}

static size_t fences_of(const char *host);

/* ---- issue 12 item 7: one sick host does not stop failover ---------------------------- */

/* h2's hypervisor stops listing: its inventory is older than its last result and no
 * newer one comes. h4 loses power meanwhile: it is fenced at once all the same (the
 * decisions about domains wait, the fence of another host does not). After
 * agent_lost_timeout without a fresh inventory h2 itself is agent-lost and fenced. */
static void test_sick_host_does_not_stop_fencing(void **unused)
{
	json_t *res;
	size_t k;

	(void)unused;
	world_init("h1");
	steady_world(8);
	/* A result newer than every inventory h2 will send: its inventories are stale. */
	res = json_pack("{s:s, s:s, s:s, s:b, s:I}", "host", "h2", "cmd", "stop", "name", "x",
			"ok", 1, "gen", (json_int_t)W.gen[1] + 100);
	leader_on_result(W.l, res);
	json_decref(res);
	leader_set_member(W.l, "h4", 4, false, false);
	for (k = 0; k < 3; k++) {
		report(0);
		report(1); /* stale: gen below the result's */
		report(2);
		tick();
	}
	assert_int_equal(fences_of("h4"), 1);
	assert_int_equal(fences_of("h2"), 0);
	for (k = 0; k < 70; k++) {
		W.mono_ns += 800000000ull;
		report(0);
		report(1);
		report(2);
		tick();
	}
	assert_int_equal(fences_of("h2"), 1);
	assert_int_equal(state_host(W.st, "h2")->state, HOST_FENCING);
	world_free();
}

/* ---- issue 11 item 5: TILT ------------------------------------------------------------ */

/* h4's haxd dies (its node stays: agent-lost, fenced after agent_lost_timeout, 60 s).
 * After 50 s the leader's own process stalls for 30 s: the first tick after it must not
 * fence on a timer that measured time the leader did not observe; the agent-lost timer
 * starts again, and h4 is fenced a full timeout later. */
static void test_tilt_after_a_stall(void **unused)
{
	size_t k;

	(void)unused;
	world_init("h1");
	steady_world(4);
	leader_set_member(W.l, "h4", 4, false, true);
	for (k = 0; k < 50; k++) {
		W.mono_ns += 800000000ull; /* with tick()'s 200 ms: one second a tick */
		tick_without(3);
	}
	assert_int_equal(fences_of("h4"), 0);
	W.mono_ns += 30000000000ull;
	tick_without(3);
	assert_int_equal(fences_of("h4"), 0);
	for (k = 0; k < 55; k++) {
		W.mono_ns += 800000000ull;
		tick_without(3);
	}
	assert_int_equal(fences_of("h4"), 0);
	for (k = 0; k < 10; k++) {
		W.mono_ns += 800000000ull;
		tick_without(3);
	}
	assert_int_equal(fences_of("h4"), 1);
	world_free();
}

/* ---- issue 12 item 11: DRBD fence-peer requests ----------------------------------- */

/* A fence request as haxd passes it to the leader: hax-fence-peer's, with the
 * requesting host haxd stamped on it; resource NULL: an operator's haxctl fence. */
static bool fence_req(const char *target, const char *resource, const char *requester,
		      char *err, size_t errlen)
{
	json_t *req = json_pack("{s:s, s:s}", "cmd", "fence", "host", target), *reply;
	bool ok;

	if (resource)
		json_object_set_new(req, "resource", json_string(resource));
	if (requester)
		json_object_set_new(req, "requester", json_string(requester));
	reply = leader_request(W.l, req);
	ok = json_is_true(json_object_get(reply, "ok"));
	snprintf(err, errlen, "%s", json_string_value(json_object_get(reply, "error")) ?: "");
	json_decref(reply);
	json_decref(req);
	deliver();
	return ok;
}

static size_t fences_of(const char *host)
{
	size_t i, n = 0;

	for (i = 0; i < W.nfence; i++)
		n += strcmp(W.fence[i].host, host) == 0;
	return n;
}

static void online_world(const char *self)
{
	world_init(self);
	report_all();
	tick();
	assert_int_equal(W.st->nhosts, NHOSTS);
}

/* Both peers of r0 (h1, h2) ask to fence each other through a leader on h3: the first
 * request wins, the second is refused and nothing fences h1; h2, being fenced, cannot
 * have anyone fenced for another resource either. Once h2 is fenced and back online,
 * r0's fence no longer stands: a new incident is judged afresh. */
static void test_peer_fence_one_per_resource(void **unused)
{
	char err[256];

	(void)unused;
	online_world("h3");
	assert_true(fence_req("h2", "r0", "h1", err, sizeof(err)));
	assert_int_equal(fences_of("h2"), 1);
	assert_false(fence_req("h1", "r0", "h2", err, sizeof(err)));
	assert_int_equal(strncmp(err, "refused:", 8), 0);
	/* A third peer of r0 (not being fenced itself) is refused by the resource alone. */
	assert_false(fence_req("h1", "r0", "h4", err, sizeof(err)));
	assert_non_null(strstr(err, "refused: DRBD resource r0: h1 already asked to fence h2"));
	assert_false(fence_req("h4", "r1", "h2", err, sizeof(err)));
	assert_int_equal(strncmp(err, "refused:", 8), 0);
	assert_int_equal(fences_of("h1") + fences_of("h4"), 0);
	/* The winner asking again waits for the same fence. */
	assert_false(fence_req("h2", "r0", "h1", err, sizeof(err)));
	assert_non_null(strstr(err, "already being fenced"));
	/* An operator's fence is no peer request: unchanged. */
	assert_true(fence_req("h4", NULL, NULL, err, sizeof(err)));
	assert_int_equal(fences_of("h4"), 1);

	/* h2's fence is confirmed; h2 comes back (rejoin) and is online again. */
	W.fence[0].done(W.fence[0].data, 0, "off");
	deliver();
	assert_int_equal(state_host(W.st, "h2")->state, HOST_FENCED);
	assert_false(fence_req("h1", "r0", "h2", err, sizeof(err)));
	report_all();
	tick();
	assert_int_equal(state_host(W.st, "h2")->state, HOST_ONLINE);
	assert_true(fence_req("h1", "r0", "h2", err, sizeof(err)));
	assert_int_equal(fences_of("h1"), 1);
	world_free();
}

/* The leader's own host is never fenced on a peer's request (its own handler's request
 * against that peer wins instead); requests from nowhere or against the requester
 * itself are refused too. */
static void test_peer_fence_never_self(void **unused)
{
	char err[256];

	(void)unused;
	online_world("h1");
	assert_false(fence_req("h1", "r0", "h2", err, sizeof(err)));
	assert_non_null(strstr(err, "refused: h1 runs the leader"));
	assert_int_equal(fences_of("h1"), 0);
	assert_false(fence_req("h3", "r5", "h3", err, sizeof(err)));
	assert_false(fence_req("h3", "r5", NULL, err, sizeof(err)));
	assert_false(fence_req("h3", "", "h2", err, sizeof(err)));
	assert_int_equal(fences_of("h3"), 0);
	assert_true(fence_req("h2", "r0", "h1", err, sizeof(err)));
	assert_int_equal(fences_of("h2"), 1);
	world_free();
}

/* ---- bench ------------------------------------------------------------------------ */

static double ms_since(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (double)(b.tv_sec - a->tv_sec) * 1e3 + (double)(b.tv_nsec - a->tv_nsec) / 1e6;
}

/* The leader's own work per tick: leader_tick() after fresh inventories from every
 * host (so the index of the inventories is rebuilt in it, as in a real cluster); the
 * harness's building of inventories and delivery of changes are not counted. The best
 * of the ticks: the machine is shared with other work. */
static int bench(size_t n, int ticks)
{
	struct timespec a;
	double best = 1e9, t;
	int k;

	world_init("h1");
	steady_world(n);
	for (k = 0; k < ticks; k++) {
		report_all();
		clock_gettime(CLOCK_MONOTONIC, &a);
		W.mono_ns += 200000000ull;
		leader_tick(W.l);
		t = ms_since(&a);
		best = t < best ? t : best;
		deliver();
	}
	printf("leader_tick, %zu domains on %d hosts: %.3f ms (best of %d ticks)\n", n, NHOSTS,
	       best, ticks);
	world_free();
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_scale_steady),
	    cmocka_unit_test(test_index_follows_inventories),
	    cmocka_unit_test(test_disable_enable_keeps_lost_host),
	    cmocka_unit_test(test_migration_target_waited_for),
	    cmocka_unit_test(test_tilt_after_a_stall),
	    cmocka_unit_test(test_sick_host_does_not_stop_fencing),
	    cmocka_unit_test(test_peer_fence_one_per_resource),
	    cmocka_unit_test(test_peer_fence_never_self),
	};

	if (argc == 3 && strcmp(argv[1], "--bench") == 0)
		return bench((size_t)strtoul(argv[2], NULL, 10), 20);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
