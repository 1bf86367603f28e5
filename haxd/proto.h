/*
 * The haxctl/check_haxd <-> haxd wire: libqb IPC service, one JSON request and one JSON
 * reply per call. Each message is a libqb header followed by NUL-terminated JSON text.
 * Every reply has "ok" (bool) and, when false, "error" (one human line).
 */
#ifndef HAX_PROTO_H
#define HAX_PROTO_H

#define HAX_IPC_DEFAULT_NAME "haxd"
#define HAX_IPC_ENV "HAX_IPC"          /* overrides the service name (tests, labs) */
#define HAX_IPC_MAX_MSG (4 * 1024 * 1024)
#define HAX_IPC_MSG_JSON 1
#define HAX_IPC_TIMEOUT_MS 30000

#endif
