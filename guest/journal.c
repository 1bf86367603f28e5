/*
 * The guest journal: record encoding and the double-writer oracle (DESIGN.md, "Guest
 * journal"). Pure code: no I/O, no clock, no logging. Every integer on disk is
 * little-endian whatever the host is, so a journal written on one machine checks on any.
 *
 * Oracle decisions (journal.h gives the rules):
 * - A block that is neither all zero nor a valid record (torn write, bit rot, foreign
 *   data) is counted in report->corrupt and is not a violation: a second writer writes
 *   whole valid records, so corruption proves a storage or crash fault, not two writers.
 *   The checker prints the count so a human still sees it.
 * - A valid record at a block other than seq mod nblocks is a violation and takes no part
 *   in the ordering rules: its place says nothing about when it was written.
 * - Violations are reported once per distinct finding (the first seq where it shows),
 *   not once per record: two interleaved writers would otherwise yield one violation per
 *   alternation and bury the two incarnations involved.
 * - The host of an incarnation is the nodeid of its first record by seq.
 */
#include "journal.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

/* On-disk offsets (DESIGN.md). */
#define OFF_MAGIC 0
#define OFF_SEQ 8
#define OFF_INC 16
#define OFF_NODE 24
#define OFF_PAD1 28
#define OFF_WALL 32
#define OFF_NAME 40
#define OFF_PAD2 72
#define OFF_CRC 508

static uint32_t crc_table[256];
static bool crc_table_ready;

/* The reflected IEEE polynomial; built on first use so the table is never typed in. */
static void crc_table_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
	crc_table_ready = true;
}

