/*
 * Fence driver "redfish": power the victim off through its BMC's Redfish service. The
 * HTTP work is done by hax-fence-redfish, run as a child (child.h) under the device
 * timeout: libcurl's easy calls block, and the loop must not.
 *
 * Fence: `hax-fence-redfish off`: ComputerSystem.Reset ForceOff, then the tool polls the
 * system's PowerState until it reads Off. Only its exit 0 is a confirmed fence; anything
 * else (an error, a timeout, a BMC that accepted the reset but still says On) fails with
 * the tool's own one-line reason. Dry run: `monitor` (the service root answers), then
 * `status` (the login works and the system is found; on or off are both fine); off is
 * never sent. Both steps share the device timeout.
 *
 * Configuration ([fence NAME] with driver = redfish): url (https://HOST[:PORT]),
 * username, password_file, ssl_verify (default yes; no = --insecure), plug (the system:
 * a path like /redfish/v1/Systems/1 or an id; unset = the BMC's only system), timeout.
 * The password is read from password_file at each fence and handed to the tool on its
 * stdin: never in argv, a log line or a message.
 *
 * The tool is $HAX_FENCE_REDFISH, else hax-fence-redfish next to haxd (a build tree, or
 * the installed sbindir), else HAX_SBINDIR.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
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

#ifndef HAX_SBINDIR
#define HAX_SBINDIR "/usr/sbin"
#endif

#define TOOL_NAME "hax-fence-redfish"
#define PASSWORD_MAX 512
#define MSG_MAX 512
#define LINE_MAX_SHOWN 300
/* The tool gets the time left minus this much (at most), so that it gives up by itself
 * and says why before the child deadline kills it silently. */
#define TOOL_MARGIN_MAX_MS 2000
#define ARGV_MAX 16

/* hax-fence-redfish's status answer for "off" (the fence-agents convention). */
#define STATUS_OFF 2
#define EXIT_USAGE 2

enum step { STEP_OFF, STEP_MONITOR, STEP_STATUS };

static const char *const step_cmd[] = {
    [STEP_OFF] = "off",
    [STEP_MONITOR] = "monitor",
    [STEP_STATUS] = "status",
};

struct fence_op {
	char tool[PATH_MAX];
	char host[HAX_NAME_MAX];
	char url[CONF_STR_MAX];
	char username[CONF_STR_MAX];
	char system[CONF_STR_MAX];
	char password_file[PATH_MAX];
	char password[PASSWORD_MAX]; /* zeroed before the op is freed */
	bool insecure, dry_run;
	enum step step;
	uint64_t timeout_ms, deadline_ns; /* the device's, shared by the steps */
	char tool_timeout[24];
	char *argv[ARGV_MAX];
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
	op_free(op);
	done(opaque, result, msg);
}

/* The command line of one step: names, the URL and a duration; never the password. */
static void build_argv(struct fence_op *op, uint64_t tool_ms)
{
	int n = 0;

	snprintf(op->tool_timeout, sizeof(op->tool_timeout), "%" PRIu64 "ms", tool_ms);
	op->argv[n++] = op->tool;
	op->argv[n++] = (char *)step_cmd[op->step];
	op->argv[n++] = "--url";
	op->argv[n++] = op->url;
	if (op->system[0]) {
		op->argv[n++] = "--system";
		op->argv[n++] = op->system;
	}
	if (op->username[0]) {
		op->argv[n++] = "--username";
		op->argv[n++] = op->username;
	}
	if (op->insecure)
		op->argv[n++] = "--insecure";
	op->argv[n++] = "--timeout";
	op->argv[n++] = op->tool_timeout;
	op->argv[n] = NULL;
}

static void on_child(void *opaque, int result, int exit_status, const char *output);

static void run_step(struct fence_op *op, enum step step)
{
	uint64_t now = hax_now_mono_ns(), left_ms, margin;
	char *text = NULL;
	int r;

	op->step = step;
	if (now >= op->deadline_ns) {
		finish(op, -ETIMEDOUT, "redfish %s of %s: device timeout (%" PRIu64 " ms) reached",
		       step_cmd[step], op->host, op->timeout_ms);
		return;
	}
	left_ms = (op->deadline_ns - now + 999999) / 1000000;
	margin = left_ms / 10 < TOOL_MARGIN_MAX_MS ? left_ms / 10 : TOOL_MARGIN_MAX_MS;
	build_argv(op, left_ms - margin ? left_ms - margin : 1);
	/* Without --username the tool reads no password, and gets none. */
	if (op->username[0]) {
		size_t len = strlen(op->password) + 2;

		text = hax_xmalloc(len);
		snprintf(text, len, "%s\n", op->password);
	}
	r = child_run(op->argv, text, left_ms, on_child, op, &op->child);
	if (text) {
		explicit_bzero(text, strlen(text));
		free(text);
	}
	if (r < 0)
		finish(op, r, "redfish %s of %s: cannot run %s: %s", step_cmd[step], op->host,
		       op->tool, strerror(-r));
}

