/*
 * loop.h over qb_loop and qb_log: the one loop of haxd (timers, children, descriptors,
 * the log). Only this file and the daemon's glue include libqb; the simulator and the
 * unit tests link their own loop.h instead.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <qb/qbdefs.h>
#include <qb/qblog.h>
#include <qb/qbloop.h>

#include "loop.h"
#include "loop_qb.h"

static qb_loop_t *qloop;

/* Timers: a slot per armed timer, found again through a handle that carries the slot's
 * generation, so that deleting a timer that already fired (or was deleted) is ignored
 * rather than touching a slot reused since. The table grows as needed: a leader with
 * thousands of domains may hold thousands of deadlines. */
struct timer_slot {
	bool used;
	uint32_t gen;
	qb_loop_timer_handle h;
	hax_timer_fn fn;
	void *data;
};

static struct timer_slot *timers;
static size_t ntimers, narmed;

static hax_timer_t timer_handle(size_t i)
{
	return ((uint64_t)timers[i].gen << 32) | (uint64_t)(i + 1);
}

static struct timer_slot *timer_find(hax_timer_t t)
{
	size_t i = (size_t)(t & 0xffffffffu);

	if (i == 0 || i > ntimers)
		return NULL;
	i--;
	if (!timers[i].used || timers[i].gen != (uint32_t)(t >> 32))
		return NULL;
	return &timers[i];
}

static void timer_fire(void *data)
{
	size_t i = (size_t)(uintptr_t)data;
	hax_timer_fn fn = timers[i].fn;
	void *arg = timers[i].data;

	timers[i].used = false;
	timers[i].gen++;
	narmed--;
	fn(arg);
}

int hax_timer_add(uint64_t ms, hax_timer_fn fn, void *data, hax_timer_t *t)
{
	size_t i;
	int r;

	for (i = 0; i < ntimers && timers[i].used; i++)
		;
	if (i == ntimers) {
		size_t n = ntimers ? 2 * ntimers : 64;
		struct timer_slot *grown = realloc(timers, n * sizeof(*timers));

		if (!grown)
			return -ENOMEM;
		memset(grown + ntimers, 0, (n - ntimers) * sizeof(*grown));
		timers = grown;
		ntimers = n;
	}
	r = qb_loop_timer_add(qloop, QB_LOOP_MED, ms * 1000000ull, (void *)(uintptr_t)i, timer_fire,
			      &timers[i].h);
	if (r < 0)
		return r;
	timers[i].used = true;
	timers[i].fn = fn;
	timers[i].data = data;
	narmed++;
	*t = timer_handle(i);
	return 0;
}

void hax_timer_del(hax_timer_t t)
{
	struct timer_slot *s = timer_find(t);

	if (!s)
		return;
	qb_loop_timer_del(qloop, s->h);
	s->used = false;
	s->gen++;
	narmed--;
}

size_t hax_loop_qb_timers_armed(void)
{
	return narmed;
}

#define MAX_CHILDREN 256

struct child_watch {
	int pid;
	hax_child_fn fn;
	void *data;
};

/* Children of this process (fence agents, hypervisor tools) and who waits for them. */
static struct child_watch children[MAX_CHILDREN];

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

size_t hax_loop_qb_children_watched(void)
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

#define MAX_FD_WATCHES 256

/* Watched descriptors. qb_loop keeps its own entry per fd; the slot's generation tells
 * a dispatch whether fn replaced or removed the very watch it was called for. */
static struct fd_watch {
	int fd; /* -1 = free */
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
	/* Unwatched from fn: tell qb_loop its entry is gone (it would revive it on 0). */
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
		return qb_loop_poll_mod(qloop, QB_LOOP_MED, fd, (int32_t)events, w, on_fd);
	}
	for (i = 0; i < MAX_FD_WATCHES && fd_watches[i].fn; i++)
		;
	if (i == MAX_FD_WATCHES)
		return -ENOSPC;
	w = &fd_watches[i];
	r = qb_loop_poll_add(qloop, QB_LOOP_MED, fd, (int32_t)events, w, on_fd);
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
	qb_loop_poll_del(qloop, fd);
	w->fn = NULL;
	w->fd = -1;
	w->gen++;
}

size_t hax_loop_qb_fds_watched(void)
{
	size_t i, n = 0;

	for (i = 0; i < MAX_FD_WATCHES; i++)
		n += fd_watches[i].fn != NULL;
	return n;
}

static hax_loop_qb_log_fn log_hook;

void hax_loop_qb_log_to(hax_loop_qb_log_fn fn)
{
	log_hook = fn;
}

void hax_log(int prio, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (log_hook)
		log_hook(prio, buf);
	else
		qb_log(prio, "%s", buf);
}

int hax_loop_qb_init(qb_loop_t *loop)
{
	qb_loop_signal_handle sh;

	qloop = loop;
	return qb_loop_signal_add(loop, QB_LOOP_HIGH, SIGCHLD, NULL, on_sigchld, &sh);
}
