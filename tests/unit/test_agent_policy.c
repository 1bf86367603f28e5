/*
 * The agent's no-quorum policy and start gate (agent/agent.c, issue 12 items 4 and 13),
 * on the sim driver with the real hax-guest on plain-file disks, over a real qb_loop:
 *  - isolated with "stop", only the domains hax manages are stopped;
 *  - isolated with "freeze", only they are frozen, and on rejoining only what the policy
 *    froze is thawed: a domain paused by someone else stays paused;
 *  - a start refused by may_start (a watchdog that is not armed) answers a failed
 *    result with the reason and starts nothing.
 * Guests are detached processes: every one is killed at the end, by the pids the
 * inventory names and by command lines naming this test's private directory.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/agent.h"
#include "agent/hv.h"
#include "tests/lib/loop_seam.h"

#define WAIT_MS 15000

static char dir[PATH_MAX], state_dir[PATH_MAX + 16];
static int nresults;
static json_t *results;          /* every result, in order */
static bool refuse_starts;

static void on_inventory(void *opaque, const json_t *inv)
{
	(void)opaque;
	(void)inv;
}

static void on_result(void *opaque, const json_t *res)
{
	(void)opaque;
	json_array_append(results, (json_t *)res);
	nresults++;
	seam_stop();
}

static bool only_d1(void *opaque, const char *name)
{
	(void)opaque;
	return strcmp(name, "d1") == 0;
}

static int gate(void *opaque, char *err, size_t errlen)
{
	(void)opaque;
	if (!refuse_starts)
		return 0;
	snprintf(err, errlen, "watchdog not armed (test)");
	return -ENOLINK;
}

static struct agent *agent_up(void)
{
	struct hv_host host = {.state_dir = state_dir, .host_name = "h1", .nodeid = 7,
			       .iqn = "iqn.2026-01.org.hax.test:h1", .mem_mib = 4096, .vcpus = 8};
	struct agent_out out = {.inventory = on_inventory, .result = on_result,
				.may_start = gate, .managed = only_d1};
	char err[256] = "";
	struct agent *a = agent_new(&hv_sim_ops, &host, 200, &out, err, sizeof(err));

	if (!a)
		fail_msg("agent_new: %s", err);
	return a;
}

static void start(struct agent *a, const char *name)
{
	char path[PATH_MAX + 32], def[PATH_MAX + 64];
	json_t *cmd;
	int fd, want = nresults + 1;

	snprintf(path, sizeof(path), "%s/%s.img", dir, name);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 1024 * 1024), 0);
	close(fd);
	snprintf(def, sizeof(def), "disk = %s\ninterval = 20ms\n", path);
	cmd = json_pack("{s:s, s:{s:s, s:s, s:i, s:i}, s:i}", "op", "start", "domain", "name",
			name, "definition", def, "memory_mib", 64, "vcpus", 1, "incarnation", 1);
	agent_command(a, cmd);
	json_decref(cmd);
	assert_true(seam_run_until(&nresults, want, WAIT_MS));
}

static const json_t *last_result(void)
{
	return json_array_get(results, json_array_size(results) - 1);
}

struct snap {
	int calls;
	json_t *inv;
};

static void on_snap(void *opaque, const json_t *inv)
{
	struct snap *s = opaque;

	json_decref(s->inv);
	s->inv = json_deep_copy(inv);
	s->calls++;
	seam_stop();
}

/* The hypervisor's state of name now ("absent" if not listed). */
static const char *state_of(struct agent *a, const char *name)
{
	static char st[32];
	struct snap s = {0};
	size_t i;

	agent_snapshot(a, on_snap, &s);
	assert_true(seam_run_until(&s.calls, 1, WAIT_MS));
	snprintf(st, sizeof(st), "absent");
	for (i = 0; i < json_array_size(json_object_get(s.inv, "domains")); i++) {
		const json_t *d = json_array_get(json_object_get(s.inv, "domains"), i);

		if (strcmp(json_string_value(json_object_get(d, "name")), name) == 0)
			snprintf(st, sizeof(st), "%s", json_string_value(json_object_get(d, "state")));
	}
	json_decref(s.inv);
	return st;
}

/* The sim driver lists a frozen guest as running: a frozen guest is a stopped process
 * (SIGSTOP), which /proc/PID/stat shows as 'T'. */
static bool frozen(const char *name)
{
	char path[PATH_MAX + 64], buf[512], *p;
	long pid = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/sim/%s/pid", state_dir, name);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%ld", &pid), 1);
	fclose(f);
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	p = strrchr(buf, ')');
	return p && (p[2] == 'T' || p[2] == 't');
}

