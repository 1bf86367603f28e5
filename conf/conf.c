/*
 * haxd.conf parser.
 *
 * One declarative table (rows[] below) says, for every key, its section, type,
 * bounds, default, whether it is required or reloadable, a line of help, and where
 * its value goes. Parsing, defaults, range checks and the documentation all come
 * from it. Cross references (host fence levels, fence storage lists) are resolved
 * after the whole file is read, so sections may come in any order.
 *
 * Library code: it never logs and never exits. Every problem of the file is
 * collected as "FILE:LINE: message", sorted by line; the parse goes on after an
 * error so that one run shows them all (up to MAX_ERRORS).
 */
#include "conf.h"

#include "../agent/def_policy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#define LINE_MAX_CHARS 4096
#define FILE_MAX_BYTES (1024 * 1024)
#define MAX_ERRORS 100
#define ECHO_MAX 60 /* longest user text quoted back in a message */

/* Enums are stored through an int pointer by the generic setter. */
_Static_assert(sizeof(enum conf_driver) == sizeof(int), "enum size");
_Static_assert(sizeof(enum conf_nq_policy) == sizeof(int), "enum size");
_Static_assert(sizeof(enum conf_fence_driver) == sizeof(int), "enum size");

enum sect { SEC_CLUSTER, SEC_HOST, SEC_FENCE, SEC_STORAGE, SEC_NONE, SEC_SKIP };

static const char *const sect_names[] = {"cluster", "host", "fence", "storage"};

static const char *const driver_names[] = {"xl", "qemu", "sim", NULL};
static const char *const nq_names[] = {"stop", "freeze", NULL};
static const char *const fence_driver_names[] = {
    "agent", "scsi", "redfish", "drbd", "watchdog", NULL,
};
/* In syslog order: index + LOG_ERR is the priority (LOG_ERR..LOG_DEBUG are consecutive). */
static const char *const log_level_names[] = {
    "error", "warning", "notice", "info", "debug", NULL,
};

struct parser;
struct conf_row;

/* Store val (trimmed, non-empty unless the row allows it) into obj; 0, or -1 once reported. */
typedef int (*conf_set_fn)(struct parser *p, const struct conf_row *r, const char *val, void *obj);

struct conf_row {
	struct conf_key k;
	size_t off;	 /* offsetof the field in the section's struct */
	size_t size;	 /* sizeof the field */
	conf_set_fn set; /* NULL: the generic setter of k.type */
};

static int set_name(struct parser *p, const struct conf_row *r, const char *val, void *obj);
static int set_log_level(struct parser *p, const struct conf_row *r, const char *val, void *obj);
static int set_deferred(struct parser *p, const struct conf_row *r, const char *val, void *obj);
static int set_luns(struct parser *p, const struct conf_row *r, const char *val, void *obj);
static int set_command(struct parser *p, const struct conf_row *r, const char *val, void *obj);
static int set_paths(struct parser *p, const struct conf_row *r, const char *val, void *obj);

#define FIELD(type, f) offsetof(type, f), sizeof(((type *)0)->f)
#define CL(f) FIELD(struct conf_cluster, f)
#define HO(f) FIELD(struct conf_host, f)
#define FE(f) FIELD(struct conf_fence, f)
#define ST(f) FIELD(struct conf_storage, f)

#define MS_SEC 1000ull
#define MS_MIN (60 * MS_SEC)
#define MS_HOUR (60 * MS_MIN)
#define REQ true
#define OPT false
#define RELOAD true
#define FIXED false

