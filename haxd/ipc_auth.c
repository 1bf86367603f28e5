#include "ipc_auth.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>

/* Every command haxd serves and the role it needs. Changing the cluster needs operator. */
static const struct {
	const char *cmd;
	enum ipc_role role;
} cmd_roles[] = {
    {"status", IPC_ROLE_MONITOR},	  {"domain-list", IPC_ROLE_MONITOR},
    {"events", IPC_ROLE_MONITOR},	  {"explain-failover", IPC_ROLE_MONITOR},
    {"domain-add", IPC_ROLE_OPERATOR},	  {"domain-remove", IPC_ROLE_OPERATOR},
    {"domain-enable", IPC_ROLE_OPERATOR}, {"domain-disable", IPC_ROLE_OPERATOR},
    {"fence", IPC_ROLE_OPERATOR},	  {"fence-ack", IPC_ROLE_OPERATOR},
    {"migrate", IPC_ROLE_OPERATOR},	  {"evacuate", IPC_ROLE_OPERATOR},
    {"maintenance", IPC_ROLE_OPERATOR},	  {"reload", IPC_ROLE_OPERATOR},
};

static void build_group(struct ipc_auth_group *g, const char *name)
{
	struct group *gr = name && name[0] ? getgrnam(name) : NULL;
	size_t i;

	g->gid = (gid_t)-1;
	g->nuids = 0;
	if (!gr)
		return;
	g->gid = gr->gr_gid;
	for (i = 0; gr->gr_mem && gr->gr_mem[i] && g->nuids < IPC_AUTH_MAX_UIDS; i++) {
		struct passwd *pw = getpwnam(gr->gr_mem[i]);

		if (pw)
			g->uids[g->nuids++] = pw->pw_uid;
	}
}

void ipc_auth_build(struct ipc_auth *a, const char *operator_group, const char *monitor_group)
{
	/* getgrnam's buffer is reused: one group at a time. */
	build_group(&a->operator, operator_group);
	build_group(&a->monitor, monitor_group);
}

static bool in_group(const struct ipc_auth_group *g, uid_t uid, gid_t gid)
{
	size_t i;

	if (g->gid == (gid_t)-1)
		return false;
	if (gid == g->gid)
		return true;
	for (i = 0; i < g->nuids; i++)
		if (g->uids[i] == uid)
			return true;
	return false;
}

enum ipc_role ipc_auth_role(const struct ipc_auth *a, uid_t uid, gid_t gid)
{
	if (uid == 0)
		return IPC_ROLE_OPERATOR;
	if (in_group(&a->operator, uid, gid))
		return IPC_ROLE_OPERATOR;
	if (in_group(&a->monitor, uid, gid))
		return IPC_ROLE_MONITOR;
	return IPC_ROLE_NONE;
}

enum ipc_role ipc_cmd_role(const char *cmd)
{
	size_t i;

	for (i = 0; i < sizeof(cmd_roles) / sizeof(cmd_roles[0]); i++)
		if (strcmp(cmd, cmd_roles[i].cmd) == 0)
			return cmd_roles[i].role;
	return IPC_ROLE_MONITOR;
}

const char *ipc_role_name(enum ipc_role r)
{
	return r == IPC_ROLE_OPERATOR ? "operator" : r == IPC_ROLE_MONITOR ? "monitor" : "none";
}

int ipc_request_parse(const char *text, size_t len, json_t **out, const char **why)
{
	json_t *req;

	if (len == 0 || text[len - 1] != '\0' || memchr(text, '\0', len - 1)) {
		*why = "request is not NUL-terminated JSON";
		return -EINVAL;
	}
	req = json_loadb(text, len - 1, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(req) || !json_is_string(json_object_get(req, "cmd"))) {
		json_decref(req);
		*why = "request is not a JSON object with a \"cmd\"";
		return -EINVAL;
	}
	*out = req;
	return 0;
}
