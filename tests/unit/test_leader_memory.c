/*
 * The leader on its ops seam (a fake clock, proposals applied to a local state, a fence
 * device and agents that the test answers), for two rules of issue 12 item 13:
 *
 * Fence timers outlive a view change. Every view change ends a leader
 * term: node.c frees the leader and makes a new one, handing over leader_remember() /
 * leader_recall(). A host agent-lost for 6 s of a 10 s agent_lost_timeout is fenced
 * 4 s into the next term, not 10 s; a fence that failed backs off across the next term
 * rather than being retried at once.
 *
 * The rejoin purge destroys only what hax manages: a fenced host that comes back running
 * a managed domain and an operator's own VM gets a destroy for the first only, and is
 * let online once the managed one is gone, the other still running.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "haxd/change.h"
#include "haxd/leader.h"
#include "lib/loop.h"

static struct hax_state *st;
static uint64_t now_ms;
static int nfence;
static void (*fence_done)(void *data, int result, const char *msg);
static void *fence_data;

void hax_log(int prio, const char *fmt, ...)
{
	va_list ap;

	if (!getenv("TEST_LEADER_LOG"))
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc(0x0a, stderr);
	(void)prio;
}

static const struct hax_state *ops_state(void *o)
{
	(void)o;
	return st;
}

static int ops_propose(void *o, json_t *c)
{
	char err[256];

	(void)o;
	if (change_apply(st, c, err, sizeof(err)) < 0)
		fail_msg("change refused: %s", err);
	st->seq++;
	json_decref(c);
	return 0;
}

static json_t *commands;   /* every command sent, as {"to", "cmd"} */

static int ops_command(void *o, const char *host, json_t *cmd)
{
	(void)o;
	json_array_append_new(commands, json_pack("{s:s, s:o}", "to", host, "cmd", cmd));
	return 0;
}

static int ops_fence(void *o, const char *host, uint32_t nodeid, int dev, bool dry_run,
		     void (*done)(void *data, int result, const char *msg), void *data,
		     void **handle)
{
	(void)o, (void)nodeid, (void)dev, (void)dry_run;
	assert_string_equal(host, "h2");
	nfence++;
	fence_done = done;
	fence_data = data;
	*handle = &nfence;
	return 0;
}

static void ops_fence_cancel(void *o, void *handle)
{
	(void)o, (void)handle;
	fence_done = NULL;
}

static uint64_t ops_now_real(void *o)
{
	(void)o;
	return 1700000000000000000ull + now_ms * 1000000ull;
}

static uint64_t ops_now_mono(void *o)
{
	(void)o;
	return 1000000000ull + now_ms * 1000000ull;
}

static const struct leader_ops ops = {
	.state = ops_state, .propose = ops_propose, .command = ops_command,
	.fence = ops_fence, .fence_cancel = ops_fence_cancel,
	.now_real = ops_now_real, .now_mono = ops_now_mono,
};

static struct hax_conf conf;

/* A new term: h1 (us) a member that reported, h2's corosync alive but haxd gone. */
static struct leader *term(const struct leader_memory *m)
{
	struct leader *l = leader_new(&conf, &ops);
	json_t *inv = json_pack("{s:s, s:s, s:i, s:[], s:[], s:i, s:i, s:i}", "op", "inventory",
				"host", "h1", "nodeid", 1, "domains", "busy", "mem_total_mib",
				4096, "vcpus_total", 8, "gen", 0);

	leader_set_member(l, "h1", 1, true, true);
	leader_set_member(l, "h2", 2, false, true);
	if (m)
		leader_recall(l, m);
	leader_on_inventory(l, inv);
	json_decref(inv);
	return l;
}

static struct leader *next_term(struct leader *l, bool carry)
{
	static struct leader_memory m;

	leader_remember(l, &m);
	leader_free(l);
	return term(carry ? &m : NULL);
}

/* Time passes as in haxd: a tick every 500 ms (a longer silence would be a stall, which
 * TILT answers by restarting the timers). */
static void advance_to(struct leader *l, uint64_t ms)
{
	while (now_ms + 500 < ms) {
		now_ms += 500;
		leader_tick(l);
	}
	now_ms = ms;
}

static void run(bool carry)
{
	struct leader *l;

	now_ms = 0;
	nfence = 0;
	fence_done = NULL;
	st = state_new("t");
	/* h2 was online until its haxd went away. */
	ops_propose(NULL, json_pack("{s:s, s:s, s:i, s:s}", "op", "host-set", "name", "h2",
				    "nodeid", 2, "state", "online"));
	l = term(NULL);
	leader_tick(l);
	assert_int_equal(state_host(st, "h2")->state, HOST_AGENT_LOST);
	advance_to(l, 6000);
	leader_tick(l);
	assert_int_equal(nfence, 0);
	/* A view change (another host joins, say): a new term. */
	l = next_term(l, carry);
	leader_tick(l);
	advance_to(l, 10500);
	leader_tick(l);
	assert_int_equal(nfence, 1);  /* 10 s after h2 was first seen lost, whatever the views */
	fence_done(fence_data, -5, "power switch unreachable");
	assert_int_equal(state_host(st, "h2")->state, HOST_FENCING);
	/* Another view change right after the failure: the back-off (fence_retry 5 s) holds. */
	now_ms = 11000;
	l = next_term(l, carry);
	leader_tick(l);
	assert_int_equal(nfence, 1);
	advance_to(l, 15600);
	leader_tick(l);
	assert_int_equal(nfence, 2);
	leader_free(l);
	state_free(st);
}

