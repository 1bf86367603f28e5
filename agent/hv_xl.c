/*
 * The xl hypervisor driver: Xen through the xl toolstack. Every xl call is a child on
 * the loop (lib/child.c) with its stdout and stderr captured apart and a deadline,
 * except xl migrate, which must never be killed once the target has acknowledged the
 * transfer: it runs without one, and a cancel before that point cuts its transport so
 * that xl itself resumes the domain at the sender.
 *
 * - Inventory: `xl list` (state letters, memory) merged with `xl list -l` (uuid, max
 *   vcpus, kernel command line), `xl info` for capacity (every XL_INFO_MAX_AGE_MS). What `xl list
 * -l` says of a domain does not change while it keeps its domid and name, and it is the costly call
 * (every domain's stored configuration): it runs only when the table shows a domain it has not
 * described yet. NAME--incoming and NAME--migratedaway are NAME in the incoming and migrated
 * states. A domain missing from a listing for less than XL_ABSENT_GRACE_MS (a reboot: xl destroys
 * and recreates it) is still reported as last seen, unless hax itself removed it.
 * - Incarnation: the driver adds "hax.incarnation=N hax.nodeid=M" to the definition's
 *   kernel command line (extra) at start; the guest reads it from /proc/cmdline and a
 *   migration carries it along. STATE_DIR/xl/NAME.json records it too, at start and at
 *   migrate-prepare, for guests without a command line (HVM).
 * - Start: the definition with hax's name and extra, written to STATE_DIR/xl/NAME.cfg,
 *   then `xl create FILE`; once the domain runs, the scheduler weight and cap of the
 *   definition (`xl sched-credit -d NAME -w W -c C`, sched-credit2 under credit2), and
 *   hax's memory and vcpus when they differ from the definition's (`xl mem-set NAME Nm`,
 *   always with a unit: for a bare number xl's manual says KiB where xl reads MiB).
 * - Stop: `xl shutdown`, then `xl shutdown -F` (ACPI) for an HVM guest without PV
 *   drivers, then `xl list NAME` polled; `xl destroy` at the deadline (never an
 *   unbounded `xl shutdown -w`; even without -w, xl waits for the guest's
 *   acknowledgement, so the request itself is cut at the deadline).
 * - Reboot: xl owns it (on_reboot = "restart"): a domain shut down with reason r is
 *   reported running and keeps its absence grace while xl recreates it.
 */
#include "hv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "lib/child.h"
#include "lib/loop.h"
#include "def_policy.h"
#include "xl_parse.h"

#define XL_DEFAULT "/usr/sbin/xl"
#define XL_SSH_DEFAULT                                                                             \
	"ssh -o BatchMode=yes -o ConnectTimeout=10 -o ServerAliveInterval=5 "                      \
	"-o ServerAliveCountMax=3"

#define XL_CMD_TIMEOUT_MS 30000 /* list, info, shutdown, pause, settings */
#define XL_CREATE_TIMEOUT_MS 120000
#define XL_DESTROY_TIMEOUT_MS 60000
#define XL_DESTROY_GRACE_MS 30000 /* a dying domain may linger this long */
#define XL_POLL_MS 500
#define XL_START_SETTLE_MS 500 /* a guest that dies at once is a failed start */
#define XL_ABSENT_GRACE_MS 5000
#define XL_INFO_MAX_AGE_MS 30000
#define XL_MIG_POLL_MS 200
#define XL_CANCEL_GRACE_MS 30000 /* after the transport is cut, xl resumes and exits */
#define XL_MAX_ARGS 16
#define XL_SSH_MAX 512

enum xl_op_kind { OP_LIST, OP_START, OP_STOP, OP_DESTROY, OP_PREPARE, OP_MIGRATE, OP_PAUSE };

struct xl_op;
/* What runs when an xl child exits: result 0 = it exited with status, else -errno. */
typedef void (*xl_step_fn)(struct xl_op *op, int result, int status, const char *out,
			   const char *err);

/* What the last listings showed of one domain, for the absence grace. */
struct seen {
	struct hv_domain_info info;
	uint64_t last_ns;   /* listing (start time) that showed it live; 0 = none */
	uint64_t forgot_ns; /* hax removed it then: older listings do not count */
};

/* A domain this host prepared to receive. xl migrate-receive is started later by the
 * source, so until NAME--incoming shows up the driver itself reports the domain as
 * incoming (hv.h: from prepare on, the target lists it so); once NAME runs here, or the
 * receiver's copy has come and gone, the entry ends. */
struct incoming {
	struct hv_domain_info info;
	bool seen; /* NAME--incoming was listed */
};

struct hv {
	char dir[PATH_MAX / 2]; /* STATE_DIR/xl; half, so NAME.EXT always fits */
	char xl[PATH_MAX];
	char ssh[XL_SSH_MAX];
	const char *paths; /* hv_host.domain_paths */
	char host[HAX_NAME_MAX];
	uint32_t nodeid;
	uint64_t mem_mib; /* configured capacity; 0 = from xl info */
	uint32_t vcpus;
	struct xl_info info;
	uint64_t info_ns; /* when info was read; 0 = never */
	uint64_t cap_mib; /* what domains may use, from xl info and the listing after it */
	struct seen *seen;
	size_t nseen;
	struct xl_dom *known; /* what `xl list -l` said of the domains last listed */
	size_t nknown;
	struct incoming *incoming; /* prepared to receive, the receiver not seen yet */
	size_t nincoming;
	struct xl_op *ops; /* in flight; fini detaches their children */
};

struct xl_op {
	struct xl_op *next;
	struct hv *hv;
	enum xl_op_kind kind;
	char name[HAX_NAME_MAX];
	struct child_run *child;
	xl_step_fn step;
	hax_timer_t timer;
	uint64_t deadline_ns;
	uint64_t started_ns;
	hv_done_fn done;
	hv_list_fn list_done;
	hv_progress_fn progress;
	void *opaque;
	/* start */
	struct xl_cfg_settings set;
	uint32_t want_mem, want_vcpus;
	/* stop */
	bool forced, destroying;
	/* list */
	struct xl_dom *doms;
	size_t ndoms;
	bool fresh_info; /* xl info ran just before this listing */
	/* destroy: the xl names still to destroy */
	char targets[3][XL_NAME_MAX];
	int ntargets;
	int rounds;
	/* migrate */
	struct xl_mig_status mig;
	const char *reported; /* the phase name last reported; NULL = none yet */
	uint64_t err_off;
	char tail[512]; /* an incomplete last line of stderr */
	bool cancelling, killed;
	uint64_t mig_deadline_ns, cancel_ns;
};

