/*
 * haxctl: the operator's command line. Talks to the local haxd over libqb IPC (JSON);
 * never changes anything itself. Exit: 0 done, 1 haxd refused or is unreachable,
 * 2 usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "haxctl.h"
#include "ipc_client.h"
#include "haxd/openmetrics.h"
#include "haxd/proto.h"
#include "haxd/state.h"
#include "lib/util.h"

static const char main_usage[] =
	"Usage: haxctl [--version] [--help] COMMAND [ARGS]\n"
	"Control the hax cluster through the local haxd.\n\n"
	"Commands:\n"
	"  status [--json|--openmetrics]         cluster, hosts and domains (--openmetrics:\n"
	"                                        check_haxd's metrics and per-host and\n"
	"                                        per-domain gauges, for node_exporter's\n"
	"                                        textfile collector)\n"
	"  events [--json]                       recent events (state transitions)\n"
	"  domain list [--json]                  the HA domains, as a table\n"
	"  domain add NAME --config FILE [--memory MIB] [--vcpus N] [--priority N]\n"
	"             [--anti-affinity TAG]... [--prefer HOST]...\n"
	"                                        put a domain under HA management (it starts)\n"
	"  domain remove NAME                    forget a stopped domain\n"
	"  domain enable NAME                    let the cluster run it (again)\n"
	"  domain disable NAME                   stop it and keep it stopped\n"
	"  explain-failover [HOST] [--json]      the worst-case failover timeline of HOST\n"
	"  plan --lose HOST[,HOST...] [--json]   what the leader would do if those hosts\n"
	"                                        died now: which domains go where, which\n"
	"                                        fit nowhere and why, the timeline (changes\n"
	"                                        nothing)\n"
	"  reload                                re-read haxd.conf on this host (as SIGHUP)\n"
	"  fence HOST                            fence HOST now, through its fence levels\n"
	"  fence HOST --dry-run [--json]         ask every fence device of HOST, from this\n"
	"                                        host, whether it could fence HOST (changes\n"
	"                                        nothing; exit 1 unless every device answers)\n"
	"  fence-ack HOST --yes-i-checked-it-is-off\n"
	"                                        confirm by hand that HOST is off (its\n"
	"                                        domains may then start elsewhere)\n"
	"  migrate DOMAIN HOST [--wait]          move a running domain to HOST\n"
	"  evacuate HOST [--wait] [--concurrency N] [--dry-run]\n"
	"                                        maintenance on, then migrate every domain\n"
	"                                        off HOST, at most N at once\n"
	"  evacuate --abort HOST                 start no further migrations off HOST\n"
	"  maintenance HOST on|off               keep new domains off HOST, or let them back\n\n"
	"The IPC service is \"haxd\" unless $HAX_IPC names another.\n"
	"Exit status: 0 success, 1 haxd refused or is unreachable, 2 usage error.\n";

int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "haxctl: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'haxctl --help'.\n");
	return EXIT_USAGE;
}

/* Send a request; print the error line and return 1 on failure. */
int call(json_t *req, json_t **reply)
{
	char err[512];
	int r = hax_ipc_call(req, HAX_IPC_TIMEOUT_MS, reply, err, sizeof(err));

	json_decref(req);
	if (r < 0) {
		fprintf(stderr, "haxctl: %s\n", err);
		return EXIT_FAIL;
	}
	if (!json_is_true(json_object_get(*reply, "ok"))) {
		fprintf(stderr, "haxctl: %s\n",
			json_string_value(json_object_get(*reply, "error")) ?: "request failed");
		json_decref(*reply);
		return EXIT_FAIL;
	}
	return 0;
}

const char *jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s && *s ? s : "-";
}

