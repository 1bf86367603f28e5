/* The guest journal (guest/journal.c): record decoder and the double-writer oracle over
 * any disk image. A record that decodes re-encodes to the same bytes. */
#include "fuzz.h"

#include "guest/journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t nblocks = size / JOURNAL_BLOCK, i;
	struct journal_report rep;
	struct journal_record r;
	uint8_t again[JOURNAL_BLOCK];

	for (i = 0; i < nblocks; i++) {
		if (journal_decode(data + i * JOURNAL_BLOCK, &r) == 0) {
			journal_encode(&r, again);
			FUZZ_CHECK(memcmp(again, data + i * JOURNAL_BLOCK, JOURNAL_BLOCK) == 0);
		}
	}
	if (nblocks > 0 && journal_check(data, nblocks, &rep) == 0) {
		/* A misplaced record is a violation, counted in none of these. */
		FUZZ_CHECK(rep.records + rep.blank + rep.corrupt <= nblocks);
		for (i = 0; i + 1 < rep.ninc; i++)
			(void)journal_downtime_ns(&rep, i);
		journal_report_free(&rep);
	}
	return 0;
}
