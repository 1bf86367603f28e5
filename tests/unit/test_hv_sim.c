/*
 * Lifecycle tests of the sim hypervisor driver (agent/hv_sim.c) against the real
 * hax-guest program on plain-file disks, driven by a real qb_loop through the loop seam
 * (tests/lib/loop_seam.c over haxd's own lib/loop_qb.c).
 *
 * HAX_GUEST must name the hax-guest program (meson sets it). Guests are detached
 * processes: every one this test started is killed at the end, found through its pid
 * file and through its command line naming this test's private directory.
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
#include "guest/journal.h"
#include "lib/loop.h"
#include "tests/lib/loop_seam.h"

#define DISK_BYTES (1024 * 1024)
#define WAIT_MS 10000 /* generous: a stuck operation fails the test, a slow host does not */
#define NODEID 7
#define IQN "iqn.2026-01.org.hax.test:h1"

static char tmpdir[256]; /* this test's private directory */
static char state_dir[sizeof(tmpdir) + 16];
static const struct hv_ops *sim;

/* ---- running the loop -------------------------------------------------------------- */

struct done {
	int calls;
	int result;
	char msg[256];
};

static void on_done(void *opaque, int result, const char *msg)
{
	struct done *d = opaque;

	d->calls++;
	d->result = result;
	hax_strlcpy(d->msg, msg ? msg : "", sizeof(d->msg));
	seam_stop();
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
	if (n) /* doms may be NULL when there are none */
		memcpy(l->doms, doms, (n < 8 ? n : 8) * sizeof(*doms));
	seam_stop();
}

static void wait_done(struct done *d)
{
	if (!seam_run_until(&d->calls, 1, WAIT_MS))
		fail_msg("no completion within %d ms", WAIT_MS);
	assert_int_equal(d->calls, 1);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- files and processes ----------------------------------------------------------- */

static void path_of(char *out, size_t len, const char *name, const char *file)
{
	snprintf(out, len, "%s/sim/%s/%s", state_dir, name, file);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* A 1 MiB disk for domain name; returns its definition text in def. */
static void make_disk(const char *name, char *def, size_t len)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s.img", tmpdir, name);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, DISK_BYTES), 0);
	close(fd);
	snprintf(def, len, "disk = %s\ninterval = 20ms\n", path);
}

static pid_t pid_file(const char *name)
{
	char path[PATH_MAX], buf[32] = "";
	FILE *f;

	path_of(path, sizeof(path), name, "pid");
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return (pid_t)atol(buf);
}

/* The NUL-separated command line of pid, or 0 bytes if it is gone or a zombie. */
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

/* True if the argument after opt in pid's command line is val. */
static bool cmdline_opt(pid_t pid, const char *opt, const char *val)
{
	char buf[4096];
	size_t n = cmdline(pid, buf, sizeof(buf));
	const char *p;

	for (p = buf; p < buf + n; p += strlen(p) + 1)
		if (strcmp(p, opt) == 0 && p + strlen(p) + 1 < buf + n)
			return strcmp(p + strlen(p) + 1, val) == 0;
	return false;
}

/* Alive and not a zombie (the guests are orphans: their reaper may be slow or absent). */
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

static pid_t parent_of(pid_t pid)
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
	return p ? (pid_t)atol(p + 4) : 0;
}

/* A hax-guest of ours: its command line names a disk in this test's directory. */
static bool our_guest(pid_t pid)
{
	char buf[4096];
	size_t n = cmdline(pid, buf, sizeof(buf));
	const char *p;

	if (n == 0 || !memmem(buf, n, "hax-guest", 9))
		return false;
	for (p = buf; p < buf + n; p += strlen(p) + 1)
		if (strncmp(p, tmpdir, strlen(tmpdir)) == 0)
			return true;
	return false;
}

