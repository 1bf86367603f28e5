/*
 * Unit tests of the placement policy (haxd/policy.c): which hosts may take work, memory
 * and vcpu capacity (existing domains and placements made earlier in the same plan),
 * priority order, anti-affinity, preferred hosts, spreading, and the reasons given when
 * a domain fits nowhere. Every state is a struct literal (STYLE.md habit 3).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "haxd/policy.h"

#define MAXD 16

/* clang-format off */
#define HOST(n, id, mem, cpu)                                                          \
	{ .name = (n), .nodeid = (id), .state = HOST_ONLINE, .mem_total_mib = (mem),   \
	  .mem_free_mib = (mem), .vcpus_total = (cpu) }

/* A domain waiting for a host. */
#define PENDING(n, mem, cpu, prio)                                                     \
	{ .name = (n), .memory_mib = (mem), .vcpus = (cpu), .priority = (prio),        \
	  .enabled = true, .state = DOM_RECOVERING }

/* A domain holding a host in state st. */
#define ON(n, mem, cpu, st, h)                                                         \
	{ .name = (n), .memory_mib = (mem), .vcpus = (cpu), .enabled = true,           \
	  .state = (st), .host = (h) }

#define STATE(h, d)                                                                    \
	{                                                                              \
		.epoch = 1, .seq = 1, .cluster = "lab", .nhosts = HAX_ARRAY_SIZE(h),   \
		.hosts = (h), .ndomains = HAX_ARRAY_SIZE(d), .domains = (d)            \
	}
/* clang-format on */

struct plan {
	bool host_ok[MAXD];
	bool wanted[MAXD];
	int out[MAXD];
	char reason[MAXD][STATE_REASON_MAX];
};

/* Every host may take work; every domain that holds no host is wanted. */
static void plan_init(const struct hax_state *s, struct plan *p)
{
	size_t i;

	assert_true(s->nhosts <= MAXD && s->ndomains <= MAXD);
	memset(p, 0, sizeof(*p));
	for (i = 0; i < s->nhosts; i++)
		p->host_ok[i] = true;
	for (i = 0; i < s->ndomains; i++) {
		p->wanted[i] = !policy_dom_holds_host(&s->domains[i]);
		p->out[i] = 12345; /* policy_plan must write every entry */
		memset(p->reason[i], 'x', STATE_REASON_MAX - 1);
	}
}

static void plan_run(const struct hax_state *s, struct plan *p)
{
	policy_plan(s, p->host_ok, p->wanted, p->out, p->reason);
}

/* The host name a domain was placed on, or "-" for none. */
static const char *placed(const struct hax_state *s, const struct plan *p, size_t j)
{
	if (p->out[j] < 0)
		return "-";
	assert_true((size_t)p->out[j] < s->nhosts);
	return s->hosts[p->out[j]].name;
}

static void assert_reason_has(const struct plan *p, size_t j, const char *what)
{
	if (!strstr(p->reason[j], what))
		fail_msg("reason[%zu] \"%s\" does not contain \"%s\"", j, p->reason[j], what);
}

/* ---- which hosts get work ------------------------------------------------------------ */