long long jint(const json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

static int width(const json_t *arr, const char *key, int min)
{
	size_t i;
	int w = min;

	for (i = 0; i < json_array_size(arr); i++) {
		int n = (int)strlen(jstr(json_array_get(arr, i), key));

		if (n > w)
			w = n;
	}
	return w;
}

static void print_domains(const json_t *doms)
{
	int wn = width(doms, "name", 4), wh = width(doms, "host", 4);
	size_t i;

	printf("%-*s  %-*s  %-10s  %7s  %5s  %4s  %11s  %s\n", wn, "Name", wh, "Host", "State",
	       "Mem", "VCPUs", "Prio", "Incarnation", "Reason");
	for (i = 0; i < json_array_size(doms); i++) {
		const json_t *d = json_array_get(doms, i);
		const char *reason = json_string_value(json_object_get(d, "reason"));

		printf("%-*s  %-*s  %-10s  %7lld  %5lld  %4lld  %11lld  %s\n", wn, jstr(d, "name"),
		       wh, jstr(d, "host"), jstr(d, "state"), jint(d, "memory_mib"),
		       jint(d, "vcpus"), jint(d, "priority"), jint(d, "incarnation"),
		       reason && *reason ? reason : "");
	}
}

static void print_hosts(const json_t *hosts)
{
	int wn = width(hosts, "name", 4);
	size_t i;

	printf("%-*s  %6s  %-10s  %-5s  %9s  %9s  %5s  %7s  %s\n", wn, "Host", "Nodeid",
	       "State", "Maint", "Mem(MiB)", "Free", "VCPUs", "Domains", "Last fence");
	for (i = 0; i < json_array_size(hosts); i++) {
		const json_t *h = json_array_get(hosts, i);
		const json_t *f = json_object_get(h, "last_fence");
		char fence[256] = "";

		if (json_is_object(f))
			snprintf(fence, sizeof(fence), "%s %s: %s",
				 json_is_true(json_object_get(f, "ok")) ? "ok" : "FAILED",
				 jstr(f, "method"), jstr(f, "detail"));
		printf("%-*s  %6lld  %-10s  %-5s  %9lld  %9lld  %5lld  %7zu  %s\n", wn,
		       jstr(h, "name"), jint(h, "nodeid"), jstr(h, "state"),
		       json_is_true(json_object_get(h, "maintenance")) ? "yes" : "no",
		       jint(h, "mem_total_mib"), jint(h, "mem_free_mib"), jint(h, "vcpus_total"),
		       json_array_size(json_object_get(h, "domains")), fence);
	}
}

void print_json(const json_t *j)
{
	char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	if (text)
		puts(text);
	free(text);
}

/* Parse a trailing optional "--json"; anything else is a usage error. */
static int want_json(int argc, char **argv, bool *json)
{
	int i;

	*json = false;
	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			*json = true;
		else
			return usage_error("%s: unexpected argument", argv[i]);
	}
	return 0;
}

/* SCSI fencing per storage as the answering host sees it, and the configuration's
 * warnings (issue 17); nothing when there is neither. */
static void print_storage(const json_t *reply)
{
	const json_t *st = json_object_get(reply, "storage"), *w = json_object_get(reply, "warnings");
	size_t i;

	for (i = 0; i < json_array_size(st); i++) {
		const json_t *e = json_array_get(st, i);
		bool ok = strcmp(jstr(e, "fencing"), "in force") == 0 ||
			  strcmp(jstr(e, "fencing"), "unregistered") == 0;

		printf("Storage %s: SCSI fencing %s%s%s\n", jstr(e, "name"),
		       ok ? jstr(e, "fencing") : "NOT IN FORCE", ok ? "" : ": ",
		       ok ? "" : jstr(e, "detail"));
	}
	for (i = 0; i < json_array_size(w); i++)
		printf("Warning: %s\n", json_string_value(json_array_get(w, i)));
	if (json_array_size(st) || json_array_size(w))
		printf("\n");
}

/* Always an exposition, even when haxd cannot be asked (hax_up 0), so that a textfile
 * collector shows the outage instead of the last good numbers. */
static int status_openmetrics(void)
{
	json_t *req = json_pack("{s:s}", "cmd", "status"), *reply = NULL;
	char err[512], *text = NULL;
	int r = hax_ipc_call(req, HAX_IPC_TIMEOUT_MS, &reply, err, sizeof(err));

	json_decref(req);
	if (r == 0)
		text = openmetrics_text(reply);
	if (r == 0 && !text)
		snprintf(err, sizeof(err), "%s",
			 json_string_value(json_object_get(reply, "error")) ?: "malformed status from haxd");
	json_decref(reply);
	if (!text) {
		fprintf(stderr, "haxctl: %s\n", err);
		text = openmetrics_down();
		fputs(text, stdout);
		free(text);
		return EXIT_FAIL;
	}
	fputs(text, stdout);
	free(text);
	return 0;
}

