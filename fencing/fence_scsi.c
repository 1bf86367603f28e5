/*
 * Fence driver "scsi": SCSI-3 persistent reservations on every LUN of every [storage]
 * the device names (DESIGN.md, layer 3). The SCSI work is done by hax-fence-scsi, run as
 * a child (child.h): libiscsi's calls block, and the loop must not.
 *
 * Fence: `hax-fence-scsi preempt --key LOCAL --victim VICTIM` on each storage in turn,
 * as this host (fence_scsi.h): the tool registers LOCAL on its own session, makes sure a
 * Write Exclusive - Registrants Only reservation is held, preempts VICTIM and confirms
 * with READ KEYS that VICTIM is gone from every LUN. The fence is confirmed only when
 * every storage confirms; a storage that fails does not stop the others from being
 * tried while the device timeout lasts, so the victim loses what it can be denied at
 * once. Dry run: `hax-fence-scsi keys` on each storage (it answers, its LUNs read).
 *
 * The tool is $HAX_FENCE_SCSI, else hax-fence-scsi next to haxd (a build tree, or the
 * installed sbindir), else HAX_SBINDIR.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/loop.h"
#include "lib/util.h"
#include "lib/child.h"
#include "fence.h"
#include "fence_scsi.h"

#ifndef HAX_SBINDIR
#define HAX_SBINDIR "/usr/sbin"
#endif

#define TOOL_NAME "hax-fence-scsi"
/* Each SCSI command's own deadline inside the tool: short enough that a dead storage
 * leaves time for the others, long enough for a busy target. */
#define CMD_TIMEOUT_MAX_MS 5000
#define ARGV_MAX (20 + 2 * CONF_MAX_LUNS)
#define MSG_MAX 512
#define LINE_MAX_SHOWN 240

static struct {
	uint32_t nodeid;
	char iqn[CONF_STR_MAX];
} local;

/* What one storage needs, copied: a reload may swap the configuration mid-fence. */
struct scsi_storage {
	char name[HAX_NAME_MAX];
	char portal[CONF_STR_MAX];
	char target[CONF_STR_MAX];
	int nluns;
	uint32_t luns[CONF_MAX_LUNS];
};

/* One argv and the strings it points into. */
struct tool_argv {
	char *argv[ARGV_MAX];
	char key[24], victim[24], timeout[24];
	char lun[CONF_MAX_LUNS][12];
};

struct fence_op {
	char tool[PATH_MAX];
	char host[HAX_NAME_MAX];
	char iqn[CONF_STR_MAX];
	uint64_t key, victim_key;
	bool dry_run;
	bool reg;                         /* register this host (rejoin rule), not fence */
	int nstorage, cur;
	struct scsi_storage *storage;
	uint64_t timeout_ms, deadline_ns; /* the device's, shared by every storage */
	char ok[MSG_MAX];		  /* storages done, for the message */
	char bad[MSG_MAX];		  /* the first failure */
	char notes[MSG_MAX];
	int result; /* the first failure's -errno, or 0 */
	struct tool_argv av;
	hax_timer_t kick;
	struct child_run *child;
	fence_done_fn done;
	void *opaque;
};

