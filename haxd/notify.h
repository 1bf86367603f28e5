/*
 * systemd's notification protocol (sd_notify(3)), spoken directly: one datagram to
 * $NOTIFY_SOCKET. Without that variable (not under systemd) every call does nothing.
 */
#ifndef HAX_NOTIFY_H
#define HAX_NOTIFY_H

#include <stdint.h>

/* Send "READY=1", "STATUS=...", "WATCHDOG=1" or several lines at once; 0 or -errno. */
int notify_send(const char *text);

/* The service watchdog interval asked by systemd ($WATCHDOG_USEC, for this pid), in ms;
 * 0 when there is none. */
uint64_t notify_watchdog_ms(void);

#endif
