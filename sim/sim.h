/*
 * hax-sim: one process, a virtual clock, a seeded PRNG. The real leader (haxd/leader.c)
 * and agent (agent/agent.c) run against a simulated corosync, simulated hypervisors and
 * simulated fence devices; invariants are checked after every event (sim/hax_sim.c).
 * This header is the world the three sim files share.
 */
#ifndef HAX_SIM_H
#define HAX_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "../agent/hv.h"
#include "lib/util.h"

#define SIM_MAX_HOSTS 16
#define SIM_MAX_DOMS 64

/* Who owns an event: it is dropped when its owner is gone (a crashed haxd's timers, a
 * powered-off machine's hypervisor work). */
enum sim_owner { SIM_OWN_WORLD, SIM_OWN_HAXD, SIM_OWN_POWER };

typedef void (*sim_fn)(void *data);

/* ---- sim_loop.c: events on the virtual clock, the log ---- */
void sim_loop_reset(uint64_t seed);
/* An event at now + delay_ns, owned by host (or -1) as kind; returns its handle (>0). */
uint64_t sim_at(uint64_t delay_ns, sim_fn fn, void *data, int host, enum sim_owner kind);
void sim_cancel(uint64_t handle);
/* Run the next event due at or before until_ns; false when none is due. */
bool sim_step(uint64_t until_ns);
uint64_t sim_now(void);
/* Move the clock to t (no event due before it). */
void sim_advance(uint64_t t);
/* The host whose code runs now (-1: the world); set around every callback. */
extern int sim_cur_host;
/* The PRNG: uniform in [0, n). */
uint64_t sim_rand(uint64_t n);
bool sim_chance(unsigned percent);
/* The trace: the last lines logged, printed on a failure (or all of them, verbose). */
void sim_trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void sim_trace_dump(void);
extern bool sim_verbose;
/* Clocks the real code reads (meson redirects hax_now_*_ns here for sim builds). */
uint64_t sim_clock_mono_ns(void);
uint64_t sim_clock_real_ns(void);

/* ---- sim_hv.c: a hypervisor per host ---- */
struct sim_dom {
	char name[HAX_NAME_MAX];
	uint64_t incarnation;
	enum hv_dom_state state;
	uint32_t memory_mib, vcpus;
};

struct sim_machine {
	char name[HAX_NAME_MAX];
	uint32_t nodeid;
	bool powered;
	uint64_t power_gen, haxd_gen;   /* bumped at every power-off / haxd death */
	size_t ndoms;
	struct sim_dom doms[SIM_MAX_DOMS];
	uint64_t hv_fail_until_ns;      /* starts and migrations fail until then */
	uint64_t list_hang_until_ns;    /* listings take this long to answer */
};

extern struct sim_machine sim_machines[SIM_MAX_HOSTS];
extern size_t sim_nmachines;
extern const struct hv_ops sim_hv_ops;

/* Every start the hypervisors carry out, for the invariant that an incarnation names
 * one start on one host (sim/hax_sim.c). */
void sim_note_start(const char *name, uint64_t incarnation, int h);

/* Power a machine off: every domain on it is gone at once. */
void sim_machine_power_off(int h);

#endif
