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
#include "change.h"
#include "cluster.h"
#include "events.h"
#include "ipc.h"
#include "leader.h"
#include "loop.h"
#include "msg.h"
#include "status.h"
#include "notify.h"
#include "watchdog.h"

#define AGENT_POLL_MS 1000
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
	uint64_t next_seq;                  /* leader: seq its next change produces */
	struct forward *fwd;
	uint64_t next_fwd_id;
	struct loopback *lb, **lb_tail;     /* standalone: messages to ourselves */
	uint64_t noquorum_since;            /* monotonic ns; 0 while quorate */
	const struct conf_fence *wd_dev;    /* our own watchdog, if a level of ours uses one */
	struct watchdog *wd;                /* armed while we run domains */
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
	if (!nd.view.connected || !nd.view.quorate || !nd.synced || nd.view.nmembers == 0)
		return 0;
	return nd.view.members[0];
}

/* ---- the replicated state ---- */

static void persist(void)
{
	int r = state_save(nd.state, nd.conf->cluster.state_dir);

	if (r < 0)
		hax_log(LOG_CRIT, "cannot persist the state in %s: %s", nd.conf->cluster.state_dir,
			strerror(-r));
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

static int ops_propose(void *opaque, json_t *change)
{
	json_t *m = msg_new(MSG_CHANGE);

	(void)opaque;
	json_object_set_new(m, "seq", json_integer((json_int_t)nd.next_seq++));
	json_object_set_new(m, "change", change);
	return send_msg(m);
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
	struct fence_target t = {.host = host, .nodeid = nodeid};
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

static struct leader_ops leader_ops = {
	.fence = ops_fence,
	.fence_cancel = ops_fence_cancel,
	.state = ops_state,
	.propose = ops_propose,
	.command = ops_command,
	.validate = ops_validate,
	.now_real = ops_now_real,
	.now_mono = ops_now_mono,
};

static void stop_leading(void)
{
	if (!nd.leader)
		return;
	leader_free(nd.leader);
	nd.leader = NULL;
	hax_log(LOG_NOTICE, "leader role stopped");
}

/* The members' hosts, their inventories from the hellos, a new epoch, then act. */
static void start_leading(void)
{
	json_t *epoch;
	size_t i;

	leader_ops.migrate_live = nd.driver->live_migration;
	nd.leader = leader_new(nd.conf, &leader_ops);
	nd.next_seq = nd.state->seq + 1;
	for (i = 0; i < (size_t)nd.conf->nhosts; i++) {
		const struct conf_host *h = &nd.conf->hosts[i];

		leader_set_member(nd.leader, h->name, h->nodeid, in_view(h->nodeid),
				  alive_in_view(h->nodeid));
	}
	if (nd.conf->nhosts == 0)
		leader_set_member(nd.leader, nd.self.name, nd.self.nodeid, true, true);
	for (i = 0; i < nd.view.nmembers; i++) {
		const json_t *inv = json_object_get(nd.hellos[i], "inventory");

		if (json_is_object(inv))
			leader_on_inventory(nd.leader, inv);
	}
	epoch = json_pack("{s:s, s:I}", "op", "epoch", "epoch", (json_int_t)(nd.state->epoch + 1));
	ops_propose(NULL, epoch);
	hax_log(LOG_NOTICE, "leader of %zu member(s), epoch %llu", nd.view.nmembers,
		(unsigned long long)(nd.state->epoch + 1));
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
	return json_pack("{s:I, s:I, s:o}", "ring", (json_int_t)nd.view.ring, "ring_node",
			 (json_int_t)nd.view.ring_node, "members", members);
}

static void clear_hellos(void)
{
	size_t i;

	for (i = 0; i < CLUSTER_MAX_NODES; i++) {
		json_decref(nd.hellos[i]);
		nd.hellos[i] = NULL;
	}
}

/* The hello carries an inventory taken after the view change: a stale one could miss a
 * domain whose start was in flight, and a new leader would start it a second time. */
static void send_hello(void *opaque, const json_t *inv)
{
	json_t *m;

	(void)opaque;
	if (!nd.view.connected || nd.synced || !in_view(nd.self.nodeid))
		return;
	m = msg_new(MSG_HELLO);

	json_object_set_new(m, "view", view_tag());
	json_object_set_new(m, "version", json_pack("{s:I, s:I}", "epoch",
						    (json_int_t)nd.state->epoch, "seq",
						    (json_int_t)nd.state->seq));
	json_object_set_new(m, "state", state_to_json(nd.state));
	json_object_set_new(m, "inventory", inv ? json_deep_copy(inv) : json_null());
	send_msg(m);
}

static void on_view(void *opaque, const struct cluster_view *v)
{
	(void)opaque;
	stop_leading();
	nd.view = *v;
	nd.synced = false;
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
}

/* Pick the newest state among the hellos: highest (epoch, seq), then lowest nodeid. */
static struct hax_state *newest_state(uint32_t *from)
{
	struct hax_state *best = NULL;
	size_t i;

	for (i = 0; i < nd.view.nmembers; i++) {
		struct hax_state *s;
		char err[256];

		if (state_from_json(json_object_get(nd.hellos[i], "state"), &s, err, sizeof(err)) < 0) {
			hax_log(LOG_ERR, "hello from node %u carries a bad state (%s), ignoring it",
				nd.view.members[i], err);
			continue;
		}
		if (strcmp(s->cluster, nd.conf->cluster.name) != 0 ||
		    (best && state_version_cmp(s, best) <= 0)) {
			state_free(s);
			continue;
		}
		state_free(best);
		best = s;
		*from = nd.view.members[i];
	}
	return best;
}

/* Count a change of leader: a sync that ends under another host than the last one that led.
 * A re-election of the same host (every view change ends one term and starts the next,
 * see the epoch) and a spell without quorum that the same leader survives are not changes. */
static void note_leader(void)
{
	uint32_t lid = view_leader();

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
	if (!same || nd.synced)
		return; /* a hello of another view: every member drops it alike */
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

	return status_json(nd.state, &rt);
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

static void on_leader_request(const json_t *m)
{
	json_t *reply, *r;

	if (!nd.leader)
		return;
	reply = leader_request(nd.leader, json_object_get(m, "req"));
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
	} else if (strncmp(cmd, "domain-", 7) != 0 && strcmp(cmd, "fence") != 0 &&
		   strcmp(cmd, "fence-ack") != 0 && strcmp(cmd, "migrate") != 0 &&
		   strcmp(cmd, "evacuate") != 0 && strcmp(cmd, "maintenance") != 0) {
		ipc_reply(call, error_reply("unknown command"));
	} else if (nd.leader) {
		ipc_reply(call, leader_request(nd.leader, req));
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
		    strcmp(json_string_value(json_object_get(m, "to")), nd.self.name) == 0)
			agent_command(nd.agent, json_object_get(m, "cmd"));
		break;
	case MSG_RESULT:
		if (nd.leader)
			leader_on_result(nd.leader, json_object_get(m, "res"));
		break;
	case MSG_REQUEST:
		on_leader_request(m);
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
	json_object_set_new(m, "inv", json_deep_copy(inv));
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

/* Watchdog fencing, this host's half: armed while domains run here; fed while quorate or
 * once nothing runs; not fed when quorum is lost and domains still run, so that the
 * device resets the host before the leader (waiting the same timeout plus a margin)
 * restarts them elsewhere. */
static void tend_watchdog(void)
{
	const json_t *inv = nd.agent ? agent_last_inventory(nd.agent) : NULL;
	bool running = json_array_size(json_object_get(inv, "domains")) > 0;
	bool quorate = nd.view.connected && nd.view.quorate;
	int r;

	if (!nd.wd_dev)
		return;
	if (!nd.wd && running) {
		r = watchdog_open(nd.wd_dev->device, nd.wd_dev->watchdog_timeout_ms, &nd.wd);
		hax_log(r < 0 ? LOG_CRIT : LOG_NOTICE, "watchdog %s %s%s", nd.wd_dev->device,
			r < 0 ? "cannot be armed: " : "armed", r < 0 ? strerror(-r) : "");
	}
	if (!nd.wd)
		return;
	if (quorate && !running) {
		watchdog_close(nd.wd);
		nd.wd = NULL;
		hax_log(LOG_NOTICE, "watchdog %s disarmed (no domain runs here)", nd.wd_dev->device);
		return;
	}
	if ((quorate || !running) && watchdog_feed(nd.wd) < 0)
		hax_log(LOG_CRIT, "watchdog %s: feeding failed: %s", nd.wd_dev->device,
			strerror(errno));
}

static void on_tick(void *data)
{
	(void)data;
	nd.tick_timer = 0;
	check_quorum();
	tend_watchdog();
	if (nd.sd_watchdog_ms &&
	    hax_now_mono_ns() - nd.sd_last_ping_ns >= nd.sd_watchdog_ms * 1000000ull / 2) {
		notify_send("WATCHDOG=1");
		nd.sd_last_ping_ns = hax_now_mono_ns();
	}
	scsi_maybe_register();
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
				.progress = agent_progress};
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
	on_tick(NULL);
	return 0;
}

void node_stop(void)
{
	struct loopback *m;

	hax_timer_del(nd.tick_timer);
	hax_timer_del(nd.lb_timer);
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
	/* Stopping haxd on purpose: the domains stay, but nobody would feed the device. */
	watchdog_close(nd.wd);
	if (nd.scsi_op)
		fence_driver_for(CONF_FENCE_SCSI)->cancel(nd.scsi_op);
	if (!nd.standalone)
		cluster_fini();
	ipc_server_free(nd.ipc);
	agent_free(nd.agent);
	clear_hellos();
	state_free(nd.state);
	nd.state = NULL;
}
