/*
 * hax-fence-peer: the handler DRBD's fence-peer hook runs, so that DRBD resumes I/O
 * only once hax has fenced the peer:
 *
 *   net      { fencing resource-and-stonith; }
 *   handlers { fence-peer "/usr/sbin/hax-fence-peer"; }
 *
 * It names the peer's hax host, asks the local haxd to fence it ({"cmd":"fence"} over
 * libqb IPC: the reply only means "started"), then reads {"cmd":"status"} every 500 ms
 * until haxd shows the host "fenced" with a successful fence record newer than the
 * one it showed before the request. A record from an earlier fence is not enough: the
 * host may have been powered on again since, and DRBD asks about now.
 *
 * One winner. When a resource's link breaks, both peers run this handler against each
 * other. The request names the resource (DRBD_RESOURCE, "?" without it) and haxd adds
 * the requesting host: the leader accepts one request per resource while its fence
 * stands, none from a host being fenced, and none against the leader's own host; a
 * refused handler exits 1 at once (its I/O stays frozen: it is the side to go).
 *
 * Which peer. DRBD 9 sets no DRBD_PEER: the kernel calls drbdadm with the peer's
 * DRBD_PEER_NODE_ID (and addresses, DRBD_CSTATE), and drbdadm (drbd-utils 9.22, the
 * strings of its binary) runs the handler through /bin/sh -c, without arguments, adding
 * DRBD_RESOURCE, DRBD_CONF, DRBD_MY_NODE_ID and DRBD_NODE_ID_<n>=<host name> for the
 * resource's hosts; a logged DRBD 9 run of crm-fence-peer.9.sh shows exactly these.
 * So: DRBD_NODE_ID_<DRBD_PEER_NODE_ID>, else DRBD_PEERS, else DRBD_PEER (both DRBD
 * 8.4, per the DRBD User's Guide, "The peer fencing interface"). The DRBD host name is
 * the hax host name unless --map says otherwise. Several peers in DRBD_PEERS are all
 * fenced, as LINBIT's stonith_admin-fence-peer.sh does.
 *
 * Exit codes (DRBD User's Guide 8.3/8.4, fence-peer handler exit codes; DRBD 9's
 * drbd_nl.c conn_try_outdate_peer() reads the same ones):
 *   7  the peer was fenced ("peer was stonithed"): DRBD marks it Outdated and resumes
 *      I/O. Only ever after haxd confirmed it.
 *   1  not confirmed. 1 is none of DRBD's codes 3..7, so DRBD logs "fence-peer helper
 *      broken" and leaves I/O frozen (resource-and-stonith); drbd.conf(5) (DRBD 9): the
 *      operator resumes it with `drbdadm resume-io`. LINBIT's own stonith handlers
 *      (stonith_admin-fence-peer.sh, fence-peer/drbd-fence-peer.sh) fail with 1 for the
 *      same reason.
 *   2  usage error: also outside 3..7, so also a failure with I/O frozen.
 * Never 5 ("peer unreachable"): DRBD then assumes the peer dead and resumes I/O when
 * the local disk is UpToDate, which is exactly the guess hax exists to avoid; never
 * 4 or 3: hax does not outdate the peer's disk, it stops the peer.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "ipc_client.h"
#include "lib/util.h"

#define EXIT_PEER_FENCED 7
#define EXIT_FAIL 1
#define EXIT_USAGE 2

#define DEFAULT_TIMEOUT_MS 90000
#define POLL_MS 500
#define CALL_MAX_MS 10000 /* one IPC call; the overall --timeout still bounds it */
#define MAX_PEERS 8
#define MAX_MAPS 32
#define DRBD_NAME_MAX 256

struct map {
	char drbd[DRBD_NAME_MAX];
	char hax[HAX_NAME_MAX];
};

struct opts {
	uint64_t timeout_ms;
	int nmaps;
	struct map maps[MAX_MAPS];
};

