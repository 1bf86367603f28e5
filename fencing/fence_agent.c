/*
 * Fence driver "agent": any ClusterLabs fence agent (fence_ipmilan, fence_redfish, the
 * lab's fence_lab), spoken to with the fence-agents stdin protocol: one "key=value" line
 * per option on stdin, argv holding only the agent's path, so the password never shows
 * in ps or /proc. Keys sent: action, ip, ipport, username, password, plug (the names
 * fence-agents' fencing.py accepts on stdin; "port" would mean the plug there, so the
 * TCP port goes as "ipport").
 *
 * Fence: action=off (exit 0), then action=status must answer 2 (off); only a confirmed
 * off is success. Dry run: action=monitor (exit 0: the device answers), then
 * action=status answering 0 (on) or 2 (off). Both steps share the device timeout.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/loop.h"
#include "lib/util.h"
#include "lib/child.h"
#include "fence.h"

#define PASSWORD_MAX 512
#define PARAMS_MAX 2048
#define LINE_MAX_SHOWN 200 /* of an agent's output line in a message */

/* fence-agents status exit codes */
#define STATUS_ON 0
#define STATUS_OFF 2

enum step { STEP_OFF, STEP_CONFIRM, STEP_MONITOR, STEP_PROBE };

static const char *const step_action[] = {
    [STEP_OFF] = "off",
    [STEP_CONFIRM] = "status",
    [STEP_MONITOR] = "monitor",
    [STEP_PROBE] = "status",
};

struct fence_op {
	char agent[PATH_MAX];
	const char *prog; /* basename of agent, for messages */
	char host[HAX_NAME_MAX];
	char params[PARAMS_MAX]; /* the key lines other than action and password */
	char password_file[PATH_MAX];
	char password[PASSWORD_MAX]; /* zeroed before the op is freed */
	bool dry_run;
	enum step step;
	uint64_t timeout_ms;
	uint64_t deadline_ns; /* monotonic; all steps share the device timeout */
	hax_timer_t kick;
	struct child_run *child;
	fence_done_fn done;
	void *opaque;
};

static void op_free(struct fence_op *op)
{
	explicit_bzero(op->password, sizeof(op->password));
	free(op);
}

/* Report once and forget op; done() may start the next level at once. */
static void __attribute__((format(printf, 3, 4)))
finish(struct fence_op *op, int result, const char *fmt, ...)
{
	fence_done_fn done = op->done;
	void *opaque = op->opaque;
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	op_free(op);
	done(opaque, result, msg);
}

/* The whole stdin text of one step; it holds the password, so the caller wipes it. */
static char *stdin_text(const struct fence_op *op, const char *action)
{
	size_t len = strlen(op->params) + strlen(op->password) + 64;
	char *t = hax_xmalloc(len);

	snprintf(t, len, "action=%s\n%s%s%s%s", action, op->params,
		 op->password[0] ? "password=" : "", op->password, op->password[0] ? "\n" : "");
	return t;
}

static void fail_exit(struct fence_op *op, int exit_status, const char *output)
{
	char line[LINE_MAX_SHOWN + 1];

	fence_last_line(output, op->password, line, sizeof(line));
	finish(op, -EIO, "%s %s of %s: exit %d: %s", op->prog, step_action[op->step], op->host,
	       exit_status, line);
}

static void on_child(void *opaque, int result, int exit_status, const char *output);

static void run_step(struct fence_op *op, enum step step)
{
	char *argv[] = {op->agent, NULL};
	uint64_t now = hax_now_mono_ns();
	char *text;
	int r;

	op->step = step;
	if (now >= op->deadline_ns) {
		finish(op, -ETIMEDOUT, "%s %s of %s: device timeout (%llu ms) reached", op->prog,
		       step_action[step], op->host, (unsigned long long)op->timeout_ms);
		return;
	}
	text = stdin_text(op, step_action[step]);
	r = child_run(argv, text, (op->deadline_ns - now + 999999) / 1000000, on_child, op,
		      &op->child);
	explicit_bzero(text, strlen(text));
	free(text);
	if (r < 0)
		finish(op, r, "%s %s of %s: cannot run %s: %s", op->prog, step_action[step],
		       op->host, op->agent, strerror(-r));
}

static void after_status(struct fence_op *op, int exit_status, const char *output)
{
	const char *state = exit_status == STATUS_OFF ? "off" : "on";

	if (op->step == STEP_CONFIRM && exit_status == STATUS_OFF)
		finish(op, 0, "%s: %s is off (off, confirmed by status)", op->prog, op->host);
	else if (op->step == STEP_CONFIRM && exit_status == STATUS_ON)
		finish(op, -EIO, "%s status of %s after off: still on", op->prog, op->host);
	else if (exit_status == STATUS_ON || exit_status == STATUS_OFF)
		finish(op, 0, "%s: the device answers; %s is %s", op->prog, op->host, state);
	else
		fail_exit(op, exit_status, output);
}

