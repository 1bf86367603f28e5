/*
 * hax-fence-scsi: SCSI-3 persistent reservations for hax's storage fencing (DESIGN.md,
 * layer 3), one command on one or more LUNs of one iSCSI target:
 *   register    a host joins: register its key, reserve Write Exclusive - Registrants
 *               Only (type 5) if nobody holds a reservation
 *   preempt     the fence: remove the victim's key, keep a reservation, confirm both with
 *               READ KEYS / READ RESERVATION
 *   keys        show the keys and the reservation
 *   check       is a key still registered? (a session reset leaves it listed, a fence not)
 *   unregister  remove every registration of a key (tests, decommissioning)
 *   verify      is fencing in force? a type 5/7 reservation held on every LUN, no key of
 *               a fenced host listed (--absent), and is our own key listed? haxd runs
 *               it at an interval: a target that failed over or restarted comes back
 *               with no reservation state at all (tgt has no APTPL)
 *
 * It is a short-lived child of haxd, so it may block, but never without a deadline: every
 * command runs on libiscsi's task API under our own poll() with --timeout, because the
 * _sync calls have none (a black-holed portal would hang in TCP retransmits). libiscsi's
 * auto-reconnect is off (LAB-NOTES: it replays commands and blocks in its back-off); a
 * session that breaks is not reconnected: every later step fails at once with the same
 * reason and haxd retries the whole fence. Nothing is ever retried after a lost answer,
 * and every PR OUT is judged by reading the state back, never by its status alone.
 *
 * What tgt 1.0.85 does that shapes this (LAB-NOTES; checked against its usr/spc.c):
 * - a registration belongs to the session (I_T nexus) that made it and outlives it: keys
 *   of ended sessions stay listed until preempted, but nobody can act with them. So this
 *   program's fresh session is never registered, and every PR OUT that needs a
 *   registration (RESERVE, PREEMPT) is preceded by REGISTER AND IGNORE EXISTING KEY.
 * - PREEMPT of a key nobody holds answers RESERVATION CONFLICT: the victim is looked up
 *   with READ KEYS first.
 * - with no reservation at all every initiator may write, registered or not: a fence is
 *   confirmed only when the victim's key is gone AND a reservation is held.
 * - the first command of a new session on each LUN fails with UNIT ATTENTION 29/00, and
 *   another host's PR change queues 2A/xx for us: a UNIT ATTENTION fails only the command
 *   that collects it (nothing was done), so that command is sent again.
 *
 * Exit: 0 ok, 1 failure (one line on stderr), 2 usage, 3 (check) the key is not
 * registered on some LUN: fenced.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "lib/util.h"

#define EXIT_OK 0
#define EXIT_FAIL 1
#define EXIT_USAGE 2
#define EXIT_FENCED 3
#define EXIT_NOT_IN_FORCE 4
#define MAX_ABSENT 64

#define DEFAULT_TIMEOUT_MS 5000
#define MAX_TIMEOUT_MS 600000
#define LOGOUT_MS 1000
#define MAX_LUNS 256
#define MAX_LUN_NUMBER 16383 /* flat space addressing */
#define MAX_KEYS 1024	     /* READ KEYS answers beyond this are refused, never cut */
#define UA_RETRIES 4
#define READONLY_INITIATOR "iqn.2026-11.org.hax:fence-scsi"
#define PR_TYPE_WE_RO SCSI_PERSISTENT_RESERVE_TYPE_WRITE_EXCLUSIVE_REGISTRANTS_ONLY
#define PR_TYPE_WE_AR SCSI_PERSISTENT_RESERVE_TYPE_WRITE_EXCLUSIVE_ALL_REGISTRANTS

enum cmd { CMD_REGISTER, CMD_PREEMPT, CMD_KEYS, CMD_CHECK, CMD_UNREGISTER, CMD_VERIFY };

static const char *const cmd_names[] = {"register", "preempt",	  "keys",
					"check",    "unregister", "verify"};

struct opts {
	enum cmd cmd;
	const char *portal, *target, *initiator;
	uint32_t luns[MAX_LUNS];
	int nluns;
	bool all_luns;
	uint64_t key, victim;
	bool has_key, has_victim, force;
	uint64_t absent[MAX_ABSENT]; /* verify: keys of fenced hosts */
	int nabsent;
	uint64_t timeout_ms;
};

struct sess {
	const struct opts *o;
	struct iscsi_context *ctx; /* NULL before the login and after a failure */
	bool failed;		   /* the session broke: no more commands */
	char err[300];		   /* why the last step failed */
	char lost[300];		   /* why the session broke */
};

struct io_state {
	bool done;
	int status;
	struct scsi_task *task;
};

enum req_kind { REQ_REPORT_LUNS, REQ_INQUIRY, REQ_PR_IN, REQ_PR_OUT };

/* One SCSI command to send. */
struct req {
	const char *name;
	enum req_kind kind;
	int sa;
	uint16_t alloc;
	struct scsi_persistent_reserve_out_basic out;
};

struct pr_keys {
	uint32_t gen;
	int n;
	uint64_t key[MAX_KEYS];
};

