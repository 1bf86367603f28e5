#include "agent.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/drbdadm.h"
#include "lib/loop.h"

#define AGENT_MAX_DRBD 8

struct agent_op {
	struct agent_op *next;
	struct agent *agent;
	char cmd[16];
	char name[HAX_NAME_MAX];
	uint64_t incarnation;
	/* A DRBD-backed start: its resources are promoted first, one after the other. */
	json_t *start;                 /* the start command, kept until the driver runs */
	int ndrbd, cur;
	char drbd[AGENT_MAX_DRBD][HAX_NAME_MAX];
	struct drbdadm_run *promote;
	/* migrate-out: progress reporting */
	char target[HAX_NAME_MAX];
	uint64_t started_ns, last_progress_ns;
	int64_t downtime_ms;           /* as the driver reported it; -1 unknown */
	char if_state[16];             /* destroy only a copy in this state ("incoming") */
};

struct agent {
	const struct hv_ops *drv;
	struct hv *hv;
	char host[HAX_NAME_MAX];
	uint32_t nodeid;
	char drbdadm[PATH_MAX];
	uint64_t poll_ms;
	struct agent_out out;
	hax_timer_t timer;
	bool listing;          /* a list call is in flight */
	bool force;            /* send the next inventory even if unchanged */
	struct agent_op *ops;  /* in flight, one per domain */
	json_t *last;          /* last inventory sent */
	/* An operation that completes while a list is in flight makes that list stale (the
	 * domain may be in neither the list nor the busy set): such a list is redone. */
	uint64_t gen, list_gen;
	struct snap_waiter *waiters;
	json_t *frozen;        /* names the no-quorum policy froze; NULL = none */
	bool freeze;           /* isolation policy pending: freeze rather than stop */
	uint64_t stop_timeout_ms;
	struct demote *demotes; /* DRBD resources being made Secondary after a domain left */
};

/* `drbdadm secondary` of a domain's resources, one after the other, once the domain
 * has left this host; failures are logged (the next host's promotion says why). */
struct demote {
	struct demote *next;
	struct agent *agent;
	char name[HAX_NAME_MAX];
	int n, cur;
	char res[AGENT_MAX_DRBD][HAX_NAME_MAX];
	struct drbdadm_run *op;
};

struct snap_waiter {
	struct snap_waiter *next;
	agent_snapshot_fn fn;
	void *opaque;
};

static void poll_now(void *data);

static void schedule_poll(struct agent *a, uint64_t ms)
{
	hax_timer_del(a->timer);
	a->timer = 0;
	if (hax_timer_add(ms, poll_now, a, &a->timer) < 0)
		hax_log(LOG_ERR, "agent: cannot arm the inventory timer");
}

static json_t *busy_names(const struct agent *a)
{
	json_t *busy = json_array();
	const struct agent_op *op;

	for (op = a->ops; op; op = op->next)
		json_array_append_new(busy, json_string(op->name));
	return busy;
}

static void notify_waiters(struct agent *a, const json_t *inv)
{
	struct snap_waiter *w = a->waiters;

	a->waiters = NULL;
	while (w) {
		struct snap_waiter *next = w->next;

		w->fn(w->opaque, inv);
		free(w);
		w = next;
	}
}

static void list_done(void *opaque, int result, const struct hv_domain_info *doms, size_t n)
{
	struct agent *a = opaque;
	struct hv_capacity cap = {0};
	json_t *inv, *arr;
	size_t i;

	a->listing = false;
	if (a->list_gen != a->gen) {
		schedule_poll(a, 0);
		return;
	}
	schedule_poll(a, a->poll_ms);
	if (result < 0) {
		hax_log(LOG_WARNING, "agent: inventory failed: %s, ignoring", strerror(-result));
		return;
	}
	a->drv->capacity(a->hv, &cap);
	arr = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("{s:s, s:I, s:s, s:I, s:I}", "name",
						     doms[i].name, "incarnation",
						     (json_int_t)doms[i].incarnation, "state",
						     hv_dom_state_name(doms[i].state), "memory_mib",
						     (json_int_t)doms[i].memory_mib, "vcpus",
						     (json_int_t)doms[i].vcpus));
	inv = json_pack("{s:s, s:s, s:I, s:o, s:o, s:I, s:I, s:I}", "op", "inventory", "host",
			a->host, "nodeid", (json_int_t)a->nodeid, "domains", arr, "busy",
			busy_names(a), "mem_total_mib", (json_int_t)cap.mem_total_mib,
			"vcpus_total", (json_int_t)cap.vcpus, "gen", (json_int_t)a->list_gen);
	notify_waiters(a, inv);
	if (!a->force && a->last && json_equal(inv, a->last)) {
		json_decref(inv);
		return;
	}
	a->force = false;
	json_decref(a->last);
	a->last = inv;
	a->out.inventory(a->out.opaque, inv);
}

