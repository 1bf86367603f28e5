/*
 * Unit tests of the haxd.conf parser: defaults, value types, cross references, the
 * key table itself, the shipped example, and hostile input.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf/conf.h"

#ifndef CONF_EXAMPLE
#define CONF_EXAMPLE "conf/haxd.conf.example"
#endif

struct fixture {
	struct hax_conf *c;
	struct conf_errors errs;
};

static int setup(void **state)
{
	struct fixture *f = hax_xcalloc(1, sizeof(*f));

	f->c = hax_xcalloc(1, sizeof(*f->c));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	conf_errors_free(&f->errs);
	free(f->c);
	free(f);
	return 0;
}

/* Parse text as "t.conf"; on an unexpected result print the errors, for the test log. */
static int parse(struct fixture *f, const char *text)
{
	int i, rc;

	conf_errors_free(&f->errs);
	rc = conf_parse_string("t.conf", text, f->c, &f->errs);
	for (i = 0; i < f->errs.n; i++)
		print_message("  %s\n", f->errs.msg[i]);
	return rc;
}

static void assert_ok(struct fixture *f, const char *text)
{
	assert_int_equal(parse(f, text), 0);
	assert_int_equal(f->errs.n, 0);
}

/* The only error of text is exactly want. */
static void assert_error(struct fixture *f, const char *text, const char *want)
{
	assert_int_equal(parse(f, text), -EINVAL);
	assert_int_equal(f->errs.n, 1);
	assert_string_equal(f->errs.msg[0], want);
}

static void test_defaults(void **state)
{
	struct fixture *f = *state;
	const struct conf_cluster *cl = &f->c->cluster;
	const struct conf_fence *fe;

	assert_ok(f, "[cluster]\nname = c1\n[host h1]\nnodeid = 7\n"
		     "[fence w]\ndriver = watchdog\n[storage s]\nportal = p\ntarget = t\n");
	assert_string_equal(f->c->path, "t.conf");
	assert_string_equal(cl->name, "c1");
	assert_int_equal(cl->driver, CONF_DRIVER_XL);
	assert_string_equal(cl->state_dir, "/var/lib/hax");
	assert_string_equal(cl->client_group, "haxclient");
	assert_int_equal(cl->tick_ms, 1000);
	assert_int_equal(cl->start_timeout_ms, 60000);
	assert_int_equal(cl->stop_timeout_ms, 60000);
	assert_int_equal(cl->migrate_timeout_ms, 600000);
	assert_int_equal(cl->start_retries, 3);
	assert_int_equal(cl->no_quorum_policy, CONF_NQ_STOP);
	assert_int_equal(cl->no_quorum_timeout_ms, 10000);
	assert_int_equal(cl->fence_retry_ms, 10000);
	assert_int_equal(cl->log_level, LOG_INFO);

	assert_int_equal(f->c->nhosts, 1);
	assert_string_equal(f->c->hosts[0].name, "h1");
	assert_int_equal(f->c->hosts[0].line, 3);
	assert_int_equal(f->c->hosts[0].nodeid, 7);
	assert_string_equal(f->c->hosts[0].iqn, "iqn.2026-11.org.hax:h1");
	assert_int_equal(f->c->hosts[0].memory_mib, 0);
	assert_int_equal(f->c->hosts[0].vcpus, 0);
	assert_int_equal(f->c->hosts[0].nlevels, 0);

	assert_int_equal(f->c->nfences, 1);
	fe = &f->c->fences[0];
	assert_int_equal(fe->driver, CONF_FENCE_WATCHDOG);
	assert_int_equal(fe->timeout_ms, 60000);
	assert_int_equal(fe->port, 0);
	assert_true(fe->ssl_verify);
	assert_string_equal(fe->drbdadm, "/usr/sbin/drbdadm");
	assert_string_equal(fe->device, "/dev/watchdog");
	assert_int_equal(fe->watchdog_timeout_ms, 60000);
	assert_int_equal(fe->nstorage, 0);

	assert_int_equal(f->c->nstorage, 1);
	assert_int_equal(f->c->storage[0].nluns, 0);
}

