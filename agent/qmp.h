/*
 * A QMP client (the QEMU Machine Protocol: one JSON object per line over a unix socket),
 * asynchronous on the one loop (lib/loop.h fd watches): connect, wait for the greeting,
 * negotiate with qmp_capabilities, then commands with ids whose replies may come in any
 * order, and events. EOF (QEMU quit or died) or bad data closes the connection and fails
 * every pending command.
 */
#ifndef HAX_QMP_H
#define HAX_QMP_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

struct qmp;

/* A command's reply: ret is its "return" value (borrowed for the call), or NULL with err
 * saying why (QEMU's error text, or "disconnected"). tag is the caller's, as given. */
typedef void (*qmp_reply_fn)(void *data, uint64_t tag, json_t *ret, const char *err);

struct qmp_callbacks {
	/* Negotiation done: commands now run (they may be queued before). */
	void (*ready)(void *data);
	/* The connection is gone: -ECONNRESET (EOF), -EPROTO (bad data) or another -errno.
	 * Pending commands have already failed. The caller still owns q: qmp_free() it. */
	void (*closed)(void *data, int err);
	/* An asynchronous event ("SHUTDOWN", "STOP", "RESUME", "MIGRATION", ...); evdata is
	 * its "data" member (borrowed, may be NULL). */
	void (*event)(void *data, const char *event, json_t *evdata);
};

/* Connect to the QMP socket at path. 0 or -errno (-ENOENT, -ECONNREFUSED: nobody
 * listens); nothing is called back from inside this call. */
int qmp_connect(const char *path, const struct qmp_callbacks *cb, void *data, struct qmp **out);

/* Queue command cmd with args (stolen; NULL = none). fn is called exactly once from the
 * loop unless q is freed first. tag lets the caller tell whether the operation that asked
 * still exists when the reply comes. 0 or -ENOTCONN once closed. */
int qmp_command(struct qmp *q, const char *cmd, json_t *args, qmp_reply_fn fn, void *data,
		uint64_t tag);

/* True between ready and closed. */
bool qmp_is_ready(const struct qmp *q);

/* Close and free; no callback runs afterwards, pending ones are dropped. Safe from inside
 * any of q's callbacks, and with NULL. */
void qmp_free(struct qmp *q);

/* ---- the line parser (agent/qmp_parse.c: pure, fuzzed) ---- */

enum qmp_line_kind {
	QMP_LINE_GREETING, /* {"QMP": ...} */
	QMP_LINE_EVENT,    /* {"event": NAME, "data": ...} */
	QMP_LINE_REPLY,    /* {"id": N, "return": ...} or {"id": N, "error": {...}} */
	QMP_LINE_OTHER,    /* anything else that is an object: ignored */
};

struct qmp_line {
	enum qmp_line_kind kind;
	json_t *msg;       /* the parsed object: json_decref it; the members below are in it */
	const char *event; /* EVENT: the name, NULL if it is not a string */
	json_t *data;      /* EVENT: "data", may be NULL */
	uint64_t id;       /* REPLY: a non-negative integer id (anything else is OTHER) */
	json_t *ret;       /* REPLY: "return", NULL when the command failed */
	const char *err;   /* REPLY with ret NULL: QEMU's description, never NULL */
};

/* Parse one line (len bytes, no newline) from QEMU. 0 with *out, or -EPROTO when the line
 * is not a JSON object. */
int qmp_parse_line(const char *line, size_t len, struct qmp_line *out);

#endif
