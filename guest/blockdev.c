/*
 * Block device for the lab programs: an iSCSI LUN (libiscsi) or a plain file.
 *
 * iSCSI runs libiscsi's task API under our own poll loop instead of its *_sync calls:
 * the sync loop has no deadline (a cut storage link would hang the guest in TCP
 * retransmits for minutes) and gives up on EINTR while the command is still queued on a
 * stack frame that is gone. libiscsi's automatic reconnect is off (LAB-NOTES: it replays
 * in-flight commands and blocks through its back-off); when a session breaks we drop the
 * context and log in afresh on the next call, under the same deadline. Reconnecting is
 * never a registration step: a session that lost its PR key stays fenced.
 *
 * Callers should ignore SIGPIPE: a write on a socket the target closed raises it.
 */
#include "blockdev.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "lib/util.h"

/* Loopback answers in microseconds; a command still unanswered after this is lost. */
#define BDEV_TIMEOUT_MS 5000
#define BDEV_LOGOUT_MS 1000
/* Biggest single command: big enough to scan a LUN quickly, small enough for any target. */
#define BDEV_MAX_XFER_BLOCKS 2048

struct bdev {
	int fd;			   /* file backend, or -1 for iSCSI */
	struct iscsi_context *ctx; /* NULL while the session is down */
	char *initiator;
	char portal[MAX_STRING_SIZE + 1];
	char target[MAX_STRING_SIZE + 1];
	char user[MAX_STRING_SIZE + 1];
	char passwd[MAX_STRING_SIZE + 1];
	int lun;
	uint64_t nblocks;
	bool direct;		   /* a block device, opened O_DIRECT: I/O through an aligned buffer */
	char err[256];
};

struct io_state {
	bool done;
	int status;
	struct scsi_task *task;
};

static void set_err(struct bdev *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void set_err(struct bdev *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b->err, sizeof(b->err), fmt, ap);
	va_end(ap);
}

static struct bdev *bdev_alloc(void)
{
	struct bdev *b = hax_xcalloc(1, sizeof(*b));

	b->fd = -1;
	return b;
}

/* ---- plain files ---- */

static int file_open(struct bdev *b, const char *path)
{
	struct stat st;
	off_t size;
	int fd;

	b->fd = open(path, O_RDWR | O_CLOEXEC);
	if (b->fd < 0 && (errno == EACCES || errno == EROFS))
		b->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (b->fd < 0) {
		set_err(b, "%s: %s", path, strerror(errno));
		return -errno;
	}
	/* A block device (hax-guest inside a VM): bypass the page cache, or records would sit
	 * in memory for seconds and verify reads would never see another writer's blocks. */
	if (fstat(b->fd, &st) == 0 && S_ISBLK(st.st_mode)) {
		fd = open(path, O_RDWR | O_CLOEXEC | O_DIRECT | O_DSYNC);
		if (fd < 0) {
			set_err(b, "%s: O_DIRECT: %s", path, strerror(errno));
			return -errno;
		}
		close(b->fd);
		b->fd = fd;
		b->direct = true;
	}
	/* lseek works for regular files and block devices alike. */
	size = lseek(b->fd, 0, SEEK_END);
	if (size < 0) {
		set_err(b, "%s: %s", path, strerror(errno));
		return -errno;
	}
	b->nblocks = (uint64_t)size / BDEV_BLOCK;
	return 0;
}

static int file_rw(struct bdev *b, bool write, uint64_t lba, uint64_t n, void *buf)
{
	size_t len = n * BDEV_BLOCK, done = 0;
	off_t off = (off_t)(lba * BDEV_BLOCK);

	while (done < len) {
		ssize_t r = write ? pwrite(b->fd, (char *)buf + done, len - done, off + done)
				  : pread(b->fd, (char *)buf + done, len - done, off + done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			set_err(b, "%s at block %llu: %s", write ? "write" : "read",
				(unsigned long long)lba, strerror(errno));
			return errno == EBADF ? -EACCES : -EIO;
		}
		if (r == 0) {
			set_err(b, "read at block %llu: end of file", (unsigned long long)lba);
			return -EIO;
		}
		done += (size_t)r;
	}
	return 0;
}

static int file_io(struct bdev *b, bool write, uint64_t lba, uint64_t n, void *buf)
{
	size_t len = n * BDEV_BLOCK;
	void *bounce;
	int r;

	if (!b->direct)
		return file_rw(b, write, lba, n, buf);
	/* O_DIRECT wants the memory aligned too; callers' buffers are not. */
	if (posix_memalign(&bounce, 4096, len) != 0)
		abort();
	if (write)
		memcpy(bounce, buf, len);
	r = file_rw(b, write, lba, n, bounce);
	if (r == 0 && !write)
		memcpy(buf, bounce, len);
	free(bounce);
	return r;
}

