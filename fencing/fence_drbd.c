/*
 * Fence driver "drbd", for domains whose disks are DRBD resources, and the promotion
 * of such a resource on the host that takes the domains over (fence_drbd.h).
 *
 * What "fencing through DRBD" can mean from a survivor: `drbdadm outdate` acts on the
 * node it runs on, so the victim's replica cannot be outdated from here; and a DRBD
 * check cannot stop a live host from writing. So this device does not stop the victim.
 * It is a level meant to be combined with one that does ("fence = power+drbd" or
 * "scsi+drbd"): it confirms that the victim's replica cannot be newer than this one.
 * Fence: `drbdadm status RESOURCE`, then success only when the connection named after
 * the victim is down (any DRBD 9 connection state but Connected) and every local
 * volume is UpToDate. A victim still Connected may still be replicating writes from a
 * Primary there; a local disk Outdated or Inconsistent means the newer data may be on
 * the victim. Dry run: `drbdadm status RESOURCE` answers (exit 0). The check runs on
 * the host that runs the fence (the leader), so that host must hold a replica of the
 * resource; the promotion below is what guards the host that starts the domain.
 *
 * Promotion: `drbdadm primary RESOURCE`, run by haxd on the new host once the fence is
 * confirmed and before it starts a DRBD-backed domain. DRBD refuses it by itself when
 * the local disk is not UpToDate or another node is Primary (drbdsetup: "State change
 * failed", exit 11), which this reports as -EPERM with DRBD's reason. With "fencing
 * resource-and-stonith" and a peer not known Outdated, DRBD may first run its
 * fence-peer handler (hax-fence-peer, which asks haxd for a fresh fence of the peer)
 * and refuses if that fails: hence the long promote deadline (fence_drbd.h).
 *
 * Formats are DRBD 9's (drbd-utils user/v9/drbdsetup.c, status_cmd): a resource line
 * "RES role:R", volume lines indented 2 ("disk:D", or "volume:N disk:D" with several
 * volumes), connection lines indented 2 ("NAME connection:STATE" when not connected,
 * "NAME role:R" when Connected, then its peer devices indented 4), a blank line after
 * each resource. Exit codes are drbd-utils 9's: 1 for a resource not in drbd.conf
 * ("'RES' not defined in your config (for this host)."), 10 for one that is not up,
 * 11 for a refused state change, 20 when drbdsetup could not run (module missing).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/loop.h"
#include "lib/util.h"
#include "lib/child.h"
#include "fence.h"
#include "fence_drbd.h"

#define MSG_MAX 512
#define WHY_MAX 400
#define LINE_MAX_SHOWN 200
#define STATE_MAX 32

enum drbd_step { STEP_CHECK, STEP_PROBE, STEP_PROMOTE, STEP_DEMOTE };

static const char *const step_cmd[] = {
    [STEP_CHECK] = "status",
    [STEP_PROBE] = "status",
    [STEP_PROMOTE] = "primary",
    [STEP_DEMOTE] = "secondary",
};

/* Everything copied: a reload may swap the configuration while drbdadm runs. */
struct fence_op {
	enum drbd_step step;
	char drbdadm[PATH_MAX];
	char resource[CONF_STR_MAX];
	char peer[HAX_NAME_MAX];
	uint64_t timeout_ms;
	char *argv[4];
	hax_timer_t kick;
	struct child_run *child;
	fence_done_fn done;
	void *opaque;
};

/* ---- the status output (pure) ------------------------------------------------------ */

/* DRBD 9's connection states other than Connected (drbd_conn_str). An unknown word is
 * not taken for "down": a newer DRBD might mean something live by it. */
static const char *const down_states[] = {
    "StandAlone",     "Disconnecting", "Unconnected", "Timeout",    "BrokenPipe",
    "NetworkFailure", "ProtocolError", "TearDown",    "Connecting",
};

