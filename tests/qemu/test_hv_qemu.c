/*
 * Tests of the qemu hypervisor driver (agent/hv_qemu.c).
 *
 * Without arguments: the definition checks only (no QEMU, no root).
 * With --vm (tests/qemu/driver.sh sets the scene): real QEMU under TCG booting the lab
 * guest (scripts/build-guest-image) whose disk is a real tgtd iSCSI LUN, driven over a
 * real qb_loop through the loop seam. Two driver instances with two state directories
 * play two hosts on this machine for the live migration. Environment:
 *   HAX_QEMU_KERNEL, HAX_QEMU_INITRD   the guest image
 *   HAX_QEMU_LUN1, HAX_QEMU_LUN2       iscsi:// URLs of two empty LUNs
 *   HAX_QEMU_BADLUN                    an iscsi:// URL of a LUN that does not exist
 * Every QEMU this test started is killed at the end, found by its command line naming
 * this test's private directory.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "guest/blockdev.h"
#include "agent/hv.h"
#include "guest/journal.h"
#include "lib/loop.h"
#include "tests/lib/loop_seam.h"

#define IQN_A "iqn.2026-01.org.hax.test:qemu-a"
#define IQN_B "iqn.2026-01.org.hax.test:qemu-b"
#define IQN_CHECK "iqn.2026-01.org.hax.test:qemu-check"
#define OP_WAIT_MS 90000   /* one QEMU operation under TCG on a busy 2-core machine */
#define BOOT_WAIT_MS 90000 /* until the guest's first journal records */
#define MEM_MIB 128

static const struct hv_ops *qemu;
static char tmpdir[64];
static char dir_a[sizeof(tmpdir) + 8], dir_b[sizeof(tmpdir) + 8];
static const char *kernel, *initrd, *lun1, *lun2, *badlun;

/* ---- loop helpers ------------------------------------------------------------------- */

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