/* ---- iSCSI ---- */

static void io_cb(struct iscsi_context *ctx, int status, void *data, void *priv)
{
	struct io_state *st = priv;

	(void)ctx;
	st->done = true;
	st->status = status;
	st->task = data;
}

/* Destroying the context fires the callbacks of in-flight commands with CANCELLED; the
 * io_state they point to is still on the caller's stack, so this is safe mid-wait. */
static void session_drop(struct bdev *b)
{
	if (b->ctx)
		iscsi_destroy_context(b->ctx);
	b->ctx = NULL;
}

/* Run the session until st completes or timeout_ms passes; -ETIMEDOUT/-ENOTCONN drop it. */
static int io_wait(struct bdev *b, struct io_state *st, int timeout_ms)
{
	uint64_t deadline = hax_now_mono_ns() + (uint64_t)timeout_ms * 1000000;

	while (!st->done) {
		uint64_t now = hax_now_mono_ns();
		struct pollfd pfd;
		int r;

		if (now >= deadline) {
			set_err(b, "no answer from %s within %d ms", b->portal, timeout_ms);
			session_drop(b);
			return -ETIMEDOUT;
		}
		pfd.fd = iscsi_get_fd(b->ctx);
		pfd.events = (short)iscsi_which_events(b->ctx);
		pfd.revents = 0;
		r = poll(&pfd, 1, (int)((deadline - now) / 1000000) + 1);
		if (r < 0 && errno == EINTR)
			continue;
		/* revents 0 still lets libiscsi run its own timeout scan. */
		if (r < 0 || iscsi_service(b->ctx, r > 0 ? pfd.revents : 0) < 0) {
			set_err(b, "session to %s failed: %s", b->portal, iscsi_get_error(b->ctx));
			session_drop(b);
			return -ENOTCONN;
		}
	}
	return 0;
}

static struct iscsi_context *context_new(struct bdev *b)
{
	struct iscsi_context *ctx = iscsi_create_context(b->initiator);

	if (!ctx)
		return NULL;
	iscsi_set_targetname(ctx, b->target);
	iscsi_set_session_type(ctx, ISCSI_SESSION_NORMAL);
	iscsi_set_header_digest(ctx, ISCSI_HEADER_DIGEST_NONE_CRC32C);
	iscsi_set_noautoreconnect(ctx, 1);
	if (b->user[0])
		iscsi_set_initiator_username_pwd(ctx, b->user, b->passwd);
	return ctx;
}

static int session_connect(struct bdev *b)
{
	struct io_state st = {0};
	int r;

	b->ctx = context_new(b);
	if (!b->ctx) {
		set_err(b, "cannot create an iSCSI context for %s", b->initiator);
		return -ENOMEM;
	}
	if (iscsi_full_connect_async(b->ctx, b->portal, b->lun, io_cb, &st) != 0) {
		set_err(b, "connect to %s: %s", b->portal, iscsi_get_error(b->ctx));
		session_drop(b);
		return -ENOTCONN;
	}
	r = io_wait(b, &st, BDEV_TIMEOUT_MS);
	if (r < 0)
		return r;
	if (st.status != SCSI_STATUS_GOOD) {
		set_err(b, "login to %s/%s lun %d: %s", b->portal, b->target, b->lun,
			iscsi_get_error(b->ctx));
		session_drop(b);
		return -ENOTCONN;
	}
	return 0;
}