struct status_view {
	bool found;		  /* the resource's own line */
	int nvol;		  /* local volume lines */
	char bad_disk[STATE_MAX]; /* the first local disk state that is not UpToDate */
	bool peer_seen;
	char cstate[STATE_MAX]; /* the peer's connection state */
	char peer_role[STATE_MAX];
};

/* The value of "key:VALUE" among the words of line (up to its end), or false. */
static bool word_value(const char *line, const char *key, char *out, size_t len)
{
	size_t klen = strlen(key);
	const char *p = line;

	while (*p) {
		size_t n;

		while (*p == ' ')
			p++;
		n = strcspn(p, " ");
		if (n > klen && strncmp(p, key, klen) == 0 && p[klen] == ':') {
			snprintf(out, len, "%.*s", (int)(n - klen - 1), p + klen + 1);
			return true;
		}
		p += n;
	}
	return false;
}

/* One line indented by two inside the resource: a local volume or a connection. */
static void view_line(struct status_view *v, const char *line, const char *peer)
{
	size_t n = strcspn(line, " ");
	char disk[STATE_MAX];

	if (strncmp(line, "disk:", 5) == 0 || strncmp(line, "volume:", 7) == 0) {
		if (!word_value(line, "disk", disk, sizeof(disk)))
			return;
		v->nvol++;
		if (strcmp(disk, "UpToDate") != 0 && !v->bad_disk[0])
			hax_strlcpy(v->bad_disk, disk, sizeof(v->bad_disk));
		return;
	}
	/* A connection without a name starts with "node-id:": it cannot be the victim's. */
	if (n != strlen(peer) || strncmp(line, peer, n) != 0 || memchr(line, ':', n))
		return;
	v->peer_seen = true;
	/* Non-verbose status names the state only when it is not Connected. */
	if (!word_value(line, "connection", v->cstate, sizeof(v->cstate)))
		hax_strlcpy(v->cstate, "Connected", sizeof(v->cstate));
	if (!word_value(line, "role", v->peer_role, sizeof(v->peer_role)))
		hax_strlcpy(v->peer_role, "Unknown", sizeof(v->peer_role));
}

static void view_parse(struct status_view *v, const char *output, const char *resource,
		       const char *peer)
{
	const char *p = output;
	bool inside = false;

	memset(v, 0, sizeof(*v));
	while (*p) {
		size_t len = strcspn(p, "\n"), indent = strspn(p, " ");
		char line[1024];

		snprintf(line, sizeof(line), "%.*s", (int)len, p);
		p += len + (p[len] == '\n');
		if (indent >= len) {
			inside = false; /* a blank line ends a resource */
		} else if (indent == 0) {
			size_t n = strcspn(line, " ");

			inside = n == strlen(resource) && strncmp(line, resource, n) == 0;
			v->found |= inside;
		} else if (inside && indent == 2) {
			view_line(v, line + indent, peer);
		}
		/* Deeper lines are peer devices and statistics: not needed. */
	}
}

static bool is_down(const char *cstate)
{
	for (size_t i = 0; i < HAX_ARRAY_SIZE(down_states); i++)
		if (strcmp(cstate, down_states[i]) == 0)
			return true;
	return false;
}

