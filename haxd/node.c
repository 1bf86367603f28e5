/*
 * A cluster member (DESIGN.md "Cluster protocol"). After every view change each member
 * multicasts a hello (its state version, full state and inventory) tagged with the
 * view; when the hellos of every member of the view have been delivered, every member
 * adopts the same newest state (virtual synchrony gives all the same hellos in the same
 * order), and the lowest-nodeid member of a quorate view becomes leader, bumps the epoch
 * and only then acts. State changes travel as "change" messages numbered with the seq
 * they produce, so a member that missed one notices instead of drifting.
 */
#include "node.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../agent/agent.h"
#include "../fencing/fence.h"
#include "../fencing/fence_scsi.h"
#include "scsi_watch.h"
#include "change.h"
#include "cluster.h"
#include "events.h"
#include "fence_check.h"
#include "ipc.h"
#include "leader.h"
#include "lib/loop.h"
#include "msg.h"
#include "policy.h"
#include "proposals.h"
#include "plan.h"
#include "status.h"
#include "sync.h"
#include "notify.h"
#include "fencing/watchdog.h"

#define AGENT_POLL_MS 1000
#define HELLO_LIST_WAIT_MS 5000
#define FORWARD_TIMEOUT_MS 15000

struct forward {
	struct forward *next;
	uint64_t id;
	struct ipc_call *call;
	hax_timer_t timer;
};

struct loopback {
	struct loopback *next;
	size_t len;
	char buf[];
};

static struct {
	qb_loop_t *loop;
	struct hax_conf *conf;
	json_t *(*reload)(void);
	struct conf_host self;
	struct hax_state *state;
	const struct hv_ops *driver;
	bool standalone;
	struct agent *agent;
	struct ipc_server *ipc;
	struct leader *leader;
	struct cluster_view view;
	bool synced;
	json_t *hellos[CLUSTER_MAX_NODES];  /* by index in view.members */
	struct {
		uint32_t from;
		json_t *hello;
	} early[CLUSTER_MAX_NODES];         /* hellos of a view not reached yet */
	bool hello_sent;                    /* in this view */
	hax_timer_t hello_timer;            /* hello_without_inventory */
	uint64_t next_seq;                  /* leader: seq its next change produces */
	struct proposals *props;            /* leader: its changes sent, not yet delivered */
	struct leader_memory memory;        /* our last term's fence timers ... */
	bool memory_valid;                  /* ... while no other host has led since */
	struct forward *fwd;
	uint64_t next_fwd_id;
	struct loopback *lb, **lb_tail;     /* standalone: messages to ourselves */
	uint64_t noquorum_since;            /* monotonic ns; 0 while quorate */
	const struct conf_fence *wd_dev;    /* our own watchdog, if a level of ours uses one */
	struct watchdog *wd;                /* armed while haxd runs (and past it, see node_stop) */
	int wd_err;                         /* last arming error logged, 0 = none */
	uint64_t wd_reported;               /* watchdog_ms our inventories carry */
	uint64_t last_own_ns;               /* monotonic: one of our messages came back */
	hax_timer_t wd_timer;
	bool scsi;                          /* a scsi fence device exists */
	bool scsi_registered;               /* our key is on the shared LUNs */
	struct fence_op *scsi_op;           /* registration in flight */
	bool isolated;                      /* the no-quorum policy has been applied */
	bool ready_sent;                    /* systemd told READY=1 (after the first sync) */
	uint32_t last_leader;               /* nodeid of the last leader a sync gave us; 0 = none yet */
	uint64_t leader_changes;            /* times that leader was another host than before */
	uint64_t dropped_msgs;              /* cluster messages msg_decode refused */
	uint64_t sd_watchdog_ms, sd_last_ping_ns;
	hax_timer_t lb_timer, tick_timer;
	hax_timer_t persist_timer;          /* the state changed: save it once the burst is in */
	bool persist_dirty;
	json_t *progress;                   /* {domain: last migration progress report} */
} nd;

static void deliver(uint32_t nodeid, const void *buf, size_t len);
static void scsi_follow_state(void);

/* ---- sending ---- */

static void loopback_flush(void *data)
{
	struct loopback *m;

	(void)data;
	nd.lb_timer = 0;
	while ((m = nd.lb)) {
		nd.lb = m->next;
		if (!nd.lb)
			nd.lb_tail = &nd.lb;
		deliver(nd.self.nodeid, m->buf, m->len);
		free(m);
	}
}

/* Standalone: deliver to ourselves from the loop, in order, never inside the call. */
static int loopback_send(const void *buf, size_t len)
{
	struct loopback *m = hax_xmalloc(sizeof(*m) + len);

	m->next = NULL;
	m->len = len;
	memcpy(m->buf, buf, len);
	*nd.lb_tail = m;
	nd.lb_tail = &m->next;
	if (!nd.lb_timer)
		hax_timer_add(0, loopback_flush, NULL, &nd.lb_timer);
	return 0;
}

/* Send a message (reference stolen). */
static int send_msg(json_t *msg)
{
	size_t len;
	char *text = msg_encode(msg, &len);
	int r;

	json_decref(msg);
	if (!text) {
		hax_log(LOG_ERR, "message too large to send, dropped");
		return -E2BIG;
	}
	r = nd.standalone ? loopback_send(text, len) : cluster_send(text, len);
	free(text);
	return r;
}

/* ---- names ---- */

static const char *host_name(uint32_t nodeid)
{
	const struct conf_host *h = conf_host_by_nodeid(nd.conf, nodeid);

	if (h)
		return h->name;
	return nodeid == nd.self.nodeid ? nd.self.name : NULL;
}

static bool in_view(uint32_t nodeid)
{
	size_t i;

	for (i = 0; i < nd.view.nmembers; i++)
		if (nd.view.members[i] == nodeid)
			return true;
	return false;
}

static bool alive_in_view(uint32_t nodeid)
{
	size_t i;

	for (i = 0; i < nd.view.nnodes; i++)
		if (nd.view.nodes[i] == nodeid)
			return true;
	return false;
}

/* The leader of the view: its lowest-nodeid member, if the view is quorate and synced. */
static uint32_t view_leader(void)
{
	if (!nd.view.connected || !nd.synced)
		return 0;
	return sync_view_leader(nd.view.quorate, nd.view.members, nd.view.nmembers,
				nd.view.nnodes, (size_t)nd.conf->nhosts);
}

/* ---- the replicated state ---- */

static void persist_now(void *data)
{
	int r;

	(void)data;
	hax_timer_del(nd.persist_timer);
	nd.persist_timer = 0;
	if (!nd.persist_dirty)
		return;
	nd.persist_dirty = false;
	r = state_save(nd.state, nd.conf->cluster.state_dir);
	if (r < 0)
		hax_log(LOG_CRIT, "cannot persist the state in %s: %s", nd.conf->cluster.state_dir,
			strerror(-r));
}