static void test_only_ok_hosts_outside_maintenance(void **unused)
{
	/* h3 is the worst host by every spread rule: only eligibility can send work there. */
	struct hax_host hosts[] = {
	    HOST("h1", 1, 64000, 64),
	    HOST("h2", 2, 64000, 64),
	    HOST("h3", 3, 2000, 8),
	    HOST("h4", 4, 64000, 64),
	};
	struct hax_domain doms[] = {
	    PENDING("a", 100, 1, 0),
	    PENDING("b", 100, 1, 0),
	    PENDING("c", 100, 1, 0),
	    ON("old", 100, 1, DOM_RUNNING, "h3"),
	};
	struct hax_state s = STATE(hosts, doms);
	struct plan p;
	size_t j;

	(void)unused;
	hosts[1].maintenance = true;
	plan_init(&s, &p);
	p.host_ok[0] = false; /* e.g. not in the quorate partition */
	p.host_ok[3] = false;
	plan_run(&s, &p);
	for (j = 0; j < 3; j++) {
		assert_string_equal(placed(&s, &p, j), "h3");
		assert_string_equal(p.reason[j], "");
	}
	/* A domain that is not wanted is left alone. */
	assert_int_equal(p.out[3], -1);
	assert_string_equal(p.reason[3], "");

	/* With h3 gone too, nothing is placed and the reason says there is no host. */
	plan_init(&s, &p);
	p.host_ok[0] = p.host_ok[2] = p.host_ok[3] = false;
	plan_run(&s, &p);
	for (j = 0; j < 3; j++) {
		assert_int_equal(p.out[j], -1);
		assert_reason_has(&p, j, "no host available");
	}

	/* Maintenance is checked by the policy even when host_ok says yes. */
	plan_init(&s, &p);
	p.host_ok[0] = p.host_ok[2] = p.host_ok[3] = false;
	p.host_ok[1] = true;
	plan_run(&s, &p);
	for (j = 0; j < 3; j++)
		assert_int_equal(p.out[j], -1);
}

static void test_no_host_at_all(void **unused)
{
	struct hax_domain doms[] = {PENDING("a", 1, 1, 0), PENDING("b", 1, 1, 5)};
	struct hax_state s = {.cluster = "lab", .ndomains = 2, .domains = doms};
	struct plan p;

	(void)unused;
	plan_init(&s, &p);
	plan_run(&s, &p);
	assert_int_equal(p.out[0], -1);
	assert_int_equal(p.out[1], -1);
	assert_reason_has(&p, 0, "no host available");
	assert_reason_has(&p, 1, "no host available");
}

static void test_nothing_wanted(void **unused)
{
	struct hax_host hosts[] = {HOST("h1", 1, 4096, 4)};
	struct hax_domain doms[] = {PENDING("a", 1, 1, 0), PENDING("b", 1, 1, 0)};
	struct hax_state s = STATE(hosts, doms);
	struct plan p;

	(void)unused;
	plan_init(&s, &p);
	p.wanted[0] = p.wanted[1] = false;
	plan_run(&s, &p);
	assert_int_equal(p.out[0], -1);
	assert_int_equal(p.out[1], -1);
	assert_string_equal(p.reason[0], "");
	assert_string_equal(p.reason[1], "");
}

/* ---- capacity ---------------------------------------------------------------------- */

static void test_memory_counts_existing_domains(void **unused)
{
	/* h1 has fewer domains (spread would pick it) but only 500 MiB free. */
	struct hax_host hosts[] = {HOST("h1", 1, 2000, 64), HOST("h2", 2, 1000, 64)};
	struct hax_domain doms[] = {
	    ON("big", 1500, 1, DOM_RUNNING, "h1"),
	    ON("s1", 100, 1, DOM_RUNNING, "h2"),
	    ON("s2", 100, 1, DOM_RUNNING, "h2"),
	    PENDING("new", 600, 1, 0),
	};
	struct hax_state s = STATE(hosts, doms);
	struct plan p;
	enum dom_state holding[] = {DOM_RUNNING, DOM_STARTING, DOM_MIGRATING, DOM_STOPPING};
	size_t i;

	(void)unused;
	for (i = 0; i < HAX_ARRAY_SIZE(holding); i++) {
		doms[0].state = holding[i];
		plan_init(&s, &p);
		plan_run(&s, &p);
		assert_string_equal(placed(&s, &p, 3), "h2");
	}

	/* Not holding a host (stopped, failed, recovering): its memory is free again. */
	doms[0].state = DOM_FAILED;
	plan_init(&s, &p);
	p.wanted[0] = false;
	plan_run(&s, &p);
	assert_string_equal(placed(&s, &p, 3), "h1");
}

