#include "msgq.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

void msgq_init(struct msgq *q, size_t max_n, size_t max_bytes)
{
	memset(q, 0, sizeof(*q));
	q->tail = &q->head;
	q->max_n = max_n;
	q->max_bytes = max_bytes;
}

int msgq_push(struct msgq *q, uint32_t nodeid, const void *buf, size_t len)
{
	struct msgq_item *m;

	if (q->n + 1 > q->max_n || len > q->max_bytes || q->bytes > q->max_bytes - len)
		return -ENOBUFS;
	m = hax_xmalloc(sizeof(*m) + len);
	m->next = NULL;
	m->nodeid = nodeid;
	m->len = len;
	memcpy(m->buf, buf, len);
	*q->tail = m;
	q->tail = &m->next;
	q->n++;
	q->bytes += len;
	return 0;
}

struct msgq_item *msgq_peek(const struct msgq *q)
{
	return q->head;
}

void msgq_drop(struct msgq *q)
{
	struct msgq_item *m = q->head;

	if (!m)
		return;
	q->head = m->next;
	if (!q->head)
		q->tail = &q->head;
	q->n--;
	q->bytes -= m->len;
	free(m);
}

void msgq_clear(struct msgq *q)
{
	while (q->head)
		msgq_drop(q);
}
