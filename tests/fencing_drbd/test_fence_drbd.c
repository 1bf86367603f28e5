/*
 * Tests of the drbd fence driver (fencing/fence_drbd.c) and drbdadm_promote (lib/drbdadm.c) over a
 * real qb_loop, through the real child runner, against scripts/drbdadm_lab (the lab's
 * stand-in for drbdadm: no DRBD kernel module here), through the shared test seam of
 * lib/loop.h (tests/lib/loop_seam.c, SIGCHLD reaper included). Each test writes
 * the lab's simulated DRBD state, runs the driver and reads back the lab's record of
 * every drbdadm call. fence_drbd_check_status, the pure parser, is also fed DRBD 9
 * status texts directly.
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

#include "fencing/fence.h"
#include "fencing/fence_drbd.h"
#include "lib/drbdadm.h"
#include "lib/loop.h"
#include "tests/lib/loop_seam.h"

#define WAIT_MS 10000 /* generous: a stuck operation fails the test, a slow host does not */

extern const struct fence_driver fence_drbd_driver;

static char tmpdir[256];
static char lab[PATH_MAX]; /* scripts/drbdadm_lab */

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- the lab's state and record ---------------------------------------------------- */

static void path_in(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", tmpdir, name);
}

/* Write the lab file state/RES/NAME (text NULL: remove it). */
static void lab_set(const char *res, const char *name, const char *text)
{
	char dir[PATH_MAX], path[PATH_MAX + 64];
	FILE *f;

	snprintf(dir, sizeof(dir), "%s/state/%s", tmpdir, res);
	mkdir(dir, 0700);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
	if (!text)
		return;
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* The whole file (empty if absent), in a static buffer. */
static const char *slurp(const char *name)
{
	static char buf[16384];
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

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
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

/* The pid a hanging lab call wrote, waiting for it (0 if none came). */
static pid_t hang_pid(const char *res)
{
	char name[128];

	snprintf(name, sizeof(name), "state/%s/hang.pid", res);
	for (int i = 0; i < 500; i++) {
		long pid = strtol(slurp(name), NULL, 10);

		if (pid > 0)
			return (pid_t)pid;
		seam_run_for(10);
	}
	return 0;
}

static void wait_gone(pid_t pid)
{
	for (int i = 0; i < 500 && alive(pid); i++)
		usleep(10000);
	assert_false(alive(pid));
}

/* ---- running the driver ------------------------------------------------------------ */

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
	snprintf(d->msg, sizeof(d->msg), "%s", msg);
	seam_stop();
}

static void on_drbdadm(void *opaque, int result, const char *msg, const char *output)
{
	assert_non_null(output);
	on_done(opaque, result, msg);
}

static struct conf_fence dev;
static const struct hax_conf conf; /* the drbd driver needs nothing of it */
static const struct fence_target victim = {.host = "h2", .nodeid = 2};

static void reset_dev(uint64_t timeout_ms)
{
	memset(&dev, 0, sizeof(dev));
	hax_strlcpy(dev.name, "drbd-r0", sizeof(dev.name));
	dev.driver = CONF_FENCE_DRBD;
	dev.timeout_ms = timeout_ms;
	hax_strlcpy(dev.drbdadm, lab, sizeof(dev.drbdadm));
	hax_strlcpy(dev.resource, "r0", sizeof(dev.resource));
}

/* Wait for the one done() of an operation, then check that nothing is left behind. */
static void wait_done(struct done *d)
{
	if (!seam_run_until(&d->calls, 1, WAIT_MS))
		fail_msg("no done() within %d ms", WAIT_MS);
	seam_run_for(20);
	assert_int_equal(d->calls, 1);
	assert_int_equal(seam_timers_armed(), 0);
	assert_int_equal(seam_children_watched(), 0);
	fprintf(stderr, "done(%d): %s\n", d->result, d->msg);
}

static void fence(bool dry_run, struct done *d)
{
	struct fence_op *op = NULL;

	memset(d, 0, sizeof(*d));
	assert_int_equal(fence_drbd_driver.start(&conf, &dev, &victim, dry_run, on_done, d, &op),
			 0);
	assert_non_null(op);
	wait_done(d);
}

static void promote(const char *drbdadm, struct done *d)
{
	struct drbdadm_run *op = NULL;

	memset(d, 0, sizeof(*d));
	assert_int_equal(drbdadm_promote(drbdadm, "r0", on_drbdadm, d, &op), 0);
	assert_non_null(op);
	wait_done(d);
}

/* ---- the driver -------------------------------------------------------------------- */

static void test_registry(void **state)
{
	(void)state;
	assert_ptr_equal(fence_driver_for(CONF_FENCE_DRBD), &fence_drbd_driver);
	assert_string_equal(fence_drbd_driver.name, "drbd");
	assert_non_null(fence_drbd_driver.cancel);
}

static void test_peer_connected_fails(void **state)
{
	struct done d;

	(void)state;
	reset_dev(5000);
	lab_set("r0", "peers", "h2 1 Connected Primary UpToDate\n");
	fence(false, &d);
	assert_int_equal(d.result, -EBUSY);
	assert_non_null(strstr(d.msg, "drbd r0: h2 is still Connected (role Primary)"));
	assert_non_null(strstr(d.msg, "power+drbd"));
	assert_string_equal(slurp("drbdadm.log"), "status r0\n");
}

static void test_peer_down_uptodate_confirmed(void **state)
{
	static const char *const down[] = {"StandAlone",     "Connecting", "Unconnected",
					   "NetworkFailure", "BrokenPipe", "Timeout"};
	char peers[128], want[256];
	struct done d;

	(void)state;
	reset_dev(5000);
	lab_set("r0", "disk", "UpToDate\n");
	for (size_t i = 0; i < sizeof(down) / sizeof(down[0]); i++) {
		snprintf(peers, sizeof(peers), "h3 2 Connected Secondary UpToDate\nh2 1 %s\n",
			 down[i]);
		lab_set("r0", "peers", peers);
		fence(false, &d);
		snprintf(
		    want, sizeof(want),
		    "drbd r0: h2 is %s and the local disk is UpToDate: h2 cannot hold newer data",
		    down[i]);
		assert_int_equal(d.result, 0);
		assert_string_equal(d.msg, want);
	}
	/* Only ever status: the check changes nothing. */
	assert_null(strstr(slurp("drbdadm.log"), "primary"));
	assert_null(strstr(slurp("drbdadm.log"), "outdate"));
}

static void test_local_not_uptodate_fails(void **state)
{
	static const char *const stale[] = {"Outdated", "Inconsistent", "Consistent", "Diskless"};
	char disk[64];
	struct done d;

	(void)state;
	reset_dev(5000);
	lab_set("r0", "peers", "h2 1 StandAlone\n");
	for (size_t i = 0; i < sizeof(stale) / sizeof(stale[0]); i++) {
		snprintf(disk, sizeof(disk), "%s\n", stale[i]);
		lab_set("r0", "disk", disk);
		fence(false, &d);
		assert_int_equal(d.result, -ESTALE);
		assert_non_null(strstr(d.msg, stale[i]));
		assert_non_null(strstr(d.msg, "not UpToDate: h2 may hold newer data"));
	}
}

static void test_resource_unknown_or_down(void **state)
{
	struct done d;

	(void)state;
	reset_dev(5000);
	fence(false, &d); /* no state directory: not in drbd.conf */
	assert_int_equal(d.result, -ENOENT);
	assert_string_equal(d.msg, "drbd r0: drbdadm status failed (exit 1): "
				   "'r0' not defined in your config (for this host).");
	lab_set("r0", "peers", "h2 1 StandAlone\n");
	lab_set("r0", "down", "");
	fence(false, &d);
	assert_int_equal(d.result, -ENXIO);
	assert_string_equal(d.msg,
			    "drbd r0: drbdadm status failed (exit 10): r0: No such resource");
	/* Configured, up, but no connection named after the victim. */
	lab_set("r0", "down", NULL);
	lab_set("r0", "peers", "xen2 1 StandAlone\n");
	fence(false, &d);
	assert_int_equal(d.result, -ENOENT);
	assert_non_null(strstr(d.msg, "no connection named h2"));
}

static void test_hang_times_out(void **state)
{
	uint64_t t0;
	pid_t pid;
	struct done d;

	(void)state;
	reset_dev(500);
	lab_set("r0", "peers", "h2 1 StandAlone\n");
	lab_set("r0", "hang", "");
	t0 = mono_ms();
	fence(false, &d);
	assert_int_equal(d.result, -ETIMEDOUT);
	assert_true(mono_ms() - t0 >= 450);
	assert_true(mono_ms() - t0 < 3000);
	assert_string_equal(d.msg, "drbd r0: drbdadm status gave no answer within 500 ms");
	pid = hang_pid("r0");
	assert_true(pid > 0);
	wait_gone(pid); /* the deadline killed the stuck drbdadm */
}

static void test_dry_run_only_status(void **state)
{
	struct done d;

	(void)state;
	reset_dev(5000);
	/* A state the real check refuses: the dry run asks only whether drbdadm answers. */
	lab_set("r0", "peers", "h2 1 Connected Primary UpToDate\n");
	lab_set("r0", "disk", "Outdated\n");
	fence(true, &d);
	assert_int_equal(d.result, 0);
	assert_string_equal(d.msg, "drbd r0: drbdadm status answers");
	assert_string_equal(slurp("drbdadm.log"), "status r0\n");
	assert_string_equal(slurp("state/r0/disk"), "Outdated\n");
	/* And it fails when drbdadm does not answer. */
	lab_set("r0", "down", "");
	fence(true, &d);
	assert_int_equal(d.result, -ENXIO);
}

static void test_cancel(void **state)
{
	struct fence_op *op = NULL;
	struct done d = {0};
	pid_t pid;

	(void)state;
	reset_dev(60000);
	lab_set("r0", "hang", "status\n");
	assert_int_equal(fence_drbd_driver.start(&conf, &dev, &victim, false, on_done, &d, &op), 0);
	pid = hang_pid("r0");
	assert_true(pid > 0 && alive(pid));
	fence_drbd_driver.cancel(op);
	fence_drbd_driver.cancel(NULL);
	wait_gone(pid);
	seam_run_for(200);
	assert_int_equal(d.calls, 0);
	assert_int_equal(seam_timers_armed(), 0);
	assert_int_equal(seam_children_watched(), 0);
	/* Cancelled before drbdadm even started: nothing runs. */
	assert_int_equal(fence_drbd_driver.start(&conf, &dev, &victim, false, on_done, &d, &op), 0);
	fence_drbd_driver.cancel(op);
	seam_run_for(200);
	assert_int_equal(d.calls, 0);
	assert_int_equal(seam_timers_armed(), 0);
}

static void test_bad_input(void **state)
{
	static const char *const bad[] = {"", "-r0", "r 0", "--force"};
	struct fence_target nobody = {.host = "", .nodeid = 2};
	struct drbdadm_run *run = NULL;
	struct fence_op *op = NULL;
	struct done d = {0};

	(void)state;
	reset_dev(5000);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		hax_strlcpy(dev.resource, bad[i], sizeof(dev.resource));
		assert_int_equal(
		    fence_drbd_driver.start(&conf, &dev, &victim, false, on_done, &d, &op),
		    -EINVAL);
		assert_int_equal(drbdadm_promote(lab, bad[i], on_drbdadm, &d, &run), -EINVAL);
	}
	reset_dev(5000);
	assert_int_equal(fence_drbd_driver.start(&conf, &dev, &nobody, false, on_done, &d, &op),
			 -EINVAL);
	hax_strlcpy(dev.drbdadm, "drbdadm", sizeof(dev.drbdadm));
	assert_int_equal(fence_drbd_driver.start(&conf, &dev, &victim, false, on_done, &d, &op),
			 -EINVAL);
	dev.timeout_ms = 0;
	assert_int_equal(fence_drbd_driver.start(&conf, &dev, &victim, false, on_done, &d, &op),
			 -EINVAL);
	assert_null(op);
	/* A missing drbdadm reaches done() with a reason, from the loop. */
	reset_dev(5000);
	hax_strlcpy(dev.drbdadm, "/nonexistent/drbdadm", sizeof(dev.drbdadm));
	fence(false, &d);
	assert_int_equal(d.result, -ENOENT);
	assert_string_equal(d.msg,
			    "drbd r0: cannot run /nonexistent/drbdadm: No such file or directory");
	assert_int_equal(slurp("drbdadm.log")[0], '\0');
}

