/*
 * drbdadm on the loop (drbdadm.h): one child with a deadline, its exit code turned into
 * an errno the callers can tell apart and DRBD's own reason into one line.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "child.h"
#include "drbdadm.h"
#include "loop.h"
#include "util.h"

#define MSG_MAX 512
#define LINE_MAX_SHOWN 200
#define CMD_MAX 16
#define RESOURCE_MAX 256

/* Everything copied: a reload may swap the configuration while drbdadm runs. */
struct drbdadm_run {
	char drbdadm[PATH_MAX];
	char cmd[CMD_MAX];
	char resource[RESOURCE_MAX];
	uint64_t timeout_ms;
	char *argv[4];
	hax_timer_t kick;
	struct child_run *child;
	drbdadm_done_fn done;
	void *opaque;
};

/* Report once and forget run; done() may start the next step at once. */
static void __attribute__((format(printf, 4, 5)))
finish(struct drbdadm_run *run, int result, const char *output, const char *fmt, ...)
{
	drbdadm_done_fn done = run->done;
	void *opaque = run->opaque;
	char msg[MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	free(run);
	done(opaque, result, msg, output);
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
	struct drbdadm_run *run = opaque;
	char line[LINE_MAX_SHOWN + 1];

	run->child = NULL;
	if (result == -ETIMEDOUT) {
		finish(run, result, output, "drbd %s: drbdadm %s gave no answer within %" PRIu64 " ms",
		       run->resource, run->cmd, run->timeout_ms);
	} else if (result < 0) {
		finish(run, result, output, "drbd %s: drbdadm %s: %s", run->resource, run->cmd,
		       strerror(-result));
	} else if (exit_status != 0) {
		reason_line(output, line, sizeof(line));
		finish(run, exit_errno(exit_status, output), output,
		       "drbd %s: drbdadm %s failed (exit %d): %s", run->resource, run->cmd,
		       exit_status, line);
	} else if (strcmp(run->cmd, "primary") == 0) {
		finish(run, 0, output, "drbd %s: Primary on this host", run->resource);
	} else if (strcmp(run->cmd, "secondary") == 0) {
		finish(run, 0, output, "drbd %s: Secondary on this host", run->resource);
	} else {
		finish(run, 0, output, "drbd %s: drbdadm %s answers", run->resource, run->cmd);
	}
}

/* First step, from the loop, so that even a drbdadm that cannot run reaches done()
 * with a reason the caller can show. */
static void on_kick(void *data)
{
	struct drbdadm_run *run = data;
	int r;

	run->kick = 0;
	run->argv[0] = run->drbdadm;
	run->argv[1] = run->cmd;
	run->argv[2] = run->resource;
	run->argv[3] = NULL;
	r = child_run(run->argv, NULL, run->timeout_ms, on_child, run, &run->child);
	if (r < 0)
		finish(run, r, "", "drbd %s: cannot run %s: %s", run->resource, run->drbdadm,
		       strerror(-r));
}

bool drbdadm_valid_resource(const char *s)
{
	if (!s || !s[0] || s[0] == '-' || strlen(s) >= RESOURCE_MAX)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

int drbdadm_start(const char *drbdadm, const char *cmd, const char *resource,
		  uint64_t timeout_ms, drbdadm_done_fn done, void *opaque, struct drbdadm_run **out)
{
	struct drbdadm_run *run;
	int r;

	if (!drbdadm || !drbdadm[0])
		drbdadm = DRBDADM_DEFAULT_PATH;
	if (drbdadm[0] != '/' || !cmd || !cmd[0] || !drbdadm_valid_resource(resource) ||
	    timeout_ms == 0 || !done || !out)
		return -EINVAL;
	run = hax_xcalloc(1, sizeof(*run));
	if (hax_strlcpy(run->drbdadm, drbdadm, sizeof(run->drbdadm)) < 0 ||
	    hax_strlcpy(run->cmd, cmd, sizeof(run->cmd)) < 0) {
		free(run);
		return -ENAMETOOLONG;
	}
	hax_strlcpy(run->resource, resource, sizeof(run->resource));
	run->timeout_ms = timeout_ms;
	run->done = done;
	run->opaque = opaque;
	r = hax_timer_add(0, on_kick, run, &run->kick);
	if (r < 0) {
		free(run);
		return r;
	}
	*out = run;
	return 0;
}

int drbdadm_promote(const char *drbdadm, const char *resource, drbdadm_done_fn done,
		    void *opaque, struct drbdadm_run **out)
{
	return drbdadm_start(drbdadm, "primary", resource, DRBDADM_PROMOTE_TIMEOUT_MS, done,
			     opaque, out);
}

int drbdadm_demote(const char *drbdadm, const char *resource, drbdadm_done_fn done,
		   void *opaque, struct drbdadm_run **out)
{
	return drbdadm_start(drbdadm, "secondary", resource, DRBDADM_DEMOTE_TIMEOUT_MS, done,
			     opaque, out);
}

void drbdadm_cancel(struct drbdadm_run *run)
{
	if (!run)
		return;
	hax_timer_del(run->kick);
	child_cancel(run->child);
	free(run);
}
