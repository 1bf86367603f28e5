/*
 * The simulated hypervisor behind the real agent: per machine, a table of domains that
 * operations change after a latency. Work in flight belongs to the machine (a power-off
 * drops it); its completion callback belongs to the haxd that asked (a crashed haxd
 * never hears back, as a dead process would not). Faults: starts and migrations that
 * fail for a while, listings that hang.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

struct sim_machine sim_machines[SIM_MAX_HOSTS];
size_t sim_nmachines;

struct hv {
	int h;
};

static struct sim_dom *find(struct sim_machine *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->ndoms; i++)
		if (strcmp(m->doms[i].name, name) == 0)
			return &m->doms[i];
	return NULL;
}

static void drop(struct sim_machine *m, struct sim_dom *d)
{
	*d = m->doms[--m->ndoms];
}

void sim_machine_power_off(int h)
{
	struct sim_machine *m = &sim_machines[h];

	m->powered = false;
	m->ndoms = 0;
	m->power_gen++;
	m->haxd_gen++;
}

/* ---- completions: the effect on the machine, then the caller's callback ---- */

enum op_kind { OP_LIST, OP_START, OP_STOP, OP_DESTROY, OP_PREPARE, OP_SEND };

struct op {
	enum op_kind kind;
	int h, target;
	uint64_t haxd_gen;
	char name[HAX_NAME_MAX];
	uint64_t incarnation;
	uint32_t memory_mib, vcpus;
	hv_done_fn done;
	hv_list_fn list_done;
	void *opaque;
};

static void answer(struct op *op, int result, const char *msg)
{
	int saved = sim_cur_host;

	/* The haxd that asked is gone: nobody hears the answer. */
	if (sim_machines[op->h].haxd_gen == op->haxd_gen) {
		sim_cur_host = op->h;
		op->done(op->opaque, result, msg);
		sim_cur_host = saved;
	}
	free(op);
}

static void list_fire(void *data)
{
	struct op *op = data;
	struct sim_machine *m = &sim_machines[op->h];
	struct hv_domain_info info[SIM_MAX_DOMS];
	size_t i;

	for (i = 0; i < m->ndoms; i++) {
		hax_strlcpy(info[i].name, m->doms[i].name, sizeof(info[i].name));
		info[i].incarnation = m->doms[i].incarnation;
		info[i].state = m->doms[i].state;
		info[i].memory_mib = m->doms[i].memory_mib;
		info[i].vcpus = m->doms[i].vcpus;
	}
	if (m->haxd_gen == op->haxd_gen)
		op->list_done(op->opaque, 0, info, m->ndoms);
	free(op);
}

static void start_fire(void *data)
{
	struct op *op = data;
	struct sim_machine *m = &sim_machines[op->h];
	struct sim_dom *d;

	if (find(m, op->name)) {
		answer(op, -EEXIST, "sim: a domain of that name exists here");
		return;
	}
	if (sim_now() < m->hv_fail_until_ns || m->ndoms == SIM_MAX_DOMS) {
		answer(op, -EIO, "sim: the hypervisor failed the start");
		return;
	}
	sim_note_start(op->name, op->incarnation, op->h);
	d = &m->doms[m->ndoms++];
	*d = (struct sim_dom){.incarnation = op->incarnation, .state = HV_RUNNING,
			      .memory_mib = op->memory_mib, .vcpus = op->vcpus};
	hax_strlcpy(d->name, op->name, sizeof(d->name));
	answer(op, 0, NULL);
}

static void stop_fire(void *data)
{
	struct op *op = data;
	struct sim_machine *m = &sim_machines[op->h];
	struct sim_dom *d = find(m, op->name);

	if (d)
		drop(m, d);
	answer(op, 0, NULL);
}

static void prepare_fire(void *data)
{
	struct op *op = data;
	struct sim_machine *m = &sim_machines[op->h];
	struct sim_dom *d;
	char uri[128];

	if (find(m, op->name) || m->ndoms == SIM_MAX_DOMS) {
		answer(op, -EEXIST, "sim: a domain of that name exists here");
		return;
	}
	d = &m->doms[m->ndoms++];
	*d = (struct sim_dom){.incarnation = op->incarnation, .state = HV_INCOMING,
			      .memory_mib = op->memory_mib, .vcpus = op->vcpus};
	hax_strlcpy(d->name, op->name, sizeof(d->name));
	snprintf(uri, sizeof(uri), "sim:%s", m->name);
	answer(op, 0, uri);
}

/* The switch-over is atomic: the target copy runs in the same instant the source copy
 * is gone, as a hypervisor's final handshake makes it. */
static void send_fire(void *data)
{
	struct op *op = data;
	struct sim_machine *m = &sim_machines[op->h], *t = &sim_machines[op->target];
	struct sim_dom *src = find(m, op->name), *dst = t->powered ? find(t, op->name) : NULL;

	if (!src || src->state != HV_RUNNING) {
		answer(op, -ENOENT, "sim: the source copy is gone");
		return;
	}
	if (!dst || dst->state != HV_INCOMING || sim_now() < m->hv_fail_until_ns ||
	    sim_now() < t->hv_fail_until_ns || sim_chance(10)) {
		answer(op, -EIO, "sim: the migration failed; the source keeps running");
		return;
	}
	dst->state = HV_RUNNING;
	dst->incarnation = op->incarnation;
	drop(m, src);
	answer(op, 0, NULL);
}

