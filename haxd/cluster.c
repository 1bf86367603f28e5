#include "cluster.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <corosync/cmap.h>
#include <corosync/corotypes.h>
#include <corosync/cpg.h>
#include <corosync/quorum.h>

#include "lib/loop.h"
#include "msgq.h"
#include "lib/util.h"

#define GROUP_NAME "haxd"
#define RECONNECT_MS 1000
#define SEND_RETRY_MS 20

struct queued {
	struct queued *next;
	uint32_t nodeid;
	size_t len;
	char buf[];
};

struct node_name {
	uint32_t nodeid;
	char name[HAX_NAME_MAX];
};

/* One corosync connection per daemon. */
static struct {
	qb_loop_t *loop;
	struct cluster_ops ops;
	bool up;                 /* handles initialised and fds on the loop */
	bool joined;             /* our own join has been delivered */
	bool logged_unreachable; /* log a failing reconnect once, not every second */
	cpg_handle_t cpg;
	quorum_handle_t quorum;
	int cpg_fd, q_fd;
	uint32_t nodeid;
	/* facts, each from its own source, combined by maybe_emit() */
	bool have_totem, have_quorum, ring_pending;
	struct cpg_ring_id cpg_ring;
	struct quorum_ring_id q_ring;
	bool quorate;
	size_t ncpg, nq;
	uint32_t cpg_nodes[CLUSTER_MAX_NODES], q_nodes[CLUSTER_MAX_NODES];
	size_t nnames;
	struct node_name names[CLUSTER_MAX_NODES];
	uint32_t token_ms, consensus_ms;   /* corosync's effective totem timeouts */
	struct msgq sendq;       /* what corosync has not taken yet (TRY_AGAIN), bounded */
	bool logged_full;        /* the queue overflowed: said once per episode */
	/* Messages delivered after a group or ring change that cannot be reported yet (the
	 * quorum side has not caught up): they belong to the coming view, so they are held
	 * and delivered right after it. */
	bool hold;
	struct queued *held, **held_tail;
	hax_timer_t retry_timer, send_timer;
} cl;

static void connect_now(void *data);

static void emit(bool connected)
{
	struct cluster_view v = {.connected = connected};

	if (connected) {
		v.ring = cl.cpg_ring.seq;
		v.ring_node = cl.cpg_ring.nodeid;
		v.quorate = cl.quorate;
		v.nmembers = cl.ncpg;
		memcpy(v.members, cl.cpg_nodes, cl.ncpg * sizeof(uint32_t));
		v.nnodes = cl.nq;
		memcpy(v.nodes, cl.q_nodes, cl.nq * sizeof(uint32_t));
	}
	cl.ops.view(cl.ops.opaque, &v);
}

static void free_held(void)
{
	struct queued *q;

	while ((q = cl.held)) {
		cl.held = q->next;
		free(q);
	}
	cl.held_tail = &cl.held;
}

/* Report a view only when CPG and quorum describe the same ring (Pacemaker PR 1575).
 * Returns whether it was reported; held messages follow it. */
static bool maybe_emit(void)
{
	struct queued *q;

	if (!cl.joined || !cl.have_totem || !cl.have_quorum || cl.ring_pending)
		return false;
	if (cl.cpg_ring.seq != cl.q_ring.seq || cl.cpg_ring.nodeid != cl.q_ring.nodeid)
		return false;
	emit(true);
	cl.hold = false;
	while ((q = cl.held)) {
		cl.held = q->next;
		if (!cl.held)
			cl.held_tail = &cl.held;
		if (cl.up)
			cl.ops.deliver(cl.ops.opaque, q->nodeid, q->buf, q->len);
		free(q);
	}
	return true;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Sorted unique copy of ids into out (at most CLUSTER_MAX_NODES). */
static size_t set_nodes(uint32_t *out, const uint32_t *ids, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n && k < CLUSTER_MAX_NODES; i++)
		out[k++] = ids[i];
	qsort(out, k, sizeof(*out), cmp_u32);
	for (i = 0, n = 0; i < k; i++)
		if (n == 0 || out[n - 1] != out[i])
			out[n++] = out[i];
	return n;
}