/* Kill every guest this test started: the pid files, then anything else that is ours. */
static int kill_our_guests(void)
{
	char path[PATH_MAX];
	struct dirent *de;
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/sim", state_dir);
	d = opendir(path);
	while (d && (de = readdir(d))) {
		pid_t pid = de->d_name[0] != '.' ? pid_file(de->d_name) : 0;

		if (pid > 1 && our_guest(pid) && kill(pid, SIGKILL) == 0)
			n++;
	}
	if (d)
		closedir(d);
	d = opendir("/proc");
	while (d && (de = readdir(d))) {
		pid_t pid = (pid_t)atol(de->d_name);

		if (pid > 1 && our_guest(pid) && kill(pid, SIGKILL) == 0)
			n++;
	}
	if (d)
		closedir(d);
	return n;
}

static void wait_gone(pid_t pid)
{
	int i;

	for (i = 0; i < 500 && alive(pid); i++)
		usleep(10000);
	assert_false(alive(pid));
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* ---- driver helpers ---------------------------------------------------------------- */

static struct hv *hv_up_with(const char *dir, uint64_t mem, uint32_t vcpus)
{
	struct hv_host host = {
	    .state_dir = dir,
	    .host_name = "h1",
	    .nodeid = NODEID,
	    .iqn = IQN,
	    .mem_mib = mem,
	    .vcpus = vcpus,
	};
	struct hv *hv = NULL;
	char err[256] = "";
	int r = sim->init(&hv, &host, err, sizeof(err));

	if (r != 0)
		fail_msg("init: %d %s", r, err);
	assert_non_null(hv);
	return hv;
}

static struct hv *hv_up(void)
{
	return hv_up_with(state_dir, 0, 0);
}

static int start(struct hv *hv, const char *name, const char *def, uint64_t inc, struct done *d)
{
	struct hv_start req = {
	    .name = name,
	    .definition = def,
	    .incarnation = inc,
	    .memory_mib = 256,
	    .vcpus = 2,
	};

	memset(d, 0, sizeof(*d));
	return sim->start(hv, &req, on_done, d);
}

/* Start and wait for success. */
static void start_ok(struct hv *hv, const char *name, uint64_t inc)
{
	char def[PATH_MAX + 64];
	struct done d;

	make_disk(name, def, sizeof(def));
	assert_int_equal(start(hv, name, def, inc, &d), 0);
	assert_int_equal(d.calls, 0);
	wait_done(&d);
	if (d.result != 0)
		fail_msg("start %s: %d %s", name, d.result, d.msg);
}

static void list(struct hv *hv, struct listing *l)
{
	memset(l, 0, sizeof(*l));
	assert_int_equal(sim->list(hv, on_list, l), 0);
	assert_int_equal(l->calls, 0); /* never inside the call */
	if (!seam_run_until(&l->calls, 1, WAIT_MS))
		fail_msg("list did not complete");
	assert_int_equal(l->result, 0);
}

static const struct hv_domain_info *listed(const struct listing *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->n && i < 8; i++)
		if (strcmp(l->doms[i].name, name) == 0)
			return &l->doms[i];
	return NULL;
}

static void stop_ok(struct hv *hv, const char *name, uint64_t timeout_ms)
{
	struct done d = {0};

	assert_int_equal(sim->stop(hv, name, timeout_ms, on_done, &d), 0);
	assert_int_equal(d.calls, 0);
	wait_done(&d);
	if (d.result != 0)
		fail_msg("stop %s: %d %s", name, d.result, d.msg);
}

/* ---- fixture ----------------------------------------------------------------------- */

static int setup(void **unused)
{
	(void)unused;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/hax-hvsim.XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(state_dir, sizeof(state_dir), "%s/state", tmpdir);
	if (mkdir(state_dir, 0700) < 0)
		return -1;
	return 0;
}