static void poll_now(void *data)
{
	struct agent *a = data;
	int r;

	a->timer = 0;
	if (a->listing)
		return;
	a->list_gen = a->gen;
	r = a->drv->list(a->hv, list_done, a);
	if (r < 0) {
		hax_log(LOG_WARNING, "agent: cannot list domains: %s, ignoring", strerror(-r));
		schedule_poll(a, a->poll_ms);
		return;
	}
	a->listing = true;
}

static void send_result(struct agent *a, const char *cmd, const char *name, uint64_t inc,
			int result, const char *msg)
{
	char buf[256];
	json_t *res;
	bool uri = result == 0 && strcmp(cmd, "migrate-in") == 0;

	if (result < 0 && !msg) {
		snprintf(buf, sizeof(buf), "%s", strerror(-result));
		msg = buf;
	}
	res = json_pack("{s:s, s:s, s:s, s:s, s:I, s:b, s:s, s:I}", "op", "result", "host",
			a->host, "cmd", cmd, "name", name, "incarnation", (json_int_t)inc, "ok",
			result == 0, "error", result == 0 ? "" : msg, "gen", (json_int_t)a->gen);
	/* A target that is ready answers where the source is to send the domain. */
	if (uri)
		json_object_set_new(res, "uri", json_string(msg ? msg : ""));
	a->out.result(a->out.opaque, res);
	json_decref(res);
}

static void demote_next(struct demote *dm);

static void demote_free(struct demote *dm)
{
	struct demote **pp;

	for (pp = &dm->agent->demotes; *pp; pp = &(*pp)->next)
		if (*pp == dm) {
			*pp = dm->next;
			break;
		}
	free(dm);
}

static void demoted(void *opaque, int result, const char *msg, const char *output)
{
	struct demote *dm = opaque;

	(void)output;
	dm->op = NULL;
	hax_log(result == 0 ? LOG_INFO : LOG_WARNING, "agent: %s left: %s%s", dm->name,
		result == 0 ? "" : "cannot make it Secondary: ", msg ? msg : strerror(-result));
	dm->cur++;
	demote_next(dm);
}

static void demote_next(struct demote *dm)
{
	for (; dm->cur < dm->n; dm->cur++) {
		int r = drbdadm_demote(dm->agent->drbdadm, dm->res[dm->cur], demoted, dm, &dm->op);

		if (r == 0)
			return;
		hax_log(LOG_WARNING, "agent: %s left: cannot run drbdadm secondary %s: %s",
			dm->name, dm->res[dm->cur], strerror(-r));
	}
	demote_free(dm);
}

static void demote_start(struct agent *a, const struct agent_op *op)
{
	struct demote *dm = hax_xcalloc(1, sizeof(*dm));

	dm->agent = a;
	hax_strlcpy(dm->name, op->name, sizeof(dm->name));
	dm->n = op->ndrbd;
	memcpy(dm->res, op->drbd, sizeof(dm->res));
	dm->next = a->demotes;
	a->demotes = dm;
	demote_next(dm);
}