/* Map a finished command to -errno (see blockdev.h), with a line in b->err. */
static int task_result(struct bdev *b, const char *op, uint64_t lba, const struct io_state *st)
{
	const struct scsi_task *t = st->task;

	switch (st->status) {
	case SCSI_STATUS_GOOD:
		return 0;
	case SCSI_STATUS_RESERVATION_CONFLICT:
		set_err(b, "%s block %llu: RESERVATION CONFLICT", op, (unsigned long long)lba);
		return -EACCES;
	case SCSI_STATUS_BUSY:
	case SCSI_STATUS_TASK_SET_FULL:
		set_err(b, "%s block %llu: target busy (status 0x%x)", op, (unsigned long long)lba,
			st->status);
		return -EBUSY;
	case SCSI_STATUS_CHECK_CONDITION:
		set_err(b, "%s block %llu: CHECK CONDITION %s, %s (0x%04x)", op,
			(unsigned long long)lba, scsi_sense_key_str(t->sense.key),
			scsi_sense_ascq_str(t->sense.ascq), t->sense.ascq);
		if (t->sense.key == SCSI_SENSE_UNIT_ATTENTION)
			return -EAGAIN;
		return t->sense.key == SCSI_SENSE_NOT_READY ? -EBUSY : -EIO;
	case SCSI_STATUS_CANCELLED:
	case SCSI_STATUS_TIMEOUT:
		/* iscsi_get_error() may still hold an older, unrelated message here. */
		set_err(b, "%s block %llu: %s", op, (unsigned long long)lba,
			st->status == SCSI_STATUS_TIMEOUT ? "timed out"
							  : "cancelled, session lost");
		session_drop(b);
		return st->status == SCSI_STATUS_TIMEOUT ? -ETIMEDOUT : -ENOTCONN;
	case SCSI_STATUS_ERROR:
		set_err(b, "%s block %llu: transport error: %s", op, (unsigned long long)lba,
			iscsi_get_error(b->ctx));
		session_drop(b);
		return -ENOTCONN;
	default:
		set_err(b, "%s block %llu: SCSI status 0x%x", op, (unsigned long long)lba,
			st->status);
		return -EIO;
	}
}

/* One command of at most BDEV_MAX_XFER_BLOCKS blocks. A NULL task is a transport error:
 * libiscsi could not even queue it. */
static int iscsi_cmd(struct bdev *b, bool write, uint64_t lba, uint32_t n, void *buf)
{
	struct io_state st = {0};
	uint32_t len = n * BDEV_BLOCK;
	const char *op = write ? "WRITE16" : "READ16";
	struct scsi_task *t;
	int r;

	if (!b->ctx && (r = session_connect(b)) < 0)
		return r;
	t = write ? iscsi_write16_task(b->ctx, b->lun, lba, buf, len, BDEV_BLOCK, 0, 0, 0, 0, 0,
				       io_cb, &st)
		  : iscsi_read16_task(b->ctx, b->lun, lba, len, BDEV_BLOCK, 0, 0, 0, 0, 0, io_cb,
				      &st);
	if (!t) {
		set_err(b, "%s block %llu: cannot queue: %s", op, (unsigned long long)lba,
			iscsi_get_error(b->ctx));
		session_drop(b);
		return -ENOTCONN;
	}
	r = io_wait(b, &st, BDEV_TIMEOUT_MS);
	if (r == 0)
		r = task_result(b, op, lba, &st);
	if (r == 0 && !write) {
		if (st.task->datain.size < (int)len) {
			set_err(b, "%s block %llu: short read (%d of %u bytes)", op,
				(unsigned long long)lba, st.task->datain.size, len);
			r = -EIO;
		} else {
			memcpy(buf, st.task->datain.data, len);
		}
	}
	/* Only a completed (or cancelled) command hands its task back to us to free. */
	if (st.task)
		scsi_free_scsi_task(st.task);
	return r;
}

/* A UNIT ATTENTION reports an event (reset, preemption) and fails only the command that
 * collects it, so one retry is always due. */
static int iscsi_io(struct bdev *b, bool write, uint64_t lba, uint32_t n, void *buf)
{
	int r = iscsi_cmd(b, write, lba, n, buf);

	if (r == -EAGAIN)
		r = iscsi_cmd(b, write, lba, n, buf);
	return r;
}

static int read_capacity(struct bdev *b)
{
	struct io_state st = {0};
	struct scsi_readcapacity16 *rc;
	int r;

	if (!iscsi_readcapacity16_task(b->ctx, b->lun, io_cb, &st)) {
		set_err(b, "READCAPACITY16: %s", iscsi_get_error(b->ctx));
		return -ENOTCONN;
	}
	r = io_wait(b, &st, BDEV_TIMEOUT_MS);
	if (r == 0)
		r = task_result(b, "READCAPACITY16", 0, &st);
	if (r == 0) {
		rc = scsi_datain_unmarshall(st.task);
		if (!rc) {
			set_err(b, "READCAPACITY16: cannot parse the answer");
			r = -EIO;
		} else if (rc->block_length != BDEV_BLOCK) {
			set_err(b, "LUN block size is %u, the journal needs %d", rc->block_length,
				BDEV_BLOCK);
			r = -EMEDIUMTYPE;
		} else {
			b->nblocks = rc->returned_lba + 1;
		}
	}
	if (st.task)
		scsi_free_scsi_task(st.task);
	return r;
}