static int cmd_status(int argc, char **argv, bool domains_only)
{
	json_t *reply, *cl;
	bool json;
	int r;

	if (!domains_only && argc == 1 && strcmp(argv[0], "--openmetrics") == 0)
		return status_openmetrics();
	r = want_json(argc, argv, &json);

	if (r)
		return r;
	r = call(json_pack("{s:s}", "cmd", "status"), &reply);
	if (r)
		return r;
	cl = json_object_get(reply, "cluster");
	if (json && domains_only)
		print_json(json_object_get(reply, "domains"));
	else if (json)
		print_json(reply);
	else if (domains_only)
		print_domains(json_object_get(reply, "domains"));
	else {
		printf("Cluster %s (%s)  quorate: %s  leader: %s  epoch: %lld  seq: %lld\n",
		       jstr(cl, "name"), jstr(cl, "mode"),
		       json_is_true(json_object_get(cl, "quorate")) ? "yes" : "NO",
		       jstr(cl, "leader"), jint(cl, "epoch"), jint(cl, "seq"));
		printf("Tolerates %lld host failure(s) (N+k)%s\n\n",
		       jint(cl, "tolerates_host_failures"),
		       jint(cl, "fence_failures") ? "; FENCING FAILED for some host (see Last fence)"
						  : "");
		print_storage(reply);
		print_hosts(json_object_get(reply, "hosts"));
		printf("\n");
		print_domains(json_object_get(reply, "domains"));
	}
	json_decref(reply);
	return 0;
}

static int cmd_events(int argc, char **argv)
{
	json_t *reply, *evs;
	bool json;
	size_t i;
	int r = want_json(argc, argv, &json);

	if (r || (r = call(json_pack("{s:s}", "cmd", "events"), &reply)))
		return r;
	evs = json_object_get(reply, "events");
	if (json)
		print_json(evs);
	for (i = 0; !json && i < json_array_size(evs); i++) {
		const json_t *e = json_array_get(evs, i);
		long long ns = jint(e, "time_ns");
		time_t t = (time_t)(ns / 1000000000);
		char when[32];

		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime(&t));
		printf("%s.%03lld  %-14s %s\n", when, (ns / 1000000) % 1000, jstr(e, "event"),
		       jstr(e, "text"));
	}
	json_decref(reply);
	return 0;
}

static int read_file(const char *path, char **out)
{
	FILE *f = fopen(path, "re");
	char *buf;
	size_t n;

	if (!f)
		return -errno;
	buf = hax_xmalloc(STATE_MAX_DEFINITION + 1);
	n = fread(buf, 1, STATE_MAX_DEFINITION + 1, f);
	fclose(f);
	if (n > STATE_MAX_DEFINITION || memchr(buf, '\0', n)) {
		free(buf);
		return -EFBIG;
	}
	buf[n] = '\0';
	*out = buf;
	return 0;
}

/* xl.cfg's "memory = N" and "vcpus = N", used when --memory/--vcpus are not given. */
static long cfg_number(const char *text, const char *key, long def)
{
	const char *p = text;
	size_t klen = strlen(key);

	for (; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		char *end;
		long v;

		p += strspn(p, " \t");
		if (strncmp(p, key, klen) != 0 || strchr(" \t=", p[klen]) == NULL)
			continue;
		p += klen + strspn(p + klen, " \t");
		if (*p != '=')
			continue;
		v = strtol(p + 1, &end, 10);
		if (end != p + 1 && v > 0)
			return v;
	}
	return def;
}