static void test_values(void **state)
{
	struct fixture *f = *state;
	const struct conf_cluster *cl = &f->c->cluster;

	assert_ok(f, "[cluster]\nname = c1\ndriver = qemu\ntick = 500ms\nstart_timeout = 2m\n"
		     "stop_timeout = 90\nmigrate_timeout = 1h\nno_quorum_timeout = 0\n"
		     "no_quorum_policy = freeze\nlog_level = debug\nstart_retries = 0\n"
		     "[host a]\nnodeid = 2147483647\nmemory = 4G\nvcpus = 4096\n"
		     "[host b]\nnodeid = 1\nmemory = 512M\n[host c]\nnodeid = 3\nmemory = 1T\n"
		     "[storage s]\nportal = p:3260\ntarget = t\nluns = 0 7 16383\n");
	assert_int_equal(cl->driver, CONF_DRIVER_QEMU);
	assert_int_equal(cl->tick_ms, 500);
	assert_int_equal(cl->start_timeout_ms, 120000);
	assert_int_equal(cl->stop_timeout_ms, 90000);
	assert_int_equal(cl->migrate_timeout_ms, 3600000);
	assert_int_equal(cl->no_quorum_timeout_ms, 0);
	assert_int_equal(cl->no_quorum_policy, CONF_NQ_FREEZE);
	assert_int_equal(cl->log_level, LOG_DEBUG);
	assert_int_equal(cl->start_retries, 0);
	assert_int_equal(f->c->hosts[0].nodeid, 2147483647u);
	assert_int_equal(f->c->hosts[0].memory_mib, 4096);
	assert_int_equal(f->c->hosts[0].vcpus, 4096);
	assert_int_equal(f->c->hosts[1].memory_mib, 512);
	assert_int_equal(f->c->hosts[2].memory_mib, 1024 * 1024);
	assert_int_equal(f->c->storage[0].nluns, 3);
	assert_int_equal(f->c->storage[0].luns[2], 16383);

	assert_ok(f, "[cluster]\nname = c\nlog_level = error\n");
	assert_int_equal(f->c->cluster.log_level, LOG_ERR);
	assert_ok(f, "[fence f]\ndriver = redfish\nurl = https://b\nssl_verify = off\n"
		     "[cluster]\nname = c\n");
	assert_false(f->c->fences[0].ssl_verify);
}

static void test_levels_resolved(void **state)
{
	struct fixture *f = *state;
	const struct conf_host *h;

	/* Devices are defined after the host: resolution waits for the whole file. */
	assert_ok(f,
		  "[cluster]\nname = c\n[host h1]\nnodeid = 1\nfence = c a+b b\n"
		  "[fence a]\ndriver = watchdog\n[fence b]\ndriver = drbd\nresource = r0\n"
		  "[fence c]\ndriver = scsi\nstorage = s2 s1\n"
		  "[storage s1]\nportal = p\ntarget = t1\n[storage s2]\nportal = p\ntarget = t2\n");
	h = &f->c->hosts[0];
	assert_int_equal(h->nlevels, 3);
	assert_int_equal(h->levels[0].ndev, 1);
	assert_int_equal(h->levels[0].dev[0], 2);
	assert_int_equal(h->levels[1].ndev, 2);
	assert_int_equal(h->levels[1].dev[0], 0);
	assert_int_equal(h->levels[1].dev[1], 1);
	assert_int_equal(h->levels[2].ndev, 1);
	assert_int_equal(h->levels[2].dev[0], 1);
	assert_string_equal(f->c->fences[h->levels[0].dev[0]].name, "c");
	assert_int_equal(f->c->fences[2].nstorage, 2);
	assert_int_equal(f->c->fences[2].storage[0], 1);
	assert_int_equal(f->c->fences[2].storage[1], 0);

	assert_error(f,
		     "[cluster]\nname = c\n[host h1]\nnodeid = 1\nfence = a+x\n"
		     "[fence a]\ndriver = watchdog\n",
		     "t.conf:5: host h1: fence device \"x\" is not defined");
}

static void test_comments(void **state)
{
	struct fixture *f = *state;

	assert_ok(f, "# head\n\n[cluster] # trailing\n  name = c1   # trailing comment\n"
		     "\tclient_group\t=\tops\t# tab\n# last line without newline");
	assert_string_equal(f->c->cluster.name, "c1");
	assert_string_equal(f->c->cluster.client_group, "ops");
	/* '#' inside a word is not a comment. */
	assert_ok(f, "[cluster]\nname = c\n[fence r]\ndriver = redfish\nurl = https://x/a#b # c\n");
	assert_string_equal(f->c->fences[0].url, "https://x/a#b");
}