static void teardown(void)
{
	if (cl.up) {
		qb_loop_poll_del(cl.loop, cl.cpg_fd);
		qb_loop_poll_del(cl.loop, cl.q_fd);
		cpg_finalize(cl.cpg);
		quorum_finalize(cl.quorum);
	}
	cl.up = cl.joined = cl.have_totem = cl.have_quorum = cl.ring_pending = false;
	cl.hold = true;
	free_held();
	cl.quorate = false;
	cl.ncpg = cl.nq = 0;
	msgq_clear(&cl.sendq);
	hax_timer_del(cl.send_timer);
	cl.send_timer = 0;
}

static void lost_connection(const char *why)
{
	hax_log(LOG_ERR, "cluster: lost corosync (%s): no quorum until it is back", why);
	teardown();
	emit(false);
	hax_timer_del(cl.retry_timer);
	hax_timer_add(RECONNECT_MS, connect_now, NULL, &cl.retry_timer);
}

static void on_deliver(cpg_handle_t h, const struct cpg_name *group, uint32_t nodeid,
		       uint32_t pid, void *msg, size_t len)
{
	struct queued *q;

	(void)h;
	(void)group;
	(void)pid;
	if (!cl.joined)
		return;
	if (!cl.hold) {
		cl.ops.deliver(cl.ops.opaque, nodeid, msg, len);
		return;
	}
	q = hax_xmalloc(sizeof(*q) + len);
	q->next = NULL;
	q->nodeid = nodeid;
	q->len = len;
	memcpy(q->buf, msg, len);
	*cl.held_tail = q;
	cl.held_tail = &q->next;
}

static void on_confchg(cpg_handle_t h, const struct cpg_name *group,
		       const struct cpg_address *members, size_t nmembers,
		       const struct cpg_address *left, size_t nleft,
		       const struct cpg_address *joined, size_t njoined)
{
	uint32_t ids[CPG_MEMBERS_MAX];
	size_t i;

	(void)h;
	(void)group;
	for (i = 0; i < nmembers && i < CPG_MEMBERS_MAX; i++) {
		ids[i] = members[i].nodeid;
		if (members[i].nodeid == cl.nodeid && members[i].pid == (uint32_t)getpid())
			cl.joined = true;
	}
	cl.ncpg = set_nodes(cl.cpg_nodes, ids, i);
	/* A node going down or coming up changes the ring too: wait for the totem
	 * configuration of that ring before reporting anything. Process joins and
	 * leaves (haxd restarting) happen inside a ring and are reported at once. */
	for (i = 0; i < nleft; i++) {
		hax_log(LOG_INFO, "cluster: haxd on node %u left (%s)", left[i].nodeid,
			left[i].reason == CPG_REASON_PROCDOWN ? "haxd stopped, corosync alive"
			: left[i].reason == CPG_REASON_NODEDOWN ? "node down" : "left");
		if (left[i].reason == CPG_REASON_NODEDOWN)
			cl.ring_pending = true;
	}
	for (i = 0; i < njoined; i++) {
		hax_log(LOG_INFO, "cluster: haxd on node %u joined", joined[i].nodeid);
		if (joined[i].reason == CPG_REASON_NODEUP)
			cl.ring_pending = true;
	}
	if (!maybe_emit())
		cl.hold = true;
}

static void on_totem_confchg(cpg_handle_t h, struct cpg_ring_id ring, uint32_t n,
			     const uint32_t *nodes)
{
	(void)h;
	(void)n;
	(void)nodes;
	cl.cpg_ring = ring;
	cl.have_totem = true;
	cl.ring_pending = false;
	if (!maybe_emit())
		cl.hold = true;
}

static void on_quorum(quorum_handle_t h, uint32_t quorate, struct quorum_ring_id ring,
		      uint32_t n, const uint32_t *nodes)
{
	(void)h;
	if (quorate != cl.quorate || !cl.have_quorum)
		hax_log(LOG_NOTICE, "cluster: partition of %u node(s) is %s", n,
			quorate ? "quorate" : "NOT quorate");
	cl.quorate = quorate;
	cl.q_ring = ring;
	cl.nq = set_nodes(cl.q_nodes, nodes, n);
	cl.have_quorum = true;
	maybe_emit();
}

