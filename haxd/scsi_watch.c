/*
 * The periodic check that SCSI fencing is in force (scsi_watch.h). One child per
 * storage at a time; a check that does not answer within its deadline counts as
 * failed (verdict unknown), and so does a tool that cannot run.
 */
#include "scsi_watch.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/child.h"
#include "../fencing/fence.h"
#include "events.h"
#include "lib/loop.h"
#include "lib/util.h"

#define TOOL_NAME "hax-fence-scsi"
#define CMD_TIMEOUT_MS 5000
#define CHILD_TIMEOUT_MS 30000
#define EXIT_FENCED 3
#define EXIT_NOT_IN_FORCE 4
#define ARGV_MAX (24 + 2 * CONF_MAX_LUNS + 2 * WATCH_MAX_ABSENT)
#define WATCH_MAX_ABSENT 64
#define DETAIL_MAX 240

struct watched {
	int idx;                  /* into conf->storage */
	enum scsi_verdict v;
	uint64_t since_ns;        /* wall clock of the last verdict change */
	uint64_t checked_ns;      /* wall clock of the last finished check */
	uint64_t ok_mono_ns;      /* last check that found fencing in force */
	uint64_t lost_mono_ns;    /* when fencing was first seen not in force; 0 = in force */
	uint64_t next_mono_ns;
	char detail[DETAIL_MAX];
	struct child_run *child;
	char *argv[ARGV_MAX];
	char args[ARGV_MAX][64];
};

static struct {
	const struct hax_conf *conf;
	uint64_t key;
	char iqn[CONF_STR_MAX];
	char tool[PATH_MAX];
	scsi_watch_fn fn;
	void *opaque;
	int n;
	struct watched w[CONF_MAX_STORAGE];
} sw;

const char *scsi_verdict_name(enum scsi_verdict v)
{
	switch (v) {
	case SCSI_IN_FORCE:
		return "in force";
	case SCSI_UNREGISTERED:
		return "unregistered";
	case SCSI_LOST:
		return "lost";
	case SCSI_UNKNOWN:
	default:
		return "unknown";
	}
}

static bool in_force(enum scsi_verdict v)
{
	return v == SCSI_IN_FORCE || v == SCSI_UNREGISTERED;
}

void scsi_watch_start(const struct hax_conf *conf, uint32_t nodeid, const char *iqn,
		      scsi_watch_fn fn, void *opaque)
{
	bool seen[CONF_MAX_STORAGE] = {false};

	scsi_watch_stop();
	sw.conf = conf;
	sw.key = fence_scsi_key(nodeid);
	hax_strlcpy(sw.iqn, iqn, sizeof(sw.iqn));
	sw.fn = fn;
	sw.opaque = opaque;
	fence_find_tool(TOOL_NAME, "HAX_FENCE_SCSI", sw.tool, sizeof(sw.tool));
	for (int i = 0; i < conf->nfences; i++) {
		const struct conf_fence *f = &conf->fences[i];

		if (f->driver != CONF_FENCE_SCSI)
			continue;
		for (int k = 0; k < f->nstorage; k++) {
			int s = f->storage[k];

			if (s < 0 || s >= conf->nstorage || seen[s] ||
			    conf->storage[s].check_interval_ms == 0)
				continue;
			seen[s] = true;
			sw.w[sw.n] = (struct watched){.idx = s, .since_ns = hax_now_real_ns()};
			snprintf(sw.w[sw.n].detail, DETAIL_MAX, "not checked yet");
			sw.n++;
		}
	}
}

void scsi_watch_stop(void)
{
	for (int i = 0; i < sw.n; i++)
		child_cancel(sw.w[i].child);
	sw.n = 0;
}

void scsi_watch_kick(void)
{
	for (int i = 0; i < sw.n; i++)
		sw.w[i].next_mono_ns = 0;
}

static void set_verdict(struct watched *w, enum scsi_verdict v, const char *detail)
{
	const char *name = sw.conf->storage[w->idx].name;
	uint64_t now = hax_now_mono_ns();

	hax_strlcpy(w->detail, detail, sizeof(w->detail));
	w->checked_ns = hax_now_real_ns();
	if (in_force(v))
		w->ok_mono_ns = now;
	if (in_force(v) && !in_force(w->v) && w->lost_mono_ns)
		event_emit("+scsi-fencing", "storage %s: fencing in force again, %" PRIu64
			   " ms after it was found %s", name,
			   (now - w->lost_mono_ns) / 1000000, w->v == SCSI_LOST ? "lost" : "unknown");
	else if (in_force(v) && !in_force(w->v))
		event_emit("+scsi-fencing", "storage %s: fencing in force", name);
	else if (!in_force(v) && (in_force(w->v) || (w->v != v && !w->lost_mono_ns)))
		event_emit("-scsi-fencing", "storage %s: fencing %s: %s", name,
			   v == SCSI_LOST ? "NOT in force" : "unknown", detail);
	if (!in_force(v) && !w->lost_mono_ns)
		w->lost_mono_ns = now;
	if (in_force(v))
		w->lost_mono_ns = 0;
	if (v != w->v)
		w->since_ns = hax_now_real_ns();
	w->v = v;
}

/* The line that says why: the first "NOT IN FORCE", "but" or "FAILED" line, else the
 * last one. */