/* Keep the URL's parts, not libiscsi's url object: every reconnect needs a new context. */
static int iscsi_parse(struct bdev *b, const char *url)
{
	struct iscsi_context *tmp = iscsi_create_context(b->initiator);
	struct iscsi_url *u;

	if (!tmp) {
		set_err(b, "cannot create an iSCSI context for %s", b->initiator);
		return -ENOMEM;
	}
	u = iscsi_parse_full_url(tmp, url);
	if (!u) {
		set_err(b, "%s: %s", url, iscsi_get_error(tmp));
		iscsi_destroy_context(tmp);
		return -EINVAL;
	}
	memcpy(b->portal, u->portal, sizeof(b->portal));
	memcpy(b->target, u->target, sizeof(b->target));
	memcpy(b->user, u->user, sizeof(b->user));
	memcpy(b->passwd, u->passwd, sizeof(b->passwd));
	b->lun = u->lun;
	iscsi_destroy_url(u);
	iscsi_destroy_context(tmp);
	return 0;
}

static int iscsi_open(struct bdev *b, const char *url, int tries)
{
	int r = iscsi_parse(b, url);

	if (r < 0)
		return r;
	/* The first command after login may collect a UNIT ATTENTION (power on, reset). */
	for (int i = 0; i < tries; i++) {
		if (!b->ctx && (r = session_connect(b)) < 0)
			return r;
		r = read_capacity(b);
		if (r != -EAGAIN)
			break;
	}
	return r;
}

int bdev_open(const char *url, const char *initiator, struct bdev **out, char *err, size_t errlen)
{
	struct bdev *b = bdev_alloc();
	int r;

	b->initiator = hax_xstrdup(initiator ? initiator : BDEV_DEFAULT_INITIATOR);
	if (strncmp(url, "iscsi://", 8) == 0)
		r = iscsi_open(b, url, 3);
	else
		r = file_open(b, url);
	if (r < 0) {
		if (err && errlen)
			snprintf(err, errlen, "%s", b->err);
		bdev_close(b);
		return r;
	}
	b->err[0] = '\0';
	*out = b;
	return 0;
}

uint64_t bdev_nblocks(const struct bdev *b)
{
	return b->nblocks;
}

static int check_range(struct bdev *b, uint64_t lba, uint64_t n)
{
	if (lba > b->nblocks || n > b->nblocks - lba) {
		set_err(b, "blocks %llu+%llu beyond the end (%llu)", (unsigned long long)lba,
			(unsigned long long)n, (unsigned long long)b->nblocks);
		return -EINVAL;
	}
	return 0;
}

int bdev_read(struct bdev *b, uint64_t lba, uint64_t n, void *buf)
{
	int r = check_range(b, lba, n);

	if (r < 0)
		return r;
	if (b->fd >= 0)
		return file_io(b, false, lba, n, buf);
	while (n > 0) {
		uint32_t chunk = n > BDEV_MAX_XFER_BLOCKS ? BDEV_MAX_XFER_BLOCKS : (uint32_t)n;

		r = iscsi_io(b, false, lba, chunk, buf);
		if (r < 0)
			return r;
		lba += chunk;
		n -= chunk;
		buf = (char *)buf + (size_t)chunk * BDEV_BLOCK;
	}
	return 0;
}

int bdev_write(struct bdev *b, uint64_t lba, const void *buf)
{
	int r = check_range(b, lba, 1);

	if (r < 0)
		return r;
	if (b->fd >= 0)
		return file_io(b, true, lba, 1, (void *)buf);
	/* libiscsi takes a non-const pointer but only reads the data out. */
	return iscsi_io(b, true, lba, 1, (void *)buf);
}

/* One PERSISTENT RESERVE command on this session, again after a UNIT ATTENTION. On
 * success *task is the completed task (the caller frees it). */
static int pr_cmd(struct bdev *b, bool out, int sa, uint64_t key, uint64_t sa_key,
		  struct scsi_task **task)
{
	struct scsi_persistent_reserve_out_basic p = {.reservation_key = key,
						      .service_action_reservation_key = sa_key};
	int r = -EAGAIN;

