/*
 * The redfish fence driver (fencing/fence_redfish.c) over a real qb_loop and the real
 * child runner, with $HAX_FENCE_REDFISH pointing at a fake hax-fence-redfish: a shell
 * script written by each test that records its argv (as given, and as /proc shows it)
 * and its stdin, then answers as the test says. Checked: the command lines, that the
 * password travels on stdin only and shows in no argv, message or log line, how exit
 * codes, output and the deadline become results, that a dry run never powers off, and
 * cancel. redfish_tool_test.sh runs the driver against the real tool and redfish_lab.
 */
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
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
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "fencing/fence.h"
#include "lib/util.h"
#include "tests/lib/loop_seam.h"

#define WAIT_MS 10000 /* generous: a stuck operation fails the test, a slow host does not */
#define SECRET "s3cr3t-Rf"
#define URL "https://10.0.0.3:8443"

extern const struct fence_driver fence_redfish_driver;

static char tmpdir[256];

/* ---- files and processes ----------------------------------------------------------- */

static void path_in(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", tmpdir, name);
}

static void write_file(const char *name, const char *text, mode_t mode)
{
	char path[PATH_MAX];
	FILE *f;

	path_in(path, sizeof(path), name);
	unlink(path);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* The whole file (empty if absent), in a static buffer. */
static const char *slurp(const char *name)
{
	static char buf[65536];
	char path[PATH_MAX];
	size_t n;
	FILE *f;

	path_in(path, sizeof(path), name);
	buf[0] = '\0';
	f = fopen(path, "r");
	if (!f)
		return buf;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	while ((hay = strstr(hay, needle))) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static bool alive(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

/* The fake tool: each run appends "ARGV: a|b|c|" and "CMDLINE: ..." to args.log and
 * its stdin (then "---") to stdin.log, and "$$" to pids; then runs body with $cmd set
 * to its first argument. */
static void write_tool(const char *body)
{
	char text[8192];

	snprintf(
	    text, sizeof(text),
	    "#!/bin/sh\n"
	    "d=%s\n"
	    "echo $$ >>$d/pids\n"
	    "printf 'ARGV: ' >>$d/args.log; for a; do printf '%%s|' \"$a\"; done >>$d/args.log\n"
	    "echo >>$d/args.log\n"
	    "printf 'CMDLINE: ' >>$d/args.log; tr '\\0' ' ' </proc/$$/cmdline >>$d/args.log\n"
	    "echo >>$d/args.log\n"
	    "in=$(cat)\n"
	    "printf '%%s\\n---\\n' \"$in\" >>$d/stdin.log\n"
	    "cmd=$1\n"
	    "%s\n",
	    tmpdir, body);
	write_file("fake-tool", text, 0755);
	write_file("stdin.log", "", 0600);
	write_file("args.log", "", 0600);
	write_file("pids", "", 0600);
}

/* ---- the driver -------------------------------------------------------------------- */

struct done {
	int calls;
	int result;
	char msg[512];
};

static void on_done(void *opaque, int result, const char *msg)
{
	struct done *d = opaque;

	d->calls++;
	d->result = result;
	assert_non_null(msg);
	hax_strlcpy(d->msg, msg, sizeof(d->msg));
	seam_stop();
}

static struct conf_fence dev;
static const struct hax_conf conf; /* the redfish driver needs nothing of it */
static const struct fence_target victim = {.host = "h3", .nodeid = 3};

static void reset_dev(void)
{
	memset(&dev, 0, sizeof(dev));
	hax_strlcpy(dev.name, "bmc3", sizeof(dev.name));
	dev.driver = CONF_FENCE_REDFISH;
	dev.timeout_ms = 5000;
	hax_strlcpy(dev.url, URL, sizeof(dev.url));
	hax_strlcpy(dev.username, "admin", sizeof(dev.username));
	hax_strlcpy(dev.plug, "/redfish/v1/Systems/h3", sizeof(dev.plug));
	dev.ssl_verify = true;
	path_in(dev.password_file, sizeof(dev.password_file), "password");
	write_file("password", SECRET "\n", 0600);
}

/* Nothing the driver, the runner or a command line showed may hold the password. */
static void assert_no_secret(const struct done *d)
{
	assert_null(strstr(seam_log, SECRET));
	assert_null(strstr(d->msg, SECRET));
	assert_null(strstr(slurp("args.log"), SECRET));
}

static void fence(bool dry_run, struct done *d)
{
	struct fence_op *op = NULL;

	memset(d, 0, sizeof(*d));
	assert_int_equal(fence_redfish_driver.start(&conf, &dev, &victim, dry_run, on_done, d, &op),
			 0);
	assert_non_null(op);
	if (!seam_run_until(&d->calls, 1, WAIT_MS))
		fail_msg("no done() within %d ms", WAIT_MS);
	seam_run_for(20);
	assert_int_equal(d->calls, 1);
	assert_int_equal(seam_timers_armed(), 0);
	assert_int_equal(seam_children_watched(), 0);
	assert_no_secret(d);
}

/* The --timeout value of the n-th (0-based) recorded command line, in ms. */
static uint64_t tool_timeout(int n)
{
	const char *s = slurp("args.log");

	for (; n >= 0; n--) {
		s = strstr(s, "|--timeout|");
		assert_non_null(s);
		s += strlen("|--timeout|");
	}
	return strtoull(s, NULL, 10);
}

static const char *const off_ok =
    "case $cmd in\n"
    "off) echo 'ForceOff accepted (HTTP 204), waiting for PowerState Off'\n"
    "     echo 'Success: Powered OFF (/redfish/v1/Systems/h3: PowerState "
    "Off after 0.4 s)'; exit 0 ;;\n"
    "esac\n"
    "exit 1\n";

static void test_fence_confirmed(void **state)
{
	const char *args;
	struct done d;
	uint64_t t;

	(void)state;
	reset_dev();
	write_tool(off_ok);
	fence(false, &d);
	assert_int_equal(d.result, 0);
	assert_string_equal(d.msg, "redfish: h3 is off (Success: Powered OFF "
				   "(/redfish/v1/Systems/h3: PowerState Off after 0.4 s))");
	args = slurp("args.log");
	assert_int_equal(count(args, "ARGV: "), 1);
	assert_non_null(strstr(args, "ARGV: off|--url|" URL "|--system|/redfish/v1/Systems/h3|"
				     "--username|admin|--timeout|"));
	assert_null(strstr(args, "--insecure"));
	assert_null(strstr(args, "password"));
	/* The tool stops itself a little before the device timeout. */
	t = tool_timeout(0);
	assert_true(t >= 4400 && t <= 4500);
	assert_non_null(strstr(args, "ms|\n"));
	/* The password, on stdin, as its first line. */
	assert_string_equal(slurp("stdin.log"), SECRET "\n---\n");
}

static void test_insecure_no_plug_no_login(void **state)
{
	struct done d;

	(void)state;
	reset_dev();
	dev.ssl_verify = false;
	dev.plug[0] = '\0';
	write_tool(off_ok);
	fence(false, &d);
	assert_int_equal(d.result, 0);
	assert_non_null(strstr(slurp("args.log"), "ARGV: off|--url|" URL "|--username|admin|"
						  "--insecure|--timeout|"));
	assert_null(strstr(slurp("args.log"), "--system"));

	/* No username: no login, no password read or sent (even with a password_file). */
	reset_dev();
	dev.username[0] = '\0';
	write_tool(off_ok);
	fence(false, &d);
	assert_int_equal(d.result, 0);
	assert_null(strstr(slurp("args.log"), "--username"));
	assert_string_equal(slurp("stdin.log"), "\n---\n");

	/* A username without a password_file: an empty password line. */
	reset_dev();
	dev.password_file[0] = '\0';
	write_tool(off_ok);
	fence(false, &d);
	assert_int_equal(d.result, 0);
	assert_string_equal(slurp("stdin.log"), "\n---\n");
}

static void test_off_fails(void **state)
{
	struct done d;

	(void)state;
	reset_dev();
	/* A tool that says the password (a BMC echoing it, say): masked in the message. */
	write_tool("echo 'ForceOff accepted (HTTP 204), waiting for PowerState Off'\n"
		   "echo \"hax-fence-redfish: off: PowerState still On after ForceOff, 4.4 s "
		   "(login admin/$in)\" >&2\n"
		   "exit 1\n");
	fence(false, &d);
	assert_int_equal(d.result, -EIO);
	assert_string_equal(d.msg, "redfish off of h3: exit 1: hax-fence-redfish: off: PowerState "
				   "still On after ForceOff, 4.4 s (login admin/*********)");

	write_tool("echo \"hax-fence-redfish: off: " URL "/redfish/v1/Systems: HTTP 401 "
		   "Unauthorized (check the username and password)\" >&2; exit 1\n");
	fence(false, &d);
	assert_int_equal(d.result, -EIO);
	assert_non_null(strstr(d.msg, "exit 1: hax-fence-redfish: off: "));
	assert_non_null(strstr(d.msg, "HTTP 401 Unauthorized"));

	write_tool("exit 1\n");
	fence(false, &d);
	assert_int_equal(d.result, -EIO);
	assert_string_equal(d.msg, "redfish off of h3: exit 1: (no output)");

	write_tool("echo 'hax-fence-redfish: off: --url must start with https://' >&2; exit 2\n");
	fence(false, &d);
	assert_int_equal(d.result, -EINVAL);
	assert_string_equal(d.msg, "redfish off of h3: hax-fence-redfish refused its arguments: "
				   "hax-fence-redfish: off: --url must start with https://");

	/* Killed by a signal: not a success. */
	write_tool("kill -KILL $$\n");
	fence(false, &d);
	assert_int_equal(d.result, -EIO);
	assert_non_null(strstr(d.msg, "exit 137"));
}

static void test_timeout(void **state)
{
	struct done d;
	uint64_t t0;

	(void)state;
	reset_dev();
	dev.timeout_ms = 600;
	write_tool("exec sleep 600\n");
	t0 = mono_ms();
	fence(false, &d);
	assert_int_equal(d.result, -ETIMEDOUT);
	assert_true(mono_ms() - t0 >= 550);
	assert_true(mono_ms() - t0 < 3000);
	assert_string_equal(d.msg, "redfish off of h3: no answer within the device timeout "
				   "(600 ms)");
	assert_true(tool_timeout(0) >= 530 && tool_timeout(0) <= 540);

	/* The dry run's two steps share the device timeout. */
	dev.timeout_ms = 800;
	write_tool("case $cmd in monitor) sleep 0.5; exit 0 ;; status) exec sleep 600 ;; esac\n");
	t0 = mono_ms();
	fence(true, &d);
	assert_int_equal(d.result, -ETIMEDOUT);
	assert_true(mono_ms() - t0 >= 750);
	assert_true(mono_ms() - t0 < 2000);
	assert_non_null(strstr(d.msg, "redfish status of h3: no answer"));
	assert_true(tool_timeout(1) < 400);
}

static void test_dry_run(void **state)
{
	struct done d;

	(void)state;
	reset_dev();
	write_tool("case $cmd in\n"
		   "monitor) echo 'Success: " URL "/redfish/v1 answers (RedfishVersion 1.6.0)'; "
		   "exit 0 ;;\n"
		   "status) echo 'Status: ON (/redfish/v1/Systems/h3: PowerState On)'; exit 0 ;;\n"
		   "esac\n"
		   "exit 1\n");
	fence(true, &d);
	assert_int_equal(d.result, 0);
	assert_string_equal(d.msg, "redfish: the BMC answers; h3 is on "
				   "(Status: ON (/redfish/v1/Systems/h3: PowerState On))");
	assert_int_equal(count(slurp("args.log"), "ARGV: monitor|--url|" URL "|"), 1);
	assert_int_equal(count(slurp("args.log"), "ARGV: status|--url|" URL "|"), 1);
	assert_int_equal(count(slurp("args.log"), "ARGV: off"), 0);
	assert_string_equal(slurp("stdin.log"), SECRET "\n---\n" SECRET "\n---\n");

	write_tool("case $cmd in monitor) exit 0 ;; "
		   "status) echo 'Status: OFF (/redfish/v1/Systems/h3: PowerState Off)'; exit 2 ;; "
		   "esac; exit 1\n");
	fence(true, &d);
	assert_int_equal(d.result, 0);
	assert_string_equal(d.msg, "redfish: the BMC answers; h3 is off "
				   "(Status: OFF (/redfish/v1/Systems/h3: PowerState Off))");

	/* Exit 2 without "Status: OFF" is a usage error, not an answer. */
	write_tool("case $cmd in monitor) exit 0 ;; status) echo 'bad option' >&2; exit 2 ;; "
		   "esac; exit 1\n");
	fence(true, &d);
	assert_int_equal(d.result, -EINVAL);
	assert_non_null(strstr(d.msg, "refused its arguments: bad option"));

	write_tool("case $cmd in monitor) exit 0 ;; status) echo 'HTTP 404 Not Found' >&2; "
		   "exit 1 ;; esac; exit 1\n");
	fence(true, &d);
	assert_int_equal(d.result, -EIO);
	assert_string_equal(d.msg, "redfish status of h3: exit 1: HTTP 404 Not Found");

	/* A service that does not answer: status is never asked, off never sent. */
	write_tool("echo 'hax-fence-redfish: monitor: connection refused' >&2; exit 1\n");
	fence(true, &d);
	assert_int_equal(d.result, -EIO);
	assert_string_equal(d.msg, "redfish monitor of h3: exit 1: hax-fence-redfish: monitor: "
				   "connection refused");
	assert_int_equal(count(slurp("args.log"), "ARGV: "), 1);
	assert_int_equal(count(slurp("args.log"), "ARGV: off"), 0);
}

static void test_password_file_errors(void **state)
{
	struct done d;

	(void)state;
	reset_dev();
	write_tool(off_ok);
	path_in(dev.password_file, sizeof(dev.password_file), "no-such-password");
	fence(false, &d);
	assert_int_equal(d.result, -ENOENT);
	assert_non_null(strstr(d.msg, "redfish: cannot read password_file "));
	assert_non_null(strstr(d.msg, "no-such-password"));
	assert_string_equal(slurp("args.log"), ""); /* the tool never ran */

	reset_dev();
	write_file("password", "\r\n" SECRET "\n", 0600);
	fence(false, &d);
	assert_int_equal(d.result, -EINVAL);
	assert_non_null(strstr(d.msg, "empty first line"));
	assert_string_equal(slurp("args.log"), "");

	/* First line only, CR LF tolerated. */
	reset_dev();
	write_file("password", SECRET "\r\nsecond line\n", 0600);
	fence(false, &d);
	assert_int_equal(d.result, 0);
	assert_string_equal(slurp("stdin.log"), SECRET "\n---\n");
}

static void test_cancel(void **state)
{
	struct fence_op *op = NULL;
	struct done d = {0};
	pid_t pid = 0;
	int i;

	(void)state;
	reset_dev();
	write_tool("exec sleep 600\n");
	/* Cancelled before the first step ran. */
	assert_int_equal(fence_redfish_driver.start(&conf, &dev, &victim, false, on_done, &d, &op),
			 0);
	fence_redfish_driver.cancel(op);
	fence_redfish_driver.cancel(NULL);
	seam_run_for(100);
	assert_int_equal(d.calls, 0);
	assert_string_equal(slurp("args.log"), "");
	/* Cancelled while the tool runs: the tool dies with it. */
	assert_int_equal(fence_redfish_driver.start(&conf, &dev, &victim, false, on_done, &d, &op),
			 0);
	for (i = 0; i < 500 && !(pid = (pid_t)atol(slurp("pids"))); i++)
		seam_run_for(10);
	assert_true(pid > 0);
	assert_true(alive(pid));
	fence_redfish_driver.cancel(op);
	for (i = 0; i < 500 && alive(pid); i++)
		seam_run_for(10);
	assert_false(alive(pid));
	seam_run_for(100);
	assert_int_equal(d.calls, 0);
	assert_int_equal(seam_timers_armed(), 0);
	assert_int_equal(seam_children_watched(), 0);
}

static void test_bad_input(void **state)
{
	struct fence_op *op = NULL;
	struct done d;
	struct fence_target nobody = {.host = "", .nodeid = 3};

	(void)state;
	reset_dev();
	/* Credentials in the URL would be on the tool's command line. */
	hax_strlcpy(dev.url, "https://admin:" SECRET "@10.0.0.3", sizeof(dev.url));
	assert_int_equal(fence_redfish_driver.start(&conf, &dev, &victim, false, on_done, &d, &op),
			 -EINVAL);
	reset_dev();
	dev.url[0] = '\0';
	assert_int_equal(fence_redfish_driver.start(&conf, &dev, &victim, false, on_done, &d, &op),
			 -EINVAL);
	reset_dev();
	assert_int_equal(fence_redfish_driver.start(&conf, &dev, &nobody, false, on_done, &d, &op),
			 -EINVAL);
	dev.timeout_ms = 0;
	assert_int_equal(fence_redfish_driver.start(&conf, &dev, &victim, false, on_done, &d, &op),
			 -EINVAL);
	assert_null(op);
	assert_int_equal(seam_timers_armed(), 0);

	/* A tool that is not there: a message naming it. */
	reset_dev();
	write_tool(off_ok);
	setenv("HAX_FENCE_REDFISH", "/nonexistent/hax-fence-redfish", 1);
	fence(false, &d);
	assert_int_equal(d.result, -ENOENT);
	assert_string_equal(d.msg, "redfish off of h3: cannot run /nonexistent/hax-fence-redfish: "
				   "No such file or directory");
}

static void test_registry(void **state)
{
	(void)state;
	assert_ptr_equal(fence_driver_for(CONF_FENCE_REDFISH), &fence_redfish_driver);
	assert_string_equal(fence_redfish_driver.name, "redfish");
	assert_non_null(fence_redfish_driver.start);
	assert_non_null(fence_redfish_driver.cancel);
	/* Drivers this test does not link are "none". */
	assert_null(fence_driver_for(CONF_FENCE_AGENT));
}

/* ---- setup ------------------------------------------------------------------------- */

static int per_test(void **state)
{
	char tool[PATH_MAX];

	(void)state;
	seam_log[0] = '\0';
	path_in(tool, sizeof(tool), "fake-tool");
	setenv("HAX_FENCE_REDFISH", tool, 1);
	return 0;
}

/* Whatever a failed test left running is killed. */
static int after_test(void **state)
{
	const char *s = slurp("pids");
	char *end;
	long pid;

	(void)state;
	while ((pid = strtol(s, &end, 10)) > 0) {
		if (alive((pid_t)pid))
			kill((pid_t)pid, SIGKILL);
		s = end;
	}
	write_file("pids", "", 0600);
	return 0;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int group_setup(void **state)
{
	const char *t = getenv("TMPDIR");

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "%s/hax-redfish.XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(tmpdir))
		return -1;
	return seam_init();
}

static int group_teardown(void **state)
{
	(void)state;
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	seam_fini();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_fence_confirmed, per_test, after_test),
	    cmocka_unit_test_setup_teardown(test_insecure_no_plug_no_login, per_test, after_test),
	    cmocka_unit_test_setup_teardown(test_off_fails, per_test, after_test),
	    cmocka_unit_test_setup_teardown(test_timeout, per_test, after_test),
	    cmocka_unit_test_setup_teardown(test_dry_run, per_test, after_test),
	    cmocka_unit_test_setup_teardown(test_password_file_errors, per_test, after_test),
	    cmocka_unit_test_setup_teardown(test_cancel, per_test, after_test),
	    cmocka_unit_test_setup_teardown(test_bad_input, per_test, after_test),
	    cmocka_unit_test_setup_teardown(test_registry, per_test, after_test),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
