/*
 * Tests of the child runner (lib/child.c), the fence-agent driver
 * (fencing/fence_agent.c) and the registry (fencing/fence.c) over a real qb_loop, through
 * the shared test seam of lib/loop.h (tests/lib/loop_seam.c, SIGCHLD reaper included). Programs are /bin/sh scripts and fake fence agents written into a private
 * directory; every process a test starts is killed by the end of that test.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
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

#include "lib/child.h"
#include "fencing/fence.h"
#include "lib/loop.h"
#include "tests/lib/loop_seam.h"

#define WAIT_MS 10000 /* generous: a stuck operation fails the test, a slow host does not */
#define SECRET "s3cr3t-Pw"

extern const struct fence_driver fence_agent_driver, fence_scsi_driver;

static char tmpdir[256];

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

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
	size_t n = 0;
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

/* Alive and not a zombie. */
static bool alive(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	if (pid <= 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

static void wait_gone(pid_t pid)
{
	int i;

	for (i = 0; i < 500 && alive(pid); i++)
		usleep(10000);
	assert_false(alive(pid));
}

/* Processes the current test's scripts reported: killed after the test even if it
 * failed half-way, so that a failing run leaves nothing behind. */
static pid_t spawned[16];
static size_t nspawned;

/* Pids written one per line into file name by a script; waits for want of them. */
static int read_pids(const char *name, pid_t *pids, int want)
{
	int i, n = 0;

	for (i = 0; i < 500; i++) {
		const char *s = slurp(name);
		char *end;

		for (n = 0; n < want && *s; n++) {
			pids[n] = (pid_t)strtol(s, &end, 10);
			if (end == s || *end != '\n')
				break;
			s = end + 1;
		}
		if (n == want) {
			for (i = 0; i < n && nspawned < HAX_ARRAY_SIZE(spawned); i++)
				spawned[nspawned++] = pids[i];
			return n;
		}
		seam_run_for(10);
	}
	return n;
}

/* No child of ours is left unreaped: the loop's reaper got them all. */
static void assert_no_zombie_children(void)
{
	int status;

	seam_run_for(100);
	assert_int_equal(waitpid(-1, &status, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* ---- child_run --------------------------------------------------------------------- */

struct ran {
	int calls;
	int result;
	int exit_status;
	char output[CHILD_OUTPUT_MAX];
};

static void on_ran(void *opaque, int result, int exit_status, const char *output)
{
	struct ran *r = opaque;

	r->calls++;
	r->result = result;
	r->exit_status = exit_status;
	assert_non_null(output);
	assert_true(strlen(output) < CHILD_OUTPUT_MAX);
	memcpy(r->output, output, strlen(output) + 1);
	seam_stop();
}

static struct ran ran; /* large: not on the stack */

/* Run a /bin/sh script to its end; returns the report in ran. */
static void sh(const char *script, const char *stdin_text, uint64_t timeout_ms)
{
	char *argv[] = {"/bin/sh", "-c", (char *)script, NULL};
	struct child_run *c = NULL;

	memset(&ran, 0, sizeof(ran));
	assert_int_equal(child_run(argv, stdin_text, timeout_ms, on_ran, &ran, &c), 0);
	assert_non_null(c);
	if (!seam_run_until(&ran.calls, 1, WAIT_MS))
		fail_msg("no report within %d ms", WAIT_MS);
	seam_run_for(20);
	assert_int_equal(ran.calls, 1);
}

static void test_child_exit_status(void **state)
{
	(void)state;
	sh("exit 3", NULL, 5000);
	assert_int_equal(ran.result, 0);
	assert_int_equal(ran.exit_status, 3);
	sh("exit 0", NULL, 5000);
	assert_int_equal(ran.exit_status, 0);
	sh("kill -TERM $$", NULL, 5000);
	assert_int_equal(ran.result, 0);
	assert_int_equal(ran.exit_status, 128 + SIGTERM);
	assert_int_equal(seam_timers_armed(), 0);
	assert_int_equal(seam_children_watched(), 0);
	assert_no_zombie_children();
}

static void test_child_output_both_streams(void **state)
{
	(void)state;
	sh("echo to-stdout; echo to-stderr >&2; echo again", NULL, 5000);
	assert_int_equal(ran.result, 0);
	assert_string_equal(ran.output, "to-stdout\nto-stderr\nagain\n");
	sh("true", NULL, 5000);
	assert_string_equal(ran.output, "");
}

static void test_child_stdin_delivered(void **state)
{
	(void)state;
	sh("cat; echo end", "line one\nkey=value\n", 5000);
	assert_int_equal(ran.exit_status, 0);
	assert_string_equal(ran.output, "line one\nkey=value\nend\n");
	/* NULL: stdin is an empty pipe, at EOF at once. */
	sh("cat; echo end", NULL, 5000);
	assert_string_equal(ran.output, "end\n");
}

/* More than fits: the end is kept, where programs say why they failed. */
static void test_child_output_truncated(void **state)
{
	(void)state;
	sh("i=0; while [ $i -lt 2000 ]; do echo 0123456789012345678901234567890123456789; "
	   "i=$((i+1)); done; echo LAST",
	   NULL, 10000);
	assert_int_equal(ran.exit_status, 0);
	assert_int_equal(strlen(ran.output), CHILD_OUTPUT_MAX - 1);
	assert_string_equal(ran.output + strlen(ran.output) - 5, "LAST\n");
}

/* haxd ignores SIGPIPE and the loop may hold signals blocked: the child gets neither. */
static void test_child_clean_signals_and_fds(void **state)
{
	sigset_t block, old;
	int fd;

	(void)state;
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &old);
	fd = open("/dev/null", O_RDONLY); /* no O_CLOEXEC: the runner must close it anyway */
	assert_true(fd >= 0);
	assert_true(dup2(fd, 57) == 57);
	sh("exec grep -E '^Sig(Blk|Ign):' /proc/self/status", NULL, 5000);
	assert_string_equal(ran.output, "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
	sh("exec ls /proc/self/fd", NULL, 5000);
	/* 0, 1, 2 and ls's own directory descriptor: nothing of ours. */
	assert_string_equal(ran.output, "0\n1\n2\n3\n");
	sh("echo $$; cut -d' ' -f5 /proc/$$/stat", NULL, 5000);
	{
		long pid = 0, pgid = -1;

		assert_int_equal(sscanf(ran.output, "%ld %ld", &pid, &pgid), 2);
		assert_int_equal(pgid, pid); /* its own process group */
		assert_int_not_equal(pgid, getpgrp());
	}
	close(57);
	close(fd);
	sigprocmask(SIG_SETMASK, &old, NULL);
}

static void test_child_timeout_kills_group(void **state)
{
	pid_t pids[2];
	uint64_t t0;

	(void)state;
	memset(&ran, 0, sizeof(ran));
	{
		char script[4 * PATH_MAX + 128], pidfile[PATH_MAX];
		char *argv[] = {"/bin/sh", "-c", script, NULL};
		struct child_run *c = NULL;

		path_in(pidfile, sizeof(pidfile), "timeout.pids");
		unlink(pidfile);
		snprintf(script, sizeof(script),
			 "echo started; sleep 600 & echo $$ >%s.tmp; echo $! >>%s.tmp; "
			 "mv %s.tmp %s; wait",
			 pidfile, pidfile, pidfile, pidfile);
		t0 = mono_ms();
		assert_int_equal(child_run(argv, NULL, 500, on_ran, &ran, &c), 0);
		assert_true(seam_run_until(&ran.calls, 1, WAIT_MS));
	}
	assert_int_equal(ran.result, -ETIMEDOUT);
	assert_true(mono_ms() - t0 >= 450);
	assert_true(mono_ms() - t0 < 3000);
	assert_string_equal(ran.output, "started\n");
	assert_int_equal(read_pids("timeout.pids", pids, 2), 2);
	wait_gone(pids[0]); /* the shell */
	wait_gone(pids[1]); /* and its background sleep, a grandchild */
	assert_int_equal(seam_children_watched(), 0);
	assert_int_equal(seam_timers_armed(), 0);
	assert_no_zombie_children();
}

static void test_child_cancel(void **state)
{
	char script[3 * PATH_MAX + 64], pidfile[PATH_MAX];
	char *argv[] = {"/bin/sh", "-c", script, NULL};
	struct child_run *c = NULL;
	pid_t pid = 0;

	(void)state;
	memset(&ran, 0, sizeof(ran));
	path_in(pidfile, sizeof(pidfile), "cancel.pid");
	unlink(pidfile);
	snprintf(script, sizeof(script), "echo $$ >%s.tmp; mv %s.tmp %s; exec sleep 600", pidfile,
		 pidfile, pidfile);
	assert_int_equal(child_run(argv, NULL, 60000, on_ran, &ran, &c), 0);
	assert_int_equal(read_pids("cancel.pid", &pid, 1), 1);
	assert_true(alive(pid));
	child_cancel(c);
	child_cancel(NULL);
	wait_gone(pid);
	seam_run_for(300);
	assert_int_equal(ran.calls, 0);
	assert_int_equal(seam_children_watched(), 0);
	assert_int_equal(seam_timers_armed(), 0);
	assert_no_zombie_children();
}

static void test_child_errors(void **state)
{
	char *missing[] = {"/nonexistent/hax-program", NULL};
	char *shell[] = {"/bin/sh", "-c", "cat", NULL};
	struct child_run *c = NULL;
	char *big;

	(void)state;
	memset(&ran, 0, sizeof(ran));
	assert_int_equal(child_run(missing, NULL, 1000, on_ran, &ran, &c), -ENOENT);
	assert_null(c);
	assert_int_equal(child_run(shell, NULL, 0, on_ran, &ran, &c), -EINVAL);
	/* More than a pipe holds: refused rather than written from the loop. */
	big = malloc(4 << 20);
	assert_non_null(big);
	memset(big, 'x', (4 << 20) - 1);
	big[(4 << 20) - 1] = '\0';
	assert_int_equal(child_run(shell, big, 1000, on_ran, &ran, &c), -E2BIG);
	free(big);
	assert_null(c);
	seam_run_for(50);
	assert_int_equal(ran.calls, 0);
	assert_int_equal(seam_children_watched(), 0);
	assert_int_equal(seam_timers_armed(), 0);
}

/* ---- the agent driver -------------------------------------------------------------- */

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

/* A fake agent: records its arguments and stdin, then runs body with $action set. */
static void write_agent(const char *body)
{
	char text[8192];

	snprintf(text, sizeof(text),
		 "#!/bin/sh\n"
		 "in=$(cat)\n"
		 "printf '%%s\\n---\\n' \"$in\" >>%s/stdin.log\n"
		 "echo \"argc=$# args=$*\" >>%s/args.log\n"
		 "tr '\\0' ' ' </proc/$$/cmdline >>%s/args.log; echo >>%s/args.log\n"
		 "action=$(printf '%%s\\n' \"$in\" | sed -n 's/^action=//p')\n"
		 "password=$(printf '%%s\\n' \"$in\" | sed -n 's/^password=//p')\n"
		 "%s\n",
		 tmpdir, tmpdir, tmpdir, tmpdir, body);
	write_file("fence_fake", text, 0755);
	write_file("stdin.log", "", 0600);
	write_file("args.log", "", 0600);
}

static struct conf_fence dev;
static const struct hax_conf conf; /* the agent driver needs nothing of it */
static const struct fence_target victim = {.host = "h3", .nodeid = 3};

static void reset_dev(void)
{
	memset(&dev, 0, sizeof(dev));
	hax_strlcpy(dev.name, "ipmi3", sizeof(dev.name));
	dev.driver = CONF_FENCE_AGENT;
	dev.timeout_ms = 5000;
	path_in(dev.agent, sizeof(dev.agent), "fence_fake");
	hax_strlcpy(dev.ip, "10.0.0.3", sizeof(dev.ip));
	dev.port = 623;
	hax_strlcpy(dev.username, "admin", sizeof(dev.username));
	path_in(dev.password_file, sizeof(dev.password_file), "password");
	write_file("password", SECRET "\n", 0600);
}

static void fence(bool dry_run, struct done *d)
{
	struct fence_op *op = NULL;

	memset(d, 0, sizeof(*d));
	assert_int_equal(fence_agent_driver.start(&conf, &dev, &victim, dry_run, on_done, d, &op),
			 0);
	assert_non_null(op);
	if (!seam_run_until(&d->calls, 1, WAIT_MS))
		fail_msg("no done() within %d ms", WAIT_MS);
	seam_run_for(20);
	assert_int_equal(d->calls, 1);
	assert_int_equal(seam_timers_armed(), 0);
	assert_int_equal(seam_children_watched(), 0);
	/* Nothing this driver or the runner logged may hold the password. */
	assert_null(strstr(seam_log, SECRET));
	assert_null(strstr(d->msg, SECRET));
	assert_null(strstr(slurp("args.log"), SECRET));
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

static const char *const off_then_status_off = "case $action in\n"
					       "off) echo 'Success: Powered OFF'; exit 0 ;;\n"
					       "status) echo 'Status: OFF'; exit 2 ;;\n"
					       "esac\n"
					       "exit 1\n";

static void test_agent_off_confirmed(void **state)
{
	struct done d;
	const char *in;

	(void)state;
	reset_dev();
	write_agent(off_then_status_off);
	fence(false, &d);
	assert_int_equal(d.result, 0);
	assert_string_equal(d.msg, "fence_fake: h3 is off (off, confirmed by status)");
	in = slurp("stdin.log");
	/* The fence-agents stdin keys, in order; plug defaults to the target's name. */
	assert_string_equal(in, "action=off\nip=10.0.0.3\nipport=623\nusername=admin\nplug=h3\n"
				"password=" SECRET "\n---\n"
				"action=status\nip=10.0.0.3\nipport=623\nusername=admin\nplug=h3\n"
				"password=" SECRET "\n---\n");
	/* argv is the agent's path alone. */
	assert_int_equal(count(slurp("args.log"), "argc=0 args=\n"), 2);
	assert_int_equal(count(slurp("args.log"), "fence_fake \n"), 2);
}

static void test_agent_plug_and_no_password(void **state)
{
	struct done d;

	(void)state;
	reset_dev();
	hax_strlcpy(dev.plug, "outlet-7", sizeof(dev.plug));
	dev.password_file[0] = '\0';
	dev.port = 0;
	dev.ip[0] = '\0';
	write_agent(off_then_status_off);
	fence(false, &d);
	assert_int_equal(d.result, 0);
	assert_string_equal(slurp("stdin.log"),
			    "action=off\nusername=admin\nplug=outlet-7\n---\n"
			    "action=status\nusername=admin\nplug=outlet-7\n---\n");
}

static void test_agent_still_on(void **state)
{
	struct done d;

	(void)state;
	reset_dev();
	write_agent("case $action in\n"
		    "off) echo 'Success: Powered OFF'; exit 0 ;;\n"
		    "status) echo 'Status: ON'; exit 0 ;;\n"
		    "esac\n"
		    "exit 1\n");
	fence(false, &d);
	assert_int_not_equal(d.result, 0);
	assert_string_equal(d.msg, "fence_fake status of h3 after off: still on");
}

static void test_agent_off_fails(void **state)
{
	struct done d;

	(void)state;
	reset_dev();
	write_agent("echo \"Connecting as admin with $password\" >&2\n"
		    "echo 'Failed: Unable to obtain correct plug status'\n"
		    "echo\n"
		    "exit 1\n");
	fence(false, &d);
	assert_int_equal(d.result, -EIO);
	assert_string_equal(
	    d.msg, "fence_fake off of h3: exit 1: Failed: Unable to obtain correct plug status");
	/* status is never asked after a failed off. */
	assert_int_equal(count(slurp("stdin.log"), "action="), 1);
}

/* An agent that echoes its password last: the message has it masked. */
static void test_agent_password_scrubbed(void **state)
{
	struct done d;

	(void)state;
	reset_dev();
	write_agent("echo \"login failed: user admin password $password rejected\"\nexit 3\n");
	fence(false, &d);
	assert_int_equal(d.result, -EIO);
	assert_null(strstr(d.msg, SECRET));
	assert_string_equal(d.msg, "fence_fake off of h3: exit 3: login failed: user admin "
				   "password ********* rejected");
	/* It did reach the agent, on stdin. */
	assert_non_null(strstr(slurp("stdin.log"), "password=" SECRET "\n"));
}

static void test_agent_status_error(void **state)
{
	struct done d;

	(void)state;
	reset_dev();
	write_agent("case $action in\n"
		    "off) exit 0 ;;\n"
		    "status) echo 'Failed: Unable to connect'; exit 1 ;;\n"
		    "esac\n");
	fence(false, &d);
	assert_int_equal(d.result, -EIO);
	assert_string_equal(d.msg, "fence_fake status of h3: exit 1: Failed: Unable to connect");
}

static void test_agent_bad_password_file(void **state)
{
	struct done d;

	(void)state;
	reset_dev();
	write_agent(off_then_status_off);
	path_in(dev.password_file, sizeof(dev.password_file), "no-such-password");
	fence(false, &d);
	assert_int_equal(d.result, -ENOENT);
	assert_non_null(strstr(d.msg, "cannot read password_file"));
	assert_non_null(strstr(d.msg, "no-such-password"));
	assert_string_equal(slurp("stdin.log"), ""); /* the agent never ran */

	/* A directory opens but does not read. */
	hax_strlcpy(dev.password_file, tmpdir, sizeof(dev.password_file));
	fence(false, &d);
	assert_int_equal(d.result, -EISDIR);
	assert_non_null(strstr(d.msg, "cannot read password_file"));

	reset_dev();
	write_file("password", "\n", 0600);
	fence(false, &d);
	assert_int_equal(d.result, -EINVAL);
	assert_non_null(strstr(d.msg, "empty"));
	assert_string_equal(slurp("stdin.log"), "");
}

/* First line only, CR LF tolerated. */
static void test_agent_password_first_line(void **state)
{
	struct done d;

	(void)state;
	reset_dev();
	write_file("password", SECRET "\r\nsecond line\n", 0600);
	write_agent(off_then_status_off);
	fence(false, &d);
	assert_int_equal(d.result, 0);
	assert_int_equal(count(slurp("stdin.log"), "password=" SECRET "\n"), 2);
	assert_null(strstr(slurp("stdin.log"), "second"));
}

static void test_agent_dry_run(void **state)
{
	struct done d;

	(void)state;
	reset_dev();
	write_agent("case $action in\n"
		    "monitor) exit 0 ;;\n"
		    "status) echo 'Status: ON'; exit 0 ;;\n"
		    "esac\n"
		    "exit 1\n");
	fence(true, &d);
	assert_int_equal(d.result, 0);
	assert_string_equal(d.msg, "fence_fake: the device answers; h3 is on");
	assert_int_equal(count(slurp("stdin.log"), "action=monitor\n"), 1);
	assert_int_equal(count(slurp("stdin.log"), "action=status\n"), 1);
	assert_int_equal(count(slurp("stdin.log"), "action=off"), 0);

	write_agent(off_then_status_off);
	fence(true, &d); /* off_then_status_off fails monitor */
	assert_int_equal(d.result, -EIO);
	assert_string_equal(d.msg, "fence_fake monitor of h3: exit 1: (no output)");
	assert_int_equal(count(slurp("stdin.log"), "action=off"), 0);

	write_agent("case $action in monitor) exit 0 ;; status) exit 2 ;; esac; exit 1\n");
	fence(true, &d);
	assert_int_equal(d.result, 0);
	assert_string_equal(d.msg, "fence_fake: the device answers; h3 is off");

	write_agent("case $action in monitor) exit 0 ;; status) echo 'no link'; exit 1 ;; "
		    "esac; exit 1\n");
	fence(true, &d);
	assert_int_equal(d.result, -EIO);
	assert_string_equal(d.msg, "fence_fake status of h3: exit 1: no link");
}

static void test_agent_timeout(void **state)
{
	struct done d;
	uint64_t t0;

	(void)state;
	reset_dev();
	dev.timeout_ms = 400;
	write_agent("exec sleep 600\n");
	t0 = mono_ms();
	fence(false, &d);
	assert_int_equal(d.result, -ETIMEDOUT);
	assert_true(mono_ms() - t0 < 3000);
	assert_non_null(strstr(d.msg, "fence_fake off of h3: no answer"));

	/* The timeout bounds both steps together. */
	dev.timeout_ms = 700;
	write_agent("case $action in off) sleep 0.4; exit 0 ;; status) exec sleep 600 ;; esac\n");
	t0 = mono_ms();
	fence(false, &d);
	assert_int_equal(d.result, -ETIMEDOUT);
	assert_true(mono_ms() - t0 >= 650);
	assert_true(mono_ms() - t0 < 1500);
	assert_non_null(strstr(d.msg, "fence_fake status of h3: no answer"));
	assert_no_zombie_children();
}

static void test_agent_cancel(void **state)
{
	struct fence_op *op = NULL;
	struct done d = {0};
	pid_t pid = 0;

	(void)state;
	reset_dev();
	write_agent(
	    "echo $$ >"
	    "\"$(dirname $0)/agent.pid.tmp\"; "
	    "mv \"$(dirname $0)/agent.pid.tmp\" \"$(dirname $0)/agent.pid\"; exec sleep 600\n");
	/* Cancelled before the first step ran. */
	assert_int_equal(fence_agent_driver.start(&conf, &dev, &victim, false, on_done, &d, &op),
			 0);
	fence_agent_driver.cancel(op);
	fence_agent_driver.cancel(NULL);
	seam_run_for(100);
	assert_int_equal(d.calls, 0);
	assert_string_equal(slurp("stdin.log"), "");
	/* Cancelled while the agent runs. */
	assert_int_equal(fence_agent_driver.start(&conf, &dev, &victim, false, on_done, &d, &op),
			 0);
	assert_int_equal(read_pids("agent.pid", &pid, 1), 1);
	fence_agent_driver.cancel(op);
	wait_gone(pid);
	seam_run_for(200);
	assert_int_equal(d.calls, 0);
	assert_int_equal(seam_timers_armed(), 0);
	assert_int_equal(seam_children_watched(), 0);
	assert_no_zombie_children();
}

static void test_agent_missing_program_and_bad_input(void **state)
{
	struct fence_op *op = NULL;
	struct done d;

	(void)state;
	reset_dev();
	path_in(dev.agent, sizeof(dev.agent), "no_such_agent");
	fence(false, &d);
	assert_int_equal(d.result, -ENOENT);
	assert_non_null(strstr(d.msg, "cannot run"));
	/* A line break in a value would smuggle in another key. */
	reset_dev();
	hax_strlcpy(dev.plug, "h3\naction=on", sizeof(dev.plug));
	assert_int_equal(fence_agent_driver.start(&conf, &dev, &victim, false, on_done, &d, &op),
			 -EINVAL);
	reset_dev();
	dev.agent[0] = '\0';
	assert_int_equal(fence_agent_driver.start(&conf, &dev, &victim, false, on_done, &d, &op),
			 -EINVAL);
	assert_null(op);
}

/* ---- the registry ------------------------------------------------------------------ */

static void test_registry(void **state)
{
	(void)state;
	assert_ptr_equal(fence_driver_for(CONF_FENCE_AGENT), &fence_agent_driver);
	assert_string_equal(fence_driver_for(CONF_FENCE_AGENT)->name, "agent");
	assert_null(fence_driver_for(CONF_FENCE_REDFISH));
	assert_null(fence_driver_for(CONF_FENCE_WATCHDOG));
	/* The scsi entry is listed; the test links a stub without start(), so "none". */
	assert_int_equal(fence_scsi_driver.kind, CONF_FENCE_SCSI);
	assert_null(fence_driver_for(CONF_FENCE_SCSI));
	assert_true(fence_scsi_key(3) == 0x6861780000000003ull);
	assert_true(fence_scsi_key(0x7fffffff) == 0x686178007fffffffull);
	assert_true((fence_scsi_key(1) >> 40) == 0x686178); /* "hax" */
}

/* ---- setup ------------------------------------------------------------------------- */

static int per_test(void **state)
{
	(void)state;
	seam_log[0] = '\0';
	nspawned = 0;
	return 0;
}

static int after_test(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < nspawned; i++)
		if (alive(spawned[i]))
			kill(spawned[i], SIGKILL);
	nspawned = 0;
	return 0;
}

static int group_setup(void **state)
{
	const char *t = getenv("TMPDIR");

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "%s/hax-fencing.XXXXXX", t && *t ? t : "/tmp");
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
	    cmocka_unit_test_setup_teardown(test_child_exit_status, per_test, after_test),
	    cmocka_unit_test_setup_teardown(test_child_output_both_streams, per_test, after_test),
	    cmocka_unit_test_setup_teardown(test_child_stdin_delivered, per_test, after_test),
	    cmocka_unit_test_setup_teardown(test_child_output_truncated, per_test, after_test),
	    cmocka_unit_test_setup_teardown(test_child_clean_signals_and_fds, per_test, after_test),
	    cmocka_unit_test_setup_teardown(test_child_timeout_kills_group, per_test, after_test),
	    cmocka_unit_test_setup_teardown(test_child_cancel, per_test, after_test),
	    cmocka_unit_test_setup_teardown(test_child_errors, per_test, after_test),
	    cmocka_unit_test_setup_teardown(test_agent_off_confirmed, per_test, after_test),
	    cmocka_unit_test_setup_teardown(test_agent_plug_and_no_password, per_test, after_test),
	    cmocka_unit_test_setup_teardown(test_agent_still_on, per_test, after_test),
	    cmocka_unit_test_setup_teardown(test_agent_off_fails, per_test, after_test),
	    cmocka_unit_test_setup_teardown(test_agent_password_scrubbed, per_test, after_test),
	    cmocka_unit_test_setup_teardown(test_agent_status_error, per_test, after_test),
	    cmocka_unit_test_setup_teardown(test_agent_bad_password_file, per_test, after_test),
	    cmocka_unit_test_setup_teardown(test_agent_password_first_line, per_test, after_test),
	    cmocka_unit_test_setup_teardown(test_agent_dry_run, per_test, after_test),
	    cmocka_unit_test_setup_teardown(test_agent_timeout, per_test, after_test),
	    cmocka_unit_test_setup_teardown(test_agent_cancel, per_test, after_test),
	    cmocka_unit_test_setup_teardown(test_agent_missing_program_and_bad_input, per_test,
					    after_test),
	    cmocka_unit_test_setup_teardown(test_registry, per_test, after_test),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