/* A finished status step (dry run): on or off, the device works either way. */
static void after_status(struct fence_op *op, int exit_status, const char *line, const char *output)
{
	if (exit_status == 0)
		finish(op, 0, "redfish: the BMC answers; %s is on (%s)", op->host, line);
	else if (exit_status == STATUS_OFF && strstr(output, "Status: OFF"))
		finish(op, 0, "redfish: the BMC answers; %s is off (%s)", op->host, line);
	else if (exit_status == EXIT_USAGE)
		finish(op, -EINVAL, "redfish status of %s: " TOOL_NAME " refused its arguments: %s",
		       op->host, line);
	else
		finish(op, -EIO, "redfish status of %s: exit %d: %s", op->host, exit_status, line);
}

static void on_child(void *opaque, int result, int exit_status, const char *output)
{
	struct fence_op *op = opaque;
	const char *cmd = step_cmd[op->step];
	char line[LINE_MAX_SHOWN + 1];

	op->child = NULL;
	if (result == -ETIMEDOUT) {
		finish(op, result,
		       "redfish %s of %s: no answer within the device timeout (%" PRIu64 " ms)",
		       cmd, op->host, op->timeout_ms);
		return;
	}
	if (result < 0) {
		finish(op, result, "redfish %s of %s: %s", cmd, op->host, strerror(-result));
		return;
	}
	fence_last_line(output, op->password, line, sizeof(line));
	if (op->step == STEP_STATUS)
		after_status(op, exit_status, line, output);
	else if (exit_status == EXIT_USAGE)
		finish(op, -EINVAL, "redfish %s of %s: " TOOL_NAME " refused its arguments: %s",
		       cmd, op->host, line);
	else if (exit_status != 0)
		finish(op, -EIO, "redfish %s of %s: exit %d: %s", cmd, op->host, exit_status, line);
	else if (op->step == STEP_OFF)
		finish(op, 0, "redfish: %s is off (%s)", op->host, line);
	else
		run_step(op, STEP_STATUS);
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
		finish(op, r, "redfish: %s", err);
		return;
	}
	run_step(op, op->dry_run ? STEP_MONITOR : STEP_OFF);
}

/* Credentials in the URL (https://user:pass@host) would be on the tool's command line. */
static bool url_has_userinfo(const char *url)
{
	const char *auth = strstr(url, "://");

	auth = auth ? auth + 3 : url;
	return memchr(auth, '@', strcspn(auth, "/?#")) != NULL;
}

static int copy_dev(struct fence_op *op, const struct conf_fence *dev, const char *host)
{
	if (hax_strlcpy(op->url, dev->url, sizeof(op->url)) < 0 ||
	    hax_strlcpy(op->username, dev->username, sizeof(op->username)) < 0 ||
	    hax_strlcpy(op->system, dev->plug, sizeof(op->system)) < 0 ||
	    hax_strlcpy(op->password_file, dev->password_file, sizeof(op->password_file)) < 0 ||
	    hax_strlcpy(op->host, host, sizeof(op->host)) < 0)
		return -ENAMETOOLONG;
	op->insecure = !dev->ssl_verify;
	return 0;
}

static int redfish_start(const struct hax_conf *conf, const struct conf_fence *dev,
			 const struct fence_target *t, bool dry_run, fence_done_fn done,
			 void *opaque, struct fence_op **out)
{
	struct fence_op *op;
	int r;

	(void)conf;
	if (!dev || !dev->url[0] || url_has_userinfo(dev->url) || !t || !t->host || !t->host[0] ||
	    !done || dev->timeout_ms == 0)
		return -EINVAL;
	op = hax_xcalloc(1, sizeof(*op));
	r = copy_dev(op, dev, t->host);
	if (r < 0)
		goto err_free;
	fence_find_tool(TOOL_NAME, "HAX_FENCE_REDFISH", op->tool, sizeof(op->tool));
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

static void redfish_cancel(struct fence_op *op)
{
	if (!op)
		return;
	hax_timer_del(op->kick);
	child_cancel(op->child);
	op_free(op);
}

const struct fence_driver fence_redfish_driver = {
    .kind = CONF_FENCE_REDFISH,
    .name = "redfish",
    .start = redfish_start,
    .cancel = redfish_cancel,
};