static int teardown(void **unused)
{
	(void)unused;
	if (kill_our_guests() > 0)
		fprintf(stderr, "# killed leftover guests\n");
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* ---- tests ------------------------------------------------------------------------- */

static void test_registry(void **unused)
{
	(void)unused;
	assert_ptr_equal(hv_lookup("sim"), &hv_sim_ops);
	assert_null(hv_lookup("nosuch"));
	assert_null(hv_lookup(""));
	assert_string_equal(hv_sim_ops.name, "sim");
	assert_string_equal(hv_dom_state_name(HV_RUNNING), "running");
	assert_string_equal(hv_dom_state_name(HV_CRASHED), "crashed");
	assert_string_equal(hv_dom_state_name((enum hv_dom_state)99), "?");
}

static void test_validate(void **unused)
{
	static const char *const good[] = {
	    "disk = /path/file\ninterval = 20ms\n",
	    "disk=/path/file",
	    "# a comment\n\n   \ndisk = iscsi://10.0.0.1/iqn.2026-01.org.hax:lun/1\n",
	    "interval = 1s\ndisk = /d\n",
	    "disk = /d\r\ninterval = 1ms\r\n",
	    "disk = /d\ninterval = 10s\n",
	};
	static const struct {
		const char *def, *want;
	} bad[] = {
	    {"", "disk"},
	    {"\n# only a comment\n", "disk"},
	    {"interval = 20ms\n", "disk"},
	    {"disk = /d\ninterval = 0ms\n", "line 2"},
	    {"disk = /d\ninterval = fast\n", "line 2"},
	    {"disk = /d\ninterval = 11s\n", "line 2"},
	    {"disk = /d\ninterval = -5ms\n", "line 2"},
	    {"disk = /d\nmemory = 512\n", "memory"},
	    {"disk = /d\nunknown_key = 1\n", "unknown_key"},
	    {"garbage", "line 1"},
	    {"disk /d\n", "line 1"},
	    {"DISK = /d\n", "line 1"},
	    {"disk =\n", "line 1"},
	    {"disk = /d\n=\n", "line 2"},
	    {"\x01\x02\x03", "line 1"},
	};
	char longline[1400], err[256];
	size_t i;

	(void)unused;
	for (i = 0; i < HAX_ARRAY_SIZE(good); i++) {
		err[0] = '\0';
		if (sim->validate(good[i], err, sizeof(err)) != 0)
			fail_msg("good definition %zu refused: %s", i, err);
	}
	for (i = 0; i < HAX_ARRAY_SIZE(bad); i++) {
		err[0] = '\0';
		if (sim->validate(bad[i].def, err, sizeof(err)) != -EINVAL)
			fail_msg("bad definition %zu accepted", i);
		if (!strstr(err, bad[i].want))
			fail_msg("bad definition %zu: \"%s\" lacks \"%s\"", i, err, bad[i].want);
	}
	memset(longline, 'x', sizeof(longline) - 1);
	memcpy(longline, "disk = /", 8);
	longline[sizeof(longline) - 1] = '\0';
	assert_int_equal(sim->validate(longline, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "too long"));
}

static void test_init_and_capacity(void **unused)
{
	struct hv_capacity cap = {0};
	char path[PATH_MAX];
	struct stat st;
	struct hv *hv;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	(void)unused;
	hv = hv_up_with(state_dir, 4096, 12);
	snprintf(path, sizeof(path), "%s/sim", state_dir);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(sim->capacity(hv, &cap), 0);
	assert_int_equal(cap.mem_total_mib, 4096);
	assert_int_equal(cap.vcpus, 12);
	sim->fini(hv);

	/* 0 = detect: this machine's numbers. */
	hv = hv_up_with(state_dir, 0, 0);
	assert_int_equal(sim->capacity(hv, &cap), 0);
	assert_true(cap.mem_total_mib > 0);
	assert_int_equal(cap.vcpus, ncpu > 0 ? ncpu : 1);
	sim->fini(hv);
	sim->fini(NULL);
	assert_int_equal(seam_timers_armed(), 0);
}

static void test_init_errors(void **unused)
{
	struct hv_host host = {
	    .state_dir = "/nonexistent-hax/state", .host_name = "h1", .nodeid = NODEID, .iqn = IQN};
	char err[256] = "", *saved = strdup(getenv("HAX_GUEST"));
	struct hv *hv = NULL;

	(void)unused;
	assert_true(sim->init(&hv, &host, err, sizeof(err)) < 0);
	assert_null(hv);
	assert_non_null(strstr(err, "/nonexistent-hax/state"));

	host.state_dir = state_dir;
	err[0] = '\0';
	setenv("HAX_GUEST", "/nonexistent-hax/hax-guest", 1);
	assert_int_equal(sim->init(&hv, &host, err, sizeof(err)), -ENOENT);
	setenv("HAX_GUEST", saved, 1);
	free(saved);
	assert_null(hv);
	assert_non_null(strstr(err, "/nonexistent-hax/hax-guest"));
}

static void test_start_list_stop(void **unused)
{
	struct hv *hv = hv_up();
	char def[PATH_MAX + 64], path[PATH_MAX], inc[32], node[32];
	const struct hv_domain_info *info;
	struct journal_report rep;
	struct listing l;
	struct done d;
	uint8_t *image;
	pid_t pid;
	FILE *f;

	(void)unused;
	make_disk("web", def, sizeof(def));
	assert_int_equal(start(hv, "web", def, 42, &d), 0);
	assert_int_equal(d.calls, 0);
	wait_done(&d);
	assert_int_equal(d.result, 0);

	list(hv, &l);
	assert_int_equal(l.n, 1);
	info = listed(&l, "web");
	assert_non_null(info);
	assert_int_equal(info->incarnation, 42);
	assert_int_equal(info->state, HV_RUNNING);
	assert_int_equal(info->memory_mib, 256);
	assert_int_equal(info->vcpus, 2);

	/* The guest runs with this host's identity. */
	pid = pid_file("web");
	assert_true(alive(pid));
	snprintf(inc, sizeof(inc), "%d", 42);
	snprintf(node, sizeof(node), "%d", NODEID);
	assert_true(cmdline_opt(pid, "--domain", "web"));
	assert_true(cmdline_opt(pid, "--incarnation", inc));
	assert_true(cmdline_opt(pid, "--nodeid", node));
	assert_true(cmdline_opt(pid, "--initiator", IQN));
	assert_true(cmdline_opt(pid, "--interval", "20ms"));
	/* Detached: not our child, not in our session (it must outlive haxd). */
	assert_int_not_equal(getsid(pid), getsid(0));
	assert_int_not_equal(parent_of(pid), getpid());

	/* Already running: refused, and the running guest is untouched. */
	assert_int_equal(start(hv, "web", def, 43, &d), -EEXIST);
	seam_run_for(100);
	assert_int_equal(d.calls, 0);
	assert_int_equal(pid_file("web"), pid);
	assert_true(alive(pid));

	stop_ok(hv, "web", 5000);
	wait_gone(pid);
	path_of(path, sizeof(path), "web", "pid");
	assert_int_not_equal(access(path, F_OK), 0);
	list(hv, &l);
	assert_int_equal(l.n, 0);

	/* The journal on the disk is the guest's: one incarnation, from this host. */
	snprintf(path, sizeof(path), "%s/web.img", tmpdir);
	image = malloc(DISK_BYTES);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fread(image, 1, DISK_BYTES, f), DISK_BYTES);
	fclose(f);
	assert_int_equal(journal_check(image, DISK_BYTES / JOURNAL_BLOCK, &rep), 0);
	assert_true(rep.records > 0);
	assert_int_equal(rep.nviol, 0);
	assert_int_equal(rep.ninc, 1);
	assert_int_equal(rep.inc[0].incarnation, 42);
	assert_int_equal(rep.inc[0].nodeid, NODEID);
	journal_report_free(&rep);
	free(image);

	/* Exactly one completion each; nothing left armed. */
	seam_run_for(300);
	assert_int_equal(seam_timers_armed(), 0);
	sim->fini(hv);
}

