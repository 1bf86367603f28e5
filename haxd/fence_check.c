#include "fence_check.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fencing/fence.h"
#include "lib/util.h"

struct check;

struct probe {
	struct check *c;
	const struct conf_fence *dev;
	const struct fence_driver *drv;
	struct fence_op *op;      /* NULL once done */
	int level;
	bool done;
	int result;
	char msg[256];
};

struct check {
	struct check *next;
	struct ipc_call *call;
	const struct conf_host *host;
	int nprobes, pending;
	struct probe probes[CONF_MAX_LEVELS * CONF_MAX_LEVEL_DEVS];
};

static struct check *checks;

static json_t *report(const struct check *c)
{
	json_t *levels = json_array();
	bool fenceable = false, all_ok = c->host->nlevels > 0;
	int i, k, n = 0;

	for (i = 0; i < c->host->nlevels; i++) {
		const struct conf_fence_level *lv = &c->host->levels[i];
		json_t *devs = json_array();
		char method[CONF_MAX_LEVEL_DEVS * (HAX_NAME_MAX + 1)] = "";
		bool ok = true;

		for (k = 0; k < lv->ndev; k++, n++) {
			const struct probe *p = &c->probes[n];

			ok = ok && p->result == 0;
			snprintf(method + strlen(method), sizeof(method) - strlen(method), "%s%s",
				 k ? "+" : "", p->dev->name);
			json_array_append_new(devs, json_pack("{s:s, s:s, s:b, s:s}", "device",
							      p->dev->name, "driver",
							      conf_fence_driver_name(p->dev->driver),
							      "ok", p->result == 0, "message", p->msg));
		}
		fenceable = fenceable || ok;
		all_ok = all_ok && ok;
		json_array_append_new(levels, json_pack("{s:i, s:s, s:b, s:o}", "level", i + 1,
							"method", method, "ok", ok, "devices", devs));
	}
	return json_pack("{s:b, s:s, s:b, s:b, s:o}", "ok", 1, "host", c->host->name,
			 "fenceable", fenceable, "all_ok", all_ok, "levels", levels);
}

static void unlink_check(struct check *c)
{
	struct check **pp;

	for (pp = &checks; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			return;
		}
}

static void finish(struct check *c)
{
	unlink_check(c);
	ipc_reply(c->call, report(c));
	free(c);
}

static void probe_done(void *opaque, int result, const char *msg)
{
	struct probe *p = opaque;

	p->op = NULL;
	p->done = true;
	p->result = result;
	snprintf(p->msg, sizeof(p->msg), "%s", msg && *msg ? msg : result ? strerror(-result) : "ok");
	if (--p->c->pending == 0)
		finish(p->c);
}

void fence_check_start(const struct hax_conf *conf, const char *host, struct ipc_call *call)
{
	const struct conf_host *h = host ? conf_host_by_name(conf, host) : NULL;
	struct check *c;
	int i, k;

	if (!h) {
		ipc_reply(call, json_pack("{s:b, s:s}", "ok", 0, "error",
					  "no such host in the configuration"));
		return;
	}
	c = hax_xcalloc(1, sizeof(*c));
	c->call = call;
	c->host = h;
	c->next = checks;
	checks = c;
	for (i = 0; i < h->nlevels; i++)
		for (k = 0; k < h->levels[i].ndev; k++)
			c->probes[c->nprobes++] = (struct probe){.c = c, .level = i,
				.dev = &conf->fences[h->levels[i].dev[k]]};
	/* Counted before any start: a driver may not call done() from start(), but the
	 * count must not reach zero while probes are still being started. */
	c->pending = c->nprobes + 1;
	for (i = 0; i < c->nprobes; i++) {
		struct probe *p = &c->probes[i];
		struct fence_target t = {.host = h->name, .nodeid = h->nodeid};
		int r = -ENOTSUP;

		p->drv = fence_driver_for(p->dev->driver);
		if (p->drv)
			r = p->drv->start(conf, p->dev, &t, true, probe_done, p, &p->op);
		if (r < 0) {
			p->op = NULL;
			p->done = true;
			p->result = r;
			snprintf(p->msg, sizeof(p->msg), "cannot start: %s", strerror(-r));
			c->pending--;
		}
	}
	if (--c->pending == 0)
		finish(c);
}

void fence_check_stop_all(void)
{
	while (checks) {
		struct check *c = checks;
		int i;

		checks = c->next;
		for (i = 0; i < c->nprobes; i++)
			if (c->probes[i].op)
				c->probes[i].drv->cancel(c->probes[i].op);
		ipc_reply(c->call, json_pack("{s:b, s:s}", "ok", 0, "error", "haxd is stopping"));
		free(c);
	}
}
