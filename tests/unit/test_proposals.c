/*
 * The leader's changes in flight (haxd/proposals.c, issue 12 item 13): a change identical
 * (its stamp aside) to the last one in flight for its object is a repeat; one that
 * differs, or one after another change to the same object, is not; delivery forgets
 * everything up to its seq; a new view forgets everything; a failed send uses no seq.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "haxd/proposals.h"

static json_t *dom_set(const char *name, const char *st, long long now)
{
	return json_pack("{s:s, s:s, s:s, s:I}", "op", "domain-set", "name", name, "state", st,
			 "now_ns", now);
}

static void test_repeat_in_flight(void **state)
{
	struct proposals *p = proposals_new();
	json_t *a = dom_set("d1", "starting", 1), *a2 = dom_set("d1", "starting", 2);
	json_t *b = dom_set("d2", "starting", 3), *c = dom_set("d1", "stopped", 4);

	(void)state;
	assert_false(proposals_repeat(p, a));
	proposals_sent(p, 10, a);
	/* The next tick decides the same from the same state: not sent again. */
	assert_true(proposals_repeat(p, a2));
	/* Another domain, or another decision about d1, goes out. */
	assert_false(proposals_repeat(p, b));
	proposals_sent(p, 11, b);
	assert_true(proposals_repeat(p, a2));
	assert_false(proposals_repeat(p, c));
	proposals_sent(p, 12, c);
	/* After a different word about d1, the first decision is news again. */
	assert_false(proposals_repeat(p, a2));
	assert_int_equal(proposals_count(p), 3);
	/* Delivered up to 11: a is gone, c is still the last word on d1. */
	proposals_delivered(p, 11);
	assert_int_equal(proposals_count(p), 1);
	assert_false(proposals_repeat(p, a2));
	assert_true(proposals_repeat(p, c));
	proposals_delivered(p, 12);
	assert_false(proposals_repeat(p, c));
	proposals_sent(p, 13, c);
	proposals_clear(p);
	assert_int_equal(proposals_count(p), 0);
	assert_false(proposals_repeat(p, c));
	json_decref(a), json_decref(a2), json_decref(b), json_decref(c);
	proposals_free(p);
}

static void test_objects_of_other_ops(void **state)
{
	struct proposals *p = proposals_new();
	json_t *h1 = json_pack("{s:s, s:s, s:i, s:s}", "op", "host-set", "name", "h1", "nodeid", 1,
			       "state", "fencing");
	json_t *h2 = json_pack("{s:s, s:s, s:i, s:s}", "op", "host-set", "name", "h2", "nodeid", 2,
			       "state", "fencing");
	json_t *r1 = json_pack("{s:s, s:{s:s, s:I, s:b}}", "op", "fence-record", "record", "host",
			       "h1", "time_ns", 5LL, "ok", 0);
	json_t *r1b = json_pack("{s:s, s:{s:s, s:I, s:b}}", "op", "fence-record", "record", "host",
				"h1", "time_ns", 6LL, "ok", 0);

	(void)state;
	proposals_sent(p, 1, h1);
	assert_false(proposals_repeat(p, h2));
	assert_true(proposals_repeat(p, h1));
	proposals_sent(p, 2, r1);
	/* Two fence attempts are two records, not a repeat. */
	assert_false(proposals_repeat(p, r1b));
	json_decref(h1), json_decref(h2), json_decref(r1), json_decref(r1b);
	proposals_free(p);
}

struct wire {
	int fail;                /* refuse this many sends first */
	uint64_t seqs[8];
	size_t n;
};

static int send_stub(void *opaque, uint64_t seq, const json_t *change)
{
	struct wire *w = opaque;

	(void)change;
	if (w->fail > 0) {
		w->fail--;
		return -ENOBUFS;
	}
	w->seqs[w->n++] = seq;
	return 0;
}

/* A send that fails does not use up its seq: the next change carries it, so the
 * members see an unbroken numbering. Repeats send nothing and use nothing. */
static void test_failed_send_keeps_seq(void **state)
{
	struct proposals *p = proposals_new();
	json_t *a = dom_set("d1", "starting", 1), *b = dom_set("d2", "starting", 2);
	struct wire w = {.fail = 1};
	uint64_t next = 5;

	(void)state;
	assert_int_equal(proposals_propose(p, &next, a, send_stub, &w), -ENOBUFS);
	assert_int_equal(next, 5);
	assert_int_equal(proposals_count(p), 0);
	assert_int_equal(proposals_propose(p, &next, a, send_stub, &w), 0);
	assert_int_equal(proposals_propose(p, &next, a, send_stub, &w), 1);
	assert_int_equal(proposals_propose(p, &next, b, send_stub, &w), 0);
	assert_int_equal(next, 7);
	assert_int_equal(w.n, 2);
	assert_int_equal(w.seqs[0], 5);
	assert_int_equal(w.seqs[1], 6);
	json_decref(a), json_decref(b);
	proposals_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_repeat_in_flight),
	    cmocka_unit_test(test_objects_of_other_ops),
	    cmocka_unit_test(test_failed_send_keeps_seq),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