/* ---- files ---------------------------------------------------------------------- */

static void dom_file(const struct hv *hv, const char *name, const char *ext, char *out, size_t len)
{
	snprintf(out, len, "%s/%s.%s", hv->dir, name, ext);
}

/* NAME.json: the incarnation hax gave the domain here (start or migrate-prepare). */
static int write_meta(const struct hv *hv, const char *name, uint64_t incarnation,
		      const char *definition)
{
	char path[PATH_MAX], *text;
	json_t *meta =
	    json_pack("{s:s, s:I, s:s}", "name", name, "incarnation", (json_int_t)incarnation,
		      "definition", definition ? definition : "");
	int r;

	text = meta ? json_dumps(meta, JSON_COMPACT) : NULL;
	json_decref(meta);
	if (!text)
		return -ENOMEM;
	dom_file(hv, name, "json", path, sizeof(path));
	r = hv_write_file_atomic(path, text);
	free(text);
	return r;
}

static uint64_t meta_incarnation(const struct hv *hv, const char *name)
{
	char path[PATH_MAX];
	json_t *meta;
	json_int_t inc;

	dom_file(hv, name, "json", path, sizeof(path));
	meta = json_load_file(path, 0, NULL);
	inc = json_integer_value(json_object_get(meta, "incarnation"));
	json_decref(meta);
	return inc > 0 ? (uint64_t)inc : 0;
}

static void remove_meta(const struct hv *hv, const char *name)
{
	char path[PATH_MAX];

	dom_file(hv, name, "json", path, sizeof(path));
	unlink(path);
}

/* ---- operations ------------------------------------------------------------------ */

static struct xl_op *op_new(struct hv *hv, enum xl_op_kind kind, const char *name, hv_done_fn done,
			    void *opaque)
{
	struct xl_op *op = hax_xcalloc(1, sizeof(*op));

	op->hv = hv;
	op->kind = kind;
	hax_strlcpy(op->name, name ? name : "", sizeof(op->name));
	op->done = done;
	op->opaque = opaque;
	op->started_ns = hax_now_mono_ns();
	op->next = hv->ops;
	hv->ops = op;
	return op;
}

/* Unlink and free; a child still running is left to finish on its own (detached), so a
 * haxd that stops never kills an xl in the middle of its work. */
static void op_free(struct xl_op *op)
{
	struct xl_op **pp;

	for (pp = &op->hv->ops; *pp; pp = &(*pp)->next)
		if (*pp == op) {
			*pp = op->next;
			break;
		}
	hax_timer_del(op->timer);
	child_detach(op->child);
	free(op->doms);
	free(op);
}

/* Complete an operation: the callback may start new ones, so unlink first. */
static void op_finish(struct xl_op *op, int result, const char *msg)
{
	hv_done_fn done = op->done;
	void *opaque = op->opaque;

	op_free(op);
	if (done)
		done(opaque, result, msg);
}

static bool busy(const struct hv *hv, const char *name)
{
	const struct xl_op *op;

	for (op = hv->ops; op; op = op->next)
		if (op->kind != OP_LIST && op->kind != OP_PAUSE && strcmp(op->name, name) == 0)
			return true;
	return false;
}

static void on_xl_exit(void *opaque, int result, int status, const char *out, const char *err)
{
	struct xl_op *op = opaque;

	op->child = NULL;
	op->step(op, result, status, out ? out : "", err ? err : "");
}

/* Run xl with the NULL-terminated arguments; step gets its outcome. 0 or -errno. */
static int xl_run(struct xl_op *op, uint64_t timeout_ms, xl_step_fn step, ...)
{
	char *argv[XL_MAX_ARGS + 2];
	const char *a;
	va_list ap;
	int n = 0;

	argv[n++] = op->hv->xl;
	va_start(ap, step);
	while (n <= XL_MAX_ARGS && (a = va_arg(ap, const char *)))
		argv[n++] = (char *)a;
	va_end(ap);
	argv[n] = NULL;
	op->step = step;
	return child_run_split(argv, timeout_ms, on_xl_exit, op, &op->child);
}

/* Run fn from the loop after ms. */
static int op_after(struct xl_op *op, uint64_t ms, hax_timer_fn fn)
{
	hax_timer_del(op->timer);
	op->timer = 0;
	return hax_timer_add(ms, fn, op, &op->timer);
}

/* "NAME is an invalid domain identifier (rc=-6)": xl's answer for a missing domain. */
static bool not_found(int status, const char *err)
{
	return status != 0 && strstr(err, "is an invalid domain identifier");
}

/* A short reason for a failed xl call: its last message line. */
static const char *why(int result, int status, const char *err, char *buf, size_t len)
{
	if (result == -ETIMEDOUT)
		snprintf(buf, len, "xl did not answer in time");
	else if (result < 0)
		snprintf(buf, len, "cannot run xl: %s", strerror(-result));
	else {
		xl_last_line(err, buf, len);
		if (!buf[0])
			snprintf(buf, len, "xl exited with status %d", status);
	}
	return buf;
}

/* ---- what hax removed itself ---------------------------------------------------- */

static struct seen *seen_find(struct hv *hv, const char *name)
{
	size_t i;

	for (i = 0; i < hv->nseen; i++)
		if (strcmp(hv->seen[i].info.name, name) == 0)
			return &hv->seen[i];
	return NULL;
}

static struct seen *seen_get(struct hv *hv, const char *name)
{
	struct seen *s = seen_find(hv, name);

	if (s)
		return s;
	hv->seen = hax_xrealloc(hv->seen, (hv->nseen + 1) * sizeof(*hv->seen));
	s = &hv->seen[hv->nseen++];
	memset(s, 0, sizeof(*s));
	hax_strlcpy(s->info.name, name, sizeof(s->info.name));
	return s;
}

/* hax stopped, destroyed or migrated the domain away: no grace for it, and a listing
 * taken before now must not bring it back. */
static void forget(struct hv *hv, const char *name)
{
	struct seen *s = seen_get(hv, name);

	s->last_ns = 0;
	s->forgot_ns = hax_now_mono_ns();
}