static void on_nodelist(quorum_handle_t h, struct quorum_ring_id ring, uint32_t n,
			const uint32_t *m, uint32_t nj, const uint32_t *j, uint32_t nl,
			const uint32_t *l)
{
	(void)h, (void)ring, (void)n, (void)m, (void)nj, (void)j, (void)nl, (void)l;
}

static int32_t dispatch_cpg(int32_t fd, int32_t revents, void *data)
{
	cs_error_t r;

	(void)fd;
	(void)revents;
	(void)data;
	r = cpg_dispatch(cl.cpg, CS_DISPATCH_ALL);
	if (r != CS_OK && r != CS_ERR_TRY_AGAIN && cl.up)
		lost_connection("CPG dispatch failed");
	return 0;
}

static int32_t dispatch_quorum(int32_t fd, int32_t revents, void *data)
{
	cs_error_t r;

	(void)fd;
	(void)revents;
	(void)data;
	r = quorum_dispatch(cl.quorum, CS_DISPATCH_ALL);
	if (r != CS_OK && r != CS_ERR_TRY_AGAIN && cl.up)
		lost_connection("quorum dispatch failed");
	return 0;
}

/* Node names from corosync's nodelist; a node without a name keeps none. */
static void read_names(void)
{
	cmap_handle_t h;
	char key[128];
	int i;

	cl.nnames = 0;
	if (cmap_initialize(&h) != CS_OK)
		return;
	for (i = 0; cl.nnames < CLUSTER_MAX_NODES; i++) {
		uint32_t id;
		char *name = NULL;

		snprintf(key, sizeof(key), "nodelist.node.%d.nodeid", i);
		if (cmap_get_uint32(h, key, &id) != CS_OK)
			break;
		snprintf(key, sizeof(key), "nodelist.node.%d.name", i);
		if (cmap_get_string(h, key, &name) == CS_OK && name) {
			cl.names[cl.nnames].nodeid = id;
			hax_strlcpy(cl.names[cl.nnames].name, name, HAX_NAME_MAX);
			cl.nnames++;
		}
		free(name);
	}
	/* The runtime values include the per-node token coefficient. */
	if (cmap_get_uint32(h, "runtime.config.totem.token", &cl.token_ms) != CS_OK)
		cl.token_ms = 0;
	if (cmap_get_uint32(h, "runtime.config.totem.consensus", &cl.consensus_ms) != CS_OK)
		cl.consensus_ms = 0;
	cmap_finalize(h);
}

int cluster_totem_ms(uint32_t *token, uint32_t *consensus)
{
	if (!cl.token_ms)
		return -ENODATA;
	*token = cl.token_ms;
	*consensus = cl.consensus_ms;
	return 0;
}

int cluster_node_name(uint32_t nodeid, char *out, size_t len)
{
	size_t i;

	for (i = 0; i < cl.nnames; i++)
		if (cl.names[i].nodeid == nodeid)
			return hax_strlcpy(out, cl.names[i].name, len);
	return -ENOENT;
}

uint32_t cluster_nodeid(void)
{
	return cl.nodeid;
}

static cs_error_t open_quorum(void)
{
	static quorum_model_v1_data_t model = {
		.model = QUORUM_MODEL_V1,
		.quorum_notify_fn = on_quorum,
		.nodelist_notify_fn = on_nodelist,
	};
	uint32_t type;
	cs_error_t r;

	r = quorum_model_initialize(&cl.quorum, QUORUM_MODEL_V1, (quorum_model_data_t *)&model,
				    &type, NULL);
	if (r != CS_OK)
		return r;
	r = quorum_trackstart(cl.quorum, CS_TRACK_CHANGES | CS_TRACK_CURRENT);
	if (r == CS_OK)
		r = quorum_fd_get(cl.quorum, &cl.q_fd);
	if (r != CS_OK)
		quorum_finalize(cl.quorum);
	return r;
}