static void op_done(void *opaque, int result, const char *msg)
{
	struct agent_op *op = opaque, **pp;
	struct agent *a = op->agent;

	for (pp = &a->ops; *pp; pp = &(*pp)->next)
		if (*pp == op) {
			*pp = op->next;
			break;
		}
	hax_log(result == 0 ? LOG_INFO : LOG_WARNING, "agent: %s %s (incarnation %llu): %s",
		op->cmd, op->name, (unsigned long long)op->incarnation,
		result == 0 ? "done" : (msg ? msg : strerror(-result)));
	if (result == 0 && strcmp(op->cmd, "migrate-out") == 0)
		hax_log(LOG_NOTICE, "agent: %s migrated to %s in %llu ms, downtime %lld ms%s", op->name,
			op->target,
			(unsigned long long)((hax_now_mono_ns() - op->started_ns) / 1000000),
			(long long)op->downtime_ms,
			op->downtime_ms < 0 ? " (not reported by the driver)" : "");
	a->gen++;
	send_result(a, op->cmd, op->name, op->incarnation, result, msg);
	if (result == 0 && op->ndrbd > 0 &&
	    (strcmp(op->cmd, "stop") == 0 || strcmp(op->cmd, "destroy") == 0 ||
	     strcmp(op->cmd, "migrate-out") == 0))
		demote_start(a, op);
	json_decref(op->start);
	free(op);
	/* The inventory changed: report it now rather than at the next poll. */
	schedule_poll(a, 0);
}

static struct agent_op *find_op(const struct agent *a, const char *name)
{
	struct agent_op *op;

	for (op = a->ops; op; op = op->next)
		if (strcmp(op->name, name) == 0)
			return op;
	return NULL;
}

/* The DRBD resources a definition names: "drbd = RES" lines (sim) and "drbd:RES" disk
 * targets (xl's block-drbd syntax). */
static int drbd_resources(const char *def, char (*out)[HAX_NAME_MAX])
{
	const char *p;
	int n = 0;

	for (p = def; n < AGENT_MAX_DRBD && (p = strstr(p, "drbd")); p += 4) {
		const char *v = p + 4;
		size_t len;

		if (p != def && (isalnum((unsigned char)p[-1]) || p[-1] == '_' || p[-1] == '-'))
			continue;
		v += strspn(v, " \t");
		if (*v != ':' && *v != '=')
			continue;
		v++;
		v += strspn(v, " \t");
		len = strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-");
		if (len == 0 || len >= HAX_NAME_MAX)
			continue;
		memcpy(out[n], v, len);
		out[n][len] = '\0';
		n++;
	}
	return n;
}

static int start_domain(struct agent *a, const json_t *cmd, struct agent_op *op);
static int prepare_domain(struct agent *a, const json_t *cmd, struct agent_op *op);

/* What a start or a migrate-in does once its resources are Primary here. */
static int after_promotion(struct agent *a, const json_t *cmd, struct agent_op *op)
{
	return strcmp(op->cmd, "migrate-in") == 0 ? prepare_domain(a, cmd, op)
						   : start_domain(a, cmd, op);
}

static void promoted(void *opaque, int result, const char *msg, const char *output)
{
	struct agent_op *op = opaque;
	struct agent *a = op->agent;
	int r;

	(void)output;
	op->promote = NULL;
	if (result < 0) {
		op_done(op, result, msg);
		return;
	}
	hax_log(LOG_INFO, "agent: %s: DRBD resource %s promoted", op->name, op->drbd[op->cur]);
	if (++op->cur < op->ndrbd) {
		r = drbdadm_promote(a->drbdadm, op->drbd[op->cur], promoted, op, &op->promote);
	} else {
		r = after_promotion(a, op->start, op);
	}
	if (r < 0)
		op_done(op, r, "cannot start the next step");
}

/* A start or migrate-in: its DRBD resources made Primary here first. The leader starts
 * a lost host's domain only once that host is fenced, so a promotion for a start comes
 * after the fence was confirmed; a live migration needs the resource Primary on both
 * ends for its duration (DRBD's allow-two-primaries; without it DRBD refuses and the
 * migration fails with the domain still on its source). */
static int run_promoted(struct agent *a, const json_t *cmd, struct agent_op *op)
{
	if (op->ndrbd == 0)
		return after_promotion(a, cmd, op);
	op->start = json_deep_copy(cmd);
	return drbdadm_promote(a->drbdadm, op->drbd[0], promoted, op, &op->promote);
}