/* Saving writes and fsyncs the whole state: once per burst of changes (corosync hands
 * them over together), not once per change. Every member holds the changes meanwhile;
 * what this host is about to do on the strength of them (an agent command) flushes
 * first, so that a restart never finds an older state than what it acted on. */
static void persist(void)
{
	nd.persist_dirty = true;
	if (!nd.persist_timer && hax_timer_add(0, persist_now, NULL, &nd.persist_timer) < 0)
		persist_now(NULL);
}

/* Apply a delivered change. A change every member rejects still consumes its seq, so
 * all members stay numbered alike (the rejection is deterministic). */
static void apply_change(uint32_t from, const json_t *m)
{
	uint64_t seq = (uint64_t)json_integer_value(json_object_get(m, "seq"));
	struct hax_state *old;
	char err[256];

	if (!nd.synced || from != view_leader()) {
		hax_log(LOG_WARNING, "change from node %u outside a synced view with it as leader, dropped",
			from);
		return;
	}
	if (seq != nd.state->seq + 1) {
		hax_log(LOG_CRIT, "state change %llu does not follow our seq %llu: states diverged, dropped",
			(unsigned long long)seq, (unsigned long long)nd.state->seq);
		return;
	}
	old = state_clone(nd.state);
	if (change_apply(nd.state, json_object_get(m, "change"), err, sizeof(err)) < 0) {
		hax_log(LOG_WARNING, "state change %llu rejected: %s", (unsigned long long)seq, err);
		nd.state->seq = seq;
	}
	proposals_delivered(nd.props, seq);
	persist();
	events_diff(old, nd.state);
	state_free(old);
	scsi_follow_state();
}

/* ---- the leader's seam ---- */

static const struct hax_state *ops_state(void *opaque)
{
	(void)opaque;
	return nd.state;
}

static int send_change(void *opaque, uint64_t seq, const json_t *change)
{
	json_t *m = msg_new(MSG_CHANGE);

	(void)opaque;
	json_object_set_new(m, "seq", json_integer((json_int_t)seq));
	json_object_set(m, "change", (json_t *)change);
	return send_msg(m);
}

/* A change the leader already has in flight is not sent again; a change that could not
 * be sent does not use up its seq (haxd/proposals.h). */
static int ops_propose(void *opaque, json_t *change)
{
	int r = proposals_propose(nd.props, &nd.next_seq, change, send_change, opaque);

	json_decref(change);
	return r < 0 ? r : 0;
}

static int ops_command(void *opaque, const char *host, json_t *cmd)
{
	json_t *m = msg_new(MSG_COMMAND);

	(void)opaque;
	json_object_set_new(m, "to", json_string(host));
	json_object_set_new(m, "cmd", cmd);
	return send_msg(m);
}

static int ops_validate(void *opaque, const char *definition, char *err, size_t errlen)
{
	int r;

	(void)opaque;
	r = nd.driver->validate(definition, err, errlen);
	if (r == 0 && nd.driver->policy)
		r = nd.driver->policy(definition, nd.conf->cluster.domain_paths, err, errlen);
	return r;
}

static uint64_t ops_now_real(void *opaque)
{
	(void)opaque;
	return hax_now_real_ns();
}

static uint64_t ops_now_mono(void *opaque)
{
	(void)opaque;
	return hax_now_mono_ns();
}

struct fence_ctx {
	const struct fence_driver *drv;
	struct fence_op *op;
	void (*done)(void *data, int result, const char *msg);
	void *data;
};

static void fence_done(void *opaque, int result, const char *msg)
{
	struct fence_ctx *ctx = opaque;

	ctx->done(ctx->data, result, msg);
	free(ctx);
}

static int ops_fence(void *opaque, const char *host, uint32_t nodeid, int dev, bool dry_run,
		     void (*done)(void *data, int result, const char *msg), void *data,
		     void **handle)
{
	const struct conf_fence *d = &nd.conf->fences[dev];
	const struct hax_host *sh = state_host(nd.state, host);
	struct fence_target t = {.host = host, .nodeid = nodeid,
				 .watchdog_ms = sh ? sh->watchdog_ms : 0};
	struct fence_ctx *ctx;
	int r;

	(void)opaque;
	ctx = hax_xcalloc(1, sizeof(*ctx));
	ctx->drv = fence_driver_for(d->driver);
	ctx->done = done;
	ctx->data = data;
	if (!ctx->drv) {
		free(ctx);
		return -ENOTSUP;
	}
	r = ctx->drv->start(nd.conf, d, &t, dry_run, fence_done, ctx, &ctx->op);
	if (r < 0) {
		hax_log(LOG_ERR, "fence device %s (%s) for %s: %s", d->name, ctx->drv->name, host,
			strerror(-r));
		free(ctx);
		return r;
	}
	*handle = ctx;
	return 0;
}

static void ops_fence_cancel(void *opaque, void *handle)
{
	struct fence_ctx *ctx = handle;

	(void)opaque;
	ctx->drv->cancel(ctx->op);
	free(ctx);
}

static bool ops_start_ok(void *opaque, const struct hax_domain *d, char *why, size_t len)
{
	(void)opaque;
	return scsi_watch_start_ok(d->definition, why, len);
}

static struct leader_ops leader_ops = {
	.fence = ops_fence,
	.fence_cancel = ops_fence_cancel,
	.state = ops_state,
	.propose = ops_propose,
	.command = ops_command,
	.validate = ops_validate,
	.start_ok = ops_start_ok,
	.now_real = ops_now_real,
	.now_mono = ops_now_mono,
};

static void stop_leading(void)
{
	if (!nd.leader)
		return;
	leader_remember(nd.leader, &nd.memory);
	nd.memory_valid = true;
	leader_free(nd.leader);
	nd.leader = NULL;
	hax_log(LOG_NOTICE, "leader role stopped");
}

/* The host names of the view's haxd members, for the epoch change (state.h "doubt"). */
static json_t *member_names(void)
{
	json_t *names = json_array();
	size_t i;

	for (i = 0; i < nd.view.nmembers; i++) {
		const char *name = host_name(nd.view.members[i]);

		if (name)
			json_array_append_new(names, json_string(name));
	}
	return names;
}

/* This host's place among the configured nodeids (sync_first_incarnation). */
static unsigned self_rank(void)
{
	uint32_t ids[CONF_MAX_HOSTS];
	int i;

	for (i = 0; i < nd.conf->nhosts; i++)
		ids[i] = nd.conf->hosts[i].nodeid;
	return sync_rank(ids, (size_t)nd.conf->nhosts, nd.self.nodeid);
}