/* clang-format off */
static const struct conf_row rows[] = {
	/* [cluster] */
	{ { "cluster", "name", CONF_T_STRING, NULL, 0, 0, NULL, REQ, FIXED,
	    "cluster name (letters, digits, '.', '_', '-'), the same on every host" },
	  CL(name), set_name },
	{ { "cluster", "driver", CONF_T_ENUM, driver_names, 0, 0, "xl", OPT, FIXED,
	    "hypervisor driver: xl (Xen toolstack), qemu (QMP) or sim (lab simulator)" },
	  CL(driver), NULL },
	{ { "cluster", "state_dir", CONF_T_PATH, NULL, 0, 0, "/var/lib/hax", OPT, FIXED,
	    "directory where the replicated cluster state is persisted" },
	  CL(state_dir), NULL },
	{ { "cluster", "client_group", CONF_T_STRING, NULL, 0, 0, "haxclient", OPT, FIXED,
	    "unix group of operators: every haxctl command, besides root" },
	  CL(client_group), NULL },
	{ { "cluster", "monitor_group", CONF_T_STRING, NULL, 0, 0, "haxmonitor", OPT, FIXED,
	    "unix group that may only read: haxctl status, events, explain-failover, check_haxd" },
	  CL(monitor_group), NULL },
	{ { "cluster", "tick", CONF_T_DURATION, NULL, 100, 60 * MS_SEC, "1s", OPT, RELOAD,
	    "interval of the leader's decision tick" },
	  CL(tick_ms), NULL },
	{ { "cluster", "start_timeout", CONF_T_DURATION, NULL, MS_SEC, MS_HOUR, "60s", OPT, RELOAD,
	    "time a domain may take to start before the start counts as failed" },
	  CL(start_timeout_ms), NULL },
	{ { "cluster", "stop_timeout", CONF_T_DURATION, NULL, MS_SEC, MS_HOUR, "60s", OPT, RELOAD,
	    "time a clean shutdown may take before the domain is destroyed" },
	  CL(stop_timeout_ms), NULL },
	{ { "cluster", "migrate_timeout", CONF_T_DURATION, NULL, 10 * MS_SEC, 24 * MS_HOUR, "10m", OPT,
	    RELOAD, "time a live migration may take before it is cancelled" },
	  CL(migrate_timeout_ms), NULL },
	{ { "cluster", "migrate_concurrency", CONF_T_INT, NULL, 1, 64, "4", OPT, RELOAD,
	    "migrations under way at once in the whole cluster" },
	  CL(migrate_concurrency), NULL },
	{ { "cluster", "migrate_host_concurrency", CONF_T_INT, NULL, 1, 64, "2", OPT, RELOAD,
	    "migrations under way at once per host, as source or as target" },
	  CL(migrate_host_concurrency), NULL },
	{ { "cluster", "start_retries", CONF_T_INT, NULL, 0, 100, "3", OPT, RELOAD,
	    "failed starts retried on other hosts before a domain is marked failed" },
	  CL(start_retries), NULL },
	{ { "cluster", "no_quorum_policy", CONF_T_ENUM, nq_names, 0, 0, "stop", OPT, RELOAD,
	    "what a host without quorum does with its HA domains: stop or freeze them" },
	  CL(no_quorum_policy), NULL },
	{ { "cluster", "no_quorum_timeout", CONF_T_DURATION, NULL, 0, MS_HOUR, "10s", OPT, RELOAD,
	    "time without quorum before the no-quorum policy is applied" },
	  CL(no_quorum_timeout_ms), NULL },
	{ { "cluster", "fence_retry", CONF_T_DURATION, NULL, MS_SEC, MS_HOUR, "10s", OPT, RELOAD,
	    "delay before a failed fencing is tried again (then backs off)" },
	  CL(fence_retry_ms), NULL },
	{ { "cluster", "agent_lost_timeout", CONF_T_DURATION, NULL, MS_SEC, MS_HOUR, "60s", OPT,
	    RELOAD, "how long a host's haxd may be gone while its corosync lives before it is fenced" },
	  CL(agent_lost_timeout_ms), NULL },
	{ { "cluster", "log_level", CONF_T_ENUM, log_level_names, 0, 0, "info", OPT, RELOAD,
	    "lowest syslog priority logged: error, warning, notice, info or debug" },
	  CL(log_level), set_log_level },
	{ { "cluster", "xl", CONF_T_PATH, NULL, 0, 0, "/usr/sbin/xl", OPT, FIXED,
	    "the xl program (driver xl)" },
	  CL(xl), NULL },
	{ { "cluster", "xl_migrate_ssh", CONF_T_LIST, NULL, 0, 0,
	    "ssh -o BatchMode=yes -o ConnectTimeout=10 -o ServerAliveInterval=5 -o ServerAliveCountMax=3",
	    OPT, FIXED,
	    "the command xl migrate runs to reach the target host (xl migrate -s; driver xl)" },
	  CL(xl_migrate_ssh), set_command },
	{ { "cluster", "domain_paths", CONF_T_LIST, NULL, 0, 0, DEF_PATHS_DEFAULT, OPT, RELOAD,
	    "directories whose files and devices domain definitions may name (disks, kernels)" },
	  CL(domain_paths), set_paths },

	/* [host NAME] */
	{ { "host", "nodeid", CONF_T_INT, NULL, 1, 2147483647, NULL, REQ, FIXED,
	    "corosync nodeid of this host (nodelist), unique in the cluster" },
	  HO(nodeid), NULL },
	{ { "host", "address", CONF_T_STRING, NULL, 0, 0, NULL, OPT, FIXED,
	    "cluster address of the host, for messages and migration" },
	  HO(address), NULL },
	{ { "host", "iqn", CONF_T_STRING, NULL, 0, 0, "iqn.2026-11.org.hax:NAME", OPT, FIXED,
	    "iSCSI initiator name of the host (NAME is the host's name)" },
	  HO(iqn), NULL },
	{ { "host", "memory", CONF_T_SIZE, NULL, 0, 64ull * 1024 * 1024, "0", OPT, FIXED,
	    "memory offered to domains, like 48G; 0 = detect from the hypervisor" },
	  HO(memory_mib), NULL },
	{ { "host", "vcpus", CONF_T_INT, NULL, 0, 4096, "0", OPT, FIXED,
	    "vcpus offered to domains; 0 = detect from the hypervisor" },
	  HO(vcpus), NULL },
	{ { "host", "fence", CONF_T_LIST, NULL, 0, 0, NULL, OPT, FIXED,
	    "fence levels tried in order, space-separated; a level is devices joined by '+'" },
	  HO(nlevels), set_deferred },

	/* [fence NAME] */
	{ { "fence", "driver", CONF_T_ENUM, fence_driver_names, 0, 0, NULL, REQ, FIXED,
	    "fence driver: agent, scsi, redfish, drbd or watchdog" },
	  FE(driver), NULL },
	{ { "fence", "timeout", CONF_T_DURATION, NULL, MS_SEC, MS_HOUR, "60s", OPT, FIXED,
	    "time one fence operation of this device may take" },
	  FE(timeout_ms), NULL },
	{ { "fence", "agent", CONF_T_PATH, NULL, 0, 0, NULL, OPT, FIXED,
	    "fence-agents program to run (driver agent), like /usr/sbin/fence_ipmilan" },
	  FE(agent), NULL },
	{ { "fence", "ip", CONF_T_STRING, NULL, 0, 0, NULL, OPT, FIXED,
	    "address of the power switch or management controller" },
	  FE(ip), NULL },
	{ { "fence", "port", CONF_T_INT, NULL, 1, 65535, NULL, OPT, FIXED,
	    "TCP port of the device; unset = the agent's default" },
	  FE(port), NULL },
	{ { "fence", "username", CONF_T_STRING, NULL, 0, 0, NULL, OPT, FIXED,
	    "login of the device" },
	  FE(username), NULL },
	{ { "fence", "password_file", CONF_T_PATH, NULL, 0, 0, NULL, OPT, FIXED,
	    "file holding the device password (never put the password in this file)" },
	  FE(password_file), NULL },
	{ { "fence", "plug", CONF_T_STRING, NULL, 0, 0, NULL, OPT, FIXED,
	    "outlet or machine id on the device (fence agents' --plug)" },
	  FE(plug), NULL },
	{ { "fence", "url", CONF_T_STRING, NULL, 0, 0, NULL, OPT, FIXED,
	    "Redfish base URL of the BMC (driver redfish)" },
	  FE(url), NULL },
	{ { "fence", "ssl_verify", CONF_T_BOOL, NULL, 0, 0, "yes", OPT, FIXED,
	    "verify the device's TLS certificate" },
	  FE(ssl_verify), NULL },
	{ { "fence", "storage", CONF_T_LIST, NULL, 0, 0, NULL, OPT, FIXED,
	    "[storage] sections whose LUNs are fenced by SCSI-3 reservations (driver scsi)" },
	  FE(nstorage), set_deferred },
	{ { "fence", "drbdadm", CONF_T_PATH, NULL, 0, 0, "/usr/sbin/drbdadm", OPT, FIXED,
	    "drbdadm program (driver drbd)" },
	  FE(drbdadm), NULL },
	{ { "fence", "resource", CONF_T_STRING, NULL, 0, 0, NULL, OPT, FIXED,
	    "DRBD resource whose peer connection is checked (driver drbd)" },
	  FE(resource), NULL },
	{ { "fence", "device", CONF_T_PATH, NULL, 0, 0, "/dev/watchdog", OPT, FIXED,
	    "watchdog device every host arms (driver watchdog)" },
	  FE(device), NULL },
	{ { "fence", "watchdog_timeout", CONF_T_DURATION, NULL, MS_SEC, MS_HOUR, "60s", OPT, FIXED,
	    "watchdog timeout: a lost host counts as reset after it plus a margin" },
	  FE(watchdog_timeout_ms), NULL },

	/* [storage NAME] */
	{ { "storage", "portal", CONF_T_STRING, NULL, 0, 0, NULL, REQ, FIXED,
	    "iSCSI portal, host[:port]" },
	  ST(portal), NULL },
	{ { "storage", "target", CONF_T_STRING, NULL, 0, 0, NULL, REQ, FIXED,
	    "iSCSI target IQN" },
	  ST(target), NULL },
	{ { "storage", "luns", CONF_T_LIST, NULL, 0, 16383, NULL, OPT, FIXED,
	    "LUNs to reserve, space-separated; empty or unset = every LUN of the target" },
	  ST(nluns), set_luns },
	{ { "storage", "check_interval", CONF_T_DURATION, NULL, 0, MS_HOUR, "2s", OPT, FIXED,
	    "how often every haxd checks that SCSI fencing is in force on the LUNs; 0 = never" },
	  ST(check_interval_ms), NULL },
	{ { "storage", "persistent_reservations", CONF_T_BOOL, NULL, 0, 0, "no", OPT, FIXED,
	    "the target keeps registrations and the reservation across a restart or failover "
	    "(APTPL); tgt does not" },
	  ST(persistent), NULL },
};
/* clang-format on */

