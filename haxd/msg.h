/*
 * Cluster messages (CPG group "haxd"): one JSON object per message with "v" (protocol
 * version) and "type". msg_decode is the only entry for bytes from a peer: anything
 * malformed, unknown or oversized is refused with a reason, never a crash.
 * Pure code: no I/O, no logging.
 */
#ifndef HAX_MSG_H
#define HAX_MSG_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define MSG_VERSION 1
#define MSG_MAX_BYTES (8u * 1024 * 1024) /* a hello: the state (STATE_MAX_JSON_BYTES) + 2 MiB */

/* Types and their members (all required):
 *   hello     view:{ring,members:[nodeid]}, version:{epoch,seq}, state:{...},
 *             inventory: object|null                    one per member per view
 *   change    seq (the state's seq once applied), change:{op...}   leader only
 *   inventory inv:{...}                                  an agent's report
 *   command   to:HOST, cmd:{op...}                       leader to one agent
 *   result    res:{...}                                  agent to leader
 *   request   id, origin:nodeid, req:{cmd...}            haxctl forwarded to the leader
 *   reply     id, to:nodeid, reply:{ok...}               the leader's answer
 *   progress  prog:{...}                                 a migration's progress, to all
 *   ping      (nothing)                                  a host with an armed watchdog,
 *             when it has sent nothing else lately: its delivery back to the sender is
 *             the fresh evidence of a working quorate ring that a feed needs; others
 *             ignore it */
enum msg_type {
	MSG_HELLO,
	MSG_CHANGE,
	MSG_INVENTORY,
	MSG_COMMAND,
	MSG_RESULT,
	MSG_REQUEST,
	MSG_REPLY,
	MSG_PROGRESS,
	MSG_PING,
	MSG_TYPE_COUNT
};

/* Parse and validate bytes from a peer. 0 with *out (new reference) and *type, or
 * -EINVAL/-E2BIG with a reason in err. */
int msg_decode(const void *buf, size_t len, json_t **out, enum msg_type *type, char *err,
	       size_t errlen);

/* A new message {"v":1,"type":NAME} to which the caller adds members. */
json_t *msg_new(enum msg_type type);

/* Encode for sending: malloc'd compact text (without NUL) and its length; NULL if it
 * would exceed MSG_MAX_BYTES. */
char *msg_encode(const json_t *msg, size_t *len);

const char *msg_type_name(enum msg_type type);

#endif
