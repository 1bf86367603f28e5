/*
 * The test seam (loop_seam.h): haxd's own loop.h implementation (lib/loop_qb.c) on a
 * qb_loop of the test's, with every hax_log line kept and a way to run the loop until
 * a test's condition holds.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <qb/qbloop.h>

#include "lib/loop.h"
#include "lib/loop_qb.h"
#include "tests/lib/loop_seam.h"

char seam_log[65536];

static qb_loop_t *loop;

static void seam_keep_log(int prio, const char *line)
{
	size_t used = strlen(seam_log);

	fprintf(stderr, "hax_log(%d): %s\n", prio, line);
	snprintf(seam_log + used, sizeof(seam_log) - used, "%s\n", line);
}

size_t seam_timers_armed(void)
{
	return hax_loop_qb_timers_armed();
}

size_t seam_children_watched(void)
{
	return hax_loop_qb_children_watched();
}

size_t seam_fds_watched(void)
{
	return hax_loop_qb_fds_watched();
}

static void on_deadline(void *data)
{
	*(bool *)data = true;
	qb_loop_stop(loop);
}

static void on_kick(void *data)
{
	(void)data;
}

bool seam_run_until(const int *calls, int want, uint64_t ms)
{
	qb_loop_timer_handle h, kick;
	bool expired = false;

	if (qb_loop_timer_add(loop, QB_LOOP_LOW, ms * 1000000ull, &expired, on_deadline, &h) < 0)
		return false;
	while (*calls < want && !expired) {
		/* Jobs left queued by the last qb_loop_stop() only run once something wakes the
		 * poll: without this kick they would wait for the next timer or fd event. */
		qb_loop_timer_add(loop, QB_LOOP_LOW, 0, NULL, on_kick, &kick);
		qb_loop_run(loop);
	}
	if (!expired)
		qb_loop_timer_del(loop, h);
	return *calls >= want;
}

void seam_run_for(uint64_t ms)
{
	int never = 0;

	seam_run_until(&never, 1, ms);
}

void seam_stop(void)
{
	qb_loop_stop(loop);
}

int seam_init(void)
{
	loop = qb_loop_create();
	if (!loop)
		return -1;
	hax_loop_qb_log_to(seam_keep_log);
	return hax_loop_qb_init(loop) < 0 ? -1 : 0;
}

void seam_fini(void)
{
	qb_loop_destroy(loop);
	loop = NULL;
}
