/*
 * Unit tests of the view-sync rules (haxd/sync.c), with struct literals: who may lead a
 * view, and which state a sync adopts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "haxd/sync.h"

static void test_leader_needs_quorum(void **st)
{
	const uint32_t m[] = {2, 3};

	(void)st;
	assert_int_equal(sync_view_leader(false, m, 2, 2, 3), 0);
	assert_int_equal(sync_view_leader(true, m, 0, 2, 3), 0);
	assert_int_equal(sync_view_leader(true, m, 2, 2, 3), 2);
}

/* A quorate ring of three nodes with one haxd: that haxd may hold a state persisted
 * long ago (hax-sim seeds 2 and 18 found it restarting running domains). */
static void test_lone_haxd_in_a_quorate_ring_does_not_lead(void **st)
{
	const uint32_t m[] = {1};

	(void)st;
	assert_int_equal(sync_view_leader(true, m, 1, 3, 3), 0);
	assert_int_equal(sync_view_leader(true, m, 1, 2, 3), 0);
}

/* Every node of a quorate ring runs haxd: it leads even as a minority of the configured
 * hosts (an even split kept quorate by votequorum's tie-breaker, 2 of 4). */
static void test_every_node_a_member_leads(void **st)
{
	const uint32_t m[] = {1, 2};

	(void)st;
	assert_int_equal(sync_view_leader(true, m, 2, 2, 4), 1);
	assert_int_equal(sync_view_leader(true, m, 2, 3, 4), 0);
	assert_int_equal(sync_view_leader(true, m, 2, 3, 3), 1); /* a majority */
}

static void test_standalone_leads(void **st)
{
	const uint32_t m[] = {7};

	(void)st;
	assert_int_equal(sync_view_leader(true, m, 1, 1, 0), 7);
}

static void test_pick_newest(void **st)
{
	struct hax_state a = {.epoch = 3, .seq = 10}, b = {.epoch = 4, .seq = 1},
			 c = {.epoch = 4, .seq = 1};
	struct hax_state *v[] = {&a, NULL, &b, &c};

	(void)st;
	assert_int_equal(sync_pick_newest(v, 4), 2); /* (4,1) beats (3,10); first on a tie */
	assert_int_equal(sync_pick_newest(v, 2), 0);
	assert_int_equal(sync_pick_newest(v + 1, 1), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_leader_needs_quorum),
	    cmocka_unit_test(test_lone_haxd_in_a_quorate_ring_does_not_lead),
	    cmocka_unit_test(test_every_node_a_member_leads),
	    cmocka_unit_test(test_standalone_leads),
	    cmocka_unit_test(test_pick_newest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