static void on_child(void *opaque, int result, int exit_status, const char *output)
{
	struct fence_op *op = opaque;

	op->child = NULL;
	if (result == -ETIMEDOUT) {
		finish(op, result, "%s %s of %s: no answer within the device timeout (%llu ms)",
		       op->prog, step_action[op->step], op->host,
		       (unsigned long long)op->timeout_ms);
		return;
	}
	if (result < 0) {
		finish(op, result, "%s %s of %s: %s", op->prog, step_action[op->step], op->host,
		       strerror(-result));
		return;
	}
	if (op->step == STEP_CONFIRM || op->step == STEP_PROBE)
		after_status(op, exit_status, output);
	else if (exit_status != 0)
		fail_exit(op, exit_status, output);
	else
		run_step(op, op->step == STEP_OFF ? STEP_CONFIRM : STEP_PROBE);
}

/* First step, from the loop: every failure from here on reaches done() with a message
 * naming its cause, rather than a bare errno out of start(). */
static void on_kick(void *data)
{
	struct fence_op *op = data;
	char err[PATH_MAX + 128];
	int r;

	op->kick = 0;
	r = op->password_file[0] ? fence_read_password(op->password_file, op->password,
							   sizeof(op->password), err, sizeof(err))
				 : 0;
	if (r < 0) {
		finish(op, r, "%s: %s", op->prog, err);
		return;
	}
	run_step(op, op->dry_run ? STEP_MONITOR : STEP_OFF);
}

/* One "key=value" line; a value with a line break would smuggle in other keys. */
static int add_param(char *params, const char *key, const char *val)
{
	size_t used = strlen(params);
	int n;

	if (!val[0])
		return 0;
	if (strpbrk(val, "\r\n"))
		return -EINVAL;
	n = snprintf(params + used, PARAMS_MAX - used, "%s=%s\n", key, val);
	return n < 0 || (size_t)n >= PARAMS_MAX - used ? -ENAMETOOLONG : 0;
}

static int build_params(struct fence_op *op, const struct conf_fence *dev)
{
	char port[16] = "";
	int r;

	if (dev->port)
		snprintf(port, sizeof(port), "%u", dev->port);
	r = add_param(op->params, "ip", dev->ip);
	if (!r)
		r = add_param(op->params, "ipport", port);
	if (!r)
		r = add_param(op->params, "username", dev->username);
	if (!r)
		r = add_param(op->params, "plug", dev->plug[0] ? dev->plug : op->host);
	return r;
}

static int agent_start(const struct hax_conf *conf, const struct conf_fence *dev,
		       const struct fence_target *t, bool dry_run, fence_done_fn done, void *opaque,
		       struct fence_op **out)
{
	struct fence_op *op;
	const char *slash;
	int r;

	(void)conf;
	if (!dev->agent[0] || !t || !t->host || !t->host[0] || !done || dev->timeout_ms == 0)
		return -EINVAL;
	op = hax_xcalloc(1, sizeof(*op));
	if (hax_strlcpy(op->agent, dev->agent, sizeof(op->agent)) < 0 ||
	    hax_strlcpy(op->host, t->host, sizeof(op->host)) < 0 ||
	    hax_strlcpy(op->password_file, dev->password_file, sizeof(op->password_file)) < 0) {
		r = -ENAMETOOLONG;
		goto err_free;
	}
	slash = strrchr(op->agent, '/');
	op->prog = slash ? slash + 1 : op->agent;
	r = build_params(op, dev);
	if (r < 0)
		goto err_free;
	op->dry_run = dry_run;
	op->timeout_ms = dev->timeout_ms;
	op->deadline_ns = hax_now_mono_ns() + dev->timeout_ms * 1000000ull;
	op->done = done;
	op->opaque = opaque;
	r = hax_timer_add(0, on_kick, op, &op->kick);
	if (r < 0)
		goto err_free;
	*out = op;
	return 0;

err_free:
	op_free(op);
	return r;
}

static void agent_cancel(struct fence_op *op)
{
	if (!op)
		return;
	hax_timer_del(op->kick);
	child_cancel(op->child);
	op_free(op);
}

const struct fence_driver fence_agent_driver = {
    .kind = CONF_FENCE_AGENT,
    .name = "agent",
    .start = agent_start,
    .cancel = agent_cancel,
};