static void test_destroy(void **unused)
{
	struct hv *hv = hv_up();
	struct listing l;
	struct done d = {0};
	pid_t pid;

	(void)unused;
	start_ok(hv, "db", 3);
	pid = pid_file("db");
	assert_true(alive(pid));
	assert_int_equal(sim->destroy(hv, "db", on_done, &d), 0);
	assert_int_equal(d.calls, 0);
	wait_done(&d);
	assert_int_equal(d.result, 0);
	wait_gone(pid);
	list(hv, &l);
	assert_int_equal(l.n, 0);
	sim->fini(hv);
}

static void test_stop_not_running(void **unused)
{
	struct hv *hv = hv_up();
	struct done d = {0}, k = {0};

	(void)unused;
	assert_int_equal(sim->stop(hv, "ghost", 1000, on_done, &d), 0);
	assert_int_equal(d.calls, 0); /* asynchronously, never inside the call */
	assert_int_equal(sim->destroy(hv, "ghost2", on_done, &k), 0);
	assert_int_equal(k.calls, 0);
	wait_done(&d);
	assert_int_equal(d.result, 0);
	if (!seam_run_until(&k.calls, 1, WAIT_MS))
		fail_msg("destroy of a missing domain never completed");
	assert_int_equal(k.result, 0);
	seam_run_for(200);
	assert_int_equal(d.calls, 1);
	assert_int_equal(k.calls, 1);
	assert_int_equal(seam_timers_armed(), 0);
	sim->fini(hv);
}

