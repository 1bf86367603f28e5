/*
 * The guest journal (DESIGN.md): 512-byte records, record seq at block seq mod nblocks,
 * and the oracle that proves there was never a second writer. Pure code, no I/O.
 */
#ifndef HAX_JOURNAL_H
#define HAX_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#define JOURNAL_BLOCK 512
#define JOURNAL_MAGIC "HAXJRNL1"
#define JOURNAL_NAME_LEN 32

struct journal_record {
	uint64_t seq;
	uint64_t incarnation;
	uint32_t nodeid;
	uint64_t wall_ns;                 /* CLOCK_REALTIME */
	char domain[JOURNAL_NAME_LEN + 1];/* NUL-terminated copy */
};

/* CRC-32 (IEEE 802.3, reflected, as zlib's crc32). */
uint32_t journal_crc32(const void *buf, size_t len);

/* Encode r into exactly JOURNAL_BLOCK bytes (domain name truncated to 32 bytes). */
void journal_encode(const struct journal_record *r, uint8_t out[JOURNAL_BLOCK]);

/* 0 = valid record; -ENODATA = all-zero block; -EINVAL = bad magic, non-zero padding or CRC. */
int journal_decode(const uint8_t in[JOURNAL_BLOCK], struct journal_record *out);

struct journal_incarnation {
	uint64_t incarnation;
	uint32_t nodeid;                  /* the host of its first record */
	uint64_t first_seq, last_seq;
	uint64_t first_ns, last_ns;
	uint64_t records;
};

struct journal_violation {
	uint64_t seq;                     /* the record where it was seen */
	uint64_t prev_incarnation, incarnation;
	uint32_t prev_nodeid, nodeid;
	char what[160];                   /* one line, e.g. "incarnation went backwards" */
};

struct journal_report {
	uint64_t records, blank, corrupt;
	size_t ninc;                      /* sorted by first_seq */
	struct journal_incarnation *inc;
	size_t nviol;
	struct journal_violation *viol;
};

/* Run the oracle over an image of nblocks blocks. Rules: valid records sorted by seq must
 * have non-decreasing incarnation; one incarnation belongs to one host; a record found at
 * a block other than seq mod nblocks is a violation. Returns 0 (read the report's nviol),
 * -ENOMEM never (aborts). */
int journal_check(const uint8_t *image, uint64_t nblocks, struct journal_report *out);
void journal_report_free(struct journal_report *r);

/*
 * Streaming form of journal_check for disks too big to hold in memory: feed every block
 * once (any order), then finish. journal_check() is this over an image. The scan keeps
 * 32 bytes per valid record, not the 512-byte blocks.
 */
struct journal_scan;
struct journal_scan *journal_scan_new(uint64_t nblocks);
void journal_scan_block(struct journal_scan *s, uint64_t block, const uint8_t buf[JOURNAL_BLOCK]);
/* Run the rules, fill out and free s. Always 0. */
int journal_scan_finish(struct journal_scan *s, struct journal_report *out);

/* Downtime between incarnation k and k + 1 of a report (k + 1 < ninc), in ns: first record
 * of k + 1 minus last record of k. Negative when the two overlapped or clocks disagree. */
int64_t journal_downtime_ns(const struct journal_report *r, size_t k);

#endif