/* ---- inventory ------------------------------------------------------------------- */

static enum hv_dom_state dom_state(const struct xl_dom *d, enum xl_name_kind kind)
{
	if (kind == XL_NAME_INCOMING)
		return HV_INCOMING;
	if (kind == XL_NAME_MIGRATEDAWAY)
		return HV_MIGRATED;
	if (d->flags & XL_SHUTDOWN) {
		/* suspended (a migration's stop phase) can still be resumed */
		if (d->reason == 's')
			return HV_PAUSED;
		/* Rebooting ("---sr-", "--psr-"): xl destroys and recreates it here itself
		 * (on_reboot = "restart", xl's default). The same domain on the same host:
		 * reported running, and it keeps its absence grace across the gap, so the
		 * leader never restarts it elsewhere while it may come back here. */
		if (d->reason == 'r')
			return HV_RUNNING;
		return d->reason == 'c' ? HV_CRASHED : HV_SHUTTING_DOWN;
	}
	if (d->flags & XL_DYING)
		return HV_SHUTTING_DOWN;
	return d->flags & XL_PAUSED ? HV_PAUSED : HV_RUNNING;
}

static bool live(enum hv_dom_state st)
{
	return st == HV_RUNNING || st == HV_PAUSED;
}

/* The domains of the merged listing, one per hax name: a plain NAME wins over its
 * --incoming, which wins over its --migratedaway. */
static size_t from_listing(struct hv *hv, const struct xl_dom *doms, size_t n,
			   struct hv_domain_info *out, enum xl_name_kind *kinds)
{
	size_t i, k, count = 0;

	for (i = 0; i < n; i++) {
		const struct xl_dom *d = &doms[i];
		char base[XL_NAME_MAX];
		enum xl_name_kind kind = xl_split_name(d->name, base, sizeof(base));
		struct hv_domain_info info = {0};

		if (d->domid == 0)
			continue;
		if (!hax_valid_name(base))
			continue; /* not a domain hax could manage */
		hax_strlcpy(info.name, base, sizeof(info.name));
		info.state = dom_state(d, kind);
		info.incarnation = d->incarnation ? d->incarnation : meta_incarnation(hv, base);
		info.memory_mib = d->mem_mib; /* what it holds now, after any mem-set */
		info.vcpus = d->vcpus;
		for (k = 0; k < count && strcmp(out[k].name, base) != 0; k++)
			;
		if (k < count && kinds[k] <= kind)
			continue;
		out[k] = info;
		kinds[k] = kind;
		count += k == count;
	}
	return count;
}

/* Record what this listing (started at t) showed, and add the live domains it missed
 * for less than the grace: a reboot recreates a domain under a new domid. */
static size_t apply_grace(struct hv *hv, uint64_t t, struct hv_domain_info *out, size_t n)
{
	uint64_t now = hax_now_mono_ns(), grace = XL_ABSENT_GRACE_MS * 1000000ull;
	size_t i, k, count = n;

	for (i = 0; i < n; i++) {
		struct seen *s = seen_get(hv, out[i].name);

		if (s->forgot_ns > t)
			continue; /* hax removed it after this listing began */
		s->info = out[i];
		s->last_ns = live(out[i].state) ? t : 0;
	}
	for (i = 0; i < hv->nseen; i++) {
		struct seen *s = &hv->seen[i];

		for (k = 0; k < n && strcmp(out[k].name, s->info.name) != 0; k++)
			;
		if (k < n || !s->last_ns)
			continue;
		if (now - s->last_ns < grace)
			out[count++] = s->info;
		else
			s->last_ns = 0;
	}
	/* Forget the forgotten after a while, so the table stays small. */
	for (i = 0; i < hv->nseen;) {
		if (!hv->seen[i].last_ns && now - hv->seen[i].forgot_ns > 60 * grace)
			hv->seen[i] = hv->seen[--hv->nseen];
		else
			i++;
	}
	return count;
}

static void list_fail(struct xl_op *op, int result, const char *msg)
{
	hv_list_fn done = op->list_done;
	void *opaque = op->opaque;

	hax_log(LOG_WARNING, "xl: listing domains failed: %s", msg);
	op_free(op);
	done(opaque, result, NULL, 0);
}

/* What domains may use on this host: Xen's free memory plus what the domains (not
 * Domain-0) hold, taken together; Xen's own overheads are thus left out, unlike with
 * total_memory less Domain-0. Refreshed with xl info, so it does not move as domains
 * come and go. */
static void update_capacity(struct hv *hv, const struct xl_dom *doms, size_t n)
{
	uint64_t used = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if (doms[i].domid != 0)
			used += doms[i].mem_mib;
	hv->cap_mib = hv->info.free_mib + used;
}

static void incoming_drop(struct hv *hv, const char *name)
{
	size_t i;

	for (i = 0; i < hv->nincoming; i++)
		if (strcmp(hv->incoming[i].info.name, name) == 0) {
			hv->incoming[i] = hv->incoming[--hv->nincoming];
			return;
		}
}

/* The prepared domains the listing does not show yet, appended to out as incoming. */
static size_t add_incoming(struct hv *hv, struct hv_domain_info *out,
			   const enum xl_name_kind *kinds, size_t n)
{
	size_t i = 0, k, count = n;

	while (i < hv->nincoming) {
		struct incoming *in = &hv->incoming[i];

		for (k = 0; k < n && strcmp(out[k].name, in->info.name) != 0; k++)
			;
		if (k < n && kinds[k] == XL_NAME_INCOMING) {
			in->seen = true;
		} else if (k < n || in->seen) {
			/* it runs here now, or the receiver came and went */
			*in = hv->incoming[--hv->nincoming];
			continue;
		} else {
			out[count++] = in->info;
		}
		i++;
	}
	return count;
}

static void list_report(struct xl_op *op)
{
	struct hv *hv = op->hv;
	size_t n = op->ndoms + hv->nseen + hv->nincoming + 1;
	struct hv_domain_info *out = hax_xcalloc(n, sizeof(*out));
	enum xl_name_kind *kinds = hax_xcalloc(n, sizeof(*kinds));
	hv_list_fn done = op->list_done;
	void *opaque = op->opaque;

	if (op->fresh_info)
		update_capacity(hv, op->doms, op->ndoms);
	n = from_listing(hv, op->doms, op->ndoms, out, kinds);
	n = add_incoming(hv, out, kinds, n);
	n = apply_grace(hv, op->started_ns, out, n);
	op_free(op);
	done(opaque, 0, out, n);
	free(kinds);
	free(out);
}