static int parse_long(const char *opt, const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *s == '\0' || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "haxctl: %s: \"%s\" is not a number in %ld..%ld\n", opt, s, min, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

struct add_args {
	const char *config;
	long memory, vcpus, priority;
	json_t *anti, *prefer;
};

static int parse_add(int argc, char **argv, struct add_args *a)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},  {"memory", required_argument, NULL, 'm'},
		{"vcpus", required_argument, NULL, 'v'},   {"priority", required_argument, NULL, 'p'},
		{"anti-affinity", required_argument, NULL, 'a'},
		{"prefer", required_argument, NULL, 'P'},  {NULL, 0, NULL, 0},
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:m:v:p:a:P:", opts, NULL)) != -1) {
		int r = 0;

		switch (c) {
		case 'c': a->config = optarg; break;
		case 'm': r = parse_long("--memory", optarg, 1, 16777216, &a->memory); break;
		case 'v': r = parse_long("--vcpus", optarg, 1, 1024, &a->vcpus); break;
		case 'p': r = parse_long("--priority", optarg, -1000, 1000, &a->priority); break;
		case 'a': json_array_append_new(a->anti, json_string(optarg)); break;
		case 'P': json_array_append_new(a->prefer, json_string(optarg)); break;
		default: return usage_error("domain add: bad option%s", "");
		}
		if (r)
			return EXIT_USAGE;
	}
	if (optind != argc)
		return usage_error("domain add: unexpected argument \"%s\"", argv[optind]);
	if (!a->config)
		return usage_error("domain add: --config FILE is required%s", "");
	return 0;
}

static int cmd_domain_add(const char *name, int argc, char **argv)
{
	struct add_args a = {.anti = json_array(), .prefer = json_array()};
	json_t *reply, *dom;
	char *def = NULL;
	int r = parse_add(argc, argv, &a);

	if (r == 0 && (r = read_file(a.config, &def)) < 0) {
		fprintf(stderr, "haxctl: %s: %s\n", a.config,
			r == -EFBIG ? "too large or not a text file" : strerror(-r));
		r = EXIT_USAGE;
	}
	if (r) {
		json_decref(a.anti);
		json_decref(a.prefer);
		return r;
	}
	dom = json_pack("{s:s, s:s, s:I, s:I, s:I, s:o, s:o, s:b, s:s}", "name", name,
			"definition", def, "memory_mib",
			(json_int_t)(a.memory ? a.memory : cfg_number(def, "memory", 256)), "vcpus",
			(json_int_t)(a.vcpus ? a.vcpus : cfg_number(def, "vcpus", 1)), "priority",
			(json_int_t)a.priority, "anti_affinity", a.anti, "prefer", a.prefer,
			"enabled", 1, "state", "stopped");
	free(def);
	r = call(json_pack("{s:s, s:o}", "cmd", "domain-add", "domain", dom), &reply);
	if (r)
		return r;
	printf("domain %s added\n", name);
	json_decref(reply);
	return 0;
}

static int cmd_domain(int argc, char **argv)
{
	static const char *const simple[] = {"remove", "enable", "disable"};
	char cmd[32];
	json_t *reply;
	size_t i;

	if (argc < 1)
		return usage_error("domain: missing sub-command (list, add, remove, enable, disable)%s", "");
	if (strcmp(argv[0], "list") == 0)
		return cmd_status(argc - 1, argv + 1, true);
	if (argc < 2)
		return usage_error("domain %s: missing domain NAME", argv[0]);
	if (!hax_valid_name(argv[1]))
		return usage_error("invalid domain name \"%s\" (1-63 of A-Z a-z 0-9 . _ -)", argv[1]);
	if (strcmp(argv[0], "add") == 0 && hax_reserved_domain_suffix(argv[1]))
		return usage_error("invalid domain name \"%s\": xl reserves the suffixes --incoming and --migratedaway",
				   argv[1]);
	if (strcmp(argv[0], "add") == 0)
		return cmd_domain_add(argv[1], argc - 1, argv + 1);
	for (i = 0; i < HAX_ARRAY_SIZE(simple); i++) {
		if (strcmp(argv[0], simple[i]) != 0)
			continue;
		if (argc > 2)
			return usage_error("unexpected argument \"%s\"", argv[2]);
		snprintf(cmd, sizeof(cmd), "domain-%s", simple[i]);
		if (call(json_pack("{s:s, s:s}", "cmd", cmd, "name", argv[1]), &reply))
			return EXIT_FAIL;
		printf("domain %s: %sd\n", argv[1], simple[i]);
		json_decref(reply);
		return 0;
	}
	return usage_error("domain: unknown sub-command \"%s\"", argv[0]);
}

