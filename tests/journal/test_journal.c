/* Unit tests of the journal record format and the double-writer oracle (guest/journal.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "guest/journal.h"

#define MS 1000000ull
#define T0 1790000000000000000ull /* some wall-clock ns in 2026 */

static void test_crc_known_answer(void **state)
{
	(void)state;
	assert_int_equal(journal_crc32("123456789", 9), 0xCBF43926u);
	assert_int_equal(journal_crc32("", 0), 0);
}

static struct journal_record rec(uint64_t seq, uint64_t inc, uint32_t node, uint64_t ns)
{
	struct journal_record r = {.seq = seq, .incarnation = inc, .nodeid = node, .wall_ns = ns};

	strcpy(r.domain, "web1");
	return r;
}

static void test_round_trip(void **state)
{
	struct journal_record in = rec(0x0102030405060708ull, 0x1112131415161718ull, 0x21222324,
				       0x3132333435363738ull),
			      out;
	uint8_t b[JOURNAL_BLOCK];

	(void)state;
	journal_encode(&in, b);
	assert_int_equal(journal_decode(b, &out), 0);
	assert_true(out.seq == in.seq && out.incarnation == in.incarnation);
	assert_int_equal(out.nodeid, in.nodeid);
	assert_true(out.wall_ns == in.wall_ns);
	assert_string_equal(out.domain, "web1");
}

/* The byte layout of DESIGN.md, little-endian whatever the host. */
static void test_layout(void **state)
{
	struct journal_record in =
	    rec(0x0102030405060708ull, 0x1112131415161718ull, 0x21222324, 0x3132333435363738ull);
	uint8_t b[JOURNAL_BLOCK];
	uint32_t crc;

	(void)state;
	journal_encode(&in, b);
	assert_memory_equal(b, "HAXJRNL1", 8);
	assert_int_equal(b[8], 0x08);
	assert_int_equal(b[15], 0x01);
	assert_int_equal(b[16], 0x18);
	assert_int_equal(b[24], 0x24);
	assert_int_equal(b[27], 0x21);
	assert_int_equal(b[28] | b[29] | b[30] | b[31], 0);
	assert_int_equal(b[32], 0x38);
	assert_int_equal(b[39], 0x31);
	assert_memory_equal(b + 40, "web1\0\0\0\0", 8);
	for (int i = 72; i < 508; i++)
		assert_int_equal(b[i], 0);
	crc = journal_crc32(b, 508);
	assert_int_equal(b[508], crc & 0xff);
	assert_int_equal(b[511], crc >> 24);
}

static void test_name_lengths(void **state)
{
	struct journal_record in = rec(1, 1, 1, 1), out;
	uint8_t b[JOURNAL_BLOCK];

	(void)state;
	/* exactly 32 bytes: no NUL on disk, still decodes */
	strcpy(in.domain, "abcdefghijklmnopqrstuvwxyz012345");
	journal_encode(&in, b);
	assert_int_equal(b[71], '5');
	assert_int_equal(journal_decode(b, &out), 0);
	assert_string_equal(out.domain, "abcdefghijklmnopqrstuvwxyz012345");
}

static void test_every_byte_checked(void **state)
{
	struct journal_record in = rec(77, 3, 2, T0), out;
	uint8_t b[JOURNAL_BLOCK], c[JOURNAL_BLOCK];

	(void)state;
	journal_encode(&in, b);
	for (int i = 0; i < JOURNAL_BLOCK; i++) {
		for (int bit = 0; bit < 8; bit++) {
			memcpy(c, b, sizeof(c));
			c[i] ^= (uint8_t)(1u << bit);
			assert_int_equal(journal_decode(c, &out), -EINVAL);
		}
	}
}

/* Junk in the reserved fields is refused even when its CRC is right. */
static void test_reserved_fields(void **state)
{
	struct journal_record in = rec(5, 1, 1, T0), out;
	const int spots[] = {28, 31, 45, 71, 72, 300, 507};
	uint8_t b[JOURNAL_BLOCK];
	uint32_t crc;

	(void)state;
	for (size_t k = 0; k < sizeof(spots) / sizeof(spots[0]); k++) {
		journal_encode(&in, b);
		b[spots[k]] = 'x';
		crc = journal_crc32(b, 508);
		for (int i = 0; i < 4; i++)
			b[508 + i] = (uint8_t)(crc >> (8 * i));
		assert_int_equal(journal_decode(b, &out), -EINVAL);
	}
}

static void test_blank(void **state)
{
	uint8_t b[JOURNAL_BLOCK] = {0};
	struct journal_record out;

	(void)state;
	assert_int_equal(journal_decode(b, &out), -ENODATA);
	b[200] = 1;
	assert_int_equal(journal_decode(b, &out), -EINVAL);
}

/* ---- oracle ---- */

struct image {
	uint64_t nblocks;
	uint8_t *data;
};

static struct image image_new(uint64_t nblocks)
{
	struct image im = {nblocks, calloc(nblocks, JOURNAL_BLOCK)};