/* Complete the table from what earlier `xl list -l` runs said; false if a domain (a
 * new domid or name) is not known yet. */
static bool from_known(struct hv *hv, struct xl_dom *doms, size_t n)
{
	size_t i, k;

	for (i = 0; i < n; i++) {
		char base[XL_NAME_MAX];

		if (doms[i].domid == 0)
			continue;
		/* xl list -l never shows a domain being received (its incarnation is the
		 * prepare's): asking again every listing until it arrives would not help */
		if (xl_split_name(doms[i].name, base, sizeof(base)) == XL_NAME_INCOMING)
			continue;
		for (k = 0; k < hv->nknown; k++)
			if (hv->known[k].domid == doms[i].domid &&
			    strcmp(hv->known[k].name, doms[i].name) == 0)
				break;
		if (k == hv->nknown)
			return false;
		doms[i].have_long = true;
		hax_strlcpy(doms[i].uuid, hv->known[k].uuid, sizeof(doms[i].uuid));
		doms[i].max_vcpus = hv->known[k].max_vcpus;
		doms[i].max_memkb = hv->known[k].max_memkb;
		doms[i].incarnation = hv->known[k].incarnation;
		doms[i].nodeid = hv->known[k].nodeid;
	}
	return true;
}

static void remember_long(struct hv *hv, const struct xl_dom *doms, size_t n)
{
	size_t i;

	free(hv->known);
	hv->known = hax_xcalloc(n ? n : 1, sizeof(*hv->known));
	hv->nknown = 0;
	for (i = 0; i < n; i++)
		if (doms[i].have_long)
			hv->known[hv->nknown++] = doms[i];
}

static void list_got_long(struct xl_op *op, int result, int status, const char *out,
			  const char *err)
{
	char msg[160];

	(void)err;
	/* Without the JSON the table still gives names and states; incarnations then come
	 * from the state directory. */
	if (result == 0 && status == 0 &&
	    xl_merge_list_long(out, op->doms, op->ndoms, msg, sizeof(msg)) < 0)
		hax_log(LOG_WARNING, "xl: %s, ignoring", msg);
	remember_long(op->hv, op->doms, op->ndoms);
	list_report(op);
}

static void list_got_table(struct xl_op *op, int result, int status, const char *out,
			   const char *err)
{
	char msg[160];
	int r;

	if (result < 0 || status != 0) {
		list_fail(op, -EIO, why(result, status, err, msg, sizeof(msg)));
		return;
	}
	if (xl_parse_list(out, &op->doms, &op->ndoms, msg, sizeof(msg)) < 0) {
		list_fail(op, -EIO, msg);
		return;
	}
	if (from_known(op->hv, op->doms, op->ndoms)) {
		list_report(op);
		return;
	}
	r = xl_run(op, XL_CMD_TIMEOUT_MS, list_got_long, "list", "-l", NULL);
	if (r < 0)
		list_fail(op, r, "cannot run xl list -l");
}

static void list_table(struct xl_op *op)
{
	int r;

	op->started_ns = hax_now_mono_ns();
	r = xl_run(op, XL_CMD_TIMEOUT_MS, list_got_table, "list", NULL);
	if (r < 0)
		list_fail(op, r, "cannot run xl list");
}

static void list_got_info(struct xl_op *op, int result, int status, const char *out,
			  const char *err)
{
	struct hv *hv = op->hv;
	char msg[160];

	if (result == 0 && status == 0 && xl_parse_info(out, &hv->info) == 0) {
		hv->info_ns = hax_now_mono_ns();
		op->fresh_info = true;
	} else
		hax_log(LOG_WARNING, "xl: xl info failed: %s, ignoring",
			result == 0 && status == 0 ? "unexpected output"
						   : why(result, status, err, msg, sizeof(msg)));
	list_table(op);
}

static int xl_list(struct hv *hv, hv_list_fn done, void *opaque)
{
	struct xl_op *op = op_new(hv, OP_LIST, NULL, NULL, opaque);
	uint64_t now = hax_now_mono_ns();
	int r;

	op->list_done = done;
	if (hv->info_ns && now - hv->info_ns < XL_INFO_MAX_AGE_MS * 1000000ull) {
		op->started_ns = now;
		r = xl_run(op, XL_CMD_TIMEOUT_MS, list_got_table, "list", NULL);
	} else {
		r = xl_run(op, XL_CMD_TIMEOUT_MS, list_got_info, "info", NULL);
	}
	if (r < 0)
		op_free(op);
	return r;
}

static int xl_capacity(struct hv *hv, struct hv_capacity *out)
{
	out->mem_total_mib = hv->mem_mib ? hv->mem_mib : hv->cap_mib;
	out->vcpus = hv->vcpus ? hv->vcpus : hv->info.nr_cpus;
	return 0;
}

/* ---- start ----------------------------------------------------------------------- */

static void start_settings(struct xl_op *op, int result, int status, const char *out,
			   const char *err);

static void setting_failed(struct xl_op *op, const char *what, int result, int status,
			   const char *err)
{
	char msg[160];

	hax_log(LOG_WARNING, "xl: %s: %s failed: %s, ignoring", op->name, what,
		why(result, status, err, msg, sizeof(msg)));
}

/* The settings hax applies once the domain runs, one xl call each, in this order:
 * scheduler weight/cap, memory, vcpus. A failed one is logged; the start stands. */
