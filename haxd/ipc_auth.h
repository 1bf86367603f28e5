/*
 * Who may ask haxd what, over the IPC socket. Two roles: "monitor" reads (status,
 * events, explain-failover: what haxctl status and check_haxd need), "operator" also
 * changes things (fence, fence-ack, domains, migrate, evacuate, maintenance, reload).
 * A client's role comes from the credentials of its connection as libqb reads them
 * (SO_PEERCRED: uid and effective gid) and from group memberships resolved ahead of
 * time (ipc_auth_build: at start and reload), so that no NSS lookup runs on the loop
 * and nothing is read from /proc/PID after the fact. Pure: no I/O but in build.
 */
#ifndef HAX_IPC_AUTH_H
#define HAX_IPC_AUTH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum ipc_role { IPC_ROLE_NONE = 0, IPC_ROLE_MONITOR, IPC_ROLE_OPERATOR };

#define IPC_AUTH_MAX_UIDS 256

/* One group: its gid ((gid_t)-1 if it does not exist) and the uids listed as members. */
struct ipc_auth_group {
	gid_t gid;
	size_t nuids;
	uid_t uids[IPC_AUTH_MAX_UIDS];
};

struct ipc_auth {
	struct ipc_auth_group operator;
	struct ipc_auth_group monitor;
};

/* Resolve both groups by name (NSS: call before the loop runs, or on reload). An empty
 * or unknown name leaves that group with gid (gid_t)-1. Never fails. */
void ipc_auth_build(struct ipc_auth *a, const char *operator_group, const char *monitor_group);

/* The role of a client with this uid and effective gid: root is operator. */
enum ipc_role ipc_auth_role(const struct ipc_auth *a, uid_t uid, gid_t gid);

/* The role a command needs (an unknown command needs only monitor, to be told it is
 * unknown). */
enum ipc_role ipc_cmd_role(const char *cmd);

const char *ipc_role_name(enum ipc_role r);

/* Parse a request body: len bytes of NUL-terminated JSON text, an object with a string
 * "cmd". 0 and *out (a new reference), or -EINVAL and a static reason in *why. */
int ipc_request_parse(const char *text, size_t len, json_t **out, const char **why);

#endif