	assert_non_null(im.data);
	return im;
}

static void put(struct image *im, uint64_t seq, uint64_t inc, uint32_t node, uint64_t ns)
{
	struct journal_record r = rec(seq, inc, node, ns);

	journal_encode(&r, im->data + (seq % im->nblocks) * JOURNAL_BLOCK);
}

/* A writer's run: seqs [from, to] every 20 ms starting at ns. Returns the last ns. */
static uint64_t run(struct image *im, uint64_t from, uint64_t to, uint64_t inc, uint32_t node,
		    uint64_t ns)
{
	for (uint64_t s = from; s <= to; s++, ns += 20 * MS)
		put(im, s, inc, node, ns);
	return ns - 20 * MS;
}

static void check(struct image *im, struct journal_report *rep)
{
	assert_int_equal(journal_check(im->data, im->nblocks, rep), 0);
}

static void test_clean_failover(void **state)
{
	struct image im = image_new(1024);
	struct journal_report rep;
	uint64_t last;

	(void)state;
	last = run(&im, 0, 99, 1, 1, T0);
	run(&im, 100, 199, 2, 2, last + 1500 * MS);
	check(&im, &rep);
	assert_int_equal(rep.nviol, 0);
	assert_int_equal(rep.records, 200);
	assert_int_equal(rep.blank, 1024 - 200);
	assert_int_equal(rep.corrupt, 0);
	assert_int_equal(rep.ninc, 2);
	assert_int_equal(rep.inc[0].incarnation, 1);
	assert_int_equal(rep.inc[0].nodeid, 1);
	assert_int_equal(rep.inc[0].first_seq, 0);
	assert_int_equal(rep.inc[0].last_seq, 99);
	assert_int_equal(rep.inc[0].records, 100);
	assert_true(rep.inc[0].first_ns == T0 && rep.inc[0].last_ns == last);
	assert_int_equal(rep.inc[1].incarnation, 2);
	assert_int_equal(rep.inc[1].nodeid, 2);
	assert_int_equal(rep.inc[1].first_seq, 100);
	assert_int_equal(rep.inc[1].last_seq, 199);
	assert_true(journal_downtime_ns(&rep, 0) == (int64_t)(1500 * MS));
	journal_report_free(&rep);
	free(im.data);
}

/* Incarnation 1 goes on writing after incarnation 2 started: the fencing failed. */
static void test_overlapping_writers(void **state)
{
	struct image im = image_new(1024);
	struct journal_report rep;
	uint64_t last;

	(void)state;
	last = run(&im, 0, 99, 1, 1, T0);
	last = run(&im, 100, 149, 2, 2, last + 1000 * MS);
	run(&im, 150, 159, 1, 1, last + 20 * MS);
	check(&im, &rep);
	assert_int_equal(rep.nviol, 1);
	assert_int_equal(rep.viol[0].seq, 150);
	assert_int_equal(rep.viol[0].prev_incarnation, 2);
	assert_int_equal(rep.viol[0].incarnation, 1);
	assert_int_equal(rep.viol[0].prev_nodeid, 2);
	assert_int_equal(rep.viol[0].nodeid, 1);
	assert_non_null(strstr(rep.viol[0].what, "backwards"));
	journal_report_free(&rep);
	free(im.data);
}

/* Two writers interleaved record by record: caught, and reported once, not 50 times. */
static void test_interleaved_writers(void **state)
{
	struct image im = image_new(1024);
	struct journal_report rep;

	(void)state;
	run(&im, 0, 99, 1, 1, T0);
	for (uint64_t s = 100; s < 200; s++)
		put(&im, s, s % 2 ? 1 : 2, s % 2 ? 1 : 2, T0 + s * 20 * MS);
	check(&im, &rep);
	assert_int_equal(rep.nviol, 1);
	assert_int_equal(rep.viol[0].seq, 101);
	assert_int_equal(rep.ninc, 2);
	assert_int_equal(rep.inc[0].records, 150);
	journal_report_free(&rep);
	free(im.data);
}

/* The same incarnation from two hosts: a botched migration left a twin running. */
static void test_twin(void **state)
{
	struct image im = image_new(1024);
	struct journal_report rep;
	uint64_t last;

	(void)state;
	last = run(&im, 0, 49, 7, 1, T0);
	run(&im, 50, 59, 7, 2, last + 20 * MS);
	check(&im, &rep);
	assert_int_equal(rep.nviol, 1);
	assert_int_equal(rep.viol[0].seq, 50);
	assert_int_equal(rep.viol[0].incarnation, 7);
	assert_int_equal(rep.viol[0].prev_nodeid, 1);
	assert_int_equal(rep.viol[0].nodeid, 2);
	assert_non_null(strstr(rep.viol[0].what, "two hosts"));
	assert_int_equal(rep.ninc, 1);
	assert_int_equal(rep.inc[0].nodeid, 1);
	journal_report_free(&rep);
	free(im.data);
}