static void start_next_setting(struct xl_op *op)
{
	struct hv *hv = op->hv;
	char w[16], c[16], mem[32], vc[16];
	const char *sched =
	    strcmp(hv->info.scheduler, "credit2") == 0 ? "sched-credit2" : "sched-credit";
	int r = 0;

	snprintf(w, sizeof(w), "%d", op->set.weight);
	snprintf(c, sizeof(c), "%d", op->set.cap);
	if (op->set.weight >= 0 || op->set.cap >= 0) {
		/* "-w W -c C", or just the one that is set */
		const char *a1 = op->set.weight >= 0 ? "-w" : "-c",
			   *v1 = op->set.weight >= 0 ? w : c;
		bool both = op->set.weight >= 0 && op->set.cap >= 0;

		op->set.weight = op->set.cap = -1;
		r = xl_run(op, XL_CMD_TIMEOUT_MS, start_settings, sched, "-d", op->name, a1, v1,
			   both ? "-c" : NULL, c, NULL);
	} else if (op->want_mem) {
		/* an explicit unit: xl's manual and xl disagree on a bare number's (KiB, MiB) */
		snprintf(mem, sizeof(mem), "%" PRIu32 "m", op->want_mem);
		op->want_mem = 0;
		r = xl_run(op, XL_CMD_TIMEOUT_MS, start_settings, "mem-set", op->name, mem, NULL);
	} else if (op->want_vcpus) {
		snprintf(vc, sizeof(vc), "%" PRIu32, op->want_vcpus);
		op->want_vcpus = 0;
		r = xl_run(op, XL_CMD_TIMEOUT_MS, start_settings, "vcpu-set", op->name, vc, NULL);
	} else {
		op_finish(op, 0, NULL);
		return;
	}
	if (r < 0) {
		hax_log(LOG_WARNING, "xl: %s: cannot run xl for a setting: %s, ignoring", op->name,
			strerror(-r));
		op_finish(op, 0, NULL);
	}
}

static void start_settings(struct xl_op *op, int result, int status, const char *out,
			   const char *err)
{
	(void)out;
	if (result < 0 || status != 0)
		setting_failed(op, "a setting after start", result, status, err);
	start_next_setting(op);
}

static void start_checked(struct xl_op *op, int result, int status, const char *out,
			  const char *err)
{
	struct xl_dom *d = NULL;
	size_t n = 0;
	char msg[160];
	bool up;

	if (result < 0 || (status != 0 && !not_found(status, err))) {
		op_finish(op, -EIO, why(result, status, err, msg, sizeof(msg)));
		return;
	}
	up = status == 0 && xl_parse_list(out, &d, &n, msg, sizeof(msg)) == 0 && n == 1 &&
	     !(d[0].flags & (XL_SHUTDOWN | XL_DYING));
	free(d);
	if (!up) {
		op_finish(op, -EIO, "the domain died during start (see its console log)");
		return;
	}
	start_next_setting(op);
}

static void start_settled(void *data)
{
	struct xl_op *op = data;

	op->timer = 0;
	if (xl_run(op, XL_CMD_TIMEOUT_MS, start_checked, "list", op->name, NULL) < 0)
		op_finish(op, -EIO, "cannot run xl list");
}

static void start_created(struct xl_op *op, int result, int status, const char *out,
			  const char *err)
{
	char msg[200];

	(void)out;
	if (result < 0 || status != 0) {
		why(result, status, err, msg, sizeof(msg));
		op_finish(op, strstr(err, "already exists") ? -EEXIST : -EIO, msg);
		return;
	}
	if (op_after(op, XL_START_SETTLE_MS, start_settled) < 0)
		op_finish(op, -ENOMEM, "cannot arm a timer");
}

/* The definition for xl create, and the settings to apply after it. */
static char *start_text(struct hv *hv, const struct hv_start *req, struct xl_op *op)
{
	char err[256];
	char *text;

	/* Checked on every host, not only by the leader that accepted it: a definition in
	 * the replicated state may predate the allow-list or come from another version. */
	if (hv->paths && xl_cfg_policy(req->definition, hv->paths, err, sizeof(err)) < 0) {
		hax_log(LOG_ERR, "xl: refusing to start %s: %s", req->name, err);
		return NULL;
	}
	text = xl_cfg_for_start(req->definition, req->name, req->incarnation, hv->nodeid,
				req->memory_mib, req->vcpus, err, sizeof(err));
	if (!text || xl_cfg_settings(req->definition, &op->set) < 0) {
		free(text);
		return NULL;
	}
	/* hax's figures win where the definition says otherwise: placement counted them */
	if (req->memory_mib && op->set.memory_mib && op->set.memory_mib != req->memory_mib)
		op->want_mem = req->memory_mib;
	if (req->vcpus && op->set.vcpus && op->set.vcpus != req->vcpus)
		op->want_vcpus = req->vcpus;
	return text;
}

static int xl_start(struct hv *hv, const struct hv_start *req, hv_done_fn done, void *opaque)
{
	char path[PATH_MAX], *text;
	struct xl_op *op;
	int r;

	if (!hax_valid_name(req->name) || hax_reserved_domain_suffix(req->name) ||
	    !req->definition)
		return -EINVAL;
	if (busy(hv, req->name))
		return -EBUSY;
	incoming_drop(hv, req->name);
	op = op_new(hv, OP_START, req->name, done, opaque);
	text = start_text(hv, req, op);
	if (!text) {
		op_free(op);
		return -EINVAL;
	}
	dom_file(hv, req->name, "cfg", path, sizeof(path));
	r = write_meta(hv, req->name, req->incarnation, req->definition);
	if (r == 0)
		r = hv_write_file_atomic(path, text);
	free(text);
	if (r == 0)
		r = xl_run(op, XL_CREATE_TIMEOUT_MS, start_created, "create", path, NULL);
	if (r < 0)
		op_free(op);
	return r;
}

/* ---- destroy (also the end of a stop) -------------------------------------------- */

static void destroy_list(void *data);

static void destroy_done(struct xl_op *op)
{
	forget(op->hv, op->name);
	remove_meta(op->hv, op->name);
	op_finish(op, 0, NULL);
}

static void destroy_again(struct xl_op *op, int result, const char *msg)
{
	if (hax_now_mono_ns() >= op->deadline_ns) {
		op_finish(op, result, msg);
		return;
	}
	if (op_after(op, XL_POLL_MS, destroy_list) < 0)
		op_finish(op, -ENOMEM, "cannot arm a timer");
}

static void destroy_next(struct xl_op *op);

static void destroyed_one(struct xl_op *op, int result, int status, const char *out,
			  const char *err)
{
	char msg[160];

	(void)out;
	if (result < 0 || (status != 0 && !not_found(status, err)))
		hax_log(LOG_WARNING, "xl: destroy %s: %s", op->targets[op->ntargets],
			why(result, status, err, msg, sizeof(msg)));
	destroy_next(op);
}