static void wait_done(struct done *d, const char *what)
{
	if (!seam_run_until(&d->calls, 1, OP_WAIT_MS))
		fail_msg("%s: no completion within %d ms", what, OP_WAIT_MS);
	assert_int_equal(d->calls, 1);
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

static void list(struct hv *hv, struct listing *l)
{
	memset(l, 0, sizeof(*l));
	assert_int_equal(qemu->list(hv, on_list, l), 0);
	assert_int_equal(l->calls, 0);
	if (!seam_run_until(&l->calls, 1, OP_WAIT_MS))
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

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- the journal on a LUN ----------------------------------------------------------- */

struct journal_view {
	uint64_t records;
	uint64_t max_seq;
	uint64_t ninc, nviol;
	uint64_t first_inc, last_inc;
	uint32_t first_node;
	uint64_t max_gap_ms; /* between records seq and seq+1, by their timestamps */
	uint64_t gap_at_seq;
};

struct rec {
	uint64_t seq, ns;
};

static int by_seq(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Read the whole LUN through its own iSCSI session and run the oracle over it. */
static void read_journal(const char *url, struct journal_view *v)
{
	struct journal_report rep;
	struct journal_record r;
	struct bdev *bd = NULL;
	struct rec *recs;
	char err[300];
	uint8_t *image;
	uint64_t nb, i, n = 0;

	memset(v, 0, sizeof(*v));
	if (bdev_open(url, IQN_CHECK, &bd, err, sizeof(err)) < 0)
		fail_msg("open %s: %s", url, err);
	nb = bdev_nblocks(bd);
	image = malloc(nb * JOURNAL_BLOCK);
	recs = calloc(nb, sizeof(*recs));
	assert_non_null(image);
	assert_non_null(recs);
	for (i = 0; i < nb; i += 2048)
		assert_int_equal(
		    bdev_read(bd, i, nb - i < 2048 ? nb - i : 2048, image + i * JOURNAL_BLOCK), 0);
	bdev_close(bd);
	assert_int_equal(journal_check(image, nb, &rep), 0);
	v->records = rep.records;
	v->ninc = rep.ninc;
	v->nviol = rep.nviol;
	if (rep.ninc) {
		v->first_inc = rep.inc[0].incarnation;
		v->last_inc = rep.inc[rep.ninc - 1].incarnation;
		v->first_node = rep.inc[0].nodeid;
	}
	journal_report_free(&rep);
	for (i = 0; i < nb; i++)
		if (journal_decode(image + i * JOURNAL_BLOCK, &r) == 0)
			recs[n++] = (struct rec){r.seq, r.wall_ns};
	qsort(recs, n, sizeof(*recs), by_seq);
	for (i = 1; i < n; i++)
		if (recs[i].seq == recs[i - 1].seq + 1 && recs[i].ns > recs[i - 1].ns &&
		    (recs[i].ns - recs[i - 1].ns) / 1000000 > v->max_gap_ms) {
			v->max_gap_ms = (recs[i].ns - recs[i - 1].ns) / 1000000;
			v->gap_at_seq = recs[i].seq;
		}
	v->max_seq = n ? recs[n - 1].seq : 0;
	free(recs);
	free(image);
}

/* Run the loop until the guest has written at least want records to url. */
static void wait_records(const char *url, uint64_t want, struct journal_view *v)
{
	uint64_t t0 = mono_ms();

	for (;;) {
		read_journal(url, v);
		if (v->records >= want)
			return;
		if (mono_ms() - t0 > BOOT_WAIT_MS)
			fail_msg("%s: %" PRIu64 " journal records after %d ms, want %" PRIu64, url,
				 v->records, BOOT_WAIT_MS, want);
		seam_run_for(500);
	}
}

/* ---- processes and files ------------------------------------------------------------ */

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

static bool cmdline_has(pid_t pid, const char *needle)
{
	char buf[8192];
	size_t n = cmdline(pid, buf, sizeof(buf));

	return n > 0 && memmem(buf, n, needle, strlen(needle)) != NULL;
}

/* Live QEMUs of this test whose command line names path (NULL: any of ours). */
static int our_qemus(const char *path, pid_t *pids, int max)
{
	struct dirent *de;
	int n = 0;
	DIR *d = opendir("/proc");

	while (d && (de = readdir(d))) {
		pid_t pid = (pid_t)atol(de->d_name);

		if (pid > 1 && cmdline_has(pid, "qemu-system") && cmdline_has(pid, tmpdir) &&
		    (!path || cmdline_has(pid, path)) && n < max)
			pids[n++] = pid;
	}
	if (d)
		closedir(d);
	return n;
}

static pid_t qemu_of(const char *dir, const char *name)
{
	char path[PATH_MAX];
	pid_t pid[4];

	snprintf(path, sizeof(path), "%s/qemu/%s/qmp.sock", dir, name);
	return our_qemus(path, pid, 4) == 1 ? pid[0] : 0;
}

static bool file_has(const char *path, const char *needle)
{
	char buf[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return strstr(buf, needle) != NULL;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* ---- driver helpers ----------------------------------------------------------------- */

static struct hv *host_up(const char *dir, uint32_t nodeid, const char *iqn)
{
	struct hv_host host = {
	    .state_dir = dir, .host_name = nodeid == 1 ? "a" : "b", .nodeid = nodeid, .iqn = iqn};
	struct hv *hv = NULL;
	char err[256] = "";

	if (qemu->init(&hv, &host, err, sizeof(err)) != 0)
		fail_msg("init %s: %s", dir, err);
	return hv;
}

static void definition(char *out, size_t len, const char *disk)
{
	snprintf(out, len,
		 "# the lab guest: hax-guest on the first disk\n"
		 "kernel = %s\ninitrd = %s\nappend = quiet\ndisk = %s\ninterval = 20ms\n",
		 kernel, initrd, disk);
}

static int start(struct hv *hv, const char *name, const char *disk, uint64_t inc, struct done *d)
{
	char def[2048];
	struct hv_start req = {
	    .name = name, .definition = def, .incarnation = inc, .memory_mib = MEM_MIB, .vcpus = 1};

	definition(def, sizeof(def), disk);
	memset(d, 0, sizeof(*d));
	return qemu->start(hv, &req, on_done, d);
}

static void stop_ok(struct hv *hv, const char *name, uint64_t timeout_ms)
{
	struct done d = {0};

	assert_int_equal(qemu->stop(hv, name, timeout_ms, on_done, &d), 0);
	assert_int_equal(d.calls, 0);
	wait_done(&d, "stop");
	if (d.result != 0)
		fail_msg("stop %s: %d %s", name, d.result, d.msg);
}

/* ---- fixture ------------------------------------------------------------------------ */

static int setup(void **unused)
{
	(void)unused;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/hax-hvq.XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(dir_a, sizeof(dir_a), "%s/a", tmpdir);
	snprintf(dir_b, sizeof(dir_b), "%s/b", tmpdir);
	return mkdir(dir_a, 0700) < 0 || mkdir(dir_b, 0700) < 0 ? -1 : 0;
}

static int teardown(void **unused)
{
	pid_t pids[16];
	int i, n = our_qemus(NULL, pids, 16);

	(void)unused;
	for (i = 0; i < n; i++)
		kill(pids[i], SIGKILL);
	if (n)
		fprintf(stderr, "# killed %d leftover QEMU(s)\n", n);
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* ---- tests without QEMU --------------------------------------------------------------- */

static void test_registry(void **unused)
{
	(void)unused;
	assert_ptr_equal(hv_lookup("qemu"), &hv_qemu_ops);
	assert_true(hv_qemu_ops.live_migration);
	assert_non_null(hv_qemu_ops.migrate_prepare);
	assert_non_null(hv_qemu_ops.migrate_send);
	assert_string_equal(hv_dom_state_name(HV_INCOMING), "incoming");
	assert_string_equal(hv_dom_state_name(HV_MIGRATED), "migrated");
}

static void test_validate(void **unused)
{
	static const char *const good[] = {
	    "kernel = /k\ndisk = iscsi://10.0.0.1/iqn.2026-01.org.hax:lun/1\n",
	    "kernel=/boot/vmlinuz\ninitrd=/boot/initrd.gz\nappend = quiet loglevel=3\n"
	    "disk = iscsi://10.0.0.1:3260/iqn.2026-01.org.hax:san/12\ninterval = 1s\n",
	    "# comment\n\nimage = iscsi://[::1]:3260/iqn.2026-01.org.hax:san/0\n",
	    "image = /var/lib/hax/boot.img\ndisk = /var/lib/hax/data.img\ncpu = max,-smap\n"
	    "machine = q35\naccel = kvm\ndrbd = r0\n",
	    "kernel = /k\r\ndisk = /d\r\n",
	    "kernel = /k\ndisk = /a\ndisk = /b\ndisk = /c\ndisk = /d\n",
	};
	static const struct {
		const char *def, *want;
	} bad[] = {
	    {"", "kernel"},
	    {"disk = /d\n", "kernel"},
	    {"kernel = /k\n", "disk"},
	    {"kernel = /k\nimage = /i\ndisk = /d\n", "exclude"},
	    {"image = /i\ninitrd = /r\n", "need a kernel"},
	    {"kernel = k\ndisk = /d\n", "line 1"},
	    {"kernel = /k\ndisk = /d,if=ide\n", "line 2"},
	    {"kernel = /k\ndisk = /d\ndisk = file=/x\n", "line 3"},
	    {"kernel = /k\ndisk = iscsi://h/iqn.x/abc\n", "line 2"},
	    {"kernel = /k\ndisk = iscsi://h/iqn.x\n", "line 2"},
	    {"kernel = /k\ndisk = iscsi:///iqn.x/1\n", "line 2"},
	    {"kernel = /k\ndisk = iscsi://h/iqn.x/1,cache=unsafe\n", "line 2"},
	    {"kernel = /k\ndisk = nfs://h/x\n", "line 2"},
	    {"kernel = /k\ndisk = /a\ndisk = /b\ndisk = /c\ndisk = /d\ndisk = /e\n", "at most"},
	    {"kernel = /k\ndisk = /d\nappend = hax.nodeid=9\n", "line 3"},
	    {"kernel = /k\ndisk = /d\nappend = a;rm -rf\n", "line 3"},
	    {"kernel = /k\ndisk = /d\ninterval = 0ms\n", "line 3"},
	    {"kernel = /k\ndisk = /d\ninterval = 11s\n", "line 3"},
	    {"kernel = /k\ndisk = /d\naccel = xen\n", "line 3"},
	    {"kernel = /k\ndisk = /d\ncpu = a b\nmachine = ;\n", "line 4"},
	    {"kernel = /k\ndisk = /d\nmemory = 512\n", "unknown key \"memory\""},
	    {"kernel = /k\ndisk = /d\ndrbd = -x\n", "line 3"},
	    {"garbage", "line 1"},
	    {"KERNEL = /k\n", "line 1"},
	    {"kernel =\n", "line 1"},
	    {"\x01\x02", "line 1"},
	};
	char longline[1400], err[256];
	size_t i;

	(void)unused;
	for (i = 0; i < HAX_ARRAY_SIZE(good); i++) {
		err[0] = '\0';
		if (qemu->validate(good[i], err, sizeof(err)) != 0)
			fail_msg("good definition %zu refused: %s", i, err);
	}
	for (i = 0; i < HAX_ARRAY_SIZE(bad); i++) {
		err[0] = '\0';
		if (qemu->validate(bad[i].def, err, sizeof(err)) != -EINVAL)
			fail_msg("bad definition %zu accepted", i);
		if (!strstr(err, bad[i].want))
			fail_msg("bad definition %zu: \"%s\" lacks \"%s\"", i, err, bad[i].want);
	}
	memset(longline, 'x', sizeof(longline) - 1);
	memcpy(longline, "kernel = /", 10);
	longline[sizeof(longline) - 1] = '\0';
	assert_int_equal(qemu->validate(longline, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "too long"));
}

/* Definitions cannot escalate: host files only under the allowed paths, a bare machine
 * type (agent/def_policy.h, the qemu driver's policy). */
static void test_policy(void **unused)
{
	static const char paths[] = "/boot /var/lib/hax/images";
	static const struct {
		const char *def, *want;
	} bad[] = {
	    {"kernel = /etc/passwd\ndisk = iscsi://h/iqn.x/1\n", "kernel: /etc/passwd is outside"},
	    {"kernel = /boot/k\ninitrd = /root/i\ndisk = iscsi://h/iqn.x/1\n", "initrd: /root/i"},
	    {"image = /dev/sda\n", "image: /dev/sda is outside"},
	    {"kernel = /boot/k\ndisk = /var/lib/hax/images/../../../etc/shadow\n", "disk: "},
	    {"kernel = /boot/k\ndisk = /dev/sda\n", "disk: /dev/sda is outside domain_paths"},
	};
	char err[300];
	size_t i;

	(void)unused;
	assert_non_null(qemu->policy);
	assert_int_equal(qemu->policy("kernel = /boot/vmlinuz\ninitrd = /boot/initrd.gz\n"
				      "disk = iscsi://10.0.0.1/iqn.2026-01.org.hax:lun/1\n"
				      "disk = /var/lib/hax/images/data.img\n",
				      paths, err, sizeof(err)),
			 0);
	for (i = 0; i < HAX_ARRAY_SIZE(bad); i++) {
		err[0] = '\0';
		if (qemu->policy(bad[i].def, paths, err, sizeof(err)) != -EPERM)
			fail_msg("definition %zu accepted: %s", i, bad[i].def);
		if (!strstr(err, bad[i].want))
			fail_msg("definition %zu: \"%s\" lacks \"%s\"", i, err, bad[i].want);
	}
	/* machine properties can write host files (dumpdtb=): a type only. */
	assert_int_equal(qemu->validate("kernel = /boot/k\ndisk = /d\nmachine = pc,dumpdtb=x\n", err,
					sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "machine"));
}

/* Each host applies the allow-list itself before QEMU runs: a definition that reached the
 * replicated state some other way is refused at start, synchronously, nothing run. */
static void test_start_refused(void **unused)
{
	struct hv_host host = {.state_dir = dir_a, .host_name = "a", .nodeid = 1, .iqn = IQN_A,
			       .domain_paths = "/boot"};
	struct hv_start req = {.name = "evil", .definition = "kernel = /etc/passwd\ndisk = /d\n",
			       .incarnation = 1, .memory_mib = 64, .vcpus = 1};
	struct done d = {0};
	struct hv *hv = NULL;
	char err[256] = "", path[PATH_MAX];

	(void)unused;
	setenv("HAX_QEMU", "/bin/true", 1);
	if (qemu->init(&hv, &host, err, sizeof(err)) != 0)
		fail_msg("init: %s", err);
	unsetenv("HAX_QEMU");
	assert_int_equal(qemu->start(hv, &req, on_done, &d), -EPERM);
	seam_run_for(100);
	assert_int_equal(d.calls, 0);
	snprintf(path, sizeof(path), "%s/qemu/evil", dir_a);
	assert_int_equal(access(path, F_OK), -1);
	qemu->fini(hv);
}

static void test_init_errors(void **unused)
{
	struct hv_host host = {
	    .state_dir = "/nonexistent-hax/state", .host_name = "a", .nodeid = 1, .iqn = IQN_A};
	struct hv_capacity cap = {0};
	char err[256] = "";
	struct hv *hv = NULL;

	(void)unused;
	assert_true(qemu->init(&hv, &host, err, sizeof(err)) < 0);
	assert_null(hv);
	assert_non_null(strstr(err, "/nonexistent-hax/state"));

	host.state_dir = dir_a;
	setenv("HAX_QEMU", "/nonexistent-hax/qemu-system-x86_64", 1);
	assert_int_equal(qemu->init(&hv, &host, err, sizeof(err)), -ENOENT);
	assert_null(hv);
	assert_non_null(strstr(err, "/nonexistent-hax/qemu"));

	/* Any executable will do for init: nothing runs it until a start. */
	setenv("HAX_QEMU", "/bin/true", 1);
	host.iqn = "iqn.2026-01.org.hax:a,file=/etc/shadow";
	assert_int_equal(qemu->init(&hv, &host, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not an iSCSI name"));
	host.iqn = IQN_A;
	host.mem_mib = 4096;
	host.vcpus = 6;
	assert_int_equal(qemu->init(&hv, &host, err, sizeof(err)), 0);
	assert_int_equal(qemu->capacity(hv, &cap), 0);
	assert_int_equal(cap.mem_total_mib, 4096);
	assert_int_equal(cap.vcpus, 6);
	qemu->fini(hv);
	host.mem_mib = 0;
	host.vcpus = 0;
	assert_int_equal(qemu->init(&hv, &host, err, sizeof(err)), 0);
	assert_int_equal(qemu->capacity(hv, &cap), 0);
	assert_true(cap.mem_total_mib > 0);
	assert_true(cap.vcpus > 0);
	qemu->fini(hv);
	qemu->fini(NULL);
	unsetenv("HAX_QEMU");
	assert_int_equal(seam_timers_armed(), 0);
}

/* Operations on domains that are not there: refused or completed from the loop. */
static void test_absent(void **unused)
{
	struct hv_migrate_out out = {.name = "ghost", .uri = "tcp:127.0.0.1:1"};
	struct hv_migrate_in in = {.name = "ghost",
				   .definition = "kernel = /k\ndisk = /d\n",
				   .listen_addr = "127.0.0.1;x"};
	struct hv *hv;
	struct listing l;
	struct done d = {0}, k = {0};

	(void)unused;
	setenv("HAX_QEMU", "/bin/true", 1);
	hv = host_up(dir_a, 1, IQN_A);
	unsetenv("HAX_QEMU");
	list(hv, &l);
	assert_int_equal(l.n, 0);
	assert_int_equal(qemu->pause(hv, "ghost", true), -ENOENT);
	assert_int_equal(qemu->migrate_send(hv, &out, NULL, on_done, &d), -ENOENT);
	out.uri = "exec:rm -rf /";
	assert_int_equal(qemu->migrate_send(hv, &out, NULL, on_done, &d), -EINVAL);
	assert_int_equal(qemu->migrate_prepare(hv, &in, on_done, &d), -EINVAL);
	assert_int_equal(qemu->stop(hv, "ghost", 1000, on_done, &d), 0);
	assert_int_equal(qemu->destroy(hv, "ghost2", on_done, &k), 0);
	assert_int_equal(d.calls + k.calls, 0);
	wait_done(&d, "stop of an absent domain");
	if (!seam_run_until(&k.calls, 1, OP_WAIT_MS))
		fail_msg("destroy of an absent domain never completed");
	assert_int_equal(d.result, 0);
	assert_int_equal(k.result, 0);
	qemu->fini(hv);
	assert_int_equal(seam_timers_armed(), 0);
	assert_int_equal(seam_fds_watched(), 0);
}

/* ---- tests with real VMs -------------------------------------------------------------- */

struct progress {
	int calls;
	bool completed;
	int64_t downtime_ms;
	uint64_t bytes_total;
	int max_percent;
};

static void on_progress(void *opaque, const struct hv_migrate_progress *p)
{
	struct progress *pr = opaque;

	pr->calls++;
	if (p->percent > pr->max_percent)
		pr->max_percent = p->percent;
	if (p->bytes_total)
		pr->bytes_total = p->bytes_total;
	if (strcmp(p->phase, "completed") == 0) {
		pr->completed = true;
		pr->downtime_ms = p->downtime_ms;
	}
}

/* The migration's done and progress share one opaque: the test's. */
struct migration {
	struct done d;
	struct progress p;
};

static void on_mig_done(void *opaque, int result, const char *msg)
{
	on_done(&((struct migration *)opaque)->d, result, msg);
}

static void on_mig_progress(void *opaque, const struct hv_migrate_progress *p)
{
	on_progress(&((struct migration *)opaque)->p, p);
}

static void prepare(struct hv *b, const char *name, uint64_t inc, char *uri, size_t len)
{
	char def[2048];
	struct hv_migrate_in in = {.name = name,
				   .definition = def,
				   .incarnation = inc,
				   .memory_mib = MEM_MIB,
				   .vcpus = 1,
				   .source_host = "a",
				   .listen_addr = "127.0.0.1"};
	struct done d = {0};

	definition(def, sizeof(def), lun1);
	assert_int_equal(qemu->migrate_prepare(b, &in, on_done, &d), 0);
	wait_done(&d, "migrate_prepare");
	if (d.result != 0)
		fail_msg("migrate_prepare: %d %s", d.result, d.msg);
	assert_true(strncmp(d.msg, "tcp:127.0.0.1:", 14) == 0);
	assert_true(atoi(d.msg + 14) > 0);
	hax_strlcpy(uri, d.msg, len);
}

static void migrate(struct hv *a, const char *name, const char *uri, struct migration *m)
{
	struct hv_migrate_out out = {.name = name,
				     .incarnation = 7,
				     .target_host = "b",
				     .target_addr = "127.0.0.1",
				     .uri = uri,
				     .timeout_ms = 60000};

	memset(m, 0, sizeof(*m));
	m->p.max_percent = -1;
	assert_int_equal(qemu->migrate_send(a, &out, on_mig_progress, on_mig_done, m), 0);
	assert_int_equal(m->d.calls, 0);
	wait_done(&m->d, "migrate_send");
}

/*
 * One guest's life across two hosts: start on a (journal written, listed with its
 * incarnation), a haxd restart on a, a failed migration (source keeps running), a live
 * migration to b (progress, downtime, journal continuous), then a graceful stop on b.
 */
static void test_vm_lifecycle(void **unused)
{
	struct hv *a = host_up(dir_a, 1, IQN_A), *b;
	const struct hv_domain_info *info;
	struct journal_view v, w;
	struct migration m;
	struct listing l;
	struct done d;
	char uri[128], path[PATH_MAX];
	pid_t pa, pb;
	uint64_t t0;

	(void)unused;
	/* (1) start: the guest writes its journal to the LUN as this host. */
	assert_int_equal(start(a, "web", lun1, 7, &d), 0);
	assert_int_equal(start(a, "web", lun1, 8, &d), -EBUSY);
	wait_done(&d, "start");
	if (d.result != 0)
		fail_msg("start: %d %s", d.result, d.msg);
	assert_int_equal(start(a, "web", lun1, 8, &d), -EEXIST);
	pa = qemu_of(dir_a, "web");
	assert_true(pa > 0);
	assert_true(cmdline_has(pa, "initiator-name=" IQN_A));
	assert_true(cmdline_has(pa, "hax.incarnation=7 hax.nodeid=1"));
	wait_records(lun1, 50, &v);
	assert_int_equal(v.nviol, 0);
	assert_int_equal(v.ninc, 1);
	assert_int_equal(v.first_inc, 7);
	assert_int_equal(v.first_node, 1);

	/* (2) listed running, with its incarnation. */
	list(a, &l);
	assert_int_equal(l.n, 1);
	info = listed(&l, "web");
	assert_non_null(info);
	assert_int_equal(info->state, HV_RUNNING);
	assert_int_equal(info->incarnation, 7);
	assert_int_equal(info->memory_mib, MEM_MIB);
	assert_int_equal(info->vcpus, 1);

	/* (5) haxd restarts: the VM runs on and the new driver finds it. */
	qemu->fini(a);
	assert_int_equal(seam_fds_watched(), 0);
	a = host_up(dir_a, 1, IQN_A);
	list(a, &l);
	assert_int_equal(l.n, 1);
	assert_int_equal(listed(&l, "web")->incarnation, 7);
	assert_int_equal(listed(&l, "web")->state, HV_RUNNING);
	assert_int_equal(qemu_of(dir_a, "web"), pa);

	/* A migration nobody receives fails, and the guest runs on at the source. */
	migrate(a, "web", "tcp:127.0.0.1:1", &m);
	assert_true(m.d.result < 0);
	fprintf(stderr, "# failed migration: %s\n", m.d.msg);
	list(a, &l);
	assert_int_equal(listed(&l, "web")->state, HV_RUNNING);
	read_journal(lun1, &v);
	wait_records(lun1, v.records + 25, &v);

	/* (4) live migration to host b. */
	b = host_up(dir_b, 2, IQN_B);
	prepare(b, "web", 7, uri, sizeof(uri));
	list(b, &l);
	assert_int_equal(l.n, 1);
	assert_int_equal(listed(&l, "web")->state, HV_INCOMING);
	assert_int_equal(listed(&l, "web")->incarnation, 7);
	pb = qemu_of(dir_b, "web");
	assert_true(cmdline_has(pb, "initiator-name=" IQN_B));
	snprintf(path, sizeof(path), "%s/qemu/web/meta.json", dir_b);
	assert_true(file_has(path, "\"incoming\":true"));
	t0 = mono_ms();
	migrate(a, "web", uri, &m);
	if (m.d.result != 0)
		fail_msg("migrate: %d %s", m.d.result, m.d.msg);
	fprintf(stderr,
		"# migrated in %" PRIu64 " ms: %d progress reports, %" PRIu64
		" bytes of RAM, downtime %" PRId64 " ms\n",
		mono_ms() - t0, m.p.calls, m.p.bytes_total, m.p.downtime_ms);
	assert_true(m.p.completed);
	assert_true(m.p.downtime_ms >= 0);
	assert_int_equal(m.p.max_percent, 100);
	assert_true(m.p.bytes_total >= (uint64_t)MEM_MIB * 1024 * 1024 / 2);
	assert_int_equal(qemu_of(dir_a, "web"), 0);
	list(a, &l);
	assert_int_equal(l.n, 0);
	list(b, &l);
	assert_int_equal(l.n, 1);
	assert_int_equal(listed(&l, "web")->state, HV_RUNNING);
	assert_int_equal(listed(&l, "web")->incarnation, 7);
	/* The received copy is the live one now, for a later haxd on b as well. */
	assert_true(file_has(path, "\"incoming\":false"));
	qemu->fini(b);
	b = host_up(dir_b, 2, IQN_B);
	list(b, &l);
	assert_int_equal(listed(&l, "web")->state, HV_RUNNING);
	assert_int_equal(qemu_of(dir_b, "web"), pb);

	/* The journal goes on from b: one incarnation, no second writer, no lost seq. */
	read_journal(lun1, &v);
	wait_records(lun1, v.records + 50, &w);
	fprintf(stderr,
		"# journal: %" PRIu64 " records, longest gap %" PRIu64 " ms before seq %" PRIu64
		"\n",
		w.records, w.max_gap_ms, w.gap_at_seq);
	assert_int_equal(w.nviol, 0);
	assert_int_equal(w.ninc, 1);
	assert_int_equal(w.records, w.max_seq + 1);

	/* (3) graceful stop on b: the power button, hax-guest stops cleanly, QEMU exits. */
	t0 = mono_ms();
	stop_ok(b, "web", 60000);
	fprintf(stderr, "# graceful stop in %" PRIu64 " ms\n", mono_ms() - t0);
	assert_int_equal(qemu_of(dir_b, "web"), 0);
	snprintf(path, sizeof(path), "%s/qemu/web/console.log", dir_b);
	assert_true(file_has(path, "power button: stopping hax-guest"));
	assert_true(file_has(path, "hax-guest exited with status 0"));
	list(b, &l);
	assert_int_equal(l.n, 0);
	read_journal(lun1, &w);
	assert_int_equal(w.nviol, 0);
	assert_int_equal(w.records, w.max_seq + 1);
	qemu->fini(a);
	qemu->fini(b);
	assert_int_equal(seam_timers_armed(), 0);
	assert_int_equal(seam_fds_watched(), 0);
}

/*
 * (3b) The power button pressed while the guest still boots is pressed again until the
 * guest sees it; a guest that ignores it (here: paused) is quit after the timeout.
 */
static void test_vm_stop_early_and_forced(void **unused)
{
	struct hv *a = host_up(dir_a, 1, IQN_A);
	char path[PATH_MAX];
	struct journal_view v;
	struct listing l;
	struct done d;
	uint64_t t0;
	int i;

	(void)unused;
	assert_int_equal(start(a, "db", lun2, 3, &d), 0);
	wait_done(&d, "start");
	if (d.result != 0)
		fail_msg("start: %d %s", d.result, d.msg);
	t0 = mono_ms();
	stop_ok(a, "db", 60000);
	fprintf(stderr, "# graceful stop during boot in %" PRIu64 " ms\n", mono_ms() - t0);
	snprintf(path, sizeof(path), "%s/qemu/db/console.log", dir_a);
	assert_true(file_has(path, "power button: stopping hax-guest"));
	assert_int_equal(qemu_of(dir_a, "db"), 0);

	assert_int_equal(start(a, "db", lun2, 4, &d), 0);
	wait_done(&d, "start");
	if (d.result != 0)
		fail_msg("start: %d %s", d.result, d.msg);
	/* Records of incarnation 4 itself: the first start may have left some of its own. */
	{
		uint64_t t0w = mono_ms();

		for (read_journal(lun2, &v); v.last_inc != 4; read_journal(lun2, &v)) {
			if (mono_ms() - t0w > BOOT_WAIT_MS)
				fail_msg("incarnation 4 wrote nothing in %d ms", BOOT_WAIT_MS);
			seam_run_for(500);
		}
	}
	assert_int_equal(qemu->pause(a, "db", true), 0);
	for (i = 0; i < 50; i++) {
		list(a, &l);
		if (listed(&l, "db")->state == HV_PAUSED)
			break;
		seam_run_for(100);
	}
	assert_int_equal(listed(&l, "db")->state, HV_PAUSED);
	t0 = mono_ms();
	stop_ok(a, "db", 1500);
	assert_true(mono_ms() - t0 >= 1500);
	assert_int_equal(qemu_of(dir_a, "db"), 0);
	list(a, &l);
	assert_int_equal(l.n, 0);
	read_journal(lun2, &v);
	assert_int_equal(v.nviol, 0);
	/* The first start may or may not have written before its power button was seen
	 * (a slow, loaded host boots slowly): either way the second one wrote last. */
	assert_true(v.ninc == 1 || v.ninc == 2);
	assert_int_equal(v.last_inc, 4);
	qemu->fini(a);
}

/* A start whose disk cannot be opened fails with QEMU's reason and leaves nothing. */
static void test_vm_start_fails(void **unused)
{
	struct hv *a = host_up(dir_a, 1, IQN_A);
	char path[PATH_MAX];
	struct listing l;
	struct done d;

	(void)unused;
	assert_int_equal(start(a, "bad", badlun, 1, &d), 0);
	wait_done(&d, "start");
	fprintf(stderr, "# failed start: %d %s\n", d.result, d.msg);
	assert_true(d.result < 0);
	assert_true(d.msg[0] != '\0');
	assert_int_equal(qemu_of(dir_a, "bad"), 0);
	list(a, &l);
	assert_int_equal(l.n, 0);
	snprintf(path, sizeof(path), "%s/qemu/bad/meta.json", dir_a);
	assert_int_not_equal(access(path, F_OK), 0);
	qemu->fini(a);
	assert_int_equal(seam_timers_armed(), 0);
	assert_int_equal(seam_children_watched(), 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest pure[] = {
	    cmocka_unit_test(test_registry),
	    cmocka_unit_test(test_validate),
	    cmocka_unit_test(test_policy),
	    cmocka_unit_test_setup_teardown(test_init_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_absent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_start_refused, setup, teardown),
	};
	const struct CMUnitTest vms[] = {
	    cmocka_unit_test_setup_teardown(test_vm_start_fails, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_vm_lifecycle, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_vm_stop_early_and_forced, setup, teardown),
	};
	int r;

	qemu = &hv_qemu_ops;
	signal(SIGPIPE, SIG_IGN);
	if (seam_init() < 0)
		return 1;
	if (argc > 1 && strcmp(argv[1], "--vm") == 0) {
		kernel = getenv("HAX_QEMU_KERNEL");
		initrd = getenv("HAX_QEMU_INITRD");
		lun1 = getenv("HAX_QEMU_LUN1");
		lun2 = getenv("HAX_QEMU_LUN2");
		badlun = getenv("HAX_QEMU_BADLUN");
		if (!kernel || !initrd || !lun1 || !lun2 || !badlun) {
			fprintf(stderr,
				"--vm needs HAX_QEMU_KERNEL, _INITRD, _LUN1, _LUN2, _BADLUN\n");
			return 1;
		}
		r = cmocka_run_group_tests_name("qemu-vms", vms, NULL, NULL);
	} else {
		r = cmocka_run_group_tests_name("qemu-pure", pure, NULL, NULL);
	}
	seam_fini();
	return r;
}