static void test_stop_escalates_to_kill(void **unused)
{
	struct hv *hv = hv_up();
	uint64_t t0;
	pid_t pid;

	(void)unused;
	start_ok(hv, "stuck", 1);
	pid = pid_file("stuck");
	/* A stopped process keeps SIGTERM pending: only the SIGKILL after the timeout ends it. */
	assert_int_equal(kill(pid, SIGSTOP), 0);
	t0 = mono_ms();
	stop_ok(hv, "stuck", 400);
	assert_true(mono_ms() - t0 >= 400);
	wait_gone(pid);
	sim->fini(hv);
}

static void test_start_bad_disk(void **unused)
{
	struct hv *hv = hv_up();
	char def[PATH_MAX + 64];
	struct listing l;
	struct done d;

	(void)unused;
	snprintf(def, sizeof(def), "disk = %s/no-such-dir/disk.img\ninterval = 20ms\n", tmpdir);
	assert_int_equal(start(hv, "nodisk", def, 1, &d), 0);
	assert_int_equal(d.calls, 0);
	wait_done(&d);
	assert_true(d.result < 0);
	assert_true(d.msg[0] != '\0');
	list(hv, &l);
	assert_int_equal(l.n, 0);

	/* A definition the driver cannot parse is refused at once, with no completion. */
	assert_int_equal(start(hv, "bad", "interval = 20ms\n", 1, &d), -EINVAL);
	seam_run_for(100);
	assert_int_equal(d.calls, 0);
	sim->fini(hv);
}

static void test_restart_keeps_guests(void **unused)
{
	struct hv *hv = hv_up();
	const struct hv_domain_info *info;
	char def[PATH_MAX + 64];
	struct listing l;
	struct done d;
	pid_t pid;

	(void)unused;
	start_ok(hv, "web", 11);
	pid = pid_file("web");
	sim->fini(hv); /* haxd exits */
	usleep(100000);
	assert_true(alive(pid));

	hv = hv_up(); /* haxd starts again on the same state directory */
	list(hv, &l);
	assert_int_equal(l.n, 1);
	info = listed(&l, "web");
	assert_non_null(info);
	assert_int_equal(info->incarnation, 11);
	assert_int_equal(info->memory_mib, 256);
	assert_int_equal(info->vcpus, 2);
	make_disk("web2", def, sizeof(def));
	assert_int_equal(start(hv, "web", def, 12, &d), -EEXIST);

	/* fini with an operation in flight cancels it: no callback, no timer left. */
	assert_int_equal(start(hv, "web2", def, 5, &d), 0);
	sim->fini(hv);
	assert_int_equal(seam_timers_armed(), 0);
	seam_run_for(600);
	assert_int_equal(d.calls, 0);

	/* ... and the guest it started is found by the next haxd. */
	hv = hv_up();
	list(hv, &l);
	assert_int_equal(l.n, 2);
	assert_non_null(listed(&l, "web"));
	assert_non_null(listed(&l, "web2"));
	assert_int_equal(listed(&l, "web2")->incarnation, 5);
	stop_ok(hv, "web", 5000);
	stop_ok(hv, "web2", 5000);
	wait_gone(pid);
	list(hv, &l);
	assert_int_equal(l.n, 0);
	sim->fini(hv);
}

