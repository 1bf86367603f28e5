/*
 * What the xl driver needs of the child runner (lib/child.c) beyond the fence
 * drivers: stdout and stderr apart, stderr read while the child runs, no deadline, a
 * signal that still ends in the callback, and forgetting a child without killing it.
 * Real /bin/sh children on a real qb_loop (tests/lib/loop_seam.c).
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/child.h"
#include "lib/util.h"
#include "tests/lib/loop_seam.h"

struct ran {
	int calls;
	int result;
	int status;
	char out[256];
	char err[256];
};

static void on_ran(void *opaque, int result, int status, const char *out, const char *err)
{
	struct ran *r = opaque;

	r->calls++;
	r->result = result;
	r->status = status;
	hax_strlcpy(r->out, out, sizeof(r->out));
	hax_strlcpy(r->err, err, sizeof(r->err));
	seam_stop();
}

static void test_split(void **unused)
{
	char *argv[] = {"/bin/sh", "-c", "echo out; echo err >&2; read x; echo \"[$x]\"; exit 3",
			NULL};
	struct child_run *c = NULL;
	struct ran r = {0};

	(void)unused;
	assert_int_equal(child_run_split(argv, 5000, on_ran, &r, &c), 0);
	assert_true(seam_run_until(&r.calls, 1, 5000));
	assert_int_equal(r.result, 0);
	assert_int_equal(r.status, 3);
	assert_string_equal(r.out, "out\n[]\n"); /* stdin is empty */
	assert_string_equal(r.err, "err\n");
	assert_int_equal(seam_children_watched(), 0);
	assert_int_equal(seam_timers_armed(), 0);
}

/* No deadline; stderr readable while it runs; a signal still ends in the callback. */
static void test_progress_and_signal(void **unused)
{
	char *argv[] = {"/bin/sh", "-c", "echo one >&2; sleep 0.2; echo two >&2; exec sleep 30",
			NULL};
	struct child_run *c = NULL;
	struct ran r = {0};
	char buf[64];
	ssize_t n = 0;
	uint64_t off = 0;
	int i;

	(void)unused;
	assert_int_equal(child_run_split(argv, 0, on_ran, &r, &c), 0);
	assert_int_equal(seam_timers_armed(), 0);
	for (i = 0; i < 100 && off < 8; i++) {
		seam_run_for(50);
		n = child_read_stderr(c, off, buf + off, sizeof(buf) - 1 - off);
		assert_true(n >= 0);
		off += (uint64_t)n;
	}
	buf[off] = '\0';
	assert_string_equal(buf, "one\ntwo\n");
	assert_int_equal(child_read_stderr(c, off, buf, sizeof(buf)), 0);
	assert_int_equal(r.calls, 0);
	assert_int_equal(child_signal(c, SIGTERM), 0);
	assert_true(seam_run_until(&r.calls, 1, 5000));
	assert_int_equal(r.result, 0);
	assert_int_equal(r.status, 128 + SIGTERM);
	assert_string_equal(r.err, "one\ntwo\n");
}

/* Detached: no callback, and the child lives on. */
static void test_detach(void **unused)
{
	char *argv[] = {"/bin/sh", "-c", "exec sleep 30", NULL};
	struct child_run *c = NULL;
	struct ran r = {0};
	pid_t pid;

	(void)unused;
	assert_int_equal(child_run_split(argv, 100, on_ran, &r, &c), 0);
	pid = child_pid(c);
	assert_true(pid > 0);
	child_detach(c);
	child_detach(NULL);
	seam_run_for(300); /* past the deadline it had */
	assert_int_equal(r.calls, 0);
	assert_int_equal(kill(pid, 0), 0);
	assert_int_equal(seam_children_watched(), 0);
	assert_int_equal(seam_timers_armed(), 0);
	kill(pid, SIGKILL);
	seam_run_for(100); /* the loop reaps it */
}

static void test_bad_args(void **unused)
{
	char *missing[] = {"/nonexistent/xl", NULL};
	char *shell[] = {"/bin/sh", "-c", "true", NULL};
	struct child_run *c = NULL;
	struct ran r = {0};

	(void)unused;
	assert_int_equal(child_run_split(missing, 0, on_ran, &r, &c), -ENOENT);
	assert_int_equal(child_run_split(shell, 0, NULL, &r, &c), -EINVAL);
	assert_int_equal(child_run_split(NULL, 0, on_ran, &r, &c), -EINVAL);
	assert_int_equal(r.calls, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_split),
	    cmocka_unit_test(test_progress_and_signal),
	    cmocka_unit_test(test_detach),
	    cmocka_unit_test(test_bad_args),
	};
	int r;

	if (seam_init() < 0)
		return 1;
	r = cmocka_run_group_tests(tests, NULL, NULL);
	seam_fini();
	return r;
}