int fence_drbd_check_status(const char *output, const char *resource, const char *peer, char *why,
			    size_t len)
{
	struct status_view v;

	view_parse(&v, output, resource, peer);
	if (!v.found) {
		snprintf(why, len, "drbdadm status does not list resource %s", resource);
		return -ENOENT;
	}
	if (v.nvol == 0) {
		snprintf(why, len, "resource %s shows no local volume", resource);
		return -EPROTO;
	}
	if (!v.peer_seen) {
		snprintf(why, len,
			 "resource %s has no connection named %s (DRBD host names must be the hax "
			 "host names)",
			 resource, peer);
		return -ENOENT;
	}
	if (strcmp(v.cstate, "Connected") == 0) {
		snprintf(why, len,
			 "%s is still Connected (role %s): its replica is live; a level that stops "
			 "the host must come first (power+drbd)",
			 peer, v.peer_role);
		return -EBUSY;
	}
	if (!is_down(v.cstate)) {
		snprintf(why, len, "the connection to %s is in state %s, which hax does not know",
			 peer, v.cstate);
		return -EPROTO;
	}
	if (v.bad_disk[0]) {
		snprintf(why, len,
			 "the local disk is %s, not UpToDate: %s may hold newer data, and "
			 "promoting here could lose writes",
			 v.bad_disk, peer);
		return -ESTALE;
	}
	snprintf(why, len, "%s is %s and the local disk is UpToDate: %s cannot hold newer data",
		 peer, v.cstate, peer);
	return 0;
}

/* ---- running drbdadm ---------------------------------------------------------------- */

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
	free(op);
	done(opaque, result, msg);
}

/* The line of drbdadm's output that says why: DRBD's own reason when there is one
 * ("State change failed: ...", "Failure: ...", "not defined ..."), not the trailing
 * "Command '...' terminated with exit code N". Control characters become blanks. */
static void reason_line(const char *output, char *out, size_t len)
{
	static const char *const marks[] = {"State change failed", "Failure:", "not defined",
					    "No such", "no resources defined"};
	const char *best = NULL, *last = NULL, *p = output;
	size_t best_len = 0, last_len = 0;

	while (*p) {
		size_t n = strcspn(p, "\n");

		if (n > 0 && strspn(p, " \t\r") < n) {
			last = p;
			last_len = n;
			for (size_t i = 0; !best && i < HAX_ARRAY_SIZE(marks); i++)
				if (memmem(p, n, marks[i], strlen(marks[i]))) {
					best = p;
					best_len = n;
				}
		}
		p += n + (p[n] == '\n');
	}
	if (!best) {
		best = last ? last : "(no output)";
		best_len = last ? last_len : strlen(best);
	}
	snprintf(out, len, "%.*s", (int)(best_len < LINE_MAX_SHOWN ? best_len : LINE_MAX_SHOWN),
		 best);
	for (char *q = out; *q; q++)
		if ((unsigned char)*q < 0x20 || *q == 0x7f)
			*q = ' ';
}

/* drbd-utils 9 exit codes, as errno values the leader can tell apart. */
static int exit_errno(int exit_status, const char *output)
{
	if (exit_status == 1 && (strstr(output, "not defined") || strstr(output, "no resources")))
		return -ENOENT; /* not in drbd.conf on this host */
	if (exit_status == 10)
		return -ENXIO; /* configured but not up */
	if (exit_status == 11)
		return -EPERM; /* the kernel refused the state change */
	return -EIO;
}

static void on_child(void *opaque, int result, int exit_status, const char *output)
{
	struct fence_op *op = opaque;
	const char *cmd = step_cmd[op->step];
	char line[LINE_MAX_SHOWN + 1], why[WHY_MAX];
	int r;

	op->child = NULL;
	if (result == -ETIMEDOUT) {
		finish(op, result, "drbd %s: drbdadm %s gave no answer within %" PRIu64 " ms",
		       op->resource, cmd, op->timeout_ms);
	} else if (result < 0) {
		finish(op, result, "drbd %s: drbdadm %s: %s", op->resource, cmd, strerror(-result));
	} else if (exit_status != 0) {
		reason_line(output, line, sizeof(line));
		finish(op, exit_errno(exit_status, output),
		       "drbd %s: drbdadm %s failed (exit %d): %s", op->resource, cmd, exit_status,
		       line);
	} else if (op->step == STEP_PROBE) {
		finish(op, 0, "drbd %s: drbdadm status answers", op->resource);
	} else if (op->step == STEP_PROMOTE) {
		finish(op, 0, "drbd %s: Primary on this host", op->resource);
	} else if (op->step == STEP_DEMOTE) {
		finish(op, 0, "drbd %s: Secondary on this host", op->resource);
	} else {
		r = fence_drbd_check_status(output, op->resource, op->peer, why, sizeof(why));
		finish(op, r, "drbd %s: %s", op->resource, why);
	}
}