int fence_scsi_set_local(uint32_t nodeid, const char *iqn)
{
	if (nodeid == 0 || !iqn || !iqn[0] || strlen(iqn) >= sizeof(local.iqn))
		return -EINVAL;
	for (const char *p = iqn; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return -EINVAL;
	local.nodeid = nodeid;
	hax_strlcpy(local.iqn, iqn, sizeof(local.iqn));
	return 0;
}

/* Append ", name" (or "name") to a list in a message buffer; cut quietly when full. */
static void list_add(char *buf, size_t len, const char *item)
{
	size_t used = strlen(buf);

	snprintf(buf + used, len - used, "%s%s", used ? ", " : "", item);
}

/* Report once and forget op; done() may start the next fence level at once. */
static void __attribute__((format(printf, 3, 4)))
finish(struct fence_op *op, int result, const char *fmt, ...)
{
	fence_done_fn done = op->done;
	void *opaque = op->opaque;
	char msg[MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	free(op->storage);
	free(op);
	done(opaque, result, msg);
}

/* The command line for storage st. Only keys, names and numbers: nothing secret. */
static void build_argv(struct fence_op *op, struct scsi_storage *st, uint64_t cmd_ms)
{
	struct tool_argv *a = &op->av;
	int n = 0;

	snprintf(a->key, sizeof(a->key), "0x%016" PRIx64, op->key);
	snprintf(a->victim, sizeof(a->victim), "0x%016" PRIx64, op->victim_key);
	snprintf(a->timeout, sizeof(a->timeout), "%" PRIu64 "ms", cmd_ms);
	a->argv[n++] = op->tool;
	a->argv[n++] = op->reg ? "register" : op->dry_run ? "keys" : "preempt";
	a->argv[n++] = "--portal";
	a->argv[n++] = st->portal;
	a->argv[n++] = "--target";
	a->argv[n++] = st->target;
	a->argv[n++] = "--initiator";
	a->argv[n++] = op->iqn;
	a->argv[n++] = "--timeout";
	a->argv[n++] = a->timeout;
	if (op->reg) {
		a->argv[n++] = "--key";
		a->argv[n++] = a->key;
	} else if (!op->dry_run) {
		a->argv[n++] = "--key";
		a->argv[n++] = a->key;
		a->argv[n++] = "--victim";
		a->argv[n++] = a->victim;
	}
	if (st->nluns == 0)
		a->argv[n++] = "--all-luns";
	for (int i = 0; i < st->nluns; i++) {
		snprintf(a->lun[i], sizeof(a->lun[i]), "%" PRIu32, st->luns[i]);
		a->argv[n++] = "--lun";
		a->argv[n++] = a->lun[i];
	}
	a->argv[n] = NULL;
}

static void note_failure(struct fence_op *op, int result, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void note_failure(struct fence_op *op, int result, const char *fmt, ...)
{
	va_list ap;

	if (op->result)
		return; /* the first failure is the one worth a message */
	op->result = result;
	va_start(ap, fmt);
	vsnprintf(op->bad, sizeof(op->bad), fmt, ap);
	va_end(ap);
}

static void run_next(struct fence_op *op);

static void on_child(void *opaque, int result, int exit_status, const char *output)
{
	struct fence_op *op = opaque;
	const char *name = op->storage[op->cur].name;
	char line[LINE_MAX_SHOWN + 1];

	op->child = NULL;
	fence_last_line(output, "", line, sizeof(line));
	if (result == -ETIMEDOUT)
		note_failure(op, result, "%s: no answer within the device timeout (%" PRIu64 " ms)",
			     name, op->timeout_ms);
	else if (result < 0)
		note_failure(op, result, "%s: %s", name, strerror(-result));
	else if (exit_status == 2)
		note_failure(op, -EINVAL, "%s: %s refused its arguments: %s", name, TOOL_NAME,
			     line);
	else if (exit_status != 0)
		note_failure(op, -EIO, "%s: exit %d: %s", name, exit_status, line);
	else
		list_add(op->ok, sizeof(op->ok), name);
	if (result == 0 && exit_status == 0 && strstr(output, "was not registered"))
		list_add(op->notes, sizeof(op->notes), name);
	op->cur++;
	run_next(op);
}

static void finish_all(struct fence_op *op)
{
	char who[HAX_NAME_MAX + 64], notes[MSG_MAX + 64] = "";

	snprintf(who, sizeof(who), "%s (key 0x%016" PRIx64 ")", op->host, op->victim_key);
	if (op->notes[0])
		snprintf(notes, sizeof(notes), " (the key was not registered on %s)", op->notes);
	if (op->reg && op->result == 0)
		finish(op, 0, "scsi: registered key 0x%016" PRIx64 " on %s", op->key, op->ok);
	else if (op->reg)
		finish(op, op->result, "scsi register failed: %s", op->bad);
	else if (op->dry_run && op->result == 0)
		finish(op, 0, "scsi: %s answer%s", op->ok, op->nstorage == 1 ? "s" : "");
	else if (op->dry_run)
		finish(op, op->result, "scsi keys: %s", op->bad);
	else if (op->result == 0)
		finish(op, 0, "scsi preempt of %s on %s: confirmed%s", who, op->ok, notes);
	else
		finish(op, op->result, "scsi preempt of %s failed: %s%s%s", who, op->bad,
		       op->ok[0] ? "; confirmed on " : "", op->ok);
}

/* Start the tool on the next storage, or report. Every storage is tried while the
 * device timeout lasts; what is left when it runs out counts as failed. */
static void run_next(struct fence_op *op)
{
	uint64_t now = hax_now_mono_ns(), left_ms, cmd_ms;
	struct scsi_storage *st;
	int r;

	if (op->cur >= op->nstorage) {
		finish_all(op);
		return;
	}
	st = &op->storage[op->cur];
	if (now >= op->deadline_ns) {
		note_failure(op, -ETIMEDOUT,
			     "%s: not tried, the device timeout (%" PRIu64 " ms) ran out", st->name,
			     op->timeout_ms);
		op->cur = op->nstorage;
		finish_all(op);
		return;
	}
	left_ms = (op->deadline_ns - now + 999999) / 1000000;
	/* A third of what is left per command: the tool fails by itself and says why
	 * before the child deadline kills it silently. */
	cmd_ms = left_ms / 3 ? left_ms / 3 : 1;
	if (cmd_ms > CMD_TIMEOUT_MAX_MS)
		cmd_ms = CMD_TIMEOUT_MAX_MS;
	build_argv(op, st, cmd_ms);
	r = child_run(op->av.argv, NULL, left_ms, on_child, op, &op->child);
	if (r < 0) {
		/* The tool is missing or unusable: no other storage will fare better. */
		note_failure(op, r, "cannot run %s: %s", op->tool, strerror(-r));
		op->cur = op->nstorage;
		finish_all(op);
	}
}

/* First step, from the loop: every failure from here on reaches done() with a reason. */
static void on_kick(void *data)
{
	struct fence_op *op = data;

	op->kick = 0;
	if (op->key == 0) {
		finish(op, -ENXIO,
		       "scsi: this host's nodeid and initiator name are not known "
		       "(fence_scsi_set_local was not called)");
		return;
	}
	if (!op->dry_run && !op->reg && op->key == op->victim_key) {
		finish(op, -EINVAL, "scsi: %s is this host: it cannot preempt its own key",
		       op->host);
		return;
	}
	run_next(op);
}

/* Copy the device's storages; a bad index is a configuration the parser let through. */
static int copy_storage(struct fence_op *op, const struct hax_conf *conf,
			const struct conf_fence *dev)
{
	if (dev->nstorage <= 0 || dev->nstorage > CONF_MAX_STORAGE)
		return -EINVAL;
	op->storage = hax_xcalloc((size_t)dev->nstorage, sizeof(*op->storage));
	for (int i = 0; i < dev->nstorage; i++) {
		const struct conf_storage *cs;
		struct scsi_storage *st = &op->storage[i];

		if (dev->storage[i] < 0 || dev->storage[i] >= conf->nstorage)
			return -EINVAL;
		cs = &conf->storage[dev->storage[i]];
		if (!cs->portal[0] || !cs->target[0] || cs->nluns < 0 || cs->nluns > CONF_MAX_LUNS)
			return -EINVAL;
		hax_strlcpy(st->name, cs->name, sizeof(st->name));
		hax_strlcpy(st->portal, cs->portal, sizeof(st->portal));
		hax_strlcpy(st->target, cs->target, sizeof(st->target));
		st->nluns = cs->nluns;
		memcpy(st->luns, cs->luns, sizeof(st->luns[0]) * (size_t)cs->nluns);
	}
	op->nstorage = dev->nstorage;
	return 0;
}

static int scsi_start(const struct hax_conf *conf, const struct conf_fence *dev,
		      const struct fence_target *t, bool dry_run, fence_done_fn done, void *opaque,
		      struct fence_op **out)
{
	struct fence_op *op;
	int r;

	if (!conf || !dev || !t || !t->host || !t->host[0] || t->nodeid == 0 || !done ||
	    dev->timeout_ms == 0)
		return -EINVAL;
	op = hax_xcalloc(1, sizeof(*op));
	r = copy_storage(op, conf, dev);
	if (r == 0 && hax_strlcpy(op->host, t->host, sizeof(op->host)) < 0)
		r = -ENAMETOOLONG;
	if (r < 0)
		goto err_free;
	fence_find_tool(TOOL_NAME, "HAX_FENCE_SCSI", op->tool, sizeof(op->tool));
	/* Read at start: a fence acts as the host that began it. */
	hax_strlcpy(op->iqn, local.iqn, sizeof(op->iqn));
	op->key = local.nodeid ? fence_scsi_key(local.nodeid) : 0;
	op->victim_key = fence_scsi_key(t->nodeid);
	op->dry_run = dry_run;
	op->timeout_ms = dev->timeout_ms;
	op->deadline_ns = hax_now_mono_ns() + dev->timeout_ms * 1000000ull;
	op->done = done;
	op->opaque = opaque;
	r = hax_timer_add(0, on_kick, op, &op->kick);
	if (r < 0)
		goto err_free;
	*out = op;
	return 0;

err_free:
	free(op->storage);
	free(op);
	return r;
}

int fence_scsi_register(const struct hax_conf *conf, fence_done_fn done, void *opaque,
			struct fence_op **out)
{
	struct conf_fence all = {.timeout_ms = 0};
	struct fence_target me = {.host = "this host", .nodeid = local.nodeid};
	bool seen[CONF_MAX_STORAGE] = {false};
	int i, k, r;

	for (i = 0; i < conf->nfences; i++) {
		const struct conf_fence *f = &conf->fences[i];

		if (f->driver != CONF_FENCE_SCSI)
			continue;
		if (f->timeout_ms > all.timeout_ms)
			all.timeout_ms = f->timeout_ms;
		for (k = 0; k < f->nstorage; k++) {
			if (f->storage[k] < 0 || f->storage[k] >= CONF_MAX_STORAGE ||
			    seen[f->storage[k]])
				continue;
			seen[f->storage[k]] = true;
			all.storage[all.nstorage++] = f->storage[k];
		}
	}
	if (all.nstorage == 0)
		return -ENOENT;
	if (!local.nodeid)
		return -ENXIO;
	r = scsi_start(conf, &all, &me, false, done, opaque, out);
	if (r == 0)
		(*out)->reg = true;
	return r;
}

static void scsi_cancel(struct fence_op *op)
{
	if (!op)
		return;
	hax_timer_del(op->kick);
	child_cancel(op->child);
	free(op->storage);
	free(op);
}

const struct fence_driver fence_scsi_driver = {
    .kind = CONF_FENCE_SCSI,
    .name = "scsi",
    .start = scsi_start,
    .cancel = scsi_cancel,
};
