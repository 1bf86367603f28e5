/* The client side of haxd's IPC, shared by haxctl and check_haxd. */
#ifndef HAX_IPC_CLIENT_H
#define HAX_IPC_CLIENT_H

#include <jansson.h>
#include <stddef.h>

/* The service name: $HAX_IPC, else "haxd". */
const char *hax_ipc_name(void);

/* Send req, wait up to timeout_ms for the reply. 0 with *reply (new reference), or
 * -errno with one human line in err: "permission denied ...", "haxd is not running ...",
 * "timed out ...". */
int hax_ipc_call(const json_t *req, int timeout_ms, json_t **reply, char *err, size_t errlen);

#endif
