#include "openmetrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "state.h"

/* HELP of each cluster metric, in check.h's order (the check_haxd(8) wording). */
static const char *const metric_help[CHECK_M_COUNT] = {
    [CHECK_M_HOSTS_ONLINE] = "Hosts online (neither lost nor fenced).",
    [CHECK_M_HOSTS_TOTAL] = "Hosts in the cluster.",
    [CHECK_M_QUORATE] = "1 when the answering host's partition has quorum.",
    [CHECK_M_DOMAINS_RUNNING] = "Domains in state running.",
    [CHECK_M_DOMAINS_RECOVERING] = "Domains waiting for a host.",
    [CHECK_M_DOMAINS_FAILED] = "Domains whose starts failed start_retries + 1 times.",
    [CHECK_M_TOLERATES] = "Simultaneous host failures the placement survives (N+k).",
    [CHECK_M_FENCE_FAILURES] = "Hosts whose last fence failed and that are not fenced.",
    [CHECK_M_HOSTS_LOST] = "Hosts suspect, fencing, agent-lost or never seen.",
    [CHECK_M_HOSTS_FENCED] = "Hosts fenced and not back yet.",
    [CHECK_M_HOSTS_MAINTENANCE] = "Hosts in maintenance.",
    [CHECK_M_LEADER_CHANGES] = "Times the leader became another host since the answering haxd started.",
    [CHECK_M_STRANDED] = "Domains that the loss of some single host would leave with nowhere to go.",
};

/* A label value, escaped as the format wants (backslash, double quote, newline). */
static void put_value(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# TYPE %s %s\n# HELP %s %s\n", name, type, name, help);
}

static const char *str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

/* name{cluster="c",KEY="VALUE"[,state="S"]} V */
static void sample(FILE *f, const char *name, const char *cluster, const char *key,
		   const char *value, const char *state, long long v)
{
	fprintf(f, "%s{cluster=\"", name);
	put_value(f, cluster);
	fprintf(f, "\",%s=\"", key);
	put_value(f, value);
	if (state) {
		fputs("\",state=\"", f);
		put_value(f, state);
	}
	fprintf(f, "\"} %lld\n", v);
}

/* One family per host or domain field: name, help, JSON key (or a computed value). */
static void per_item(FILE *f, const json_t *arr, const char *key, const char *name,
		     const char *help, const char *cluster, long long (*val)(const json_t *))
{
	size_t i;
	json_t *o;

	family(f, name, "gauge", help);
	json_array_foreach(arr, i, o) sample(f, name, cluster, key, str(o, "name"), NULL, val(o));
}

static long long host_mem_total(const json_t *h) { return json_integer_value(json_object_get(h, "mem_total_mib")) * 1048576; }
static long long host_mem_free(const json_t *h) { return json_integer_value(json_object_get(h, "mem_free_mib")) * 1048576; }
static long long host_vcpus(const json_t *h) { return json_integer_value(json_object_get(h, "vcpus_total")); }
static long long host_ndoms(const json_t *h) { return (long long)json_array_size(json_object_get(h, "domains")); }
static long long host_maint(const json_t *h) { return json_is_true(json_object_get(h, "maintenance")); }
static long long dom_mem(const json_t *d) { return json_integer_value(json_object_get(d, "memory_mib")) * 1048576; }
static long long dom_vcpus(const json_t *d) { return json_integer_value(json_object_get(d, "vcpus")); }
static long long dom_prio(const json_t *d) { return json_integer_value(json_object_get(d, "priority")); }
static long long dom_restarts(const json_t *d) { return json_integer_value(json_object_get(d, "restarts")); }
static long long dom_enabled(const json_t *d) { return json_is_true(json_object_get(d, "enabled")); }

/* name{...,state="S"} 1 for the item's state, 0 for every other state. */
static void states(FILE *f, const json_t *arr, const char *key, const char *name,
		   const char *help, const char *cluster, int n, const char *(*state_name)(int))
{
	size_t i;
	json_t *o;
	int st;

	family(f, name, "gauge", help);
	json_array_foreach(arr, i, o) for (st = 0; st < n; st++)
		sample(f, name, cluster, key, str(o, "name"), state_name(st),
		       strcmp(str(o, "state"), state_name(st)) == 0);
}

static const char *host_state(int st) { return host_state_name((enum host_state)st); }
static const char *dom_state(int st) { return dom_state_name((enum dom_state)st); }

char *openmetrics_text(const json_t *status)
{
	const json_t *cl = json_object_get(status, "cluster");
	const json_t *hosts = json_object_get(status, "hosts"), *doms = json_object_get(status, "domains");
	const char *c = str(cl, "name");
	long v[CHECK_M_COUNT];
	char name[96], *buf = NULL;
	size_t len, i;
	FILE *f;

	if (check_metrics(status, v) < 0)
		return NULL;
	f = open_memstream(&buf, &len);
	if (!f)
		abort(); /* out of memory */
	family(f, "hax_up", "gauge", "1 when haxd answered haxctl.");
	fputs("hax_up 1\n", f);
	for (i = 0; i < CHECK_M_COUNT; i++) {
		bool counter = i == CHECK_M_LEADER_CHANGES;

		snprintf(name, sizeof(name), "hax_%s", check_metric_name((enum check_metric)i));
		family(f, name, counter ? "counter" : "gauge", metric_help[i]);
		fprintf(f, "%s%s{cluster=\"", name, counter ? "_total" : "");
		put_value(f, c);
		fprintf(f, "\"} %ld\n", v[i]);
	}
	states(f, hosts, "host", "hax_host_state", "1 for the host's state, 0 for the others.",
	       c, HOST_STATE_COUNT, host_state);
	per_item(f, hosts, "host", "hax_host_maintenance", "1 when the host is in maintenance.", c, host_maint);
	per_item(f, hosts, "host", "hax_host_memory_bytes", "Memory the host offers to domains.", c, host_mem_total);
	per_item(f, hosts, "host", "hax_host_memory_free_bytes", "Of it, not held by domains.", c, host_mem_free);
	per_item(f, hosts, "host", "hax_host_vcpus", "VCPUs the host offers to domains.", c, host_vcpus);
	per_item(f, hosts, "host", "hax_host_domains", "Domains holding the host.", c, host_ndoms);
	states(f, doms, "domain", "hax_domain_state", "1 for the domain's state, 0 for the others.",
	       c, DOM_STATE_COUNT, dom_state);
	per_item(f, doms, "domain", "hax_domain_enabled", "1 when the cluster may run the domain.", c, dom_enabled);
	per_item(f, doms, "domain", "hax_domain_memory_bytes", "Memory of the domain.", c, dom_mem);
	per_item(f, doms, "domain", "hax_domain_vcpus", "VCPUs of the domain.", c, dom_vcpus);
	per_item(f, doms, "domain", "hax_domain_priority", "Restart priority (higher first).", c, dom_prio);
	per_item(f, doms, "domain", "hax_domain_restarts", "Starts of the domain after its first (failovers, restarts).", c, dom_restarts);
	fputs("# EOF\n", f);
	fclose(f);
	return buf;
}

char *openmetrics_down(void)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		abort(); /* out of memory */
	family(f, "hax_up", "gauge", "1 when haxd answered haxctl.");
	fputs("hax_up 0\n# EOF\n", f);
	fclose(f);
	return buf;
}
