/*
 * This host's watchdog device (/dev/watchdog in production, the lab's stand-in file in
 * the lab): the self-fencing half of watchdog fencing. Opening arms it; every write
 * feeds it; writing 'V' before close disarms it (the Linux "magic close"); closing
 * without it leaves it armed, so that it fires unless someone opens and feeds it again.
 */
#ifndef HAX_WATCHDOG_H
#define HAX_WATCHDOG_H

#include <stdbool.h>
#include <stdint.h>

/* What the leader waits beyond a host's watchdog timeout before it counts the host as
 * reset: scheduling delays on the lost host and on the leader, and the time the lost
 * host may still feed its device after its last fresh evidence of quorum. */
#define WATCHDOG_MARGIN_MS 5000
/* How often a host feeds its device, and how old its last evidence of quorum (one of
 * its own messages delivered back by corosync in a quorate view) may be for a feed. */
#define WATCHDOG_TEND_MS 1000
#define WATCHDOG_EVIDENCE_MS 3000
_Static_assert(WATCHDOG_EVIDENCE_MS + WATCHDOG_TEND_MS < WATCHDOG_MARGIN_MS,
	       "a host may feed its watchdog after the leader's margin began");

struct watchdog;

/* Arm: open path and set its timeout. For a real device (a character device) the
 * timeout is set with WDIOC_SETTIMEOUT and read back with WDIOC_GETTIMEOUT; for the
 * lab's stand-in (a regular file) it is read from PATH.timeout (milliseconds), which
 * the stand-in writes. 0 with *out, or -errno (-EBUSY: another process holds it). A
 * device whose timeout cannot be set or read is still armed: see watchdog_timeout. */
int watchdog_open(const char *path, uint64_t timeout_ms, struct watchdog **out);
/* The timeout the device accepted, in ms (what it really waits before it fires): 0
 * with *ms, or -errno if it is unknown. */
int watchdog_timeout(const struct watchdog *w, uint64_t *ms);
/* Feed; -errno if the write failed (the device will then fire). */
int watchdog_feed(struct watchdog *w);
/* Disarm (magic close) and free; accepts NULL. */
void watchdog_close(struct watchdog *w);
/* Close without the magic 'V' and free: the device stays armed and fires after its
 * timeout unless it is opened and fed again (haxd stopping while domains run); accepts
 * NULL. */
void watchdog_leave(struct watchdog *w);

#endif