static volatile sig_atomic_t got_sigterm;

static void on_sigterm(int sig)
{
	(void)sig;
	got_sigterm = 1;
}

static void test_pid_reuse_guard(void **unused)
{
	struct sigaction sa = {.sa_handler = on_sigterm}, old;
	struct hv *hv = hv_up();
	char path[PATH_MAX], text[64];
	struct listing l;
	pid_t guest, named;
	bool named_alive;
	size_t i;
	static const char *const junk[] = {"", "abc\n", "1\n", "-5\n", "0\n", "99999999\n"};

	(void)unused;
	/* A broken guard would signal this very process: notice it rather than die. */
	got_sigterm = 0;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGTERM, &sa, &old), 0);
	start_ok(hv, "real", 9);
	guest = pid_file("real");

	/* "mine": its pid file names this test program, a live process but no guest. */
	snprintf(path, sizeof(path), "%s/sim/mine", state_dir);
	assert_int_equal(mkdir(path, 0700), 0);
	path_of(path, sizeof(path), "mine", "pid");
	snprintf(text, sizeof(text), "%ld\n", (long)getpid());
	write_text(path, text);
	path_of(path, sizeof(path), "mine", "meta.json");
	write_text(path, "{\"name\":\"mine\",\"incarnation\":1,\"memory_mib\":1,\"vcpus\":1}");

	/* "other": its pid file names the live guest of another domain. */
	snprintf(path, sizeof(path), "%s/sim/other", state_dir);
	assert_int_equal(mkdir(path, 0700), 0);
	path_of(path, sizeof(path), "other", "pid");
	snprintf(text, sizeof(text), "%ld\n", (long)guest);
	write_text(path, text);

	/* "named": an unrelated process whose command line happens to name the domain. */
	named = fork();
	assert_true(named >= 0);
	if (named == 0) {
		setpgid(0, 0);
		execl("/bin/sh", "sh", "-c", "sleep 60; true", "sh", "--domain", "named",
		      (char *)NULL);
		_exit(127);
	}
	setpgid(named, named);
	for (i = 0; i < 500 && !cmdline_opt(named, "--domain", "named"); i++)
		usleep(10000);
	assert_true(cmdline_opt(named, "--domain", "named"));
	snprintf(path, sizeof(path), "%s/sim/named", state_dir);
	assert_int_equal(mkdir(path, 0700), 0);
	path_of(path, sizeof(path), "named", "pid");
	snprintf(text, sizeof(text), "%ld\n", (long)named);
	write_text(path, text);

	list(hv, &l);
	assert_int_equal(l.n, 1);
	assert_non_null(listed(&l, "real"));

	/* Stopping them must signal nobody: not this test, not the others. */
	stop_ok(hv, "mine", 1000);
	stop_ok(hv, "other", 1000);
	stop_ok(hv, "named", 1000);
	seam_run_for(100);
	sigaction(SIGTERM, &old, NULL);
	named_alive = alive(named);
	kill(-named, SIGKILL);
	waitpid(named, NULL, 0);
	assert_false(got_sigterm);
	assert_true(alive(guest));
	assert_true(named_alive);
	/* Nor does a stale pid file block a start. */
	start_ok(hv, "mine", 2);
	assert_true(our_guest(pid_file("mine")));

	/* Pid files that name nothing at all. */
	for (i = 0; i < HAX_ARRAY_SIZE(junk); i++) {
		path_of(path, sizeof(path), "other", "pid");
		write_text(path, junk[i]);
		list(hv, &l);
		assert_int_equal(l.n, 2);
		assert_null(listed(&l, "other"));
	}
	stop_ok(hv, "real", 5000);
	stop_ok(hv, "mine", 5000);
	wait_gone(guest);
	sim->fini(hv);
}