/* ---- promotion --------------------------------------------------------------------- */

static void test_promote_once(void **state)
{
	struct done d;

	(void)state;
	lab_set("r0", "role", "Secondary\n");
	lab_set("r0", "peers", "h2 1 StandAlone\n");
	promote(lab, &d);
	assert_int_equal(d.result, 0);
	assert_string_equal(d.msg, "drbd r0: Primary on this host");
	/* Exactly one drbdadm call: primary r0. */
	assert_string_equal(slurp("drbdadm.log"), "primary r0\n");
	assert_string_equal(slurp("state/r0/role"), "Primary\n");
}

static void test_promote_refused(void **state)
{
	struct done d;

	(void)state;
	lab_set("r0", "disk", "Outdated\n");
	lab_set("r0", "peers", "h2 1 StandAlone\n");
	promote(lab, &d);
	assert_int_equal(d.result, -EPERM);
	assert_string_equal(d.msg, "drbd r0: drbdadm primary failed (exit 11): "
				   "r0: State change failed: (-2) Need access to UpToDate data");
	lab_set("r0", "disk", "UpToDate\n");
	lab_set("r0", "peers", "h2 1 Connected Primary UpToDate\n");
	promote(lab, &d);
	assert_int_equal(d.result, -EPERM);
	assert_non_null(strstr(d.msg, "(-1) Multiple primaries not allowed by config"));
	assert_string_equal(slurp("drbdadm.log"), "primary r0\nprimary r0\n");
	assert_null(strstr(slurp("state/r0/role"), "Primary"));
}