static struct op *new_op(struct hv *hv, enum op_kind kind, const char *name, hv_done_fn done,
			 void *opaque)
{
	struct op *op = hax_xcalloc(1, sizeof(*op));

	op->kind = kind;
	op->h = hv->h;
	op->haxd_gen = sim_machines[hv->h].haxd_gen;
	if (name)
		hax_strlcpy(op->name, name, sizeof(op->name));
	op->done = done;
	op->opaque = opaque;
	return op;
}

static void later(struct op *op, uint64_t min_ms, uint64_t spread_ms, sim_fn fn)
{
	sim_at((min_ms + sim_rand(spread_ms + 1)) * 1000000ull, fn, op, op->h, SIM_OWN_POWER);
}

/* ---- the driver ---- */

static int sv_init(struct hv **out, const struct hv_host *host, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < sim_nmachines; i++) {
		if (strcmp(sim_machines[i].name, host->host_name) == 0) {
			*out = hax_xcalloc(1, sizeof(**out));
			(*out)->h = (int)i;
			return 0;
		}
	}
	snprintf(err, errlen, "sim: no machine %s", host->host_name);
	return -ENOENT;
}

static void sv_fini(struct hv *hv)
{
	free(hv);
}

static int sv_list(struct hv *hv, hv_list_fn done, void *opaque)
{
	struct op *op = new_op(hv, OP_LIST, NULL, NULL, opaque);
	uint64_t hang = sim_machines[hv->h].list_hang_until_ns;

	op->list_done = done;
	if (sim_now() < hang)
		sim_at(hang - sim_now(), list_fire, op, op->h, SIM_OWN_POWER);
	else
		later(op, 1, 20, list_fire);
	return 0;
}

static int sv_capacity(struct hv *hv, struct hv_capacity *out)
{
	(void)hv;
	out->mem_total_mib = 4096;
	out->vcpus = 8;
	return 0;
}

static int sv_validate(const char *definition, char *err, size_t errlen)
{
	if (!definition || !*definition) {
		snprintf(err, errlen, "empty definition");
		return -EINVAL;
	}
	return 0;
}

static int sv_start(struct hv *hv, const struct hv_start *req, hv_done_fn done, void *opaque)
{
	struct op *op = new_op(hv, OP_START, req->name, done, opaque);

	op->incarnation = req->incarnation;
	op->memory_mib = req->memory_mib;
	op->vcpus = req->vcpus;
	later(op, 50, 700, start_fire);
	return 0;
}

static int sv_stop(struct hv *hv, const char *name, uint64_t timeout_ms, hv_done_fn done,
		   void *opaque)
{
	(void)timeout_ms;
	if (!find(&sim_machines[hv->h], name))
		return -ENOENT;
	later(new_op(hv, OP_STOP, name, done, opaque), 50, 1500, stop_fire);
	return 0;
}

static int sv_destroy(struct hv *hv, const char *name, hv_done_fn done, void *opaque)
{
	if (!find(&sim_machines[hv->h], name))
		return -ENOENT;
	later(new_op(hv, OP_DESTROY, name, done, opaque), 10, 200, stop_fire);
	return 0;
}

static int sv_pause(struct hv *hv, const char *name, bool paused)
{
	struct sim_dom *d = find(&sim_machines[hv->h], name);

	if (!d || (d->state != HV_RUNNING && d->state != HV_PAUSED))
		return -ENOENT;
	d->state = paused ? HV_PAUSED : HV_RUNNING;
	return 0;
}

static int sv_prepare(struct hv *hv, const struct hv_migrate_in *req, hv_done_fn done,
		      void *opaque)
{
	struct op *op = new_op(hv, OP_PREPARE, req->name, done, opaque);

	op->incarnation = req->incarnation;
	op->memory_mib = req->memory_mib;
	op->vcpus = req->vcpus;
	later(op, 20, 300, prepare_fire);
	return 0;
}

static int sv_send(struct hv *hv, const struct hv_migrate_out *req, hv_progress_fn progress,
		   hv_done_fn done, void *opaque)
{
	struct op *op;
	size_t i;

	(void)progress;
	if (!find(&sim_machines[hv->h], req->name))
		return -ENOENT;
	op = new_op(hv, OP_SEND, req->name, done, opaque);
	op->incarnation = req->incarnation;
	op->target = -1;
	for (i = 0; i < sim_nmachines; i++)
		if (strcmp(sim_machines[i].name, req->target_host) == 0)
			op->target = (int)i;
	if (op->target < 0) {
		free(op);
		return -EHOSTUNREACH;
	}
	later(op, 200, 3000, send_fire);
	return 0;
}

const struct hv_ops sim_hv_ops = {
	.name = "simworld",
	.init = sv_init,
	.fini = sv_fini,
	.list = sv_list,
	.capacity = sv_capacity,
	.validate = sv_validate,
	.start = sv_start,
	.stop = sv_stop,
	.destroy = sv_destroy,
	.pause = sv_pause,
	.live_migration = true,
	.migrate_prepare = sv_prepare,
	.migrate_send = sv_send,
};