/* The reply's error lines (file:line: what) are printed one per line. */
static int cmd_reload(int argc)
{
	char err[512];
	json_t *reply, *lines, *req;
	size_t i;
	int r;

	if (argc != 0)
		return usage_error("reload takes no argument%s", "");
	req = json_pack("{s:s}", "cmd", "reload");
	r = hax_ipc_call(req, HAX_IPC_TIMEOUT_MS, &reply, err, sizeof(err));
	json_decref(req);
	if (r < 0) {
		fprintf(stderr, "haxctl: %s\n", err);
		return EXIT_FAIL;
	}
	if (json_is_true(json_object_get(reply, "ok"))) {
		lines = json_object_get(reply, "restart_needed");
		printf("configuration reloaded\n");
		for (i = 0; i < json_array_size(lines); i++)
			printf("%s: takes effect when haxd restarts\n",
			       json_string_value(json_array_get(lines, i)));
		json_decref(reply);
		return 0;
	}
	lines = json_object_get(reply, "errors");
	for (i = 0; i < json_array_size(lines); i++)
		fprintf(stderr, "%s\n", json_string_value(json_array_get(lines, i)));
	fprintf(stderr, "haxctl: %s\n", jstr(reply, "error"));
	json_decref(reply);
	return EXIT_FAIL;
}

static int cmd_explain(int argc, char **argv)
{
	json_t *reply, *req = json_pack("{s:s}", "cmd", "explain-failover"), *ph;
	bool json = false;
	size_t i;
	int k;

	for (k = 0; k < argc; k++) {
		if (strcmp(argv[k], "--json") == 0)
			json = true;
		else if (hax_valid_name(argv[k]) && !json_object_get(req, "host"))
			json_object_set_new(req, "host", json_string(argv[k]));
		else {
			json_decref(req);
			return usage_error("explain-failover: unexpected argument \"%s\"", argv[k]);
		}
	}
	if (call(req, &reply))
		return EXIT_FAIL;
	if (json) {
		print_json(reply);
		json_decref(reply);
		return 0;
	}
	ph = json_object_get(reply, "phases");
	printf("Worst-case failover of %s (from the live configuration):\n", jstr(reply, "host"));
	for (i = 0; i < json_array_size(ph); i++) {
		const json_t *p = json_array_get(ph, i);

		printf("  %-42s %8lld ms  %s\n", jstr(p, "phase"), jint(p, "ms"), jstr(p, "detail"));
	}
	printf("  %-42s %8lld ms\n", "total (worst case)", jint(reply, "worst_case_ms"));
	json_decref(reply);
	return 0;
}