/* The members' hosts, their inventories from the hellos, a new epoch, then act. */
static void start_leading(void)
{
	uint64_t epoch = sync_next_epoch(nd.state->epoch, nd.self.nodeid, hax_now_real_ns());
	size_t i;

	leader_ops.migrate_live = nd.driver->live_migration;
	leader_ops.self = nd.self.name;
	/* Standalone, the operator runs one host by choice: nothing else can hold a state. */
	leader_ops.minority = !nd.standalone &&
			      !sync_members_majority(nd.view.nmembers, (size_t)nd.conf->nhosts);
	leader_ops.first_incarnation = sync_first_incarnation(epoch, self_rank());
	nd.leader = leader_new(nd.conf, &leader_ops);
	nd.next_seq = nd.state->seq + 1;
	proposals_clear(nd.props);
	for (i = 0; i < (size_t)nd.conf->nhosts; i++) {
		const struct conf_host *h = &nd.conf->hosts[i];

		leader_set_member(nd.leader, h->name, h->nodeid, in_view(h->nodeid),
				  alive_in_view(h->nodeid));
	}
	if (nd.conf->nhosts == 0)
		leader_set_member(nd.leader, nd.self.name, nd.self.nodeid, true, true);
	if (nd.memory_valid)
		leader_recall(nd.leader, &nd.memory);
	for (i = 0; i < nd.view.nmembers; i++) {
		const json_t *inv = json_object_get(nd.hellos[i], "inventory");

		if (json_is_object(inv))
			leader_on_inventory(nd.leader, inv);
	}
	ops_propose(NULL, json_pack("{s:s, s:I, s:o}", "op", "epoch", "epoch", (json_int_t)epoch,
				    "members", member_names()));
	hax_log(LOG_NOTICE, "leader of %zu member(s)%s, term %llu", nd.view.nmembers,
		leader_ops.minority ? " (a minority of the hosts: fencing every other first)" : "",
		(unsigned long long)(epoch >> 32));
	leader_tick(nd.leader);
}

/* ---- SCSI-3 registration: the rejoin rule's last step ---- */

static void scsi_registered(void *opaque, int result, const char *msg)
{
	(void)opaque;
	nd.scsi_op = NULL;
	nd.scsi_registered = result == 0;
	hax_log(result == 0 ? LOG_NOTICE : LOG_ERR, "%s%s", msg,
		result == 0 ? "" : " (retrying at the next tick)");
	/* Confirm at once that fencing is back, rather than an interval later. */
	if (result == 0)
		scsi_watch_kick();
}

/* Register our key unless the replicated state says we are fenced: a fenced host first
 * has its domains destroyed and is set online by the leader, and only then comes back. */
static void scsi_maybe_register(void)
{
	const struct hax_host *me = state_host(nd.state, nd.self.name);

	if (!nd.scsi || nd.scsi_registered || nd.scsi_op || !nd.synced || !nd.view.quorate)
		return;
	if (me && (me->state == HOST_FENCED || me->state == HOST_FENCING))
		return;
	if (fence_scsi_register(nd.conf, scsi_registered, NULL, &nd.scsi_op) < 0)
		nd.scsi_op = NULL;
}

/* Applied changes may fence us (our registration is gone) or let us back in. */
static void scsi_follow_state(void)
{
	const struct hax_host *me = state_host(nd.state, nd.self.name);

	if (nd.scsi && me && (me->state == HOST_FENCED || me->state == HOST_FENCING))
		nd.scsi_registered = false;
	scsi_maybe_register();
}

/* A check found our key gone (a target that failed over or restarted keeps nothing) or
 * fencing not in force: register again, which also takes the reservation back, but only
 * through scsi_maybe_register's rule (a member in good standing, never fenced or being
 * fenced). A fenced host's key is never given back this way. */
static void scsi_verdict(int storage, enum scsi_verdict v, bool need_register, void *opaque)
{
	(void)storage;
	(void)v;
	(void)opaque;
	if (need_register)
		nd.scsi_registered = false;
	scsi_maybe_register();
}

/* Was host's last confirmed fence done by a level with a scsi device? Then its key must
 * stay off the LUNs. (A host fenced by power keeps its key listed, harmlessly: it is off.) */
static bool fenced_by_scsi(const char *host)
{
	for (size_t i = nd.state->nfence; i-- > 0;) {
		const struct hax_fence_record *r = &nd.state->fence[i];
		char method[HAX_NAME_MAX], *save = NULL;

		if (strcmp(r->host, host) != 0 || !r->ok)
			continue;
		hax_strlcpy(method, r->method, sizeof(method));
		for (char *dev = strtok_r(method, "+", &save); dev; dev = strtok_r(NULL, "+", &save))
			for (int k = 0; k < nd.conf->nfences; k++)
				if (nd.conf->fences[k].driver == CONF_FENCE_SCSI &&
				    strcmp(nd.conf->fences[k].name, dev) == 0)
					return true;
		return false;
	}
	return false;
}

/* Run the checks that are due; the keys of hosts fenced by scsi must be gone. */
static void scsi_watch_due(void)
{
	uint64_t absent[STATE_MAX_HOSTS];
	int n = 0;

	for (size_t i = 0; i < nd.state->nhosts && n < STATE_MAX_HOSTS; i++)
		if (nd.state->hosts[i].state == HOST_FENCED && fenced_by_scsi(nd.state->hosts[i].name))
			absent[n++] = fence_scsi_key(nd.state->hosts[i].nodeid);
	scsi_watch_tick(absent, n);
}

/* ---- systemd ---- */

/* READY=1 once the first sync is done, then STATUS with the role and quorum. */
static void tell_systemd(void)
{
	char text[256];
	uint32_t lid = view_leader();

	snprintf(text, sizeof(text), "%sSTATUS=%s, %s, leader %s, state (%llu, %llu)",
		 nd.ready_sent ? "" : "READY=1\n",
		 lid == nd.self.nodeid ? "leader" : "member",
		 nd.view.connected ? (nd.view.quorate ? "quorate" : "NO QUORUM")
				   : "not connected to corosync",
		 lid && host_name(lid) ? host_name(lid) : "none",
		 (unsigned long long)nd.state->epoch, (unsigned long long)nd.state->seq);
	if (notify_send(text) == 0)
		nd.ready_sent = true;
}

/* ---- views and the sync phase ---- */

static json_t *view_tag(void)
{
	json_t *members = json_array();
	size_t i;

	for (i = 0; i < nd.view.nmembers; i++)
		json_array_append_new(members, json_integer(nd.view.members[i]));
	/* The quorate flag too: a quorum change within one ring (a qdevice vote) is a new
	 * view, and a hello of the old one must not count in it. */
	return json_pack("{s:I, s:I, s:o, s:b}", "ring", (json_int_t)nd.view.ring, "ring_node",
			 (json_int_t)nd.view.ring_node, "members", members, "quorate",
			 nd.view.quorate);
}

static void clear_hellos(void)
{
	size_t i;

	for (i = 0; i < CLUSTER_MAX_NODES; i++) {
		json_decref(nd.hellos[i]);
		nd.hellos[i] = NULL;
	}
}

/* A hello for a view this member has not reached yet (the quorum notification of a
 * quorum-only change arrives at each member at its own time, while CPG keeps delivering):
 * kept, the latest per sender, until that view is ours. */