static void pick_detail(const char *out, char *buf, size_t len)
{
	const char *p = out, *best = NULL, *last = NULL;

	while (p && *p) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if (n) {
			last = p;
			if (!best && (memmem(p, n, "NOT IN FORCE", 12) || memmem(p, n, ", but ", 6) ||
				      memmem(p, n, "FAILED", 6) || memmem(p, n, "hax-fence-scsi:", 15)))
				best = p;
		}
		p = e ? e + 1 : NULL;
	}
	p = best ? best : last;
	if (!p) {
		snprintf(buf, len, "no output");
		return;
	}
	snprintf(buf, len, "%.*s", (int)strcspn(p, "\n"), p);
}

static void on_child(void *opaque, int result, int exit_status, const char *output)
{
	struct watched *w = opaque;
	char detail[DETAIL_MAX];
	enum scsi_verdict v;

	w->child = NULL;
	pick_detail(output, detail, sizeof(detail));
	if (result == -ETIMEDOUT)
		snprintf(detail, sizeof(detail), "the check did not finish within %d ms",
			 CHILD_TIMEOUT_MS);
	else if (result < 0)
		snprintf(detail, sizeof(detail), "%s: %s", TOOL_NAME, strerror(-result));
	if (result < 0)
		v = SCSI_UNKNOWN;
	else if (exit_status == 0)
		v = SCSI_IN_FORCE;
	else if (exit_status == EXIT_FENCED)
		v = SCSI_UNREGISTERED;
	else if (exit_status == EXIT_NOT_IN_FORCE)
		v = SCSI_LOST;
	else
		v = SCSI_UNKNOWN;
	set_verdict(w, v, detail);
	if (sw.fn)
		sw.fn(w->idx, v,
		      result == 0 && (strstr(output, " is not registered") ||
				      strstr(output, "NOT IN FORCE: no reservation")),
		      sw.opaque);
}

static void build_argv(struct watched *w, const uint64_t *absent, int nabsent)
{
	const struct conf_storage *cs = &sw.conf->storage[w->idx];
	int n = 0, a = 0;

#define ARG(...) (snprintf(w->args[a], sizeof(w->args[a]), __VA_ARGS__), w->argv[n++] = w->args[a++])
	w->argv[n++] = sw.tool;
	w->argv[n++] = "verify";
	w->argv[n++] = "--portal";
	w->argv[n++] = (char *)cs->portal;
	w->argv[n++] = "--target";
	w->argv[n++] = (char *)cs->target;
	w->argv[n++] = "--initiator";
	w->argv[n++] = sw.iqn;
	w->argv[n++] = "--timeout";
	ARG("%dms", CMD_TIMEOUT_MS);
	w->argv[n++] = "--key";
	ARG("0x%016" PRIx64, sw.key);
	for (int i = 0; i < nabsent && i < WATCH_MAX_ABSENT; i++) {
		if (absent[i] == sw.key)
			continue;
		w->argv[n++] = "--absent";
		ARG("0x%016" PRIx64, absent[i]);
	}
	if (cs->nluns == 0)
		w->argv[n++] = "--all-luns";
	for (int i = 0; i < cs->nluns; i++) {
		w->argv[n++] = "--lun";
		ARG("%" PRIu32, cs->luns[i]);
	}
#undef ARG
	w->argv[n] = NULL;
}

void scsi_watch_tick(const uint64_t *absent, int nabsent)
{
	uint64_t now = hax_now_mono_ns();

	for (int i = 0; i < sw.n; i++) {
		struct watched *w = &sw.w[i];
		int r;

		if (w->child || now < w->next_mono_ns)
			continue;
		w->next_mono_ns = now + sw.conf->storage[w->idx].check_interval_ms * 1000000ull;
		build_argv(w, absent, nabsent);
		r = child_run(w->argv, NULL, CHILD_TIMEOUT_MS, on_child, w, &w->child);
		if (r < 0) {
			char detail[DETAIL_MAX];

			w->child = NULL;
			snprintf(detail, sizeof(detail), "cannot run %s: %s", TOOL_NAME, strerror(-r));
			set_verdict(w, SCSI_UNKNOWN, detail);
		}
	}
}

bool scsi_watch_start_ok(const char *definition, char *why, size_t len)
{
	uint64_t now = hax_now_mono_ns();

	for (int i = 0; i < sw.n && definition; i++) {
		const struct watched *w = &sw.w[i];
		const struct conf_storage *cs = &sw.conf->storage[w->idx];
		uint64_t fresh_ns = 3 * cs->check_interval_ms * 1000000ull;

		if (!strstr(definition, cs->target))
			continue;
		if (!in_force(w->v)) {
			snprintf(why, len, "storage %s: SCSI fencing %s (%s)", cs->name,
				 w->v == SCSI_LOST ? "not in force" : "not known to be in force",
				 w->detail);
			return false;
		}
		if (now - w->ok_mono_ns > fresh_ns) {
			snprintf(why, len, "storage %s: SCSI fencing not confirmed for %" PRIu64 " ms",
				 cs->name, (now - w->ok_mono_ns) / 1000000);
			return false;
		}
	}
	return true;
}

int scsi_watch_unfenced(void)
{
	int n = 0;

	for (int i = 0; i < sw.n; i++)
		n += !in_force(sw.w[i].v);
	return n;
}

json_t *scsi_watch_json(void)
{
	json_t *a = json_array();

	for (int i = 0; i < sw.n; i++) {
		const struct watched *w = &sw.w[i];

		json_array_append_new(
		    a, json_pack("{s:s, s:s, s:I, s:I, s:s}", "name", sw.conf->storage[w->idx].name,
				 "fencing", scsi_verdict_name(w->v), "since_ns",
				 (json_int_t)w->since_ns, "checked_ns", (json_int_t)w->checked_ns,
				 "detail", w->detail));
	}
	return a;
}
