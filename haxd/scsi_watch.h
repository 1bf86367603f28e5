/*
 * Is SCSI fencing in force? (issue 17) A target that fails over to its passive node, or
 * a tgtd that restarts, comes back with no registration and no reservation (tgt has no
 * APTPL): fencing is silently undone, and a fenced host that is still alive can write
 * again. Every haxd checks each storage a scsi fence device names with
 * `hax-fence-scsi verify` every [storage] check_interval, as a child on the loop.
 *
 * What a result is used for:
 *  - our own key missing ("in force, but not registered", or not in force at all): the
 *    caller registers again if, and only if, this host is a member in good standing
 *    (node.c, the rejoin rule), which also takes the reservation back;
 *  - the leader starts no domain whose definition names a storage where fencing is not
 *    known to be in force (scsi_watch_start_ok);
 *  - status and check_haxd show each storage's verdict.
 */
#ifndef HAX_SCSI_WATCH_H
#define HAX_SCSI_WATCH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../conf/conf.h"

enum scsi_verdict {
	SCSI_UNKNOWN,       /* not checked yet, or the check failed (target unreachable) */
	SCSI_IN_FORCE,      /* reservation held, no fenced key listed, ours listed */
	SCSI_UNREGISTERED,  /* in force, but our own key is not listed */
	SCSI_LOST,          /* no usable reservation, or a fenced host's key is listed */
};

/* Called from the loop after each finished check of storage i (index into conf).
 * need_register: our own key is missing or no reservation is held, so a registration
 * of ours (which reserves when nobody does) would help; not when fencing is lost only
 * because a fenced host's key is listed. */
typedef void (*scsi_watch_fn)(int storage, enum scsi_verdict v, bool need_register,
			      void *opaque);

/* Watch every storage some scsi fence device names, as this host (key from nodeid, IQN).
 * conf must outlive the watch (a reload calls scsi_watch_stop then start again). */
void scsi_watch_start(const struct hax_conf *conf, uint32_t nodeid, const char *iqn,
		      scsi_watch_fn fn, void *opaque);
void scsi_watch_stop(void);

/* Start the checks that are due. absent: keys of hosts fenced by a scsi level, which
 * must not be listed for fencing to count as in force. */
void scsi_watch_tick(const uint64_t *absent, int nabsent);

/* Check every storage at the next tick (a hint that something changed). */
void scsi_watch_kick(void);

/* May a domain with this definition be started? No when it names (by target IQN) a
 * storage where fencing is not known to be in force: lost, unknown, or not confirmed
 * within the last three intervals. why gets the reason. */
bool scsi_watch_start_ok(const char *definition, char *why, size_t len);

/* Storages where fencing is not known to be in force (for check_haxd). */
int scsi_watch_unfenced(void);

/* [{"name","fencing":"in force"|"unregistered"|"lost"|"unknown","since_ns","detail",
 *   "checked_ns"}] (new reference; [] when no storage is watched). */
json_t *scsi_watch_json(void);

const char *scsi_verdict_name(enum scsi_verdict v);

#endif