/* A valid value of row k, for a config with host h1, fence f1, storage s1. */
static void sample_value(const struct conf_key *k, char *buf, size_t n)
{
	if (strcmp(k->key, "fence") == 0)
		snprintf(buf, n, "f1");
	else if (strcmp(k->key, "storage") == 0)
		snprintf(buf, n, "s1");
	else if (strcmp(k->key, "domain_paths") == 0)
		snprintf(buf, n, "/srv/images /dev/disk/by-path");
	else if (strcmp(k->key, "luns") == 0)
		snprintf(buf, n, "%llu %llu", (unsigned long long)k->min,
			 (unsigned long long)k->max);
	else if (k->type == CONF_T_DURATION)
		snprintf(buf, n, "%llums", (unsigned long long)k->max);
	else if (k->type == CONF_T_SIZE)
		snprintf(buf, n, "%lluM", (unsigned long long)k->max);
	else if (k->type == CONF_T_INT)
		snprintf(buf, n, "%llu", (unsigned long long)k->max);
	else if (k->type == CONF_T_ENUM)
		snprintf(buf, n, "%s", k->enum_values[0]);
	else if (k->type == CONF_T_BOOL)
		snprintf(buf, n, "no");
	else if (k->type == CONF_T_PATH)
		snprintf(buf, n, "/some/path");
	else
		snprintf(buf, n, "word-1");
}

static void test_every_key_accepted(void **state)
{
	static const char *const heads[][2] = {
	    {"cluster", "[cluster]"},
	    {"host", "[host h1]"},
	    {"fence", "[fence f1]"},
	    {"storage", "[storage s1]"},
	};
	struct fixture *f = *state;
	size_t n, i, j, len = 0;
	const struct conf_key *k = conf_keys(&n);
	char text[16384], val[128];

	for (j = 0; j < 4; j++) {
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%s\n", heads[j][1]);
		for (i = 0; i < n; i++) {
			if (strcmp(k[i].section, heads[j][0]) != 0)
				continue;
			sample_value(&k[i], val, sizeof(val));
			len += (size_t)snprintf(text + len, sizeof(text) - len, "%s = %s\n",
						k[i].key, val);
		}
	}
	assert_true(len < sizeof(text));
	assert_ok(f, text);
	assert_int_equal(f->c->hosts[0].nlevels, 1);
	assert_int_equal(f->c->fences[0].nstorage, 1);
	assert_int_equal(f->c->storage[0].nluns, 2);
	assert_int_equal(f->c->cluster.migrate_timeout_ms, 24 * 3600 * 1000ull);
}

static void test_key_table(void **state)
{
	static const char *const sections[] = {"cluster", "host", "fence", "storage"};
	size_t n, i, j;
	const struct conf_key *k = conf_keys(&n);
	bool known;

	(void)state;
	assert_true(n >= 35);
	for (i = 0; i < n; i++) {
		known = false;
		for (j = 0; j < 4; j++)
			known |= strcmp(k[i].section, sections[j]) == 0;
		assert_true(known);
		assert_non_null(k[i].key);
		assert_non_null(k[i].help);
		assert_true(strlen(k[i].help) > 10);
		assert_null(strchr(k[i].help, '\n'));
		if (k[i].type == CONF_T_ENUM)
			assert_non_null(k[i].enum_values);
		if (k[i].required)
			assert_null(k[i].def);
		assert_true(k[i].min <= k[i].max);
		for (j = 0; j < i; j++)
			assert_false(strcmp(k[i].section, k[j].section) == 0 &&
				     strcmp(k[i].key, k[j].key) == 0);
	}
}

