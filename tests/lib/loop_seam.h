/*
 * The loop seam: haxd's own loop.h over a real qb_loop (lib/loop_qb.c)
 * (timers, the SIGCHLD reaper, fd watches, hax_log), shared by the test programs of the fence
 * drivers, the child runner and the sim hypervisor driver, and the redfish harness.
 * Every hax_log line is also kept in seam_log for tests that look for secrets.
 */
#ifndef HAX_TEST_LOOP_SEAM_H
#define HAX_TEST_LOOP_SEAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

extern char seam_log[65536];

/* Create the loop and its SIGCHLD handler. 0 or -1. */
int seam_init(void);
void seam_fini(void);

/* Run the loop until *calls reaches want or ms pass; true if it was reached. Whoever
 * increments *calls should call seam_stop() so that the loop notices at once. */
bool seam_run_until(const int *calls, int want, uint64_t ms);
void seam_run_for(uint64_t ms);
void seam_stop(void);

/* Timers armed, children and fds watched right now: 0 once an operation is over. */
size_t seam_timers_armed(void);
size_t seam_children_watched(void);
size_t seam_fds_watched(void);

#endif
