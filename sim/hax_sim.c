/*
 * hax-sim: a deterministic simulator of a whole hax cluster (STYLE.md "the shape to grow
 * into"; modelled on FoundationDB's simulation, TigerBeetle's VOPR and corosync's vqsim).
 *
 * The real leader (haxd/leader.c), the real agent (agent/agent.c), the real state, change,
 * policy and message codec run here against:
 *  - a simulated corosync with its documented semantics: views with agreed delivery
 *    (every member of a view delivers the view's messages in one order); a ring that
 *    stalls while a member is unreachable and re-forms after the token and consensus
 *    timeouts; messages of the old view delivered, on a split, only on the sender's side
 *    (a minority may apply what the majority never saw); quorum = a majority of votes;
 *    a haxd that dies leaves the CPG group at once while its node stays (PROCDOWN);
 *  - a node glue that follows haxd/node.c: hellos with a fresh inventory after every view
 *    change, the newest state adopted, the lowest nodeid of a quorate view leads, changes
 *    applied in seq order and persisted, the no-quorum policy;
 *  - simulated hypervisors (sim/sim_hv.c) and power fence devices that succeed, fail or
 *    hang; machines that lose power, haxd that crashes and restarts from its persisted
 *    state, partitions, and operator commands at random moments.
 * After every event the invariants are checked; a failure prints the seed and the trace.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../agent/agent.h"
#include "../conf/conf.h"
#include "../haxd/change.h"
#include "../haxd/leader.h"
#include "lib/loop.h"
#include "../haxd/msg.h"
#include "../haxd/state.h"
#include "../haxd/sync.h"
#include "sim.h"

#define MS 1000000ull
#define SEC 1000000000ull

/* ---- the run's parameters ---- */

static struct {
	uint64_t seed;
	unsigned steps, hosts, domains;
	bool qdevice;             /* a quorum device's vote (corosync-qdevice, ffsplit) */
	bool two_node;            /* votequorum two_node: 1 (with wait_for_all) */
} opt = {.steps = 150, .hosts = 3, .domains = 4};

static struct hax_conf conf;

/* ---- the simulated corosync ---- */

struct view {
	uint64_t id;              /* this CPG configuration, unique in the run: messages are
				   * scoped by it (a quorum-only change keeps it) */
	uint64_t ring;
	bool connected, quorate;
	size_t nmembers, nnodes;
	uint32_t members[SIM_MAX_HOSTS];  /* haxd in the CPG group, sorted */
	uint32_t nodes[SIM_MAX_HOSTS];    /* corosync nodes of the ring, sorted */
};

struct node;

struct host {
	bool corosync;            /* corosync runs (powered machines only) */
	bool qdev;                /* its link to the quorum device (qnetd) works */
	int part;                 /* hosts with the same part reach each other */
	struct node *node;        /* the running haxd, NULL when down */
	struct hax_state *disk;   /* what haxd persisted */
	int fence_mode;           /* its power switch: 0 works, 1 fails, 2 hangs */
	uint64_t stall_ns;        /* time its haxd lost to stalls (its leader's clock) */
	uint64_t qnote_gen;       /* the quorum notification in flight that counts */
};

static struct host hosts[SIM_MAX_HOSTS];
static uint64_t next_view_id, next_ring, quiet_at;
static bool seen_both;        /* two_node's wait_for_all: both nodes were in one ring */

struct msg {
	uint64_t view_id;
	int from;
	char *buf;
	size_t len;
	uint32_t done;            /* receivers (bits by host) that had it */
	bool pending;
};

static struct msg *msgs;
static size_t nmsgs, capmsgs, first_pending; /* msgs before first_pending are all done */
static uint64_t last_delivery_ns;

/* ---- the node glue (haxd/node.c's rules) ---- */

struct node {
	int h;
	struct hax_state *state;
	struct agent *agent;
	struct leader *leader;
	struct view view;
	bool synced, isolated;
	json_t *hellos[SIM_MAX_HOSTS];
	json_t *early[SIM_MAX_HOSTS];   /* by sender: hellos of a view not reached yet */
	bool hello_sent;
	uint64_t next_seq, noquorum_since;
};

static void deliver(struct node *n, int from, const char *buf, size_t len);

static bool in_members(const struct view *v, uint32_t nodeid)
{
	size_t i;

	for (i = 0; i < v->nmembers; i++)
		if (v->members[i] == nodeid)
			return true;
	return false;
}

static bool in_nodes(const struct view *v, uint32_t nodeid)
{
	size_t i;

	for (i = 0; i < v->nnodes; i++)
		if (v->nodes[i] == nodeid)
			return true;
	return false;
}

static uint32_t view_leader(const struct node *n)
{
	if (!n->view.connected || !n->synced)
		return 0;
	return sync_view_leader(n->view.quorate, n->view.members, n->view.nmembers,
				n->view.nnodes, sim_nmachines);
}

static int host_of(uint32_t nodeid)
{
	size_t i;

	for (i = 0; i < sim_nmachines; i++)
		if (sim_machines[i].nodeid == nodeid)
			return (int)i;
	return -1;
}

static void deliver_msg(size_t id);

static void deliver_event(void *data)
{
	deliver_msg((size_t)(uintptr_t)data);
}

/* Agreed order: one global sequence, every receiver in the same order. */
static int send_msg(struct node *n, json_t *m)
{
	size_t len;
	char *buf = msg_encode(m, &len);
	uint64_t at;

	json_decref(m);
	if (!buf)
		return -E2BIG;
	if (!n->view.connected || !in_members(&n->view, sim_machines[n->h].nodeid)) {
		free(buf);
		return -ENOTCONN;
	}
	if (nmsgs == capmsgs) {
		capmsgs = capmsgs ? capmsgs * 2 : 1024;
		msgs = hax_xrealloc(msgs, capmsgs * sizeof(*msgs));
	}
	msgs[nmsgs] = (struct msg){.view_id = n->view.id, .from = n->h, .buf = buf, .len = len,
				   .pending = true};
	at = sim_now() + (1 + sim_rand(3)) * MS;
	if (at < last_delivery_ns)
		at = last_delivery_ns;
	last_delivery_ns = at;
	sim_at(at - sim_now(), deliver_event, (void *)(uintptr_t)nmsgs, -1, SIM_OWN_WORLD);
	nmsgs++;
	return 0;
}