static void keep_early_hello(uint32_t from, json_t *m)
{
	size_t i, slot = CLUSTER_MAX_NODES;

	for (i = 0; i < CLUSTER_MAX_NODES; i++) {
		if (nd.early[i].from == from || (!nd.early[i].hello && slot == CLUSTER_MAX_NODES))
			slot = i;
		if (nd.early[i].from == from)
			break;
	}
	if (slot == CLUSTER_MAX_NODES)
		return;
	json_decref(nd.early[slot].hello);
	nd.early[slot].from = from;
	nd.early[slot].hello = json_incref(m);
}

static void on_hello(uint32_t from, json_t *m);

/* The kept hellos of the view just installed count now; the others are dropped. */
static void take_early_hellos(void)
{
	json_t *tag = view_tag();
	size_t i;

	for (i = 0; i < CLUSTER_MAX_NODES; i++) {
		json_t *h = nd.early[i].hello;
		uint32_t from = nd.early[i].from;

		nd.early[i].hello = NULL;
		nd.early[i].from = 0;
		/* Its inventory may predate what happened since it was sent: without it, the
		 * leader waits for that host's next report. */
		if (h && json_equal(tag, json_object_get(h, "view")) && !nd.synced) {
			json_object_set_new(h, "inventory", json_null());
			on_hello(from, h);
		}
		json_decref(h);
	}
	json_decref(tag);
}

/* What we tell the leader: the agent's inventory plus, where our fence levels use a
 * watchdog, the timeout our device accepted (0: not armed), which the leader records
 * and the watchdog fence trusts. */
static json_t *inventory_out(const json_t *inv)
{
	json_t *o = json_deep_copy(inv);

	if (nd.wd_dev)
		json_object_set_new(o, "watchdog_ms", json_integer((json_int_t)nd.wd_reported));
	return o;
}

/* The hello carries an inventory taken after the view change: a stale one could miss a
 * domain whose start was in flight, and a new leader would start it a second time. */
static void send_hello(void *opaque, const json_t *inv)
{
	json_t *m;

	(void)opaque;
	if (!nd.view.connected || nd.synced || nd.hello_sent || !in_view(nd.self.nodeid))
		return;
	nd.hello_sent = true;
	hax_timer_del(nd.hello_timer);
	nd.hello_timer = 0;
	m = msg_new(MSG_HELLO);

	json_object_set_new(m, "view", view_tag());
	json_object_set_new(m, "version", json_pack("{s:I, s:I}", "epoch",
						    (json_int_t)nd.state->epoch, "seq",
						    (json_int_t)nd.state->seq));
	json_object_set_new(m, "state", state_to_json(nd.state));
	json_object_set_new(m, "inventory", inv ? inventory_out(inv) : json_null());
	send_msg(m);
}

static void hello_without_inventory(void *data)
{
	(void)data;
	nd.hello_timer = 0;
	if (nd.hello_sent || nd.synced)
		return;
	hax_log(LOG_WARNING, "sync: no inventory after %d ms (the hypervisor does not list); saying hello without one",
		HELLO_LIST_WAIT_MS);
	send_hello(NULL, NULL);
}

static void on_view(void *opaque, const struct cluster_view *v)
{
	(void)opaque;
	stop_leading();
	nd.view = *v;
	nd.synced = false;
	nd.hello_sent = false;
	clear_hellos();
	if (nd.ready_sent)
		tell_systemd();
	if (!v->connected)
		return;
	hax_log(LOG_NOTICE, "view: ring %llu, %s, %zu haxd member(s) of %zu node(s); syncing",
		(unsigned long long)v->ring, v->quorate ? "quorate" : "NOT quorate",
		v->nmembers, v->nnodes);
	if (!in_view(nd.self.nodeid))
		return;
	agent_snapshot(nd.agent, send_hello, NULL);
	/* A hypervisor that cannot list must not keep the cluster from syncing: past the
	 * wait, the hello goes without an inventory (the leader then waits for this host's
	 * report before deciding, and fences others meanwhile). */
	hax_timer_del(nd.hello_timer);
	hax_timer_add(HELLO_LIST_WAIT_MS, hello_without_inventory, NULL, &nd.hello_timer);
	take_early_hellos();
}

/* Pick the newest state among the hellos (sync_pick_newest's rule); bad ones and those
 * of another cluster are skipped. */
static struct hax_state *newest_state(uint32_t *from)
{
	struct hax_state *states[CLUSTER_MAX_NODES] = {NULL};
	size_t i;
	int best;

	for (i = 0; i < nd.view.nmembers; i++) {
		char err[256];

		if (state_from_json(json_object_get(nd.hellos[i], "state"), &states[i], err,
				    sizeof(err)) < 0) {
			hax_log(LOG_ERR, "hello from node %u carries a bad state (%s), ignoring it",
				nd.view.members[i], err);
			states[i] = NULL;
		} else if (strcmp(states[i]->cluster, nd.conf->cluster.name) != 0) {
			state_free(states[i]);
			states[i] = NULL;
		}
	}
	best = sync_pick_newest(states, nd.view.nmembers);
	sync_merge_incarnations(states, nd.view.nmembers, best);
	for (i = 0; i < nd.view.nmembers; i++)
		if ((int)i != best)
			state_free(states[i]);
	if (best < 0)
		return NULL;
	*from = nd.view.members[best];
	return states[best];
}

/* Count a change of leader: a sync that ends under another host than the last one that led.
 * A re-election of the same host (every view change ends one term and starts the next,
 * see the epoch) and a spell without quorum that the same leader survives are not changes. */
static void note_leader(void)
{
	uint32_t lid = view_leader();

	/* Another host's term means our timers are stale: it may have fenced meanwhile. */
	if (lid && lid != nd.self.nodeid)
		nd.memory_valid = false;
	if (!lid || lid == nd.last_leader)
		return;
	if (nd.last_leader) {
		nd.leader_changes++;
		hax_log(LOG_NOTICE, "leader changed from %s to %s (%llu change(s) seen since start)",
			host_name(nd.last_leader) ? host_name(nd.last_leader) : "?",
			host_name(lid) ? host_name(lid) : "?",
			(unsigned long long)nd.leader_changes);
	}
	nd.last_leader = lid;
}

static void sync_complete(void)
{
	uint32_t from = 0;
	struct hax_state *best = newest_state(&from);

	if (best && state_version_cmp(best, nd.state) > 0) {
		hax_log(LOG_NOTICE, "sync: adopting state (%llu, %llu) from node %u (ours was (%llu, %llu))",
			(unsigned long long)best->epoch, (unsigned long long)best->seq, from,
			(unsigned long long)nd.state->epoch, (unsigned long long)nd.state->seq);
		events_diff(nd.state, best);
		state_free(nd.state);
		nd.state = best;
		persist();
	} else {
		/* The same history: only the incarnations of the others are news. */
		if (best && best->last_incarnation > nd.state->last_incarnation)
			nd.state->last_incarnation = best->last_incarnation;
		state_free(best);
	}
	nd.synced = true;
	note_leader();
	if (nd.isolated && nd.view.quorate) {
		const struct hax_host *me = state_host(nd.state, nd.self.name);

		nd.isolated = false;
		/* Thaw only if nobody fenced us meanwhile: a fenced host's domains may run
		 * elsewhere now, and the leader destroys ours (rejoin rule). */
		if (!me || me->state != HOST_FENCED)
			agent_rejoined(nd.agent);
	}
	/* Inventories taken before the sync were not sent: report afresh. */
	if (nd.agent)
		agent_request_inventory(nd.agent);
	scsi_follow_state();
	hax_log(LOG_INFO, "sync: done, state (%llu, %llu)", (unsigned long long)nd.state->epoch,
		(unsigned long long)nd.state->seq);
	tell_systemd();
	if (view_leader() == nd.self.nodeid)
		start_leading();
}