uint32_t journal_crc32(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t c = 0xFFFFFFFFu;

	if (!crc_table_ready)
		crc_table_init();
	while (len--)
		c = crc_table[(c ^ *p++) & 0xFF] ^ (c >> 8);
	return c ^ 0xFFFFFFFFu;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_le32(const uint8_t *p)
{
	uint32_t v = 0;

	for (int i = 3; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint64_t get_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

void journal_encode(const struct journal_record *r, uint8_t out[JOURNAL_BLOCK])
{
	size_t len = strnlen(r->domain, JOURNAL_NAME_LEN);

	memset(out, 0, JOURNAL_BLOCK);
	memcpy(out + OFF_MAGIC, JOURNAL_MAGIC, 8);
	put_le64(out + OFF_SEQ, r->seq);
	put_le64(out + OFF_INC, r->incarnation);
	put_le32(out + OFF_NODE, r->nodeid);
	put_le64(out + OFF_WALL, r->wall_ns);
	memcpy(out + OFF_NAME, r->domain, len);
	put_le32(out + OFF_CRC, journal_crc32(out, OFF_CRC));
}

static bool all_zero(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

/* The name field is NUL-padded: once a NUL is seen, every later byte must be NUL too. */
static bool name_well_padded(const uint8_t *name)
{
	size_t len = strnlen((const char *)name, JOURNAL_NAME_LEN);

	return all_zero(name + len, JOURNAL_NAME_LEN - len);
}

int journal_decode(const uint8_t in[JOURNAL_BLOCK], struct journal_record *out)
{
	if (all_zero(in, JOURNAL_BLOCK))
		return -ENODATA;
	if (memcmp(in + OFF_MAGIC, JOURNAL_MAGIC, 8) != 0)
		return -EINVAL;
	if (get_le32(in + OFF_CRC) != journal_crc32(in, OFF_CRC))
		return -EINVAL;
	/* A record with the right CRC but junk in reserved fields was not written by us. */
	if (!all_zero(in + OFF_PAD1, 4) || !all_zero(in + OFF_PAD2, OFF_CRC - OFF_PAD2) ||
	    !name_well_padded(in + OFF_NAME))
		return -EINVAL;

	out->seq = get_le64(in + OFF_SEQ);
	out->incarnation = get_le64(in + OFF_INC);
	out->nodeid = get_le32(in + OFF_NODE);
	out->wall_ns = get_le64(in + OFF_WALL);
	memcpy(out->domain, in + OFF_NAME, JOURNAL_NAME_LEN);
	out->domain[JOURNAL_NAME_LEN] = '\0';
	return 0;
}

/* ---- the oracle ---- */

struct scan_rec {
	uint64_t seq, incarnation, wall_ns;
	uint32_t nodeid;
};

struct journal_scan {
	uint64_t nblocks;
	uint64_t blank, corrupt;
	struct scan_rec *rec;
	size_t nrec, caprec;
	struct journal_violation *viol;
	size_t nviol, capviol;
	struct journal_incarnation *inc;
	size_t ninc, capinc;
};

struct journal_scan *journal_scan_new(uint64_t nblocks)
{
	struct journal_scan *s = hax_xcalloc(1, sizeof(*s));

	s->nblocks = nblocks;
	return s;
}

static bool same_finding(const struct journal_violation *a, const struct journal_violation *b)
{
	return a->prev_incarnation == b->prev_incarnation && a->incarnation == b->incarnation &&
	       a->prev_nodeid == b->prev_nodeid && a->nodeid == b->nodeid &&
	       strcmp(a->what, b->what) == 0;
}

/* Append v unless the same finding is already listed (its first seq wins). */
static void add_violation(struct journal_scan *s, const struct journal_violation *v)
{
	for (size_t i = 0; i < s->nviol; i++)
		if (same_finding(&s->viol[i], v))
			return;
	if (s->nviol == s->capviol) {
		s->capviol = s->capviol ? 2 * s->capviol : 8;
		s->viol = hax_xrealloc(s->viol, s->capviol * sizeof(*s->viol));
	}
	s->viol[s->nviol++] = *v;
}

static void misplaced(struct journal_scan *s, uint64_t block, const struct journal_record *r)
{
	struct journal_violation v = {
	    .seq = r->seq,
	    .prev_incarnation = r->incarnation,
	    .incarnation = r->incarnation,
	    .prev_nodeid = r->nodeid,
	    .nodeid = r->nodeid,
	};

	snprintf(v.what, sizeof(v.what),
		 "record seq %llu (incarnation %llu, node %u) found at block %llu, belongs at "
		 "block %llu",
		 (unsigned long long)r->seq, (unsigned long long)r->incarnation, r->nodeid,
		 (unsigned long long)block, (unsigned long long)(r->seq % s->nblocks));
	add_violation(s, &v);
}

void journal_scan_block(struct journal_scan *s, uint64_t block, const uint8_t buf[JOURNAL_BLOCK])
{
	struct journal_record r;
	int rc = journal_decode(buf, &r);

	if (rc == -ENODATA) {
		s->blank++;
		return;
	}
	if (rc < 0) {
		s->corrupt++;
		return;
	}
	if (r.seq % s->nblocks != block) {
		misplaced(s, block, &r);
		return;
	}
	if (s->nrec == s->caprec) {
		s->caprec = s->caprec ? 2 * s->caprec : 256;
		s->rec = hax_xrealloc(s->rec, s->caprec * sizeof(*s->rec));
	}
	s->rec[s->nrec++] = (struct scan_rec){
	    .seq = r.seq,
	    .incarnation = r.incarnation,
	    .wall_ns = r.wall_ns,
	    .nodeid = r.nodeid,
	};
}

static int cmp_seq(const void *a, const void *b)
{
	const struct scan_rec *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The entry of incarnation r belongs to, created at its first record (so the list stays
 * sorted by first_seq). hint is the entry the previous record used: the usual case. */
static struct journal_incarnation *inc_entry(struct journal_scan *s, const struct scan_rec *r,
					     struct journal_incarnation *hint)
{
	struct journal_incarnation *e;

	if (hint && hint->incarnation == r->incarnation)
		return hint;
	for (size_t i = 0; i < s->ninc; i++)
		if (s->inc[i].incarnation == r->incarnation)
			return &s->inc[i];
	if (s->ninc == s->capinc) {
		s->capinc = s->capinc ? 2 * s->capinc : 8;
		s->inc = hax_xrealloc(s->inc, s->capinc * sizeof(*s->inc));
	}
	e = &s->inc[s->ninc++];
	*e = (struct journal_incarnation){
	    .incarnation = r->incarnation,
	    .nodeid = r->nodeid,
	    .first_seq = r->seq,
	    .first_ns = r->wall_ns,
	};
	return e;
}

static void check_host(struct journal_scan *s, const struct journal_incarnation *e,
		       const struct scan_rec *r)
{
	struct journal_violation v = {
	    .seq = r->seq,
	    .prev_incarnation = e->incarnation,
	    .incarnation = r->incarnation,
	    .prev_nodeid = e->nodeid,
	    .nodeid = r->nodeid,
	};

	if (e->nodeid == r->nodeid)
		return;
	snprintf(v.what, sizeof(v.what), "incarnation %llu written from two hosts (%u and %u)",
		 (unsigned long long)r->incarnation, e->nodeid, r->nodeid);
	add_violation(s, &v);
}

static void check_order(struct journal_scan *s, const struct scan_rec *prev,
			const struct scan_rec *r)
{
	struct journal_violation v = {
	    .seq = r->seq,
	    .prev_incarnation = prev->incarnation,
	    .incarnation = r->incarnation,
	    .prev_nodeid = prev->nodeid,
	    .nodeid = r->nodeid,
	};

	if (r->incarnation >= prev->incarnation)
		return;
	snprintf(v.what, sizeof(v.what),
		 "incarnation went backwards: %llu (node %u) wrote after %llu (node %u) started",
		 (unsigned long long)r->incarnation, r->nodeid,
		 (unsigned long long)prev->incarnation, prev->nodeid);
	add_violation(s, &v);
}

/* Walk the records in seq order: no two valid records share a seq, since both would
 * have to sit in the same block. */
static void run_rules(struct journal_scan *s)
{
	struct journal_incarnation *e = NULL;

	if (s->nrec)
		qsort(s->rec, s->nrec, sizeof(*s->rec), cmp_seq);
	for (size_t i = 0; i < s->nrec; i++) {
		const struct scan_rec *r = &s->rec[i];

		e = inc_entry(s, r, e);
		check_host(s, e, r);
		if (i > 0)
			check_order(s, &s->rec[i - 1], r);
		e->last_seq = r->seq;
		e->last_ns = r->wall_ns;
		e->records++;
	}
}

int journal_scan_finish(struct journal_scan *s, struct journal_report *out)
{
	run_rules(s);
	*out = (struct journal_report){
	    .records = s->nrec,
	    .blank = s->blank,
	    .corrupt = s->corrupt,
	    .ninc = s->ninc,
	    .inc = s->inc,
	    .nviol = s->nviol,
	    .viol = s->viol,
	};
	free(s->rec);
	free(s);
	return 0;
}

int journal_check(const uint8_t *image, uint64_t nblocks, struct journal_report *out)
{
	struct journal_scan *s = journal_scan_new(nblocks);

	for (uint64_t b = 0; b < nblocks; b++)
		journal_scan_block(s, b, image + b * JOURNAL_BLOCK);
	return journal_scan_finish(s, out);
}

void journal_report_free(struct journal_report *r)
{
	if (!r)
		return;
	free(r->inc);
	free(r->viol);
	r->inc = NULL;
	r->viol = NULL;
	r->ninc = r->nviol = 0;
}

int64_t journal_downtime_ns(const struct journal_report *r, size_t k)
{
	return (int64_t)(r->inc[k + 1].first_ns - r->inc[k].last_ns);
}
