/*
 * The leader's changes in flight: sent, not yet delivered back. The leader decides from
 * the state it has, which does not show its own changes until they come back, so each
 * tick would propose them again (under load, one copy per tick, each applied, persisted
 * and multicast). A change is not sent again while an identical one (its "now_ns" stamp
 * aside) is the last one in flight for the same object; a different change to that
 * object in between lets it through, so the last word is always the newest decision.
 * Pure code: no I/O, no logging.
 */
#ifndef HAX_PROPOSALS_H
#define HAX_PROPOSALS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct proposals;

struct proposals *proposals_new(void);
void proposals_free(struct proposals *p);   /* accepts NULL */

/* Would change repeat the last change in flight for its object? */
bool proposals_repeat(const struct proposals *p, const json_t *change);
/* change was sent and produces state seq. */
void proposals_sent(struct proposals *p, uint64_t seq, const json_t *change);
/* Propose change (borrowed): unless it repeats, send(opaque, *next_seq, change) and, if
 * that succeeded, record it and advance *next_seq. A failed send leaves *next_seq alone:
 * a skipped seq would make every member drop the next change as diverged. 0 sent, 1 a
 * repeat (nothing sent), or send's -errno. */
typedef int (*proposals_send_fn)(void *opaque, uint64_t seq, const json_t *change);
int proposals_propose(struct proposals *p, uint64_t *next_seq, const json_t *change,
		      proposals_send_fn send, void *opaque);
/* Every change up to seq has been delivered (applied or rejected). */
void proposals_delivered(struct proposals *p, uint64_t seq);
/* A new view: nothing is in flight any more (the next leader starts afresh). */
void proposals_clear(struct proposals *p);
/* How many are in flight. */
size_t proposals_count(const struct proposals *p);

#endif