/* Every member of the message's view can reach every other: the token circulates. */
static bool reachable(int a, int b)
{
	return sim_machines[a].powered && sim_machines[b].powered && hosts[a].corosync &&
	       hosts[b].corosync && hosts[a].part == hosts[b].part;
}

static bool view_intact(const struct msg *m)
{
	size_t i, k;

	for (i = 0; i < sim_nmachines; i++) {
		struct node *n = hosts[i].node;

		if (!n || n->view.id != m->view_id)
			continue;
		for (k = 0; k < n->view.nnodes; k++) {
			int o = host_of(n->view.nodes[k]);

			if (o < 0 || !reachable((int)i, o))
				return false;
		}
	}
	return true;
}

static void deliver_to(size_t id, int h)
{
	struct msg *m = &msgs[id];
	struct node *n = hosts[h].node;

	if (!n || n->view.id != m->view_id || (m->done & (1u << h)))
		return;
	m->done |= 1u << h;
	deliver(n, m->from, m->buf, m->len);
}

/* Deliver message id, after every message of its view still held before it (agreed
 * order). While a member of the view is unreachable the ring stalls: the message is
 * tried again later; a link back within the token timeout lets it through (totem
 * retransmits), a view change flushes it on the sender's side (flush_old). */
static void deliver_msg(size_t id)
{
	size_t i, k;

	if (!msgs[id].pending)
		return;
	if (!view_intact(&msgs[id])) {
		sim_at(100 * MS, deliver_event, (void *)(uintptr_t)id, -1, SIM_OWN_WORLD);
		return;
	}
	while (first_pending < nmsgs && !msgs[first_pending].pending)
		first_pending++;
	for (k = first_pending; k <= id; k++) {
		if (!msgs[k].pending || msgs[k].view_id != msgs[id].view_id)
			continue;
		for (i = 0; i < sim_nmachines; i++)
			deliver_to(k, (int)i);
		msgs[k].pending = false;
		free(msgs[k].buf);
		msgs[k].buf = NULL;
	}
}

/* Before a new view is installed on host h: the old view's messages still pending are
 * delivered to h only if their sender is on h's side of the split. */
static void flush_old(int h, const bool *side)
{
	struct node *n = hosts[h].node;
	size_t i;

	if (!n)
		return;
	for (i = 0; i < nmsgs; i++)
		if (msgs[i].pending && msgs[i].view_id == n->view.id && side[msgs[i].from])
			deliver_to(i, h);
}

/* ---- node glue ---- */

static void persist(struct node *n)
{
	state_free(hosts[n->h].disk);
	hosts[n->h].disk = state_clone(n->state);
}

static void apply_change(struct node *n, int from, const json_t *m)
{
	uint64_t seq = (uint64_t)json_integer_value(json_object_get(m, "seq"));
	char err[256];

	if (!n->synced || sim_machines[from].nodeid != view_leader(n)) {
		hax_log(LOG_WARNING, "change from %s outside a synced view with it as leader, dropped",
			sim_machines[from].name);
		return;
	}
	if (seq != n->state->seq + 1) {
		hax_log(LOG_CRIT, "state change %llu does not follow our seq %llu: dropped",
			(unsigned long long)seq, (unsigned long long)n->state->seq);
		return;
	}
	if (change_apply(n->state, json_object_get(m, "change"), err, sizeof(err)) < 0) {
		hax_log(LOG_WARNING, "state change %llu rejected: %s", (unsigned long long)seq, err);
		n->state->seq = seq;
	}
	persist(n);
}

static const struct hax_state *ops_state(void *opaque)
{
	return ((struct node *)opaque)->state;
}

static int ops_propose(void *opaque, json_t *change)
{
	struct node *n = opaque;
	json_t *m = msg_new(MSG_CHANGE);

	json_object_set_new(m, "seq", json_integer((json_int_t)n->next_seq++));
	json_object_set_new(m, "change", change);
	return send_msg(n, m);
}

static int ops_command(void *opaque, const char *host, json_t *cmd)
{
	json_t *m = msg_new(MSG_COMMAND);

	json_object_set_new(m, "to", json_string(host));
	json_object_set_new(m, "cmd", cmd);
	return send_msg(opaque, m);
}

static int ops_validate(void *opaque, const char *definition, char *err, size_t errlen)
{
	(void)opaque;
	return sim_hv_ops.validate(definition, err, errlen);
}

static uint64_t ops_now_real(void *opaque)
{
	(void)opaque;
	return sim_clock_real_ns();
}

/* A stall of the leader's process (SIGSTOP, swap, a paused VM) seen from inside: its
 * monotonic clock jumps with nothing observed in between. */
static uint64_t ops_now_mono(void *opaque)
{
	return sim_clock_mono_ns() + hosts[((struct node *)opaque)->h].stall_ns;
}

/* ---- power fence devices ---- */

struct fence_op {
	int leader_h, victim;
	uint64_t leader_gen;
	bool cancelled;
	void (*done)(void *data, int result, const char *msg);
	void *data;
};

static void power_off(int h, const char *why);

static void power_on(int h);

static void reboot_fire(void *data)
{
	power_on((int)(intptr_t)data);
}

static void fence_fire(void *data)
{
	struct fence_op *f = data;
	int mode = hosts[f->victim].fence_mode;
	bool ok = mode == 0;

	if (mode == 2 && !f->cancelled)
		return; /* hangs: the leader's deadline or cancel ends it (op leaks, harmless) */
	/* A cancelled request may still have reached the switch. A fence agent's default
	 * action is a reboot: the machine comes back a while later. */
	if (ok && (!f->cancelled || sim_chance(50)) && sim_machines[f->victim].powered) {
		power_off(f->victim, "fenced by its power switch");
		sim_at((20 + sim_rand(40)) * SEC, reboot_fire, (void *)(intptr_t)f->victim, -1,
		       SIM_OWN_WORLD);
	}
	if (!f->cancelled && sim_machines[f->leader_h].haxd_gen == f->leader_gen) {
		sim_cur_host = f->leader_h;
		f->done(f->data, ok ? 0 : -EIO, ok ? NULL : "sim: the power switch failed");
	}
	free(f);
}