/* seq beyond nblocks: the ring wrapped and the oldest records are gone. */
static void test_wrapped_ring(void **state)
{
	struct image im = image_new(100);
	struct journal_report rep;
	uint64_t last;

	(void)state;
	last = run(&im, 0, 149, 1, 1, T0);
	run(&im, 150, 229, 2, 3, last + 700 * MS);
	check(&im, &rep);
	assert_int_equal(rep.nviol, 0);
	assert_int_equal(rep.records, 100);
	assert_int_equal(rep.blank, 0);
	assert_int_equal(rep.ninc, 2);
	assert_int_equal(rep.inc[0].first_seq, 130);
	assert_int_equal(rep.inc[0].last_seq, 149);
	assert_int_equal(rep.inc[0].records, 20);
	assert_int_equal(rep.inc[1].first_seq, 150);
	assert_int_equal(rep.inc[1].last_seq, 229);
	assert_int_equal(rep.inc[1].nodeid, 3);
	assert_true(journal_downtime_ns(&rep, 0) == (int64_t)(700 * MS));
	journal_report_free(&rep);
	free(im.data);
}

static void test_misplaced_record(void **state)
{
	struct image im = image_new(64);
	struct journal_report rep;
	struct journal_record r = rec(5, 1, 1, T0);

	(void)state;
	run(&im, 0, 3, 1, 1, T0);
	journal_encode(&r, im.data + 9 * JOURNAL_BLOCK);
	check(&im, &rep);
	assert_int_equal(rep.nviol, 1);
	assert_int_equal(rep.viol[0].seq, 5);
	assert_non_null(strstr(rep.viol[0].what, "block 9"));
	assert_int_equal(rep.records, 4);
	journal_report_free(&rep);
	free(im.data);
}

/* A torn block is counted, not a violation (journal.c says why). */
static void test_corrupt_counted(void **state)
{
	struct image im = image_new(64);
	struct journal_report rep;

	(void)state;
	run(&im, 0, 9, 1, 1, T0);
	im.data[4 * JOURNAL_BLOCK + 100] ^= 0x40;
	memset(im.data + 20 * JOURNAL_BLOCK, 0xee, JOURNAL_BLOCK);
	check(&im, &rep);
	assert_int_equal(rep.nviol, 0);
	assert_int_equal(rep.corrupt, 2);
	assert_int_equal(rep.records, 9);
	assert_int_equal(rep.blank, 64 - 11);
	journal_report_free(&rep);
	free(im.data);
}

static void test_empty(void **state)
{
	struct image im = image_new(16);
	struct journal_report rep;

	(void)state;
	check(&im, &rep);
	assert_int_equal(rep.records, 0);
	assert_int_equal(rep.ninc, 0);
	assert_int_equal(rep.nviol, 0);
	assert_int_equal(rep.blank, 16);
	journal_report_free(&rep);
	free(im.data);
}

/* Blocks fed in any order give the same answer as the image form. */
static void test_streaming_any_order(void **state)
{
	struct image im = image_new(128);
	struct journal_report a, b;
	struct journal_scan *s;
	uint64_t last;

	(void)state;
	last = run(&im, 0, 59, 1, 1, T0);
	last = run(&im, 60, 99, 3, 2, last + 900 * MS);
	run(&im, 100, 104, 2, 1, last + 20 * MS);
	check(&im, &a);
	s = journal_scan_new(im.nblocks);
	for (uint64_t i = im.nblocks; i-- > 0;)
		journal_scan_block(s, i, im.data + i * JOURNAL_BLOCK);
	journal_scan_finish(s, &b);
	assert_int_equal(a.nviol, 1);
	assert_int_equal(b.nviol, a.nviol);
	assert_int_equal(b.ninc, a.ninc);
	assert_int_equal(b.records, a.records);
	for (size_t k = 0; k < a.ninc; k++) {
		assert_int_equal(b.inc[k].incarnation, a.inc[k].incarnation);
		assert_int_equal(b.inc[k].first_seq, a.inc[k].first_seq);
		assert_int_equal(b.inc[k].last_seq, a.inc[k].last_seq);
		assert_int_equal(b.inc[k].records, a.inc[k].records);
	}
	assert_int_equal(b.viol[0].seq, 100);
	assert_string_equal(b.viol[0].what, a.viol[0].what);
	journal_report_free(&a);
	journal_report_free(&b);
	journal_report_free(NULL);
	free(im.data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_crc_known_answer),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_layout),
	    cmocka_unit_test(test_name_lengths),
	    cmocka_unit_test(test_every_byte_checked),
	    cmocka_unit_test(test_reserved_fields),
	    cmocka_unit_test(test_blank),
	    cmocka_unit_test(test_clean_failover),
	    cmocka_unit_test(test_overlapping_writers),
	    cmocka_unit_test(test_interleaved_writers),
	    cmocka_unit_test(test_twin),
	    cmocka_unit_test(test_wrapped_ring),
	    cmocka_unit_test(test_misplaced_record),
	    cmocka_unit_test(test_corrupt_counted),
	    cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_streaming_any_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