/* NULL names the default path; this machine has no DRBD, so it cannot run. */
static void test_promote_default_path(void **state)
{
	struct done d;

	(void)state;
	if (access(DRBDADM_DEFAULT_PATH, X_OK) == 0)
		skip();
	promote(NULL, &d);
	assert_int_equal(d.result, -ENOENT);
	assert_string_equal(d.msg, "drbd r0: cannot run " DRBDADM_DEFAULT_PATH
				   ": No such file or directory");
}

/* ---- the status parser (pure) ------------------------------------------------------ */

static int check(const char *out, const char *peer, char *why)
{
	return fence_drbd_check_status(out, "r0", peer, why, 400);
}

static void test_check_status_texts(void **state)
{
	char why[400];

	(void)state;
	/* Two volumes, one of them Inconsistent (a resync target when the link broke). */
	assert_int_equal(check("r0 role:Secondary\n"
			       "  volume:0 disk:UpToDate\n"
			       "  volume:1 disk:Inconsistent\n"
			       "  h2 connection:Connecting\n\n",
			       "h2", why),
			 -ESTALE);
	assert_non_null(strstr(why, "Inconsistent"));
	assert_int_equal(check("r0 role:Primary suspended:fencing\n"
			       "  volume:0 disk:UpToDate\n"
			       "  volume:1 disk:UpToDate quorum:no\n"
			       "  h2 connection:StandAlone\n\n",
			       "h2", why),
			 0);
	/* --verbose style: node-id, minor, an explicit connection:Connected. */
	assert_int_equal(check("r0 node-id:0 role:Secondary suspended:no\n"
			       "  volume:0 minor:0 disk:UpToDate quorum:yes\n"
			       "      size:1048576 read:0 written:0\n"
			       "  h2 node-id:1 connection:Connected role:Primary congested:no\n"
			       "    volume:0 replication:Established peer-disk:UpToDate\n\n",
			       "h2", why),
			 -EBUSY);
	/* Another resource's state does not count; r0 is the second one listed. */
	assert_int_equal(
	    check("r1 role:Secondary\n  disk:Outdated\n  h2 role:Primary\n"
		  "    peer-disk:UpToDate\n\n"
		  "r0 role:Secondary\n  disk:UpToDate\n  h2 connection:Unconnected\n\n",
		  "h2", why),
	    0);
	/* A resource whose name starts like ours is not ours. */
	assert_int_equal(
	    check("r01 role:Secondary\n  disk:UpToDate\n  h2 connection:StandAlone\n", "h2", why),
	    -ENOENT);
	/* A peer whose name starts like the victim's is not the victim. */
	assert_int_equal(
	    check("r0 role:Secondary\n  disk:UpToDate\n  h22 connection:StandAlone\n", "h2", why),
	    -ENOENT);
	/* A connection known only by node-id cannot be matched to the victim. */
	assert_int_equal(
	    check("r0 role:Secondary\n  disk:UpToDate\n  node-id:1 connection:StandAlone\n", "h2",
		  why),
	    -ENOENT);
	/* An unknown connection state is not taken for "down". */
	assert_int_equal(
	    check("r0 role:Secondary\n  disk:UpToDate\n  h2 connection:Weird\n", "h2", why),
	    -EPROTO);
	assert_int_equal(check("r0 role:Secondary\n  h2 connection:StandAlone\n", "h2", why),
			 -EPROTO);
	assert_int_equal(check("", "h2", why), -ENOENT);
	assert_int_equal(check("# No currently configured DRBD found.\n", "h2", why), -ENOENT);
}