#define NROWS HAX_ARRAY_SIZE(rows)

/* Per section instance: where each key was set (0 = not set), and a deferred list. */
struct obj_state {
	int key_line[NROWS];
	bool valid[NROWS]; /* the value was accepted: later checks trust the field */
	char *refs;	   /* host "fence" or fence "storage" value, resolved at the end */
	int refs_line;
};

struct err_entry {
	int line;
	char *msg; /* already "FILE:LINE: message" */
};

struct parser {
	const char *file;
	int line;
	struct hax_conf *c;
	struct err_entry *err;
	int nerr;
	bool stopped; /* MAX_ERRORS reached */

	enum sect cur; /* current section type, SEC_NONE or SEC_SKIP */
	void *obj;     /* struct being filled */
	struct obj_state *st;
	int hdr_line;
	bool scratch; /* a rejected section: values checked, then dropped */
	int cluster_line;

	struct obj_state cluster_st, scratch_st;
	struct obj_state host_st[CONF_MAX_HOSTS];
	struct obj_state fence_st[CONF_MAX_FENCES];
	struct obj_state storage_st[CONF_MAX_STORAGE];
	union {
		struct conf_cluster cluster;
		struct conf_host host;
		struct conf_fence fence;
		struct conf_storage storage;
	} scratch_obj;
};

/* ---- errors ---- */

__attribute__((format(printf, 3, 4))) static void perr_at(struct parser *p, int line,
							  const char *fmt, ...)
{
	char body[512];
	size_t n;
	va_list ap;

	if (p->stopped)
		return;
	if (p->nerr == MAX_ERRORS) {
		p->stopped = true;
		snprintf(body, sizeof(body), "too many errors, stopping here");
	} else {
		va_start(ap, fmt);
		vsnprintf(body, sizeof(body), fmt, ap);
		va_end(ap);
	}
	n = strlen(p->file) + strlen(body) + 16;
	p->err = hax_xrealloc(p->err, (p->nerr + 1) * sizeof(*p->err));
	p->err[p->nerr].line = line;
	p->err[p->nerr].msg = hax_xmalloc(n);
	snprintf(p->err[p->nerr].msg, n, "%s:%d: %s", p->file, line, body);
	p->nerr++;
}

#define perr(p, ...) perr_at(p, (p)->line, __VA_ARGS__)

static void errs_append(struct conf_errors *errs, char *msg)
{
	errs->msg = hax_xrealloc(errs->msg, (errs->n + 1) * sizeof(*errs->msg));
	errs->msg[errs->n++] = msg;
}

/* Stable sort by line (insertion: at most MAX_ERRORS + 1 entries), then hand over. */
static void errs_flush(struct parser *p, struct conf_errors *errs)
{
	int i, j;

	for (i = 1; i < p->nerr; i++) {
		struct err_entry e = p->err[i];

		for (j = i; j > 0 && p->err[j - 1].line > e.line; j--)
			p->err[j] = p->err[j - 1];
		p->err[j] = e;
	}
	for (i = 0; i < p->nerr; i++)
		errs_append(errs, p->err[i].msg);
	free(p->err);
	p->err = NULL;
	p->nerr = 0;
}

void conf_errors_free(struct conf_errors *errs)
{
	int i;

	if (!errs)
		return;
	for (i = 0; i < errs->n; i++)
		free(errs->msg[i]);
	free(errs->msg);
	errs->msg = NULL;
	errs->n = 0;
}

/* User text as quoted in messages: cut to ECHO_MAX characters. */
static const char *echo(char buf[ECHO_MAX + 4], const char *s)
{
	size_t n = strlen(s);

	if (n <= ECHO_MAX)
		return s;
	memcpy(buf, s, ECHO_MAX);
	strcpy(buf + ECHO_MAX, "...");
	return buf;
}

/* ---- value formatting and parsing ---- */

static void fmt_duration(char *buf, size_t n, uint64_t ms)
{
	if (ms == 0)
		snprintf(buf, n, "0");
	else if (ms % MS_HOUR == 0)
		snprintf(buf, n, "%lluh", (unsigned long long)(ms / MS_HOUR));
	else if (ms % MS_MIN == 0)
		snprintf(buf, n, "%llum", (unsigned long long)(ms / MS_MIN));
	else if (ms % MS_SEC == 0)
		snprintf(buf, n, "%llus", (unsigned long long)(ms / MS_SEC));
	else
		snprintf(buf, n, "%llums", (unsigned long long)ms);
}

static void fmt_size(char *buf, size_t n, uint64_t mib)
{
	if (mib == 0)
		snprintf(buf, n, "0");
	else if (mib % (1024 * 1024) == 0)
		snprintf(buf, n, "%lluT", (unsigned long long)(mib / (1024 * 1024)));
	else if (mib % 1024 == 0)
		snprintf(buf, n, "%lluG", (unsigned long long)(mib / 1024));
	else
		snprintf(buf, n, "%lluM", (unsigned long long)mib);
}

static void fmt_bound(const struct conf_key *k, uint64_t v, char *buf, size_t n)
{
	if (k->type == CONF_T_DURATION)
		fmt_duration(buf, n, v);
	else if (k->type == CONF_T_SIZE)
		fmt_size(buf, n, v);
	else
		snprintf(buf, n, "%llu", (unsigned long long)v);
}

/* Check v against the row's bounds; report "KEY VALUE out of range (MIN..MAX)". */
static int check_range(struct parser *p, const struct conf_key *k, const char *what,
		       const char *val, uint64_t v, bool overflow)
{
	char lo[32], hi[32], e[ECHO_MAX + 4];

	if (!overflow && v >= k->min && v <= k->max)
		return 0;
	fmt_bound(k, k->min, lo, sizeof(lo));
	fmt_bound(k, k->max, hi, sizeof(hi));
	perr(p, "%s %s out of range (%s..%s)", what, echo(e, val), lo, hi);
	return -1;
}

