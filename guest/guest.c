/*
 * hax-guest: the "operating system" of a simulated domain. It appends one journal record
 * (DESIGN.md, "Guest journal") per interval to its disk and, before each write, re-reads
 * the block of its previous record: if that is not byte for byte what it wrote, another
 * writer touched its disk and it says so and exits 3. This is the lab's live half of the
 * double-writer oracle; hax-journal-check is the post-mortem half.
 *
 * Like a VM, it does not die on I/O errors (a fenced guest sees RESERVATION CONFLICT and
 * keeps trying), and it stops cleanly on SIGTERM/SIGINT after the write in progress.
 *
 * Migration (the sim driver's stop-and-copy, guest/guest_migrate.h): SIGUSR1 asks a
 * running guest to send itself to the target named in its control directory; a guest
 * started with --incoming waits for such a transfer and runs only once it is committed.
 * The guest's "memory" (--state-size bytes) is what travels; each record dirties it.
 *
 * Exit status: 0 stopped by a signal or migrated away, 1 the disk could not be opened or
 * scanned at start, 2 usage, 3 journal conflict (a second writer), 4 an incoming
 * migration that was not committed (the guest never ran).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "blockdev.h"
#include "guest_migrate.h"
#include "journal.h"
#include "lib/util.h"

#define EXIT_START 1
#define EXIT_USAGE 2
#define EXIT_CONFLICT 3
#define EXIT_NOT_MIGRATED 4
#define DEFAULT_STATE_SIZE (8u * 1024 * 1024)
#define MAX_STATE_SIZE (256u * 1024 * 1024)
#define INCOMING_WAIT_MS 300000

#define DEFAULT_INTERVAL_MS 20
/* While I/O keeps failing, remind the log this often rather than every interval. */
#define FAIL_REPORT_NS (10ull * 1000000000ull)
#define SCAN_CHUNK_BLOCKS 2048
/* After a RESERVATION CONFLICT, the reservation is joined again at most this often. */
#define JOIN_RETRY_NS (500ull * 1000000ull)

struct guest {
	const char *domain, *disk, *initiator;
	uint64_t incarnation;
	uint32_t nodeid;
	uint64_t interval_ns;
	uint64_t pr_key;
	bool has_pr_key;
	bool stamp_log; /* prefix log lines with the time (--log) */
	const char *control;  /* migration control directory (--control) */
	const char *incoming; /* receive a migration on this address (--incoming) */
	uint8_t *mem;         /* the state a migration carries */
	size_t mem_size;
	uint64_t migrate_speed; /* bytes/s when sending it; 0 = unlimited */

	struct bdev *bd;
	uint64_t nblocks;
	uint64_t seq; /* the record to write next */
	uint64_t written;
	bool have_prev; /* prev = record seq - 1 exactly as we wrote it */
	uint8_t prev[JOURNAL_BLOCK];
	bool pending; /* cur = record seq, whose write may have landed */
	uint8_t cur[JOURNAL_BLOCK];

	int join_err;         /* the last bdev_pr_join result */
	uint64_t join_last_ns;

	uint64_t failures; /* consecutive failed ticks */
	int last_err;
	uint64_t fail_since_ns, fail_report_ns;
};

