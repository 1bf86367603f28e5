/*
 * Fence drivers: one file per driver, each exporting a const struct fence_driver,
 * listed in one registry (fencing/fence.c). A driver fences one host with one device
 * ([fence NAME] in haxd.conf); levels and retries are the leader's business. Every
 * operation is asynchronous on the one loop, bounded by the device's timeout, and ends in
 * exactly one done() call unless cancelled first. Passwords are read from password_file
 * when needed and never appear in argv, logs, messages or status.
 */
#ifndef HAX_FENCE_H
#define HAX_FENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../conf/conf.h"

struct fence_target {
	const char *host;          /* the victim's name, as in [host NAME] */
	uint32_t nodeid;
	/* The watchdog timeout the target last reported its device armed with (ms), as the
	 * replicated state records it; 0 = not reported armed. */
	uint64_t watchdog_ms;
};

struct fence_op;

/* result: 0 = the target is confirmed fenced (or, dry run: the device answers);
 * -errno otherwise, with a one-line human reason in msg (never a secret). */
typedef void (*fence_done_fn)(void *opaque, int result, const char *msg);

struct fence_driver {
	enum conf_fence_driver kind;
	const char *name;
	/* Start fencing t with dev (dry_run: check the device and the target only, change
	 * nothing). 0 with *op, or -errno (no done() then). */
	int (*start)(const struct hax_conf *conf, const struct conf_fence *dev,
		     const struct fence_target *t, bool dry_run, fence_done_fn done, void *opaque,
		     struct fence_op **op);
	/* Stop waiting; kills what the operation started; done() is not called. */
	void (*cancel)(struct fence_op *op);
};

/* The driver for a device kind; NULL if this build has none. */
const struct fence_driver *fence_driver_for(enum conf_fence_driver kind);

/* What the drivers that run a helper program share (fencing/fence.c). */

/* The helper program name: $env if set, else next to haxd (a build tree or the install),
 * else the sbindir default. */
void fence_find_tool(const char *name, const char *env, char *out, size_t len);

/* The first line of path (CR/LF stripped) into out; -errno with a reason in err
 * (unreadable, empty, longer than size - 2). The caller wipes out after use. */
int fence_read_password(const char *path, char *out, size_t size, char *err, size_t errlen);

/* Mask every copy of secret in s, in place. */
void fence_scrub(char *s, const char *secret);

/* A program's last non-empty output line, secret masked, control characters blanked,
 * cut to len: the one-line reason for a log or a fence record. */
void fence_last_line(const char *output, const char *secret, char *line, size_t len);

/* SCSI-3 persistent reservation key of a host: "hax" in the high bytes, nodeid low. */
uint64_t fence_scsi_key(uint32_t nodeid);

#endif
