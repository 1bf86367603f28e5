/*
 * The xl hypervisor driver (agent/hv_xl.c) against the lab stand-in for xl
 * (scripts/xl_lab), which keeps domains as hax-guest processes on plain-file disks and
 * speaks xl's formats. Two stand-in "hosts" are two state directories, h1 and h2; each
 * driver runs its host's xl through a small wrapper that names the directory, and xl
 * migrate reaches the other host through scripts/xl_lab_ssh (XL_LAB_SSH_HOSTS mode).
 * A real qb_loop drives the driver (tests/lib/loop_seam.c).
 *
 * Needs python3 (the stand-in) and HAX_GUEST, HAX_SOURCE, HAX_BUILD (meson sets them).
 * Every process this test started (guests, stand-in helpers) names this test's private
 * directory on its command line: teardown kills those by pid.
 */
#include <dirent.h>
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

#include "agent/hv.h"
#include "lib/loop.h"
#include "tests/lib/loop_seam.h"

#define WAIT_MS 20000	   /* generous: a stuck operation fails the test, a slow host does not */
#define GRACE_WAIT_MS 6000 /* past the driver's absence grace (5 s) */

static char tmpdir[128];
static const char *src, *build, *guest;
static const struct hv_ops *xl;

/* ---- the loop ---------------------------------------------------------------------- */

struct done {
	int calls;
	int result;
	char msg[256];
	char phases[8][16];
	int nphases;
};

static void on_done(void *opaque, int result, const char *msg)
{
	struct done *d = opaque;

	d->calls++;
	d->result = result;
	hax_strlcpy(d->msg, msg ? msg : "", sizeof(d->msg));
	seam_stop();
}

static void on_progress(void *opaque, const struct hv_migrate_progress *p)
{
	struct done *d = opaque;

	if (d->nphases < 8)
		hax_strlcpy(d->phases[d->nphases++], p->phase, sizeof(d->phases[0]));
}

struct listing {
	int calls;
	int result;
	size_t n;
	struct hv_domain_info doms[8];
};

static void on_list(void *opaque, int result, const struct hv_domain_info *doms, size_t n)
{
	struct listing *l = opaque;

	l->calls++;
	l->result = result;
	l->n = n;
	memcpy(l->doms, doms, (n < 8 ? n : 8) * sizeof(*doms));
	seam_stop();
}

static void wait_done(struct done *d)
{
	if (!seam_run_until(&d->calls, 1, WAIT_MS))
		fail_msg("no completion within %d ms", WAIT_MS);
	assert_int_equal(d->calls, 1);
}

static void list_now(struct hv *hv, struct listing *l)
{
	memset(l, 0, sizeof(*l));
	assert_int_equal(xl->list(hv, on_list, l), 0);
	if (!seam_run_until(&l->calls, 1, WAIT_MS))
		fail_msg("no listing within %d ms", WAIT_MS);
	assert_int_equal(l->result, 0);
}

static const struct hv_domain_info *listed(const struct listing *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->doms[i].name, name) == 0)
			return &l->doms[i];
	return NULL;
}

/* ---- files and processes ----------------------------------------------------------- */

static void write_text(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* Run a shell command line (the stand-in by hand); its exit status. */
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* A stand-in host: its xl state directory, host.conf and an xl wrapper naming it. */
static void make_host(const char *h, const char *extra_conf)
{
	char path[PATH_MAX], text[2048];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, h);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/%s/host.conf", tmpdir, h);
	snprintf(text, sizeof(text),
		 "initiator = iqn.2026-01.org.hax.test:%s\nmemory = 2048\ndom0_memory = 512\n"
		 "cpus = 4\nguest = %s\ncopy_ms_per_gib = 8000\n%s",
		 h, guest, extra_conf);
	write_text(path, text, 0600);
	snprintf(path, sizeof(path), "%s/%s.xl", tmpdir, h);
	/* each call's arguments in HOST/calls, for tests that count them */
	snprintf(text, sizeof(text),
		 "#!/bin/sh\necho \"$*\" >>%s/%s/calls\nXL_LAB_DIR=%s/%s exec %s/scripts/xl_lab "
		 "\"$@\"\n",
		 tmpdir, h, tmpdir, h, src);
	write_text(path, text, 0700);
	snprintf(path, sizeof(path), "%s/state-%s", tmpdir, h);
	assert_int_equal(mkdir(path, 0700), 0);
}

