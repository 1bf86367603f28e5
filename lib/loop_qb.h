/*
 * The daemon's implementation of loop.h (lib/loop_qb.c) over one qb_loop.
 */
#ifndef HAX_LOOP_QB_H
#define HAX_LOOP_QB_H

#include <stddef.h>

#include <qb/qbloop.h>

/* Serve loop.h's timers, children (its SIGCHLD handler) and descriptors from loop.
 * Call once, before anything adds a timer or a child. 0 or -errno. */
int hax_loop_qb_init(qb_loop_t *loop);

/* Timers armed, children and descriptors watched right now (0 once an operation is
 * over: what tests check after a driver's completion or cancellation). */
size_t hax_loop_qb_timers_armed(void);
size_t hax_loop_qb_children_watched(void);
size_t hax_loop_qb_fds_watched(void);

/* Send hax_log lines to fn instead of qb_log (NULL: back to qb_log). */
typedef void (*hax_loop_qb_log_fn)(int prio, const char *line);
void hax_loop_qb_log_to(hax_loop_qb_log_fn fn);

#endif
