/*
 * Fence driver "drbd", for domains whose disks are DRBD resources (fence_drbd.h); the
 * promotion of such a resource on the host that takes the domains over is the agent's,
 * through lib/drbdadm.c, which this driver also runs drbdadm through.
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
 * Promotion (lib/drbdadm.h): `drbdadm primary RESOURCE`, run by the agent on the new
 * host once the fence is confirmed and before it starts a DRBD-backed domain. DRBD
 * refuses it by itself when the local disk is not UpToDate or another node is Primary
 * (drbdsetup: "State change failed", exit 11: -EPERM with DRBD's reason). With
 * "fencing resource-and-stonith" and a peer not known Outdated, DRBD may first run its
 * fence-peer handler (hax-fence-peer, which asks haxd for a fresh fence of the peer)
 * and refuses if that fails: hence the long promote deadline.
 *
 * Formats are DRBD 9's (drbd-utils user/v9/drbdsetup.c, status_cmd): a resource line
 * "RES role:R", volume lines indented 2 ("disk:D", or "volume:N disk:D" with several
 * volumes), connection lines indented 2 ("NAME connection:STATE" when not connected,
 * "NAME role:R" when Connected, then its peer devices indented 4), a blank line after
 * each resource. Exit codes: lib/drbdadm.h.
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
#include "lib/drbdadm.h"
#include "fence.h"
#include "fence_drbd.h"

#define WHY_MAX 400
#define STATE_MAX 32

/* Everything copied: a reload may swap the configuration while drbdadm runs. */
struct fence_op {
	bool dry_run;
	char resource[CONF_STR_MAX];
	char peer[HAX_NAME_MAX];
	struct drbdadm_run *run;
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

/* ---- the fence: drbdadm status, then the check ---------------------------------------- */

static void on_status(void *opaque, int result, const char *msg, const char *output)
{
	struct fence_op *op = opaque;
	fence_done_fn done = op->done;
	void *arg = op->opaque;
	char why[WHY_MAX], line[CONF_STR_MAX + WHY_MAX + 16];
	bool check = !op->dry_run;
	int r = result;

	if (result == 0 && check) {
		r = fence_drbd_check_status(output, op->resource, op->peer, why, sizeof(why));
		snprintf(line, sizeof(line), "drbd %s: %s", op->resource, why);
		msg = line;
	}
	free(op);
	done(arg, r, msg);
}

static int drbd_start(const struct hax_conf *conf, const struct conf_fence *dev,
		      const struct fence_target *t, bool dry_run, fence_done_fn done, void *opaque,
		      struct fence_op **out)
{
	struct fence_op *op;
	int r;

	(void)conf;
	if (!dev || !t || !t->host || !hax_valid_name(t->host) || !done || !out)
		return -EINVAL;
	op = hax_xcalloc(1, sizeof(*op));
	if (hax_strlcpy(op->peer, t->host, sizeof(op->peer)) < 0 ||
	    hax_strlcpy(op->resource, dev->resource, sizeof(op->resource)) < 0) {
		free(op);
		return -ENAMETOOLONG;
	}
	op->dry_run = dry_run;
	op->done = done;
	op->opaque = opaque;
	r = drbdadm_start(dev->drbdadm, "status", dev->resource, dev->timeout_ms, on_status, op,
			  &op->run);
	if (r < 0) {
		free(op);
		return r;
	}
	*out = op;
	return 0;
}

static void drbd_cancel(struct fence_op *op)
{
	if (!op)
		return;
	drbdadm_cancel(op->run);
	free(op);
}

const struct fence_driver fence_drbd_driver = {
    .kind = CONF_FENCE_DRBD,
    .name = "drbd",
    .start = drbd_start,
    .cancel = drbd_cancel,
};