/* A plain decimal number: digits only. 0, -EINVAL or -ERANGE. */
static int parse_uint(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0')
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		if (v > (UINT64_MAX - 9) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

/* ---- setters ---- */

static void *field_of(const struct conf_row *r, void *obj)
{
	return (char *)obj + r->off;
}

static int set_string(struct parser *p, const struct conf_row *r, const char *val, void *obj)
{
	char e[ECHO_MAX + 4];

	if (r->k.type == CONF_T_STRING && strpbrk(val, " \t")) {
		perr(p, "bad value \"%s\" for %s: expected one word, without spaces", echo(e, val),
		     r->k.key);
		return -1;
	}
	if (r->k.type == CONF_T_PATH && val[0] != '/') {
		perr(p, "bad value \"%s\" for %s: expected an absolute path", echo(e, val),
		     r->k.key);
		return -1;
	}
	if (strlen(val) >= r->size) {
		perr(p, "value for %s too long (max %zu characters)", r->k.key, r->size - 1);
		return -1;
	}
	hax_strlcpy(field_of(r, obj), val, r->size);
	return 0;
}

static int set_name(struct parser *p, const struct conf_row *r, const char *val, void *obj)
{
	char e[ECHO_MAX + 4];

	if (!hax_valid_name(val)) {
		perr(p, "invalid name \"%s\"", echo(e, val));
		return -1;
	}
	return set_string(p, r, val, obj);
}

/* A command line a shell will run (xl migrate -s): plain words only, no shell syntax. */
static int set_command(struct parser *p, const struct conf_row *r, const char *val, void *obj)
{
	char e[ECHO_MAX + 4];

	if (val[strspn(val, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
			    " _./=:@,+-")] != '\0') {
		perr(p, "bad value \"%s\" for %s: only letters, digits, spaces and _ . / = : @ , + - "
			"(a shell runs it)",
		     echo(e, val), r->k.key);
		return -1;
	}
	if (strlen(val) >= r->size) {
		perr(p, "value for %s too long (max %zu characters)", r->k.key, r->size - 1);
		return -1;
	}
	memcpy(field_of(r, obj), val, strlen(val) + 1);
	return 0;
}

/* Absolute directories, each a prefix that definitions' host paths are checked against. */
static int set_paths(struct parser *p, const struct conf_row *r, const char *val, void *obj)
{
	char why[300];

	if (def_paths_check(val, why, sizeof(why)) < 0) {
		perr(p, "bad value for %s: %s", r->k.key, why);
		return -1;
	}
	return set_string(p, r, val, obj);
}

static int set_int(struct parser *p, const struct conf_row *r, const char *val, void *obj)
{
	char e[ECHO_MAX + 4];
	uint64_t v = 0;
	int rc = parse_uint(val, &v);

	if (rc == -EINVAL) {
		perr(p, "bad value \"%s\" for %s: expected an integer", echo(e, val), r->k.key);
		return -1;
	}
	if (check_range(p, &r->k, r->k.key, val, v, rc == -ERANGE) < 0)
		return -1;
	*(uint32_t *)field_of(r, obj) = (uint32_t)v;
	return 0;
}

static int set_bool(struct parser *p, const struct conf_row *r, const char *val, void *obj)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};
	char e[ECHO_MAX + 4];
	size_t i;

	for (i = 0; i < HAX_ARRAY_SIZE(yes); i++) {
		if (strcmp(val, yes[i]) == 0 || strcmp(val, no[i]) == 0) {
			*(bool *)field_of(r, obj) = strcmp(val, yes[i]) == 0;
			return 0;
		}
	}
	perr(p, "bad value \"%s\" for %s: expected yes or no", echo(e, val), r->k.key);
	return -1;
}

static int set_duration(struct parser *p, const struct conf_row *r, const char *val, void *obj)
{
	char e[ECHO_MAX + 4];
	uint64_t v = 0;
	int rc = hax_parse_duration_ms(val, &v);

	if (rc == -EINVAL) {
		perr(p, "bad value \"%s\" for %s: expected a duration like 500ms, 60s, 2m",
		     echo(e, val), r->k.key);
		return -1;
	}
	if (check_range(p, &r->k, r->k.key, val, v, rc < 0) < 0)
		return -1;
	*(uint64_t *)field_of(r, obj) = v;
	return 0;
}

static int set_size(struct parser *p, const struct conf_row *r, const char *val, void *obj)
{
	char e[ECHO_MAX + 4];
	uint64_t v = 0;
	int rc = hax_parse_size_mib(val, &v);

	if (rc == -EINVAL) {
		perr(p, "bad value \"%s\" for %s: expected a size like 512M, 4G", echo(e, val),
		     r->k.key);
		return -1;
	}
	if (check_range(p, &r->k, r->k.key, val, v, rc < 0) < 0)
		return -1;
	*(uint64_t *)field_of(r, obj) = v;
	return 0;
}

static int set_enum(struct parser *p, const struct conf_row *r, const char *val, void *obj)
{
	const char *const *ev = r->k.enum_values;
	char e[ECHO_MAX + 4], list[256] = "";
	int i;

	for (i = 0; ev[i]; i++) {
		if (strcmp(val, ev[i]) == 0) {
			*(int *)field_of(r, obj) = i;
			return 0;
		}
	}
	for (i = 0; ev[i]; i++) {
		if (i)
			strncat(list, ", ", sizeof(list) - strlen(list) - 1);
		strncat(list, ev[i], sizeof(list) - strlen(list) - 1);
	}
	perr(p, "bad value \"%s\" for %s: expected one of %s", echo(e, val), r->k.key, list);
	return -1;
}

static int set_log_level(struct parser *p, const struct conf_row *r, const char *val, void *obj)
{
	if (set_enum(p, r, val, obj) < 0)
		return -1;
	*(int *)field_of(r, obj) += LOG_ERR;
	return 0;
}

/* Names of other sections: kept as text until the whole file is read. */
static int set_deferred(struct parser *p, const struct conf_row *r, const char *val, void *obj)
{
	(void)r;
	(void)obj;
	free(p->st->refs);
	p->st->refs = hax_xstrdup(val);
	p->st->refs_line = p->line;
	return 0;
}

static int add_lun(struct parser *p, const struct conf_row *r, struct conf_storage *s,
		   const char *tok)
{
	char e[ECHO_MAX + 4];
	uint64_t v = 0;
	int i, rc = parse_uint(tok, &v);

	if (rc == -EINVAL) {
		perr(p, "bad LUN \"%s\" in luns: expected an integer", echo(e, tok));
		return -1;
	}
	if (check_range(p, &r->k, "LUN", tok, v, rc == -ERANGE) < 0)
		return -1;
	for (i = 0; i < s->nluns; i++) {
		if (s->luns[i] == v) {
			perr(p, "LUN %llu listed twice", (unsigned long long)v);
			return -1;
		}
	}
	if (s->nluns == CONF_MAX_LUNS) {
		perr(p, "too many LUNs (max %d)", CONF_MAX_LUNS);
		return -1;
	}
	s->luns[s->nluns++] = (uint32_t)v;
	return 0;
}