static int ops_fence(void *opaque, const char *host, uint32_t nodeid, int dev, bool dry_run,
		     void (*done)(void *data, int result, const char *msg), void *data,
		     void **handle)
{
	struct node *n = opaque;
	struct fence_op *f;
	int v = host_of(nodeid);

	(void)host, (void)dev;
	if (v < 0 || dry_run)
		return -ENOTSUP;
	f = hax_xcalloc(1, sizeof(*f));
	*f = (struct fence_op){.leader_h = n->h, .victim = v,
			       .leader_gen = sim_machines[n->h].haxd_gen, .done = done,
			       .data = data};
	sim_at((100 + sim_rand(1500)) * MS, fence_fire, f, -1, SIM_OWN_WORLD);
	*handle = f;
	return 0;
}

static void ops_fence_cancel(void *opaque, void *handle)
{
	(void)opaque;
	((struct fence_op *)handle)->cancelled = true;
}

static void stop_leading(struct node *n)
{
	leader_free(n->leader);
	n->leader = NULL;
}

static void start_leading(struct node *n)
{
	uint64_t epoch = sync_next_epoch(n->state->epoch, sim_machines[n->h].nodeid,
					 sim_clock_real_ns());
	struct leader_ops ops = {
		.opaque = n, .state = ops_state, .propose = ops_propose, .command = ops_command,
		.validate = ops_validate, .fence = ops_fence, .fence_cancel = ops_fence_cancel,
		.now_real = ops_now_real, .now_mono = ops_now_mono,
		.migrate_live = sim_hv_ops.live_migration, .self = sim_machines[n->h].name,
		.minority = !sync_members_majority(n->view.nmembers, sim_nmachines),
		.first_incarnation = sync_first_incarnation(epoch, (unsigned)n->h),
	};
	json_t *names;
	size_t i;

	n->leader = leader_new(&conf, &ops);
	n->next_seq = n->state->seq + 1;
	for (i = 0; i < sim_nmachines; i++)
		leader_set_member(n->leader, sim_machines[i].name, sim_machines[i].nodeid,
				  in_members(&n->view, sim_machines[i].nodeid),
				  in_nodes(&n->view, sim_machines[i].nodeid));
	for (i = 0; i < n->view.nmembers; i++) {
		const json_t *inv = json_object_get(n->hellos[i], "inventory");

		if (json_is_object(inv))
			leader_on_inventory(n->leader, inv);
	}
	names = json_array();
	for (i = 0; i < n->view.nmembers; i++)
		json_array_append_new(names, json_string(sim_machines[host_of(n->view.members[i])].name));
	ops_propose(n, json_pack("{s:s, s:I, s:o}", "op", "epoch", "epoch", (json_int_t)epoch,
				 "members", names));
	hax_log(LOG_NOTICE, "leader of %zu member(s)%s, term %llu", n->view.nmembers,
		ops.minority ? " (minority)" : "", (unsigned long long)(epoch >> 32));
	leader_tick(n->leader);
}

static json_t *view_tag(const struct node *n)
{
	json_t *members = json_array();
	size_t i;

	for (i = 0; i < n->view.nmembers; i++)
		json_array_append_new(members, json_integer(n->view.members[i]));
	return json_pack("{s:I, s:I, s:o, s:b}", "ring", (json_int_t)n->view.ring, "ring_node",
			 (json_int_t)(n->view.nnodes ? n->view.nodes[0] : 0), "members", members,
			 "quorate", n->view.quorate);
}

static void clear_hellos(struct node *n)
{
	size_t i;

	for (i = 0; i < SIM_MAX_HOSTS; i++) {
		json_decref(n->hellos[i]);
		n->hellos[i] = NULL;
	}
}

static void clear_early(struct node *n)
{
	size_t i;

	for (i = 0; i < SIM_MAX_HOSTS; i++) {
		json_decref(n->early[i]);
		n->early[i] = NULL;
	}
}

static void send_hello(void *opaque, const json_t *inv)
{
	struct node *n = opaque;
	json_t *m;

	if (!n->view.connected || n->synced || n->hello_sent ||
	    !in_members(&n->view, sim_machines[n->h].nodeid))
		return;
	n->hello_sent = true;
	m = msg_new(MSG_HELLO);
	json_object_set_new(m, "view", view_tag(n));
	json_object_set_new(m, "version", json_pack("{s:I, s:I}", "epoch",
						    (json_int_t)n->state->epoch, "seq",
						    (json_int_t)n->state->seq));
	json_object_set_new(m, "state", state_to_json(n->state));
	json_object_set_new(m, "inventory", inv ? json_deep_copy(inv) : json_null());
	send_msg(n, m);
}

static void on_hello(struct node *n, int from, json_t *m);

struct hello_wait {
	struct node *n;
	uint64_t view_id;
	bool quorate;
};

/* node.c's HELLO_LIST_WAIT_MS: a hypervisor that cannot list does not block the sync. */
static void hello_without_inventory(void *data)
{
	struct hello_wait *w = data;

	if (w->n->view.id == w->view_id && w->n->view.quorate == w->quorate &&
	    !w->n->hello_sent && !w->n->synced) {
		hax_log(LOG_WARNING, "sync: no inventory after 5000 ms; saying hello without one");
		send_hello(w->n, NULL);
	}
	free(w);
}

static void on_view(struct node *n, const struct view *v)
{
	struct hello_wait *w;
	json_t *tag;
	size_t i;

	stop_leading(n);
	n->view = *v;
	n->synced = false;
	n->hello_sent = false;
	clear_hellos(n);
	if (!v->connected || !in_members(v, sim_machines[n->h].nodeid)) {
		clear_early(n);
		return;
	}
	agent_snapshot(n->agent, send_hello, n);
	w = hax_xmalloc(sizeof(*w));
	*w = (struct hello_wait){n, v->id, v->quorate};
	sim_at(5000 * MS, hello_without_inventory, w, n->h, SIM_OWN_HAXD);
	/* Hellos that arrived before our quorum notification count now, without their
	 * inventories (node.c take_early_hellos). */
	tag = view_tag(n);
	for (i = 0; i < SIM_MAX_HOSTS; i++) {
		json_t *h = n->early[i];

		n->early[i] = NULL;
		if (h && json_equal(tag, json_object_get(h, "view")) && !n->synced) {
			json_object_set_new(h, "inventory", json_null());
			on_hello(n, (int)i, h);
		}
		json_decref(h);
	}
	json_decref(tag);
}