static void test_migration_target_holds_capacity(void **unused)
{
	/* "mig" runs on h2 and is arriving on h1: both must keep its memory. */
	struct hax_host hosts[] = {HOST("h1", 1, 1000, 64), HOST("h2", 2, 1000, 64),
				   HOST("h3", 3, 1000, 64)};
	struct hax_domain doms[] = {
	    ON("mig", 600, 1, DOM_MIGRATING, "h2"),
	    ON("x", 10, 1, DOM_RUNNING, "h3"),
	    ON("y", 10, 1, DOM_RUNNING, "h3"),
	    PENDING("new", 600, 1, 0),
	};
	struct hax_state s = STATE(hosts, doms);
	struct plan p;

	(void)unused;
	strcpy(doms[0].target, "h1");
	plan_init(&s, &p);
	plan_run(&s, &p);
	assert_string_equal(placed(&s, &p, 3), "h3");
}

static void test_two_600_on_1000_hosts(void **unused)
{
	struct hax_host hosts[] = {HOST("h1", 1, 1000, 64), HOST("h2", 2, 1000, 64)};
	struct hax_domain doms[] = {
	    PENDING("a", 600, 1, 0),
	    PENDING("b", 600, 1, 0),
	    PENDING("c", 600, 1, -5),
	};
	struct hax_state s = STATE(hosts, doms);
	struct plan p;

	(void)unused;
	plan_init(&s, &p);
	plan_run(&s, &p);
	assert_int_not_equal(p.out[0], -1);
	assert_int_not_equal(p.out[1], -1);
	assert_int_not_equal(p.out[0], p.out[1]);
	/* Both hosts now have 400 MiB left: the third one fits nowhere. */
	assert_int_equal(p.out[2], -1);
	assert_reason_has(&p, 2, "fits nowhere");
	assert_reason_has(&p, 2, "600 MiB");
}

static void test_memory_counts_earlier_placements(void **unused)
{
	/*
	 * "a" fits only on h1. Then h1 and h2 have one domain each and h1 would win on free
	 * memory if a's 1200 MiB were forgotten; counted, h1 has 800 MiB left, too few for b.
	 */
	struct hax_host hosts[] = {HOST("h1", 1, 2000, 64), HOST("h2", 2, 1000, 64)};
	struct hax_domain doms[] = {
	    PENDING("a", 1200, 1, 10),
	    PENDING("b", 900, 1, 5),
	    ON("small", 50, 1, DOM_RUNNING, "h2"),
	};
	struct hax_state s = STATE(hosts, doms);
	struct plan p;

	(void)unused;
	plan_init(&s, &p);
	plan_run(&s, &p);
	assert_string_equal(placed(&s, &p, 0), "h1");
	assert_string_equal(placed(&s, &p, 1), "h2");
}

static void test_vcpus_capacity(void **unused)
{
	/* Plenty of memory; vcpus decide. h1 is emptier but has 2 vcpus left. */
	struct hax_host hosts[] = {HOST("h1", 1, 64000, 8), HOST("h2", 2, 64000, 8)};
	struct hax_domain doms[] = {
	    ON("busy", 1, 6, DOM_RUNNING, "h1"),
	    ON("s1", 1, 1, DOM_RUNNING, "h2"),
	    ON("s2", 1, 1, DOM_RUNNING, "h2"),
	    PENDING("a", 1, 4, 10),
	    PENDING("b", 1, 4, 5),
	    PENDING("c", 1, 2, 0),
	};
	struct hax_state s = STATE(hosts, doms);
	struct plan p;

	(void)unused;
	plan_init(&s, &p);
	plan_run(&s, &p);
	/* a: only h2 has 4 vcpus (6 left). b: h2 has 2 left after a, h1 has 2: nowhere. */
	assert_string_equal(placed(&s, &p, 3), "h2");
	assert_int_equal(p.out[4], -1);
	assert_reason_has(&p, 4, "fits nowhere");
	assert_reason_has(&p, 4, "4 vcpus");
	/* c: h1 (1 domain) and h2 (3 domains) both have 2 vcpus left: spread picks h1. */
	assert_string_equal(placed(&s, &p, 5), "h1");
}

