/*
 * The QMP client (qmp.h). QEMU sends its greeting as soon as a client connects; our
 * qmp_capabilities goes first in the output buffer and nothing is written before the
 * greeting arrived, so commands queued early simply follow it (QEMU runs them in order).
 * Callbacks may free the connection: every dispatch runs under a reference and stops
 * as soon as it sees the connection freed.
 */
#include "qmp.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/loop.h"
#include "lib/util.h"

#define QMP_LINE_MAX (4u << 20) /* a reply bigger than this is not QEMU talking */
#define QMP_READ_CHUNK 16384

struct qmp_pending {
	struct qmp_pending *next;
	uint64_t id;
	qmp_reply_fn fn;
	void *data;
	uint64_t tag;
};

struct qmp {
	int fd;
	struct qmp_callbacks cb;
	void *data;
	bool greeted, ready, closed, freed;
	int busy; /* dispatches in progress; free is deferred past them */
	uint64_t next_id;
	struct qmp_pending *pending, **pending_tail;
	char *out;
	size_t out_len, out_cap;
	char *in;
	size_t in_len, in_cap;
};

static void qmp_on_fd(void *data, int fd, uint32_t revents);

static void out_append(struct qmp *q, const char *s, size_t len)
{
	if (q->out_len + len > q->out_cap) {
		q->out_cap = (q->out_len + len) * 2;
		q->out = hax_xrealloc(q->out, q->out_cap);
	}
	memcpy(q->out + q->out_len, s, len);
	q->out_len += len;
}

static int update_watch(struct qmp *q)
{
	uint32_t ev = POLLIN | (q->greeted && q->out_len ? POLLOUT : 0);

	return hax_fd_watch(q->fd, ev, qmp_on_fd, q);
}

static void drop_pending(struct qmp *q)
{
	while (q->pending) {
		struct qmp_pending *p = q->pending;

		q->pending = p->next;
		free(p);
	}
	q->pending_tail = &q->pending;
}

static void release(struct qmp *q)
{
	if (q->fd >= 0) {
		hax_fd_unwatch(q->fd);
		close(q->fd);
		q->fd = -1;
	}
	drop_pending(q);
	free(q->out);
	free(q->in);
	free(q);
}

/* Fail every pending command, then say closed. The caller holds a reference. */
static void shut(struct qmp *q, int err)
{
	if (q->closed)
		return;
	q->closed = true;
	q->ready = false;
	hax_fd_unwatch(q->fd);
	close(q->fd);
	q->fd = -1;
	while (q->pending && !q->freed) {
		struct qmp_pending *p = q->pending;

		q->pending = p->next;
		if (!q->pending)
			q->pending_tail = &q->pending;
		p->fn(p->data, p->tag, NULL, "disconnected");
		free(p);
	}
	if (!q->freed && q->cb.closed)
		q->cb.closed(q->data, err);
}

static int queue_command(struct qmp *q, uint64_t id, const char *cmd, json_t *args)
{
	json_t *msg = json_pack("{s:s, s:I}", "execute", cmd, "id", (json_int_t)id);
	char *text;

	if (args)
		json_object_set_new(msg, "arguments", args);
	text = json_dumps(msg, JSON_COMPACT);
	json_decref(msg);
	if (!text)
		return -ENOMEM;
	out_append(q, text, strlen(text));
	out_append(q, "\n", 1);
	free(text);
	return update_watch(q);
}

int qmp_connect(const char *path, const struct qmp_callbacks *cb, void *data, struct qmp **out)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct qmp *q;
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A unix socket connects at once or fails at once (EAGAIN: backlog full). */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	q = hax_xcalloc(1, sizeof(*q));
	q->fd = fd;
	q->cb = *cb;
	q->data = data;
	q->next_id = 1;
	q->pending_tail = &q->pending;
	r = queue_command(q, 0, "qmp_capabilities", NULL);
	if (r < 0) {
		release(q);
		return r;
	}
	*out = q;
	return 0;
}

int qmp_command(struct qmp *q, const char *cmd, json_t *args, qmp_reply_fn fn, void *data,
		uint64_t tag)
{
	struct qmp_pending *p;
	int r;

	if (q->closed || q->freed) {
		json_decref(args);
		return -ENOTCONN;
	}
	p = hax_xcalloc(1, sizeof(*p));
	p->id = q->next_id++;
	p->fn = fn;
	p->data = data;
	p->tag = tag;
	r = queue_command(q, p->id, cmd, args);
	if (r < 0) {
		free(p);
		return r;
	}
	*q->pending_tail = p;
	q->pending_tail = &p->next;
	return 0;
}

