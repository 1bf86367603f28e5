/*
 * The watchdog "fence": self-fencing. The lost host's own watchdog resets it once haxd
 * there stops feeding it (it stops when it has lost quorum and still runs domains), so
 * the leader cannot confirm anything: it waits the watchdog's timeout plus a margin
 * and then treats the host as fenced. This is the one place hax assumes death after a
 * timeout, and only because the operator chose watchdog fencing for that host.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "../haxd/loop.h"
#include "fence.h"

/* Beyond the device's timeout: scheduling delays on the lost host and on us. */
#define WATCHDOG_MARGIN_MS 5000

struct fence_op {
	hax_timer_t timer;
	fence_done_fn done;
	void *opaque;
	char msg[256];
};

static void expired(void *data)
{
	struct fence_op *op = data;
	fence_done_fn done = op->done;
	void *opaque = op->opaque;
	char msg[256];

	snprintf(msg, sizeof(msg), "%s", op->msg);
	free(op);
	done(opaque, 0, msg);
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
