/*
 * haxd/loop.h over qb_loop for tests (loop_seam.h): the same calls haxd/main.c makes,
 * with fixed-size tables a test can inspect.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <qb/qbloop.h>

#include "haxd/loop.h"
#include "tests/lib/loop_seam.h"

#define MAX_TIMERS 256
#define MAX_CHILDREN 256
#define MAX_FD_WATCHES 256

char seam_log[65536];

static qb_loop_t *loop;

static struct seam_timer {
	bool used;
	qb_loop_timer_handle h;
	hax_timer_fn fn;
	void *data;
} timers[MAX_TIMERS];

static struct child_watch {
	int pid;
	hax_child_fn fn;
	void *data;
} children[MAX_CHILDREN];

static void seam_fire(void *data)
{
	struct seam_timer *t = data;

	t->used = false;
	t->fn(t->data);
}

int hax_timer_add(uint64_t ms, hax_timer_fn fn, void *data, hax_timer_t *out)
{
	size_t i;
	int r;

	for (i = 0; i < MAX_TIMERS && timers[i].used; i++)
		;
	if (i == MAX_TIMERS)
		return -ENOMEM;
	timers[i].fn = fn;
	timers[i].data = data;
	r = qb_loop_timer_add(loop, QB_LOOP_MED, ms * 1000000ull, &timers[i], seam_fire,
			      &timers[i].h);
	if (r < 0)
		return r;
	timers[i].used = true;
	*out = timers[i].h;
	return 0;
}

void hax_timer_del(hax_timer_t t)
{
	size_t i;

	for (i = 0; t && i < MAX_TIMERS; i++) {
		if (timers[i].used && timers[i].h == t) {
			qb_loop_timer_del(loop, t);
			timers[i].used = false;
			return;
		}
	}
}

size_t seam_timers_armed(void)
{
	size_t i, n = 0;

	for (i = 0; i < MAX_TIMERS; i++)
		n += timers[i].used;
	return n;
}

int hax_child_watch(int pid, hax_child_fn fn, void *data)
{
	size_t i;

	for (i = 0; i < MAX_CHILDREN; i++)
		if (children[i].pid == 0) {
			children[i] = (struct child_watch){pid, fn, data};
			return 0;
		}
	return -ENOSPC;
}

void hax_child_unwatch(int pid)
{
	size_t i;

	for (i = 0; i < MAX_CHILDREN; i++)
		if (children[i].pid == pid)
			children[i].pid = 0;
}

size_t seam_children_watched(void)
{
	size_t i, n = 0;

	for (i = 0; i < MAX_CHILDREN; i++)
		n += children[i].pid != 0;
	return n;
}

static int32_t on_sigchld(int32_t sig, void *data)
{
	int status;
	pid_t pid;
	size_t i;

	(void)sig;
	(void)data;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < MAX_CHILDREN; i++) {
			struct child_watch w = children[i];

			if (w.pid != pid)
				continue;
			children[i].pid = 0;
			w.fn(w.data, pid, status);
			break;
		}
	}
	return 0;
}

/* File descriptors, as main.c watches them (see there for the generation). */
static struct fd_watch {
	int fd;
	uint32_t gen;
	hax_fd_fn fn;
	void *data;
} fd_watches[MAX_FD_WATCHES];

static struct fd_watch *fd_watch_find(int fd)
{
	size_t i;

	for (i = 0; i < MAX_FD_WATCHES; i++)
		if (fd_watches[i].fn && fd_watches[i].fd == fd)
			return &fd_watches[i];
	return NULL;
}

static int32_t on_fd(int32_t fd, int32_t revents, void *data)
{
	struct fd_watch *w = data;
	uint32_t gen = w->gen;

	if (!w->fn || w->fd != fd)
		return -1;
	w->fn(w->data, fd, (uint32_t)revents);
	return w->fn && w->fd == fd && w->gen == gen ? 0 : -1;
}

int hax_fd_watch(int fd, uint32_t events, hax_fd_fn fn, void *data)
{
	struct fd_watch *w = fd_watch_find(fd);
	size_t i;
	int r;

	if (fd < 0 || !fn)
		return -EINVAL;
	if (w) {
		w->fn = fn;
		w->data = data;
		return qb_loop_poll_mod(loop, QB_LOOP_MED, fd, (int32_t)events, w, on_fd);
	}
	for (i = 0; i < MAX_FD_WATCHES && fd_watches[i].fn; i++)
		;
	if (i == MAX_FD_WATCHES)
		return -ENOSPC;
	w = &fd_watches[i];
	r = qb_loop_poll_add(loop, QB_LOOP_MED, fd, (int32_t)events, w, on_fd);
	if (r < 0)
		return r;
	*w = (struct fd_watch){.fd = fd, .gen = w->gen + 1, .fn = fn, .data = data};
	return 0;
}

void hax_fd_unwatch(int fd)
{
	struct fd_watch *w = fd_watch_find(fd);

	if (!w)
		return;
	qb_loop_poll_del(loop, fd);
	w->fn = NULL;
	w->fd = -1;
	w->gen++;
}

size_t seam_fds_watched(void)
{
	size_t i, n = 0;

	for (i = 0; i < MAX_FD_WATCHES; i++)
		n += fd_watches[i].fn != NULL;
	return n;
}

void hax_log(int prio, const char *fmt, ...)
{
	size_t used = strlen(seam_log);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(seam_log + used, sizeof(seam_log) - used, fmt, ap);
	va_end(ap);
	fprintf(stderr, "hax_log(%d): %s\n", prio, seam_log + used);
	if (strlen(seam_log) + 1 < sizeof(seam_log))
		strcat(seam_log, "\n");
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
	qb_loop_signal_handle sh;

	loop = qb_loop_create();
	if (!loop)
		return -1;
	return qb_loop_signal_add(loop, QB_LOOP_HIGH, SIGCHLD, NULL, on_sigchld, &sh) < 0 ? -1 : 0;
}

void seam_fini(void)
{
	qb_loop_destroy(loop);
	loop = NULL;
}