static int start_domain(struct agent *a, const json_t *cmd, struct agent_op *op)
{
	const json_t *dom = json_object_get(cmd, "domain");
	struct hv_start req = {
		.name = op->name,
		.definition = json_string_value(json_object_get(dom, "definition")),
		.incarnation = op->incarnation,
		.memory_mib = (uint32_t)json_integer_value(json_object_get(dom, "memory_mib")),
		.vcpus = (uint32_t)json_integer_value(json_object_get(dom, "vcpus")),
	};

	if (!req.definition || op->incarnation == 0)
		return -EINVAL;
	return a->drv->start(a->hv, &req, op_done, op);
}

static void migrate_progress(void *opaque, const struct hv_migrate_progress *p)
{
	struct agent_op *op = opaque;
	struct agent *a = op->agent;
	uint64_t now = hax_now_mono_ns();
	json_t *j;

	if (p->downtime_ms >= 0)
		op->downtime_ms = p->downtime_ms;
	if (!a->out.progress || now - op->last_progress_ns < AGENT_PROGRESS_MS * 1000000ull)
		return;
	op->last_progress_ns = now;
	j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:i, s:I, s:I}", "op", "progress",
		      "host", a->host, "name", op->name, "target", op->target, "phase",
		      p->phase ? p->phase : "", "bytes_done", (json_int_t)p->bytes_done,
		      "bytes_total", (json_int_t)p->bytes_total, "percent", p->percent,
		      "downtime_ms", (json_int_t)p->downtime_ms, "elapsed_ms",
		      (json_int_t)((now - op->started_ns) / 1000000));
	a->out.progress(a->out.opaque, j);
	json_decref(j);
}

static int run_migrate(struct agent *a, const json_t *cmd, struct agent_op *op)
{
	json_int_t timeout = json_integer_value(json_object_get(cmd, "timeout_ms"));

	if (!a->drv->migrate_prepare || !a->drv->migrate_send)
		return -EOPNOTSUPP;
	if (strcmp(op->cmd, "migrate-in") == 0)
		return run_promoted(a, cmd, op);
	struct hv_migrate_out out = {
		.name = op->name,
		.incarnation = op->incarnation,
		.target_host = json_string_value(json_object_get(cmd, "target")),
		.target_addr = json_string_value(json_object_get(cmd, "target_addr")),
		.uri = json_string_value(json_object_get(cmd, "uri")),
		.timeout_ms = timeout > 0 ? (uint64_t)timeout : 600000,
	};

	if (!out.target_host || !hax_valid_name(out.target_host) || !out.uri)
		return -EINVAL;
	hax_strlcpy(op->target, out.target_host, sizeof(op->target));
	op->started_ns = hax_now_mono_ns();
	op->downtime_ms = -1;
	return a->drv->migrate_send(a->hv, &out, migrate_progress, op_done, op);
}

static int prepare_domain(struct agent *a, const json_t *cmd, struct agent_op *op)
{
	const json_t *dom = json_object_get(cmd, "domain");
	struct hv_migrate_in in = {
		.name = op->name,
		.definition = json_string_value(json_object_get(dom, "definition")),
		.incarnation = op->incarnation,
		.memory_mib = (uint32_t)json_integer_value(json_object_get(dom, "memory_mib")),
		.vcpus = (uint32_t)json_integer_value(json_object_get(dom, "vcpus")),
		.source_host = json_string_value(json_object_get(cmd, "source")),
		.listen_addr = json_string_value(json_object_get(cmd, "listen_addr")),
	};

	if (!in.definition || !in.listen_addr || op->incarnation == 0)
		return -EINVAL;
	return a->drv->migrate_prepare(a->hv, &in, op_done, op);
}

/* A conditional destroy looks at a fresh list first: a leader's inventory of an incoming
 * copy may be older than the commit that made it the live one. */
static void destroy_if(void *opaque, const json_t *inv)
{
	struct agent_op *op = opaque;
	struct agent *a = op->agent;
	const json_t *doms = json_object_get(inv, "domains");
	const char *st = "absent";
	char msg[96];
	size_t i;
	int r;

	for (i = 0; i < json_array_size(doms); i++) {
		const json_t *d = json_array_get(doms, i);

		if (strcmp(json_string_value(json_object_get(d, "name")) ?: "", op->name) == 0)
			st = json_string_value(json_object_get(d, "state")) ?: "?";
	}
	if (strcmp(st, op->if_state) != 0) {
		snprintf(msg, sizeof(msg), "left alone: it is %s, not %s", st, op->if_state);
		op_done(op, -ESTALE, msg);
		return;
	}
	r = a->drv->destroy(a->hv, op->name, op_done, op);
	if (r < 0)
		op_done(op, r, NULL);
}