static void test_error_format(void **state)
{
	struct fixture *f = *state;

	assert_error(f, "[cluster]\nname = c\nfoo = 1\n",
		     "t.conf:3: unknown key \"foo\" in [cluster]");
	assert_error(f, "[cluster]\nname = c\nstart_timeout = 2h\n",
		     "t.conf:3: start_timeout 2h out of range (1s..1h)");
	assert_error(f, "[cluster]\nname = c\nstart_timeout = abc\n",
		     "t.conf:3: bad value \"abc\" for start_timeout: expected a duration like "
		     "500ms, 60s, 2m");
	assert_error(f, "[host h1]\nnodeid = 1\n", "t.conf:0: missing [cluster] section");
	assert_error(f, "", "t.conf:0: missing [cluster] section");

	/* Every error is reported, sorted by line; errs is appended to, not replaced. */
	assert_int_equal(parse(f, "[host h1]\nfence = x\n[cluster]\nname = a b\nbogus = 1\n"),
			 -EINVAL);
	assert_int_equal(f->errs.n, 4);
	assert_string_equal(f->errs.msg[0],
			    "t.conf:1: missing required key \"nodeid\" in [host h1]");
	assert_string_equal(f->errs.msg[1], "t.conf:2: host h1: fence device \"x\" is not defined");
	assert_string_equal(f->errs.msg[2], "t.conf:4: invalid name \"a b\"");
	assert_string_equal(f->errs.msg[3], "t.conf:5: unknown key \"bogus\" in [cluster]");
	assert_int_equal(conf_parse_string("u", "x", f->c, &f->errs), -EINVAL);
	assert_int_equal(f->errs.n, 6);
	assert_string_equal(f->errs.msg[4], "u:0: missing [cluster] section");
	assert_string_equal(f->errs.msg[5], "u:1: expected \"key = value\" or \"[section]\"");
}

/* out is written only by a successful parse. */
static void test_out_untouched_on_error(void **state)
{
	struct fixture *f = *state;

	assert_ok(f, "[cluster]\nname = first\n");
	assert_int_equal(parse(f, "[cluster]\nname = second\ntick = never\n"), -EINVAL);
	assert_string_equal(f->c->cluster.name, "first");
}

static void test_lookups(void **state)
{
	struct fixture *f = *state;

	assert_ok(f, "[cluster]\nname = c\n[host a]\nnodeid = 5\n[host b]\nnodeid = 9\n");
	assert_string_equal(conf_host_by_nodeid(f->c, 9)->name, "b");
	assert_int_equal(conf_host_by_name(f->c, "a")->nodeid, 5);
	assert_null(conf_host_by_name(f->c, "z"));
	assert_null(conf_host_by_nodeid(f->c, 6));
	assert_string_equal(conf_driver_name(CONF_DRIVER_SIM), "sim");
	assert_string_equal(conf_fence_driver_name(CONF_FENCE_WATCHDOG), "watchdog");
	assert_string_equal(conf_driver_name((enum conf_driver)42), "unknown");
	assert_string_equal(conf_fence_driver_name((enum conf_fence_driver) - 1), "unknown");
}

static void test_file_errors(void **state)
{
	struct fixture *f = *state;
	char path[] = "/tmp/hax-conf-test-XXXXXX";
	char *big;
	int fd;

	assert_int_equal(conf_parse_file("/nonexistent/haxd.conf", f->c, &f->errs), -ENOENT);
	assert_int_equal(f->errs.n, 1);
	assert_string_equal(f->errs.msg[0], "/nonexistent/haxd.conf: No such file or directory");
	conf_errors_free(&f->errs);
	assert_int_equal(conf_parse_file("/", f->c, &f->errs), -EISDIR);
	assert_string_equal(f->errs.msg[0], "/: Is a directory");
	conf_errors_free(&f->errs);

	fd = mkstemp(path);
	assert_true(fd >= 0);
	big = hax_xmalloc(2 * 1024 * 1024);
	memset(big, '#', 2 * 1024 * 1024);
	assert_int_equal(write(fd, big, 2 * 1024 * 1024), 2 * 1024 * 1024);
	close(fd);
	free(big);
	assert_int_equal(conf_parse_file(path, f->c, &f->errs), -EFBIG);
	assert_int_equal(f->errs.n, 1);
	unlink(path);
}

static void test_example(void **state)
{
	struct fixture *f = *state;
	int i, rc = conf_parse_file(CONF_EXAMPLE, f->c, &f->errs);

	for (i = 0; i < f->errs.n; i++)
		print_message("  %s\n", f->errs.msg[i]);
	assert_int_equal(rc, 0);
	assert_int_equal(f->c->nhosts, 3);
	for (i = 0; i < 3; i++)
		assert_int_equal(f->c->hosts[i].nlevels, 2);
}

