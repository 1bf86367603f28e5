/*
 * hax-journal-check: read a whole guest disk and run the double-writer oracle over it
 * (journal_check, DESIGN.md "Guest journal"). Prints each violation, each incarnation
 * with its span and host, and the downtime between consecutive incarnations.
 *
 * Exit status: 0 clean, 1 at least one violation, 2 usage or I/O error.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "blockdev.h"
#include "journal.h"
#include "lib/util.h"

#define EXIT_VIOLATION 1
#define EXIT_TROUBLE 2
#define CHUNK_BLOCKS 2048 /* 1 MiB per read */

struct opts {
	bool quiet, json;
	const char *initiator, *disk;
};

static void usage(FILE *f)
{
	fputs("usage: hax-journal-check [--quiet] [--json] [--initiator IQN] "
	      "FILE|iscsi://PORTAL/TARGET-IQN/LUN\n"
	      "  --quiet  print only violations and the summary line\n"
	      "  --json   print one JSON object instead of text\n"
	      "exit: 0 clean, 1 violation (two writers), 2 usage or I/O error\n",
	      f);
}

static int parse_args(struct opts *o, int argc, char **argv)
{
	static const struct option lopts[] = {
	    {"quiet", no_argument, NULL, 'q'},
	    {"json", no_argument, NULL, 'j'},
	    {"initiator", required_argument, NULL, 'I'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "qjh", lopts, NULL)) != -1) {
		switch (c) {
		case 'q':
			o->quiet = true;
			break;
		case 'j':
			o->json = true;
			break;
		case 'I':
			o->initiator = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind + 1 != argc) {
		usage(stderr);
		return -EINVAL;
	}
	o->disk = argv[optind];
	return 0;
}

/* Feed every block to the oracle, 1 MiB at a time: the image itself is never kept. */
static int read_disk(struct bdev *bd, struct journal_report *rep)
{
	uint64_t nblocks = bdev_nblocks(bd);
	uint8_t *buf = hax_xmalloc((size_t)CHUNK_BLOCKS * JOURNAL_BLOCK);
	struct journal_scan *s = journal_scan_new(nblocks);
	int r = 0;

	for (uint64_t lba = 0; lba < nblocks; lba += CHUNK_BLOCKS) {
		uint64_t n = nblocks - lba < CHUNK_BLOCKS ? nblocks - lba : CHUNK_BLOCKS;

		r = bdev_read(bd, lba, n, buf);
		if (r < 0)
			break;
		for (uint64_t i = 0; i < n; i++)
			journal_scan_block(s, lba + i, buf + i * JOURNAL_BLOCK);
	}
	/* Finishing also frees the scan; a partial report is dropped on error. */
	journal_scan_finish(s, rep);
	free(buf);
	if (r < 0)
		journal_report_free(rep);
	return r;
}

static void iso_time(uint64_t ns, char *out, size_t len)
{
	time_t sec = (time_t)(ns / 1000000000ull);
	struct tm tm;
	char base[24];

	gmtime_r(&sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, len, "%s.%03uZ", base, (unsigned)(ns / 1000000ull % 1000));
}

/* Downtimes in whole ms (negative: the incarnations overlapped in wall-clock time). */
static int64_t downtime_ms(const struct journal_report *rep, size_t k)
{
	return journal_downtime_ns(rep, k) / 1000000;
}

static int64_t max_downtime_ms(const struct journal_report *rep)
{
	int64_t max = 0;

	for (size_t k = 0; k + 1 < rep->ninc; k++)
		if (downtime_ms(rep, k) > max)
			max = downtime_ms(rep, k);
	return max;
}

/* The finding's text names the incarnations and hosts involved (journal.c). */
static void print_violations(const struct journal_report *rep)
{
	for (size_t i = 0; i < rep->nviol; i++)
		printf("VIOLATION at seq %" PRIu64 ": %s\n", rep->viol[i].seq, rep->viol[i].what);
}

static void print_incarnations(const struct journal_report *rep, uint64_t nblocks)
{
	char a[40], b[40];

	for (size_t k = 0; k < rep->ninc; k++) {
		const struct journal_incarnation *e = &rep->inc[k];

		iso_time(e->first_ns, a, sizeof(a));
		iso_time(e->last_ns, b, sizeof(b));
		printf("incarnation %" PRIu64 " on node %u: seq %" PRIu64 "..%" PRIu64 " (%" PRIu64
		       " records), %s .. %s\n",
		       e->incarnation, e->nodeid, e->first_seq, e->last_seq, e->records, a, b);
		if (k + 1 < rep->ninc)
			printf("downtime %" PRId64 " ms between incarnation %" PRIu64
			       " and %" PRIu64 "\n",
			       downtime_ms(rep, k), e->incarnation, rep->inc[k + 1].incarnation);
	}
	printf("disk: %" PRIu64 " blocks, %" PRIu64 " blank, %" PRIu64 " corrupt\n", nblocks,
	       rep->blank, rep->corrupt);
}