static int run_command(struct agent *a, const json_t *cmd, struct agent_op *op)
{
	json_int_t timeout = json_integer_value(json_object_get(cmd, "timeout_ms"));
	const char *if_state = json_string_value(json_object_get(cmd, "if_state"));

	if (strcmp(op->cmd, "destroy") == 0 && if_state) {
		hax_strlcpy(op->if_state, if_state, sizeof(op->if_state));
		agent_snapshot(a, destroy_if, op);
		return 0;
	}
	if (strncmp(op->cmd, "migrate-", 8) == 0)
		return run_migrate(a, cmd, op);
	if (strcmp(op->cmd, "start") == 0)
		return run_promoted(a, cmd, op);
	if (strcmp(op->cmd, "stop") == 0)
		return a->drv->stop(a->hv, op->name, timeout > 0 ? (uint64_t)timeout : 60000,
				    op_done, op);
	if (strcmp(op->cmd, "destroy") == 0)
		return a->drv->destroy(a->hv, op->name, op_done, op);
	return -EOPNOTSUPP;
}

void agent_command(struct agent *a, const json_t *cmd)
{
	const char *op_name = json_string_value(json_object_get(cmd, "op"));
	const json_t *dom = json_object_get(cmd, "domain");
	const char *name = json_string_value(json_object_get(dom ? dom : cmd, "name"));
	json_int_t inc = json_integer_value(json_object_get(cmd, "incarnation"));
	const char *def;
	struct agent_op *op;
	int r;

	if (!op_name || !name || !hax_valid_name(name) || strlen(op_name) >= sizeof(op->cmd)) {
		hax_log(LOG_WARNING, "agent: malformed command dropped");
		return;
	}
	if (find_op(a, name)) {
		send_result(a, op_name, name, (uint64_t)inc, -EBUSY, "an operation is in progress");
		return;
	}
	if ((strcmp(op_name, "start") == 0 || strcmp(op_name, "migrate-in") == 0) &&
	    a->out.may_start) {
		char why[200];

		why[0] = '\0';
		r = a->out.may_start(a->out.opaque, why, sizeof(why));
		if (r < 0) {
			hax_log(LOG_ERR, "agent: %s %s refused: %s", op_name, name, why);
			send_result(a, op_name, name, (uint64_t)inc, r, why[0] ? why : NULL);
			return;
		}
	}
	op = hax_xcalloc(1, sizeof(*op));
	op->agent = a;
	hax_strlcpy(op->cmd, op_name, sizeof(op->cmd));
	hax_strlcpy(op->name, name, sizeof(op->name));
	op->incarnation = inc > 0 ? (uint64_t)inc : 0;
	/* The domain's DRBD resources: promoted before a start or migrate-in, demoted once
	 * a stop, destroy or migrate-out has taken the domain off this host. The leader
	 * sends the definition with each of them. */
	def = json_string_value(json_object_get(dom ? dom : cmd, "definition"));
	op->ndrbd = def ? drbd_resources(def, op->drbd) : 0;
	hax_log(LOG_INFO, "agent: %s %s (incarnation %llu)", op->cmd, name,
		(unsigned long long)op->incarnation);
	r = run_command(a, cmd, op);
	if (r < 0) {
		send_result(a, op->cmd, name, op->incarnation, r, NULL);
		json_decref(op->start);
		free(op);
		return;
	}
	op->next = a->ops;
	a->ops = op;
}

