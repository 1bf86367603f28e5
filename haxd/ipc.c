#include "ipc.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <qb/qbipcs.h>

#include "ipc_auth.h"
#include "lib/loop.h"
#include "proto.h"
#include "lib/util.h"

struct ipc_server {
	qb_ipcs_service_t *svc;
	const struct ipc_auth *auth;
	ipc_request_fn fn;
	void *opaque;
};

struct ipc_call {
	qb_ipcs_connection_t *conn;
	int32_t id;
	uid_t uid;
	enum ipc_role role;
};

/* libqb's poll handlers carry no context: the loop is the one of this process. */
static qb_loop_t *ipc_loop;

static int32_t job_add(enum qb_loop_priority p, void *data, qb_loop_job_dispatch_fn fn)
{
	return qb_loop_job_add(ipc_loop, p, data, fn);
}

static int32_t dispatch_add(enum qb_loop_priority p, int32_t fd, int32_t events, void *data,
			    qb_ipcs_dispatch_fn_t fn)
{
	return qb_loop_poll_add(ipc_loop, p, fd, events, data, fn);
}

static int32_t dispatch_mod(enum qb_loop_priority p, int32_t fd, int32_t events, void *data,
			    qb_ipcs_dispatch_fn_t fn)
{
	return qb_loop_poll_mod(ipc_loop, p, fd, events, data, fn);
}

static int32_t dispatch_del(int32_t fd)
{
	return qb_loop_poll_del(ipc_loop, fd);
}

static struct qb_ipcs_poll_handlers poll_handlers = {
	.job_add = job_add,
	.dispatch_add = dispatch_add,
	.dispatch_mod = dispatch_mod,
	.dispatch_del = dispatch_del,
};

/* The role travels in the connection's context with the uid: (uid << 8) | 0x80 | role,
 * never NULL. */
static void *pack_ctx(uid_t uid, enum ipc_role role)
{
	return (void *)(((uintptr_t)uid << 8) | 0x80 | (uintptr_t)role);
}

static int32_t conn_accept(qb_ipcs_connection_t *c, uid_t uid, gid_t gid)
{
	struct ipc_server *srv = qb_ipcs_connection_service_context_get(c);
	enum ipc_role role = ipc_auth_role(srv->auth, uid, gid);

	/* uid and gid are the socket's SO_PEERCRED, read by libqb at connection setup:
	 * unlike /proc/PID they cannot belong to another process by the time we look. */
	if (role == IPC_ROLE_NONE) {
		hax_log(LOG_NOTICE, "ipc: refused a client with uid %u gid %u (not root, not in the operator or monitor group)",
			(unsigned)uid, (unsigned)gid);
		return -EACCES;
	}
	/* The shared-memory rings are created for this client only. */
	qb_ipcs_connection_auth_set(c, uid, gid, S_IRUSR | S_IWUSR);
	qb_ipcs_context_set(c, pack_ctx(uid, role));
	return 0;
}

static void send_json(qb_ipcs_connection_t *c, int32_t id, json_t *reply)
{
	char *text = json_dumps(reply, JSON_COMPACT);
	size_t len = text ? strlen(text) + 1 : 0;
	struct qb_ipc_response_header *hdr;

	if (!text || sizeof(*hdr) + len > HAX_IPC_MAX_MSG) {
		free(text);
		text = hax_xstrdup("{\"ok\":false,\"error\":\"reply too large\"}");
		len = strlen(text) + 1;
	}
	hdr = hax_xmalloc(sizeof(*hdr) + len);
	hdr->id = id;
	hdr->size = (int32_t)(sizeof(*hdr) + len);
	hdr->error = 0;
	memcpy(hdr + 1, text, len);
	if (qb_ipcs_response_send(c, hdr, hdr->size) < 0)
		hax_log(LOG_INFO, "ipc: client went away before its reply, ignoring");
	free(hdr);
	free(text);
}

void ipc_reply(struct ipc_call *call, json_t *reply)
{
	send_json(call->conn, call->id, reply);
	json_decref(reply);
	qb_ipcs_connection_unref(call->conn);
	free(call);
}

uid_t ipc_call_uid(const struct ipc_call *call)
{
	return call->uid;
}

static void reply_error_now(qb_ipcs_connection_t *c, int32_t id, const char *msg)
{
	json_t *r = json_pack("{s:b, s:s}", "ok", 0, "error", msg);

	send_json(c, id, r);
	json_decref(r);
}

static int32_t msg_process(qb_ipcs_connection_t *c, void *data, size_t size)
{
	struct ipc_server *srv = qb_ipcs_connection_service_context_get(c);
	const struct qb_ipc_request_header *hdr = data;
	struct ipc_call *call;
	const char *text, *why, *cmd;
	enum ipc_role role;
	uintptr_t ctx;
	size_t len;
	json_t *req;

	if (size < sizeof(*hdr) || hdr->id != HAX_IPC_MSG_JSON || (size_t)hdr->size != size) {
		reply_error_now(c, HAX_IPC_MSG_JSON, "malformed request header");
		return 0;
	}
	text = (const char *)(hdr + 1);
	len = size - sizeof(*hdr);
	if (ipc_request_parse(text, len, &req, &why) < 0) {
		reply_error_now(c, hdr->id, why);
		return 0;
	}
	cmd = json_string_value(json_object_get(req, "cmd"));
	ctx = (uintptr_t)qb_ipcs_context_get(c);
	role = (enum ipc_role)(ctx & 0x7f);
	if (role < ipc_cmd_role(cmd)) {
		char msg[256];

		hax_log(LOG_NOTICE, "ipc: refused %.64s from uid %u: it has the %s role", cmd,
			(unsigned)(ctx >> 8), ipc_role_name(role));
		snprintf(msg, sizeof(msg),
			 "permission denied: %.64s needs the operator role (root or the operator group, client_group in haxd.conf); this client has the %s role",
			 cmd, ipc_role_name(role));
		reply_error_now(c, hdr->id, msg);
		json_decref(req);
		return 0;
	}
	call = hax_xcalloc(1, sizeof(*call));
	call->conn = c;
	call->id = hdr->id;
	call->uid = (uid_t)(ctx >> 8);
	call->role = role;
	qb_ipcs_connection_ref(c);
	srv->fn(srv->opaque, req, call);
	json_decref(req);
	return 0;
}

struct ipc_server *ipc_server_new(qb_loop_t *loop, const char *name, const struct ipc_auth *auth,
				  ipc_request_fn fn, void *opaque)
{
	static struct qb_ipcs_service_handlers handlers = {
		.connection_accept = conn_accept,
		.msg_process = msg_process,
	};
	struct ipc_server *srv = hax_xcalloc(1, sizeof(*srv));

	ipc_loop = loop;
	srv->auth = auth;
	srv->fn = fn;
	srv->opaque = opaque;
	srv->svc = qb_ipcs_create(name, 0, QB_IPC_SHM, &handlers);
	if (!srv->svc) {
		free(srv);
		return NULL;
	}
	qb_ipcs_service_context_set(srv->svc, srv);
	qb_ipcs_enforce_buffer_size(srv->svc, HAX_IPC_MAX_MSG);
	qb_ipcs_poll_handlers_set(srv->svc, &poll_handlers);
	if (qb_ipcs_run(srv->svc) < 0) {
		qb_ipcs_destroy(srv->svc);
		free(srv);
		return NULL;
	}
	return srv;
}

void ipc_server_free(struct ipc_server *srv)
{
	if (!srv)
		return;
	qb_ipcs_destroy(srv->svc);
	free(srv);
}