static void destroy_next(struct xl_op *op)
{
	if (op->ntargets == 0) {
		/* check at once the first time: a destroyed domain is usually gone when xl
		 * returns; a dying one is given time */
		if (op_after(op, op->rounds++ ? XL_POLL_MS : 0, destroy_list) < 0)
			op_finish(op, -ENOMEM, "cannot arm a timer");
		return;
	}
	op->ntargets--;
	if (xl_run(op, XL_DESTROY_TIMEOUT_MS, destroyed_one, "destroy", op->targets[op->ntargets],
		   NULL) < 0)
		destroy_again(op, -EIO, "cannot run xl destroy");
}

/* Which of NAME, NAME--incoming, NAME--migratedaway this host still has. */
static void destroy_listed(struct xl_op *op, int result, int status, const char *out,
			   const char *err)
{
	static const char *const sfx[] = {"", "--incoming", "--migratedaway"};
	struct xl_dom *d = NULL;
	char msg[160];
	size_t n = 0, i, k;

	if (result < 0 || status != 0 || xl_parse_list(out, &d, &n, msg, sizeof(msg)) < 0) {
		destroy_again(op, -EIO,
			      result < 0 || status != 0 ? why(result, status, err, msg, sizeof(msg))
							: msg);
		return;
	}
	op->ntargets = 0;
	for (k = 0; k < HAX_ARRAY_SIZE(sfx); k++) {
		char want[XL_NAME_MAX];

		snprintf(want, sizeof(want), "%s%s", op->name, sfx[k]);
		for (i = 0; i < n; i++)
			if (d[i].domid != 0 && strcmp(d[i].name, want) == 0)
				hax_strlcpy(op->targets[op->ntargets++], want, XL_NAME_MAX);
	}
	free(d);
	if (op->ntargets == 0) {
		destroy_done(op);
		return;
	}
	/* Past the deadline with domains still there: a dying domain that does not go. */
	if (op->destroying && hax_now_mono_ns() >= op->deadline_ns) {
		op_finish(op, -ETIMEDOUT, "the domain is still there after xl destroy");
		return;
	}
	op->destroying = true;
	destroy_next(op);
}

static void destroy_list(void *data)
{
	struct xl_op *op = data;

	op->timer = 0;
	if (xl_run(op, XL_CMD_TIMEOUT_MS, destroy_listed, "list", NULL) < 0)
		destroy_again(op, -EIO, "cannot run xl list");
}

static void destroy_begin(struct xl_op *op)
{
	op->deadline_ns = hax_now_mono_ns() + XL_DESTROY_GRACE_MS * 1000000ull;
	op->destroying = false;
	if (op_after(op, 0, destroy_list) < 0)
		op_finish(op, -ENOMEM, "cannot arm a timer");
}

static int xl_destroy(struct hv *hv, const char *name, hv_done_fn done, void *opaque)
{
	struct xl_op *op;

	if (!hax_valid_name(name))
		return -EINVAL;
	if (busy(hv, name))
		return -EBUSY;
	incoming_drop(hv, name); /* an abandoned receive: nothing more to wait for */
	op = op_new(hv, OP_DESTROY, name, done, opaque);
	destroy_begin(op);
	return 0;
}

/* ---- stop ------------------------------------------------------------------------ */

static void stop_poll(void *data);

static void stop_later(struct xl_op *op)
{
	if (op_after(op, XL_POLL_MS, stop_poll) < 0)
		op_finish(op, -ENOMEM, "cannot arm a timer");
}

static void stop_polled(struct xl_op *op, int result, int status, const char *out, const char *err)
{
	struct xl_dom *d = NULL;
	char msg[160];
	size_t n = 0;
	bool down = false;

	if (result == 0 && not_found(status, err)) {
		destroy_done(op);
		return;
	}
	if (result == 0 && status == 0 && xl_parse_list(out, &d, &n, msg, sizeof(msg)) == 0 &&
	    n == 1)
		down = d[0].flags & XL_SHUTDOWN; /* shut down but kept: clean it up */
	free(d);
	if (down || hax_now_mono_ns() >= op->deadline_ns) {
		if (!down)
			hax_log(LOG_WARNING, "xl: %s did not shut down in time: destroying it",
				op->name);
		destroy_begin(op);
		return;
	}
	stop_later(op);
}

static void stop_poll(void *data)
{
	struct xl_op *op = data;

	op->timer = 0;
	if (xl_run(op, XL_CMD_TIMEOUT_MS, stop_polled, "list", op->name, NULL) < 0)
		stop_later(op);
}

/* How long an `xl shutdown` may run: xl waits (without -w too) until the guest
 * acknowledges, which a paused or hung guest never does (61 s seen on Xen 4.17), so the
 * request is cut at the stop deadline and the domain destroyed then (a killed request
 * is harmless: it is already in xenstore). */
static uint64_t request_ms(const struct xl_op *op)
{
	uint64_t now = hax_now_mono_ns(), left;

	left = op->deadline_ns > now ? (op->deadline_ns - now) / 1000000ull : 0;
	if (left < XL_POLL_MS)
		left = XL_POLL_MS;
	return left < XL_CMD_TIMEOUT_MS ? left : XL_CMD_TIMEOUT_MS;
}

static void stop_requested(struct xl_op *op, int result, int status, const char *out,
			   const char *err)
{
	char msg[160];

	(void)out;
	if (result == 0 && not_found(status, err)) {
		/* not running here; a migration leftover under another name may be */
		destroy_begin(op);
		return;
	}
	if (result == 0 && status != 0 && strstr(err, "PV control interface not available") &&
	    !op->forced) {
		/* an HVM guest without PV drivers: the ACPI power button instead */
		op->forced = true;
		if (xl_run(op, request_ms(op), stop_requested, "shutdown", "-F", op->name,
			   NULL) == 0)
			return;
	}
	if (result < 0 || status != 0)
		hax_log(LOG_WARNING,
			"xl: %s refused a graceful shutdown (%s): destroyed at the "
			"deadline",
			op->name, why(result, status, err, msg, sizeof(msg)));
	stop_later(op);
}

static int xl_stop(struct hv *hv, const char *name, uint64_t timeout_ms, hv_done_fn done,
		   void *opaque)
{
	struct xl_op *op;
	int r;

	if (!hax_valid_name(name))
		return -EINVAL;
	if (busy(hv, name))
		return -EBUSY;
	incoming_drop(hv, name);
	op = op_new(hv, OP_STOP, name, done, opaque);
	op->deadline_ns = hax_now_mono_ns() + timeout_ms * 1000000ull;
	r = xl_run(op, request_ms(op), stop_requested, "shutdown", op->name, NULL);
	if (r < 0)
		op_free(op);
	return r;
}