static int set_luns(struct parser *p, const struct conf_row *r, const char *val, void *obj)
{
	struct conf_storage *s = obj;
	char *copy = hax_xstrdup(val), *save = NULL, *tok;
	int rc = 0;

	s->nluns = 0;
	for (tok = strtok_r(copy, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		rc = add_lun(p, r, s, tok);
		if (rc < 0)
			break;
	}
	free(copy);
	return rc;
}

/* The field size each generic setter writes; 0 = any (strings) or a custom setter. */
static size_t type_size(enum conf_type t)
{
	switch (t) {
	case CONF_T_INT:
		return sizeof(uint32_t);
	case CONF_T_BOOL:
		return sizeof(bool);
	case CONF_T_DURATION:
	case CONF_T_SIZE:
		return sizeof(uint64_t);
	case CONF_T_ENUM:
		return sizeof(int);
	default:
		return 0;
	}
}

static conf_set_fn generic_setter(enum conf_type t)
{
	switch (t) {
	case CONF_T_STRING:
	case CONF_T_PATH:
		return set_string;
	case CONF_T_INT:
		return set_int;
	case CONF_T_BOOL:
		return set_bool;
	case CONF_T_DURATION:
		return set_duration;
	case CONF_T_SIZE:
		return set_size;
	case CONF_T_ENUM:
		return set_enum;
	default:
		return NULL;
	}
}

/* A table row whose field does not fit its type is a bug: reported, never written. */
static int set_value(struct parser *p, const struct conf_row *r, const char *val, void *obj)
{
	conf_set_fn set = r->set ? r->set : generic_setter(r->k.type);
	size_t want = type_size(r->k.type);

	if (!set || (want && r->size != want)) {
		perr(p, "internal error: key table row %s is inconsistent", r->k.key);
		return -1;
	}
	return set(p, r, val, obj);
}

/* ---- sections ---- */

static int find_row(enum sect s, const char *key)
{
	size_t i;

	for (i = 0; i < NROWS; i++)
		if (strcmp(rows[i].k.section, sect_names[s]) == 0 &&
		    strcmp(rows[i].k.key, key) == 0)
			return (int)i;
	return -1;
}

static void apply_defaults(struct parser *p, enum sect s, void *obj)
{
	size_t i;

	for (i = 0; i < NROWS; i++)
		if (rows[i].k.def && strcmp(rows[i].k.section, sect_names[s]) == 0)
			set_value(p, &rows[i], rows[i].k.def, obj);
}

static void state_reset(struct obj_state *st)
{
	free(st->refs);
	memset(st, 0, sizeof(*st));
}

static const char *obj_name(struct parser *p)
{
	/* name is the first member of every section struct except [cluster]. */
	if (p->cur == SEC_CLUSTER)
		return NULL;
	return (const char *)p->obj;
}

/* Required keys of the section just finished; rejected (scratch) sections are not checked. */
static void check_required(struct parser *p)
{
	const char *name = obj_name(p);
	size_t i;

	for (i = 0; i < NROWS; i++) {
		if (!rows[i].k.required || strcmp(rows[i].k.section, sect_names[p->cur]) != 0 ||
		    p->st->key_line[i])
			continue;
		perr_at(p, p->hdr_line, "missing required key \"%s\" in [%s%s%s]", rows[i].k.key,
			sect_names[p->cur], name ? " " : "", name ? name : "");
	}
}

/* Keys a fence driver cannot work without. */
static const struct {
	enum conf_fence_driver driver;
	const char *key;
} fence_needs[] = {
    {CONF_FENCE_AGENT, "agent"},
    {CONF_FENCE_SCSI, "storage"},
    {CONF_FENCE_REDFISH, "url"},
    {CONF_FENCE_DRBD, "resource"},
};

static void check_fence_driver(struct parser *p)
{
	const struct conf_fence *f = p->obj;
	size_t i;

	if (!p->st->valid[find_row(SEC_FENCE, "driver")])
		return;
	for (i = 0; i < HAX_ARRAY_SIZE(fence_needs); i++) {
		if (f->driver != fence_needs[i].driver ||
		    p->st->key_line[find_row(SEC_FENCE, fence_needs[i].key)])
			continue;
		perr_at(p, p->hdr_line, "missing key \"%s\" in [fence %s]: driver %s needs it",
			fence_needs[i].key, f->name, fence_driver_names[f->driver]);
	}
}

static void end_section(struct parser *p)
{
	if (p->cur == SEC_NONE || p->cur == SEC_SKIP || p->scratch)
		return;
	check_required(p);
	if (p->cur == SEC_FENCE)
		check_fence_driver(p);
}

static void open_scratch(struct parser *p, enum sect s)
{
	memset(&p->scratch_obj, 0, sizeof(p->scratch_obj));
	state_reset(&p->scratch_st);
	apply_defaults(p, s, &p->scratch_obj);
	p->cur = s;
	p->obj = &p->scratch_obj;
	p->st = &p->scratch_st;
	p->scratch = true;
}

static void open_cluster(struct parser *p, const char *name)
{
	if (*name)
		perr(p, "[cluster] takes no name");
	if (p->cluster_line) {
		perr(p, "duplicate section [cluster] (first at line %d)", p->cluster_line);
		open_scratch(p, SEC_CLUSTER);
		return;
	}
	p->cluster_line = p->line;
	p->cur = SEC_CLUSTER;
	p->obj = &p->c->cluster;
	p->st = &p->cluster_st;
}

/* name and line are the first two members of conf_host, conf_fence and conf_storage. */
struct named_head {
	char name[HAX_NAME_MAX];
	int line;
};
_Static_assert(offsetof(struct conf_host, name) == 0, "head");
_Static_assert(offsetof(struct conf_fence, name) == 0, "head");
_Static_assert(offsetof(struct conf_storage, name) == 0, "head");
_Static_assert(offsetof(struct conf_host, line) == offsetof(struct named_head, line), "head");
_Static_assert(offsetof(struct conf_fence, line) == offsetof(struct named_head, line), "head");
_Static_assert(offsetof(struct conf_storage, line) == offsetof(struct named_head, line), "head");

/* The array, count, limit and parser states of one named section type. */
struct named_list {
	char *base;
	size_t stride;
	int *n;
	int max;
	struct obj_state *st;
};

static struct named_list named_list(struct parser *p, enum sect s)
{
	struct hax_conf *c = p->c;

	if (s == SEC_HOST)
		return (struct named_list){(char *)c->hosts, sizeof(c->hosts[0]), &c->nhosts,
					   CONF_MAX_HOSTS, p->host_st};
	if (s == SEC_FENCE)
		return (struct named_list){(char *)c->fences, sizeof(c->fences[0]), &c->nfences,
					   CONF_MAX_FENCES, p->fence_st};
	return (struct named_list){(char *)c->storage, sizeof(c->storage[0]), &c->nstorage,
				   CONF_MAX_STORAGE, p->storage_st};
}

static struct named_head *named_at(const struct named_list *l, int i)
{
	return (struct named_head *)(l->base + (size_t)i * l->stride);
}

/* true (and reported) if a [TYPE NAME] header cannot open a new object. */
static bool named_rejected(struct parser *p, enum sect s, const struct named_list *l,
			   const char *name)
{
	char e[ECHO_MAX + 4];
	int i;

	if (!*name) {
		perr(p, "missing name in [%s]: expected [%s NAME]", sect_names[s], sect_names[s]);
		return true;
	}
	if (!hax_valid_name(name)) {
		perr(p, "invalid name \"%s\"", echo(e, name));
		return true;
	}
	for (i = 0; i < *l->n; i++) {
		if (strcmp(named_at(l, i)->name, name) == 0) {
			perr(p, "duplicate section [%s %s] (first at line %d)", sect_names[s], name,
			     named_at(l, i)->line);
			return true;
		}
	}
	if (*l->n == l->max) {
		perr(p, "too many [%s] sections (max %d)", sect_names[s], l->max);
		return true;
	}
	return false;
}

static void open_named(struct parser *p, enum sect s, const char *name)
{
	struct named_list l = named_list(p, s);
	struct named_head *h;

	if (named_rejected(p, s, &l, name)) {
		open_scratch(p, s);
		return;
	}
	h = named_at(&l, *l.n);
	p->cur = s;
	p->obj = h;
	p->st = &l.st[(*l.n)++];
	p->scratch = false;
	hax_strlcpy(h->name, name, sizeof(h->name));
	h->line = p->line;
	apply_defaults(p, s, h);
	if (s == SEC_HOST)
		snprintf(((struct conf_host *)h)->iqn, CONF_STR_MAX, "iqn.2026-11.org.hax:%s",
			 name);
}

/* ---- lines ---- */

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

/* '#' starts a comment at the start of the value or after a blank: "url = http://x/#a" keeps it. */
static char *strip_comment(char *v)
{
	char *s;

	v = trim(v);
	for (s = v; *s; s++) {
		if (*s == '#' && (s == v || s[-1] == ' ' || s[-1] == '\t')) {
			*s = '\0';
			break;
		}
	}
	return trim(v);
}

static void parse_header(struct parser *p, char *s)
{
	char e[ECHO_MAX + 4], *end = strchr(s, ']'), *type, *name, *rest;
	int i;

	end_section(p);
	p->cur = SEC_SKIP;
	p->scratch = false;
	p->hdr_line = p->line;
	/* Both mistakes below are reported, then the header is read as meant: fewer cascades. */
	if (!end) {
		perr(p, "unterminated section header");
		type = strip_comment(s + 1);
	} else {
		rest = trim(end + 1);
		if (*rest && *rest != '#')
			perr(p, "unexpected text after section header");
		*end = '\0';
		type = trim(s + 1);
	}
	if (!*type) {
		perr(p, "empty section header");
		return;
	}
	name = type + strcspn(type, " \t");
	if (*name)
		*name++ = '\0';
	name = trim(name);
	for (i = SEC_CLUSTER; i <= SEC_STORAGE; i++)
		if (strcmp(type, sect_names[i]) == 0)
			break;
	if (i > SEC_STORAGE)
		perr(p, "unknown section type [%s]", echo(e, type));
	else if (i == SEC_CLUSTER)
		open_cluster(p, name);
	else
		open_named(p, (enum sect)i, name);
}

static void parse_assignment(struct parser *p, char *s)
{
	char e[ECHO_MAX + 4], *eq = strchr(s, '='), *key, *val;
	int i;

	if (!eq || eq == s) {
		perr(p, "expected \"key = value\" or \"[section]\"");
		return;
	}
	if (p->cur == SEC_NONE) {
		perr(p, "key outside of any section");
		return;
	}
	if (p->cur == SEC_SKIP)
		return;
	*eq = '\0';
	key = trim(s);
	val = strip_comment(eq + 1);
	i = find_row(p->cur, key);
	if (i < 0 && p->cur == SEC_FENCE && strcmp(key, "password") == 0) {
		perr(p, "key \"password\" is not allowed: put the password in a file and set "
			"password_file");
		return;
	}
	if (i < 0) {
		perr(p, "unknown key \"%s\" in [%s]", echo(e, key), sect_names[p->cur]);
		return;
	}
	if (p->st->key_line[i]) {
		perr(p, "duplicate key \"%s\" (first at line %d)", key, p->st->key_line[i]);
		return;
	}
	p->st->key_line[i] = p->line;
	if (!*val && rows[i].set != set_luns) {
		perr(p, "missing value for %s", key);
		return;
	}
	p->st->valid[i] = set_value(p, &rows[i], val, p->obj) == 0;
}

/* One raw line (len bytes, no '\n'): length and character checks, then dispatch. */
static void parse_line(struct parser *p, const char *raw, size_t len)
{
	char buf[LINE_MAX_CHARS + 1], *s;
	size_t i;

	if (len > LINE_MAX_CHARS) {
		perr(p, "line too long (more than %d characters)", LINE_MAX_CHARS);
		return;
	}
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)raw[i];

		if ((ch < 0x20 && ch != '\t' && !(ch == '\r' && i == len - 1)) || ch == 0x7f) {
			perr(p, "invalid character 0x%02x", ch);
			return;
		}
	}
	memcpy(buf, raw, len);
	buf[len] = '\0';
	s = trim(buf);
	if (*s == '\0' || *s == '#')
		return;
	if (*s == '[')
		parse_header(p, s);
	else
		parse_assignment(p, s);
}