static void on_hello(uint32_t from, json_t *m)
{
	json_t *tag = view_tag();
	size_t i, have = 0;
	bool same = json_equal(tag, json_object_get(m, "view"));

	json_decref(tag);
	if (!same || nd.synced) {
		/* Of a view we may not have reached yet (the same ring, our quorum notification
		 * still to come): kept; of an older one: never taken, since views only move on. */
		if (!same && json_integer_value(json_object_get(json_object_get(m, "view"),
								 "ring")) == (json_int_t)nd.view.ring)
			keep_early_hello(from, m);
		return;
	}
	for (i = 0; i < nd.view.nmembers; i++) {
		if (nd.view.members[i] == from) {
			json_decref(nd.hellos[i]);
			nd.hellos[i] = json_incref(m);
		}
		have += nd.hellos[i] != NULL;
	}
	if (have == nd.view.nmembers)
		sync_complete();
}

/* ---- operator requests ---- */

static json_t *error_reply(const char *msg)
{
	return json_pack("{s:b, s:s}", "ok", 0, "error", msg);
}

static json_t *status_reply(void)
{
	uint32_t lid = view_leader();
	struct status_runtime rt = {
		.cluster = nd.conf->cluster.name,
		.quorate = nd.view.connected && nd.view.quorate,
		.leader = lid && host_name(lid) ? host_name(lid) : "",
		.self = nd.self.name,
		.mode = nd.standalone ? "standalone" : "cluster",
		.progress = nd.progress,
		.leader_changes = nd.leader_changes,
		.dropped_messages = nd.dropped_msgs,
	};

	json_t *st = status_json(nd.state, &rt);

	char warn[CONF_MAX_HOSTS][512];
	int nw = conf_warnings(nd.conf, warn, CONF_MAX_HOSTS);
	json_t *warnings = json_array();

	/* This host's own view of its storages: fencing in force or not (issue 17), and
	 * the configuration's advice (a scsi-only host on a target without APTPL). */
	json_object_set_new(st, "storage", scsi_watch_json());
	for (int i = 0; i < nw; i++)
		json_array_append_new(warnings, json_string(warn[i]));
	json_object_set_new(st, "warnings", warnings);
	return st;
}

static void forward_expired(void *data)
{
	struct forward *f = data, **pp;

	for (pp = &nd.fwd; *pp; pp = &(*pp)->next)
		if (*pp == f) {
			*pp = f->next;
			break;
		}
	ipc_reply(f->call, error_reply("no answer from the leader (did it change?); check haxctl status and retry"));
	free(f);
}

static void forward_to_leader(const json_t *req, struct ipc_call *call)
{
	struct forward *f = hax_xcalloc(1, sizeof(*f));
	json_t *m = msg_new(MSG_REQUEST);

	f->id = ++nd.next_fwd_id;
	f->call = call;
	f->next = nd.fwd;
	nd.fwd = f;
	hax_timer_add(FORWARD_TIMEOUT_MS, forward_expired, f, &f->timer);
	json_object_set_new(m, "id", json_integer((json_int_t)f->id));
	json_object_set_new(m, "origin", json_integer(nd.self.nodeid));
	json_object_set_new(m, "req", json_deep_copy(req));
	send_msg(m);
}

static void on_reply(const json_t *m)
{
	uint64_t id = (uint64_t)json_integer_value(json_object_get(m, "id"));
	struct forward *f, **pp;

	if ((uint32_t)json_integer_value(json_object_get(m, "to")) != nd.self.nodeid)
		return;
	for (pp = &nd.fwd; (f = *pp); pp = &f->next) {
		if (f->id != id)
			continue;
		*pp = f->next;
		hax_timer_del(f->timer);
		ipc_reply(f->call, json_deep_copy(json_object_get(m, "reply")));
		free(f);
		return;
	}
}

/* The leader is told which host a request comes from (a DRBD peer's fence request is
 * judged by it): the sender corosync names, never what the client wrote. */
static json_t *stamp_requester(const json_t *req, uint32_t nodeid)
{
	json_t *r = json_deep_copy(req);
	const char *name = host_name(nodeid);

	json_object_set_new(r, "requester", json_string(name ? name : ""));
	return r;
}

static void on_leader_request(uint32_t from, const json_t *m)
{
	json_t *reply, *r, *req;

	if (!nd.leader)
		return;
	req = stamp_requester(json_object_get(m, "req"), from);
	reply = leader_request(nd.leader, req);
	json_decref(req);
	r = msg_new(MSG_REPLY);
	json_object_set(r, "id", json_object_get(m, "id"));
	json_object_set(r, "to", json_object_get(m, "origin"));
	json_object_set_new(r, "reply", reply);
	send_msg(r);
	leader_tick(nd.leader);
}

/* The worst-case failover timeline from the live configuration (haxctl explain-failover):
 * detection by corosync, the view sync and a leader tick, each fence level in turn, a
 * tick to place, and the start. */
static json_t *phase(const char *what, uint64_t ms, const char *detail)
{
	return json_pack("{s:s, s:I, s:s}", "phase", what, "ms", (json_int_t)ms, "detail", detail);
}

static json_t *fence_phases(const struct conf_host *h, uint64_t *total)
{
	json_t *arr = json_array();
	char what[64], detail[256];
	int i, k;

	for (i = 0; i < h->nlevels; i++) {
		uint64_t worst = 0;

		detail[0] = '\0';
		for (k = 0; k < h->levels[i].ndev; k++) {
			const struct conf_fence *d = &nd.conf->fences[h->levels[i].dev[k]];

			worst = d->timeout_ms > worst ? d->timeout_ms : worst;
			snprintf(detail + strlen(detail), sizeof(detail) - strlen(detail),
				 "%s%s (%s, timeout %llu ms)", k ? " + " : "", d->name,
				 conf_fence_driver_name(d->driver),
				 (unsigned long long)d->timeout_ms);
		}
		snprintf(what, sizeof(what), "fence level %d%s", i + 1,
			 i ? " (if the levels before failed)" : "");
		json_array_append_new(arr, phase(what, worst, detail));
		*total += worst;
	}
	if (h->nlevels == 0) {
		json_array_append_new(arr, phase("fence", 0, "no fence device: the domains wait for haxctl fence-ack"));
	}
	return arr;
}