/* ---- setup ------------------------------------------------------------------------- */

static int per_test(void **state)
{
	char path[PATH_MAX];

	(void)state;
	path_in(path, sizeof(path), "state");
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	mkdir(path, 0700);
	path_in(path, sizeof(path), "drbdadm.log");
	unlink(path);
	return 0;
}

static int group_setup(void **state)
{
	const char *t = getenv("TMPDIR");
	char path[PATH_MAX];

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "%s/hax-fencing-drbd.XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(tmpdir))
		return -1;
	path_in(path, sizeof(path), "state");
	setenv("DRBDADM_LAB_STATE", path, 1);
	path_in(path, sizeof(path), "drbdadm.log");
	setenv("DRBDADM_LAB_LOG", path, 1);
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
	    cmocka_unit_test_setup(test_registry, per_test),
	    cmocka_unit_test_setup(test_peer_connected_fails, per_test),
	    cmocka_unit_test_setup(test_peer_down_uptodate_confirmed, per_test),
	    cmocka_unit_test_setup(test_local_not_uptodate_fails, per_test),
	    cmocka_unit_test_setup(test_resource_unknown_or_down, per_test),
	    cmocka_unit_test_setup(test_hang_times_out, per_test),
	    cmocka_unit_test_setup(test_dry_run_only_status, per_test),
	    cmocka_unit_test_setup(test_cancel, per_test),
	    cmocka_unit_test_setup(test_bad_input, per_test),
	    cmocka_unit_test_setup(test_promote_once, per_test),
	    cmocka_unit_test_setup(test_promote_refused, per_test),
	    cmocka_unit_test_setup(test_promote_default_path, per_test),
	    cmocka_unit_test_setup(test_check_status_texts, per_test),
	};
	const char *src = getenv("HAX_SOURCE");

	if (!src || !*src) {
		printf("skipped: HAX_SOURCE must name the source tree (scripts/drbdadm_lab)\n");
		return 77;
	}
	snprintf(lab, sizeof(lab), "%s/scripts/drbdadm_lab", src);
	if (access(lab, X_OK) != 0) {
		printf("skipped: %s is not executable\n", lab);
		return 77;
	}
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