static struct hax_state *newest_state(struct node *n)
{
	struct hax_state *states[SIM_MAX_HOSTS] = {NULL};
	size_t i;
	int best;

	for (i = 0; i < n->view.nmembers; i++) {
		char err[256];

		if (state_from_json(json_object_get(n->hellos[i], "state"), &states[i], err,
				    sizeof(err)) < 0)
			states[i] = NULL;
	}
	best = sync_pick_newest(states, n->view.nmembers);
	sync_merge_incarnations(states, n->view.nmembers, best);
	for (i = 0; i < n->view.nmembers; i++)
		if ((int)i != best)
			state_free(states[i]);
	return best < 0 ? NULL : states[best];
}

static void sync_complete(struct node *n)
{
	struct hax_state *best = newest_state(n);

	if (best && state_version_cmp(best, n->state) > 0) {
		state_free(n->state);
		n->state = best;
		persist(n);
	} else {
		/* The same history: only the incarnations of the others are news. */
		if (best && best->last_incarnation > n->state->last_incarnation)
			n->state->last_incarnation = best->last_incarnation;
		state_free(best);
	}
	n->synced = true;
	if (n->isolated && n->view.quorate) {
		const struct hax_host *me = state_host(n->state, sim_machines[n->h].name);

		n->isolated = false;
		if (!me || me->state != HOST_FENCED)
			agent_rejoined(n->agent);
	}
	agent_request_inventory(n->agent);
	if (view_leader(n) == sim_machines[n->h].nodeid)
		start_leading(n);
}

static void on_hello(struct node *n, int from, json_t *m)
{
	json_t *tag = view_tag(n);
	size_t i, have = 0;
	bool same = json_equal(tag, json_object_get(m, "view"));

	json_decref(tag);
	if (!same || n->synced) {
		if (!same && json_integer_value(json_object_get(json_object_get(m, "view"), "ring")) ==
				     (json_int_t)n->view.ring) {
			json_decref(n->early[from]);
			n->early[from] = json_incref(m);
		}
		return;
	}
	for (i = 0; i < n->view.nmembers; i++) {
		if (n->view.members[i] == sim_machines[from].nodeid) {
			json_decref(n->hellos[i]);
			n->hellos[i] = json_incref(m);
		}
		have += n->hellos[i] != NULL;
	}
	if (have == n->view.nmembers)
		sync_complete(n);
}

static void deliver(struct node *n, int from, const char *buf, size_t len)
{
	enum msg_type type;
	char err[256];
	json_t *m;
	int saved = sim_cur_host;

	sim_cur_host = n->h;
	if (msg_decode(buf, len, &m, &type, err, sizeof(err)) < 0) {
		hax_log(LOG_WARNING, "message from %s dropped: %s", sim_machines[from].name, err);
		sim_cur_host = saved;
		return;
	}
	switch (type) {
	case MSG_HELLO:
		on_hello(n, from, m);
		break;
	case MSG_CHANGE:
		apply_change(n, from, m);
		break;
	case MSG_INVENTORY:
		if (n->leader) {
			leader_on_inventory(n->leader, json_object_get(m, "inv"));
			leader_tick(n->leader);
		}
		break;
	case MSG_COMMAND:
		if (sim_machines[from].nodeid == view_leader(n) &&
		    strcmp(json_string_value(json_object_get(m, "to")), sim_machines[n->h].name) == 0)
			agent_command(n->agent, json_object_get(m, "cmd"));
		break;
	case MSG_RESULT:
		if (n->leader)
			leader_on_result(n->leader, json_object_get(m, "res"));
		break;
	default:
		break;
	}
	json_decref(m);
	sim_cur_host = saved;
}

static void agent_inventory(void *opaque, const json_t *inv)
{
	struct node *n = opaque;
	json_t *m;

	if (!n->synced)
		return;
	m = msg_new(MSG_INVENTORY);
	json_object_set_new(m, "inv", json_deep_copy(inv));
	send_msg(n, m);
}

static void agent_result(void *opaque, const json_t *res)
{
	json_t *m = msg_new(MSG_RESULT);

	json_object_set_new(m, "res", json_deep_copy(res));
	send_msg(opaque, m);
}

static void check_quorum(struct node *n)
{
	if (n->view.connected && n->view.quorate) {
		n->noquorum_since = 0;
		return;
	}
	if (!n->noquorum_since)
		n->noquorum_since = sim_now();
	if (n->isolated || sim_now() - n->noquorum_since < conf.cluster.no_quorum_timeout_ms * MS)
		return;
	n->isolated = true;
	hax_log(LOG_CRIT, "no quorum: applying the no-quorum policy (stop)");
	agent_isolated(n->agent, false, conf.cluster.stop_timeout_ms);
}

static void on_tick(void *data)
{
	struct node *n = data;

	check_quorum(n);
	if (n->leader)
		leader_tick(n->leader);
	sim_at(conf.cluster.tick_ms * MS, on_tick, n, n->h, SIM_OWN_HAXD);
}

static void membership_soon(uint64_t delay_ns);

static void haxd_start(int h)
{
	struct agent_out out = {.inventory = agent_inventory, .result = agent_result};
	struct hv_host hvh = {.host_name = sim_machines[h].name, .nodeid = sim_machines[h].nodeid};
	struct node *n = hax_xcalloc(1, sizeof(*n));
	char err[256];
	int saved = sim_cur_host;

	sim_cur_host = h;
	n->h = h;
	n->state = hosts[h].disk ? state_clone(hosts[h].disk) : state_new(conf.cluster.name);
	out.opaque = n;
	n->agent = agent_new(&sim_hv_ops, &hvh, 1000, &out, err, sizeof(err));
	if (!n->agent) {
		fprintf(stderr, "hax-sim: agent_new: %s\n", err);
		exit(2);
	}
	hosts[h].node = n;
	sim_at(conf.cluster.tick_ms * MS, on_tick, n, h, SIM_OWN_HAXD);
	sim_cur_host = saved;
	sim_trace("haxd starts on %s", sim_machines[h].name);
	membership_soon(20 * MS);
}

