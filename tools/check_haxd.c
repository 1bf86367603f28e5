/*
 * check_haxd: the Nagios/Icinga plugin. It asks haxd for its status over IPC (JSON, never
 * haxctl's text) and prints one line "HAXD STATE - text | perfdata" with all perfdata on
 * it (Icinga 2 misreads perfdata on continuation lines), then details. Exit 0/1/2/3 as the
 * Monitoring Plugins guidelines ask; everything it cannot judge, usage errors included,
 * is UNKNOWN (3). The judgement itself lives in check.c, which is unit-tested.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "haxd/check.h"
#include "ipc_client.h"
#include "lib/util.h"

#define TIMEOUT_DEFAULT 10
#define TIMEOUT_MAX 3600

static const char usage_text[] =
    "Usage: check_haxd [-v] [-t SECONDS] [-w METRIC=RANGE]... [-c METRIC=RANGE]...\n"
    "       check_haxd [-v] [-t SECONDS] --host NAME\n"
    "       check_haxd [-v] [-t SECONDS] --domain NAME\n";

static const char help_text[] =
    "Nagios/Icinga plugin for the hax cluster HA daemon: asks the local haxd over IPC\n"
    "(service $HAX_IPC, default \"haxd\"; root or the client group of haxd.conf).\n"
    "\n"
    "Modes:\n"
    "  (default)            the cluster: quorum, hosts, HA domains, fence failures, N+k\n"
    "  --host NAME          one host: its state and the domains it runs\n"
    "  --domain NAME        one domain: where it runs, since when, its last failover\n"
    "\n"
    "Options:\n"
    "  -w, --warning METRIC=RANGE   warning threshold on a cluster metric (repeatable)\n"
    "  -c, --critical METRIC=RANGE  critical threshold on a cluster metric (repeatable)\n"
    "  -t, --timeout SECONDS        UNKNOWN if haxd does not answer in time (default 10)\n"
    "  -v, --verbose                a line for every host and domain\n"
    "  -h, --help                   this text\n"
    "  -V, --version                the version\n"
    "\n"
    "Metrics (also the perfdata labels): hosts_online, hosts_total, quorate (0/1),\n"
    "domains_running, domains_recovering, domains_failed, tolerates_host_failures,\n"
    "fence_failures, hosts_lost (suspect, fencing, agent-lost or never seen),\n"
    "hosts_fenced, hosts_maintenance, leader_changes (a counter, unit c: times the\n"
    "leader became another host since the answering haxd started; no default threshold),\n"
    "domains_stranded (domains that the loss of some single host would leave\n"
    "with nowhere to go, named with that host on the first line).\n"
    "\n"
    "RANGE is the Monitoring Plugins format, alerting outside it, or inside with '@':\n"
    "  10 (0..10), 10: (10 or more), ~:10 (10 or less), 10:20, @10:20 (alert on 10..20);\n"
    "  ~: never alerts. Quote ranges with '~': shells expand ~ after '='.\n"
    "Defaults: quorate -c 1:, fence_failures -c 0, domains_failed -c 0,\n"
    "domains_recovering -w 0, hosts_lost -w 0, hosts_fenced -w 0, and with more than one\n"
    "host tolerates_host_failures -w 1: and domains_stranded -w 0. A -w or -c on a metric replaces both of its\n"
    "defaults, e.g. -w fence_failures=0 makes a fence failure a WARNING only.\n"
    "\n"
    "--host: OK when online; WARNING in maintenance; CRITICAL when not online.\n"
    "--domain: OK when running, disabled, or stopped and not enabled; WARNING while\n"
    "starting, stopping, migrating or recovering; CRITICAL when failed, or stopped but\n"
    "enabled. An unknown host or domain is UNKNOWN.\n"
    "\n"
    "Exit status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (haxd not running, permission\n"
    "denied, timeout, usage error, --help, --version).\n";

/* Written by the SIGALRM handler as is: formatted before the alarm is set. */
static char timeout_msg[128];

static void on_alarm(int sig)
{
	ssize_t r;

	(void)sig;
	r = write(STDOUT_FILENO, timeout_msg, strlen(timeout_msg));
	(void)r;
	_exit(CHECK_UNKNOWN);
}

