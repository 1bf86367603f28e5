/*
 * Test harness: one scsi fence (or dry run) for real, the way haxd runs it: the driver
 * found through the registry, the real child runner, the real hax-fence-scsi against a
 * target. The loop seam (lib/loop.h) is a small poll-and-reap loop here.
 *   scsi_driver_run CONF FENCE VICTIM LOCAL [dry-run]
 * Prints "result R in N ms: MESSAGE". Exit 0 if the driver reported success, 1 if it
 * reported a failure, 2 usage or setup trouble.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "conf/conf.h"
#include "fencing/fence.h"
#include "fencing/fence_scsi.h"
#include "lib/loop.h"
#include "lib/util.h"

#define MAX_TIMERS 32
#define MAX_WATCHES 32
#define HARD_LIMIT_NS (120ull * 1000000000ull) /* never hang a test run */

/* The registry also lists the agent driver, which this harness does not link. */
const struct fence_driver fence_agent_driver = {.kind = CONF_FENCE_AGENT, .name = "agent"};

static struct {
	hax_timer_t id;
	uint64_t when_ns;
	hax_timer_fn fn;
	void *data;
} timers[MAX_TIMERS];
static hax_timer_t next_id;

static struct {
	int pid;
	hax_child_fn fn;
	void *data;
} watches[MAX_WATCHES];

int hax_timer_add(uint64_t ms, hax_timer_fn fn, void *data, hax_timer_t *t)
{
	for (int i = 0; i < MAX_TIMERS; i++)
		if (!timers[i].id) {
			timers[i].id = ++next_id;
			timers[i].when_ns = hax_now_mono_ns() + ms * 1000000ull;
			timers[i].fn = fn;
			timers[i].data = data;
			*t = timers[i].id;
			return 0;
		}
	return -ENOSPC;
}

void hax_timer_del(hax_timer_t t)
{
	for (int i = 0; t && i < MAX_TIMERS; i++)
		if (timers[i].id == t)
			timers[i].id = 0;
}

int hax_child_watch(int pid, hax_child_fn fn, void *data)
{
	for (int i = 0; i < MAX_WATCHES; i++)
		if (!watches[i].pid) {
			watches[i].pid = pid;
			watches[i].fn = fn;
			watches[i].data = data;
			return 0;
		}
	return -ENOSPC;
}

void hax_child_unwatch(int pid)
{
	for (int i = 0; i < MAX_WATCHES; i++)
		if (watches[i].pid == pid)
			watches[i].pid = 0;
}

void hax_log(int prio, const char *fmt, ...)
{
	va_list ap;

	(void)prio;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void reap(void)
{
	int status, pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		for (int i = 0; i < MAX_WATCHES; i++)
			if (watches[i].pid == pid) {
				watches[i].pid = 0;
				watches[i].fn(watches[i].data, pid, status);
				break;
			}
}

static void fire_due_timers(void)
{
	uint64_t now = hax_now_mono_ns();

	for (int i = 0; i < MAX_TIMERS; i++)
		if (timers[i].id && timers[i].when_ns <= now) {
			timers[i].id = 0;
			timers[i].fn(timers[i].data);
		}
}

static bool finished;
static int fence_result;

static void on_done(void *opaque, int result, const char *msg)
{
	uint64_t t0 = *(uint64_t *)opaque;

	finished = true;
	fence_result = result;
	printf("result %d in %llu ms: %s\n", result,
	       (unsigned long long)((hax_now_mono_ns() - t0) / 1000000), msg);
}

static const struct conf_fence *fence_by_name(const struct hax_conf *c, const char *name)
{
	for (int i = 0; i < c->nfences; i++)
		if (strcmp(c->fences[i].name, name) == 0)
			return &c->fences[i];
	return NULL;
}

int main(int argc, char **argv)
{
	static struct hax_conf conf;
	struct conf_errors errs = {0};
	const struct conf_host *victim, *local;
	const struct conf_fence *dev;
	struct fence_op *op;
	struct fence_target t;
	uint64_t t0 = hax_now_mono_ns();
	int r;

	if (argc < 5 || argc > 6 || (argc == 6 && strcmp(argv[5], "dry-run") != 0)) {
		fputs("usage: scsi_driver_run CONF FENCE VICTIM LOCAL [dry-run]\n", stderr);
		return 2;
	}
	if (conf_parse_file(argv[1], &conf, &errs) < 0) {
		for (int i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msg[i]);
		return 2;
	}
	conf_errors_free(&errs);
	dev = fence_by_name(&conf, argv[2]);
	victim = conf_host_by_name(&conf, argv[3]);
	local = conf_host_by_name(&conf, argv[4]);
	if (!dev || !victim || !local || fence_scsi_set_local(local->nodeid, local->iqn) < 0) {
		fputs("scsi_driver_run: unknown fence or host\n", stderr);
		return 2;
	}
	t = (struct fence_target){.host = victim->name, .nodeid = victim->nodeid};
	r = fence_driver_for(dev->driver)->start(&conf, dev, &t, argc == 6, on_done, &t0, &op);
	if (r < 0) {
		fprintf(stderr, "scsi_driver_run: start: %s\n", strerror(-r));
		return 2;
	}
	while (!finished && hax_now_mono_ns() - t0 < HARD_LIMIT_NS) {
		struct timespec ts = {0, 5000000};

		reap();
		fire_due_timers();
		if (!finished)
			nanosleep(&ts, NULL);
	}
	if (!finished) {
		fputs("scsi_driver_run: the driver never reported\n", stderr);
		return 2;
	}
	return fence_result == 0 ? 0 : 1;
}