static void print_text(const struct opts *o, const struct journal_report *rep, uint64_t nblocks)
{
	print_violations(rep);
	if (!o->quiet)
		print_incarnations(rep, nblocks);
	printf("%" PRIu64 " records, %zu incarnations, %zu violations, max downtime %" PRId64
	       " ms\n",
	       rep->records, rep->ninc, rep->nviol, max_downtime_ms(rep));
}

/* json_int_t is signed 64-bit: wall-clock ns and real seqs fit many times over. */
static void set_u64(json_t *obj, const char *key, uint64_t v)
{
	json_object_set_new(obj, key, json_integer((json_int_t)v));
}

static json_t *json_incarnations(const struct journal_report *rep)
{
	json_t *arr = json_array();

	for (size_t k = 0; k < rep->ninc; k++) {
		const struct journal_incarnation *e = &rep->inc[k];
		json_t *o = json_object();

		set_u64(o, "incarnation", e->incarnation);
		set_u64(o, "nodeid", e->nodeid);
		set_u64(o, "first_seq", e->first_seq);
		set_u64(o, "last_seq", e->last_seq);
		set_u64(o, "first_ns", e->first_ns);
		set_u64(o, "last_ns", e->last_ns);
		set_u64(o, "records", e->records);
		json_array_append_new(arr, o);
	}
	return arr;
}

static json_t *json_violations(const struct journal_report *rep)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < rep->nviol; i++) {
		const struct journal_violation *v = &rep->viol[i];
		json_t *o = json_object();

		set_u64(o, "seq", v->seq);
		set_u64(o, "prev_incarnation", v->prev_incarnation);
		set_u64(o, "incarnation", v->incarnation);
		set_u64(o, "prev_nodeid", v->prev_nodeid);
		set_u64(o, "nodeid", v->nodeid);
		json_object_set_new(o, "what", json_string(v->what));
		json_array_append_new(arr, o);
	}
	return arr;
}

static void print_json(const struct journal_report *rep, uint64_t nblocks)
{
	json_t *root = json_object();
	json_t *down = json_array();

	for (size_t k = 0; k + 1 < rep->ninc; k++)
		json_array_append_new(down, json_integer(downtime_ms(rep, k)));
	set_u64(root, "records", rep->records);
	set_u64(root, "blocks", nblocks);
	set_u64(root, "blank", rep->blank);
	set_u64(root, "corrupt", rep->corrupt);
	json_object_set_new(root, "incarnations", json_incarnations(rep));
	json_object_set_new(root, "violations", json_violations(rep));
	json_object_set_new(root, "downtimes_ms", down);
	json_object_set_new(root, "max_downtime_ms", json_integer(max_downtime_ms(rep)));
	json_dumpf(root, stdout, JSON_COMPACT);
	putchar('\n');
	json_decref(root);
}

int main(int argc, char **argv)
{
	struct opts o = {.initiator = BDEV_DEFAULT_INITIATOR};
	struct journal_report rep;
	struct bdev *bd;
	char err[300];
	uint64_t nblocks;
	int r;

	if (parse_args(&o, argc, argv) < 0)
		return EXIT_TROUBLE;
	signal(SIGPIPE, SIG_IGN);
	if (bdev_open(o.disk, o.initiator, &bd, err, sizeof(err)) < 0) {
		fprintf(stderr, "hax-journal-check: cannot open %s: %s\n", o.disk, err);
		return EXIT_TROUBLE;
	}
	nblocks = bdev_nblocks(bd);
	r = read_disk(bd, &rep);
	if (r < 0) {
		fprintf(stderr, "hax-journal-check: cannot read %s: %s\n", o.disk,
			bdev_last_error(bd));
		bdev_close(bd);
		return EXIT_TROUBLE;
	}
	bdev_close(bd);
	if (o.json)
		print_json(&rep, nblocks);
	else
		print_text(&o, &rep, nblocks);
	r = rep.nviol ? EXIT_VIOLATION : 0;
	journal_report_free(&rep);
	return r;
}
