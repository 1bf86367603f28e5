/*
 * One cluster member: the view (from corosync, or a fixed one-host view in standalone
 * mode), the sync phase after every view change, the replicated state's apply path,
 * the agent's messages and, on the lowest-nodeid member of a quorate view, the leader.
 * Standalone mode uses the same message path, looped back to itself.
 */
#ifndef HAX_NODE_H
#define HAX_NODE_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include <qb/qbloop.h>

#include "../agent/hv.h"
#include "../conf/conf.h"
#include "state.h"

struct node_params {
	struct hax_conf *conf;           /* owned by the caller; reloads update it in place */
	const struct conf_host *self;
	struct hax_state *state;         /* ownership passes to the node */
	const struct hv_ops *driver;
	bool standalone;
	const char *ipc_name;
	const struct ipc_auth *auth;     /* who may ask what over IPC (owned by the caller) */
	/* Re-read haxd.conf (haxctl reload); returns the reply {"ok",...}. */
	json_t *(*reload)(void);
};

/* Start agent, IPC, and the cluster connection (or the standalone view). 0 or -errno
 * with a message in err. */
int node_start(qb_loop_t *loop, const struct node_params *p, char *err, size_t errlen);
void node_stop(void);

#endif