static void print_plan(const json_t *r)
{
	const json_t *q = json_object_get(r, "quorum"), *doms = json_object_get(r, "domains");
	const json_t *tl = json_object_get(r, "timeline"), *ph = json_object_get(tl, "phases");
	int wn = width(doms, "name", 6), wf = width(doms, "from", 4);
	char lost[512] = "";
	size_t i;

	for (i = 0; i < json_array_size(json_object_get(r, "lose")); i++)
		snprintf(lost + strlen(lost), sizeof(lost) - strlen(lost), "%s%s", i ? ", " : "",
			 json_string_value(json_array_get(json_object_get(r, "lose"), i)));
	printf("If %s died now (what the leader would do; nothing was changed):\n", lost);
	printf("Quorum: %lld of %lld hosts left, a majority is %lld: %s\n", jint(q, "hosts_left"),
	       jint(q, "hosts_total"), jint(q, "majority"),
	       json_is_true(json_object_get(q, "quorate"))
		   ? "the survivors act"
		   : "NO QUORUM: nothing is restarted (unless votequorum's two_node, "
		     "auto_tie_breaker or last_man_standing say otherwise)");
	if (json_array_size(doms) == 0)
		printf("No enabled domain runs there: nothing to restart.\n");
	else
		printf("\n%-*s  %-*s  %-10s  %4s  %8s  %5s  %s\n", wn, "Domain", wf, "From", "To", "Prio",
		       "Mem(MiB)", "VCPUs", "Reason");
	for (i = 0; i < json_array_size(doms); i++) {
		const json_t *d = json_array_get(doms, i);

		printf("%-*s  %-*s  %-10s  %4lld  %8lld  %5lld  %s\n", wn, jstr(d, "name"), wf,
		       jstr(d, "from"), json_is_string(json_object_get(d, "to")) ? jstr(d, "to") : "NOWHERE",
		       jint(d, "priority"), jint(d, "memory_mib"), jint(d, "vcpus"),
		       json_string_value(json_object_get(d, "reason")) ?: "");
	}
	if (json_is_object(tl)) {
		printf("\nTimeline (worst case, fencing %s):\n", jstr(tl, "host"));
		for (i = 0; i < json_array_size(ph); i++) {
			const json_t *p = json_array_get(ph, i);

			printf("  %-42s %8lld ms  %s\n", jstr(p, "phase"), jint(p, "ms"),
			       jstr(p, "detail"));
		}
		printf("  %-42s %8lld ms\n", "total (worst case)", jint(tl, "worst_case_ms"));
	}
	if (jint(r, "stranded"))
		printf("\n%lld domain(s) would have NOWHERE to go.\n", jint(r, "stranded"));
	else if (json_array_size(doms))
		printf("\nEvery domain would run again.\n");
}

static int cmd_plan(int argc, char **argv)
{
	json_t *req, *reply, *lose = json_array();
	bool json = false;
	char *list = NULL, *tok, *save;
	int i;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (strcmp(argv[i], "--lose") == 0 && i + 1 < argc && !list)
			list = argv[++i];
		else {
			json_decref(lose);
			return usage_error("plan --lose HOST[,HOST...] [--json]: unexpected \"%s\"",
					   argv[i]);
		}
	}
	if (!list) {
		json_decref(lose);
		return usage_error("%s", "plan needs --lose HOST[,HOST...]");
	}
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!hax_valid_name(tok)) {
			json_decref(lose);
			return usage_error("plan --lose: \"%s\" is not a valid host name", tok);
		}
		json_array_append_new(lose, json_string(tok));
	}
	if (json_array_size(lose) == 0) {
		json_decref(lose);
		return usage_error("%s", "plan --lose: no host named");
	}
	req = json_pack("{s:s, s:o}", "cmd", "plan", "lose", lose);
	if (call(req, &reply))
		return EXIT_FAIL;
	if (json)
		print_json(reply);
	else
		print_plan(reply);
	json_decref(reply);
	return 0;
}

/* Dry runs take up to their devices' timeouts (60 s by default), all in parallel. */
#define FENCE_DRY_RUN_TIMEOUT_MS (10 * 60 * 1000)

static int fence_dry_run(const char *host, bool json)
{
	json_t *req = json_pack("{s:s, s:s, s:b}", "cmd", "fence", "host", host, "dry_run", 1);
	json_t *reply, *levels;
	char err[512];
	size_t i, k;
	int r;

	r = hax_ipc_call(req, FENCE_DRY_RUN_TIMEOUT_MS, &reply, err, sizeof(err));
	json_decref(req);
	if (r < 0) {
		fprintf(stderr, "haxctl: %s\n", err);
		return EXIT_FAIL;
	}
	if (!json_is_true(json_object_get(reply, "ok"))) {
		fprintf(stderr, "haxctl: %s\n", jstr(reply, "error"));
		json_decref(reply);
		return EXIT_FAIL;
	}
	r = json_is_true(json_object_get(reply, "all_ok")) ? 0 : EXIT_FAIL;
	if (json) {
		print_json(reply);
		json_decref(reply);
		return r;
	}
	levels = json_object_get(reply, "levels");
	printf("Fence dry run of %s from this host (nothing was changed):\n", host);
	for (i = 0; i < json_array_size(levels); i++) {
		const json_t *lv = json_array_get(levels, i), *devs = json_object_get(lv, "devices");

		printf("  level %lld (%s): %s\n", jint(lv, "level"), jstr(lv, "method"),
		       json_is_true(json_object_get(lv, "ok")) ? "ok" : "FAILED");
		for (k = 0; k < json_array_size(devs); k++) {
			const json_t *d = json_array_get(devs, k);

			printf("    %-16s %-9s %-6s %s\n", jstr(d, "device"), jstr(d, "driver"),
			       json_is_true(json_object_get(d, "ok")) ? "ok" : "FAILED",
			       jstr(d, "message"));
		}
	}
	if (json_array_size(levels) == 0)
		printf("%s has no fence level: its domains would wait for haxctl fence-ack\n", host);
	else if (!r)
		printf("%s can be fenced: every device of every level answers\n", host);
	else if (json_is_true(json_object_get(reply, "fenceable")))
		printf("%s can be fenced, but a level FAILED (see above): fix it before trusting it\n",
		       host);
	else
		printf("%s CANNOT be fenced from here: its domains would stay down if it died\n",
		       host);
	json_decref(reply);
	return r;
}

