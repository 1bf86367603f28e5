/*
 * The scsi fence driver (fencing/fence_scsi.c) against stand-ins for the child runner
 * and the loop: the command lines it builds for hax-fence-scsi, how it reads the tool's
 * exit and output, its messages, and cancel. The real tool is exercised against a real
 * target by scsi_tool_test.sh.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/child.h"
#include "fencing/fence.h"
#include "fencing/fence_scsi.h"
#include "lib/loop.h"

#define MAX_RUNS 8
#define MAX_ARGS 160
#define TOOL "/opt/hax-test/hax-fence-scsi"

/* fence.c's registry also lists the agent driver; this test does not need it. */
const struct fence_driver fence_agent_driver = {.kind = CONF_FENCE_AGENT, .name = "agent"};

/* ---- the loop: one pending timer at a time, fired by the test ---- */

static hax_timer_fn timer_fn;
static void *timer_data;
static hax_timer_t timer_id;

int hax_timer_add(uint64_t ms, hax_timer_fn fn, void *data, hax_timer_t *t)
{
	(void)ms;
	timer_fn = fn;
	timer_data = data;
	*t = ++timer_id;
	return 0;
}

void hax_timer_del(hax_timer_t t)
{
	if (t && t == timer_id)
		timer_fn = NULL;
}

int hax_child_watch(int pid, hax_child_fn fn, void *data)
{
	(void)pid, (void)fn, (void)data;
	return -ENOSYS;
}

void hax_child_unwatch(int pid)
{
	(void)pid;
}

void hax_log(int prio, const char *fmt, ...)
{
	(void)prio, (void)fmt;
}

static void fire_timer(void)
{
	hax_timer_fn fn = timer_fn;

	assert_non_null(fn);
	timer_fn = NULL;
	fn(timer_data);
}

/* ---- the child runner: records each command line; the test completes it ---- */

struct child_run {
	int n;
};

static struct run {
	char *argv[MAX_ARGS];
	uint64_t timeout_ms;
	child_done_fn done;
	void *opaque;
	struct child_run handle;
} runs[MAX_RUNS];
static int nruns, ncancelled, run_error;

int child_run(char *const argv[], const char *stdin_text, uint64_t timeout_ms, child_done_fn done,
	      void *opaque, struct child_run **out)
{
	struct run *r = &runs[nruns];
	int i;

	assert_null(stdin_text);
	if (run_error)
		return run_error;
	assert_true(nruns < MAX_RUNS);
	for (i = 0; argv[i]; i++) {
		assert_true(i < MAX_ARGS - 1);
		r->argv[i] = strdup(argv[i]);
	}
	r->argv[i] = NULL;
	r->timeout_ms = timeout_ms;
	r->done = done;
	r->opaque = opaque;
	r->handle.n = nruns++;
	*out = &r->handle;
	return 0;
}

void child_cancel(struct child_run *c)
{
	if (c)
		ncancelled++;
}

static void complete(int result, int exit_status, const char *output)
{
	struct run *r = &runs[nruns - 1];

	r->done(r->opaque, result, exit_status, output);
}

/* ---- the driver's answer ---- */

static int ndone, done_result;
static char done_msg[1024];

static void on_done(void *opaque, int result, const char *msg)
{
	(void)opaque;
	ndone++;
	done_result = result;
	snprintf(done_msg, sizeof(done_msg), "%s", msg);
}

static const char conf_text[] = "[cluster]\n"
				"name = t\n"
				"driver = sim\n"
				"[host h1]\n"
				"nodeid = 1\n"
				"fence = san\n"
				"[host h3]\n"
				"nodeid = 3\n"
				"fence = san\n"
				"[fence san]\n"
				"driver = scsi\n"
				"timeout = 30s\n"
				"storage = san1 san2\n"
				"[storage san1]\n"
				"portal = 192.0.2.1:3260\n"
				"target = iqn.2026-11.org.hax:t1\n"
				"luns = 1 2\n"
				"[storage san2]\n"
				"portal = 192.0.2.2\n"
				"target = iqn.2026-11.org.hax:t2\n";

static struct hax_conf conf;
static const struct fence_driver *drv;

static int setup(void **state)
{
	(void)state;
	for (int i = 0; i < nruns; i++)
		for (int j = 0; runs[i].argv[j]; j++)
			free(runs[i].argv[j]);
	memset(runs, 0, sizeof(runs));
	nruns = ncancelled = run_error = ndone = done_result = 0;
	done_msg[0] = '\0';
	timer_fn = NULL;
	setenv("HAX_FENCE_SCSI", TOOL, 1);
	return 0;
}

static struct fence_op *start(const char *host, uint32_t nodeid, bool dry_run)
{
	struct fence_target t = {.host = host, .nodeid = nodeid};
	struct fence_op *op = NULL;

	assert_int_equal(drv->start(&conf, &conf.fences[0], &t, dry_run, on_done, NULL, &op), 0);
	assert_non_null(op);
	assert_int_equal(ndone, 0); /* never from start() itself */
	return op;
}