bool qmp_is_ready(const struct qmp *q)
{
	return q && q->ready && !q->closed;
}

void qmp_free(struct qmp *q)
{
	if (!q)
		return;
	if (q->busy) {
		/* Inside one of q's callbacks: silence it now, free on the way out. */
		q->freed = true;
		if (q->fd >= 0) {
			hax_fd_unwatch(q->fd);
			close(q->fd);
			q->fd = -1;
		}
		drop_pending(q);
		return;
	}
	release(q);
}

static void on_reply(struct qmp *q, const struct qmp_line *m)
{
	struct qmp_pending **pp, *p;

	if (m->id == 0) {
		/* Our qmp_capabilities: refused means this is no QMP we can speak. */
		if (!m->ret) {
			shut(q, -EPROTO);
			return;
		}
		q->ready = true;
		if (q->cb.ready)
			q->cb.ready(q->data);
		return;
	}
	for (pp = &q->pending; *pp; pp = &(*pp)->next)
		if ((*pp)->id == m->id)
			break;
	p = *pp;
	if (!p)
		return; /* a reply nobody waits for (an id of an earlier connection): ignore */
	*pp = p->next;
	if (q->pending_tail == &p->next)
		q->pending_tail = pp;
	p->fn(p->data, p->tag, m->ret, m->err);
	free(p);
}

/* One line from QEMU. */
static void on_message(struct qmp *q, const char *line, size_t len)
{
	struct qmp_line m;

	if (qmp_parse_line(line, len, &m) < 0) {
		shut(q, -EPROTO);
		return;
	}
	if (m.kind == QMP_LINE_GREETING) {
		q->greeted = true;
		if (update_watch(q) < 0)
			shut(q, -ENOMEM);
	} else if (m.kind == QMP_LINE_EVENT) {
		if (q->cb.event)
			q->cb.event(q->data, m.event, m.data);
	} else if (m.kind == QMP_LINE_REPLY) {
		on_reply(q, &m);
	}
	/* Anything else (a reply without an id: we always send one) is ignored. */
	json_decref(m.msg);
}

/* Hand every complete line to on_message; keep the rest. */
static void consume_lines(struct qmp *q)
{
	size_t start = 0;

	while (!q->closed && !q->freed) {
		char *nl = memchr(q->in + start, '\n', q->in_len - start);
		size_t len;

		if (!nl)
			break;
		len = (size_t)(nl - (q->in + start));
		if (len > 0 && !(len == 1 && q->in[start] == '\r'))
			on_message(q, q->in + start, len);
		start += len + 1;
	}
	if (q->freed || q->closed)
		return;
	memmove(q->in, q->in + start, q->in_len - start);
	q->in_len -= start;
	if (q->in_len > QMP_LINE_MAX)
		shut(q, -EPROTO);
}

static void do_read(struct qmp *q)
{
	ssize_t n;

	if (q->in_cap - q->in_len < QMP_READ_CHUNK) {
		q->in_cap = q->in_len + QMP_READ_CHUNK * 2;
		q->in = hax_xrealloc(q->in, q->in_cap);
	}
	n = read(q->fd, q->in + q->in_len, q->in_cap - q->in_len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		shut(q, n == 0 ? -ECONNRESET : -errno);
		return;
	}
	q->in_len += (size_t)n;
	consume_lines(q);
}

static void do_write(struct qmp *q)
{
	ssize_t n = send(q->fd, q->out, q->out_len, MSG_NOSIGNAL);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		shut(q, -errno);
		return;
	}
	memmove(q->out, q->out + n, q->out_len - (size_t)n);
	q->out_len -= (size_t)n;
	if (update_watch(q) < 0)
		shut(q, -ENOMEM);
}

static void qmp_on_fd(void *data, int fd, uint32_t revents)
{
	struct qmp *q = data;

	(void)fd;
	q->busy++;
	if ((revents & POLLOUT) && q->greeted && q->out_len)
		do_write(q);
	/* Read before acting on HUP: QEMU's last words (a SHUTDOWN event) come first. */
	if (!q->closed && !q->freed && (revents & (POLLIN | POLLHUP | POLLERR)))
		do_read(q);
	q->busy--;
	if (q->freed && !q->busy)
		release(q);
}
