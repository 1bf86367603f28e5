/*
 * The one event loop, seen from modules that must not include libqb (agent, drivers,
 * leader): timers and a log line. main.c implements these over qb_loop and qb_log; a
 * simulator can link its own implementation instead (STYLE.md habit 4).
 */
#ifndef HAX_LOOP_H
#define HAX_LOOP_H

#include <stdint.h>
#include <syslog.h>

typedef uint64_t hax_timer_t;
typedef void (*hax_timer_fn)(void *data);

/* One-shot timer after ms milliseconds. 0 or -errno; *t is written only on success. */
int hax_timer_add(uint64_t ms, hax_timer_fn fn, void *data, hax_timer_t *t);
/* Cancel a pending timer; a fired or zero handle is ignored. */
void hax_timer_del(hax_timer_t t);

/* Child processes: fn runs once, from the loop, when pid exits (status as waitpid gives
 * it). Children nobody watches are reaped and ignored. 0 or -errno. */
typedef void (*hax_child_fn)(void *data, int pid, int status);
int hax_child_watch(int pid, hax_child_fn fn, void *data);
/* Stop watching (the child is still reaped when it exits). */
void hax_child_unwatch(int pid);

/* One log line at a syslog priority. */
void hax_log(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