/* ---- priority ---------------------------------------------------------------------- */

static void test_highest_priority_first(void **unused)
{
	/* Array order and name order both favour the low-priority domain. */
	struct hax_host hosts[] = {HOST("h1", 1, 1000, 4)};
	struct hax_domain doms[] = {
	    PENDING("a-low", 600, 1, 1),
	    PENDING("m-neg", 600, 1, -1000),
	    PENDING("z-high", 600, 1, 100),
	};
	struct hax_state s = STATE(hosts, doms);
	struct plan p;

	(void)unused;
	plan_init(&s, &p);
	plan_run(&s, &p);
	assert_string_equal(placed(&s, &p, 2), "h1");
	assert_int_equal(p.out[0], -1);
	assert_int_equal(p.out[1], -1);
	assert_reason_has(&p, 0, "fits nowhere");
	assert_reason_has(&p, 1, "fits nowhere");
	assert_string_equal(p.reason[2], "");
}

static void test_equal_priority_by_name(void **unused)
{
	struct hax_host hosts[] = {HOST("h1", 1, 1000, 4)};
	struct hax_domain doms[] = {
	    PENDING("zeta", 600, 1, 7),
	    PENDING("beta", 600, 1, 7),
	    PENDING("mu", 600, 1, 7),
	};
	struct hax_state s = STATE(hosts, doms);
	struct plan p;

	(void)unused;
	plan_init(&s, &p);
	plan_run(&s, &p);
	assert_string_equal(placed(&s, &p, 1), "h1");
	assert_int_equal(p.out[0], -1);
	assert_int_equal(p.out[2], -1);
}

/* ---- anti-affinity ----------------------------------------------------------------- */

static void test_anti_affinity_with_existing(void **unused)
{
	/* h1 is the emptiest host, but runs a domain tagged "db". */
	struct hax_host hosts[] = {HOST("h1", 1, 64000, 64), HOST("h2", 2, 64000, 64)};
	struct hax_domain doms[] = {
	    ON("db1", 100, 1, DOM_RUNNING, "h1"), ON("x", 100, 1, DOM_RUNNING, "h2"),
	    ON("y", 100, 1, DOM_RUNNING, "h2"),	  PENDING("db2", 100, 1, 0),
	    PENDING("other", 100, 1, 0),
	};
	struct hax_state s = STATE(hosts, doms);
	struct plan p;

	(void)unused;
	doms[0].n_anti = 1;
	strcpy(doms[0].anti[0], "db");
	doms[3].n_anti = 2;
	strcpy(doms[3].anti[0], "zone-a");
	strcpy(doms[3].anti[1], "db");
	doms[4].n_anti = 1;
	strcpy(doms[4].anti[0], "web"); /* another tag does not conflict */
	plan_init(&s, &p);
	plan_run(&s, &p);
	assert_string_equal(placed(&s, &p, 3), "h2");
	assert_string_equal(placed(&s, &p, 4), "h1");

	/* A stopped domain that still names h1 does not hold it, tags included. */
	doms[0].state = DOM_STOPPED;
	plan_init(&s, &p);
	p.wanted[0] = false;
	plan_run(&s, &p);
	assert_string_equal(placed(&s, &p, 3), "h1");

	/* A migrating domain blocks its target as well as its source. */
	doms[0].state = DOM_MIGRATING;
	strcpy(doms[0].host, "h2");
	strcpy(doms[0].target, "h1");
	plan_init(&s, &p);
	plan_run(&s, &p);
	assert_int_equal(p.out[3], -1);
	assert_reason_has(&p, 3, "fits nowhere");
	assert_reason_has(&p, 3, "2 blocked by anti-affinity");
}