static void test_two_domains(void **unused)
{
	struct hv *hv = hv_up();
	struct listing l;
	pid_t a, b;

	(void)unused;
	start_ok(hv, "alpha", 1);
	start_ok(hv, "beta", 2);
	a = pid_file("alpha");
	b = pid_file("beta");
	assert_int_not_equal(a, b);
	list(hv, &l);
	assert_int_equal(l.n, 2);
	assert_int_equal(listed(&l, "alpha")->incarnation, 1);
	assert_int_equal(listed(&l, "beta")->incarnation, 2);
	stop_ok(hv, "alpha", 5000);
	wait_gone(a);
	assert_true(alive(b));
	list(hv, &l);
	assert_int_equal(l.n, 1);
	assert_non_null(listed(&l, "beta"));
	stop_ok(hv, "beta", 5000);
	sim->fini(hv);
}

/*
 * Never two writers, at the driver: a second start of a domain whose first start has not
 * settled yet must be refused, not spawn a second guest on the same disk.
 */
static void test_start_while_starting(void **unused)
{
	struct hv *hv = hv_up();
	char def[PATH_MAX + 64], path[PATH_MAX], line[512];
	struct done d1, d2;
	int spawned = 0, r;
	FILE *f;

	(void)unused;
	make_disk("twice", def, sizeof(def));
	assert_int_equal(start(hv, "twice", def, 1, &d1), 0);
	r = start(hv, "twice", def, 2, &d2);
	wait_done(&d1);
	if (r == 0)
		wait_done(&d2);
	/* Every guest says so in the console log when it opens its disk. */
	path_of(path, sizeof(path), "twice", "console.log");
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		spawned += strstr(line, "resuming at seq") != NULL;
	fclose(f);
	if (r == 0 || spawned != 1)
		fail_msg("second start while the first was settling returned %d; %d guests "
			 "ran on one disk; the first start completed with %d",
			 r, spawned, d1.result);
	assert_true(r == -EBUSY || r == -EEXIST);
	assert_int_equal(d1.result, 0);
	stop_ok(hv, "twice", 5000);
	sim->fini(hv);
}

/* ---- migration: stop-and-copy between two "hosts" (two state directories) ---------- */

struct prog {
	int calls;
	uint64_t last_done, total;
};

static void on_progress(void *opaque, const struct hv_migrate_progress *p)
{
	struct prog *pr = opaque;

	pr->calls++;
	pr->last_done = p->bytes_done;
	pr->total = p->bytes_total;
}

/* The progress callback and the done callback share one opaque in the driver. */
struct send_ctx {
	struct prog prog;
	struct done done;
};

static void send_progress(void *opaque, const struct hv_migrate_progress *p)
{
	on_progress(&((struct send_ctx *)opaque)->prog, p);
}

static void send_done(void *opaque, int result, const char *msg)
{
	on_done(&((struct send_ctx *)opaque)->done, result, msg);
}

static void prepare_ok(struct hv *hv, const char *name, const char *def, uint64_t inc,
		       char *uri, size_t len)
{
	struct hv_migrate_in in = {.name = name, .definition = def, .incarnation = inc,
				   .memory_mib = 256, .vcpus = 2, .source_host = "h1",
				   .listen_addr = "127.0.0.1"};
	struct done d = {0};

	assert_int_equal(sim->migrate_prepare(hv, &in, on_done, &d), 0);
	wait_done(&d);
	if (d.result != 0)
		fail_msg("prepare: %d %s", d.result, d.msg);
	assert_true(strncmp(d.msg, "tcp:127.0.0.1:", 14) == 0);
	hax_strlcpy(uri, d.msg, len);
}

static void send_and_wait(struct hv *hv, const char *name, uint64_t inc, const char *uri,
			  struct send_ctx *c)
{
	struct hv_migrate_out out = {.name = name, .incarnation = inc, .target_host = "h2",
				     .target_addr = "127.0.0.1", .uri = uri, .timeout_ms = 20000};

	memset(c, 0, sizeof(*c));
	assert_int_equal(sim->migrate_send(hv, &out, send_progress, send_done, c), 0);
	assert_int_equal(c->done.calls, 0);
	wait_done(&c->done);
}

static int disk_journal_ok(const char *name)
{
	char cmd[PATH_MAX * 2];

	snprintf(cmd, sizeof(cmd), "%s/hax-journal-check --quiet %s/%s.img >/dev/null",
		 getenv("HAX_BUILD"), tmpdir, name);
	return system(cmd);
}

