/*
 * The simulator's loop: one heap of events on a virtual clock, and the implementation of
 * lib/loop.h that the real leader and agent code link against (timers become events
 * owned by the host whose code armed them; there are no child processes or file
 * descriptors in the simulated world). Logging goes to a trace kept for failure reports.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/loop.h"
#include "sim.h"

struct sim_ev {
	uint64_t t, seq;
	sim_fn fn;
	void *data;
	int host;
	enum sim_owner kind;
	uint64_t gen;
	bool dead;
};

static struct {
	uint64_t now, seq, rng;
	struct sim_ev *ev;       /* by handle - 1 */
	size_t nev, cap;
	uint32_t *heap;          /* indices into ev */
	size_t nheap, heapcap;
} lp;

int sim_cur_host = -1;
bool sim_verbose;

#define TRACE_LINES 600
static char trace_buf[TRACE_LINES][240];
static size_t trace_n;

void sim_loop_reset(uint64_t seed)
{
	free(lp.ev);
	free(lp.heap);
	memset(&lp, 0, sizeof(lp));
	lp.rng = seed * 0x9e3779b97f4a7c15ull + 0x2545f4914f6cdd1dull;
	lp.now = 1000000000ull; /* a monotonic clock does not start at zero */
	trace_n = 0;
	sim_cur_host = -1;
}