struct pr_resv {
	uint32_t gen;
	bool held;
	uint64_t key;
	int type;
};

static void set_err(struct sess *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void set_err(struct sess *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
	/* One line: libiscsi's own messages may end in a newline. */
	for (char *p = s->err; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
	for (size_t n = strlen(s->err); n > 0 && s->err[n - 1] == ' '; n--)
		s->err[n - 1] = '\0';
}

/* ---- the session: libiscsi tasks under a deadline ---- */

static void io_cb(struct iscsi_context *ctx, int status, void *data, void *priv)
{
	struct io_state *st = priv;

	(void)ctx;
	st->done = true;
	st->status = status;
	st->task = data;
}

/* Destroying the context completes queued commands with CANCELLED into io_states that
 * are still on the caller's stack, so this is safe in the middle of a wait. */
static void sess_fail(struct sess *s)
{
	snprintf(s->lost, sizeof(s->lost), "%s", s->err);
	if (s->ctx)
		iscsi_destroy_context(s->ctx);
	s->ctx = NULL;
	s->failed = true;
}

static int socket_error(int fd)
{
	int e = 0;
	socklen_t len = sizeof(e);

	return getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) == 0 ? e : 0;
}

/* Run the session until st completes or ms pass. A command left unanswered may still
 * run at the target later (LAB-NOTES); the session is dropped so it cannot answer us. */
static int sess_wait(struct sess *s, struct io_state *st, uint64_t ms, const char *what)
{
	uint64_t deadline = hax_now_mono_ns() + ms * 1000000;

	while (!st->done) {
		uint64_t now = hax_now_mono_ns();
		struct pollfd pfd;
		int r, e;

		if (now >= deadline) {
			set_err(s, "%s: no answer from %s within %" PRIu64 " ms", what,
				s->o->portal, ms);
			sess_fail(s);
			return -ETIMEDOUT;
		}
		pfd.fd = iscsi_get_fd(s->ctx);
		pfd.events = (short)iscsi_which_events(s->ctx);
		pfd.revents = 0;
		r = poll(&pfd, 1, (int)((deadline - now) / 1000000) + 1);
		if (r < 0 && errno == EINTR)
			continue;
		/* libiscsi words a refused or reset connection as a failed reconnect;
		 * the socket's own error says it plainly. */
		if (r > 0 && (pfd.revents & (POLLERR | POLLHUP)) && (e = socket_error(pfd.fd))) {
			set_err(s, "%s: %s: %s", what, s->o->portal, strerror(e));
			sess_fail(s);
			return -ENOTCONN;
		}
		if (r < 0 || iscsi_service(s->ctx, r > 0 ? pfd.revents : 0) < 0) {
			set_err(s, "%s: session to %s failed: %s", what, s->o->portal,
				iscsi_get_error(s->ctx));
			sess_fail(s);
			return -ENOTCONN;
		}
	}
	return 0;
}

/* Log in without a LUN: libiscsi then sends no TEST UNIT READY, and we absorb each
 * LUN's UNIT ATTENTION ourselves. Header digests as in blockdev.c: none or CRC32C. */
static int sess_login(struct sess *s)
{
	struct io_state st = {0};
	int r;

	s->ctx = iscsi_create_context(s->o->initiator);
	if (!s->ctx) {
		set_err(s, "cannot create an iSCSI context for %s", s->o->initiator);
		sess_fail(s);
		return -ENOMEM;
	}
	iscsi_set_targetname(s->ctx, s->o->target);
	iscsi_set_session_type(s->ctx, ISCSI_SESSION_NORMAL);
	iscsi_set_header_digest(s->ctx, ISCSI_HEADER_DIGEST_NONE_CRC32C);
	iscsi_set_noautoreconnect(s->ctx, 1);
	if (iscsi_full_connect_async(s->ctx, s->o->portal, -1, io_cb, &st) != 0) {
		set_err(s, "connect to %s: %s", s->o->portal, iscsi_get_error(s->ctx));
		sess_fail(s);
		return -ENOTCONN;
	}
	r = sess_wait(s, &st, s->o->timeout_ms, "login");
	if (r == 0 && st.status != SCSI_STATUS_GOOD) {
		set_err(s, "login to %s as %s: %s", s->o->portal, s->o->initiator,
			iscsi_get_error(s->ctx));
		sess_fail(s);
		r = -ENOTCONN;
	}
	return r;
}

/* Log out politely (the target frees the session at once) but briefly: a dead target
 * must not hold up the exit. tgt keeps the registrations made on the session. */
static void sess_close(struct sess *s)
{
	struct io_state st = {0};

	if (s->ctx && iscsi_logout_async(s->ctx, io_cb, &st) == 0)
		sess_wait(s, &st, LOGOUT_MS, "logout");
	if (s->ctx)
		iscsi_destroy_context(s->ctx);
	s->ctx = NULL;
}

static struct scsi_task *req_start(struct sess *s, uint32_t lun, struct req *q, struct io_state *st)
{
	int l = (int)lun;

	switch (q->kind) {
	case REQ_REPORT_LUNS:
		return iscsi_reportluns_task(s->ctx, SCSI_REPORTLUNS_REPORT_ALL_LUNS, q->alloc,
					     io_cb, st);
	case REQ_INQUIRY:
		return iscsi_inquiry_task(s->ctx, l, 0, 0, q->alloc, io_cb, st);
	case REQ_PR_IN:
		return iscsi_persistent_reserve_in_task(s->ctx, l, q->sa, q->alloc, io_cb, st);
	case REQ_PR_OUT:
	default:
		/* hax uses one reservation type; tgt ignores the type where SPC says so. */
		return iscsi_persistent_reserve_out_task(s->ctx, l, q->sa,
							 SCSI_PERSISTENT_RESERVE_SCOPE_LU,
							 PR_TYPE_WE_RO, &q->out, io_cb, st);
	}
}

/* Map a completed command to 0 or -errno with a reason: -EAGAIN UNIT ATTENTION,
 * -EACCES RESERVATION CONFLICT, -ENOTCONN transport (session dropped), -EIO other. */
static int req_result(struct sess *s, const struct req *q, const struct io_state *st)
{
	const struct scsi_task *t = st->task;

	switch (st->status) {
	case SCSI_STATUS_GOOD:
		return 0;
	case SCSI_STATUS_RESERVATION_CONFLICT:
		set_err(s, "%s: RESERVATION CONFLICT", q->name);
		return -EACCES;
	case SCSI_STATUS_CHECK_CONDITION:
		set_err(s, "%s: %s, %s (0x%04x)", q->name, scsi_sense_key_str(t->sense.key),
			scsi_sense_ascq_str(t->sense.ascq), t->sense.ascq);
		return t->sense.key == SCSI_SENSE_UNIT_ATTENTION ? -EAGAIN : -EIO;
	case SCSI_STATUS_CANCELLED:
	case SCSI_STATUS_TIMEOUT:
	case SCSI_STATUS_ERROR:
		/* All three mean the session is gone or unusable: never trust it again. */
		set_err(s, "%s: %s: %s", q->name,
			st->status == SCSI_STATUS_TIMEOUT     ? "timed out"
			: st->status == SCSI_STATUS_CANCELLED ? "cancelled, session lost"
							      : "transport error",
			iscsi_get_error(s->ctx));
		sess_fail(s);
		return -ENOTCONN;
	default:
		set_err(s, "%s: SCSI status 0x%x", q->name, st->status);
		return -EIO;
	}
}

/* Send q to lun and wait, again after a UNIT ATTENTION. 0 with *task (the caller frees
 * it), or -errno with s->err (see req_result; -ETIMEDOUT at the deadline). */
static int req_run(struct sess *s, uint32_t lun, struct req *q, struct scsi_task **task)
{
	int r = -EAGAIN;

	for (int i = 0; i < UA_RETRIES && r == -EAGAIN; i++) {
		struct io_state st = {0};

		if (s->failed) {
			set_err(s, "%s not sent: the session failed before: %s", q->name, s->lost);
			return -ENOTCONN;
		}
		if (!s->ctx && (r = sess_login(s)) < 0)
			return r;
		/* A NULL task: libiscsi could not even queue it, a transport error. */
		if (!req_start(s, lun, q, &st)) {
			set_err(s, "%s: cannot queue: %s", q->name, iscsi_get_error(s->ctx));
			sess_fail(s);
			return -ENOTCONN;
		}
		r = sess_wait(s, &st, s->o->timeout_ms, q->name);
		if (r == 0)
			r = req_result(s, q, &st);
		if (r == 0) {
			*task = st.task;
			return 0;
		}
		if (st.task)
			scsi_free_scsi_task(st.task);
	}
	return r;
}

/* ---- persistent reservations ---- */

static int pr_read_keys(struct sess *s, uint32_t lun, struct pr_keys *k)
{
	struct req q = {.name = "READ KEYS",
			.kind = REQ_PR_IN,
			.sa = SCSI_PERSISTENT_RESERVE_READ_KEYS,
			.alloc = 8 + 8 * MAX_KEYS};
	struct scsi_persistent_reserve_in_read_keys *rk;
	struct scsi_task *t;
	int r = req_run(s, lun, &q, &t);

	if (r < 0)
		return r;
	/* A cut list would hide the victim's key: refuse it rather than trust it. */
	rk = scsi_datain_getfullsize(t) <= t->datain.size ? scsi_datain_unmarshall(t) : NULL;
	if (!rk || rk->num_keys < 0 || rk->num_keys > MAX_KEYS) {
		set_err(s, "READ KEYS: answer too long or malformed (%d of %d bytes)",
			t->datain.size, scsi_datain_getfullsize(t));
		scsi_free_scsi_task(t);
		return -EIO;
	}
	k->gen = rk->prgeneration;
	k->n = rk->num_keys;
	memcpy(k->key, rk->keys, sizeof(uint64_t) * (size_t)rk->num_keys);
	scsi_free_scsi_task(t);
	return 0;
}

static int pr_read_resv(struct sess *s, uint32_t lun, struct pr_resv *out)
{
	struct req q = {.name = "READ RESERVATION",
			.kind = REQ_PR_IN,
			.sa = SCSI_PERSISTENT_RESERVE_READ_RESERVATION,
			.alloc = 24};
	struct scsi_persistent_reserve_in_read_reservation *rr;
	struct scsi_task *t;
	int r = req_run(s, lun, &q, &t);

	if (r < 0)
		return r;
	rr = scsi_datain_unmarshall(t);
	if (!rr) {
		set_err(s, "READ RESERVATION: malformed answer");
		scsi_free_scsi_task(t);
		return -EIO;
	}
	out->gen = rr->prgeneration;
	out->held = rr->reserved != 0;
	out->key = out->held ? rr->reservation_key : 0;
	out->type = out->held ? rr->pr_type : 0;
	scsi_free_scsi_task(t);
	return 0;
}

static int pr_out(struct sess *s, uint32_t lun, const char *name, int sa, uint64_t key,
		  uint64_t sa_key)
{
	struct req q = {.name = name,
			.kind = REQ_PR_OUT,
			.sa = sa,
			.out = {.reservation_key = key, .service_action_reservation_key = sa_key}};
	struct scsi_task *t;
	int r = req_run(s, lun, &q, &t);

	if (r == 0)
		scsi_free_scsi_task(t);
	return r;
}

/* This session's own registration under key (see the header comment: it never has one). */
static int pr_register_self(struct sess *s, uint32_t lun, uint64_t key)
{
	return pr_out(s, lun, "REGISTER AND IGNORE EXISTING KEY",
		      SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY, 0, key);
}

static int key_count(const struct pr_keys *k, uint64_t key)
{
	int n = 0;

	for (int i = 0; i < k->n; i++)
		n += k->key[i] == key;
	return n;
}

static const char *type_name(int type)
{
	switch (type) {
	case SCSI_PERSISTENT_RESERVE_TYPE_WRITE_EXCLUSIVE:
		return "Write Exclusive";
	case SCSI_PERSISTENT_RESERVE_TYPE_EXCLUSIVE_ACCESS:
		return "Exclusive Access";
	case PR_TYPE_WE_RO:
		return "Write Exclusive - Registrants Only";
	case SCSI_PERSISTENT_RESERVE_TYPE_EXCLUSIVE_ACCESS_REGISTRANTS_ONLY:
		return "Exclusive Access - Registrants Only";
	case PR_TYPE_WE_AR:
		return "Write Exclusive - All Registrants";
	case SCSI_PERSISTENT_RESERVE_TYPE_EXCLUSIVE_ACCESS_ALL_REGISTRANTS:
		return "Exclusive Access - All Registrants";
	default:
		return "unknown type";
	}
}

static void resv_describe(const struct pr_resv *r, char *buf, size_t len)
{
	if (r->held)
		snprintf(buf, len, "reservation type %d (%s) held by 0x%016" PRIx64, r->type,
			 type_name(r->type), r->key);
	else
		snprintf(buf, len, "no reservation");
}

/*
 * Make sure the LUN carries a reservation that lets registrants write and nobody else:
 * without one, every initiator may write. This session must be registered already.
 * RESERVE may lose a race with another host's (CONFLICT): what counts is what is read back.
 */
static int ensure_reservation(struct sess *s, uint32_t lun, uint64_t key, struct pr_resv *res)
{
	int r = pr_read_resv(s, lun, res);

	if (r == 0 && !res->held) {
		r = pr_out(s, lun, "RESERVE", SCSI_PERSISTENT_RESERVE_RESERVE, key, 0);
		if (r == 0 || r == -EACCES)
			r = pr_read_resv(s, lun, res);
	}
	if (r < 0)
		return r;
	if (!res->held) {
		set_err(s, "still no reservation after RESERVE");
		return -EIO;
	}
	if (res->type != PR_TYPE_WE_RO && res->type != PR_TYPE_WE_AR) {
		set_err(s, "reserved by 0x%016" PRIx64 " as type %d (%s), not %s", res->key,
			res->type, type_name(res->type), type_name(PR_TYPE_WE_RO));
		return -EIO;
	}
	return 0;
}

/* ---- the commands, each on one LUN: EXIT_OK, EXIT_FAIL (s->err), EXIT_FENCED ---- */

/*
 * Join: REGISTER this key, then reserve if nobody does. The generation guard of
 * LAB-NOTES: exactly one PR change (ours) should happen between the two READ KEYS. More
 * means another initiator changed registrations at the same moment (another host
 * registering, or a leader fencing this one): the registration stands, but it is said
 * loudly so that the rejoin logic can check it was not racing its own fence.
 */
static int lun_register(struct sess *s, uint32_t lun)
{
	uint64_t key = s->o->key;
	struct pr_keys *before = hax_xcalloc(1, sizeof(*before));
	struct pr_keys *after = hax_xcalloc(1, sizeof(*after));
	struct pr_resv res;
	char rdesc[160];
	int r;

	r = pr_read_keys(s, lun, before);
	if (r == 0)
		r = pr_register_self(s, lun, key);
	if (r == 0)
		r = pr_read_keys(s, lun, after);
	if (r == 0 && key_count(after, key) == 0) {
		set_err(s, "REGISTER answered GOOD but 0x%016" PRIx64 " is not listed", key);
		r = -EIO;
	}
	if (r == 0 && after->gen - before->gen != 1)
		printf("lun %u: warning: PR generation moved by %" PRIu32 " around the REGISTER "
		       "(%" PRIu32 " -> %" PRIu32 ", expected +1): another initiator changed "
		       "registrations at the same time\n",
		       lun, after->gen - before->gen, before->gen, after->gen);
	if (r == 0)
		r = ensure_reservation(s, lun, key, &res);
	if (r == 0) {
		resv_describe(&res, rdesc, sizeof(rdesc));
		printf("lun %u: registered 0x%016" PRIx64 "%s (generation %" PRIu32 " -> %" PRIu32
		       "); %s\n",
		       lun, key, key_count(before, key) ? "" : " (it was not listed before)",
		       before->gen, after->gen, rdesc);
	}
	free(before);
	free(after);
	return r == 0 ? EXIT_OK : EXIT_FAIL;
}

/* The fence on one LUN; see the header comment for why each step is there. */
static int lun_preempt(struct sess *s, uint32_t lun)
{
	uint64_t key = s->o->key, victim = s->o->victim;
	struct pr_keys *k = hax_xcalloc(1, sizeof(*k));
	struct pr_resv res;
	uint32_t gen0 = 0;
	int had = 0, r;
	char rdesc[160];

	r = pr_read_keys(s, lun, k);
	if (r == 0) {
		gen0 = k->gen;
		had = key_count(k, victim);
		r = pr_register_self(s, lun, key);
	}
	/* Reserve before the victim goes: the reservation is what stops unregistered
	 * writers, and it must exist whatever the victim's key was. */
	if (r == 0)
		r = ensure_reservation(s, lun, key, &res);
	if (r == 0 && had) {
		r = pr_out(s, lun, "PREEMPT", SCSI_PERSISTENT_RESERVE_PREEMPT, key, victim);
		/* CONFLICT: the victim's key went meanwhile (tgt refuses an unknown key) or
		 * ours did; what is read back below decides. */
		if (r == -EACCES)
			r = 0;
	}
	if (r == 0)
		r = pr_read_keys(s, lun, k);
	if (r == 0)
		r = pr_read_resv(s, lun, &res);
	if (r == 0 && key_count(k, victim)) {
		set_err(s, "0x%016" PRIx64 " is still registered (%d times) after PREEMPT", victim,
			key_count(k, victim));
		r = -EIO;
	}
	if (r == 0 && !res.held) {
		set_err(s,
			"no reservation after PREEMPT: unregistered initiators could still write");
		r = -EIO;
	}
	if (r == 0) {
		resv_describe(&res, rdesc, sizeof(rdesc));
		if (had)
			printf("lun %u: preempted 0x%016" PRIx64 " (%d registrations, generation "
			       "%" PRIu32 " -> %" PRIu32 "); %s\n",
			       lun, victim, had, gen0, k->gen, rdesc);
		else
			printf("lun %u: 0x%016" PRIx64 " was not registered: nothing can write "
			       "with it; %s\n",
			       lun, victim, rdesc);
		if (!key_count(k, key))
			printf("lun %u: warning: our own key 0x%016" PRIx64 " is no longer "
			       "registered: another initiator preempted it\n",
			       lun, key);
	}
	free(k);
	return r == 0 ? EXIT_OK : EXIT_FAIL;
}

static int lun_keys(struct sess *s, uint32_t lun)
{
	struct pr_keys *k = hax_xcalloc(1, sizeof(*k));
	struct pr_resv res;
	char rdesc[160];
	int r = pr_read_keys(s, lun, k);

	if (r == 0)
		r = pr_read_resv(s, lun, &res);
	if (r == 0) {
		printf("lun %u: generation %" PRIu32 ", %d key%s%s", lun, k->gen, k->n,
		       k->n == 1 ? "" : "s", k->n ? ":" : "");
		for (int i = 0; i < k->n; i++)
			printf(" 0x%016" PRIx64, k->key[i]);
		resv_describe(&res, rdesc, sizeof(rdesc));
		printf("\nlun %u: %s\n", lun, rdesc);
	}
	free(k);
	return r == 0 ? EXIT_OK : EXIT_FAIL;
}

static int lun_check(struct sess *s, uint32_t lun)
{
	struct pr_keys *k = hax_xcalloc(1, sizeof(*k));
	int r = pr_read_keys(s, lun, k), n;

	if (r < 0) {
		free(k);
		return EXIT_FAIL;
	}
	n = key_count(k, s->o->key);
	if (n)
		printf("lun %u: 0x%016" PRIx64 " is registered (%d registrations, generation "
		       "%" PRIu32 ")\n",
		       lun, s->o->key, n, k->gen);
	else
		printf("lun %u: 0x%016" PRIx64 " is NOT registered (generation %" PRIu32
		       "): fenced, or never registered\n",
		       lun, s->o->key, k->gen);
	free(k);
	return n ? EXIT_OK : EXIT_FENCED;
}

/*
 * Is fencing in force on the LUN? Only a reservation that shuts out unregistered writers
 * (type 5 or 7) counts, and no key of a fenced host may be listed. The generation is
 * printed so that haxd can see it go backwards (a restarted target starts from zero).
 */
static int lun_verify(struct sess *s, uint32_t lun)
{
	struct pr_keys *k = hax_xcalloc(1, sizeof(*k));
	struct pr_resv res;
	char rdesc[160];
	int r = pr_read_keys(s, lun, k), rc = EXIT_OK;

	if (r == 0)
		r = pr_read_resv(s, lun, &res);
	if (r < 0) {
		free(k);
		return EXIT_FAIL;
	}
	resv_describe(&res, rdesc, sizeof(rdesc));
	if (!res.held || (res.type != PR_TYPE_WE_RO && res.type != PR_TYPE_WE_AR)) {
		printf("lun %u: NOT IN FORCE: %s (generation %" PRIu32 ", %d keys): any "
		       "initiator may write\n",
		       lun, rdesc, k->gen, k->n);
		rc = EXIT_NOT_IN_FORCE;
	}
	for (int i = 0; i < s->o->nabsent; i++)
		if (key_count(k, s->o->absent[i])) {
			printf("lun %u: NOT IN FORCE: 0x%016" PRIx64 " of a fenced host is "
			       "registered\n",
			       lun, s->o->absent[i]);
			rc = EXIT_NOT_IN_FORCE;
		}
	if (rc == EXIT_OK && !key_count(k, s->o->key)) {
		printf("lun %u: in force, but 0x%016" PRIx64 " is not registered (generation "
		       "%" PRIu32 "); %s\n",
		       lun, s->o->key, k->gen, rdesc);
		rc = EXIT_FENCED;
	} else if (!key_count(k, s->o->key)) {
		printf("lun %u: 0x%016" PRIx64 " is not registered either\n", lun, s->o->key);
	} else if (rc == EXIT_OK) {
		printf("lun %u: in force (generation %" PRIu32 ", %d keys); %s\n", lun, k->gen,
		       k->n, rdesc);
	}
	free(k);
	return rc;
}

/* Removing a key that holds the reservation releases the reservation (SPC) and opens
 * the LUN to every initiator, fenced ones included, while others still rely on it. */
static int unregister_guard(struct sess *s, const struct pr_keys *k, const struct pr_resv *res)
{
	int others = k->n - key_count(k, s->o->key);

	if (!res->held || res->key != s->o->key || others == 0 || s->o->force)
		return 0;
	set_err(s,
		"0x%016" PRIx64 " holds the reservation and %d other registrations "
		"remain: removing it would leave the LUN open to any writer; have another host "
		"preempt it instead, or pass --force",
		s->o->key, others);
	return -EPERM;
}

/*
 * Remove every registration of the key. A REGISTER with key 0 only removes this
 * session's own registration, and on tgt the key's others belong to sessions that may be
 * gone, so: register, PREEMPT our own key (removes the other registrations of it and
 * moves a reservation it held to us), then REGISTER to 0.
 */
static int lun_unregister(struct sess *s, uint32_t lun)
{
	uint64_t key = s->o->key;
	struct pr_keys *k = hax_xcalloc(1, sizeof(*k));
	struct pr_resv res;
	char rdesc[160];
	int n = 0, r = pr_read_keys(s, lun, k);

	if (r == 0)
		r = pr_read_resv(s, lun, &res);
	if (r == 0)
		n = key_count(k, key);
	if (r == 0 && n)
		r = unregister_guard(s, k, &res);
	if (r == 0 && n)
		r = pr_register_self(s, lun, key);
	if (r == 0 && n)
		r = pr_out(s, lun, "PREEMPT", SCSI_PERSISTENT_RESERVE_PREEMPT, key, key);
	if (r == 0 && n)
		r = pr_out(s, lun, "REGISTER", SCSI_PERSISTENT_RESERVE_REGISTER, key, 0);
	if (r == 0)
		r = pr_read_keys(s, lun, k);
	if (r == 0)
		r = pr_read_resv(s, lun, &res);
	if (r == 0 && key_count(k, key)) {
		set_err(s, "0x%016" PRIx64 " is still registered", key);
		r = -EIO;
	}
	if (r == 0) {
		resv_describe(&res, rdesc, sizeof(rdesc));
		if (n)
			printf("lun %u: removed 0x%016" PRIx64 " (%d registrations); %s\n", lun,
			       key, n, rdesc);
		else
			printf("lun %u: 0x%016" PRIx64 " was not registered; %s\n", lun, key,
			       rdesc);
	}
	free(k);
	return r == 0 ? EXIT_OK : EXIT_FAIL;
}

/* ---- LUN discovery ---- */

/* Is lun a disk? tgt's LUN 0 is a storage array controller that refuses PR commands. */
static int lun_is_disk(struct sess *s, uint32_t lun, bool *disk)
{
	struct req q = {.name = "INQUIRY", .kind = REQ_INQUIRY, .alloc = 96};
	struct scsi_inquiry_standard *inq;
	struct scsi_task *t;
	int r = req_run(s, lun, &q, &t);

	if (r < 0)
		return r;
	inq = scsi_datain_unmarshall(t);
	*disk = inq && inq->qualifier == SCSI_INQUIRY_PERIPHERAL_QUALIFIER_CONNECTED &&
		inq->device_type == SCSI_INQUIRY_PERIPHERAL_DEVICE_TYPE_DIRECT_ACCESS;
	if (!*disk)
		printf("lun %u: skipped: %s\n", lun,
		       inq ? scsi_devtype_to_str(inq->device_type) : "unreadable INQUIRY");
	scsi_free_scsi_task(t);
	return 0;
}

/* --all-luns: every disk LUN that REPORT LUNS lists. Zero disks is a failure: a fence on
 * nothing would confirm nothing. */
static int discover_luns(struct sess *s, struct opts *o)
{
	struct req q = {.name = "REPORT LUNS", .kind = REQ_REPORT_LUNS, .alloc = 16 + 8 * MAX_LUNS};
	struct scsi_reportluns_list *list;
	struct scsi_task *t;
	int r = req_run(s, 0, &q, &t);

	if (r < 0)
		return r;
	list = scsi_datain_getfullsize(t) <= t->datain.size ? scsi_datain_unmarshall(t) : NULL;
	if (!list || list->num > MAX_LUNS) {
		set_err(s, "REPORT LUNS: answer too long or malformed");
		scsi_free_scsi_task(t);
		return -EIO;
	}
	o->nluns = 0;
	for (uint32_t i = 0; i < list->num && r == 0; i++) {
		uint32_t lun = list->luns[i] & 0x3fff; /* peripheral or flat addressing */
		bool disk = false;

		r = lun_is_disk(s, lun, &disk);
		if (r == 0 && disk)
			o->luns[o->nluns++] = lun;
	}
	scsi_free_scsi_task(t);
	if (r == 0 && o->nluns == 0) {
		set_err(s, "target %s has no disk LUNs", o->target);
		r = -ENOENT;
	}
	return r;
}

/* ---- command line ---- */

static void usage(FILE *f)
{
	fputs("usage: hax-fence-scsi COMMAND --portal HOST[:PORT] --target IQN\n"
	      "                      (--lun N ... | --all-luns) [--initiator IQN] [--timeout 5s]\n"
	      "commands:\n"
	      "  register --key K             register K, reserve type 5 if nobody has\n"
	      "  preempt --key K --victim V   fence V: preempt its registrations, confirm\n"
	      "  keys                         print the keys and the reservation\n"
	      "  check --key K                is K still registered on every LUN?\n"
	      "  unregister --key K [--force] remove every registration of K\n"
	      "  verify --key K [--absent V]  is fencing in force (a type 5/7 reservation, no\n"
	      "                               key V listed)? and is K registered?\n"
	      "  --initiator is required for register, preempt and unregister; keys are\n"
	      "  0x-prefixed hex or decimal, not 0; --timeout bounds each SCSI command\n"
	      "exit: 0 ok, 1 failure, 2 usage, 3 (check, verify) K is not registered,\n"
	      "      4 (verify) fencing is not in force\n",
	      f);
}

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

static int add_lun(struct opts *o, const char *s)
{
	char *end;
	unsigned long v;

	if (s[0] < '0' || s[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > MAX_LUN_NUMBER || o->nluns >= MAX_LUNS)
		return -EINVAL;
	for (int i = 0; i < o->nluns; i++)
		if (o->luns[i] == v)
			return 0;
	o->luns[o->nluns++] = (uint32_t)v;
	return 0;
}

static int parse_opt(struct opts *o, int c, const char *arg)
{
	switch (c) {
	case 'p':
		o->portal = arg;
		return *arg ? 0 : -EINVAL;
	case 't':
		o->target = arg;
		return *arg ? 0 : -EINVAL;
	case 'i':
		o->initiator = arg;
		return *arg ? 0 : -EINVAL;
	case 'l':
		return add_lun(o, arg);
	case 'a':
		o->all_luns = true;
		return 0;
	case 'k':
		o->has_key = true;
		return parse_key(arg, &o->key);
	case 'v':
		o->has_victim = true;
		return parse_key(arg, &o->victim);
	case 'T':
		if (hax_parse_duration_ms(arg, &o->timeout_ms) < 0 || o->timeout_ms == 0 ||
		    o->timeout_ms > MAX_TIMEOUT_MS)
			return -EINVAL;
		return 0;
	case 'f':
		o->force = true;
		return 0;
	case 'A':
		if (o->nabsent >= MAX_ABSENT)
			return -EINVAL;
		return parse_key(arg, &o->absent[o->nabsent++]);
	default:
		return -EINVAL;
	}
}

static int parse_command(struct opts *o, const char *word)
{
	for (size_t i = 0; i < HAX_ARRAY_SIZE(cmd_names); i++)
		if (strcmp(word, cmd_names[i]) == 0) {
			o->cmd = (enum cmd)i;
			return 0;
		}
	return -EINVAL;
}

/* Which options the command needs and allows: NULL if fine, else what is wrong. */
static const char *check_opts(struct opts *o)
{
	bool writes = o->cmd == CMD_REGISTER || o->cmd == CMD_PREEMPT || o->cmd == CMD_UNREGISTER;

	if (!o->portal || !o->target)
		return "--portal and --target are required";
	if ((o->nluns > 0) == o->all_luns)
		return "give --lun N (repeatable) or --all-luns";
	if (writes && !o->initiator)
		return "--initiator is required: PR changes belong to an initiator";
	if (!o->initiator)
		o->initiator = READONLY_INITIATOR;
	if (o->cmd == CMD_KEYS ? o->has_key : !o->has_key)
		return o->cmd == CMD_KEYS ? "keys takes no --key" : "--key is required";
	if ((o->cmd == CMD_PREEMPT) != o->has_victim)
		return o->has_victim ? "--victim is for preempt only" : "--victim is required";
	if (o->has_victim && o->victim == o->key)
		return "--victim must differ from --key";
	if (o->force && o->cmd != CMD_UNREGISTER)
		return "--force is for unregister only";
	if (o->nabsent && o->cmd != CMD_VERIFY)
		return "--absent is for verify only";
	return NULL;
}

/* 0, or the exit status to leave with. */
static int parse_args(struct opts *o, int argc, char **argv)
{
	static const struct option lopts[] = {
	    {"portal", required_argument, NULL, 'p'},
	    {"target", required_argument, NULL, 't'},
	    {"initiator", required_argument, NULL, 'i'},
	    {"lun", required_argument, NULL, 'l'},
	    {"all-luns", no_argument, NULL, 'a'},
	    {"key", required_argument, NULL, 'k'},
	    {"victim", required_argument, NULL, 'v'},
	    {"timeout", required_argument, NULL, 'T'},
	    {"force", no_argument, NULL, 'f'},
	    {"absent", required_argument, NULL, 'A'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *why;
	int c;

	while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			exit(EXIT_OK);
		}
		if (c == '?' || parse_opt(o, c, optarg) < 0) {
			if (c != '?')
				fprintf(stderr, "hax-fence-scsi: bad value '%s'\n", optarg);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1 || parse_command(o, argv[optind]) < 0) {
		fputs("hax-fence-scsi: give exactly one command\n", stderr);
		usage(stderr);
		return EXIT_USAGE;
	}
	why = check_opts(o);
	if (why) {
		fprintf(stderr, "hax-fence-scsi: %s: %s\n", cmd_names[o->cmd], why);
		usage(stderr);
		return EXIT_USAGE;
	}
	return 0;
}

/* ---- main ---- */

static int run_lun(struct sess *s, uint32_t lun)
{
	switch (s->o->cmd) {
	case CMD_REGISTER:
		return lun_register(s, lun);
	case CMD_PREEMPT:
		return lun_preempt(s, lun);
	case CMD_KEYS:
		return lun_keys(s, lun);
	case CMD_CHECK:
		return lun_check(s, lun);
	case CMD_VERIFY:
		return lun_verify(s, lun);
	case CMD_UNREGISTER:
	default:
		return lun_unregister(s, lun);
	}
}

/* Every LUN is tried even after one fails: a partial fence still takes the victim off
 * the LUNs it reached. A definite "not in force" (4) outranks "not registered" (3),
 * which outranks a failure (1). */
static int run_all(struct sess *s, char *first_err, size_t len)
{
	int rc = EXIT_OK, nfail = 0;

	for (int i = 0; i < s->o->nluns; i++) {
		int r = run_lun(s, s->o->luns[i]);

		if (r == EXIT_FAIL) {
			printf("lun %u: FAILED: %s\n", s->o->luns[i], s->err);
			if (nfail++ == 0)
				snprintf(first_err, len, "lun %u: %s", s->o->luns[i], s->err);
		}
		if (r == EXIT_NOT_IN_FORCE || (r == EXIT_FENCED && rc != EXIT_NOT_IN_FORCE) ||
		    (r == EXIT_FAIL && rc == EXIT_OK))
			rc = r;
	}
	if (nfail > 1)
		snprintf(first_err + strlen(first_err), len - strlen(first_err),
			 " (and %d more LUNs failed)", nfail - 1);
	return rc;
}

int main(int argc, char **argv)
{
	struct opts o = {.timeout_ms = DEFAULT_TIMEOUT_MS};
	struct sess s = {.o = &o};
	char err[sizeof(s.err) + 64] = "";
	int rc = parse_args(&o, argc, argv);

	if (rc)
		return rc;
	/* haxd reads our output through a pipe and may kill us at its deadline: keep every
	 * finished line. A write to a socket the target closed must not kill us. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (o.all_luns && discover_luns(&s, &o) < 0) {
		snprintf(err, sizeof(err), "%s", s.err);
		rc = EXIT_FAIL;
	} else {
		rc = run_all(&s, err, sizeof(err));
	}
	sess_close(&s);
	if (rc == EXIT_FAIL)
		fprintf(stderr, "hax-fence-scsi: %s %s/%s: %s\n", cmd_names[o.cmd], o.portal,
			o.target, err);
	return rc;
}