/* First step, from the loop, so that even a drbdadm that cannot run reaches done()
 * with a reason the leader can show. */
static void on_kick(void *data)
{
	struct fence_op *op = data;
	int r;

	op->kick = 0;
	op->argv[0] = op->drbdadm;
	op->argv[1] = (char *)step_cmd[op->step];
	op->argv[2] = op->resource;
	op->argv[3] = NULL;
	r = child_run(op->argv, NULL, op->timeout_ms, on_child, op, &op->child);
	if (r < 0)
		finish(op, r, "drbd %s: cannot run %s: %s", op->resource, op->drbdadm,
		       strerror(-r));
}

/* A resource name reaches drbdadm's argv: no option look-alike, no blanks. */
static bool valid_resource(const char *s)
{
	if (!s || !s[0] || s[0] == '-' || strlen(s) >= CONF_STR_MAX)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

static int op_start(enum drbd_step step, const char *drbdadm, const char *resource,
		    const char *peer, uint64_t timeout_ms, fence_done_fn done, void *opaque,
		    struct fence_op **out)
{
	struct fence_op *op;
	int r;

	if (!drbdadm || !drbdadm[0])
		drbdadm = FENCE_DRBD_DEFAULT_DRBDADM;
	if (drbdadm[0] != '/' || !valid_resource(resource) || timeout_ms == 0 || !done || !out)
		return -EINVAL;
	op = hax_xcalloc(1, sizeof(*op));
	if (hax_strlcpy(op->drbdadm, drbdadm, sizeof(op->drbdadm)) < 0 ||
	    hax_strlcpy(op->peer, peer ? peer : "", sizeof(op->peer)) < 0) {
		free(op);
		return -ENAMETOOLONG;
	}
	hax_strlcpy(op->resource, resource, sizeof(op->resource));
	op->step = step;
	op->timeout_ms = timeout_ms;
	op->done = done;
	op->opaque = opaque;
	r = hax_timer_add(0, on_kick, op, &op->kick);
	if (r < 0) {
		free(op);
		return r;
	}
	*out = op;
	return 0;
}

static int drbd_start(const struct hax_conf *conf, const struct conf_fence *dev,
		      const struct fence_target *t, bool dry_run, fence_done_fn done, void *opaque,
		      struct fence_op **out)
{
	(void)conf;
	if (!dev || !t || !t->host || !hax_valid_name(t->host))
		return -EINVAL;
	return op_start(dry_run ? STEP_PROBE : STEP_CHECK, dev->drbdadm, dev->resource, t->host,
			dev->timeout_ms, done, opaque, out);
}

int fence_drbd_promote(const char *drbdadm, const char *resource, fence_done_fn done, void *opaque,
		       struct fence_op **op)
{
	return op_start(STEP_PROMOTE, drbdadm, resource, NULL, FENCE_DRBD_PROMOTE_TIMEOUT_MS, done,
			opaque, op);
}

int fence_drbd_demote(const char *drbdadm, const char *resource, fence_done_fn done, void *opaque,
		      struct fence_op **op)
{
	return op_start(STEP_DEMOTE, drbdadm, resource, NULL, FENCE_DRBD_DEMOTE_TIMEOUT_MS, done,
			opaque, op);
}

void fence_drbd_cancel(struct fence_op *op)
{
	if (!op)
		return;
	hax_timer_del(op->kick);
	child_cancel(op->child);
	free(op);
}

const struct fence_driver fence_drbd_driver = {
    .kind = CONF_FENCE_DRBD,
    .name = "drbd",
    .start = drbd_start,
    .cancel = fence_drbd_cancel,
};