/* ---- cross references, after the whole file ---- */

static int fence_index(const struct hax_conf *c, const char *name)
{
	int i;

	for (i = 0; i < c->nfences; i++)
		if (strcmp(c->fences[i].name, name) == 0)
			return i;
	return -1;
}

static int storage_index(const struct hax_conf *c, const char *name)
{
	int i;

	for (i = 0; i < c->nstorage; i++)
		if (strcmp(c->storage[i].name, name) == 0)
			return i;
	return -1;
}

/* One level "a+b+c" of host h; appended only when every device is valid. */
static void parse_level(struct parser *p, struct conf_host *h, char *lvl)
{
	struct conf_fence_level L = {0};
	char e[ECHO_MAX + 4], e2[ECHO_MAX + 4], *copy = hax_xstrdup(lvl), *dev = copy, *plus;
	int i, idx;
	bool ok = true;

	for (; ok && dev; dev = plus) {
		plus = strchr(dev, '+');
		if (plus)
			*plus++ = '\0';
		if (!*dev) {
			perr(p, "bad fence level \"%s\": expected device names joined by '+'",
			     echo(e, lvl));
			ok = false;
		} else if ((idx = fence_index(p->c, dev)) < 0) {
			perr(p, "host %s: fence device \"%s\" is not defined", h->name,
			     echo(e, dev));
			ok = false;
		} else if (L.ndev == CONF_MAX_LEVEL_DEVS) {
			perr(p, "too many devices in fence level \"%s\" (max %d)", echo(e, lvl),
			     CONF_MAX_LEVEL_DEVS);
			ok = false;
		} else {
			for (i = 0; i < L.ndev && L.dev[i] != idx; i++)
				;
			if (i < L.ndev) {
				perr(p, "fence device \"%s\" twice in level \"%s\"", dev,
				     echo(e2, lvl));
				ok = false;
			} else {
				L.dev[L.ndev++] = idx;
			}
		}
	}
	free(copy);
	if (ok)
		h->levels[h->nlevels++] = L;
}

