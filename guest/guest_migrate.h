/*
 * hax-guest's stop-and-copy migration (the sim driver's migration): the source guest stops
 * writing its journal, sends its state over TCP to a receiving guest on the target host,
 * and only after the target confirmed the bytes does it send the commit that lets the
 * target run. The source never resumes once it has sent the commit; the target never runs
 * without it. So at most one copy writes, and a lost commit leaves none running (the
 * leader then restarts the domain) rather than two.
 *
 * Control files in the domain's directory (hv_sim writes and reads them):
 *   migrate-to        "ADDR PORT TIMEOUT_MS": the source's request (then SIGUSR1)
 *   migrate-progress  "PHASE DONE TOTAL": rewritten as the copy goes
 *   migrate-result    "done" or "failed: WHY"
 *   incoming          marker of a receiving guest, removed at the commit
 *   incoming-port     the port the receiving guest listens on
 * Fault hook of the simulator (lab tests): if DIR/../fault-migrate-in exists, a receiving
 * guest breaks the connection after half of the state.
 */
#ifndef HAX_GUEST_MIGRATE_H
#define HAX_GUEST_MIGRATE_H

#include <stddef.h>
#include <stdint.h>

struct gmig_state {
	uint64_t seq;              /* the journal record to write next */
	uint64_t incarnation;      /* the source's */
	uint8_t *mem;              /* the guest's "memory", malloc'd */
	size_t size;
	uint64_t speed;            /* sending: bytes per second, 0 = unlimited */
};

/* Source. 0: committed (the guest must exit without writing again); <0: nothing was
 * committed, the guest resumes; err says why. Writes migrate-result either way. */
int gmig_send(const char *dir, const char *domain, const struct gmig_state *st, char *err,
	      size_t errlen);

/* Target. Listens on addr (port chosen by the kernel, written to DIR/incoming-port),
 * receives and verifies the state, waits for the commit. 0: *st filled (mem malloc'd),
 * run from st->seq; <0: no commit, the guest must exit without writing. */
int gmig_receive(const char *dir, const char *addr, const char *domain, uint64_t wait_ms,
		 struct gmig_state *st, char *err, size_t errlen);

#endif