/* A 1 MiB disk and a PVH definition for it; extra lines appended. */
static void make_def(const char *name, const char *more, char *def, size_t len)
{
	char path[sizeof(tmpdir) + HAX_NAME_MAX + 8];
	int fd;

	snprintf(path, sizeof(path), "%s/%s.img", tmpdir, name);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 1024 * 1024), 0);
	close(fd);
	snprintf(def, len,
		 "# a test domain\nname = \"ignored-hax-sets-it\"\ntype = \"pvh\"\n"
		 "kernel = \"/boot/vmlinuz\"\nmemory = 128\nmaxmem = 256\nvcpus = 1\n"
		 "disk = [ 'format=raw, vdev=xvda, access=rw, target=%s' ]\n"
		 "extra = \"console=hvc0 hax.interval=20ms\"\n%s",
		 path, more);
}

/* The NUL-separated command line of pid (0 bytes if gone). */
static size_t cmdline(pid_t pid, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/cmdline", (long)pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return (size_t)n;
}

static char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

static bool alive(pid_t pid)
{
	char s = proc_state(pid);

	return s && s != 'Z' && s != 'X';
}

/* True if argument opt of pid's command line is val. */
static bool has_opt(pid_t pid, const char *opt, const char *val)
{
	char buf[4096];
	size_t n = cmdline(pid, buf, sizeof(buf));
	const char *p;

	for (p = buf; p < buf + n; p += strlen(p) + 1)
		if (strcmp(p, opt) == 0 && p + strlen(p) + 1 < buf + n)
			return strcmp(p + strlen(p) + 1, val) == 0;
	return false;
}

/* The live hax-guest of domain name whose --initiator names host h (0 = none). */
static pid_t guest_of(const char *name, const char *h)
{
	char iqn[128];
	struct dirent *de;
	pid_t found = 0;
	DIR *d = opendir("/proc");

	snprintf(iqn, sizeof(iqn), "iqn.2026-01.org.hax.test:%s", h);
	while (d && (de = readdir(d))) {
		pid_t pid = (pid_t)atol(de->d_name);
		char buf[4096];
		size_t n;

		if (pid <= 1 || !alive(pid))
			continue;
		n = cmdline(pid, buf, sizeof(buf));
		if (n && memmem(buf, n, "hax-guest", 9) && memmem(buf, n, tmpdir, strlen(tmpdir)) &&
		    has_opt(pid, "--domain", name) && has_opt(pid, "--initiator", iqn))
			found = pid;
	}
	if (d)
		closedir(d);
	return found;
}