/* Every key of the table is shown in the example (maybe commented out), in its section. */
static void test_example_documents_every_key(void **state)
{
	size_t n, i, len;
	const struct conf_key *k = conf_keys(&n);
	char line[512], sect[32] = "", *s;
	FILE *fp = fopen(CONF_EXAMPLE, "r");
	bool *seen = hax_xcalloc(n, sizeof(bool));

	(void)state;
	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp)) {
		s = line + strspn(line, "# \t");
		if (*s == '[') {
			len = strcspn(s + 1, " ]");
			snprintf(sect, sizeof(sect), "%.*s", (int)len, s + 1);
			continue;
		}
		for (i = 0; i < n; i++) {
			len = strlen(k[i].key);
			if (strcmp(k[i].section, sect) == 0 && strncmp(s, k[i].key, len) == 0 &&
			    strncmp(s + len, " = ", 3) == 0)
				seen[i] = true;
		}
	}
	fclose(fp);
	for (i = 0; i < n; i++) {
		if (!seen[i])
			print_message("  not in the example: [%s] %s\n", k[i].section, k[i].key);
		assert_true(seen[i]);
	}
	free(seen);
}

/* Random bytes, with and without structure, never crash and never pass silently. */
static void test_garbage(void **state)
{
	struct fixture *f = *state;
	static const char alphabet[] =
	    "[]=#+ \t\r\nabcdefhost cluster fence storage 0123456789\x01\xff";
	char *buf = hax_xmalloc(65537);
	unsigned seed = 12345;
	int round, rc;
	size_t i, len;

	for (round = 0; round < 400; round++) {
		len = (size_t)(round * 163 % 65536);
		for (i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			buf[i] = round % 2 ? (char)(seed >> 16)
					   : alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
			if (buf[i] == '\0')
				buf[i] = '\n';
		}
		buf[len] = '\0';
		conf_errors_free(&f->errs);
		rc = conf_parse_string("g", buf, f->c, &f->errs);
		assert_true(rc == 0 || rc == -EINVAL);
		assert_true(rc == 0 ? f->errs.n == 0 : f->errs.n > 0);
		assert_true(f->errs.n <= 101);
	}
	free(buf);
}

static void test_long_lines(void **state)
{
	struct fixture *f = *state;
	size_t len = 100 * 1024;
	char *buf = hax_xmalloc(len + 64);

	/* A 100 KB line, then one exactly at the limit (4096) holding a too-long value. */
	strcpy(buf, "[cluster]\nname = c\nclient_group = ");
	memset(buf + strlen(buf), 'x', len);
	buf[strlen("[cluster]\nname = c\nclient_group = ") + len] = '\0';
	assert_error(f, buf, "t.conf:3: line too long (more than 4096 characters)");

	memset(buf, 'y', 4096);
	memcpy(buf, "url = ", 6);
	buf[4096] = '\0';
	assert_int_equal(parse(f, buf), -EINVAL);
	assert_string_equal(f->errs.msg[1], "t.conf:1: key outside of any section");
	free(buf);
}

static void test_error_cap(void **state)
{
	struct fixture *f = *state;
	char *buf = hax_xmalloc(1000 * 8 + 1);
	int i;

	buf[0] = '\0';
	for (i = 0; i < 1000; i++)
		strcat(buf, "nokey\n");
	assert_int_equal(parse(f, buf), -EINVAL);
	assert_int_equal(f->errs.n, 101);
	assert_string_equal(f->errs.msg[100], "t.conf:101: too many errors, stopping here");
	free(buf);
}

static void test_limits(void **state)
{
	struct fixture *f = *state;
	char *buf = hax_xmalloc(64 * 1024);
	int i;

	/* Exactly CONF_MAX_* of everything is fine. */
	strcpy(buf, "[cluster]\nname = c\n");
	for (i = 0; i < CONF_MAX_HOSTS; i++)
		sprintf(buf + strlen(buf), "[host h%d]\nnodeid = %d\n", i, i + 1);
	for (i = 0; i < CONF_MAX_FENCES; i++)
		sprintf(buf + strlen(buf), "[fence f%d]\ndriver = watchdog\n", i);
	for (i = 0; i < CONF_MAX_STORAGE; i++)
		sprintf(buf + strlen(buf), "[storage s%d]\nportal = p\ntarget = t\n", i);
	assert_ok(f, buf);
	assert_int_equal(f->c->nhosts, CONF_MAX_HOSTS);
	assert_int_equal(f->c->nfences, CONF_MAX_FENCES);
	assert_int_equal(f->c->nstorage, CONF_MAX_STORAGE);

	strcat(buf, "[fence one-more]\ndriver = watchdog\n");
	assert_int_equal(parse(f, buf), -EINVAL);
	assert_int_equal(f->errs.n, 1);
	assert_non_null(strstr(f->errs.msg[0], "too many [fence] sections (max 64)"));
	free(buf);
}