static void test_timers_survive_view_changes(void **unused)
{
	(void)unused;
	run(true);
}

static json_t *inventory(const char *host, int nodeid, const char *dom1, const char *dom2, int gen)
{
	json_t *doms = json_array();

	if (dom1)
		json_array_append_new(doms, json_pack("{s:s, s:i, s:s, s:i, s:i}", "name", dom1,
						      "incarnation", 1, "state", "running",
						      "memory_mib", 64, "vcpus", 1));
	if (dom2)
		json_array_append_new(doms, json_pack("{s:s, s:i, s:s, s:i, s:i}", "name", dom2,
						      "incarnation", 0, "state", "running",
						      "memory_mib", 64, "vcpus", 1));
	return json_pack("{s:s, s:s, s:i, s:o, s:[], s:i, s:i, s:i}", "op", "inventory", "host",
			 host, "nodeid", nodeid, "domains", doms, "busy", "mem_total_mib", 4096,
			 "vcpus_total", 8, "gen", gen);
}

static void test_purge_only_managed(void **unused)
{
	struct leader *l = leader_new(&conf, &ops);
	json_t *inv;
	size_t i;

	(void)unused;
	now_ms = 0;
	commands = json_array();
	st = state_new("t");
	/* h2 was fenced; d1 (managed) was restarted on h1 meanwhile. */
	ops_propose(NULL, json_pack("{s:s, s:s, s:i, s:s}", "op", "host-set", "name", "h1",
				    "nodeid", 1, "state", "online"));
	ops_propose(NULL, json_pack("{s:s, s:s, s:i, s:s}", "op", "host-set", "name", "h2",
				    "nodeid", 2, "state", "fenced"));
	ops_propose(NULL, json_pack("{s:s, s:{s:s, s:s, s:i, s:i}}", "op", "domain-add", "domain",
				    "name", "d1", "definition", "disk = /d1\n", "memory_mib", 64,
				    "vcpus", 1));
	leader_set_member(l, "h1", 1, true, true);
	leader_set_member(l, "h2", 2, true, true);
	inv = inventory("h1", 1, NULL, NULL, 0);
	leader_on_inventory(l, inv);
	json_decref(inv);
	/* h2 rejoins still running d1 and the operator's own vm-ops. */
	inv = inventory("h2", 2, "d1", "vm-ops", 0);
	leader_on_inventory(l, inv);
	json_decref(inv);
	leader_tick(l);
	for (i = 0; i < json_array_size(commands); i++) {
		const json_t *c = json_array_get(commands, i);
		const json_t *cmd = json_object_get(c, "cmd");

		if (strcmp(json_string_value(json_object_get(c, "to")), "h2") != 0)
			continue;
		assert_string_equal(json_string_value(json_object_get(cmd, "op")), "destroy");
		assert_string_equal(json_string_value(json_object_get(cmd, "name")), "d1");
	}
	assert_int_equal(state_host(st, "h2")->state, HOST_FENCED);
	/* d1 is gone from h2; vm-ops still runs there: h2 may come back online. */
	{
		json_t *res = json_pack("{s:s, s:s, s:s, s:s, s:i, s:b, s:s, s:i}", "op", "result",
					"host", "h2", "cmd", "destroy", "name", "d1",
					"incarnation", 0, "ok", 1, "error", "", "gen", 1);

		leader_on_result(l, res);
		json_decref(res);
	}
	inv = inventory("h2", 2, NULL, "vm-ops", 1);
	leader_on_inventory(l, inv);
	json_decref(inv);
	leader_tick(l);
	assert_int_equal(state_host(st, "h2")->state, HOST_ONLINE);
	for (i = 0; i < json_array_size(commands); i++) {
		const json_t *cmd = json_object_get(json_array_get(commands, i), "cmd");
		const char *name = json_string_value(json_object_get(cmd, "name"));

		assert_false(name && strcmp(name, "vm-ops") == 0);
	}
	leader_free(l);
	state_free(st);
	json_decref(commands);
}

int main(void)
{
	const char *text = "[cluster]\nname = t\nagent_lost_timeout = 10s\nfence_retry = 5s\n"
			   "[fence pw]\ndriver = agent\nagent = /bin/true\n"
			   "[host h1]\nnodeid = 1\n[host h2]\nnodeid = 2\nfence = pw\n";
	struct conf_errors errs = {0};
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_timers_survive_view_changes),
	    cmocka_unit_test(test_purge_only_managed),
	};

	if (conf_parse_string("test", text, &conf, &errs) < 0) {
		printf("conf: %s\n", errs.n ? errs.msg[0] : "?");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