static void test_migrate(void **unused)
{
	char dir_b[sizeof(tmpdir) + 16], def[PATH_MAX + 64], uri[96], path[PATH_MAX];
	struct hv *a = hv_up(), *b;
	struct send_ctx c;
	struct listing l;
	pid_t src;

	(void)unused;
	snprintf(dir_b, sizeof(dir_b), "%s/b", tmpdir);
	assert_int_equal(mkdir(dir_b, 0700), 0);
	b = hv_up_with(dir_b, 0, 0);
	start_ok(a, "mig", 3);
	src = pid_file("mig");
	snprintf(def, sizeof(def), "disk = %s/mig.img\ninterval = 20ms\nstate_size = 1M\n", tmpdir);
	seam_run_for(200);

	/* The target's copy is "incoming" until the source commits. */
	prepare_ok(b, "mig", def, 4, uri, sizeof(uri));
	list(b, &l);
	assert_int_equal(l.n, 1);
	assert_int_equal(listed(&l, "mig")->state, HV_INCOMING);
	assert_int_equal(listed(&l, "mig")->incarnation, 4);
	send_and_wait(a, "mig", 4, uri, &c);
	if (c.done.result != 0)
		fail_msg("send: %d %s", c.done.result, c.done.msg);
	assert_true(c.prog.calls >= 1);
	assert_true(c.prog.total > 0);
	wait_gone(src);
	list(a, &l);
	assert_int_equal(l.n, 0);
	list(b, &l);
	assert_int_equal(l.n, 1);
	assert_int_equal(listed(&l, "mig")->state, HV_RUNNING);
	assert_int_equal(listed(&l, "mig")->incarnation, 4);
	seam_run_for(200);
	assert_int_equal(disk_journal_ok("mig"), 0);

	/* A target that breaks the transfer halfway: the source keeps running, with the
	 * same incarnation, and the incoming copy never runs. */
	snprintf(path, sizeof(path), "%s/sim/fault-migrate-in", state_dir);
	write_text(path, "");
	prepare_ok(a, "mig", def, 5, uri, sizeof(uri));
	send_and_wait(b, "mig", 5, uri, &c);
	assert_int_not_equal(c.done.result, 0);
	list(b, &l);
	assert_int_equal(l.n, 1);
	assert_int_equal(listed(&l, "mig")->state, HV_RUNNING);
	assert_int_equal(listed(&l, "mig")->incarnation, 4);
	seam_run_for(300);
	list(a, &l);
	assert_null(listed(&l, "mig")); /* the receiver gave up and exited */
	assert_int_equal(disk_journal_ok("mig"), 0);

	/* Garbage in: bad uri, no such domain. */
	{
		struct hv_migrate_out out = {.name = "mig", .incarnation = 6, .target_host = "h1",
					     .uri = "udp:1.2.3.4", .timeout_ms = 1000};

		assert_int_equal(sim->migrate_send(b, &out, NULL, on_done, &c.done), -EINVAL);
		out.name = "nosuch";
		assert_int_equal(sim->migrate_send(b, &out, NULL, on_done, &c.done), -ENOENT);
	}
	stop_ok(b, "mig", 5000);
	sim->fini(a);
	sim->fini(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_registry),
	    cmocka_unit_test(test_validate),
	    cmocka_unit_test_setup_teardown(test_init_and_capacity, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_init_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_start_list_stop, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_destroy, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stop_not_running, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stop_escalates_to_kill, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_start_bad_disk, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_restart_keeps_guests, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pid_reuse_guard, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_two_domains, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_start_while_starting, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_migrate, setup, teardown),
	};
	const char *guest = getenv("HAX_GUEST");
	int r;

	if (!guest || access(guest, X_OK) < 0) {
		fprintf(stderr, "HAX_GUEST must name the hax-guest program\n");
		return 1;
	}
	sim = &hv_sim_ops;
	if (seam_init() < 0)
		return 1;
	r = cmocka_run_group_tests(tests, NULL, NULL);
	seam_fini();
	return r;
}