/* A reload names what only a restart applies: moved lines count for nothing, a changed
 * fence, an added storage, a removed host and a fixed [cluster] key do. */
static void test_restart_needed(void **state)
{
	struct fixture *f = *state;
	struct hax_conf *live = hax_xcalloc(1, sizeof(*live));
	char labels[8][CONF_LABEL_MAX];
	static const char base[] =
		"[cluster]\nname = prod\ntick = 1s\n"
		"[fence ipmi]\ndriver = agent\nagent = /usr/sbin/fence_ipmilan\nip = 10.0.0.1\n"
		"[host h1]\nnodeid = 1\nfence = ipmi\n[host h2]\nnodeid = 2\n";

	assert_ok(f, base);
	*live = *f->c;
	/* Same settings, other lines, a reloadable key changed: nothing needs a restart. */
	assert_ok(f, "# moved\n\n[cluster]\nname = prod\ntick = 2s\n\n"
		     "[host h2]\nnodeid = 2\n[host h1]\nnodeid = 1\nfence = ipmi\n"
		     "[fence ipmi]\ndriver = agent\nagent = /usr/sbin/fence_ipmilan\nip = 10.0.0.1\n");
	assert_int_equal(conf_restart_needed(live, f->c, labels, 8), 0);
	assert_ok(f, "[cluster]\nname = prod\nstate_dir = /srv/hax\n"
		     "[fence ipmi]\ndriver = agent\nagent = /usr/sbin/fence_ipmilan\nip = 10.0.0.9\n"
		     "[host h1]\nnodeid = 1\nfence = ipmi\n"
		     "[storage san]\nportal = 10.0.0.5\ntarget = iqn.2026-11.org.example:san\n");
	assert_int_equal(conf_restart_needed(live, f->c, labels, 8), 4);
	assert_string_equal(labels[0], "[cluster] state_dir changed");
	assert_string_equal(labels[1], "[host h2] removed");
	assert_string_equal(labels[2], "[fence ipmi] changed");
	assert_string_equal(labels[3], "[storage san] added");
	/* More than fit: counted, not written past max. */
	assert_int_equal(conf_restart_needed(live, f->c, labels, 1), 4);
	free(live);
}

/* Issue 17: a host fenced only by scsi on a target that loses reservations on a failover
 * is warned about; scsi+power, a power level of its own, or persistent_reservations =
 * yes is not. */
static void test_scsi_only_warning(void **state)
{
	struct fixture *f = *state;
	char w[CONF_MAX_HOSTS][512];
	static const char base[] =
	    "[cluster]\nname = t\ndriver = sim\nstate_dir = /tmp/x\n"
	    "[storage san]\nportal = 127.0.0.1\ntarget = iqn.2026-11.org.x:s\n%s"
	    "[fence scsi]\ndriver = scsi\nstorage = san\n"
	    "[fence power]\ndriver = agent\nagent = /bin/true\n"
	    "[host h1]\nnodeid = 1\nfence = scsi\n"
	    "[host h2]\nnodeid = 2\nfence = scsi+power\n"
	    "[host h3]\nnodeid = 3\nfence = scsi power\n";
	char text[1024];

	snprintf(text, sizeof(text), base, "");
	assert_ok(f, text);
	assert_int_equal(conf_warnings(f->c, w, CONF_MAX_HOSTS), 1);
	assert_non_null(strstr(w[0], "t.conf:"));
	assert_non_null(strstr(w[0], "warning: host h1 is fenced only by SCSI reservations on "
				     "storage san"));
	assert_non_null(strstr(w[0], "fence = scsi+power"));
	snprintf(text, sizeof(text), base, "persistent_reservations = yes\n");
	assert_ok(f, text);
	assert_int_equal(conf_warnings(f->c, w, CONF_MAX_HOSTS), 0);
	assert_int_equal(f->c->storage[0].check_interval_ms, 2000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_restart_needed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_values, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_levels_resolved, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_comments, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_every_key_accepted, setup, teardown),
	    cmocka_unit_test(test_key_table),
	    cmocka_unit_test_setup_teardown(test_error_format, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_out_untouched_on_error, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lookups, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_file_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_example, setup, teardown),
	    cmocka_unit_test(test_example_documents_every_key),
	    cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_long_lines, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_error_cap, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_scsi_only_warning, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