static void resolve_host(struct parser *p, int hi)
{
	struct conf_host *h = &p->c->hosts[hi];
	struct obj_state *st = &p->host_st[hi];
	char *save = NULL, *lvl;

	if (!st->refs)
		return;
	p->line = st->refs_line;
	for (lvl = strtok_r(st->refs, " \t", &save); lvl; lvl = strtok_r(NULL, " \t", &save)) {
		if (h->nlevels == CONF_MAX_LEVELS) {
			perr(p, "too many fence levels (max %d)", CONF_MAX_LEVELS);
			return;
		}
		parse_level(p, h, lvl);
	}
}

static void resolve_fence(struct parser *p, int fi)
{
	struct conf_fence *f = &p->c->fences[fi];
	struct obj_state *st = &p->fence_st[fi];
	char e[ECHO_MAX + 4], *save = NULL, *name;
	int i, idx;

	if (!st->refs)
		return;
	p->line = st->refs_line;
	for (name = strtok_r(st->refs, " \t", &save); name; name = strtok_r(NULL, " \t", &save)) {
		idx = storage_index(p->c, name);
		if (idx < 0) {
			perr(p, "fence %s: storage \"%s\" is not defined", f->name, echo(e, name));
			continue;
		}
		for (i = 0; i < f->nstorage && f->storage[i] != idx; i++)
			;
		if (i < f->nstorage) {
			perr(p, "storage \"%s\" listed twice", name); /* a defined name: short */
			continue;
		}
		f->storage[f->nstorage++] = idx; /* distinct and defined: cannot overflow */
	}
}

/* SCSI fencing cuts off the sessions that registered the victim's key: the guests' own
 * sessions must register it (sim guests do). QEMU's iSCSI driver cannot, so once haxd
 * took the reservation its guests could not write at all. */
static void check_scsi_driver(struct parser *p)
{
	int i;

	if (p->c->cluster.driver != CONF_DRIVER_QEMU)
		return;
	for (i = 0; i < p->c->nfences; i++)
		if (p->c->fences[i].driver == CONF_FENCE_SCSI)
			perr_at(p, p->c->fences[i].line,
				"fence %s: SCSI-3 reservation fencing does not work with driver qemu (QEMU's iSCSI sessions cannot register the host's key); use power fencing",
				p->c->fences[i].name);
}

/* Two hosts with one nodeid or one initiator name would fence or reserve each other. */
static void check_hosts_unique(struct parser *p)
{
	int nodeid_row = find_row(SEC_HOST, "nodeid"), iqn_row = find_row(SEC_HOST, "iqn");
	const struct conf_host *a, *b;
	int i, j, line;

	for (i = 0; i < p->c->nhosts; i++) {
		a = &p->c->hosts[i];
		for (j = 0; j < i; j++) {
			b = &p->c->hosts[j];
			line = p->host_st[i].key_line[nodeid_row];
			if (p->host_st[i].valid[nodeid_row] && p->host_st[j].valid[nodeid_row] &&
			    a->nodeid == b->nodeid)
				perr_at(p, line, "duplicate nodeid %u (also host %s)", a->nodeid,
					b->name);
			line = p->host_st[i].key_line[iqn_row];
			if (strcmp(a->iqn, b->iqn) == 0)
				perr_at(p, line ? line : a->line,
					"duplicate iqn \"%s\" (also host %s)", a->iqn, b->name);
		}
	}
}

static void finish(struct parser *p)
{
	int i;

	end_section(p);
	if (p->stopped)
		return;
	if (!p->cluster_line)
		perr_at(p, 0, "missing [cluster] section");
	for (i = 0; i < p->c->nhosts; i++)
		resolve_host(p, i);
	for (i = 0; i < p->c->nfences; i++)
		resolve_fence(p, i);
	check_hosts_unique(p);
	check_scsi_driver(p);
}

static void parser_free(struct parser *p)
{
	int i;

	for (i = 0; i < CONF_MAX_HOSTS; i++)
		state_reset(&p->host_st[i]);
	for (i = 0; i < CONF_MAX_FENCES; i++)
		state_reset(&p->fence_st[i]);
	for (i = 0; i < CONF_MAX_STORAGE; i++)
		state_reset(&p->storage_st[i]);
	state_reset(&p->cluster_st);
	state_reset(&p->scratch_st);
	free(p);
}

/* Parse len bytes (NULs included: they are reported) into out, written only on success. */
static int parse_buf(const char *name, const char *buf, size_t len, struct hax_conf *out,
		     struct conf_errors *errs)
{
	struct parser *p = hax_xcalloc(1, sizeof(*p));
	struct hax_conf *c = hax_xcalloc(1, sizeof(*c));
	const char *nl, *end = buf + len;
	int rc;

	p->file = name;
	p->c = c;
	p->cur = SEC_NONE;
	hax_strlcpy(c->path, name, sizeof(c->path));
	apply_defaults(p, SEC_CLUSTER, &c->cluster);
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		buf += 3; /* UTF-8 byte order mark, as some editors write */
	for (; buf < end && !p->stopped; buf = nl + 1) {
		nl = memchr(buf, '\n', (size_t)(end - buf));
		if (!nl)
			nl = end;
		p->line++;
		parse_line(p, buf, (size_t)(nl - buf));
	}
	finish(p);
	rc = p->nerr ? -EINVAL : 0;
	errs_flush(p, errs);
	parser_free(p);
	if (rc == 0)
		memcpy(out, c, sizeof(*c));
	free(c);
	return rc;
}

int conf_parse_string(const char *name, const char *text, struct hax_conf *out,
		      struct conf_errors *errs)
{
	return parse_buf(name, text, strlen(text), out, errs);
}

static void errs_add_file(struct conf_errors *errs, const char *path, const char *why)
{
	size_t n = strlen(path) + strlen(why) + 3;
	char *msg = hax_xmalloc(n);

	snprintf(msg, n, "%s: %s", path, why);
	errs_append(errs, msg);
}

