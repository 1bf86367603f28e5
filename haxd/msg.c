#include "msg.h"
#include "lib/util.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const type_names[MSG_TYPE_COUNT] = {
	"hello", "change", "inventory", "command", "result", "request", "reply", "progress",
    "ping",
};

/* Required members per type: "o" object, "O" object or null, "s" string, "i" integer >= 0. */
static const char *const required[MSG_TYPE_COUNT][5][2] = {
	[MSG_HELLO] = {{"view", "o"}, {"version", "o"}, {"state", "o"}, {"inventory", "O"}},
	[MSG_CHANGE] = {{"seq", "i"}, {"change", "o"}},
	[MSG_INVENTORY] = {{"inv", "o"}},
	[MSG_COMMAND] = {{"to", "s"}, {"cmd", "o"}},
	[MSG_RESULT] = {{"res", "o"}},
	[MSG_REQUEST] = {{"id", "i"}, {"origin", "i"}, {"req", "o"}},
	[MSG_REPLY] = {{"id", "i"}, {"to", "i"}, {"reply", "o"}},
	[MSG_PROGRESS] = {{"prog", "o"}},
	[MSG_PING] = {{NULL, NULL}},
};

const char *msg_type_name(enum msg_type type)
{
	return (unsigned)type < MSG_TYPE_COUNT ? type_names[type] : "?";
}

static bool member_ok(const json_t *v, char kind)
{
	switch (kind) {
	case 'o': return json_is_object(v);
	case 'O': return json_is_object(v) || json_is_null(v);
	case 's': return json_is_string(v);
	case 'i': return json_is_integer(v) && json_integer_value(v) >= 0;
	}
	return false;
}

static int check_members(const json_t *m, enum msg_type t, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < 5 && required[t][i][0]; i++) {
		if (!member_ok(json_object_get(m, required[t][i][0]), required[t][i][1][0])) {
			snprintf(err, errlen, "%s: member \"%s\" missing or of the wrong type",
				 type_names[t], required[t][i][0]);
			return -EINVAL;
		}
	}
	return 0;
}

int msg_decode(const void *buf, size_t len, json_t **out, enum msg_type *type, char *err,
	       size_t errlen)
{
	json_error_t jerr;
	const char *tname;
	json_t *m;
	int t;

	if (len > MSG_MAX_BYTES) {
		snprintf(err, errlen, "message of %zu bytes exceeds %u", len, MSG_MAX_BYTES);
		return -E2BIG;
	}
	m = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(m)) {
		snprintf(err, errlen, "not a JSON object: %s", m ? "wrong type" : jerr.text);
		json_decref(m);
		return -EINVAL;
	}
	if (json_integer_value(json_object_get(m, "v")) != MSG_VERSION) {
		snprintf(err, errlen, "unsupported protocol version");
		json_decref(m);
		return -EINVAL;
	}
	tname = json_string_value(json_object_get(m, "type"));
	for (t = 0; t < MSG_TYPE_COUNT; t++)
		if (tname && strcmp(tname, type_names[t]) == 0)
			break;
	if (t == MSG_TYPE_COUNT) {
		/* The peer's text goes to the log: only a plain name is repeated. */
		snprintf(err, errlen, "unknown message type \"%.32s\"",
			 !tname ? "(none)" : hax_valid_name(tname) ? tname : "(not a name)");
		json_decref(m);
		return -EINVAL;
	}
	if (check_members(m, (enum msg_type)t, err, errlen) < 0) {
		json_decref(m);
		return -EINVAL;
	}
	*out = m;
	*type = (enum msg_type)t;
	return 0;
}

json_t *msg_new(enum msg_type type)
{
	return json_pack("{s:i, s:s}", "v", MSG_VERSION, "type", type_names[type]);
}

char *msg_encode(const json_t *msg, size_t *len)
{
	char *text = json_dumps(msg, JSON_COMPACT);

	if (!text)
		return NULL;
	*len = strlen(text);
	if (*len > MSG_MAX_BYTES) {
		free(text);
		return NULL;
	}
	return text;
}