struct peer {
	char drbd[DRBD_NAME_MAX]; /* the name DRBD gave */
	char host[HAX_NAME_MAX];  /* the hax host */
	json_int_t before_ns;	  /* newest fence record before the request, 0: none */
	json_int_t failed_ns;	  /* newest failed record already reported */
	bool asked;		  /* a fence of ours (or one underway) counts now */
	bool confirmed;
	char state[32]; /* as last reported */
};

static const char *resource = "?";

static const char usage_text[] =
    "Usage: hax-fence-peer [--map DRBDNAME=HAXHOST]... [--timeout DURATION]\n"
    "DRBD's fence-peer handler: asks the local haxd to fence the DRBD peer and exits 7\n"
    "(\"peer fenced\") only once haxd confirms that the fence is done.\n\n"
    "In the DRBD resource:\n"
    "  net      { fencing resource-and-stonith; }\n"
    "  handlers { fence-peer \"/usr/sbin/hax-fence-peer\"; }\n\n"
    "The peer is DRBD_NODE_ID_<DRBD_PEER_NODE_ID> (DRBD 9), else DRBD_PEERS, else\n"
    "DRBD_PEER (DRBD 8.4); its DRBD host name is its hax host name unless mapped.\n"
    "  -m, --map DRBDNAME=HAXHOST  the hax host of a DRBD host name (repeatable)\n"
    "  -t, --timeout DURATION      wait at most this long for haxd's confirmation\n"
    "                              (500ms, 30s, 2m; default 90s)\n"
    "  -h, --help                  this help\n\n"
    "The IPC service is \"haxd\" unless $HAX_IPC names another.\n"
    "Exit status: 7 the peer is fenced, confirmed by haxd; 1 not confirmed (DRBD keeps\n"
    "I/O frozen; once the peer is known to be off: drbdadm resume-io RESOURCE);\n"
    "2 usage error.\n";

/* One line per step, on stderr and in syslog: DRBD runs handlers from a kernel
 * usermode helper, whose standard streams may lead nowhere (LINBIT's
 * crm-fence-peer.9.sh sends its own output to logger for that reason). */
static void __attribute__((format(printf, 2, 3))) say(int prio, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "hax-fence-peer[%s]: %s\n", resource, line);
	syslog(prio, "%s: %s", resource, line);
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "hax-fence-peer: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'hax-fence-peer --help'.\n");
	return EXIT_USAGE;
}

/* ---- arguments and the environment ----------------------------------------------- */

static int add_map(struct opts *o, const char *arg)
{
	const char *eq = strchr(arg, '=');
	struct map *m;

	if (!eq || eq == arg || strcspn(arg, " \t\n") < strlen(arg))
		return usage_error("--map %s: expected DRBDNAME=HAXHOST", arg);
	if (!hax_valid_name(eq + 1))
		return usage_error("--map %s: not a valid hax host name after '='", arg);
	if (o->nmaps == MAX_MAPS || (size_t)(eq - arg) >= DRBD_NAME_MAX)
		return usage_error("--map %s: too many or too long", arg);
	m = &o->maps[o->nmaps++];
	snprintf(m->drbd, sizeof(m->drbd), "%.*s", (int)(eq - arg), arg);
	hax_strlcpy(m->hax, eq + 1, sizeof(m->hax));
	return 0;
}

