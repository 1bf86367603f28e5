/*
 * The leader (haxd/leader.c) against stand-in ops: proposals apply at once to a local
 * state, commands and fences are recorded, clocks are fixed. Covers:
 *  - issue 17: no domain is restarted while start_ok says SCSI fencing is not in force
 *    on its storage; once it is, the restart goes ahead;
 *  - issue 12 item 10: a host that comes back while it is still "fencing" (its fence
 *    may have run: a SCSI preempt leaves its domains unable to write) follows the
 *    rejoin rule: its domains are destroyed before it is online again.
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
#include "haxd/leader.h"

void hax_log(int prio, const char *fmt, ...)
{
	va_list ap;

	(void)prio;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static struct hax_state *S;
static json_t *cmds; /* [{"host","cmd"}] */
static bool gate_open;
static int gate_calls;

static const struct hax_state *op_state(void *o)
{
	(void)o;
	return S;
}

static int op_propose(void *o, json_t *c)
{
	char err[256];

	(void)o;
	if (change_apply(S, c, err, sizeof(err)) < 0)
		fail_msg("the leader proposed a change that does not apply: %s", err);
	json_decref(c);
	return 0;
}

static int op_command(void *o, const char *host, json_t *cmd)
{
	(void)o;
	json_array_append_new(cmds, json_pack("{s:s, s:o}", "host", host, "cmd", cmd));
	return 0;
}

static int op_fence(void *o, const char *host, uint32_t nodeid, int dev, bool dry_run,
		    void (*done)(void *, int, const char *), void *data, void **handle)
{
	static int token;

	(void)o, (void)host, (void)nodeid, (void)dev, (void)dry_run, (void)done, (void)data;
	*handle = &token; /* never finishes: these tests set the outcome in the state */
	return 0;
}

static void op_fence_cancel(void *o, void *h)
{
	(void)o, (void)h;
}

static bool op_start_ok(void *o, const struct hax_domain *d, char *why, size_t len)
{
	(void)o, (void)d;
	gate_calls++;
	if (!gate_open)
		snprintf(why, len, "storage san: SCSI fencing not in force (test)");
	return gate_open;
}

static uint64_t op_now(void *o)
{
	(void)o;
	return 1000000000000ull;
}

static const struct hax_conf *conf_of(void)
{
	static struct hax_conf c;

	memset(&c, 0, sizeof(c));
	hax_strlcpy(c.cluster.name, "t", sizeof(c.cluster.name));
	c.cluster.start_timeout_ms = 60000;
	c.cluster.stop_timeout_ms = 60000;
	c.cluster.migrate_timeout_ms = 600000;
	c.cluster.migrate_concurrency = 4;
	c.cluster.migrate_host_concurrency = 2;
	c.cluster.start_retries = 3;
	c.cluster.fence_retry_ms = 10000;
	c.cluster.agent_lost_timeout_ms = 60000;
	return &c;
}

static void apply(const char *text)
{
	json_error_t jerr;
	json_t *c = json_loads(text, 0, &jerr);
	char err[256];

	if (!c)
		fail_msg("bad JSON in the test: %s", jerr.text);
	if (change_apply(S, c, err, sizeof(err)) < 0)
		fail_msg("%s: %s", text, err);
	json_decref(c);
}

static void report(struct leader *l, const char *host, const char *doms)
{
	char text[512];
	json_error_t jerr;
	json_t *inv;

	snprintf(text, sizeof(text),
		 "{\"host\":\"%s\",\"gen\":1,\"domains\":%s,\"busy\":[],\"mem_total_mib\":4096,"
		 "\"vcpus_total\":8}",
		 host, doms);
	inv = json_loads(text, 0, &jerr);
	assert_non_null(inv);
	leader_on_inventory(l, inv);
	json_decref(inv);
}