/* ---- pause ----------------------------------------------------------------------- */

static void paused(struct xl_op *op, int result, int status, const char *out, const char *err)
{
	char msg[160];

	(void)out;
	if (result < 0 || status != 0)
		hax_log(LOG_ERR, "xl: %s %s failed: %s", op->forced ? "pause" : "unpause", op->name,
			why(result, status, err, msg, sizeof(msg)));
	op_finish(op, 0, NULL);
}

/* The loop must not wait for xl: the pause runs as a child and a failure is logged.
 * -ENOENT when the last listing did not show the domain live here. */
static int xl_pause(struct hv *hv, const char *name, bool pause)
{
	const struct seen *s = seen_find(hv, name);
	struct xl_op *op;
	int r;

	if (!s || !s->last_ns || !live(s->info.state))
		return -ENOENT;
	op = op_new(hv, OP_PAUSE, name, NULL, NULL);
	op->forced = pause;
	r = xl_run(op, XL_CMD_TIMEOUT_MS, paused, pause ? "pause" : "unpause", name, NULL);
	if (r < 0)
		op_free(op);
	return r;
}

/* ---- migration: target ----------------------------------------------------------- */

static void prepared(void *data)
{
	struct xl_op *op = data;

	op->timer = 0;
	op_finish(op, 0, "");
}

/* xl migrate-receive is started by the source through ssh; the target only records the
 * incarnation (and definition) so that its inventory reports it after the move. */
static int xl_migrate_prepare(struct hv *hv, const struct hv_migrate_in *req, hv_done_fn done,
			      void *opaque)
{
	struct xl_op *op;
	int r;

	if (!hax_valid_name(req->name) || hax_reserved_domain_suffix(req->name) ||
	    !req->definition)
		return -EINVAL;
	if (busy(hv, req->name))
		return -EBUSY;
	r = write_meta(hv, req->name, req->incarnation, req->definition);
	if (r < 0)
		return r;
	incoming_drop(hv, req->name);
	hv->incoming = hax_xrealloc(hv->incoming, (hv->nincoming + 1) * sizeof(*hv->incoming));
	memset(&hv->incoming[hv->nincoming], 0, sizeof(*hv->incoming));
	hax_strlcpy(hv->incoming[hv->nincoming].info.name, req->name, HAX_NAME_MAX);
	hv->incoming[hv->nincoming].info.state = HV_INCOMING;
	hv->incoming[hv->nincoming].info.incarnation = req->incarnation;
	hv->incoming[hv->nincoming].info.memory_mib = req->memory_mib;
	hv->incoming[hv->nincoming++].info.vcpus = req->vcpus;
	op = op_new(hv, OP_PREPARE, req->name, done, opaque);
	r = op_after(op, 0, prepared);
	if (r < 0)
		op_free(op);
	return r;
}

/* ---- migration: source ----------------------------------------------------------- */

/* Every descendant of pid (from /proc): what xl migrate started, its transport first. */
static size_t descendants(pid_t pid, pid_t *out, size_t max)
{
	pid_t(*all)[2] = NULL;
	size_t nall = 0, n = 0, i, k;
	struct dirent *de;
	DIR *d = opendir("/proc");

	while (d && (de = readdir(d))) {
		char path[300], buf[512], *p;
		long ppid;
		FILE *f;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
		fclose(f);
		if (!p || sscanf(p + 1, " %*c %ld", &ppid) != 1)
			continue;
		all = hax_xrealloc(all, (nall + 1) * sizeof(*all));
		all[nall][0] = (pid_t)atol(de->d_name);
		all[nall++][1] = (pid_t)ppid;
	}
	if (d)
		closedir(d);
	/* breadth first: out[] grows while it is walked */
	for (k = 0; k <= n && n < max; k++) {
		pid_t parent = k == 0 ? pid : out[k - 1];

		for (i = 0; i < nall && n < max; i++)
			if (all[i][1] == parent)
				out[n++] = all[i][0];
	}
	free(all);
	return n;
}

static const char *phase_name(enum xl_mig_phase p)
{
	switch (p) {
	case XL_MIG_STARTED:
		return "connecting";
	case XL_MIG_RECEIVER_READY:
		return "copying";
	case XL_MIG_TRANSFERRED:
		return "stopped";
	default:
		return "completing";
	}
}

static void migrate_report(struct xl_op *op)
{
	struct hv_migrate_progress p = {.percent = -1, .downtime_ms = -1};

	p.phase = phase_name(op->mig.phase);
	if (!op->progress || (op->reported && strcmp(op->reported, p.phase) == 0))
		return;
	op->reported = p.phase;
	op->progress(op->opaque, &p);
}

/* What xl printed since the last look, complete lines only. */
static void migrate_read(struct xl_op *op)
{
	char buf[4096 + sizeof(op->tail)];

	while (op->child) {
		size_t tl = strlen(op->tail);
		ssize_t n;
		char *nl;

		memcpy(buf, op->tail, tl);
		n = child_read_stderr(op->child, op->err_off, buf + tl, 4096);
		if (n <= 0)
			break;
		op->err_off += (uint64_t)n;
		buf[tl + (size_t)n] = '\0';
		nl = strrchr(buf, '\n');
		if (!nl) {
			hax_strlcpy(op->tail, buf, sizeof(op->tail));
			continue;
		}
		*nl = '\0';
		xl_migrate_scan(buf, &op->mig);
		hax_strlcpy(op->tail, nl + 1, sizeof(op->tail));
	}
}

/* Past the deadline and before the target acknowledged: cut the migration stream (kill
 * what xl started: the ssh transport, the save helper), so that xl fails the way it
 * knows and resumes the domain at the sender. xl itself is killed only if it does not
 * end within XL_CANCEL_GRACE_MS, and never once the target has acknowledged. */
