/* haxctl/check_haxd requests (haxd/ipc_auth.c): the decoder haxd runs on every request
 * body, and the role table it consults right after. */
#include "fuzz.h"

#include "haxd/ipc_auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *why = NULL, *cmd;
	json_t *req = NULL;

	if (ipc_request_parse((const char *)data, size, &req, &why) < 0) {
		FUZZ_CHECK(why && why[0]);
		return 0;
	}
	cmd = json_string_value(json_object_get(req, "cmd"));
	FUZZ_CHECK(cmd != NULL);
	/* Every command needs at least the monitor role: nobody is served without one. */
	FUZZ_CHECK(ipc_cmd_role(cmd) >= IPC_ROLE_MONITOR);
	json_decref(req);
	return 0;
}