static void test_anti_affinity_within_one_plan(void **unused)
{
	struct hax_host hosts[] = {HOST("h1", 1, 64000, 64), HOST("h2", 2, 64000, 64)};
	struct hax_domain doms[] = {
	    PENDING("w1", 100, 1, 3),	 PENDING("w2", 100, 1, 2),    PENDING("w3", 100, 1, 1),
	    PENDING("free1", 100, 1, 0), PENDING("free2", 100, 1, 0),
	};
	struct hax_state s = STATE(hosts, doms);
	struct plan p;
	size_t j;

	(void)unused;
	for (j = 0; j < 3; j++) {
		doms[j].n_anti = 1;
		strcpy(doms[j].anti[0], "web");
	}
	plan_init(&s, &p);
	plan_run(&s, &p);
	assert_int_not_equal(p.out[0], -1);
	assert_int_not_equal(p.out[1], -1);
	assert_int_not_equal(p.out[0], p.out[1]);
	assert_int_equal(p.out[2], -1);
	assert_reason_has(&p, 2, "fits nowhere");
	assert_reason_has(&p, 2, "2 blocked by anti-affinity");
	/* Untagged domains still go anywhere. */
	assert_int_not_equal(p.out[3], -1);
	assert_int_not_equal(p.out[4], -1);
}

/* ---- preferred hosts and spreading ------------------------------------------------- */

static void test_preferred_hosts_in_order(void **unused)
{
	/* h1 is empty, h2 and h3 are loaded: only the preference can pick h3 then h2. */
	struct hax_host hosts[] = {HOST("h1", 1, 64000, 64), HOST("h2", 2, 2000, 64),
				   HOST("h3", 3, 2000, 64)};
	struct hax_domain doms[] = {
	    ON("l1", 100, 1, DOM_RUNNING, "h2"),
	    ON("l2", 100, 1, DOM_RUNNING, "h3"),
	    ON("l3", 100, 1, DOM_RUNNING, "h3"),
	    PENDING("d", 1000, 1, 0),
	};
	struct hax_state s = STATE(hosts, doms);
	struct plan p;

	(void)unused;
	doms[3].n_prefer = 3;
	strcpy(doms[3].prefer[0], "nosuch");
	strcpy(doms[3].prefer[1], "h3");
	strcpy(doms[3].prefer[2], "h2");
	plan_init(&s, &p);
	plan_run(&s, &p);
	assert_string_equal(placed(&s, &p, 3), "h3");

	/* First choice cannot take it: the second one does. */
	plan_init(&s, &p);
	p.host_ok[2] = false;
	plan_run(&s, &p);
	assert_string_equal(placed(&s, &p, 3), "h2");

	/* Second choice too small: any other host, here h1. */
	doms[3].memory_mib = 1950;
	plan_init(&s, &p);
	p.host_ok[2] = false;
	plan_run(&s, &p);
	assert_string_equal(placed(&s, &p, 3), "h1");
}

static void test_spread_fewest_domains(void **unused)
{
	/* h1 has the most free memory and the smallest name, but two domains. */
	struct hax_host hosts[] = {HOST("h1", 1, 64000, 64), HOST("h2", 2, 4000, 64),
				   HOST("h3", 3, 4000, 64)};
	struct hax_domain doms[] = {
	    ON("a", 10, 1, DOM_RUNNING, "h1"), ON("b", 10, 1, DOM_RUNNING, "h1"),
	    ON("c", 10, 1, DOM_RUNNING, "h2"), PENDING("n1", 10, 1, 2),
	    PENDING("n2", 10, 1, 1),	       PENDING("n3", 10, 1, 0),
	    PENDING("n4", 10, 1, -1),
	};
	struct hax_state s = STATE(hosts, doms);
	struct plan p;

	(void)unused;
	plan_init(&s, &p);
	plan_run(&s, &p);
	/* n1 → h3, the only host without a domain. */
	assert_string_equal(placed(&s, &p, 3), "h3");
	/* n2: h2 and h3 have one each and 3990 MiB free: the name decides. */
	assert_string_equal(placed(&s, &p, 4), "h2");
	/* n3: h3 is the only host with one domain, not h1 with its 64000 MiB. */
	assert_string_equal(placed(&s, &p, 5), "h3");
	/* n4: two domains everywhere: h1 has the most free memory. */
	assert_string_equal(placed(&s, &p, 6), "h1");
}

