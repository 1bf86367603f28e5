/* QMP lines to typed messages: the only code that reads QEMU's JSON (agent/qmp.h). */
#include <errno.h>
#include <string.h>

#include "qmp.h"

int qmp_parse_line(const char *line, size_t len, struct qmp_line *out)
{
	json_t *msg = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL), *jid;
	struct qmp_line l = {.kind = QMP_LINE_OTHER, .msg = msg};

	if (!json_is_object(msg)) {
		json_decref(msg);
		return -EPROTO;
	}
	jid = json_object_get(msg, "id");
	if (json_object_get(msg, "QMP")) {
		l.kind = QMP_LINE_GREETING;
	} else if (json_object_get(msg, "event")) {
		l.kind = QMP_LINE_EVENT;
		l.event = json_string_value(json_object_get(msg, "event"));
		l.data = json_object_get(msg, "data");
	} else if (json_is_integer(jid) && json_integer_value(jid) >= 0) {
		/* Only our own ids come back; a string or negative id is no reply of ours (it
		 * once read as 0, the id of the capabilities negotiation). */
		l.kind = QMP_LINE_REPLY;
		l.id = (uint64_t)json_integer_value(jid);
		l.ret = json_object_get(msg, "return");
		if (!l.ret) {
			l.err = json_string_value(
			    json_object_get(json_object_get(msg, "error"), "desc"));
			if (!l.err)
				l.err = "error without a description";
		}
	}
	*out = l;
	return 0;
}
