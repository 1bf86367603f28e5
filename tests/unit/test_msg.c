/*
 * Cluster message decoding (haxd/msg.c): what a peer sends is accepted only in this
 * protocol version and a known shape; everything else is refused with a reason (and
 * counted by haxd as dropped_messages in the status).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "haxd/msg.h"

static void test_refused(void **state)
{
	static const struct {
		const char *text, *want;
	} bad[] = {
	    {"", "not a JSON object"},
	    {"[1]", "not a JSON object: wrong type"},
	    {"{\"v\":2,\"type\":\"change\",\"seq\":1,\"change\":{}}",
	     "unsupported protocol version"},
	    {"{\"type\":\"change\",\"seq\":1,\"change\":{}}", "unsupported protocol version"},
	    {"{\"v\":\"1\",\"type\":\"change\",\"seq\":1,\"change\":{}}",
	     "unsupported protocol version"},
	    {"{\"v\":1,\"type\":\"gossip\"}", "unknown message type \"gossip\""},
	    {"{\"v\":1,\"type\":\"x\\ny\"}", "unknown message type \"(not a name)\""},
	    {"{\"v\":1}", "unknown message type \"(none)\""},
	    {"{\"v\":1,\"type\":\"change\",\"change\":{}}", "seq"},
	    {"{\"v\":1,\"type\":\"change\",\"seq\":-1,\"change\":{}}", "seq"},
	    {"{\"v\":1,\"type\":\"command\",\"to\":7,\"cmd\":{}}", "to"},
	    {"{\"v\":1,\"v\":1,\"type\":\"result\",\"res\":{}}", "not a JSON object"},
	};
	char err[256];
	json_t *m;
	enum msg_type t;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		m = NULL;
		if (msg_decode(bad[i].text, strlen(bad[i].text), &m, &t, err, sizeof(err)) !=
		    -EINVAL)
			fail_msg("case %zu accepted: %s", i, bad[i].text);
		assert_null(m);
		if (!strstr(err, bad[i].want))
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err, bad[i].want);
	}
}

static void test_accepted_and_too_big(void **state)
{
	const char ok[] = "{\"v\":1,\"type\":\"result\",\"res\":{\"cmd\":\"start\"}}";
	char err[256], *big;
	enum msg_type t;
	json_t *m = NULL;
	size_t len;

	(void)state;
	assert_int_equal(msg_decode(ok, strlen(ok), &m, &t, err, sizeof(err)), 0);
	assert_int_equal(t, MSG_RESULT);
	json_decref(m);
	len = MSG_MAX_BYTES + 1;
	big = calloc(1, len);
	assert_non_null(big);
	assert_int_equal(msg_decode(big, len, &m, &t, err, sizeof(err)), -E2BIG);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_accepted_and_too_big),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