static void test_spread_most_free_memory_then_name(void **unused)
{
	/* Array order is not name order: the name rule must not be "first in the array". */
	struct hax_host hosts[] = {HOST("hc", 3, 8000, 64), HOST("ha", 1, 8000, 64),
				   HOST("hb", 2, 9000, 64)};
	struct hax_domain doms[] = {
	    ON("x", 1000, 1, DOM_RUNNING, "hb"),
	    ON("y", 500, 1, DOM_RUNNING, "hc"),
	    ON("z", 1000, 1, DOM_RUNNING, "ha"),
	    PENDING("d", 100, 1, 0),
	};
	struct hax_state s = STATE(hosts, doms);
	struct plan p;

	(void)unused;
	plan_init(&s, &p);
	plan_run(&s, &p);
	/* One domain everywhere; free: hc 7500, ha 7000, hb 8000. */
	assert_string_equal(placed(&s, &p, 3), "hb");

	/* Free: hc 7000, ha 7000, hb 7000: by name. */
	doms[0].memory_mib = 2000;
	doms[1].memory_mib = 1000;
	plan_init(&s, &p);
	plan_run(&s, &p);
	assert_string_equal(placed(&s, &p, 3), "ha");
}

static void test_plan_is_deterministic_and_pure(void **unused)
{
	struct hax_host hosts[] = {HOST("h1", 1, 3000, 8), HOST("h2", 2, 3000, 8)};
	struct hax_domain doms[] = {
	    PENDING("a", 1000, 2, 1),
	    PENDING("b", 1000, 2, 1),
	    PENDING("c", 1000, 2, 1),
	    PENDING("d", 1000, 2, 1),
	};
	struct hax_state s = STATE(hosts, doms);
	struct hax_host hosts_copy[2];
	struct hax_domain doms_copy[4];
	struct plan p1, p2;

	(void)unused;
	memcpy(hosts_copy, hosts, sizeof(hosts));
	memcpy(doms_copy, doms, sizeof(doms));
	plan_init(&s, &p1);
	plan_run(&s, &p1);
	plan_init(&s, &p2);
	plan_run(&s, &p2);
	assert_memory_equal(p1.out, p2.out, sizeof(int) * 4);
	assert_memory_equal(hosts, hosts_copy, sizeof(hosts));
	assert_memory_equal(doms, doms_copy, sizeof(doms));
	/* Two per host; the spread alternates by name. */
	assert_string_equal(placed(&s, &p1, 0), "h1");
	assert_string_equal(placed(&s, &p1, 1), "h2");
	assert_string_equal(placed(&s, &p1, 2), "h1");
	assert_string_equal(placed(&s, &p1, 3), "h2");
}

/* ---- policy_host_free and policy_dom_holds_host ------------------------------------ */

static void test_host_free(void **unused)
{
	struct hax_host hosts[] = {HOST("h1", 1, 4096, 16), HOST("h2", 2, 1024, 2)};
	struct hax_domain doms[] = {
	    ON("run", 1024, 2, DOM_RUNNING, "h1"),
	    ON("sta", 512, 1, DOM_STARTING, "h1"),
	    ON("stp", 64, 1, DOM_STOPPING, "h1"),
	    ON("out", 256, 1, DOM_MIGRATING, "h1"), /* leaving h1 for h2 */
	    ON("in", 128, 1, DOM_MIGRATING, "h2"),  /* arriving on h1 from h2 */
	    ON("off", 2048, 4, DOM_STOPPED, "h1"),
	    ON("fail", 2048, 4, DOM_FAILED, "h1"),
	    ON("rec", 2048, 4, DOM_RECOVERING, "h1"),
	    ON("dis", 2048, 4, DOM_DISABLED, "h1"),
	    ON("else", 900, 1, DOM_RUNNING, "h2"),
	};
	struct hax_state s = STATE(hosts, doms);
	int64_t mem = -1, cpu = -1;

	(void)unused;
	strcpy(doms[3].target, "h2");
	strcpy(doms[4].target, "h1");
	policy_host_free(&s, 0, &mem, &cpu);
	assert_int_equal(mem, 4096 - 1024 - 512 - 64 - 256 - 128);
	assert_int_equal(cpu, 16 - 2 - 1 - 1 - 1 - 1);
	/* Overcommitted hosts report negative numbers rather than wrap. */
	policy_host_free(&s, 1, &mem, &cpu);
	assert_int_equal(mem, 1024 - 256 - 128 - 900);
	assert_int_equal(cpu, 2 - 1 - 1 - 1);
	assert_true(mem < 0 && cpu < 0);
}