uint64_t sim_rand(uint64_t n)
{
	uint64_t z = (lp.rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return n ? z % n : 0;
}

bool sim_chance(unsigned percent)
{
	return sim_rand(100) < percent;
}

uint64_t sim_now(void)
{
	return lp.now;
}

uint64_t sim_clock_mono_ns(void)
{
	return lp.now;
}

uint64_t sim_clock_real_ns(void)
{
	return lp.now + 1780000000000000000ull;
}

static bool ev_before(uint32_t a, uint32_t b)
{
	return lp.ev[a].t < lp.ev[b].t || (lp.ev[a].t == lp.ev[b].t && lp.ev[a].seq < lp.ev[b].seq);
}

static void heap_push(uint32_t i)
{
	size_t k;

	if (lp.nheap == lp.heapcap) {
		lp.heapcap = lp.heapcap ? lp.heapcap * 2 : 256;
		lp.heap = hax_xrealloc(lp.heap, lp.heapcap * sizeof(*lp.heap));
	}
	k = lp.nheap++;
	lp.heap[k] = i;
	while (k > 0 && ev_before(lp.heap[k], lp.heap[(k - 1) / 2])) {
		uint32_t t = lp.heap[k];

		lp.heap[k] = lp.heap[(k - 1) / 2];
		lp.heap[(k - 1) / 2] = t;
		k = (k - 1) / 2;
	}
}

static uint32_t heap_pop(void)
{
	uint32_t top = lp.heap[0];
	size_t k = 0;

	lp.heap[0] = lp.heap[--lp.nheap];
	for (;;) {
		size_t l = 2 * k + 1, r = l + 1, m = k;

		if (l < lp.nheap && ev_before(lp.heap[l], lp.heap[m]))
			m = l;
		if (r < lp.nheap && ev_before(lp.heap[r], lp.heap[m]))
			m = r;
		if (m == k)
			break;
		uint32_t t = lp.heap[k];

		lp.heap[k] = lp.heap[m];
		lp.heap[m] = t;
		k = m;
	}
	return top;
}

static uint64_t owner_gen(int host, enum sim_owner kind)
{
	if (host < 0 || kind == SIM_OWN_WORLD)
		return 0;
	return kind == SIM_OWN_HAXD ? sim_machines[host].haxd_gen : sim_machines[host].power_gen;
}

uint64_t sim_at(uint64_t delay_ns, sim_fn fn, void *data, int host, enum sim_owner kind)
{
	struct sim_ev *e;

	if (lp.nev == lp.cap) {
		lp.cap = lp.cap ? lp.cap * 2 : 1024;
		lp.ev = hax_xrealloc(lp.ev, lp.cap * sizeof(*lp.ev));
	}
	e = &lp.ev[lp.nev];
	*e = (struct sim_ev){.t = lp.now + delay_ns, .seq = lp.seq++, .fn = fn, .data = data,
			     .host = host, .kind = kind, .gen = owner_gen(host, kind)};
	heap_push((uint32_t)lp.nev);
	return ++lp.nev;
}

void sim_cancel(uint64_t handle)
{
	if (handle && handle <= lp.nev)
		lp.ev[handle - 1].dead = true;
}

void sim_advance(uint64_t t)
{
	if (t > lp.now)
		lp.now = t;
}

bool sim_step(uint64_t until_ns)
{
	while (lp.nheap > 0) {
		struct sim_ev *e = &lp.ev[lp.heap[0]];
		int saved = sim_cur_host;

		if (e->t > until_ns)
			return false;
		heap_pop();
		if (e->t > lp.now)
			lp.now = e->t;
		if (e->dead || e->gen != owner_gen(e->host, e->kind))
			continue;
		e->dead = true;
		sim_cur_host = e->host;
		e->fn(e->data);
		sim_cur_host = saved;
		return true;
	}
	return false;
}

/* ---- lib/loop.h ---- */

struct timer_call {
	hax_timer_fn fn;
	void *data;
};

static void timer_fire(void *data)
{
	struct timer_call tc = *(struct timer_call *)data;

	free(data);
	tc.fn(tc.data);
}

int hax_timer_add(uint64_t ms, hax_timer_fn fn, void *data, hax_timer_t *t)
{
	struct timer_call *tc = hax_xmalloc(sizeof(*tc));

	*tc = (struct timer_call){fn, data};
	/* The data of a timer that never fires (its owner died) is the price of not
	 * modelling process memory; it is small and freed with the run. */
	*t = sim_at(ms * 1000000ull, timer_fire, tc, sim_cur_host, SIM_OWN_HAXD);
	return 0;
}

void hax_timer_del(hax_timer_t t)
{
	if (t && t <= lp.nev && !lp.ev[t - 1].dead) {
		lp.ev[t - 1].dead = true;
		free(lp.ev[t - 1].data);
	}
}

int hax_child_watch(int pid, hax_child_fn fn, void *data)
{
	(void)pid, (void)fn, (void)data;
	return -ENOSYS; /* no processes in the simulated world */
}

void hax_child_unwatch(int pid)
{
	(void)pid;
}

int hax_fd_watch(int fd, uint32_t events, hax_fd_fn fn, void *data)
{
	(void)fd, (void)events, (void)fn, (void)data;
	return -ENOSYS;
}

void hax_fd_unwatch(int fd)
{
	(void)fd;
}

static void trace_line(const char *line)
{
	if (sim_verbose)
		fprintf(stderr, "%s\n", line);
	hax_strlcpy(trace_buf[trace_n % TRACE_LINES], line, sizeof(trace_buf[0]));
	trace_n++;
}

static void vtrace(const char *who, const char *fmt, va_list ap)
{
	char msg[200], line[240];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	snprintf(line, sizeof(line), "%9.3f %-4s %s", (double)(lp.now - 1000000000ull) / 1e9,
		 who, msg);
	trace_line(line);
}

void hax_log(int prio, const char *fmt, ...)
{
	va_list ap;

	if (prio > LOG_NOTICE && !sim_verbose)
		return;
	va_start(ap, fmt);
	vtrace(sim_cur_host >= 0 ? sim_machines[sim_cur_host].name : "-", fmt, ap);
	va_end(ap);
}

void sim_trace(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vtrace("SIM", fmt, ap);
	va_end(ap);
}

void sim_trace_dump(void)
{
	size_t i = trace_n > TRACE_LINES ? trace_n - TRACE_LINES : 0;

	for (; i < trace_n; i++)
		fprintf(stderr, "%s\n", trace_buf[i % TRACE_LINES]);
}
