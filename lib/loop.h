/*
 * The one event loop, seen from modules that must not include libqb (agent, drivers,
 * leader): timers, children, file descriptors and a log line. lib/loop_qb.c implements these over qb_loop and qb_log; a
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

/* File descriptors: fn runs from the loop when fd is ready for events (POLLIN and/or
 * POLLOUT from <poll.h>); revents may also carry POLLERR/POLLHUP. Watching a watched fd
 * again replaces its events, fn and data (e.g. to add POLLOUT while output is queued).
 * fn may unwatch (and close) its own fd or any other. 0 or -errno. */
typedef void (*hax_fd_fn)(void *data, int fd, uint32_t revents);
int hax_fd_watch(int fd, uint32_t events, hax_fd_fn fn, void *data);
/* Stop watching fd before closing it; an unwatched fd is ignored. */
void hax_fd_unwatch(int fd);

/* One log line at a syslog priority. */
void hax_log(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