static int cmd_fence(int argc, char **argv, bool ack)
{
	json_t *reply, *req;

	if (argc < 1 || !hax_valid_name(argv[0]))
		return usage_error("%s: a valid HOST name is required", ack ? "fence-ack" : "fence");
	if (ack && (argc != 2 || strcmp(argv[1], "--yes-i-checked-it-is-off") != 0))
		return usage_error("%s",
				   "fence-ack HOST --yes-i-checked-it-is-off: confirm only after checking "
				   "that HOST is really powered off; a wrong confirmation lets a domain "
				   "run twice and corrupt its disk");
	if (!ack && argc >= 2 && strcmp(argv[1], "--dry-run") == 0) {
		if (argc == 2)
			return fence_dry_run(argv[0], false);
		if (argc == 3 && strcmp(argv[2], "--json") == 0)
			return fence_dry_run(argv[0], true);
		return usage_error("fence HOST --dry-run [--json]: unexpected argument \"%s\"",
				   argv[argc - 1]);
	}
	if (!ack && argc != 1)
		return usage_error("unexpected argument \"%s\"", argv[1]);
	req = json_pack("{s:s, s:s}", "cmd", ack ? "fence-ack" : "fence", "host", argv[0]);
	if (ack)
		json_object_set_new(req, "confirmed", json_true());
	if (call(req, &reply))
		return EXIT_FAIL;
	if (ack)
		printf("%s: fence acknowledged by hand; its domains may start elsewhere\n", argv[0]);
	else
		printf("%s: fencing started (follow it with haxctl events or haxctl status)\n",
		       argv[0]);
	json_decref(reply);
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2)
		return usage_error("missing command%s", "");
	cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
		fputs(main_usage, stdout);
		return 0;
	}
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
		printf("haxctl %s\n", HAX_VERSION);
		return 0;
	}
	if (argc > 2 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0)) {
		fputs(main_usage, stdout);
		return 0;
	}
	if (strcmp(cmd, "status") == 0)
		return cmd_status(argc - 2, argv + 2, false);
	if (strcmp(cmd, "events") == 0)
		return cmd_events(argc - 2, argv + 2);
	if (strcmp(cmd, "domain") == 0)
		return cmd_domain(argc - 2, argv + 2);
	if (strcmp(cmd, "explain-failover") == 0)
		return cmd_explain(argc - 2, argv + 2);
	if (strcmp(cmd, "plan") == 0)
		return cmd_plan(argc - 2, argv + 2);
	if (strcmp(cmd, "reload") == 0)
		return cmd_reload(argc - 2);
	if (strcmp(cmd, "fence") == 0 || strcmp(cmd, "fence-ack") == 0)
		return cmd_fence(argc - 2, argv + 2, strcmp(cmd, "fence-ack") == 0);
	if (strcmp(cmd, "migrate") == 0)
		return cmd_migrate(argc - 2, argv + 2);
	if (strcmp(cmd, "evacuate") == 0)
		return cmd_evacuate(argc - 2, argv + 2);
	if (strcmp(cmd, "maintenance") == 0)
		return cmd_maintenance(argc - 2, argv + 2);
	return usage_error("unknown command \"%s\"", cmd);
}
