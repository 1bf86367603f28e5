/*
 * The pure half of check_haxd: Monitoring Plugins threshold ranges, the cluster metrics
 * taken from a status document (docs/status-json.md), and the plugin output built from
 * it. No I/O, no clock: the caller passes "now" and prints the result.
 */
#ifndef HAX_CHECK_H
#define HAX_CHECK_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Plugin return codes, also the exit status. */
enum check_code { CHECK_OK, CHECK_WARNING, CHECK_CRITICAL, CHECK_UNKNOWN };

/* A threshold range, [@]start:end as in the Monitoring Plugins guidelines: "10" is 0..10,
 * "10:" is 10..inf, "~:10" is -inf..10, "10:20"; it alerts outside, or inside with '@'
 * (bounds included either way). */
struct check_range {
	bool set;
	bool inside;  /* '@' */
	bool no_low;  /* '~' */
	bool no_high; /* "start:" */
	double low, high;
	char text[32]; /* as given, echoed in perfdata */
};

/* The numeric metrics of cluster mode; each is a perfdata label and a -w/-c name. */
enum check_metric {
	CHECK_M_HOSTS_ONLINE,
	CHECK_M_HOSTS_TOTAL,
	CHECK_M_QUORATE,
	CHECK_M_DOMAINS_RUNNING,
	CHECK_M_DOMAINS_RECOVERING,
	CHECK_M_DOMAINS_FAILED,
	CHECK_M_TOLERATES,
	CHECK_M_FENCE_FAILURES,
	CHECK_M_HOSTS_LOST,
	CHECK_M_HOSTS_FENCED,
	CHECK_M_HOSTS_MAINTENANCE,
	CHECK_M_LEADER_CHANGES, /* a counter: perfdata unit "c" */
	CHECK_M_STORAGE_UNFENCED, /* storages where SCSI fencing is not known in force */
	CHECK_M_STRANDED,       /* domains some single host's loss leaves nowhere to go */
	CHECK_M_COUNT
};

struct check_thresholds {
	struct check_range warn[CHECK_M_COUNT], crit[CHECK_M_COUNT];
	bool user[CHECK_M_COUNT]; /* -w or -c given: the defaults of that metric are dropped */
};

/* "OK", "WARNING", "CRITICAL", "UNKNOWN". */
const char *check_code_name(enum check_code c);

/* The label of metric m ("hosts_online", ...). */
const char *check_metric_name(enum check_metric m);

/* The cluster metrics of a status document, v[CHECK_M_COUNT] (what check_haxd and
 * haxctl status --openmetrics report); 0, or -EPROTO for a refusal or malformed one. */
int check_metrics(const json_t *status, long *v);

/* Parse a range; 0, or -EINVAL for anything but [@][~|num][:[num]] with start <= end. */
int check_range_parse(const char *s, struct check_range *out);

/* true if v raises the alert of r; an unset range never alerts. */
bool check_range_alert(const struct check_range *r, double v);

/* Apply "-w METRIC=RANGE" (critical false) or "-c METRIC=RANGE"; 0, or -EINVAL with a
 * line in err naming the bad metric or range. */
int check_threshold_arg(struct check_thresholds *t, bool critical, const char *arg, char *err,
			size_t errlen);

/* Cluster mode: the plugin code, with the output in *out (malloc'd, always set): the first
 * line with all perfdata, then a line per host or domain in trouble (verbose: every one).
 * A reply with "ok":false or a malformed document is CHECK_UNKNOWN with the reason. */
enum check_code check_cluster(const json_t *status, const struct check_thresholds *t, bool verbose,
			      uint64_t now_ns, char **out);

/* --host NAME: the host's state and the domains it holds; same contract. */
enum check_code check_host(const json_t *status, const char *name, bool verbose, uint64_t now_ns,
			   char **out);

/* --domain NAME: where it runs, since when, its last failover; same contract. */
enum check_code check_domain(const json_t *status, const char *name, bool verbose, uint64_t now_ns,
			     char **out);

#endif