/* A crash: no cleanup runs in the dead process; its timers and callbacks are dropped by
 * the generation bump, its memory freed here. */
static void haxd_crash(int h)
{
	struct node *n = hosts[h].node;
	int saved = sim_cur_host;

	if (!n)
		return;
	sim_machines[h].haxd_gen++;
	hosts[h].node = NULL;
	sim_cur_host = h;
	stop_leading(n);
	agent_free(n->agent);
	sim_cur_host = saved;
	clear_hellos(n);
	clear_early(n);
	state_free(n->state);
	free(n);
	membership_soon(10 * MS);
}

static void power_off(int h, const char *why)
{
	if (!sim_machines[h].powered)
		return;
	sim_trace("%s powered off (%s)", sim_machines[h].name, why);
	haxd_crash(h);
	sim_machine_power_off(h);
	hosts[h].corosync = false;
	membership_soon(3600 * MS);
}

static void power_on(int h)
{
	if (sim_machines[h].powered)
		return;
	sim_trace("%s powered on", sim_machines[h].name);
	sim_machines[h].powered = true;
	hosts[h].corosync = true;
	haxd_start(h);
	membership_soon(2000 * MS);
}

/* ---- membership: the ring re-forms once every change has aged past its timeout ---- */

static void membership(void *data);

static void membership_soon(uint64_t delay_ns)
{
	if (sim_now() + delay_ns > quiet_at)
		quiet_at = sim_now() + delay_ns;
	sim_at(quiet_at - sim_now() + sim_rand(200) * MS, membership, NULL, -1, SIM_OWN_WORLD);
}

static bool same_view(const struct view *a, const struct view *b)
{
	return a->connected == b->connected && a->quorate == b->quorate &&
	       a->nmembers == b->nmembers && a->nnodes == b->nnodes &&
	       memcmp(a->members, b->members, a->nmembers * sizeof(uint32_t)) == 0 &&
	       memcmp(a->nodes, b->nodes, a->nnodes * sizeof(uint32_t)) == 0;
}

/* The quorum device gives its vote to one partition: the one holding the lowest nodeid
 * among the hosts that reach it (corosync-qdevice's ffsplit tie-breaker). */
static bool has_qdevice_vote(const bool *side)
{
	size_t k;

	if (!opt.qdevice)
		return false;
	for (k = 0; k < sim_nmachines; k++)
		if (sim_machines[k].powered && hosts[k].corosync && hosts[k].qdev)
			return side[k];
	return false;
}

/* A member outside this side still believes its view quorate. */
static bool quorate_elsewhere(const bool *side)
{
	size_t k;

	for (k = 0; k < sim_nmachines; k++)
		if (!side[k] && hosts[k].node && hosts[k].node->view.connected &&
		    hosts[k].node->view.quorate)
			return true;
	return false;
}

struct quorum_note {
	int h;
	uint64_t view_id, gen;   /* a later note for the same host supersedes this one */
	bool quorate;
};

/* A quorum-only change: each member hears of it at its own time, while CPG goes on. */
static void quorum_note_fire(void *data)
{
	struct quorum_note *q = data;
	struct node *n = hosts[q->h].node;

	if (n && n->view.id == q->view_id && n->view.quorate != q->quorate &&
	    q->gen == hosts[q->h].qnote_gen) {
		struct view v = n->view;

		v.quorate = q->quorate;
		sim_trace("%s: quorum now %s (same ring)", sim_machines[q->h].name,
			  q->quorate ? "quorate" : "NOT quorate");
		on_view(n, &v);
	}
	free(q);
}

static void membership(void *data)
{
	bool done[SIM_MAX_HOSTS] = {false};
	size_t i, k;

	(void)data;
	if (sim_now() < quiet_at)
		return;
	for (i = 0; i < sim_nmachines; i++) {
		struct view v = {.connected = true};
		bool side[SIM_MAX_HOSTS] = {false}, changed = false, ring_changed = false;
		bool gain_later;

		if (done[i] || !hosts[i].node)
			continue;
		if (!hosts[i].corosync) {
			struct view off = {.connected = false};

			done[i] = true;
			if (hosts[i].node->view.connected) {
				off.id = ++next_view_id;
				sim_trace("%s: corosync unreachable, view lost", sim_machines[i].name);
				on_view(hosts[i].node, &off);
			}
			continue;
		}
		for (k = 0; k < sim_nmachines; k++) {
			if (!reachable((int)i, (int)k))
				continue;
			side[k] = true;
			v.nodes[v.nnodes++] = sim_machines[k].nodeid;
			if (hosts[k].node)
				v.members[v.nmembers++] = sim_machines[k].nodeid;
		}
		v.quorate = 2 * (v.nnodes + has_qdevice_vote(side)) > sim_nmachines + opt.qdevice;
		/* votequorum's two_node: either node alone is quorate, once both were seen
		 * (wait_for_all); the split is settled by a fence race. */
		if (opt.two_node && seen_both)
			v.quorate = v.nnodes >= 1;
		if (opt.two_node && v.nnodes == 2)
			seen_both = true;
		for (k = 0; k < sim_nmachines; k++) {
			struct view cur;

			if (!side[k] || !hosts[k].node)
				continue;
			cur = hosts[k].node->view;
			if (!same_view(&cur, &v))
				changed = true;
			else
				hosts[k].qnote_gen++; /* a notification still on its way is void */
			cur.quorate = v.quorate;
			if (!same_view(&cur, &v))
				ring_changed = true;
		}
		for (k = 0; k < sim_nmachines; k++)
			if (side[k])
				done[k] = true;
		if (!changed)
			continue;
		if (!ring_changed) {
			for (k = 0; k < sim_nmachines; k++) {
				struct quorum_note *q;

				if (!side[k] || !hosts[k].node)
					continue;
				q = hax_xmalloc(sizeof(*q));
				*q = (struct quorum_note){(int)k, hosts[k].node->view.id,
							  ++hosts[k].qnote_gen, v.quorate};
				/* A vote moves only once its last holder has been told it lost it
				 * (qnetd waits for that): losses within 300 ms, gains after 1 s. */
				sim_at((sim_rand(300) + (v.quorate ? 1000 : 0)) * MS, quorum_note_fire, q,
				       -1, SIM_OWN_WORLD);
			}
			continue;
		}
		v.id = ++next_view_id;
		v.ring = ++next_ring;
		/* A ring that is quorate only with the quorum device's vote gets it once the
		 * last holder was told it lost it: a quorate view follows a second later. */
		gain_later = v.quorate && 2 * v.nnodes <= sim_nmachines + opt.qdevice &&
			     quorate_elsewhere(side);
		if (gain_later)
			v.quorate = false;
		sim_trace("view %llu: %zu node(s), %zu haxd, %s, from %s", (unsigned long long)v.id,
			  v.nnodes, v.nmembers, v.quorate ? "quorate" : "NOT quorate",
			  sim_machines[i].name);
		for (k = 0; k < sim_nmachines; k++)
			if (side[k])
				flush_old((int)k, side);
		for (k = 0; k < sim_nmachines; k++)
			if (side[k] && hosts[k].node) {
				sim_cur_host = (int)k;
				on_view(hosts[k].node, &v);
				sim_cur_host = -1;
				if (gain_later) {
					struct quorum_note *q = hax_xmalloc(sizeof(*q));

					*q = (struct quorum_note){(int)k, v.id, ++hosts[k].qnote_gen,
								  true};
					sim_at((1000 + sim_rand(300)) * MS, quorum_note_fire, q, -1,
					       SIM_OWN_WORLD);
				}
			}
	}
}