static json_t *explain_failover(const char *name)
{
	const struct conf_host *h = name ? conf_host_by_name(nd.conf, name) : NULL;
	const struct conf_cluster *c = &nd.conf->cluster;
	uint32_t token = 0, consensus = 0;
	uint64_t total = 0;
	char detail[256];
	json_t *phases = json_array(), *fp;

	if (!h && name)
		return error_reply("no such host in the configuration");
	if (!h && nd.conf->nhosts > 0)
		h = &nd.conf->hosts[nd.conf->nhosts - 1];
	if (!nd.standalone && cluster_totem_ms(&token, &consensus) == 0) {
		snprintf(detail, sizeof(detail),
			 "corosync token %u ms + consensus %u ms (effective values for %zu nodes)",
			 token, consensus, nd.view.nnodes);
		json_array_append_new(phases, phase("detection", token + consensus, detail));
		total += token + consensus;
	}
	json_array_append_new(phases, phase("sync and leader tick", c->tick_ms,
					    "members exchange state, the leader decides at its next tick"));
	total += c->tick_ms;
	if (h) {
		fp = fence_phases(h, &total);
		json_array_extend(phases, fp);
		json_decref(fp);
	}
	json_array_append_new(phases, phase("placement", c->tick_ms, "next leader tick"));
	snprintf(detail, sizeof(detail), "start_timeout; a failed start is retried elsewhere up to %u times",
		 c->start_retries);
	json_array_append_new(phases, phase("start", c->start_timeout_ms, detail));
	total += c->tick_ms + c->start_timeout_ms;
	return json_pack("{s:b, s:s, s:o, s:I}", "ok", 1, "host", h ? h->name : "", "phases",
			 phases, "worst_case_ms", (json_int_t)total);
}

/* haxctl plan --lose: placement from the replicated state by the leader's own policy
 * (plan.c), and the slowest failover timeline among the lost hosts. Changes nothing. */
static json_t *plan_reply(const json_t *lose)
{
	json_t *r = plan_lose(nd.state, lose), *worst = NULL, *v;
	size_t i;

	if (!json_is_true(json_object_get(r, "ok")))
		return r;
	json_array_foreach(json_object_get(r, "lose"), i, v) {
		json_t *t = explain_failover(json_string_value(v));

		if (json_is_true(json_object_get(t, "ok")) &&
		    (!worst || json_integer_value(json_object_get(t, "worst_case_ms")) >
				       json_integer_value(json_object_get(worst, "worst_case_ms")))) {
			json_decref(worst);
			worst = t;
		} else {
			json_decref(t);
		}
	}
	if (worst)
		json_object_del(worst, "ok");
	json_object_set_new(r, "timeline", worst ? worst : json_null());
	return r;
}

static void on_request(void *opaque, const json_t *req, struct ipc_call *call)
{
	const char *cmd = json_string_value(json_object_get(req, "cmd"));

	(void)opaque;
	if (strcmp(cmd, "status") == 0 || strcmp(cmd, "domain-list") == 0) {
		ipc_reply(call, status_reply());
	} else if (strcmp(cmd, "events") == 0) {
		ipc_reply(call, json_pack("{s:b, s:o}", "ok", 1, "events", events_json()));
	} else if (strcmp(cmd, "reload") == 0) {
		ipc_reply(call, nd.reload ? nd.reload() : error_reply("reload is not available"));
	} else if (strcmp(cmd, "explain-failover") == 0) {
		ipc_reply(call, explain_failover(json_string_value(json_object_get(req, "host"))));
	} else if (strcmp(cmd, "plan") == 0) {
		ipc_reply(call, plan_reply(json_object_get(req, "lose")));
	} else if (strcmp(cmd, "fence") == 0 && json_is_true(json_object_get(req, "dry_run"))) {
		/* From this host, not the leader's: any member may have to fence. */
		fence_check_start(nd.conf, json_string_value(json_object_get(req, "host")), call);
	} else if (strncmp(cmd, "domain-", 7) != 0 && strcmp(cmd, "fence") != 0 &&
		   strcmp(cmd, "fence-ack") != 0 && strcmp(cmd, "migrate") != 0 &&
		   strcmp(cmd, "evacuate") != 0 && strcmp(cmd, "maintenance") != 0) {
		ipc_reply(call, error_reply("unknown command"));
	} else if (nd.leader) {
		json_t *r = stamp_requester(req, nd.self.nodeid);

		ipc_reply(call, leader_request(nd.leader, r));
		json_decref(r);
		leader_tick(nd.leader);
	} else if (!nd.view.connected) {
		ipc_reply(call, error_reply("not connected to corosync: this host is not in a cluster"));
	} else if (!nd.view.quorate) {
		ipc_reply(call, error_reply("no quorum in this partition: there is no leader to ask"));
	} else if (!nd.synced) {
		ipc_reply(call, error_reply("the cluster is synchronising; retry in a moment"));
	} else {
		forward_to_leader(req, call);
	}
}

/* ---- delivery ---- */

/* Every member keeps the last progress report of each migration, for status and
 * haxctl --wait on any host; the report goes once the domain is no longer migrating. */
static void on_progress(const json_t *p)
{
	const char *name = json_string_value(json_object_get(p, "name"));
	size_t i;

	if (!name || !hax_valid_name(name) || !json_is_string(json_object_get(p, "phase")))
		return;
	if (!nd.progress)
		nd.progress = json_object();
	json_object_set(nd.progress, name, (json_t *)p);
	/* Forget finished migrations (the table stays as small as the migrations under way). */
	for (i = 0; i < nd.state->ndomains; i++)
		if (nd.state->domains[i].state != DOM_MIGRATING)
			json_object_del(nd.progress, nd.state->domains[i].name);
}

static void deliver(uint32_t nodeid, const void *buf, size_t len)
{
	enum msg_type type;
	char err[256];
	json_t *m;

	/* Our own message back from corosync, in agreed order: the ring we are in works. */
	if (nodeid == nd.self.nodeid)
		nd.last_own_ns = hax_now_mono_ns();
	if (msg_decode(buf, len, &m, &type, err, sizeof(err)) < 0) {
		nd.dropped_msgs++;
		hax_log(LOG_WARNING, "message from node %u dropped: %s", nodeid, err);
		return;
	}
	switch (type) {
	case MSG_HELLO:
		on_hello(nodeid, m);
		break;
	case MSG_CHANGE:
		apply_change(nodeid, m);
		break;
	case MSG_INVENTORY:
		if (nd.leader) {
			leader_on_inventory(nd.leader, json_object_get(m, "inv"));
			leader_tick(nd.leader);
		}
		break;
	case MSG_COMMAND:
		if (nd.agent && nodeid == view_leader() &&
		    strcmp(json_string_value(json_object_get(m, "to")), nd.self.name) == 0) {
			persist_now(NULL);
			agent_command(nd.agent, json_object_get(m, "cmd"));
		}
		break;
	case MSG_RESULT:
		if (nd.leader)
			leader_on_result(nd.leader, json_object_get(m, "res"));
		break;
	case MSG_REQUEST:
		on_leader_request(nodeid, m);
		break;
	case MSG_REPLY:
		on_reply(m);
		break;
	case MSG_PROGRESS:
		on_progress(json_object_get(m, "prog"));
		break;
	default:
		break;
	}
	json_decref(m);
}