static int usage_error(const char *msg)
{
	printf("HAXD UNKNOWN - %s\n%s", msg, usage_text);
	return CHECK_UNKNOWN;
}

struct opts {
	struct check_thresholds t;
	bool have_thresholds, verbose;
	const char *host, *domain;
	unsigned timeout_s;
};

/* 0 to run the check, else the exit status (help, version, usage error). */
static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {{"help", no_argument, NULL, 'h'},
						 {"version", no_argument, NULL, 'V'},
						 {"verbose", no_argument, NULL, 'v'},
						 {"timeout", required_argument, NULL, 't'},
						 {"warning", required_argument, NULL, 'w'},
						 {"critical", required_argument, NULL, 'c'},
						 {"host", required_argument, NULL, 'N'},
						 {"domain", required_argument, NULL, 'D'},
						 {NULL, 0, NULL, 0}};
	char err[512], *end;
	unsigned long n;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hVvt:w:c:", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			printf("check_haxd %s\n%s\n%s", HAX_VERSION, usage_text, help_text);
			return CHECK_UNKNOWN;
		case 'V':
			printf("check_haxd %s\n", HAX_VERSION);
			return CHECK_UNKNOWN;
		case 'v':
			o->verbose = true;
			break;
		case 't':
			errno = 0;
			n = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || *optarg == '-' || n == 0 ||
			    n > TIMEOUT_MAX) {
				snprintf(err, sizeof(err), "-t %s: expected whole seconds, 1 to %d",
					 optarg, TIMEOUT_MAX);
				return usage_error(err);
			}
			o->timeout_s = (unsigned)n;
			break;
		case 'w':
		case 'c':
			if (check_threshold_arg(&o->t, c == 'c', optarg, err, sizeof(err)) < 0)
				return usage_error(err);
			o->have_thresholds = true;
			break;
		case 'N':
			o->host = optarg;
			break;
		case 'D':
			o->domain = optarg;
			break;
		case ':':
			snprintf(err, sizeof(err), "%s needs an argument", argv[optind - 1]);
			return usage_error(err);
		default:
			snprintf(err, sizeof(err), "unknown option %s", argv[optind - 1]);
			return usage_error(err);
		}
	}
	if (optind < argc) {
		snprintf(err, sizeof(err), "unexpected argument %s", argv[optind]);
		return usage_error(err);
	}
	if (o->host && o->domain)
		return usage_error("--host and --domain exclude each other");
	if ((o->host || o->domain) && o->have_thresholds)
		return usage_error("-w and -c apply to the cluster mode only");
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = {.timeout_s = TIMEOUT_DEFAULT};
	char err[512], *out = NULL;
	json_t *req, *reply = NULL;
	enum check_code code;
	int r;

	r = parse_opts(argc, argv, &o);
	if (r)
		return r;
	/* Our own alarm: libqb's timeout covers the exchange, not a connect to a haxd that is
	 * stopped or wedged. */
	snprintf(timeout_msg, sizeof(timeout_msg),
		 "HAXD UNKNOWN - no answer from haxd within %u s\n", o.timeout_s);
	signal(SIGALRM, on_alarm);
	alarm(o.timeout_s);
	req = json_pack("{s:s}", "cmd", "status");
	r = hax_ipc_call(req, (int)o.timeout_s * 1000, &reply, err, sizeof(err));
	json_decref(req);
	alarm(0);
	if (r == -ETIMEDOUT || r == -EAGAIN) {
		fputs(timeout_msg, stdout);
		return CHECK_UNKNOWN;
	}
	if (r < 0) {
		printf("HAXD UNKNOWN - %s\n", err);
		return CHECK_UNKNOWN;
	}
	if (o.host)
		code = check_host(reply, o.host, o.verbose, hax_now_real_ns(), &out);
	else if (o.domain)
		code = check_domain(reply, o.domain, o.verbose, hax_now_real_ns(), &out);
	else
		code = check_cluster(reply, &o.t, o.verbose, hax_now_real_ns(), &out);
	fputs(out, stdout);
	free(out);
	json_decref(reply);
	return code;
}