static void test_dom_holds_host(void **unused)
{
	struct hax_domain d = ON("d", 1, 1, DOM_RUNNING, "h1");
	static const struct {
		enum dom_state st;
		bool holds;
	} rows[] = {
	    {DOM_STOPPED, false}, {DOM_STARTING, true},	 {DOM_RUNNING, true},
	    {DOM_STOPPING, true}, {DOM_MIGRATING, true}, {DOM_RECOVERING, false},
	    {DOM_FAILED, false},  {DOM_DISABLED, false},
	};
	size_t i;

	(void)unused;
	for (i = 0; i < HAX_ARRAY_SIZE(rows); i++) {
		d.state = rows[i].st;
		strcpy(d.host, "h1");
		assert_int_equal(policy_dom_holds_host(&d), rows[i].holds);
		d.host[0] = '\0';
		assert_false(policy_dom_holds_host(&d));
	}
}

static int nk(struct hax_state *s)
{
	bool ok[MAXD];
	size_t i;

	for (i = 0; i < s->nhosts; i++)
		ok[i] = s->hosts[i].state == HOST_ONLINE;
	return policy_tolerated_failures(s, ok);
}

/* Six small domains on three roomy hosts: any two hosts may fail. */
static void test_nk_roomy(void **unused)
{
	struct hax_host hosts[] = {HOST("h1", 1, 1024, 8), HOST("h2", 2, 1024, 8),
				   HOST("h3", 3, 1024, 8)};
	struct hax_domain doms[] = {
	    ON("a", 128, 1, DOM_RUNNING, "h1"), ON("b", 128, 1, DOM_RUNNING, "h1"),
	    ON("c", 128, 1, DOM_RUNNING, "h2"), ON("d", 128, 1, DOM_RUNNING, "h2"),
	    ON("e", 128, 1, DOM_RUNNING, "h3"), ON("f", 128, 1, DOM_RUNNING, "h3"),
	};
	struct hax_state s = STATE(hosts, doms);

	(void)unused;
	assert_int_equal(nk(&s), 2);
	/* With h3 down (not online), only one more failure is survivable... */
	hosts[2].state = HOST_SUSPECT;
	doms[4].state = doms[5].state = DOM_RECOVERING;
	assert_int_equal(nk(&s), 1);
	/* ...and with vcpus too tight for four on one host, none (e and f, already down,
	 * are not part of the question). */
	hosts[0].vcpus_total = hosts[1].vcpus_total = 3;
	assert_int_equal(nk(&s), 0);
}

/* 600 MiB domains on 1000 MiB hosts: no room anywhere for a failed host's domain. */
static void test_nk_full(void **unused)
{
	struct hax_host hosts[] = {HOST("h1", 1, 1000, 8), HOST("h2", 2, 1000, 8),
				   HOST("h3", 3, 1000, 8)};
	struct hax_domain doms[] = {
	    ON("a", 600, 1, DOM_RUNNING, "h1"),
	    ON("b", 600, 1, DOM_RUNNING, "h2"),
	};
	struct hax_state s = STATE(hosts, doms);

	(void)unused;
	/* h3 is empty: losing h1 or h2 moves 600 MiB onto h3 — but losing both does not fit. */
	assert_int_equal(nk(&s), 1);
	hosts[2].mem_total_mib = 500;
	assert_int_equal(nk(&s), 0);
	/* A host in maintenance takes no work and is not counted as a failure candidate. */
	hosts[2].mem_total_mib = 1000;
	hosts[2].maintenance = true;
	assert_int_equal(nk(&s), 0);
}

