/*
 * The bounded send queue (haxd/msgq.c) that haxd/cluster.c keeps while corosync answers
 * TRY_AGAIN (issue 12 item 13): messages come out in order; past the message or byte
 * bound a push is refused with -ENOBUFS and leaves the queue as it was; draining makes
 * room again.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "haxd/msgq.h"

static void test_order_and_count_bound(void **state)
{
	struct msgq q;
	char buf[16];
	int i;

	(void)state;
	msgq_init(&q, 3, 1000);
	for (i = 0; i < 3; i++) {
		snprintf(buf, sizeof(buf), "m%d", i);
		assert_int_equal(msgq_push(&q, 0, buf, strlen(buf) + 1), 0);
	}
	assert_int_equal(msgq_push(&q, 0, "m3", 3), -ENOBUFS);
	assert_int_equal(q.n, 3);
	assert_int_equal(q.bytes, 9);
	for (i = 0; i < 2; i++) {
		snprintf(buf, sizeof(buf), "m%d", i);
		assert_string_equal(msgq_peek(&q)->buf, buf);
		msgq_drop(&q);
	}
	assert_int_equal(msgq_push(&q, 0, "m3", 3), 0);
	assert_string_equal(msgq_peek(&q)->buf, "m2");
	msgq_drop(&q);
	assert_string_equal(msgq_peek(&q)->buf, "m3");
	msgq_drop(&q);
	assert_null(msgq_peek(&q));
	assert_int_equal(msgq_push(&q, 0, "m4", 3), 0);
	assert_string_equal(msgq_peek(&q)->buf, "m4");
	msgq_clear(&q);
	assert_int_equal(q.n, 0);
	assert_int_equal(q.bytes, 0);
}

static void test_byte_bound(void **state)
{
	static char big[600];
	struct msgq q;

	(void)state;
	msgq_init(&q, 100, 1000);
	assert_int_equal(msgq_push(&q, 0, big, sizeof(big)), 0);
	assert_int_equal(msgq_push(&q, 0, big, sizeof(big)), -ENOBUFS);
	assert_int_equal(msgq_push(&q, 0, big, 400), 0);
	assert_int_equal(q.bytes, 1000);
	assert_int_equal(msgq_push(&q, 0, big, 1), -ENOBUFS);
	/* One message larger than the whole bound, on an empty queue. */
	msgq_clear(&q);
	msgq_init(&q, 100, 10);
	assert_int_equal(msgq_push(&q, 0, big, 11), -ENOBUFS);
	assert_int_equal(q.n, 0);
}

/* The default bounds hold a corosync stall's worth of small messages, not without end. */
static void test_default_bound_is_reached(void **state)
{
	struct msgq q;
	char msg[200];
	size_t n = 0;

	(void)state;
	memset(msg, 'x', sizeof(msg));
	msgq_init(&q, MSGQ_MAX_MSGS, MSGQ_MAX_BYTES);
	while (msgq_push(&q, 0, msg, sizeof(msg)) == 0)
		n++;
	assert_int_equal(n, MSGQ_MAX_MSGS);
	msgq_clear(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_order_and_count_bound),
	    cmocka_unit_test(test_byte_bound),
	    cmocka_unit_test(test_default_bound_is_reached),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