static void on_deliver(void *opaque, uint32_t nodeid, const void *buf, size_t len)
{
	(void)opaque;
	deliver(nodeid, buf, len);
}

/* ---- the agent's reports ---- */

static void agent_inventory(void *opaque, const json_t *inv)
{
	json_t *m;

	(void)opaque;
	if (!nd.synced)
		return; /* the next hello carries it */
	m = msg_new(MSG_INVENTORY);
	json_object_set_new(m, "inv", inventory_out(inv));
	send_msg(m);
}

static void agent_progress(void *opaque, const json_t *prog)
{
	json_t *m = msg_new(MSG_PROGRESS);

	(void)opaque;
	json_object_set_new(m, "prog", json_deep_copy(prog));
	send_msg(m);
}

static void agent_result(void *opaque, const json_t *res)
{
	json_t *m = msg_new(MSG_RESULT);

	(void)opaque;
	json_object_set_new(m, "res", json_deep_copy(res));
	if (send_msg(m) < 0)
		hax_log(LOG_WARNING, "result of %s %s not sent (no cluster); the next leader reconciles",
			json_string_value(json_object_get(res, "cmd")),
			json_string_value(json_object_get(res, "name")));
}

/* ---- lifecycle ---- */

/* The no-quorum policy (DESIGN.md layer 4): a host cut off from the quorate partition for
 * no_quorum_timeout stops (or freezes) its domains, which the other side restarts once
 * it has fenced this host. */
static void check_quorum(void)
{
	uint64_t now = hax_now_mono_ns();

	if (nd.view.connected && nd.view.quorate) {
		nd.noquorum_since = 0;
		return;
	}
	if (!nd.noquorum_since)
		nd.noquorum_since = now;
	if (nd.isolated ||
	    now - nd.noquorum_since < nd.conf->cluster.no_quorum_timeout_ms * 1000000ull)
		return;
	nd.isolated = true;
	hax_log(LOG_CRIT, "no quorum for %llu ms: applying the no-quorum policy (%s) to every domain here",
		(unsigned long long)nd.conf->cluster.no_quorum_timeout_ms,
		nd.conf->cluster.no_quorum_policy == CONF_NQ_FREEZE ? "freeze" : "stop");
	agent_isolated(nd.agent, nd.conf->cluster.no_quorum_policy == CONF_NQ_FREEZE,
		       nd.conf->cluster.stop_timeout_ms);
}

/* Domains hax manages that are here or may be: listed by the last inventory, under an
 * operation right now (a start in flight is not listed yet), or placed here by the state. */
static size_t managed_here(void)
{
	const json_t *doms = nd.agent ? json_object_get(agent_last_inventory(nd.agent), "domains")
				      : NULL;
	size_t i, n = nd.agent ? agent_ops_in_flight(nd.agent) : 0;

	for (i = 0; i < json_array_size(doms); i++) {
		const char *name = json_string_value(json_object_get(json_array_get(doms, i), "name"));

		n += name && state_domain(nd.state, name);
	}
	for (i = 0; nd.state && i < nd.state->ndomains; i++) {
		const struct hax_domain *d = &nd.state->domains[i];

		n += policy_dom_holds_host(d) &&
		     (strcmp(d->host, nd.self.name) == 0 || strcmp(d->target, nd.self.name) == 0);
	}
	return n;
}

/* Fresh evidence that we are in a working quorate partition: the view says quorate and
 * one of our own messages came back lately. A corosync that stalls reports no new view,
 * so the last view alone would keep the watchdog fed. */
static bool quorum_fresh(void)
{
	if (!nd.view.connected || !nd.view.quorate)
		return false;
	return nd.standalone ||
	       (nd.last_own_ns &&
		hax_now_mono_ns() - nd.last_own_ns <= WATCHDOG_EVIDENCE_MS * 1000000ull);
}

static void wd_arm(void)
{
	uint64_t ms = 0;
	int r;

	r = watchdog_open(nd.wd_dev->device, nd.wd_dev->watchdog_timeout_ms, &nd.wd);
	if (r < 0) {
		nd.wd = NULL;
		if (r != nd.wd_err)
			hax_log(LOG_CRIT, "watchdog %s cannot be armed: %s (retrying; no domain starts here and the leader will not count a wait as this host's fence)",
				nd.wd_dev->device, strerror(-r));
		nd.wd_err = r;
		return;
	}
	nd.wd_err = 0;
	r = watchdog_timeout(nd.wd, &ms);
	if (r < 0)
		hax_log(LOG_CRIT, "watchdog %s armed, but its timeout is unknown (%s): the leader will not count a wait as this host's fence",
			nd.wd_dev->device, strerror(-r));
	else
		hax_log(ms > nd.wd_dev->watchdog_timeout_ms ? LOG_CRIT : LOG_NOTICE,
			"watchdog %s armed, timeout %llu ms (asked for %llu ms)%s",
			nd.wd_dev->device, (unsigned long long)ms,
			(unsigned long long)nd.wd_dev->watchdog_timeout_ms,
			ms > nd.wd_dev->watchdog_timeout_ms
				? ": longer than watchdog_timeout, the leader will not count a wait as this host's fence"
				: "");
}

/* Watchdog fencing, this host's half: armed as long as haxd runs (so that a start never
 * runs ahead of it); fed only on fresh evidence of quorum, or while nothing hax manages
 * is here; so the device resets a host cut off with domains before the leader (waiting
 * the same timeout plus a margin) restarts them elsewhere. */
static void tend_watchdog(void *data)
{
	uint64_t ms = 0;

	(void)data;
	nd.wd_timer = 0;
	if (!nd.wd)
		wd_arm();
	if (nd.wd && (quorum_fresh() || managed_here() == 0) && watchdog_feed(nd.wd) < 0)
		hax_log(LOG_CRIT, "watchdog %s: feeding failed: %s", nd.wd_dev->device,
			strerror(errno));
	if (!nd.wd || watchdog_timeout(nd.wd, &ms) < 0 || ms > nd.wd_dev->watchdog_timeout_ms)
		ms = 0;
	if (ms != nd.wd_reported) {
		nd.wd_reported = ms;
		if (nd.agent)
			agent_request_inventory(nd.agent);
	}
	/* Nothing else of ours went round lately: a ping is the evidence the next feed needs. */
	if (nd.wd && !nd.standalone && nd.view.connected &&
	    hax_now_mono_ns() - nd.last_own_ns >= WATCHDOG_TEND_MS * 1000000ull)
		send_msg(msg_new(MSG_PING));
	hax_timer_add(WATCHDOG_TEND_MS, tend_watchdog, NULL, &nd.wd_timer);
}