/* Every process that names this test's directory: guests, stand-in helpers. */
static int kill_ours(void)
{
	struct dirent *de;
	int n = 0;
	DIR *d = opendir("/proc");

	while (d && (de = readdir(d))) {
		pid_t pid = (pid_t)atol(de->d_name);
		char buf[4096];
		size_t len;

		if (pid <= 1 || pid == getpid())
			continue;
		len = cmdline(pid, buf, sizeof(buf));
		if (len && memmem(buf, len, tmpdir, strlen(tmpdir)) && kill(pid, SIGKILL) == 0)
			n++;
	}
	if (d)
		closedir(d);
	return n;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* ---- the driver ------------------------------------------------------------------- */

static struct hv *hv_up(const char *h, uint32_t nodeid)
{
	char dir[PATH_MAX], prog[PATH_MAX], ssh[PATH_MAX + 64], err[256] = "";
	struct hv_host host = {
	    .state_dir = dir,
	    .host_name = h,
	    .nodeid = nodeid,
	    .iqn = "unused-by-xl",
	    .xl = prog,
	    .xl_migrate_ssh = ssh,
	};
	struct hv *hv = NULL;
	int r;

	snprintf(dir, sizeof(dir), "%s/state-%s", tmpdir, h);
	snprintf(prog, sizeof(prog), "%s/%s.xl", tmpdir, h);
	snprintf(ssh, sizeof(ssh),
		 "%s/scripts/xl_lab_ssh -o ConnectTimeout=5 -o ServerAliveInterval=2", src);
	r = xl->init(&hv, &host, err, sizeof(err));
	if (r != 0)
		fail_msg("init: %d %s", r, err);
	return hv;
}

static void start_ok(struct hv *hv, const char *name, const char *def, uint64_t inc, uint32_t mem)
{
	struct hv_start req = {
	    .name = name,
	    .definition = def,
	    .incarnation = inc,
	    .memory_mib = mem,
	    .vcpus = 1,
	};
	struct done d = {0};

	assert_int_equal(xl->start(hv, &req, on_done, &d), 0);
	assert_int_equal(d.calls, 0);
	wait_done(&d);
	if (d.result != 0)
		fail_msg("start %s: %d %s", name, d.result, d.msg);
}

static void stop_ok(struct hv *hv, const char *name, uint64_t timeout_ms)
{
	struct done d = {0};

	assert_int_equal(xl->stop(hv, name, timeout_ms, on_done, &d), 0);
	wait_done(&d);
	if (d.result != 0)
		fail_msg("stop %s: %d %s", name, d.result, d.msg);
}

static void destroy_ok(struct hv *hv, const char *name)
{
	struct done d = {0};

	assert_int_equal(xl->destroy(hv, name, on_done, &d), 0);
	wait_done(&d);
	if (d.result != 0)
		fail_msg("destroy %s: %d %s", name, d.result, d.msg);
}

static void prepare_ok(struct hv *hv, const char *name, const char *def, uint64_t inc)
{
	struct hv_migrate_in in = {
	    .name = name,
	    .definition = def,
	    .incarnation = inc,
	    .memory_mib = 128,
	    .vcpus = 1,
	    .source_host = "h1",
	    .listen_addr = "127.0.0.1",
	};
	struct done d = {0};

	assert_int_equal(xl->migrate_prepare(hv, &in, on_done, &d), 0);
	assert_int_equal(d.calls, 0);
	wait_done(&d);
	assert_int_equal(d.result, 0);
	assert_string_equal(d.msg, "");
}

static void send(struct hv *hv, const char *name, const char *to, uint64_t timeout_ms,
		 struct done *d)
{
	struct hv_migrate_out out = {
	    .name = name,
	    .incarnation = 11,
	    .target_host = to,
	    .target_addr = "127.0.0.1",
	    .uri = "",
	    .timeout_ms = timeout_ms,
	};

	memset(d, 0, sizeof(*d));
	assert_int_equal(xl->migrate_send(hv, &out, on_progress, on_done, d), 0);
	wait_done(d);
}

/* ---- tests ------------------------------------------------------------------------- */

static void test_registry(void **unused)
{
	char err[160] = "";

	(void)unused;
	/* (the registry, agent/hv.c, is left out: it would pull in every driver) */
	assert_string_equal(hv_xl_ops.name, "xl");
	assert_true(hv_xl_ops.live_migration);
	assert_non_null(hv_xl_ops.migrate_prepare);
	assert_non_null(hv_xl_ops.migrate_send);
	assert_int_equal(
	    xl->validate("memory = 512\nvcpus = 2\ncpu_weight = 256\n", err, sizeof(err)), 0);
	assert_int_equal(xl->validate("memory = 12x\n", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "memory: expected a whole number 1..16777216, not \"12x\"");
	assert_int_equal(xl->validate("memory = lots\n", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "line 1: expected a value after '='");
}

static void test_init_errors(void **unused)
{
	struct hv_host host = {
	    .state_dir = tmpdir, .host_name = "h1", .nodeid = 1, .xl = "/nonexistent/xl"};
	struct hv *hv = NULL;
	char err[256] = "";

	(void)unused;
	assert_int_equal(xl->init(&hv, &host, err, sizeof(err)), -ENOENT);
	assert_null(hv);
	assert_non_null(strstr(err, "/nonexistent/xl"));
	host.state_dir = "/nonexistent/state";
	host.xl = NULL;
	assert_true(xl->init(&hv, &host, err, sizeof(err)) < 0);
	xl->fini(NULL);
}

/* Start: the definition gets hax's name and kernel parameters, the scheduler settings
 * and hax's memory are applied; inventory and capacity come from xl; stop is graceful. */
static void test_start_list_stop(void **unused)
{
	const struct hv_domain_info *info;
	struct hv_capacity cap = {0};
	struct listing l;
	struct hv *hv;
	char def[2048], path[PATH_MAX];
	pid_t pid;

	(void)unused;
	make_host("h1", "");
	hv = hv_up("h1", 1);
	make_def("web", "cpu_weight = 512\ncap = 50\n", def, sizeof(def));
	start_ok(hv, "web", def, 7, 96);
	pid = guest_of("web", "h1");
	assert_true(pid > 0);
	assert_true(has_opt(pid, "--incarnation", "7"));
	assert_true(has_opt(pid, "--nodeid", "1"));
	list_now(hv, &l);
	assert_int_equal(l.n, 1);
	info = listed(&l, "web");
	assert_non_null(info);
	assert_int_equal(info->state, HV_RUNNING);
	assert_int_equal(info->incarnation, 7);
	assert_int_equal(info->memory_mib, 96); /* hax's figure, by xl mem-set 96m */
	assert_int_equal(info->vcpus, 1);
	assert_int_equal(xl->capacity(hv, &cap), 0);
	assert_int_equal(cap.mem_total_mib, 2048 - 512);
	assert_int_equal(cap.vcpus, 4);
	assert_int_equal(sh("%s/h1.xl list -l web | grep -q '\"weight\": 512'", tmpdir), 0);
	assert_int_equal(sh("%s/h1.xl list -l web | grep -q '\"cap\": 50'", tmpdir), 0);
	snprintf(path, sizeof(path), "%s/state-h1/xl/web.cfg", tmpdir);
	assert_int_equal(sh("grep -q '^extra = \"console=hvc0 hax.interval=20ms "
			    "hax.incarnation=7 hax.nodeid=1\"' %s && grep -q '^name = \"web\"' %s",
			    path, path),
			 0);
	stop_ok(hv, "web", 10000);
	assert_false(alive(pid));
	list_now(hv, &l);
	assert_int_equal(l.n, 0);
	snprintf(path, sizeof(path), "%s/state-h1/xl/web.json", tmpdir);
	assert_int_equal(access(path, F_OK), -1);
	/* stopping what does not run is done at once, and starting twice is refused */
	stop_ok(hv, "web", 1000);
	xl->fini(hv);
	assert_int_equal(seam_children_watched(), 0);
	assert_int_equal(seam_timers_armed(), 0);
}

static void test_start_failures(void **unused)
{
	struct hv_start req = {.name = "big", .incarnation = 1, .vcpus = 1};
	struct done d = {0};
	struct hv *hv;
	char def[2048], big[2100];

	(void)unused;
	make_host("h1", "");
	hv = hv_up("h1", 1);
	/* more memory than the host has: xl's own error comes back */
	make_def("big", "", def, sizeof(def));
	snprintf(big, sizeof(big), "%smemory = 4096\nmaxmem = 4096\n", def);
	req.definition = big;
	assert_int_equal(xl->start(hv, &req, on_done, &d), 0);
	wait_done(&d);
	assert_int_equal(d.result, -EIO);
	assert_non_null(strstr(d.msg, "cannot (re-)build domain"));
	/* a disk that is not there */
	memset(&d, 0, sizeof(d));
	req.definition = "memory = 64\ndisk = [ '/nonexistent.img,xvda,w' ]\n";
	assert_int_equal(xl->start(hv, &req, on_done, &d), 0);
	wait_done(&d);
	assert_int_equal(d.result, -EIO);
	assert_true(d.msg[0] != '\0');
	/* busy while starting; a second start of a running domain is -EEXIST */
	memset(&d, 0, sizeof(d));
	req.definition = def;
	assert_int_equal(xl->start(hv, &req, on_done, &d), 0);
	assert_int_equal(xl->start(hv, &req, on_done, &d), -EBUSY);
	wait_done(&d);
	assert_int_equal(d.result, 0);
	memset(&d, 0, sizeof(d));
	assert_int_equal(xl->start(hv, &req, on_done, &d), 0);
	wait_done(&d);
	assert_int_equal(d.result, -EEXIST);
	req.definition = "memory = 0\n";
	assert_int_equal(xl->start(hv, &req, on_done, &d), -EINVAL);
	req.name = "bad name";
	assert_int_equal(xl->start(hv, &req, on_done, &d), -EINVAL);
	destroy_ok(hv, "big");
	xl->fini(hv);
}

/* An HVM guest without PV drivers and without ACPI: xl shutdown is refused, -F is
 * ignored; the domain is destroyed at the deadline. */
static void test_stop_ignored_then_destroyed(void **unused)
{
	struct listing l;
	struct hv *hv;
	char def[2048];
	pid_t pid;

	(void)unused;
	make_host("h1", "");
	hv = hv_up("h1", 1);
	make_def("old", "type = \"hvm\"\nxen_platform_pci = 0\nacpi = 0\n", def, sizeof(def));
	start_ok(hv, "old", def, 3, 128);
	pid = guest_of("old", "h1");
	assert_true(pid > 0);
	seam_log[0] = '\0';
	stop_ok(hv, "old", 1500);
	/* xl shutdown was refused, xl shutdown -F accepted and ignored */
	assert_null(strstr(seam_log, "refused a graceful shutdown"));
	assert_non_null(strstr(seam_log, "old did not shut down in time: destroying it"));
	assert_false(alive(pid));
	list_now(hv, &l);
	assert_int_equal(l.n, 0);
	xl->fini(hv);
}

/* xl shutdown (without -w) blocks until the guest acknowledges, which a paused guest
 * never does: the driver must not wait for it past the stop deadline. */
static void test_stop_unacknowledged(void **unused)
{
	struct timespec t0, t1;
	struct listing l;
	struct hv *hv;
	char def[2048];
	pid_t pid;
	double secs;

	(void)unused;
	make_host("h1", "");
	hv = hv_up("h1", 1);
	make_def("stuck", "", def, sizeof(def));
	start_ok(hv, "stuck", def, 4, 128);
	pid = guest_of("stuck", "h1");
	assert_true(pid > 0);
	assert_int_equal(sh("%s/h1.xl pause stuck", tmpdir), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	stop_ok(hv, "stuck", 2000);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	/* a bound on behaviour (deadline 2 s, xl's own wait 61 s), not a performance figure */
	if (secs > 15.0)
		fail_msg("stop with a 2 s deadline took %.1f s: it waited for xl shutdown", secs);
	assert_false(alive(pid));
	list_now(hv, &l);
	assert_int_equal(l.n, 0);
	xl->fini(hv);
}

/* A reboot shows the domain "---sr-", then takes it out of xl list for a moment
 * (XL_LAB_REBOOT_GAP): it is never
 * reported gone. A domain destroyed behind hax's back is, after the grace. */
static void test_absent_briefly(void **unused)
{
	const struct hv_domain_info *info;
	struct listing l;
	struct hv *hv;
	char def[2048];
	int i;

	(void)unused;
	make_host("h1", "");
	hv = hv_up("h1", 1);
	make_def("app", "", def, sizeof(def));
	start_ok(hv, "app", def, 5, 128);
	list_now(hv, &l);
	assert_non_null(listed(&l, "app"));
	assert_int_equal(sh("XL_LAB_REBOOT_GAP=2 %s/h1.xl reboot app 2>/dev/null", tmpdir), 0);
	/* Real xl first shows the domain shut down with reason reboot ("---sr-"): the same
	 * domain on the same host, not one that stopped. */
	assert_int_equal(sh("%s/h1.xl list app | grep -q -- '---sr-'", tmpdir), 0);
	list_now(hv, &l);
	info = listed(&l, "app");
	assert_non_null(info);
	assert_int_equal(info->state, HV_RUNNING);
	for (i = 0; i < 100 && sh("%s/h1.xl list app >/dev/null 2>&1", tmpdir) == 0; i++)
		usleep(50000);
	assert_int_equal(sh("%s/h1.xl list app >/dev/null 2>&1", tmpdir), 1);
	list_now(hv, &l);
	info = listed(&l, "app");
	assert_non_null(info);
	assert_int_equal(info->state, HV_RUNNING);
	assert_int_equal(info->incarnation, 5);
	for (i = 0; i < 100 && sh("%s/h1.xl list app >/dev/null 2>&1", tmpdir) != 0; i++)
		usleep(100000);
	list_now(hv, &l);
	info = listed(&l, "app");
	assert_non_null(info);
	assert_int_equal(info->incarnation, 5); /* the same command line after the reboot */
	assert_int_equal(sh("%s/h1.xl destroy app", tmpdir), 0);
	list_now(hv, &l);
	assert_non_null(listed(&l, "app"));
	seam_run_for(GRACE_WAIT_MS);
	list_now(hv, &l);
	assert_null(listed(&l, "app"));
	xl->fini(hv);
}

static void test_pause(void **unused)
{
	struct listing l;
	struct hv *hv;
	char def[2048];
	pid_t pid;
	int i;

	(void)unused;
	make_host("h1", "");
	hv = hv_up("h1", 1);
	assert_int_equal(xl->pause(hv, "nothing", true), -ENOENT);
	make_def("frz", "", def, sizeof(def));
	start_ok(hv, "frz", def, 2, 128);
	list_now(hv, &l);
	assert_int_equal(xl->pause(hv, "frz", true), 0);
	pid = guest_of("frz", "h1");
	for (i = 0; i < 200 && proc_state(pid) != 'T'; i++)
		seam_run_for(50);
	assert_int_equal(proc_state(pid), 'T');
	list_now(hv, &l);
	assert_int_equal(listed(&l, "frz")->state, HV_PAUSED);
	assert_int_equal(xl->pause(hv, "frz", false), 0);
	for (i = 0; i < 200 && proc_state(pid) == 'T'; i++)
		seam_run_for(50);
	list_now(hv, &l);
	assert_int_equal(listed(&l, "frz")->state, HV_RUNNING);
	destroy_ok(hv, "frz");
	xl->fini(hv);
}

/* A live migration h1 -> h2: phases in order, the guest continues on h2 with the same
 * incarnation and the nodeid of its command line, h1 has nothing left, the journal
 * shows one incarnation and no second writer. */
static void test_migrate(void **unused)
{
	const struct hv_domain_info *info;
	struct listing l;
	struct hv *h1, *h2;
	struct done d;
	char def[2048];
	pid_t src_pid, dst_pid;
	int i;

	(void)unused;
	make_host("h1", "");
	make_host("h2", "");
	h1 = hv_up("h1", 1);
	h2 = hv_up("h2", 2);
	make_def("mig", "", def, sizeof(def));
	start_ok(h1, "mig", def, 11, 128);
	src_pid = guest_of("mig", "h1");
	seam_run_for(300); /* a few journal records on h1 */
	prepare_ok(h2, "mig", def, 11);
	/* from the prepare on, the target lists the domain as incoming (hv.h) */
	list_now(h2, &l);
	info = listed(&l, "mig");
	assert_non_null(info);
	assert_int_equal(info->state, HV_INCOMING);
	assert_int_equal(info->incarnation, 11);
	send(h1, "mig", "h2", 60000, &d);
	if (d.result != 0)
		fail_msg("migrate: %d %s", d.result, d.msg);
	assert_true(d.nphases >= 2);
	assert_string_equal(d.phases[0], "connecting");
	assert_string_equal(d.phases[d.nphases - 1], "completing");
	for (i = 0; i < d.nphases && strcmp(d.phases[i], "copying") != 0; i++)
		;
	assert_true(i < d.nphases); /* the copy takes about a second */
	assert_false(alive(src_pid));
	dst_pid = guest_of("mig", "h2");
	assert_true(dst_pid > 0);
	assert_true(has_opt(dst_pid, "--incarnation", "11"));
	assert_true(has_opt(dst_pid, "--nodeid", "1"));
	list_now(h1, &l);
	assert_null(listed(&l, "mig"));
	list_now(h2, &l);
	info = listed(&l, "mig");
	assert_non_null(info);
	assert_int_equal(info->state, HV_RUNNING);
	assert_int_equal(info->incarnation, 11);
	seam_run_for(300);
	destroy_ok(h2, "mig");
	assert_int_equal(
	    sh("%s/hax-journal-check %s/mig.img >%s/check.out 2>&1", build, tmpdir, tmpdir), 0);
	assert_int_equal(sh("grep -q '1 incarnations, 0 violations' %s/check.out", tmpdir), 0);
	xl->fini(h1);
	xl->fini(h2);
}

/* The target cannot build the domain: the migration fails before the handshake and
 * the domain still runs (not stopped) at the source; the target has nothing. */
static void test_migrate_fails_before_handshake(void **unused)
{
	struct listing l;
	struct hv *h1, *h2;
	struct done d;
	char def[2048];
	pid_t pid;

	(void)unused;
	make_host("h1", "");
	make_host("h2", "");
	assert_int_equal(sh("echo receive-refuse >%s/h2/faults", tmpdir), 0);
	h1 = hv_up("h1", 1);
	h2 = hv_up("h2", 2);
	make_def("ref", "", def, sizeof(def));
	start_ok(h1, "ref", def, 4, 128);
	pid = guest_of("ref", "h1");
	prepare_ok(h2, "ref", def, 4);
	send(h1, "ref", "h2", 60000, &d);
	assert_int_equal(d.result, -EIO);
	assert_non_null(strstr(d.msg, "Migration failed, resuming at sender."));
	assert_non_null(strstr(d.msg, "still runs here"));
	assert_true(alive(pid));
	assert_true(proc_state(pid) != 'T');
	list_now(h1, &l);
	assert_int_equal(listed(&l, "ref")->state, HV_RUNNING);
	list_now(h2, &l); /* the abandoned receive: an incoming leftover until destroyed */
	assert_int_equal(listed(&l, "ref")->state, HV_INCOMING);
	destroy_ok(h2, "ref");
	list_now(h2, &l);
	assert_null(listed(&l, "ref"));
	/* an unreachable target is the same kind of failure */
	send(h1, "ref", "h9", 60000, &d);
	assert_int_equal(d.result, -EIO);
	assert_true(alive(pid) && proc_state(pid) != 'T');
	/* a receiver that dies halfway through the transfer: the guest never stopped for
	 * long, it runs on at the source */
	assert_int_equal(sh("echo receive-break >%s/h2/faults", tmpdir), 0);
	send(h1, "ref", "h2", 60000, &d);
	assert_int_equal(d.result, -EIO);
	assert_non_null(strstr(d.msg, "Migration failed, resuming at sender."));
	assert_true(alive(pid) && proc_state(pid) != 'T');
	list_now(h2, &l); /* the dead receiver's paused copy: a leftover for destroy */
	assert_int_equal(listed(&l, "ref")->state, HV_INCOMING);
	destroy_ok(h1, "ref");
	destroy_ok(h2, "ref");
	xl->fini(h1);
	xl->fini(h2);
}

/* The target dies right after the go: "failed during final handshake". The outcome is
 * unknown to xl (-EPROTO); the source keeps a suspended NAME--migratedaway, the target a
 * paused NAME--incoming; neither runs; destroy removes both leftovers. */
static void test_migrate_handshake_failure(void **unused)
{
	const struct hv_domain_info *info;
	struct listing l;
	struct hv *h1, *h2;
	struct done d;
	char def[2048];
	pid_t pid;

	(void)unused;
	make_host("h1", "");
	make_host("h2", "");
	assert_int_equal(sh("echo receive-die-after-go >%s/h2/faults", tmpdir), 0);
	h1 = hv_up("h1", 1);
	h2 = hv_up("h2", 2);
	make_def("hs", "", def, sizeof(def));
	start_ok(h1, "hs", def, 9, 128);
	pid = guest_of("hs", "h1");
	prepare_ok(h2, "hs", def, 9);
	send(h1, "hs", "h2", 60000, &d);
	assert_int_equal(d.result, -EPROTO);
	assert_non_null(strstr(d.msg, "final handshake"));
	assert_int_equal(proc_state(pid), 'T'); /* suspended, not running */
	assert_int_equal(guest_of("hs", "h2"), 0);
	list_now(h1, &l);
	info = listed(&l, "hs");
	assert_non_null(info);
	assert_int_equal(info->state, HV_MIGRATED);
	assert_int_equal(info->incarnation, 9);
	list_now(h2, &l);
	info = listed(&l, "hs");
	assert_non_null(info);
	assert_int_equal(info->state, HV_INCOMING);
	assert_int_equal(info->incarnation, 9);
	destroy_ok(h1, "hs");
	destroy_ok(h2, "hs");
	assert_false(alive(pid));
	list_now(h1, &l);
	assert_int_equal(l.n, 0);
	list_now(h2, &l);
	assert_int_equal(l.n, 0);
	xl->fini(h1);
	xl->fini(h2);
}

/* The transfer stalls: at the timeout (before any acknowledgement) the driver cuts the
 * stream, xl resumes the domain at the sender; the target keeps an --incoming leftover. */
static void test_migrate_timeout_cancels(void **unused)
{
	struct listing l;
	struct hv *h1, *h2;
	struct done d;
	char def[2048];
	pid_t pid;

	(void)unused;
	make_host("h1", "");
	make_host("h2", "");
	assert_int_equal(sh("echo receive-stall >%s/h2/faults", tmpdir), 0);
	h1 = hv_up("h1", 1);
	h2 = hv_up("h2", 2);
	make_def("st", "", def, sizeof(def));
	start_ok(h1, "st", def, 6, 128);
	pid = guest_of("st", "h1");
	prepare_ok(h2, "st", def, 6);
	send(h1, "st", "h2", 1500, &d);
	assert_int_equal(d.result, -ETIMEDOUT);
	assert_non_null(strstr(d.msg, "still runs here"));
	assert_true(alive(pid) && proc_state(pid) != 'T');
	list_now(h1, &l);
	assert_int_equal(listed(&l, "st")->state, HV_RUNNING);
	list_now(h2, &l);
	assert_int_equal(listed(&l, "st")->state, HV_INCOMING);
	/* st--incoming is in xl list, never in xl list -l (as with real xl): the listings
	 * must not run xl list -l again each time for it */
	assert_int_equal(sh("rm -f %s/h2/calls", tmpdir), 0);
	list_now(h2, &l);
	list_now(h2, &l);
	list_now(h2, &l);
	assert_int_equal(listed(&l, "st")->state, HV_INCOMING);
	assert_int_equal(sh("test $(grep -c '^list -l' %s/h2/calls) -eq 0", tmpdir), 0);
	destroy_ok(h2, "st");
	destroy_ok(h1, "st");
	xl->fini(h1);
	xl->fini(h2);
}

/* ---- main -------------------------------------------------------------------------- */

static int setup(void **unused)
{
	char path[PATH_MAX], target[PATH_MAX];

	(void)unused;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/hax-hvxl.XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(path, sizeof(path), "%s/bin", tmpdir);
	if (mkdir(path, 0700) < 0)
		return -1;
	/* the `xl` that xl_lab_ssh's remote command finds on PATH */
	snprintf(path, sizeof(path), "%s/bin/xl", tmpdir);
	snprintf(target, sizeof(target), "%s/scripts/xl_lab", src);
	if (symlink(target, path) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/bin:%s", tmpdir, getenv("PATH") ? getenv("PATH") : "");
	setenv("PATH", path, 1);
	setenv("XL_LAB_SSH_HOSTS", tmpdir, 1);
	return 0;
}

static int teardown(void **unused)
{
	(void)unused;
	if (kill_ours() > 0)
		fprintf(stderr, "# killed leftover processes\n");
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_registry),
	    cmocka_unit_test_setup_teardown(test_init_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_start_list_stop, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_start_failures, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stop_ignored_then_destroyed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stop_unacknowledged, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_absent_briefly, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pause, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_migrate, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_migrate_fails_before_handshake, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_migrate_handshake_failure, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_migrate_timeout_cancels, setup, teardown),
	};
	int r;

	src = getenv("HAX_SOURCE");
	build = getenv("HAX_BUILD");
	guest = getenv("HAX_GUEST");
	if (sh("command -v python3 >/dev/null 2>&1") != 0) {
		printf("skipped: needs python3 (the xl stand-in, scripts/xl_lab)\n");
		return 77;
	}
	if (!src || !build || !guest || access(guest, X_OK) < 0) {
		fprintf(stderr, "HAX_SOURCE, HAX_BUILD and HAX_GUEST must be set (meson does)\n");
		return 1;
	}
	xl = &hv_xl_ops;
	if (seam_init() < 0)
		return 1;
	r = cmocka_run_group_tests(tests, NULL, NULL);
	seam_fini();
	return r;
}