struct agent *agent_new(const struct hv_ops *driver, const struct hv_host *host,
			uint64_t poll_ms, const struct agent_out *out, char *err, size_t errlen)
{
	struct agent *a = hax_xcalloc(1, sizeof(*a));

	if (driver->init(&a->hv, host, err, errlen) < 0) {
		free(a);
		return NULL;
	}
	a->drv = driver;
	hax_strlcpy(a->host, host->host_name, sizeof(a->host));
	hax_strlcpy(a->drbdadm, host->drbdadm ? host->drbdadm : DRBDADM_DEFAULT_PATH,
		    sizeof(a->drbdadm));
	a->nodeid = host->nodeid;
	a->poll_ms = poll_ms;
	a->out = *out;
	a->force = true;
	schedule_poll(a, 0);
	return a;
}

void agent_free(struct agent *a)
{
	if (!a)
		return;
	hax_timer_del(a->timer);
	/* The driver cancels its operations; our op records go with it, unanswered. */
	a->drv->fini(a->hv);
	while (a->ops) {
		struct agent_op *op = a->ops;

		a->ops = op->next;
		drbdadm_cancel(op->promote);
		json_decref(op->start);
		free(op);
	}
	while (a->demotes) {
		struct demote *dm = a->demotes;

		a->demotes = dm->next;
		drbdadm_cancel(dm->op);
		free(dm);
	}
	while (a->waiters) {
		struct snap_waiter *w = a->waiters;

		a->waiters = w->next;
		free(w);
	}
	json_decref(a->last);
	json_decref(a->frozen);
	free(a);
}

void agent_request_inventory(struct agent *a)
{
	a->force = true;
	if (!a->listing)
		schedule_poll(a, 0);
}

size_t agent_ops_in_flight(const struct agent *a)
{
	const struct agent_op *op;
	size_t n = 0;

	for (op = a->ops; op; op = op->next)
		n++;
	return n;
}

const json_t *agent_last_inventory(const struct agent *a)
{
	return a->last;
}

static void isolate_now(void *opaque, const json_t *inv)
{
	struct agent *a = opaque;
	const json_t *doms = json_object_get(inv, "domains");
	size_t i;

	for (i = 0; i < json_array_size(doms); i++) {
		const char *name = json_string_value(json_object_get(json_array_get(doms, i), "name"));
		json_t *cmd;
		int r;

		if (!name)
			continue;
		if (a->out.managed && !a->out.managed(a->out.opaque, name)) {
			hax_log(LOG_INFO, "agent: no quorum: %s is not managed by hax, leaving it", name);
			continue;
		}
		if (a->freeze) {
			r = a->drv->pause ? a->drv->pause(a->hv, name, true) : -EOPNOTSUPP;
			hax_log(r < 0 ? LOG_ERR : LOG_WARNING, "agent: no quorum: froze %s%s%s", name,
				r < 0 ? ": " : "", r < 0 ? strerror(-r) : "");
			if (r == 0) {
				if (!a->frozen)
					a->frozen = json_array();
				json_array_append_new(a->frozen, json_string(name));
			}
			continue;
		}
		hax_log(LOG_WARNING, "agent: no quorum: stopping %s", name);
		cmd = json_pack("{s:s, s:s, s:I}", "op", "stop", "name", name, "timeout_ms",
				(json_int_t)a->stop_timeout_ms);
		agent_command(a, cmd);
		json_decref(cmd);
	}
}

void agent_isolated(struct agent *a, bool freeze, uint64_t stop_timeout_ms)
{
	a->freeze = freeze;
	a->stop_timeout_ms = stop_timeout_ms;
	agent_snapshot(a, isolate_now, a);
}

/* Only what the policy froze: a domain paused by someone else stays paused. */
void agent_rejoined(struct agent *a)
{
	size_t i;

	for (i = 0; i < json_array_size(a->frozen); i++) {
		const char *name = json_string_value(json_array_get(a->frozen, i));

		if (a->drv->pause && a->drv->pause(a->hv, name, false) == 0)
			hax_log(LOG_NOTICE, "agent: quorum is back: thawed %s", name);
	}
	json_decref(a->frozen);
	a->frozen = NULL;
}

void agent_snapshot(struct agent *a, agent_snapshot_fn fn, void *opaque)
{
	struct snap_waiter *w = hax_xcalloc(1, sizeof(*w));

	w->fn = fn;
	w->opaque = opaque;
	w->next = a->waiters;
	a->waiters = w;
	a->force = true;
	if (!a->listing)
		schedule_poll(a, 0);
}
