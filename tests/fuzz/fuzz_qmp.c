/* QEMU's side of QMP (agent/qmp_parse.c): one line, greeting, event or reply. */
#include "fuzz.h"

#include "agent/qmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qmp_line l;

	if (qmp_parse_line((const char *)data, size, &l) < 0)
		return 0;
	FUZZ_CHECK(json_is_object(l.msg));
	if (l.kind == QMP_LINE_REPLY)
		FUZZ_CHECK(l.ret || l.err);
	json_decref(l.msg);
	return 0;
}
