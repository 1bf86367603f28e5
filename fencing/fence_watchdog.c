/*
 * The watchdog "fence": self-fencing. The lost host's own watchdog resets it once haxd
 * there stops feeding it (it stops when it has lost quorum and still runs domains), so
 * the leader cannot confirm anything: it waits the watchdog's timeout plus a margin
 * and then treats the host as fenced. This is the one place hax assumes death after a
 * timeout, and only because the operator chose watchdog fencing for that host; and only
 * for a host that reported its device armed with a timeout no longer than the one the
 * wait assumes (a host whose haxd could not open the device, or whose device took a
 * longer timeout, may still be running its domains when the wait ends).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/loop.h"
#include "watchdog.h"
#include "fence.h"

struct fence_op {
	hax_timer_t timer;
	int result;
	fence_done_fn done;
	void *opaque;
	char msg[256];
};

static void expired(void *data)
{
	struct fence_op *op = data;
	fence_done_fn done = op->done;
	void *opaque = op->opaque;
	int result = op->result;
	char msg[256];

	snprintf(msg, sizeof(msg), "%s", op->msg);
	free(op);
	done(opaque, result, msg);
}

/* Whether waiting proves anything: the target must have said its device is armed, with
 * a timeout no longer than ours. The reason goes into msg otherwise. */
static bool wait_trusted(const struct conf_fence *dev, const struct fence_target *t,
			 char *msg, size_t len)
{
	if (t->watchdog_ms == 0) {
		snprintf(msg, len, "watchdog of %s: not reported armed (its haxd could not open its device, or never said it did): waiting proves nothing",
			 t->host);
		return false;
	}
	if (t->watchdog_ms > dev->watchdog_timeout_ms) {
		snprintf(msg, len, "watchdog of %s: armed with %llu ms, longer than the %llu ms this wait assumes",
			 t->host, (unsigned long long)t->watchdog_ms,
			 (unsigned long long)dev->watchdog_timeout_ms);
		return false;
	}
	return true;
}

static int wd_start(const struct hax_conf *conf, const struct conf_fence *dev,
		    const struct fence_target *t, bool dry_run, fence_done_fn done, void *opaque,
		    struct fence_op **out)
{
	struct fence_op *op;
	uint64_t wait_ms;
	int r;

	(void)conf;
	if (!dev || !t || !t->host || !done)
		return -EINVAL;
	op = hax_xcalloc(1, sizeof(*op));
	op->done = done;
	op->opaque = opaque;
	wait_ms = dry_run ? 0 : dev->watchdog_timeout_ms + WATCHDOG_MARGIN_MS;
	snprintf(op->msg, sizeof(op->msg),
		 dry_run ? "watchdog: nothing to check from here"
			 : "watchdog of %s: %llu ms passed (timeout %llu ms + margin) since fencing began",
		 t->host, (unsigned long long)wait_ms, (unsigned long long)dev->watchdog_timeout_ms);
	/* Refused from the loop like any other outcome, so the reason reaches the record. */
	if (!dry_run && !wait_trusted(dev, t, op->msg, sizeof(op->msg))) {
		op->result = -ENOLINK;
		wait_ms = 0;
	}
	r = hax_timer_add(wait_ms, expired, op, &op->timer);
	if (r < 0) {
		free(op);
		return r;
	}
	*out = op;
	return 0;
}

static void wd_cancel(struct fence_op *op)
{
	if (!op)
		return;
	hax_timer_del(op->timer);
	free(op);
}

const struct fence_driver fence_watchdog_driver = {
	.kind = CONF_FENCE_WATCHDOG,
	.name = "watchdog",
	.start = wd_start,
	.cancel = wd_cancel,
};