static void assert_argv(const struct run *r, const char *const *want)
{
	int i;

	for (i = 0; want[i]; i++) {
		assert_non_null(r->argv[i]);
		assert_string_equal(r->argv[i], want[i]);
	}
	assert_null(r->argv[i]);
}

static bool argv_has(const struct run *r, const char *word)
{
	for (int i = 0; r->argv[i]; i++)
		if (strcmp(r->argv[i], word) == 0)
			return true;
	return false;
}

/* Runs first: the local host is not known yet. */
static void test_unknown_local_host(void **state)
{
	(void)state;
	start("h3", 3, false);
	fire_timer();
	assert_int_equal(nruns, 0);
	assert_int_equal(ndone, 1);
	assert_int_equal(done_result, -ENXIO);
	assert_non_null(strstr(done_msg, "fence_scsi_set_local"));
}

static void test_set_local(void **state)
{
	(void)state;
	assert_int_equal(fence_scsi_set_local(0, "iqn.2026-11.org.hax:h1"), -EINVAL);
	assert_int_equal(fence_scsi_set_local(1, NULL), -EINVAL);
	assert_int_equal(fence_scsi_set_local(1, ""), -EINVAL);
	assert_int_equal(fence_scsi_set_local(1, "iqn with space"), -EINVAL);
	assert_int_equal(fence_scsi_set_local(1, "iqn.2026-11.org.hax:h1\n--force"), -EINVAL);
	assert_int_equal(fence_scsi_set_local(1, "iqn.2026-11.org.hax:h1"), 0);
}

static void test_fence_confirmed(void **state)
{
	static const char *const want1[] = {TOOL,	   "preempt",
					    "--portal",	   "192.0.2.1:3260",
					    "--target",	   "iqn.2026-11.org.hax:t1",
					    "--initiator", "iqn.2026-11.org.hax:h1",
					    "--timeout",   "5000ms",
					    "--key",	   "0x6861780000000001",
					    "--victim",	   "0x6861780000000003",
					    "--lun",	   "1",
					    "--lun",	   "2",
					    NULL};
	static const char *const want2[] = {TOOL,	   "preempt",
					    "--portal",	   "192.0.2.2",
					    "--target",	   "iqn.2026-11.org.hax:t2",
					    "--initiator", "iqn.2026-11.org.hax:h1",
					    "--timeout",   "5000ms",
					    "--key",	   "0x6861780000000001",
					    "--victim",	   "0x6861780000000003",
					    "--all-luns",  NULL};

	(void)state;
	start("h3", 3, false);
	assert_int_equal(nruns, 0); /* the first step comes from the loop */
	fire_timer();
	assert_int_equal(nruns, 1);
	assert_argv(&runs[0], want1);
	/* The child gets what is left of the device timeout. */
	assert_true(runs[0].timeout_ms > 29000 && runs[0].timeout_ms <= 30000);
	complete(0, 0, "lun 1: preempted 0x6861780000000003\n");
	assert_int_equal(ndone, 0);
	assert_int_equal(nruns, 2);
	assert_argv(&runs[1], want2);
	complete(0, 0, "lun 1: preempted 0x6861780000000003\n");
	assert_int_equal(ndone, 1);
	assert_int_equal(done_result, 0);
	assert_string_equal(done_msg,
			    "scsi preempt of h3 (key 0x6861780000000003) on san1, san2: confirmed");
}

static void test_dry_run(void **state)
{
	(void)state;
	start("h3", 3, true);
	fire_timer();
	assert_string_equal(runs[0].argv[1], "keys");
	assert_false(argv_has(&runs[0], "--key"));
	assert_false(argv_has(&runs[0], "--victim"));
	assert_true(argv_has(&runs[0], "--initiator"));
	complete(0, 0, "lun 1: generation 3, 2 keys: ...\n");
	assert_string_equal(runs[1].argv[1], "keys");
	complete(0, 0, "");
	assert_int_equal(done_result, 0);
	assert_string_equal(done_msg, "scsi: san1, san2 answer");
}

/* A storage that fails does not keep the victim's key on the others. */
static void test_one_storage_fails(void **state)
{
	(void)state;
	start("h3", 3, false);
	fire_timer();
	complete(0, 1,
		 "lun 1: FAILED: READ KEYS: timed out\n"
		 "hax-fence-scsi: preempt 192.0.2.1:3260/iqn.2026-11.org.hax:t1: lun 1: READ KEYS: "
		 "no answer from 192.0.2.1:3260 within 5000 ms\n");
	assert_int_equal(nruns, 2);
	complete(0, 0, "lun 1: preempted\n");
	assert_int_equal(ndone, 1);
	assert_int_equal(done_result, -EIO);
	assert_string_equal(done_msg,
			    "scsi preempt of h3 (key 0x6861780000000003) failed: san1: exit 1: "
			    "hax-fence-scsi: preempt 192.0.2.1:3260/iqn.2026-11.org.hax:t1: lun 1: "
			    "READ KEYS: no answer from 192.0.2.1:3260 within 5000 ms; confirmed on "
			    "san2");
}