/* ---- invariants ---- */

static int failures;

static void violation(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void violation(const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sim_trace("VIOLATION: %s", msg);
	failures++;
}

/* An incarnation names one start on one host (the guest journal's oracle relies on it). */
struct start_rec {
	char name[HAX_NAME_MAX];
	uint64_t incarnation;
	int h;
};

static struct start_rec *starts;
static size_t nstarts;

void sim_note_start(const char *name, uint64_t incarnation, int h)
{
	size_t i;

	for (i = 0; i < nstarts; i++)
		if (starts[i].incarnation == incarnation && strcmp(starts[i].name, name) == 0) {
			violation("incarnation %llu of %s started twice (on %s, then on %s)",
				  (unsigned long long)incarnation, name,
				  sim_machines[starts[i].h].name, sim_machines[h].name);
			return;
		}
	starts = hax_xrealloc(starts, (nstarts + 1) * sizeof(*starts));
	hax_strlcpy(starts[nstarts].name, name, HAX_NAME_MAX);
	starts[nstarts].incarnation = incarnation;
	starts[nstarts++].h = h;
}

/* Never two copies of a domain that can write (running or paused) on powered hosts. */
static void check_writers(void)
{
	size_t i, k, j;

	for (i = 0; i < sim_nmachines; i++)
		for (k = 0; k < sim_machines[i].ndoms; k++) {
			const struct sim_dom *a = &sim_machines[i].doms[k];

			if (a->state != HV_RUNNING && a->state != HV_PAUSED)
				continue;
			for (j = i + 1; j < sim_nmachines; j++) {
				size_t m;

				for (m = 0; m < sim_machines[j].ndoms; m++) {
					const struct sim_dom *b = &sim_machines[j].doms[m];

					if (strcmp(a->name, b->name) == 0 &&
					    (b->state == HV_RUNNING || b->state == HV_PAUSED))
						violation("two writers: %s runs on %s (incarnation %llu) and %s (%llu)",
							  a->name, sim_machines[i].name,
							  (unsigned long long)a->incarnation,
							  sim_machines[j].name,
							  (unsigned long long)b->incarnation);
				}
			}
		}
}

/* At most one leader among the hosts whose view is quorate; with two_node, where both
 * halves of a split are quorate, at most one per view. */
static void check_leaders(void)
{
	size_t i, k, n = 0;

	for (i = 0; i < sim_nmachines; i++) {
		const struct node *nd = hosts[i].node;

		if (!nd || !nd->leader)
			continue;
		if (!nd->view.quorate)
			violation("%s leads without quorum", sim_machines[i].name);
		for (k = i + 1; k < sim_nmachines; k++)
			if (hosts[k].node && hosts[k].node->leader &&
			    (!opt.two_node || hosts[k].node->view.id == nd->view.id))
				n++;
	}
	if (n > 0)
		violation("%zu leaders at once", n + 1);
}

static void check(void)
{
	check_writers();
	check_leaders();
}

/* ---- operator commands ---- */

static struct node *leader_node(void)
{
	size_t i;

	for (i = 0; i < sim_nmachines; i++)
		if (hosts[i].node && hosts[i].node->leader)
			return hosts[i].node;
	return NULL;
}

static void request(json_t *req)
{
	struct node *n = leader_node();
	json_t *reply;
	char *text;

	if (!n) {
		json_decref(req);
		return;
	}
	sim_cur_host = n->h;
	reply = leader_request(n->leader, req);
	sim_cur_host = -1;
	text = json_dumps(req, JSON_COMPACT);
	sim_trace("operator: %s -> %s", text,
		  json_is_true(json_object_get(reply, "ok")) ? "ok"
			  : json_string_value(json_object_get(reply, "error")));
	free(text);
	json_decref(reply);
	json_decref(req);
}

static void dom_name(unsigned i, char *out, size_t len)
{
	snprintf(out, len, "d%u", i + 1);
}

static void add_domain(unsigned i)
{
	char name[HAX_NAME_MAX], def[HAX_NAME_MAX + 8];

	dom_name(i, name, sizeof(name));
	snprintf(def, sizeof(def), "sim %s", name);
	request(json_pack("{s:s, s:{s:s, s:s, s:i, s:i, s:i, s:b}}", "cmd", "domain-add",
			  "domain", "name", name, "definition", def, "memory_mib", 512, "vcpus",
			  1, "priority", (int)(i % 3), "enabled", 1));
}

static void operator_action(void)
{
	char name[HAX_NAME_MAX];
	unsigned d = (unsigned)sim_rand(opt.domains);
	int h = (int)sim_rand(sim_nmachines);

	dom_name(d, name, sizeof(name));
	switch (sim_rand(8)) {
	case 0:
		request(json_pack("{s:s, s:s}", "cmd", "domain-disable", "name", name));
		break;
	case 1:
		request(json_pack("{s:s, s:s}", "cmd", "domain-enable", "name", name));
		break;
	case 2:
		request(json_pack("{s:s, s:s}", "cmd", "domain-remove", "name", name));
		break;
	case 3:
		add_domain(d);
		break;
	case 4:
		request(json_pack("{s:s, s:s, s:s}", "cmd", "migrate", "name", name, "host",
				  sim_machines[h].name));
		break;
	case 5:
		request(json_pack("{s:s, s:s}", "cmd", "evacuate", "host", sim_machines[h].name));
		break;
	case 6:
		request(json_pack("{s:s, s:s, s:b}", "cmd", "maintenance", "host",
				  sim_machines[h].name, "on", 0));
		break;
	default:
		/* A truthful operator: fence-ack only a machine that really is off. */
		if (!sim_machines[h].powered)
			request(json_pack("{s:s, s:s, s:b}", "cmd", "fence-ack", "host",
					  sim_machines[h].name, "confirmed", 1));
		break;
	}
}

/* ---- faults ---- */

static void isolate(int h)
{
	static int next_part = 100;

	sim_trace("%s's cluster link cut", sim_machines[h].name);
	hosts[h].part = next_part++;
	membership_soon(3600 * MS);
}

static void heal(void)
{
	size_t i;

	sim_trace("every cluster link healed");
	for (i = 0; i < sim_nmachines; i++)
		hosts[i].part = 0;
	membership_soon(2000 * MS);
}

static void fault(void)
{
	int h = (int)sim_rand(sim_nmachines);
	struct sim_machine *m = &sim_machines[h];

	switch (sim_rand(13)) {
	case 0:
		power_off(h, "power failure");
		break;
	case 1:
	case 2:
		power_on(h);
		break;
	case 3:
		if (m->powered)
			isolate(h);
		break;
	case 4:
		heal();
		break;
	case 5:
		if (hosts[h].node) {
			sim_trace("haxd on %s killed", m->name);
			haxd_crash(h);
		}
		break;
	case 6:
		if (m->powered && !hosts[h].node)
			haxd_start(h);
		break;
	case 7:
		hosts[h].fence_mode = (int)sim_rand(3);
		sim_trace("%s's power switch now %s", m->name,
			  (const char *[]){"works", "fails", "hangs"}[hosts[h].fence_mode]);
		break;
	case 8:
		m->hv_fail_until_ns = sim_now() + sim_rand(20) * SEC;
		sim_trace("%s's hypervisor fails starts for a while", m->name);
		break;
	case 9:
		if (sim_chance(50)) {
			m->list_hang_until_ns = sim_now() + (1 + sim_rand(60)) * SEC;
			sim_trace("%s's hypervisor listing hangs for a while", m->name);
		} else if (sim_chance(50)) {
			uint64_t s = (1 + sim_rand(90)) * SEC;

			hosts[h].stall_ns += s;
			sim_trace("haxd on %s stalls: its clock jumps %llu s", m->name,
				  (unsigned long long)(s / SEC));
		} else if (opt.qdevice) {
			hosts[h].qdev = !hosts[h].qdev;
			sim_trace("%s's link to the quorum device %s", m->name,
				  hosts[h].qdev ? "back" : "cut");
			membership_soon(1000 * MS);
		}
		break;
	default:
		operator_action();
		break;
	}
}

/* ---- the run ---- */

static void run_until(uint64_t t)
{
	while (!failures && sim_step(t))
		check();
	if (!failures)
		sim_advance(t);
}

static void world_reset(void)
{
	size_t i;

	for (i = 0; i < nmsgs; i++)
		free(msgs[i].buf);
	free(msgs);
	msgs = NULL;
	nmsgs = capmsgs = first_pending = 0;
	last_delivery_ns = 0;
	for (i = 0; i < SIM_MAX_HOSTS; i++) {
		state_free(hosts[i].disk);
		memset(&hosts[i], 0, sizeof(hosts[i]));
	}
	memset(sim_machines, 0, sizeof(sim_machines));
	next_view_id = next_ring = quiet_at = 0;
	seen_both = false;
	failures = 0;
	free(starts);
	starts = NULL;
	nstarts = 0;
}

static void make_conf(void)
{
	char text[8192];
	size_t len = 0, i;
	struct conf_errors errs = {0};

	len += snprintf(text + len, sizeof(text) - len,
			"[cluster]\nname = sim\ndriver = sim\nstate_dir = /nonexistent\n"
			"no_quorum_timeout = 10s\nagent_lost_timeout = 20s\nfence_retry = 2s\n"
			"start_timeout = 20s\nstop_timeout = 10s\nmigrate_timeout = 60s\n");
	for (i = 0; i < opt.hosts; i++)
		len += snprintf(text + len, sizeof(text) - len,
				"[host h%zu]\nnodeid = %zu\naddress = 10.99.0.%zu\nmemory = 4G\n"
				"vcpus = 8\nfence = power-h%zu\n[fence power-h%zu]\ndriver = agent\n"
				"agent = /bin/true\n",
				i + 1, i + 1, i + 1, i + 1, i + 1);
	if (conf_parse_string("sim.conf", text, &conf, &errs) < 0) {
		for (i = 0; i < (size_t)errs.n; i++)
			fprintf(stderr, "hax-sim: %s\n", errs.msg[i]);
		exit(2);
	}
	conf_errors_free(&errs);
}

/* Everything repaired, then time enough to converge: every enabled domain that is not
 * failed runs exactly once, and every member holds the same state. */
static void check_converged(void)
{
	const struct hax_state *ref = NULL;
	char *a = NULL;
	size_t i, k;

	for (i = 0; i < sim_nmachines; i++) {
		const struct node *n = hosts[i].node;
		char *b;

		if (!n)
			continue;
		if (!n->synced) {
			violation("%s is not synced after the heal", sim_machines[i].name);
			continue;
		}
		if (!ref) {
			ref = n->state;
			a = state_to_string(ref);
			continue;
		}
		b = state_to_string(n->state);
		if (strcmp(a, b) != 0) {
			violation("%s's state differs from %s's after the heal", sim_machines[i].name,
				  sim_machines[0].name);
			if (sim_verbose)
				fprintf(stderr, "first:  %s\nsecond: %s\n", a, b);
		}
		free(b);
	}
	free(a);
	if (!ref) {
		violation("no member after the heal");
		return;
	}
	for (k = 0; k < ref->ndomains; k++) {
		const struct hax_domain *d = &ref->domains[k];
		size_t copies = 0, j;

		for (i = 0; i < sim_nmachines; i++)
			for (j = 0; j < sim_machines[i].ndoms; j++)
				copies += strcmp(sim_machines[i].doms[j].name, d->name) == 0 &&
					  sim_machines[i].doms[j].state == HV_RUNNING;
		if (d->enabled && d->state != DOM_FAILED && copies != 1)
			violation("%s (%s, %s) runs %zu times after the heal", d->name,
				  dom_state_name(d->state), d->reason, copies);
		if (!d->enabled && copies != 0)
			violation("disabled %s still runs after the heal", d->name);
	}
}

static void heal_all(void)
{
	size_t i, k;

	sim_trace("---- heal: every machine on, every link up, every switch working ----");
	for (i = 0; i < sim_nmachines; i++) {
		hosts[i].fence_mode = 0;
		hosts[i].qdev = true;
		sim_machines[i].hv_fail_until_ns = 0;
		sim_machines[i].list_hang_until_ns = 0;
		power_on((int)i);
		if (!hosts[i].node)
			haxd_start((int)i);
	}
	heal();
	/* The operator ends every maintenance (evacuations leave hosts in it), again until
	 * a leader has taken it. */
	for (k = 0; k < 8; k++) {
		run_until(sim_now() + 10 * SEC);
		for (i = 0; i < sim_nmachines; i++)
			request(json_pack("{s:s, s:s, s:b}", "cmd", "maintenance", "host",
					  sim_machines[i].name, "on", 0));
	}
	run_until(sim_now() + 120 * SEC);
}

static int run_seed(uint64_t seed)
{
	unsigned i;

	world_reset();
	sim_loop_reset(seed);
	sim_nmachines = opt.hosts;
	for (i = 0; i < opt.hosts; i++) {
		snprintf(sim_machines[i].name, HAX_NAME_MAX, "h%u", i + 1);
		sim_machines[i].nodeid = i + 1;
		sim_machines[i].powered = true;
		hosts[i].corosync = true;
		hosts[i].qdev = true;
	}
	for (i = 0; i < opt.hosts; i++)
		haxd_start((int)i);
	run_until(sim_now() + 8 * SEC);
	for (i = 0; i < opt.domains; i++)
		add_domain(i);
	run_until(sim_now() + 10 * SEC);
	for (i = 0; i < opt.steps && !failures; i++) {
		run_until(sim_now() + (100 + sim_rand(6000)) * MS);
		fault();
	}
	if (!failures)
		heal_all();
	if (!failures)
		check_converged();
	for (i = 0; i < opt.hosts; i++)
		haxd_crash((int)i);
	return failures;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: hax-sim --seed N [--steps K] [--hosts H] [--domains D] [--qdevice] [--two-node]\n"
		"               [--verbose]\n"
		"       hax-sim --seeds M [--first-seed S] [--steps K] [--hosts H] [--domains D]\n"
		"               [--qdevice] [--two-node]\n"
		"--qdevice: a quorum device's vote on top of the hosts' (two hosts + qdevice is\n"
		"the two-node shape); its vote moves between partitions without a ring change.\n"
		"--two-node: votequorum's two_node (use with --hosts 2): either half is quorate.\n"
		"Runs the real leader and agent against a simulated corosync, hypervisors and\n"
		"fence devices on a virtual clock; checks the invariants after every event.\n"
		"Exits 1 on the first failure (its seed and trace are printed), 2 on bad usage.\n");
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || v > max || *s == '-')
		return -1;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"seed", required_argument, NULL, 's'},   {"seeds", required_argument, NULL, 'm'},
		{"first-seed", required_argument, NULL, 'f'}, {"steps", required_argument, NULL, 'k'},
		{"hosts", required_argument, NULL, 'H'},  {"domains", required_argument, NULL, 'D'},
		{"verbose", no_argument, NULL, 'v'},      {"help", no_argument, NULL, 'h'},
		{"qdevice", no_argument, NULL, 'q'},      {"two-node", no_argument, NULL, 't'},
		{NULL, 0, NULL, 0}};
	uint64_t seed = 0, seeds = 0, first = 1, v;
	bool have_seed = false;
	struct timespec t0, t1;
	int c;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		int bad = 0;

		switch (c) {
		case 's': bad = parse_u64(optarg, UINT64_MAX, &seed); have_seed = true; break;
		case 'm': bad = parse_u64(optarg, 100000000, &seeds); break;
		case 'f': bad = parse_u64(optarg, UINT64_MAX, &first); break;
		case 'k': bad = parse_u64(optarg, 100000, &v); opt.steps = (unsigned)v; break;
		case 'H':
			bad = parse_u64(optarg, SIM_MAX_HOSTS, &v) || v < 1;
			opt.hosts = (unsigned)v;
			break;
		case 'D':
			bad = parse_u64(optarg, SIM_MAX_DOMS / 2, &v);
			opt.domains = (unsigned)v;
			break;
		case 'v': sim_verbose = true; break;
		case 'q': opt.qdevice = true; break;
		case 't': opt.two_node = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
		if (bad) {
			fprintf(stderr, "hax-sim: bad value for --%s: %s\n", lo[0].name, optarg);
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || have_seed == (seeds > 0)) {
		usage(stderr);
		return 2;
	}
	make_conf();
	if (have_seed) {
		int f = run_seed(seed);

		if (f || sim_verbose)
			sim_trace_dump();
		printf("seed %llu: %s\n", (unsigned long long)seed, f ? "FAILED" : "ok");
		return f ? 1 : 0;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (v = first; v < first + seeds; v++) {
		if (run_seed(v)) {
			sim_trace_dump();
			printf("seed %llu: FAILED (replay: hax-sim --seed %llu --steps %u --hosts %u --domains %u%s)\n",
			       (unsigned long long)v, (unsigned long long)v, opt.steps, opt.hosts,
			       opt.domains, opt.qdevice ? " --qdevice" : opt.two_node ? " --two-node" : "");
			return 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("%llu seeds (%llu..%llu) ok in %.1f s, %.1f seeds/s\n", (unsigned long long)seeds,
	       (unsigned long long)first, (unsigned long long)(first + seeds - 1), s,
	       (double)seeds / s);
	return 0;
}