static void glog(const struct guest *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void glog(const struct guest *g, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (g->stamp_log) {
		uint64_t ns = hax_now_real_ns();
		time_t sec = (time_t)(ns / 1000000000ull);
		struct tm tm;
		char ts[32];

		gmtime_r(&sec, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
		fprintf(stderr, "%s.%03uZ %s\n", ts, (unsigned)(ns / 1000000 % 1000), line);
	} else {
		fprintf(stderr, "%s\n", line);
	}
}

static void usage(FILE *f)
{
	fputs("usage: hax-guest --domain NAME --incarnation N --nodeid N --disk URL|FILE\n"
	      "                 [--initiator IQN] [--interval 20ms] [--log FILE] [--pr-key KEY]\n"
	      "  URL is iscsi://PORTAL/TARGET-IQN/LUN; the default initiator "
	      "is " BDEV_DEFAULT_INITIATOR ";\n"
	      "                 [--control DIR] [--incoming ADDR] [--state-size BYTES]\n"
	      "                 [--migrate-speed BYTES-PER-S]\n"
	      "  --pr-key joins the reservation with KEY on the guest's session while KEY is\n"
	      "           registered on the LUN (at start and after a conflict; iSCSI only)\n"
	      "  --control DIR: migration control files; SIGUSR1 sends the guest to the target\n"
	      "  named in DIR/migrate-to; --incoming ADDR: wait for such a migration on ADDR\n"
	      "  and run only once it is committed; --state-size: the state migrated (8 MiB)\n"
	      "exit: 0 stopped by SIGTERM/SIGINT or migrated away, 1 disk unusable at start,\n"
	      "      2 usage, 3 journal conflict (another writer), 4 incoming migration not\n"
	      "      committed\n",
	      f);
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (s[0] < '0' || s[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* A reservation key: 0x-prefixed hex or decimal, not zero (zero means "no key" in SPC). */
static int parse_key(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (s[0] < '0' || s[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || v == 0)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_opt(struct guest *g, int c, const char *arg, const char **logpath)
{
	uint64_t v;

	switch (c) {
	case 'd':
		g->domain = arg;
		return hax_valid_name(arg) ? 0 : -EINVAL;
	case 'i':
		return parse_u64(arg, UINT64_MAX, &g->incarnation);
	case 'n':
		if (parse_u64(arg, UINT32_MAX, &v) < 0)
			return -EINVAL;
		g->nodeid = (uint32_t)v;
		return 0;
	case 'k':
		g->disk = arg;
		return 0;
	case 'I':
		g->initiator = arg;
		return 0;
	case 't':
		if (hax_parse_duration_ms(arg, &v) < 0 || v == 0 || v > 3600000)
			return -EINVAL;
		g->interval_ns = v * 1000000;
		return 0;
	case 'l':
		*logpath = arg;
		return 0;
	case 'K':
		g->has_pr_key = true;
		return parse_key(arg, &g->pr_key);
	case 'C':
		g->control = arg;
		return 0;
	case 'N':
		g->incoming = arg;
		return 0;
	case 'S':
		if (parse_u64(arg, MAX_STATE_SIZE, &v) < 0 || v < 4096)
			return -EINVAL;
		g->mem_size = (size_t)v;
		return 0;
	case 'B':
		return parse_u64(arg, UINT64_MAX, &g->migrate_speed);
	default:
		return -EINVAL;
	}
}

/* 0, or the exit status to leave with. Every required option must be given once. */
static int parse_args(struct guest *g, int argc, char **argv, const char **logpath)
{
	static const struct option opts[] = {
	    {"domain", required_argument, NULL, 'd'},
	    {"incarnation", required_argument, NULL, 'i'},
	    {"nodeid", required_argument, NULL, 'n'},
	    {"disk", required_argument, NULL, 'k'},
	    {"initiator", required_argument, NULL, 'I'},
	    {"interval", required_argument, NULL, 't'},
	    {"log", required_argument, NULL, 'l'},
	    {"pr-key", required_argument, NULL, 'K'},
	    {"control", required_argument, NULL, 'C'},
	    {"incoming", required_argument, NULL, 'N'},
	    {"state-size", required_argument, NULL, 'S'},
	    {"migrate-speed", required_argument, NULL, 'B'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	unsigned seen = 0;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			exit(0);
		}
		if (c == '?' || parse_opt(g, c, optarg, logpath) < 0) {
			if (c != '?')
				fprintf(stderr, "hax-guest: bad value for an option: '%s'\n",
					optarg);
			usage(stderr);
			return EXIT_USAGE;
		}
		seen |= c == 'd' ? 1u : c == 'i' ? 2u : c == 'n' ? 4u : c == 'k' ? 8u : 0u;
	}
	if (g->incoming && !g->control) {
		fputs("hax-guest: --incoming needs --control\n", stderr);
		return EXIT_USAGE;
	}
	if (optind != argc || seen != 15) {
		fputs("hax-guest: --domain, --incarnation, --nodeid and --disk are required, "
		      "nothing else\n",
		      stderr);
		usage(stderr);
		return EXIT_USAGE;
	}
	return 0;
}

/* Highest valid record at its own block; the whole disk, in big reads. */
static int scan_disk(struct guest *g, bool *found, uint64_t *highest)
{
	uint8_t *buf = hax_xmalloc((size_t)SCAN_CHUNK_BLOCKS * JOURNAL_BLOCK);
	struct journal_record r;
	int rc = 0;

	*found = false;
	for (uint64_t lba = 0; lba < g->nblocks && rc == 0; lba += SCAN_CHUNK_BLOCKS) {
		uint64_t n =
		    g->nblocks - lba < SCAN_CHUNK_BLOCKS ? g->nblocks - lba : SCAN_CHUNK_BLOCKS;

		rc = bdev_read(g->bd, lba, n, buf);
		for (uint64_t i = 0; rc == 0 && i < n; i++) {
			if (journal_decode(buf + i * JOURNAL_BLOCK, &r) < 0 ||
			    r.seq % g->nblocks != lba + i)
				continue;
			if (!*found || r.seq > *highest)
				*highest = r.seq;
			*found = true;
		}
	}
	free(buf);
	return rc;
}

static void report_conflict(const struct guest *g, uint64_t seq, const uint8_t *found)
{
	struct journal_record r;
	int rc = journal_decode(found, &r);
	uint64_t block = seq % g->nblocks;

	if (rc < 0) {
		glog(g,
		     "journal conflict at seq %" PRIu64 ": block %" PRIu64
		     " is %s, expected our own record",
		     seq, block, rc == -ENODATA ? "blank" : "corrupt");
	} else if (r.incarnation == g->incarnation) {
		struct journal_record ours;

		journal_decode(g->prev, &ours);
		glog(g,
		     "journal conflict at seq %" PRIu64 ": twin: same incarnation %" PRIu64
		     ", other timestamp (found seq %" PRIu64 " from node %u at %" PRIu64
		     " ns, ours from node %u at %" PRIu64 " ns)",
		     seq, r.incarnation, r.seq, r.nodeid, r.wall_ns, g->nodeid, ours.wall_ns);
	} else {
		glog(g,
		     "journal conflict at seq %" PRIu64 ": found incarnation %" PRIu64
		     " from node %u, expected our own record (incarnation %" PRIu64
		     ", found seq %" PRIu64 ")",
		     seq, r.incarnation, r.nodeid, g->incarnation, r.seq);
	}
}

/* Write errors whose outcome is unknown: the command may yet land at the target. */
static bool write_outcome_unknown(int r)
{
	return r != -EACCES && r != -EAGAIN && r != -EBUSY && r != -EINVAL;
}

static void encode_next(struct guest *g)
{
	struct journal_record rec = {
	    .seq = g->seq,
	    .incarnation = g->incarnation,
	    .nodeid = g->nodeid,
	    .wall_ns = hax_now_real_ns(),
	};

	hax_strlcpy(rec.domain, g->domain, sizeof(rec.domain));
	journal_encode(&rec, g->cur);
	/* The guest's work changes its memory: the migrated state is never all zeros. */
	memcpy(g->mem + (g->seq * JOURNAL_BLOCK) % (g->mem_size - JOURNAL_BLOCK + 1), g->cur,
	       JOURNAL_BLOCK);
}

/*
 * One interval: verify the previous record, then write the next. 0 written, 1 conflict,
 * <0 I/O error with *op naming the step (the same record is retried next time, verify
 * included). A record whose write may have landed is retried with the same bytes, so a
 * late landing of the earlier attempt can never look like a twin.
 */
static int guest_tick(struct guest *g, const char **op)
{
	uint8_t buf[JOURNAL_BLOCK];
	int r;

	if (g->have_prev) {
		*op = "verify read";
		r = bdev_read(g->bd, (g->seq - 1) % g->nblocks, 1, buf);
		if (r < 0)
			return r;
		if (memcmp(buf, g->prev, JOURNAL_BLOCK) != 0) {
			report_conflict(g, g->seq - 1, buf);
			return 1;
		}
	}
	if (!g->pending)
		encode_next(g);
	*op = "write";
	r = bdev_write(g->bd, g->seq % g->nblocks, g->cur);
	if (r < 0) {
		if (write_outcome_unknown(r))
			g->pending = true;
		return r;
	}
	memcpy(g->prev, g->cur, JOURNAL_BLOCK);
	g->have_prev = true;
	g->pending = false;
	g->seq++;
	g->written++;
	return 0;
}

/* One line when I/O starts failing or the error changes, then one per FAIL_REPORT_NS. */
static void note_failure(struct guest *g, int r, const char *op)
{
	uint64_t now = hax_now_mono_ns();

	if (g->failures++ == 0)
		g->fail_since_ns = now;
	if (g->failures == 1 || r != g->last_err) {
		glog(g, "seq %" PRIu64 ": %s failed: %s; retrying every interval", g->seq, op,
		     bdev_last_error(g->bd));
		g->fail_report_ns = now;
	} else if (now - g->fail_report_ns >= FAIL_REPORT_NS) {
		glog(g,
		     "seq %" PRIu64 ": still failing after %" PRIu64 " attempts in %" PRIu64
		     " s: %s",
		     g->seq, g->failures, (now - g->fail_since_ns) / UINT64_C(1000000000),
		     bdev_last_error(g->bd));
		g->fail_report_ns = now;
	}
	g->last_err = r;
}

static void note_success(struct guest *g)
{
	if (g->failures == 0)
		return;
	glog(g,
	     "seq %" PRIu64 ": I/O recovered after %" PRIu64 " failed attempts in %" PRIu64 " ms",
	     g->seq - 1, g->failures, (hax_now_mono_ns() - g->fail_since_ns) / UINT64_C(1000000));
	g->failures = 0;
	g->last_err = 0;
}

/* Sleep until the monotonic deadline; the signal that arrived (SIGTERM/SIGINT: stop,
 * SIGUSR1: migrate) or 0. They stay blocked all the time, so one that comes during I/O
 * waits here instead of interrupting it. */
static int wait_for_signal(const sigset_t *sigs, uint64_t deadline_ns)
{
	for (;;) {
		uint64_t now = hax_now_mono_ns();
		uint64_t left = deadline_ns > now ? deadline_ns - now : 0;
		struct timespec ts = {.tv_sec = (time_t)(left / 1000000000ull),
				      .tv_nsec = (long)(left % 1000000000ull)};
		int sig = sigtimedwait(sigs, NULL, &ts);

		if (sig > 0)
			return sig;
		if (errno == EAGAIN && hax_now_mono_ns() >= deadline_ns)
			return 0;
	}
}

/* SIGUSR1: send ourselves away. True when committed: this copy must never write again.
 * A record whose write may still land is finished first, so the target's resume point
 * is exact. */
static bool migrate_out(struct guest *g)
{
	struct gmig_state st;
	char err[300];
	const char *op;

	if (!g->control) {
		glog(g, "hax-guest %s: SIGUSR1 without --control, ignoring", g->domain);
		return false;
	}
	while (g->pending && guest_tick(g, &op) < 0)
		usleep(10000);
	st = (struct gmig_state){.seq = g->seq, .incarnation = g->incarnation, .mem = g->mem,
				 .size = g->mem_size, .speed = g->migrate_speed};
	glog(g, "hax-guest %s: migrating away at seq %" PRIu64 " (%zu bytes of state)",
	     g->domain, g->seq, g->mem_size);
	if (gmig_send(g->control, g->domain, &st, err, sizeof(err)) == 0) {
		glog(g, "hax-guest %s: migrated away, committed at seq %" PRIu64, g->domain,
		     g->seq);
		return true;
	}
	glog(g, "hax-guest %s: migration failed (%s); resuming at seq %" PRIu64, g->domain, err,
	     g->seq);
	return false;
}

static int try_join(struct guest *g);

static int run(struct guest *g, const sigset_t *sigs)
{
	uint64_t next = hax_now_mono_ns();
	const char *op = "";

	for (;;) {
		int r, sig = wait_for_signal(sigs, next);

		if (sig == SIGUSR1) {
			if (migrate_out(g))
				return 0;
			next = hax_now_mono_ns();
			continue;
		}
		if (sig)
			break;
		r = guest_tick(g, &op);
		if (r == 1)
			return EXIT_CONFLICT;
		if (r < 0) {
			note_failure(g, r, op);
			/* A new session (target restarted, failed over, or reset us) is not
			 * registered: join again, but only through the guard, and not in a
			 * loop. */
			if (r == -EACCES && g->has_pr_key &&
			    hax_now_mono_ns() - g->join_last_ns >= JOIN_RETRY_NS)
				try_join(g);
		} else {
			note_success(g);
		}
		/* Keep the cadence, but after a long stall start afresh instead of bursting. */
		next += g->interval_ns;
		if (next < hax_now_mono_ns())
			next = hax_now_mono_ns();
	}
	glog(g,
	     "hax-guest %s incarnation %" PRIu64 " stopping at seq %" PRIu64 " after %" PRIu64
	     " records",
	     g->domain, g->incarnation, g->seq, g->written);
	return 0;
}

static int open_log(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

	if (fd < 0 || dup2(fd, STDERR_FILENO) < 0) {
		fprintf(stderr, "hax-guest: %s: %s\n", path, strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

/* Join the reservation with the host's key (bdev_pr_join: only while haxd keeps that
 * key registered). Not joined is not fatal: a guest whose host is not (yet) registered
 * runs like a VM whose writes fail, and tries again on the next conflict. */
static int try_join(struct guest *g)
{
	int r;

	g->join_last_ns = hax_now_mono_ns();
	r = bdev_pr_join(g->bd, g->pr_key);
	if (r == 0)
		glog(g, "hax-guest %s: joined the reservation with key 0x%" PRIx64 " on %s",
		     g->domain, g->pr_key, g->disk);
	else if (r != g->join_err)
		glog(g, "hax-guest %s: cannot join with key 0x%" PRIx64 " on %s: %s", g->domain,
		     g->pr_key, g->disk, bdev_last_error(g->bd));
	g->join_err = r;
	return r;
}

static int open_disk(struct guest *g)
{
	char err[300];
	int r = bdev_open(g->disk, g->initiator, &g->bd, err, sizeof(err));

	if (r < 0) {
		glog(g, "hax-guest %s: cannot open %s: %s", g->domain, g->disk, err);
		return -1;
	}
	/* A plain-file disk (tests) has no reservations to take part in: the key only
	 * matters on the shared LUNs that scsi fencing protects. */
	if (g->has_pr_key && strncmp(g->disk, "iscsi://", 8) != 0) {
		glog(g, "hax-guest %s: %s is not an iSCSI disk: no reservation key to register",
		     g->domain, g->disk);
		g->has_pr_key = false;
	}
	if (g->has_pr_key && try_join(g) < 0 && g->join_err != -EPERM && g->join_err != -EAGAIN)
		return -1;
	g->nblocks = bdev_nblocks(g->bd);
	if (g->nblocks < 2) {
		glog(g, "hax-guest %s: %s is too small for a journal", g->domain, g->disk);
		return -1;
	}
	return 0;
}

static int start(struct guest *g)
{
	bool found;
	uint64_t highest = 0;

	if (open_disk(g) < 0)
		return -1;
	if (scan_disk(g, &found, &highest) < 0) {
		glog(g, "hax-guest %s: cannot scan %s: %s", g->domain, g->disk,
		     bdev_last_error(g->bd));
		return -1;
	}
	g->seq = found ? highest + 1 : 0;
	glog(g, "hax-guest %s incarnation %" PRIu64 " on node %u resuming at seq %" PRIu64,
	     g->domain, g->incarnation, g->nodeid, g->seq);
	return 0;
}

/* --incoming: the disk is opened before the transfer (less downtime), the journal
 * resumes where the source stopped, and nothing is written without the commit. */
static int start_incoming(struct guest *g)
{
	struct gmig_state st;
	char err[300], path[4096];

	if (open_disk(g) < 0)
		return EXIT_START;
	glog(g, "hax-guest %s incarnation %" PRIu64 ": waiting for an incoming migration on %s",
	     g->domain, g->incarnation, g->incoming);
	if (gmig_receive(g->control, g->incoming, g->domain, INCOMING_WAIT_MS, &st, err,
			 sizeof(err)) < 0) {
		glog(g, "hax-guest %s: incoming migration failed: %s; not running", g->domain, err);
		return EXIT_NOT_MIGRATED;
	}
	snprintf(path, sizeof(path), "%s/incoming", g->control);
	unlink(path);
	free(g->mem);
	g->mem = st.mem;
	g->mem_size = st.size;
	g->seq = st.seq;
	glog(g, "hax-guest %s incarnation %" PRIu64 " on node %u: migrated in from incarnation %" PRIu64
	     ", resuming at seq %" PRIu64,
	     g->domain, g->incarnation, g->nodeid, st.incarnation, g->seq);
	return 0;
}

int main(int argc, char **argv)
{
	struct guest g = {.initiator = BDEV_DEFAULT_INITIATOR,
			  .interval_ns = DEFAULT_INTERVAL_MS * 1000000ull};
	const char *logpath = NULL;
	sigset_t stop;
	int r;

	r = parse_args(&g, argc, argv, &logpath);
	if (r)
		return r;
	if (logpath) {
		if (open_log(logpath) < 0)
			return EXIT_START;
		g.stamp_log = true;
	}
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGUSR1);
	sigprocmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);

	if (!g.mem_size)
		g.mem_size = DEFAULT_STATE_SIZE;
	g.mem = hax_xcalloc(1, g.mem_size);
	r = g.incoming ? start_incoming(&g) : start(&g) < 0 ? EXIT_START : 0;
	if (r) {
		bdev_close(g.bd);
		free(g.mem);
		return r;
	}
	r = run(&g, &stop);
	bdev_close(g.bd);
	free(g.mem);
	return r;
}