static void test_timeout_and_usage(void **state)
{
	(void)state;
	start("h3", 3, false);
	fire_timer();
	complete(-ETIMEDOUT, 137, "");
	complete(0, 2, "hax-fence-scsi: preempt: --victim must differ from --key\nusage: ...\n");
	assert_int_equal(done_result, -ETIMEDOUT); /* the first failure names the result */
	assert_non_null(strstr(done_msg, "san1: no answer within the device timeout (30000 ms)"));
	assert_null(strstr(done_msg, "confirmed on"));
}

static void test_usage_exit(void **state)
{
	(void)state;
	start("h3", 3, false);
	fire_timer();
	complete(0, 2, "hax-fence-scsi: preempt: --victim must differ from --key\n");
	complete(0, 0, "");
	assert_int_equal(done_result, -EINVAL);
	assert_non_null(strstr(done_msg, "san1: hax-fence-scsi refused its arguments: "
					 "hax-fence-scsi: preempt: --victim must differ"));
}

static void test_not_registered_note(void **state)
{
	(void)state;
	start("h3", 3, false);
	fire_timer();
	complete(0, 0, "lun 1: 0x6861780000000003 was not registered: nothing can write\n");
	complete(0, 0, "lun 1: preempted 0x6861780000000003\n");
	assert_int_equal(done_result, 0);
	assert_string_equal(done_msg, "scsi preempt of h3 (key 0x6861780000000003) on san1, "
				      "san2: confirmed (the key was not registered on san1)");
}

static void test_victim_is_local(void **state)
{
	(void)state;
	start("h1", 1, false);
	fire_timer();
	assert_int_equal(nruns, 0);
	assert_int_equal(done_result, -EINVAL);
	assert_non_null(strstr(done_msg, "cannot preempt its own key"));
}

static void test_tool_missing(void **state)
{
	(void)state;
	run_error = -ENOENT;
	start("h3", 3, false);
	fire_timer();
	assert_int_equal(nruns, 0);
	assert_int_equal(ndone, 1);
	assert_int_equal(done_result, -ENOENT);
	assert_string_equal(done_msg, "scsi preempt of h3 (key 0x6861780000000003) failed: "
				      "cannot run " TOOL ": No such file or directory");
}

static void test_cancel(void **state)
{
	struct fence_op *op;

	(void)state;
	op = start("h3", 3, false);
	drv->cancel(op); /* before the first step: the timer goes */
	assert_null(timer_fn);
	op = start("h3", 3, false);
	fire_timer();
	drv->cancel(op); /* while the tool runs: the child goes */
	assert_int_equal(ncancelled, 1);
	assert_int_equal(ndone, 0);
	drv->cancel(NULL);
}

static void test_bad_device(void **state)
{
	struct fence_target t = {.host = "h3", .nodeid = 3};
	struct conf_fence dev = conf.fences[0];
	struct fence_op *op = NULL;

	(void)state;
	dev.nstorage = 0;
	assert_int_equal(drv->start(&conf, &dev, &t, false, on_done, NULL, &op), -EINVAL);
	dev.nstorage = 1;
	dev.storage[0] = conf.nstorage;
	assert_int_equal(drv->start(&conf, &dev, &t, false, on_done, NULL, &op), -EINVAL);
	t.nodeid = 0;
	assert_int_equal(drv->start(&conf, &conf.fences[0], &t, false, on_done, NULL, &op),
			 -EINVAL);
	assert_null(op);
	assert_int_equal(ndone, 0);
}

/* Without $HAX_FENCE_SCSI: next to the running program, else the installed one. */
static void test_default_tool_path(void **state)
{
	const char *slash;

	(void)state;
	unsetenv("HAX_FENCE_SCSI");
	start("h3", 3, true);
	fire_timer();
	slash = strrchr(runs[0].argv[0], '/');
	assert_non_null(slash);
	assert_string_equal(slash, "/hax-fence-scsi");
	complete(0, 0, "");
	complete(0, 0, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_unknown_local_host, setup),
	    cmocka_unit_test_setup(test_set_local, setup),
	    cmocka_unit_test_setup(test_fence_confirmed, setup),
	    cmocka_unit_test_setup(test_dry_run, setup),
	    cmocka_unit_test_setup(test_one_storage_fails, setup),
	    cmocka_unit_test_setup(test_timeout_and_usage, setup),
	    cmocka_unit_test_setup(test_usage_exit, setup),
	    cmocka_unit_test_setup(test_not_registered_note, setup),
	    cmocka_unit_test_setup(test_victim_is_local, setup),
	    cmocka_unit_test_setup(test_tool_missing, setup),
	    cmocka_unit_test_setup(test_cancel, setup),
	    cmocka_unit_test_setup(test_bad_device, setup),
	    cmocka_unit_test_setup(test_default_tool_path, setup),
	};
	struct conf_errors errs = {0};

	if (conf_parse_string("test.conf", conf_text, &conf, &errs) < 0) {
		for (int i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msg[i]);
		return 1;
	}
	conf_errors_free(&errs);
	drv = fence_driver_for(CONF_FENCE_SCSI);
	if (!drv || strcmp(drv->name, "scsi") != 0) {
		fprintf(stderr, "the registry has no scsi driver\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