/* Anti-affinity: two "db" domains on two hosts cannot share the survivor. */
static void test_nk_anti_affinity(void **unused)
{
	struct hax_host hosts[] = {HOST("h1", 1, 4096, 8), HOST("h2", 2, 4096, 8)};
	struct hax_domain doms[] = {
	    ON("db1", 128, 1, DOM_RUNNING, "h1"),
	    ON("db2", 128, 1, DOM_RUNNING, "h2"),
	};
	struct hax_state s = STATE(hosts, doms);

	(void)unused;
	assert_int_equal(nk(&s), 1);
	doms[0].n_anti = doms[1].n_anti = 1;
	strcpy(doms[0].anti[0], "db");
	strcpy(doms[1].anti[0], "db");
	assert_int_equal(nk(&s), 0);
	/* A disabled, stopped domain holds nothing and need not be placed. */
	doms[1].enabled = false;
	doms[1].state = DOM_DISABLED;
	assert_int_equal(nk(&s), 1);
}

/* A start that failed on a host is retried elsewhere; failed everywhere, it says so. */
static void test_avoid_failed_hosts(void **unused)
{
	struct hax_host hosts[] = {HOST("h1", 1, 1024, 8), HOST("h2", 2, 1024, 8)};
	struct hax_domain doms[] = {PENDING("a", 128, 1, 0), PENDING("b", 128, 1, 0)};
	struct hax_state s = STATE(hosts, doms);
	bool ok[] = {true, true}, wanted[] = {true, true};
	bool avoid[] = {true, false, /* a: not h1 */ true, true /* b: neither */};
	char reason[2][STATE_REASON_MAX];
	int out[2];

	(void)unused;
	policy_plan_avoiding(&s, ok, wanted, avoid, out, reason);
	assert_int_equal(out[0], 1);
	assert_int_equal(out[1], -1);
	assert_non_null(strstr(reason[1], "failed on every available host"));
	/* Without the list, both go somewhere. */
	policy_plan_avoiding(&s, ok, wanted, NULL, out, reason);
	assert_int_not_equal(out[0], -1);
	assert_int_not_equal(out[1], -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_only_ok_hosts_outside_maintenance),
	    cmocka_unit_test(test_no_host_at_all),
	    cmocka_unit_test(test_nothing_wanted),
	    cmocka_unit_test(test_memory_counts_existing_domains),
	    cmocka_unit_test(test_migration_target_holds_capacity),
	    cmocka_unit_test(test_two_600_on_1000_hosts),
	    cmocka_unit_test(test_memory_counts_earlier_placements),
	    cmocka_unit_test(test_vcpus_capacity),
	    cmocka_unit_test(test_highest_priority_first),
	    cmocka_unit_test(test_equal_priority_by_name),
	    cmocka_unit_test(test_anti_affinity_with_existing),
	    cmocka_unit_test(test_anti_affinity_within_one_plan),
	    cmocka_unit_test(test_preferred_hosts_in_order),
	    cmocka_unit_test(test_spread_fewest_domains),
	    cmocka_unit_test(test_spread_most_free_memory_then_name),
	    cmocka_unit_test(test_plan_is_deterministic_and_pure),
	    cmocka_unit_test(test_host_free),
	    cmocka_unit_test(test_dom_holds_host),
	    cmocka_unit_test(test_nk_roomy),
	    cmocka_unit_test(test_nk_full),
	    cmocka_unit_test(test_nk_anti_affinity),
	    cmocka_unit_test(test_avoid_failed_hosts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