static void migrate_cancel(struct xl_op *op, uint64_t now)
{
	pid_t kids[64];
	size_t n, i;

	if (op->mig.phase >= XL_MIG_ACKNOWLEDGED || op->mig.failure != XL_MIG_OK)
		return;
	if (!op->cancelling) {
		op->cancelling = true;
		op->cancel_ns = now + XL_CANCEL_GRACE_MS * 1000000ull;
		n = descendants(child_pid(op->child), kids, HAX_ARRAY_SIZE(kids));
		hax_log(LOG_WARNING,
			"xl: migration of %s timed out before the target "
			"acknowledged: cutting its stream (%zu processes)",
			op->name, n);
		for (i = 0; i < n; i++)
			kill(kids[i], SIGTERM);
	} else if (now >= op->cancel_ns && !op->killed) {
		hax_log(LOG_ERR,
			"xl: xl migrate %s did not end after its stream was cut: "
			"killing it",
			op->name);
		op->killed = true;
		child_signal(op->child, SIGKILL);
	}
}

static void migrate_poll(void *data)
{
	struct xl_op *op = data;
	uint64_t now = hax_now_mono_ns();

	op->timer = 0;
	migrate_read(op);
	migrate_report(op);
	if (op->mig_deadline_ns && now >= op->mig_deadline_ns)
		migrate_cancel(op, now);
	if (op_after(op, XL_MIG_POLL_MS, migrate_poll) < 0)
		hax_log(LOG_ERR, "xl: cannot arm the migration poll of %s", op->name);
}

static void migrate_exited(struct xl_op *op, int result, int status, const char *out,
			   const char *err)
{
	const struct xl_mig_status *m = &op->mig;
	char msg[256], last[160];

	(void)out;
	xl_migrate_scan(err, &op->mig);
	migrate_report(op);
	hax_strlcpy(last, m->last, sizeof(last));
	if (result == 0 && status == 0) {
		/* xl exits 0 only after "Migration successful.": the source copy is gone */
		forget(op->hv, op->name);
		remove_meta(op->hv, op->name);
		op_finish(op, 0, NULL);
		return;
	}
	if (result < 0) {
		op_finish(op, -EIO, why(result, status, err, msg, sizeof(msg)));
	} else if (not_found(status, err)) {
		op_finish(op, -ENOENT, "no such domain here");
	} else if (m->failure == XL_MIG_FAIL_HANDSHAKE || op->killed ||
		   (m->phase >= XL_MIG_ACKNOWLEDGED && m->failure == XL_MIG_OK)) {
		snprintf(msg, sizeof(msg),
			 "%s: the outcome is unknown, check the domain at both "
			 "ends",
			 m->failure == XL_MIG_FAIL_HANDSHAKE
			     ? "migration failed during final handshake"
			 : op->killed ? "xl migrate was killed after its timeout"
				      : "xl migrate failed after the target acknowledged");
		op_finish(op, -EPROTO, msg);
	} else {
		snprintf(msg, sizeof(msg), "%s%s; the domain still runs here",
			 op->cancelling ? "timed out and cancelled: " : "", last);
		op_finish(op, op->cancelling ? -ETIMEDOUT : -EIO, msg);
	}
}

static int xl_migrate_send(struct hv *hv, const struct hv_migrate_out *req, hv_progress_fn progress,
			   hv_done_fn done, void *opaque)
{
	/* -v: xl prints its progress (and passes -v to the receiver) only when verbose */
	char *argv[] = {hv->xl, "-v", "migrate", "-s", hv->ssh, (char *)req->name,
			(char *)req->target_host, NULL};
	struct xl_op *op;
	int r;

	if (!hax_valid_name(req->name) || !req->target_host || !hax_valid_name(req->target_host))
		return -EINVAL;
	if (busy(hv, req->name))
		return -EBUSY;
	op = op_new(hv, OP_MIGRATE, req->name, done, opaque);
	op->progress = progress;
	if (req->timeout_ms)
		op->mig_deadline_ns = op->started_ns + req->timeout_ms * 1000000ull;
	/* No deadline on the child: past the acknowledgement it must never be killed. */
	op->step = migrate_exited;
	r = child_run_split(argv, 0, on_xl_exit, op, &op->child);
	if (r == 0)
		r = op_after(op, 0, migrate_poll);
	if (r < 0)
		op_free(op);
	return r;
}

/* ---- the driver ------------------------------------------------------------------ */

static int xl_validate(const char *definition, char *err, size_t errlen)
{
	return xl_cfg_validate(definition, err, errlen);
}

static int xl_init(struct hv **out, const struct hv_host *host, char *err, size_t errlen)
{
	struct hv *hv = hax_xcalloc(1, sizeof(*hv));

	snprintf(hv->dir, sizeof(hv->dir), "%s/xl", host->state_dir);
	if (mkdir(hv->dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", hv->dir, strerror(errno));
		free(hv);
		return -EIO;
	}
	hax_strlcpy(hv->xl, host->xl && *host->xl ? host->xl : XL_DEFAULT, sizeof(hv->xl));
	hv->paths = host->domain_paths;
	if (access(hv->xl, X_OK) < 0) {
		snprintf(err, errlen, "xl program %s: %s", hv->xl, strerror(errno));
		free(hv);
		return -ENOENT;
	}
	if (hax_strlcpy(hv->ssh,
			host->xl_migrate_ssh && *host->xl_migrate_ssh ? host->xl_migrate_ssh
								      : XL_SSH_DEFAULT,
			sizeof(hv->ssh)) < 0) {
		snprintf(err, errlen, "xl_migrate_ssh: longer than %d characters", XL_SSH_MAX - 1);
		free(hv);
		return -EINVAL;
	}
	hax_strlcpy(hv->host, host->host_name, sizeof(hv->host));
	hv->nodeid = host->nodeid;
	hv->mem_mib = host->mem_mib;
	hv->vcpus = host->vcpus;
	*out = hv;
	return 0;
}

static void xl_fini(struct hv *hv)
{
	if (!hv)
		return;
	while (hv->ops)
		op_free(hv->ops);
	free(hv->seen);
	free(hv->known);
	free(hv->incoming);
	free(hv);
}

const struct hv_ops hv_xl_ops = {
    .name = "xl",
    .init = xl_init,
    .fini = xl_fini,
    .list = xl_list,
    .capacity = xl_capacity,
    .validate = xl_validate,
    .policy = xl_cfg_policy,
    .start = xl_start,
    .stop = xl_stop,
    .destroy = xl_destroy,
    .pause = xl_pause,
    .live_migration = true,
    .migrate_prepare = xl_migrate_prepare,
    .migrate_send = xl_migrate_send,
};
