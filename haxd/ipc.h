/*
 * haxd's libqb IPC server. Serves root and members of the operator and monitor groups
 * (ipc_auth.h); everyone else is refused at connection time (the client sees "permission
 * denied"), and a monitor asking for a change gets a "permission denied" reply. Requests
 * are parsed and size-checked here; a malformed one gets an error reply, never a crash.
 */
#ifndef HAX_IPC_H
#define HAX_IPC_H

#include <jansson.h>
#include <qb/qbloop.h>
#include <sys/types.h>

struct ipc_server;
struct ipc_call;

/* Handle one request; answer now or later with ipc_reply (exactly once). */
typedef void (*ipc_request_fn)(void *opaque, const json_t *req, struct ipc_call *call);

struct ipc_auth;

/* Start serving service name on loop. auth is read at every connection (the caller owns
 * it and may rebuild it in place, on reload). */
struct ipc_server *ipc_server_new(qb_loop_t *loop, const char *name, const struct ipc_auth *auth,
				  ipc_request_fn fn, void *opaque);
void ipc_server_free(struct ipc_server *srv);   /* accepts NULL */

/* Send the reply (reference stolen) and free the call; a gone client is ignored. */
void ipc_reply(struct ipc_call *call, json_t *reply);

/* The uid of the caller. */
uid_t ipc_call_uid(const struct ipc_call *call);

#endif