/* Whole file into a malloc'ed buffer; -errno, or -EFBIG past FILE_MAX_BYTES. */
static int read_all(const char *path, char **out, size_t *outlen)
{
	size_t len = 0, cap = 8192;
	char *buf;
	ssize_t n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return -errno;
	buf = hax_xmalloc(cap);
	for (;;) {
		if (len == cap) {
			if (cap > FILE_MAX_BYTES)
				break;
			cap *= 2;
			buf = hax_xrealloc(buf, cap);
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	if (n < 0 || len > FILE_MAX_BYTES) {
		int rc = n < 0 ? -errno : -EFBIG;

		close(fd);
		free(buf);
		return rc;
	}
	close(fd);
	*out = buf;
	*outlen = len;
	return 0;
}

int conf_parse_file(const char *path, struct hax_conf *out, struct conf_errors *errs)
{
	char *buf = NULL;
	size_t len = 0;
	int rc = read_all(path, &buf, &len);

	if (rc == -EFBIG) {
		errs_add_file(errs, path, "file too large (max 1 MiB)");
		return rc;
	}
	if (rc < 0) {
		errs_add_file(errs, path, strerror(-rc));
		return rc;
	}
	rc = parse_buf(path, buf, len, out, errs);
	free(buf);
	return rc;
}

/* ---- table and lookups ---- */

const struct conf_key *conf_keys(size_t *n)
{
	/* A contiguous copy of the key part of rows[]: built once, the daemon has no threads. */
	static struct conf_key keys[NROWS];
	static bool built;
	size_t i;

	if (!built) {
		for (i = 0; i < NROWS; i++)
			keys[i] = rows[i].k;
		built = true;
	}
	if (n)
		*n = NROWS;
	return keys;
}

const struct conf_host *conf_host_by_name(const struct hax_conf *c, const char *name)
{
	int i;

	for (i = 0; i < c->nhosts; i++)
		if (strcmp(c->hosts[i].name, name) == 0)
			return &c->hosts[i];
	return NULL;
}

const struct conf_host *conf_host_by_nodeid(const struct hax_conf *c, uint32_t nodeid)
{
	int i;

	for (i = 0; i < c->nhosts; i++)
		if (c->hosts[i].nodeid == nodeid)
			return &c->hosts[i];
	return NULL;
}

const char *conf_driver_name(enum conf_driver d)
{
	if ((unsigned)d >= HAX_ARRAY_SIZE(driver_names) - 1)
		return "unknown";
	return driver_names[d];
}

const char *conf_fence_driver_name(enum conf_fence_driver d)
{
	if ((unsigned)d >= HAX_ARRAY_SIZE(fence_driver_names) - 1)
		return "unknown";
	return fence_driver_names[d];
}

/* ---- reload: what needs a restart ---- */

static void add_label(char (*out)[CONF_LABEL_MAX], int max, int *n, const char *fmt,
		      const char *a, const char *b)
{
	if (*n < max)
		snprintf(out[*n], CONF_LABEL_MAX, fmt, a, b);
	(*n)++;
}

static bool host_equal(const struct conf_host *a, const struct conf_host *b)
{
	struct conf_host x = *a, y = *b;

	x.line = y.line = 0;
	return memcmp(&x, &y, sizeof(x)) == 0;
}

static bool fence_equal(const struct conf_fence *a, const struct conf_fence *b)
{
	struct conf_fence x = *a, y = *b;

	x.line = y.line = 0;
	return memcmp(&x, &y, sizeof(x)) == 0;
}

static bool storage_equal(const struct conf_storage *a, const struct conf_storage *b)
{
	struct conf_storage x = *a, y = *b;

	x.line = y.line = 0;
	return memcmp(&x, &y, sizeof(x)) == 0;
}

/* Sections by name, both ways: changed or removed, then added. The structs come from
 * zeroed memory filled by the parser, so equal settings compare equal byte for byte. */
#define DIFF_SECTIONS(kind, arr, cnt, equal)                                                \
	do {                                                                                 \
		for (i = 0; i < live->cnt; i++) {                                            \
			for (k = 0; k < fresh->cnt; k++)                                     \
				if (strcmp(live->arr[i].name, fresh->arr[k].name) == 0)      \
					break;                                               \
			if (k == fresh->cnt)                                                 \
				add_label(out, max, &n, "[%s %s] removed", kind,             \
					  live->arr[i].name);                                \
			else if (!equal(&live->arr[i], &fresh->arr[k]))                      \
				add_label(out, max, &n, "[%s %s] changed", kind,             \
					  live->arr[i].name);                                \
		}                                                                            \
		for (k = 0; k < fresh->cnt; k++) {                                           \
			for (i = 0; i < live->cnt; i++)                                      \
				if (strcmp(live->arr[i].name, fresh->arr[k].name) == 0)      \
					break;                                               \
			if (i == live->cnt)                                                  \
				add_label(out, max, &n, "[%s %s] added", kind,               \
					  fresh->arr[k].name);                               \
		}                                                                            \
	} while (0)

int conf_restart_needed(const struct hax_conf *live, const struct hax_conf *fresh,
			char (*out)[CONF_LABEL_MAX], int max)
{
	const struct conf_cluster *a = &live->cluster, *b = &fresh->cluster;
	int i, k, n = 0;

	if (strcmp(a->name, b->name))
		add_label(out, max, &n, "[%s] %s changed", "cluster", "name");
	if (a->driver != b->driver)
		add_label(out, max, &n, "[%s] %s changed", "cluster", "driver");
	if (strcmp(a->state_dir, b->state_dir))
		add_label(out, max, &n, "[%s] %s changed", "cluster", "state_dir");
	if (strcmp(a->client_group, b->client_group))
		add_label(out, max, &n, "[%s] %s changed", "cluster", "client_group");
	if (strcmp(a->monitor_group, b->monitor_group))
		add_label(out, max, &n, "[%s] %s changed", "cluster", "monitor_group");
	if (strcmp(a->xl, b->xl))
		add_label(out, max, &n, "[%s] %s changed", "cluster", "xl");
	if (strcmp(a->xl_migrate_ssh, b->xl_migrate_ssh))
		add_label(out, max, &n, "[%s] %s changed", "cluster", "xl_migrate_ssh");
	DIFF_SECTIONS("host", hosts, nhosts, host_equal);
	DIFF_SECTIONS("fence", fences, nfences, fence_equal);
	DIFF_SECTIONS("storage", storage, nstorage, storage_equal);
	return n;
}

/* The storage of a scsi-only level that cannot persist reservations, or -1. Any other
 * device in the level (power, redfish, watchdog...) makes a fenced host stop for good. */
static int scsi_only_volatile(const struct hax_conf *c, const struct conf_fence_level *lv)
{
	int vol = -1;

	for (int k = 0; k < lv->ndev; k++) {
		const struct conf_fence *f = &c->fences[lv->dev[k]];

		if (f->driver != CONF_FENCE_SCSI)
			return -1;
		for (int j = 0; j < f->nstorage; j++)
			if (vol < 0 && !c->storage[f->storage[j]].persistent)
				vol = f->storage[j];
	}
	return vol;
}

int conf_warnings(const struct hax_conf *c, char (*out)[512], int max)
{
	int n = 0;

	for (int i = 0; i < c->nhosts && n < max; i++) {
		const struct conf_host *h = &c->hosts[i];
		int vol = -1, l;

		for (l = 0; l < h->nlevels; l++) {
			int v = scsi_only_volatile(c, &h->levels[l]);

			if (v < 0)
				break;
			if (vol < 0)
				vol = v;
		}
		if (h->nlevels == 0 || l < h->nlevels || vol < 0)
			continue;
		snprintf(out[n++], 512,
			 "%.200s:%d: warning: host %s is fenced only by SCSI reservations on storage "
			 "%s, which does not keep them across a failover (persistent_reservations "
			 "= no): after one, a fenced host that still runs can write again until its "
			 "no-quorum policy stops its domains; add a power level beside it (fence = "
			 "scsi+power)",
			 c->path, h->line, h->name, c->storage[vol].name);
	}
	return n;
}