static bool becomes_frozen(const char *name, bool want)
{
	int i;

	for (i = 0; i < 50; i++) {
		if (frozen(name) == want)
			return true;
		seam_run_for(200);
	}
	return false;
}

/* Poll until name is in state want (the policy works asynchronously). */
static bool reaches(struct agent *a, const char *name, const char *want)
{
	int i;

	for (i = 0; i < 50; i++) {
		if (strcmp(state_of(a, name), want) == 0)
			return true;
		seam_run_for(200);
	}
	return false;
}

static void test_stop_only_managed(void **unused)
{
	struct agent *a = agent_up();

	(void)unused;
	start(a, "d1");
	start(a, "d2");
	assert_true(reaches(a, "d1", "running"));
	assert_true(reaches(a, "d2", "running"));
	agent_isolated(a, false, 3000);
	assert_true(reaches(a, "d1", "absent"));
	seam_run_for(1000);
	assert_string_equal(state_of(a, "d2"), "running");
	agent_free(a);
}

static void test_freeze_and_thaw_only_what_it_froze(void **unused)
{
	struct agent *a = agent_up();
	struct hv *hv = NULL;

	(void)unused;
	start(a, "d1");
	start(a, "d2");
	start(a, "d3");
	assert_true(reaches(a, "d3", "running"));
	/* d3 is paused by someone else (an operator) before the isolation. */
	{
		struct hv_host host = {.state_dir = state_dir, .host_name = "h1", .nodeid = 7,
				       .iqn = "iqn.2026-01.org.hax.test:h1"};
		char err[256];

		assert_int_equal(hv_sim_ops.init(&hv, &host, err, sizeof(err)), 0);
		assert_int_equal(hv_sim_ops.pause(hv, "d3", true), 0);
	}
	assert_true(becomes_frozen("d3", true));
	agent_isolated(a, true, 3000);
	assert_true(becomes_frozen("d1", true));
	seam_run_for(500);
	assert_false(frozen("d2"));
	agent_rejoined(a);
	assert_true(becomes_frozen("d1", false));
	seam_run_for(500);
	assert_true(frozen("d3"));
	assert_false(frozen("d2"));
	hv_sim_ops.fini(hv);
	agent_free(a);
}

static void test_start_refused_by_gate(void **unused)
{
	struct agent *a = agent_up();

	(void)unused;
	refuse_starts = true;
	start(a, "d1");
	refuse_starts = false;
	assert_false(json_is_true(json_object_get(last_result(), "ok")));
	assert_non_null(strstr(json_string_value(json_object_get(last_result(), "error")),
			       "watchdog not armed"));
	seam_run_for(500);
	assert_string_equal(state_of(a, "d1"), "absent");
	agent_free(a);
}

/* Every hax-guest whose command line names our directory. */
static void kill_guests(void)
{
	struct dirent *de;
	DIR *d = opendir("/proc");

	while (d && (de = readdir(d))) {
		char path[300], buf[4096];
		ssize_t n;
		int fd;

		if (atol(de->d_name) <= 1)
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", de->d_name);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] == '\0')
				buf[i] = ' ';
		if (strstr(buf, "hax-guest") && strstr(buf, dir))
			kill((pid_t)atol(de->d_name), SIGKILL);
	}
	if (d)
		closedir(d);
}

static int setup(void **unused)
{
	const char *t = getenv("TMPDIR");

	(void)unused;
	snprintf(dir, sizeof(dir), "%s/hax-agent.XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(dir))
		return -1;
	snprintf(state_dir, sizeof(state_dir), "%s/state", dir);
	if (mkdir(state_dir, 0700) < 0)
		return -1;
	results = json_array();
	nresults = 0;
	return 0;
}

static int teardown(void **unused)
{
	char cmd[PATH_MAX + 16];

	(void)unused;
	kill_guests();
	json_decref(results);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_stop_only_managed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_freeze_and_thaw_only_what_it_froze, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_start_refused_by_gate, setup, teardown),
	};
	const char *guest = getenv("HAX_GUEST");
	int r;

	if (!guest || access(guest, X_OK) < 0) {
		printf("skipped: HAX_GUEST does not name the hax-guest program\n");
		return 77;
	}
	if (seam_init() < 0)
		return 1;
	r = cmocka_run_group_tests(tests, NULL, NULL);
	seam_fini();
	return r;
}
