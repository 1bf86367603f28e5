/* Cluster messages (haxd/msg.c) and what they carry: a state (haxd/state.c), a change
 * applied to a state (haxd/change.c). Bytes from a peer are refused with a reason,
 * never a crash; whatever is accepted survives an encode/decode round trip. */
#include "fuzz.h"

#include "haxd/change.h"
#include "haxd/msg.h"
#include "haxd/state.h"

static void round_trip(const struct hax_state *s)
{
	struct hax_state *again = NULL;
	char *text = state_to_string(s), err[256];

	FUZZ_CHECK(text != NULL);
	FUZZ_CHECK(state_from_string(text, strlen(text), &again, err, sizeof(err)) == 0);
	FUZZ_CHECK(state_version_cmp(s, again) == 0);
	state_free(again);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hax_state *s = NULL, *base;
	enum msg_type type;
	char err[256];
	json_t *m = NULL;

	if (msg_decode(data, size, &m, &type, err, sizeof(err)) == 0) {
		FUZZ_CHECK(type < MSG_TYPE_COUNT);
		if (type == MSG_HELLO &&
		    state_from_json(json_object_get(m, "state"), &s, err, sizeof(err)) == 0) {
			round_trip(s);
			state_free(s);
		}
		if (type == MSG_CHANGE) {
			base = state_new("fuzz");
			if (change_apply(base, json_object_get(m, "change"), err, sizeof(err)) == 0)
				round_trip(base);
			state_free(base);
		}
		json_decref(m);
	} else {
		FUZZ_CHECK(err[0] != '\0');
	}
	/* The same bytes as a persisted state.json. */
	if (state_from_string((const char *)data, size, &s, err, sizeof(err)) == 0) {
		round_trip(s);
		state_free(s);
	}
	return 0;
}