/* The no-quorum policy and the watchdog act on the domains the state lists, no others. */
static bool managed(void *opaque, const char *name)
{
	(void)opaque;
	return state_domain(nd.state, name) != NULL;
}

/* The agent asks before a start or migrate-in. */
static int may_start(void *opaque, char *err, size_t errlen)
{
	(void)opaque;
	if (!nd.wd_dev || nd.wd)
		return 0;
	snprintf(err, errlen, "this host's watchdog %s is not armed (%s): it could not be fenced by waiting",
		 nd.wd_dev->device, nd.wd_err ? strerror(-nd.wd_err) : "not yet");
	return -ENOLINK;
}

static void on_tick(void *data)
{
	(void)data;
	nd.tick_timer = 0;
	check_quorum();
	if (nd.sd_watchdog_ms &&
	    hax_now_mono_ns() - nd.sd_last_ping_ns >= nd.sd_watchdog_ms * 1000000ull / 2) {
		notify_send("WATCHDOG=1");
		nd.sd_last_ping_ns = hax_now_mono_ns();
	}
	scsi_maybe_register();
	scsi_watch_due();
	if (nd.leader)
		leader_tick(nd.leader);
	hax_timer_add(nd.conf->cluster.tick_ms, on_tick, NULL, &nd.tick_timer);
}

static int start_agent(char *err, size_t errlen)
{
	struct hv_host hvh = {
		.state_dir = nd.conf->cluster.state_dir,
		.host_name = nd.self.name,
		.nodeid = nd.self.nodeid,
		.iqn = nd.self.iqn,
		.mem_mib = nd.self.memory_mib,
		.vcpus = nd.self.vcpus,
		.xl = nd.conf->cluster.xl,
		.xl_migrate_ssh = nd.conf->cluster.xl_migrate_ssh,
		.domain_paths = nd.conf->cluster.domain_paths,
	};
	struct agent_out out = {.inventory = agent_inventory, .result = agent_result,
				.progress = agent_progress, .may_start = may_start,
				.managed = managed};
	int i;

	for (i = 0; i < nd.conf->nfences; i++) {
		nd.scsi = nd.scsi || nd.conf->fences[i].driver == CONF_FENCE_SCSI;
		if (nd.conf->fences[i].driver == CONF_FENCE_DRBD && !hvh.drbdadm)
			hvh.drbdadm = nd.conf->fences[i].drbdadm;
	}
	for (i = 0; i < nd.self.nlevels * CONF_MAX_LEVEL_DEVS; i++) {
		const struct conf_fence_level *lv = &nd.self.levels[i / CONF_MAX_LEVEL_DEVS];
		int k = i % CONF_MAX_LEVEL_DEVS;

		if (k < lv->ndev && nd.conf->fences[lv->dev[k]].driver == CONF_FENCE_WATCHDOG)
			nd.wd_dev = &nd.conf->fences[lv->dev[k]];
	}
	hvh.pr_key = nd.scsi ? fence_scsi_key(nd.self.nodeid) : 0;
	fence_scsi_set_local(nd.self.nodeid, nd.self.iqn);
	if (nd.scsi)
		scsi_watch_start(nd.conf, nd.self.nodeid, nd.self.iqn, scsi_verdict, NULL);
	{
		char warn[CONF_MAX_HOSTS][512];
		int nw = conf_warnings(nd.conf, warn, CONF_MAX_HOSTS);

		for (i = 0; i < nw; i++)
			hax_log(LOG_WARNING, "%s", warn[i]);
	}
	nd.agent = agent_new(nd.driver, &hvh, AGENT_POLL_MS, &out, err, errlen);
	return nd.agent ? 0 : -EIO;
}

int node_start(qb_loop_t *loop, const struct node_params *p, char *err, size_t errlen)
{
	static const struct cluster_ops cops = {.view = on_view, .deliver = on_deliver};

	nd.loop = loop;
	nd.conf = p->conf;
	nd.reload = p->reload;
	nd.self = *p->self;
	nd.state = p->state;
	nd.driver = p->driver;
	nd.standalone = p->standalone;
	nd.lb_tail = &nd.lb;
	nd.props = proposals_new();
	nd.sd_watchdog_ms = notify_watchdog_ms();
	if (start_agent(err, errlen) < 0)
		return -EIO;
	nd.ipc = ipc_server_new(loop, p->ipc_name, p->auth, on_request, NULL);
	if (!nd.ipc) {
		snprintf(err, errlen, "cannot serve IPC \"%s\" (is another haxd running?)",
			 p->ipc_name);
		return -EADDRINUSE;
	}
	if (nd.standalone) {
		struct cluster_view v = {.connected = true, .ring = 1, .ring_node = nd.self.nodeid,
					 .quorate = true, .nmembers = 1, .nnodes = 1};

		v.members[0] = v.nodes[0] = nd.self.nodeid;
		on_view(NULL, &v);
	} else {
		cluster_init(loop, &cops);
	}
	if (nd.wd_dev)
		tend_watchdog(NULL);
	on_tick(NULL);
	return 0;
}

void node_stop(void)
{
	struct loopback *m;

	hax_timer_del(nd.tick_timer);
	hax_timer_del(nd.hello_timer);
	hax_timer_del(nd.lb_timer);
	persist_now(NULL);
	fence_check_stop_all();
	while ((m = nd.lb)) {
		nd.lb = m->next;
		free(m);
	}
	while (nd.fwd) {
		struct forward *f = nd.fwd;

		nd.fwd = f->next;
		hax_timer_del(f->timer);
		ipc_reply(f->call, error_reply("haxd is stopping"));
		free(f);
	}
	stop_leading();
	hax_timer_del(nd.wd_timer);
	/* The domains stay when haxd stops (KillMode=process), and the leader counts this
	 * host fenced once agent_lost_timeout and the watchdog wait have passed: the device
	 * must then have reset it. So it is disarmed only when nothing hax manages is here;
	 * a haxd that starts again in time opens and feeds it again. */
	if (nd.wd && managed_here() > 0) {
		hax_log(LOG_CRIT, "haxd stops with %zu domain(s) here: the watchdog %s stays armed and resets this host in %llu ms unless haxd runs again",
			managed_here(), nd.wd_dev->device,
			(unsigned long long)nd.wd_dev->watchdog_timeout_ms);
		watchdog_leave(nd.wd);
	} else {
		watchdog_close(nd.wd);
	}
	nd.wd = NULL;
	if (nd.scsi_op)
		fence_driver_for(CONF_FENCE_SCSI)->cancel(nd.scsi_op);
	scsi_watch_stop();
	if (!nd.standalone)
		cluster_fini();
	ipc_server_free(nd.ipc);
	agent_free(nd.agent);
	clear_hellos();
	for (size_t k = 0; k < CLUSTER_MAX_NODES; k++)
		json_decref(nd.early[k].hello);
	proposals_free(nd.props);
	nd.props = NULL;
	state_free(nd.state);
	nd.state = NULL;
}
