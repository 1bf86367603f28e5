/*
 * drbdadm as a child on the one loop, with a deadline: the promotion and demotion of a
 * DRBD resource that the agent runs around a DRBD-backed domain, and the `status` run
 * that the drbd fence driver (fencing/fence_drbd.c) checks. Exit codes are drbd-utils
 * 9's: 1 for a resource not in drbd.conf ("'RES' not defined in your config (for this
 * host)."), 10 for one that is not up, 11 for a refused state change, 20 when drbdsetup
 * could not run (module missing).
 */
#ifndef HAX_DRBDADM_H
#define HAX_DRBDADM_H

#include <stdbool.h>
#include <stdint.h>

#define DRBDADM_DEFAULT_PATH "/usr/sbin/drbdadm"
/* drbdadm primary may wait: for the peers' answers (drbdadm counts it among its
 * long-running commands) and, with "fencing resource-and-stonith" and a peer not known
 * Outdated, for DRBD's fence-peer handler, hax-fence-peer, which waits up to 90 s by
 * default for haxd to confirm a fresh fence. Beyond this it is stuck, not slow. */
#define DRBDADM_PROMOTE_TIMEOUT_MS 120000
#define DRBDADM_DEMOTE_TIMEOUT_MS 30000

struct drbdadm_run;

/* Exactly once per run (unless cancelled): result 0 when drbdadm exited 0, else
 * -ETIMEDOUT, -ENOENT (resource not in drbd.conf), -ENXIO (not up), -EPERM (the kernel
 * refused the state change), -EIO (other exits) or the -errno of starting it. msg is one
 * line "drbd RES: ..." with DRBD's own reason on failure; output is drbdadm's stdout and
 * stderr ("" when it did not run). done may free whatever holds the run. */
typedef void (*drbdadm_done_fn)(void *opaque, int result, const char *msg, const char *output);

/* Whether a resource name may reach drbdadm's argv: no option look-alike, no blanks. */
bool drbdadm_valid_resource(const char *resource);

/* Run `DRBDADM CMD RESOURCE` (drbdadm NULL or "": the default path) from the loop, so
 * that even a drbdadm that cannot run reaches done() with a reason. 0 with *out, or
 * -EINVAL (a relative drbdadm path, a bad resource, no deadline), -ENAMETOOLONG. */
int drbdadm_start(const char *drbdadm, const char *cmd, const char *resource,
		  uint64_t timeout_ms, drbdadm_done_fn done, void *opaque, struct drbdadm_run **out);

/* `drbdadm primary RESOURCE`: call it only after the fence of every host that may hold
 * the resource is confirmed; DRBD's own refusal (a disk not UpToDate, another Primary)
 * is the last guard, not the first. done(0) = this host is Primary now. */
int drbdadm_promote(const char *drbdadm, const char *resource, drbdadm_done_fn done,
		    void *opaque, struct drbdadm_run **out);

/* `drbdadm secondary RESOURCE` once a domain has left this host (stopped, destroyed,
 * migrated away), so that the next host can promote it. DRBD refuses while the device is
 * still open (exit 11, -EPERM). */
int drbdadm_demote(const char *drbdadm, const char *resource, drbdadm_done_fn done,
		   void *opaque, struct drbdadm_run **out);

/* Kill drbdadm and forget the run: no done(). Accepts NULL. */
void drbdadm_cancel(struct drbdadm_run *run);

#endif
