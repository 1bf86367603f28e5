/*
 * Watchdog fencing's assumptions (issue 12 item 4), both halves:
 *  - fencing/watchdog.c on the lab stand-in's interface (a regular file, PATH.timeout holding
 *    the timeout it enforces): the accepted timeout is read back; an unknown one is said
 *    to be unknown; a magic close writes 'V'; leaving it armed does not.
 *  - fencing/fence_watchdog.c over a real qb_loop: the wait is refused, with a reason,
 *    for a host that did not report its watchdog armed or reported a longer timeout than
 *    the wait assumes; a host that reported a short enough timeout counts as reset only
 *    after that timeout plus WATCHDOG_MARGIN_MS.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "fencing/fence.h"
#include "fencing/watchdog.h"
#include "tests/lib/loop_seam.h"

extern const struct fence_driver fence_watchdog_driver;

static char dir[PATH_MAX];

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void put(const char *name, const char *text)
{
	char p[PATH_MAX + 32];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static const char *get(const char *name)
{
	static char buf[256];
	char p[PATH_MAX + 32];
	size_t n;
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static void test_standin_timeout_read_back(void **state)
{
	char dev[PATH_MAX + 32];
	struct watchdog *w = NULL;
	uint64_t ms = 0;

	(void)state;
	snprintf(dev, sizeof(dev), "%s/wd", dir);
	put("wd", "");
	put("wd.timeout", "7000\n");
	assert_int_equal(watchdog_open(dev, 5000, &w), 0);
	/* What the device enforces, not what was asked for. */
	assert_int_equal(watchdog_timeout(w, &ms), 0);
	assert_int_equal(ms, 7000);
	assert_int_equal(watchdog_feed(w), 0);
	watchdog_close(w);
	assert_string_equal(get("wd"), "1V");
}

static void test_unknown_timeout_stays_armed(void **state)
{
	char dev[PATH_MAX + 32];
	struct watchdog *w = NULL;
	uint64_t ms = 42;

	(void)state;
	snprintf(dev, sizeof(dev), "%s/wd2", dir);
	put("wd2", "");
	assert_int_equal(watchdog_open(dev, 5000, &w), 0);
	assert_true(watchdog_timeout(w, &ms) < 0);
	assert_int_equal(ms, 42);
	assert_int_equal(watchdog_feed(w), 0);
	/* Leaving (haxd stopping with domains here) must not disarm it. */
	watchdog_leave(w);
	assert_string_equal(get("wd2"), "1");
}

static void test_open_fails(void **state)
{
	char dev[PATH_MAX + 32];
	struct watchdog *w = NULL;

	(void)state;
	snprintf(dev, sizeof(dev), "%s/absent/wd", dir);
	assert_int_equal(watchdog_open(dev, 5000, &w), -ENOENT);
	assert_null(w);
}

struct outcome {
	int calls, result;
	char msg[256];
	uint64_t at_ms;
};

static void done(void *opaque, int result, const char *msg)
{
	struct outcome *o = opaque;

	o->calls++;
	o->result = result;
	o->at_ms = mono_ms();
	snprintf(o->msg, sizeof(o->msg), "%s", msg ? msg : "");
	seam_stop();
}

static struct outcome run_fence(uint64_t reported_ms, uint64_t dev_timeout_ms)
{
	struct conf_fence dev = {.driver = CONF_FENCE_WATCHDOG,
				 .watchdog_timeout_ms = dev_timeout_ms};
	struct fence_target t = {.host = "h3", .nodeid = 3, .watchdog_ms = reported_ms};
	struct outcome o = {0};
	struct fence_op *op = NULL;
	uint64_t t0 = mono_ms();

	snprintf(dev.name, sizeof(dev.name), "wd");
	snprintf(dev.device, sizeof(dev.device), "/dev/watchdog");
	assert_int_equal(fence_watchdog_driver.start(NULL, &dev, &t, false, done, &o, &op), 0);
	assert_true(seam_run_until(&o.calls, 1, dev_timeout_ms + WATCHDOG_MARGIN_MS + 5000));
	assert_int_equal(o.calls, 1);
	o.at_ms -= t0;
	assert_int_equal(seam_timers_armed(), 0);
	return o;
}

static void test_fence_refused_when_not_armed(void **state)
{
	struct outcome o;

	(void)state;
	o = run_fence(0, 1000);
	assert_true(o.result < 0);
	assert_non_null(strstr(o.msg, "not reported armed"));
	/* Refused at once: there is nothing to wait for. */
	assert_true(o.at_ms < 1000);
}

static void test_fence_refused_when_timeout_longer(void **state)
{
	struct outcome o;

	(void)state;
	o = run_fence(2000, 1000);
	assert_true(o.result < 0);
	assert_non_null(strstr(o.msg, "2000 ms, longer than the 1000 ms"));
}

static void test_fence_waits_when_armed(void **state)
{
	struct outcome o;

	(void)state;
	o = run_fence(1000, 1000);
	assert_int_equal(o.result, 0);
	assert_true(o.at_ms >= 1000 + WATCHDOG_MARGIN_MS);
}

static int setup(void **state)
{
	const char *t = getenv("TMPDIR");

	(void)state;
	snprintf(dir, sizeof(dir), "%s/hax-wd.XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(dir))
		return -1;
	return seam_init();
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	seam_fini();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_standin_timeout_read_back),
	    cmocka_unit_test(test_unknown_timeout_stays_armed),
	    cmocka_unit_test(test_open_fails),
	    cmocka_unit_test(test_fence_refused_when_not_armed),
	    cmocka_unit_test(test_fence_refused_when_timeout_longer),
	    cmocka_unit_test(test_fence_waits_when_armed),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
