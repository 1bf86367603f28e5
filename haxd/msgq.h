/*
 * A FIFO of message copies with a bound: the send queue of haxd/cluster.c, which holds
 * what corosync refused with TRY_AGAIN until it takes it. Without a bound a corosync
 * that stays busy would let it grow until haxd runs out of memory; with one, a message
 * past it is refused at once with -ENOBUFS and the caller says what was lost.
 * Pure code: no I/O, no logging.
 */
#ifndef HAX_MSGQ_H
#define HAX_MSGQ_H

#include <stddef.h>
#include <stdint.h>

/* At most this many messages or bytes wait: a few full states (a hello is at most
 * MSG_MAX_BYTES) and a large failover's worth of small changes and commands. */
#define MSGQ_MAX_MSGS 8192
#define MSGQ_MAX_BYTES (64u * 1024 * 1024)

struct msgq_item {
	struct msgq_item *next;
	uint32_t nodeid;
	size_t len;
	char buf[];
};

struct msgq {
	struct msgq_item *head, **tail;
	size_t n, bytes;
	size_t max_n, max_bytes;
};

/* An empty queue with these bounds. */
void msgq_init(struct msgq *q, size_t max_n, size_t max_bytes);
/* Append a copy of buf: 0, or -ENOBUFS (queue unchanged) past either bound. */
int msgq_push(struct msgq *q, uint32_t nodeid, const void *buf, size_t len);
/* The oldest message, still queued; NULL if empty. */
struct msgq_item *msgq_peek(const struct msgq *q);
/* Remove and free the oldest message. */
void msgq_drop(struct msgq *q);
/* Remove and free every message. */
void msgq_clear(struct msgq *q);

#endif
