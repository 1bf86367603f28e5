#include "proposals.h"

#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

struct flight {
	uint64_t seq;
	char *key;               /* op and the object it touches */
	char *text;              /* the change without its stamp, keys sorted */
};

struct proposals {
	size_t n, cap;
	struct flight *f;        /* in seq order */
};

/* The object a change touches: a domain, a host, or the state itself (epoch). */
static char *key_of(const json_t *c)
{
	const char *op = json_string_value(json_object_get(c, "op"));
	const char *obj = json_string_value(json_object_get(c, "name"));
	const json_t *dom = json_object_get(c, "domain"), *rec = json_object_get(c, "record");
	char *k;
	size_t len;

	if (!obj && dom)
		obj = json_string_value(json_object_get(dom, "name"));
	if (!obj && rec)
		obj = json_string_value(json_object_get(rec, "host"));
	op = op ? op : "";
	obj = obj ? obj : "";
	len = strlen(op) + strlen(obj) + 2;
	k = hax_xmalloc(len);
	memcpy(k, op, strlen(op));
	k[strlen(op)] = '\n';
	memcpy(k + strlen(op) + 1, obj, strlen(obj) + 1);
	return k;
}

static char *text_of(const json_t *c)
{
	json_t *copy = json_copy((json_t *)c);
	char *t;

	json_object_del(copy, "now_ns");
	t = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(copy);
	if (!t)
		abort(); /* out of memory: the change itself was built from valid JSON */
	return t;
}

struct proposals *proposals_new(void)
{
	return hax_xcalloc(1, sizeof(struct proposals));
}

void proposals_clear(struct proposals *p)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		free(p->f[i].key);
		free(p->f[i].text);
	}
	p->n = 0;
}

void proposals_free(struct proposals *p)
{
	if (!p)
		return;
	proposals_clear(p);
	free(p->f);
	free(p);
}

bool proposals_repeat(const struct proposals *p, const json_t *change)
{
	char *key = key_of(change), *text;
	bool same = false;
	size_t i = p->n;

	while (i > 0 && strcmp(p->f[i - 1].key, key) != 0)
		i--;
	if (i > 0) {
		text = text_of(change);
		same = strcmp(p->f[i - 1].text, text) == 0;
		free(text);
	}
	free(key);
	return same;
}

void proposals_sent(struct proposals *p, uint64_t seq, const json_t *change)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 16;
		p->f = hax_xrealloc(p->f, p->cap * sizeof(*p->f));
	}
	p->f[p->n].seq = seq;
	p->f[p->n].key = key_of(change);
	p->f[p->n].text = text_of(change);
	p->n++;
}

int proposals_propose(struct proposals *p, uint64_t *next_seq, const json_t *change,
		      proposals_send_fn send, void *opaque)
{
	int r;

	if (proposals_repeat(p, change))
		return 1;
	r = send(opaque, *next_seq, change);
	if (r < 0)
		return r;
	proposals_sent(p, (*next_seq)++, change);
	return 0;
}

void proposals_delivered(struct proposals *p, uint64_t seq)
{
	size_t k = 0, i;

	while (k < p->n && p->f[k].seq <= seq) {
		free(p->f[k].key);
		free(p->f[k].text);
		k++;
	}
	for (i = k; i < p->n; i++)
		p->f[i - k] = p->f[i];
	p->n -= k;
}

size_t proposals_count(const struct proposals *p)
{
	return p->n;
}