/* h1, h2 online members; h3 in state h3_state; d1 last on h3. */
static struct leader *setup_cluster(const char *h3_state, const char *d1_state)
{
	static const struct leader_ops ops = {
	    .state = op_state,
	    .propose = op_propose,
	    .command = op_command,
	    .fence = op_fence,
	    .fence_cancel = op_fence_cancel,
	    .start_ok = op_start_ok,
	    .now_real = op_now,
	    .now_mono = op_now,
	};
	char text[256];
	struct leader *l;

	S = state_new("t");
	cmds = json_array();
	for (int i = 1; i <= 2; i++) {
		snprintf(text, sizeof(text),
			 "{\"op\":\"host-set\",\"name\":\"h%d\",\"nodeid\":%d,\"state\":\"online\","
			 "\"mem_total_mib\":4096,\"vcpus_total\":8}",
			 i, i);
		apply(text);
	}
	snprintf(text, sizeof(text),
		 "{\"op\":\"host-set\",\"name\":\"h3\",\"nodeid\":3,\"state\":\"%s\"}", h3_state);
	apply(text);
	apply("{\"op\":\"domain-add\",\"domain\":{\"name\":\"d1\",\"definition\":"
	      "\"disk = iscsi://10.0.0.1/iqn.2026-11.org.x:san/1\\n\",\"memory_mib\":256,"
	      "\"vcpus\":1}}");
	snprintf(text, sizeof(text),
		 "{\"op\":\"domain-set\",\"name\":\"d1\",\"state\":\"%s\",\"host\":\"h3\","
		 "\"incarnation\":5}",
		 d1_state);
	apply(text);
	l = leader_new(conf_of(), &ops);
	leader_set_member(l, "h1", 1, true, true);
	leader_set_member(l, "h2", 2, true, true);
	report(l, "h1", "[]");
	report(l, "h2", "[]");
	return l;
}

static void teardown_cluster(struct leader *l)
{
	leader_free(l);
	state_free(S);
	json_decref(cmds);
}

/* The commands sent so far of one kind ("start", "destroy"...), to any host. */
static int count_cmds(const char *op, const char *host)
{
	size_t i;
	json_t *c;
	int n = 0;

	json_array_foreach(cmds, i, c)
	{
		const char *o = json_string_value(json_object_get(json_object_get(c, "cmd"), "op"));

		n += o && strcmp(o, op) == 0 &&
		     (!host || strcmp(json_string_value(json_object_get(c, "host")), host) == 0);
	}
	return n;
}

static void test_no_restart_while_fencing_not_in_force(void **state)
{
	struct leader *l = setup_cluster("fenced", "recovering");
	const struct hax_domain *d;

	(void)state;
	leader_set_member(l, "h3", 3, false, false);
	gate_open = false;
	gate_calls = 0;
	for (int i = 0; i < 3; i++)
		leader_tick(l);
	assert_true(gate_calls > 0);
	assert_int_equal(count_cmds("start", NULL), 0);
	d = state_domain(S, "d1");
	assert_string_equal(dom_state_name(d->state), "recovering");
	assert_non_null(strstr(d->reason, "SCSI fencing not in force"));
	gate_open = true;
	leader_tick(l);
	assert_int_equal(count_cmds("start", NULL), 1);
	assert_int_equal(count_cmds("start", "h3"), 0);
	teardown_cluster(l);
}

static void test_rejoin_from_fencing_purges(void **state)
{
	struct leader *l = setup_cluster("fencing", "running");
	const struct hax_host *h3;

	(void)state;
	gate_open = true;
	leader_set_member(l, "h3", 3, true, true);
	report(l, "h3", "[{\"name\":\"d1\",\"state\":\"running\",\"incarnation\":5}]");
	leader_tick(l);
	h3 = state_host(S, "h3");
	assert_int_equal(count_cmds("destroy", "h3"), 1);
	assert_string_not_equal(host_state_name(h3->state), "online");
	/* Once its inventory is empty, it is online again. */
	report(l, "h3", "[]");
	leader_tick(l);
	leader_tick(l);
	assert_string_equal(host_state_name(state_host(S, "h3")->state), "online");
	teardown_cluster(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_no_restart_while_fencing_not_in_force),
	    cmocka_unit_test(test_rejoin_from_fencing_purges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
