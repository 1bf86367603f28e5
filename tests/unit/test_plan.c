/*
 * Unit tests of the what-if (haxd/plan.c, haxctl plan --lose and the status field
 * stranded_by_one_loss) on struct-literal states: the lost hosts' enabled domains are
 * placed by the leader's policy in its order, what fits nowhere says why, surviving
 * hosts' domains stay, quorum is counted, bad requests are refused, and nothing in the
 * state changes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "haxd/plan.h"

/* clang-format off */
#define HOST(n, id, mem, cpu)                                                          \
	{ .name = (n), .nodeid = (id), .state = HOST_ONLINE, .mem_total_mib = (mem),   \
	  .mem_free_mib = (mem), .vcpus_total = (cpu) }
#define ON(n, mem, prio, h)                                                            \
	{ .name = (n), .memory_mib = (mem), .vcpus = 1, .priority = (prio),            \
	  .enabled = true, .state = DOM_RUNNING, .host = (h) }
#define STATE(h, d)                                                                    \
	{ .epoch = 1, .seq = 1, .cluster = "lab", .nhosts = HAX_ARRAY_SIZE(h),         \
	  .hosts = (h), .ndomains = HAX_ARRAY_SIZE(d), .domains = (d) }
/* clang-format on */

static json_t *lose(const struct hax_state *s, const char *a, const char *b)
{
	json_t *names = json_array(), *r;

	json_array_append_new(names, json_string(a));
	if (b)
		json_array_append_new(names, json_string(b));
	r = plan_lose(s, names);
	json_decref(names);
	return r;
}

static const json_t *dom(const json_t *r, size_t i)
{
	return json_array_get(json_object_get(r, "domains"), i);
}

static const char *str(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* h2 dies: its two domains go to the hosts with room, highest priority first; h1's and
 * h3's domains are not listed (they stay). */
static void test_lose_one_fits(void **unused)
{
	struct hax_host h[] = {HOST("h1", 1, 1024, 8), HOST("h2", 2, 1024, 8), HOST("h3", 3, 1024, 8)};
	struct hax_domain d[] = {ON("a", 256, 0, "h1"), ON("b", 512, 5, "h2"), ON("c", 256, 9, "h2"),
				 ON("e", 768, 0, "h3")};
	struct hax_state s = STATE(h, d);
	json_t *r = lose(&s, "h2", NULL);

	(void)unused;
	assert_true(json_is_true(json_object_get(r, "ok")));
	assert_true(json_is_true(json_object_get(r, "fits")));
	assert_int_equal(json_array_size(json_object_get(r, "domains")), 2);
	assert_string_equal(str(dom(r, 0), "name"), "c"); /* priority 9 first */
	assert_string_equal(str(dom(r, 0), "from"), "h2");
	assert_string_equal(str(dom(r, 0), "to"), "h1"); /* fewer domains... both have 1: more free */
	assert_string_equal(str(dom(r, 1), "name"), "b");
	assert_string_equal(str(dom(r, 1), "to"), "h1"); /* h3 has 256 left: b (512) fits only h1 */
	assert_true(json_is_true(json_object_get(json_object_get(r, "quorum"), "quorate")));
	json_decref(r);
	/* The state is untouched: still running on h2. */
	assert_string_equal(d[1].host, "h2");
	assert_int_equal(d[1].state, DOM_RUNNING);
}

/* h1 and h2 die: h3 takes what fits, the rest is stranded with the policy's reason; a
 * disabled domain is not restarted; 1 of 3 hosts has no quorum. */
static void test_lose_two_stranded(void **unused)
{
	struct hax_host h[] = {HOST("h1", 1, 1024, 8), HOST("h2", 2, 1024, 8), HOST("h3", 3, 1024, 8)};
	struct hax_domain d[] = {ON("a", 512, 1, "h1"), ON("b", 768, 2, "h2"), ON("c", 256, 0, "h1"),
				 ON("off", 64, 0, "h2")};
	struct hax_state s = STATE(h, d);
	json_t *r;

	(void)unused;
	d[3].enabled = false;
	r = lose(&s, "h1", "h2");
	assert_true(json_is_true(json_object_get(r, "ok")));
	assert_false(json_is_true(json_object_get(r, "fits")));
	assert_int_equal(json_integer_value(json_object_get(r, "stranded")), 1);
	assert_int_equal(json_array_size(json_object_get(r, "domains")), 3);
	assert_string_equal(str(dom(r, 0), "name"), "b");
	assert_string_equal(str(dom(r, 0), "to"), "h3");
	assert_string_equal(str(dom(r, 1), "name"), "a");
	assert_true(json_is_null(json_object_get(dom(r, 1), "to")));
	assert_non_null(strstr(str(dom(r, 1), "reason"), "fits nowhere"));
	assert_string_equal(str(dom(r, 2), "name"), "c");
	assert_string_equal(str(dom(r, 2), "to"), "h3");
	assert_false(json_is_true(json_object_get(json_object_get(r, "quorum"), "quorate")));
	json_decref(r);
}

static void test_bad_requests(void **unused)
{
	struct hax_host h[] = {HOST("h1", 1, 1024, 8), HOST("h2", 2, 1024, 8)};
	struct hax_domain d[] = {ON("a", 512, 1, "h1")};
	struct hax_state s = STATE(h, d);
	json_t *r, *empty = json_array();

	(void)unused;
	r = lose(&s, "h9", NULL);
	assert_false(json_is_true(json_object_get(r, "ok")));
	assert_non_null(strstr(str(r, "error"), "no such host: h9"));
	json_decref(r);
	r = lose(&s, "h1", "h1");
	assert_non_null(strstr(str(r, "error"), "named twice"));
	json_decref(r);
	r = lose(&s, "../etc", NULL);
	assert_non_null(strstr(str(r, "error"), "invalid name"));
	json_decref(r);
	r = plan_lose(&s, empty);
	assert_false(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
	r = plan_lose(&s, NULL);
	assert_false(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
	json_decref(empty);
}

/* Losing h1 strands "big" (nobody else has room); losing h2 or h3 strands nothing;
 * a host in maintenance is not counted as one that may die. */
static void test_single_losses(void **unused)
{
	struct hax_host h[] = {HOST("h1", 1, 2048, 8), HOST("h2", 2, 1024, 8), HOST("h3", 3, 1024, 8)};
	struct hax_domain d[] = {ON("big", 1536, 0, "h1"), ON("s2", 256, 0, "h2"), ON("s3", 256, 0, "h3")};
	struct hax_state s = STATE(h, d);
	json_t *r = plan_single_losses(&s);

	(void)unused;
	assert_int_equal(json_array_size(r), 1);
	assert_string_equal(str(json_array_get(r, 0), "host"), "h1");
	assert_string_equal(json_string_value(json_array_get(json_object_get(json_array_get(r, 0),
									     "domains"), 0)), "big");
	json_decref(r);
	d[0].memory_mib = 512;
	r = plan_single_losses(&s);
	assert_int_equal(json_array_size(r), 0);
	json_decref(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lose_one_fits),
	    cmocka_unit_test(test_lose_two_stranded),
	    cmocka_unit_test(test_bad_requests),
	    cmocka_unit_test(test_single_losses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