static cs_error_t open_cpg(void)
{
	static cpg_model_v1_data_t model = {
		.model = CPG_MODEL_V1,
		.cpg_deliver_fn = on_deliver,
		.cpg_confchg_fn = on_confchg,
		.cpg_totem_confchg_fn = on_totem_confchg,
		.flags = CPG_MODEL_V1_DELIVER_INITIAL_TOTEM_CONF,
	};
	struct cpg_name group = {.length = sizeof(GROUP_NAME) - 1, .value = GROUP_NAME};
	unsigned int id;
	cs_error_t r;

	r = cpg_model_initialize(&cl.cpg, CPG_MODEL_V1, (cpg_model_data_t *)&model, NULL);
	if (r != CS_OK)
		return r;
	r = cpg_local_get(cl.cpg, &id);
	if (r == CS_OK) {
		cl.nodeid = id;
		r = cpg_join(cl.cpg, &group);
	}
	if (r == CS_OK)
		r = cpg_fd_get(cl.cpg, &cl.cpg_fd);
	if (r != CS_OK)
		cpg_finalize(cl.cpg);
	return r;
}

static void connect_now(void *data)
{
	cs_error_t r;

	(void)data;
	cl.retry_timer = 0;
	r = open_quorum();
	if (r == CS_OK) {
		r = open_cpg();
		if (r != CS_OK)
			quorum_finalize(cl.quorum);
	}
	if (r != CS_OK) {
		if (!cl.logged_unreachable)
			hax_log(LOG_WARNING, "cluster: cannot reach corosync (error %d), retrying every %d ms",
				(int)r, RECONNECT_MS);
		cl.logged_unreachable = true;
		hax_timer_add(RECONNECT_MS, connect_now, NULL, &cl.retry_timer);
		return;
	}
	read_names();
	qb_loop_poll_add(cl.loop, QB_LOOP_HIGH, cl.cpg_fd, POLLIN, NULL, dispatch_cpg);
	qb_loop_poll_add(cl.loop, QB_LOOP_HIGH, cl.q_fd, POLLIN, NULL, dispatch_quorum);
	cl.up = true;
	cl.logged_unreachable = false;
	hax_log(LOG_NOTICE, "cluster: connected to corosync as node %u, joining group %s",
		cl.nodeid, GROUP_NAME);
}

static void flush_queue(void *data)
{
	struct msgq_item *q;

	(void)data;
	cl.send_timer = 0;
	while ((q = msgq_peek(&cl.sendq))) {
		struct iovec iov = {.iov_base = q->buf, .iov_len = q->len};
		cs_error_t r = cpg_mcast_joined(cl.cpg, CPG_TYPE_AGREED, &iov, 1);

		if (r == CS_ERR_TRY_AGAIN) {
			hax_timer_add(SEND_RETRY_MS, flush_queue, NULL, &cl.send_timer);
			return;
		}
		if (r != CS_OK)
			hax_log(LOG_ERR, "cluster: message of %zu bytes not sent (error %d), dropping it",
				q->len, (int)r);
		msgq_drop(&cl.sendq);
	}
	if (cl.logged_full)
		hax_log(LOG_NOTICE, "cluster: corosync takes messages again, send queue empty");
	cl.logged_full = false;
}

int cluster_send(const void *buf, size_t len)
{
	int r;

	if (!cl.up || !cl.joined)
		return -ENOTCONN;
	/* Always through the queue, so that order is kept across TRY_AGAIN. */
	r = msgq_push(&cl.sendq, 0, buf, len);
	if (r < 0) {
		if (!cl.logged_full)
			hax_log(LOG_ERR, "cluster: corosync has answered TRY_AGAIN to %zu queued message(s) (%zu bytes): send queue full, refusing new messages until it drains",
				cl.sendq.n, cl.sendq.bytes);
		cl.logged_full = true;
		return r;
	}
	if (!cl.send_timer)
		flush_queue(NULL);
	return 0;
}

int cluster_init(qb_loop_t *loop, const struct cluster_ops *ops)
{
	cl.loop = loop;
	cl.ops = *ops;
	msgq_init(&cl.sendq, MSGQ_MAX_MSGS, MSGQ_MAX_BYTES);
	cl.held_tail = &cl.held;
	cl.hold = true;
	connect_now(NULL);
	return 0;
}

void cluster_fini(void)
{
	hax_timer_del(cl.retry_timer);
	cl.retry_timer = 0;
	teardown();
}
