/*
 * This host's watchdog device (/dev/watchdog in production, the lab's stand-in file in
 * the lab): the self-fencing half of watchdog fencing. Opening arms it; every write
 * feeds it; writing 'V' before close disarms it (the Linux "magic close").
 */
#ifndef HAX_WATCHDOG_H
#define HAX_WATCHDOG_H

#include <stdbool.h>
#include <stdint.h>

struct watchdog;

/* Arm: open path and, for a real device, set its timeout. 0 with *out, or -errno. */
int watchdog_open(const char *path, uint64_t timeout_ms, struct watchdog **out);
/* Feed; -errno if the write failed (the device will then fire). */
int watchdog_feed(struct watchdog *w);
/* Disarm (magic close) and free; accepts NULL. */
void watchdog_close(struct watchdog *w);

#endif