/* 0 to go on, or the exit code (--help: 0 after printing, so -1 stands for "done"). */
static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
	    {"map", required_argument, NULL, 'm'},
	    {"timeout", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c, r;

	o->timeout_ms = DEFAULT_TIMEOUT_MS;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":m:t:h", lo, NULL)) != -1) {
		switch (c) {
		case 'm':
			r = add_map(o, optarg);
			if (r)
				return r;
			break;
		case 't':
			if (hax_parse_duration_ms(optarg, &o->timeout_ms) < 0 || o->timeout_ms == 0)
				return usage_error("--timeout %s: expected a duration such as 90s",
						   optarg);
			break;
		case 'h':
			fputs(usage_text, stdout);
			return -1;
		case ':':
			return usage_error("%s needs a value", argv[optind - 1]);
		default:
			return usage_error("%s: unknown option", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument \"%s\"", argv[optind]);
	return 0;
}

/* The DRBD names of the peers and the variable they came from; 0 if none. */
static int drbd_peer_names(char *buf, size_t len, const char **from)
{
	const char *id = getenv("DRBD_PEER_NODE_ID"), *v;
	char var[64];

	if (id && *id && strspn(id, "0123456789") == strlen(id) && strlen(id) < 10) {
		snprintf(var, sizeof(var), "DRBD_NODE_ID_%s", id);
		v = getenv(var);
		if (v && *v) {
			*from = "DRBD_NODE_ID_<DRBD_PEER_NODE_ID>";
			return hax_strlcpy(buf, v, len) < 0 ? -ENAMETOOLONG : 1;
		}
		say(LOG_NOTICE,
		    "DRBD_PEER_NODE_ID=%s but %s is not set; trying DRBD_PEERS and DRBD_PEER", id,
		    var);
	}
	for (const char *const *name = (const char *const[]){"DRBD_PEERS", "DRBD_PEER", NULL};
	     *name; name++) {
		v = getenv(*name);
		if (v && strspn(v, " \t") < strlen(v)) {
			*from = *name;
			return hax_strlcpy(buf, v, len) < 0 ? -ENAMETOOLONG : 1;
		}
	}
	return 0;
}

static const char *map_name(const struct opts *o, const char *drbd)
{
	for (int i = 0; i < o->nmaps; i++)
		if (strcmp(o->maps[i].drbd, drbd) == 0)
			return o->maps[i].hax;
	return drbd;
}

/* Fill peers from the environment and --map; the count, or -1 (already said why). */
static int find_peers(const struct opts *o, struct peer *peers)
{
	char names[1024], *save = NULL, *w;
	const char *from = NULL;
	int n = 0, r = drbd_peer_names(names, sizeof(names), &from);

	if (r <= 0) {
		say(LOG_ERR,
		    "no peer: none of DRBD_PEER_NODE_ID with DRBD_NODE_ID_<n>, DRBD_PEERS, "
		    "DRBD_PEER is set (is this run by DRBD's fence-peer hook?)");
		return -1;
	}
	for (w = strtok_r(names, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		const char *host = map_name(o, w);
		bool dup = false;

		if (!hax_valid_name(host)) {
			say(LOG_ERR,
			    "DRBD peer \"%s\" (%s) is not a valid hax host name; map it with --map "
			    "%s=HAXHOST",
			    w, from, w);
			return -1;
		}
		for (int i = 0; i < n; i++)
			dup |= strcmp(peers[i].host, host) == 0;
		if (dup)
			continue;
		if (n == MAX_PEERS) {
			say(LOG_ERR, "more than %d peers in %s", MAX_PEERS, from);
			return -1;
		}
		hax_strlcpy(peers[n].drbd, w, sizeof(peers[n].drbd));
		hax_strlcpy(peers[n].host, host, sizeof(peers[n].host));
		say(LOG_NOTICE, "DRBD peer %s (from %s) is hax host %s", w, from, host);
		n++;
	}
	return n;
}

/* ---- talking to haxd ------------------------------------------------------------- */

static uint64_t now_ms(void)
{
	return hax_now_mono_ns() / 1000000;
}

static int call_timeout(uint64_t deadline_ms)
{
	uint64_t now = now_ms(), left = deadline_ms > now ? deadline_ms - now : 0;

	if (left < 100)
		left = 100;
	return (int)(left < CALL_MAX_MS ? left : CALL_MAX_MS);
}

/* 0 with *reply ({"ok":true,...}), or -errno with why filled: the IPC failed, or haxd
 * said no (-EREMOTEIO, why = haxd's error line). */
static int call(json_t *req, uint64_t deadline_ms, json_t **reply, char *why, size_t len)
{
	const char *e;
	int r = hax_ipc_call(req, call_timeout(deadline_ms), reply, why, len);

	json_decref(req);
	if (r < 0)
		return r;
	if (json_is_true(json_object_get(*reply, "ok")))
		return 0;
	e = json_string_value(json_object_get(*reply, "error"));
	snprintf(why, len, "%s", e ? e : "request refused");
	json_decref(*reply);
	return -EREMOTEIO;
}

static const json_t *find_host(const json_t *status, const char *name)
{
	const json_t *hosts = json_object_get(status, "hosts");

	for (size_t i = 0; i < json_array_size(hosts); i++) {
		const json_t *h = json_array_get(hosts, i);
		const char *n = json_string_value(json_object_get(h, "name"));

		if (n && strcmp(n, name) == 0)
			return h;
	}
	return NULL;
}

static json_int_t record_time(const json_t *host)
{
	return json_integer_value(json_object_get(json_object_get(host, "last_fence"), "time_ns"));
}

static const char *jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s && *s ? s : "-";
}

/* Ask haxd to fence p. 0 (started, or one already underway: its result will do),
 * -EAGAIN (ask again later: no quorum, sync, haxd restarting), or another -errno
 * (give up: no such host, not allowed). */
static int request_fence(struct peer *p, uint64_t deadline_ms)
{
	json_t *reply;
	char why[512];
	int r = call(json_pack("{s:s, s:s, s:s}", "cmd", "fence", "host", p->host, "resource",
			       resource),
		     deadline_ms, &reply, why, sizeof(why));

	if (r == 0) {
		json_decref(reply);
		say(LOG_NOTICE, "asked haxd to fence %s: fencing started", p->host);
		return 0;
	}
	if (r == -EREMOTEIO && strstr(why, "already being fenced")) {
		say(LOG_NOTICE, "%s is already being fenced by haxd; waiting for that fence",
		    p->host);
		return 0;
	}
	/* "refused:": the leader took the other peer's request for this resource (or will
	 * not fence its own host on a peer's word): this host is the one to go. */
	if (r == -EACCES || r == -EPERM ||
	    (r == -EREMOTEIO && (strstr(why, "no such host") || strstr(why, "unknown command") ||
				 strncmp(why, "refused:", 8) == 0))) {
		say(LOG_ERR, "haxd refused to fence %s: %s", p->host, why);
		return r;
	}
	say(LOG_NOTICE, "cannot ask haxd to fence %s yet: %s; retrying", p->host, why);
	return -EAGAIN;
}

/* Record what haxd says about p; true once its fence is confirmed. */
static bool follow(struct peer *p, const json_t *status)
{
	const json_t *h = find_host(status, p->host), *rec;
	const char *state = h ? jstr(h, "state") : "not listed";
	json_int_t t;

	if (strcmp(state, p->state) != 0) {
		say(LOG_NOTICE, "haxd: %s is %s", p->host, state);
		hax_strlcpy(p->state, state, sizeof(p->state));
	}
	rec = h ? json_object_get(h, "last_fence") : NULL;
	t = record_time(h);
	if (!json_is_object(rec) || t <= p->before_ns)
		return false; /* nothing since we asked */
	if (!json_is_true(json_object_get(rec, "ok"))) {
		if (t != p->failed_ns)
			say(LOG_ERR,
			    "fence of %s failed (%s: %s); waiting for a later one until the "
			    "timeout",
			    p->host, jstr(rec, "method"), jstr(rec, "detail"));
		p->failed_ns = t;
		return false;
	}
	if (strcmp(state, "fenced") != 0)
		return false;
	say(LOG_NOTICE, "haxd confirms %s fenced (%s: %s)", p->host, jstr(rec, "method"),
	    jstr(rec, "detail"));
	return true;
}

/* ---- the handler ----------------------------------------------------------------- */

static void pause_ms(uint64_t ms)
{
	struct timespec ts = {.tv_sec = (time_t)(ms / 1000),
			      .tv_nsec = (long)(ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* haxd's status, waiting for haxd while the deadline allows. NULL: gave up (said why). */
static json_t *get_status(uint64_t deadline_ms)
{
	char why[512], said[512] = "";
	json_t *reply;
	int r;

	for (;;) {
		r = call(json_pack("{s:s}", "cmd", "status"), deadline_ms, &reply, why,
			 sizeof(why));
		if (r == 0)
			return reply;
		if (strcmp(why, said) != 0)
			say(LOG_NOTICE, "haxd status: %s", why);
		hax_strlcpy(said, why, sizeof(said));
		if (r == -EACCES || r == -EPERM || now_ms() + POLL_MS >= deadline_ms)
			return NULL;
		pause_ms(POLL_MS);
	}
}

/* Before asking: the newest fence record of each peer, and never this host itself
 * (its own haxd would power it off, the Primary included). */
static int prepare(struct peer *peers, int n, uint64_t deadline_ms)
{
	json_t *st = get_status(deadline_ms);
	const char *self;

	if (!st)
		return -EIO;
	self = json_string_value(json_object_get(json_object_get(st, "cluster"), "self"));
	for (int i = 0; i < n; i++) {
		if (self && strcmp(self, peers[i].host) == 0) {
			say(LOG_ERR,
			    "%s is this host: refusing to fence it (check DRBD's host names and "
			    "--map)",
			    peers[i].host);
			json_decref(st);
			return -EINVAL;
		}
		peers[i].before_ns = record_time(find_host(st, peers[i].host));
	}
	json_decref(st);
	return 0;
}

/* One round: ask whoever still needs asking, read the status once, follow each peer.
 * 0 all confirmed, -EAGAIN not yet, other -errno give up. */
static int round_once(struct peer *peers, int n, uint64_t deadline_ms)
{
	json_t *st;
	int left = 0, r;

	for (int i = 0; i < n; i++) {
		if (peers[i].asked || peers[i].confirmed)
			continue;
		r = request_fence(&peers[i], deadline_ms);
		if (r != 0 && r != -EAGAIN)
			return r;
		peers[i].asked = r == 0;
	}
	st = get_status(deadline_ms);
	for (int i = 0; i < n; i++) {
		if (st && peers[i].asked && !peers[i].confirmed)
			peers[i].confirmed = follow(&peers[i], st);
		left += !peers[i].confirmed;
	}
	json_decref(st);
	return left ? -EAGAIN : 0;
}

static int fence_all(struct peer *peers, int n, uint64_t timeout_ms)
{
	uint64_t deadline_ms = now_ms() + timeout_ms;
	int r = prepare(peers, n, deadline_ms);

	while (r == 0) {
		r = round_once(peers, n, deadline_ms);
		if (r != -EAGAIN)
			break;
		if (now_ms() >= deadline_ms) {
			for (int i = 0; i < n; i++)
				if (!peers[i].confirmed)
					say(LOG_ERR,
					    "no confirmation that %s is fenced within %" PRIu64
					    " ms (haxd: %s)",
					    peers[i].host, timeout_ms,
					    peers[i].state[0] ? peers[i].state : "no answer");
			return -ETIMEDOUT;
		}
		pause_ms(POLL_MS);
		r = 0;
	}
	return r;
}

int main(int argc, char **argv)
{
	static struct opts o;
	struct peer peers[MAX_PEERS];
	const char *res = getenv("DRBD_RESOURCE");
	int n, r;

	if (res && *res)
		resource = res;
	openlog("hax-fence-peer", LOG_PID, LOG_DAEMON);
	r = parse_args(argc, argv, &o);
	if (r)
		return r < 0 ? 0 : r;
	memset(peers, 0, sizeof(peers));
	n = find_peers(&o, peers);
	if (n <= 0) {
		say(LOG_ERR, "exit %d: not fenced, DRBD keeps I/O frozen", EXIT_FAIL);
		return EXIT_FAIL;
	}
	r = fence_all(peers, n, o.timeout_ms);
	if (r < 0) {
		say(LOG_ERR,
		    "exit %d: not fenced, DRBD keeps I/O frozen (drbdadm resume-io %s once the "
		    "peer is known to be off)",
		    EXIT_FAIL, resource);
		return EXIT_FAIL;
	}
	say(LOG_NOTICE, "exit %d: peer fenced, confirmed by haxd", EXIT_PEER_FENCED);
	return EXIT_PEER_FENCED;
}