	for (int i = 0; i < 2 && r == -EAGAIN; i++) {
		struct io_state st = {0};
		struct scsi_task *t;

		if (!b->ctx && (r = session_connect(b)) < 0)
			return r;
		t = out ? iscsi_persistent_reserve_out_task(
			      b->ctx, b->lun, sa, SCSI_PERSISTENT_RESERVE_SCOPE_LU,
			      SCSI_PERSISTENT_RESERVE_TYPE_WRITE_EXCLUSIVE_REGISTRANTS_ONLY, &p, io_cb,
			      &st)
			: iscsi_persistent_reserve_in_task(b->ctx, b->lun, sa, 8 + 8 * BDEV_PR_MAX_KEYS,
							   io_cb, &st);
		if (!t) {
			set_err(b, "PERSISTENT RESERVE %s: %s", out ? "OUT" : "IN",
				iscsi_get_error(b->ctx));
			session_drop(b);
			return -ENOTCONN;
		}
		r = io_wait(b, &st, BDEV_TIMEOUT_MS);
		if (r == 0)
			r = task_result(b, out ? "PERSISTENT RESERVE OUT" : "READ KEYS", 0, &st);
		if (r == 0) {
			*task = st.task;
			return 0;
		}
		if (st.task)
			scsi_free_scsi_task(st.task);
	}
	return r;
}

/* READ KEYS: the PR generation and how many registrations carry key. */
static int pr_key_count(struct bdev *b, uint64_t key, uint32_t *gen, int *count)
{
	struct scsi_persistent_reserve_in_read_keys *rk;
	struct scsi_task *t;
	int r = pr_cmd(b, false, SCSI_PERSISTENT_RESERVE_READ_KEYS, 0, 0, &t);

	if (r < 0)
		return r;
	rk = scsi_datain_getfullsize(t) <= t->datain.size ? scsi_datain_unmarshall(t) : NULL;
	if (!rk || rk->num_keys < 0 || rk->num_keys > BDEV_PR_MAX_KEYS) {
		set_err(b, "READ KEYS: answer too long or malformed");
		scsi_free_scsi_task(t);
		return -EIO;
	}
	*gen = rk->prgeneration;
	*count = 0;
	for (int i = 0; i < rk->num_keys; i++)
		*count += rk->keys[i] == key;
	scsi_free_scsi_task(t);
	return 0;
}

/*
 * The guard of LAB-NOTES: register this session only while the host's key is listed
 * (haxd registered it as a member in good standing, and nobody preempted it since), and
 * check that nothing else changed the registrations around our REGISTER. A PREEMPT that
 * slipped in between would move the generation by two: our registration is then taken
 * back before anything is written with it.
 */
int bdev_pr_join(struct bdev *b, uint64_t key)
{
	uint32_t gen0 = 0, gen1 = 0;
	int n = 0, r;
	struct scsi_task *t;

	if (b->fd >= 0) {
		set_err(b, "persistent reservations need an iSCSI disk");
		return -EOPNOTSUPP;
	}
	r = pr_key_count(b, key, &gen0, &n);
	if (r < 0)
		return r;
	if (n == 0) {
		set_err(b, "key 0x%016llx is not registered on the LUN (generation %u): the host "
			   "is fenced or not yet registered; not joining",
			(unsigned long long)key, gen0);
		return -EPERM;
	}
	r = pr_cmd(b, true, SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY, 0, key, &t);
	if (r < 0)
		return r;
	scsi_free_scsi_task(t);
	r = pr_key_count(b, key, &gen1, &n);
	if (r == 0 && (gen1 - gen0 != 1 || n == 0)) {
		/* Undo: REGISTER with our key and service action key 0 removes only this
		 * session's registration. If it fails the session is dropped, and tgt keeps
		 * the registration of a gone session unusable (LAB-NOTES). */
		if (pr_cmd(b, true, SCSI_PERSISTENT_RESERVE_REGISTER, key, 0, &t) == 0)
			scsi_free_scsi_task(t);
		else
			session_drop(b);
		set_err(b, "PR generation moved by %u around our REGISTER (%u -> %u) or the key "
			   "went: registrations changed meanwhile, registration taken back",
			gen1 - gen0, gen0, gen1);
		return -EAGAIN;
	}
	if (r < 0) {
		session_drop(b); /* unknown outcome: never write on this session */
		return r;
	}
	return 0;
}

const char *bdev_last_error(const struct bdev *b)
{
	return b->err;
}

/* A polite logout lets the target free the session at once; it gets a short deadline
 * because a dead target must not hold up a shutdown. */
static void session_logout(struct bdev *b)
{
	struct io_state st = {0};

	if (!b->ctx)
		return;
	if (iscsi_logout_async(b->ctx, io_cb, &st) == 0)
		io_wait(b, &st, BDEV_LOGOUT_MS);
	session_drop(b);
}

void bdev_close(struct bdev *b)
{
	if (!b)
		return;
	if (b->fd >= 0)
		close(b->fd);
	session_logout(b);
	free(b->initiator);
	free(b);
}
