/*
 * The sim hypervisor driver. A domain is a detached hax-guest process that writes the
 * guest journal to its LUN; like a VM under its toolstack, it survives haxd restarts.
 * Each domain lives in STATE_DIR/sim/NAME/: meta.json (written before start), pid
 * (written by the guest's own process before exec, so no running guest is ever
 * untracked) and console.log (the guest's stderr).
 */
#include "hv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "lib/loop.h"

#ifndef HAX_LIBEXECDIR
#define HAX_LIBEXECDIR "/usr/libexec"
#endif

#define SIM_POLL_MS 100
#define SIM_START_SETTLE_MS 300
#define SIM_START_DEADLINE_MS 10000
#define SIM_KILL_GRACE_MS 5000

struct sim_op;

struct hv {
	char dir[PATH_MAX / 2];    /* STATE_DIR/sim; half, so NAME/FILE always fits PATH_MAX */
	char guest[PATH_MAX];      /* hax-guest program */
	char host[HAX_NAME_MAX];
	uint32_t nodeid;
	char iqn[256];
	uint64_t pr_key;
	uint64_t mem_mib;
	uint32_t vcpus;
	struct sim_op *ops;        /* in-flight operations, cancelled by fini */
};

enum sim_op_kind { OP_START, OP_STOP, OP_DESTROY, OP_LIST, OP_MIG_IN, OP_MIG_OUT };

struct sim_op {
	struct sim_op *next;
	struct hv *hv;
	enum sim_op_kind kind;
	char name[HAX_NAME_MAX];
	pid_t pid;
	uint64_t deadline_ns;      /* stop: SIGKILL after; kill: give up after */
	bool killed;
	hax_timer_t timer;
	hv_done_fn done;
	hv_list_fn list_done;
	hv_progress_fn progress;
	void *opaque;
	char uri[96];              /* migrate-in: what the source connects to */
	char last_progress[128];
};

struct sim_def {
	char disk[1024];
	char interval[32];
	char state_size[24];       /* bytes the guest's migration carries ("" = its default) */
	char migrate_speed[24];    /* bytes/s of a migration ("" = unlimited) */
};

/* "N", "NK", "NM" or "NG" (powers of 1024) into a decimal byte count within [min, max]. */
static int parse_bytes(const char *s, uint64_t min, uint64_t max, char *out, size_t len)
{
	char *end;
	unsigned long long v;
	int shift = 0;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	v = strtoull(s, &end, 10);
	if (*end == 'k' || *end == 'K')
		shift = 10;
	else if (*end == 'm' || *end == 'M')
		shift = 20;
	else if (*end == 'g' || *end == 'G')
		shift = 30;
	if ((shift && end[1]) || (!shift && *end) || v > (max >> shift) || (v << shift) < min)
		return -EINVAL;
	snprintf(out, len, "%llu", v << shift);
	return 0;
}

/* Parse "key = value" lines; '#' comments. */
static int sim_parse_def(const char *text, struct sim_def *def, char *err, size_t errlen)
{
	const char *p = text;
	int line = 0;

	memset(def, 0, sizeof(*def));
	hax_strlcpy(def->interval, "20ms", sizeof(def->interval));
	while (*p) {
		char buf[1200], key[64], val[1100];
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		uint64_t ms;

		line++;
		if (len >= sizeof(buf)) {
			snprintf(err, errlen, "sim definition line %d: too long", line);
			return -EINVAL;
		}
		memcpy(buf, p, len);
		buf[len] = '\0';
		p += len + (nl ? 1 : 0);
		if (buf[strspn(buf, " \t\r")] == '#' || buf[strspn(buf, " \t\r")] == '\0')
			continue;
		if (sscanf(buf, " %63[a-z_] = %1099[^\r\n]", key, val) != 2) {
			snprintf(err, errlen, "sim definition line %d: expected key = value", line);
			return -EINVAL;
		}
		val[strcspn(val, " \t")] = '\0';
		if (strcmp(key, "disk") == 0) {
			hax_strlcpy(def->disk, val, sizeof(def->disk));
		} else if (strcmp(key, "drbd") == 0 && hax_valid_name(val)) {
			/* the agent promotes the resource before the start (agent.c) */
		} else if (strcmp(key, "interval") == 0 && hax_parse_duration_ms(val, &ms) == 0 &&
			   ms >= 1 && ms <= 10000) {
			hax_strlcpy(def->interval, val, sizeof(def->interval));
		} else if (strcmp(key, "state_size") == 0 &&
			   parse_bytes(val, 4096, 256ull << 20, def->state_size,
				       sizeof(def->state_size)) == 0) {
			/* what a migration carries: the guest's "memory" */
		} else if (strcmp(key, "migrate_speed") == 0 &&
			   parse_bytes(val, 65536, 1ull << 40, def->migrate_speed,
				       sizeof(def->migrate_speed)) == 0) {
			/* a migration's bandwidth limit, as QEMU's and xl's have */
		} else {
			snprintf(err, errlen, "sim definition line %d: bad key or value \"%s\"", line,
				 key);
			return -EINVAL;
		}
	}
	if (!def->disk[0]) {
		snprintf(err, errlen, "sim definition: \"disk = iscsi://... or FILE\" is required");
		return -EINVAL;
	}
	return 0;
}

static int sim_validate(const char *definition, char *err, size_t errlen)
{
	struct sim_def def;

	return sim_parse_def(definition, &def, err, errlen);
}

static void dom_path(const struct hv *hv, const char *name, const char *file, char *out,
		     size_t len)
{
	snprintf(out, len, "%s/%s%s%s", hv->dir, name, file ? "/" : "", file ? file : "");
}

static int read_dom_file(const struct hv *hv, const char *name, const char *file, char *buf,
			 size_t len)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	dom_path(hv, name, file, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -EIO;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return (int)n;
}

/* The pid NAME's guest process recorded (before it exec'd hax-guest), or 0. */
static long recorded_pid(const struct hv *hv, const char *name)
{
	char buf[32];
	long pid;

	if (read_dom_file(hv, name, "pid", buf, sizeof(buf)) <= 0)
		return 0;
	pid = strtol(buf, NULL, 10);
	return pid > 1 ? pid : 0;
}

/* The pid of NAME's guest if that process is alive and really is NAME's hax-guest. */
static pid_t guest_pid(const struct hv *hv, const char *name)
{
	char path[PATH_MAX], buf[4096];
	ssize_t n;
	long pid = recorded_pid(hv, name);
	int fd;

	if (!pid)
		return 0;
	/* A recycled pid belongs to another program: compare the command line. */
	snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0; /* a zombie has an empty command line */
	buf[n] = '\0';
	if (!memmem(buf, (size_t)n, "hax-guest", 9))
		return 0;
	for (char *p = buf; p < buf + n; p += strlen(p) + 1)
		if (strcmp(p, "--domain") == 0 && p + strlen(p) + 1 < buf + n &&
		    strcmp(p + strlen(p) + 1, name) == 0)
			return (pid_t)pid;
	return 0;
}

static json_t *read_meta(const struct hv *hv, const char *name)
{
	char path[PATH_MAX];

	dom_path(hv, name, "meta.json", path, sizeof(path));
	return json_load_file(path, 0, NULL);
}

static struct sim_op *op_new(struct hv *hv, enum sim_op_kind kind, const char *name,
			     hv_done_fn done, void *opaque)
{
	struct sim_op *op = hax_xcalloc(1, sizeof(*op));

	op->hv = hv;
	op->kind = kind;
	hax_strlcpy(op->name, name ? name : "", sizeof(op->name));
	op->done = done;
	op->opaque = opaque;
	op->next = hv->ops;
	hv->ops = op;
	return op;
}

static void op_free(struct sim_op *op)
{
	struct sim_op **pp;

	for (pp = &op->hv->ops; *pp; pp = &(*pp)->next)
		if (*pp == op) {
			*pp = op->next;
			break;
		}
	hax_timer_del(op->timer);
	free(op);
}

/* Complete an operation: the callback may start new operations, so unlink first. */
static void op_finish(struct sim_op *op, int result, const char *msg)
{
	hv_done_fn done = op->done;
	void *opaque = op->opaque;
	char text[256];

	/* msg may live in op (a migration's uri or reason). */
	if (msg)
		hax_strlcpy(text, msg, sizeof(text));
	op_free(op);
	if (done)
		done(opaque, result, msg ? text : NULL);
}

static int op_arm(struct sim_op *op, uint64_t ms, hax_timer_fn fn)
{
	op->timer = 0;
	return hax_timer_add(ms, fn, op, &op->timer);
}

static void remove_domain_files(const struct hv *hv, const char *name)
{
	static const char *const files[] = {"pid", "meta.json", "incoming", "incoming-port",
					    "migrate-to", "migrate-progress", "migrate-result"};
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < HAX_ARRAY_SIZE(files); i++) {
		dom_path(hv, name, files[i], path, sizeof(path));
		unlink(path);
	}
}

/* In the grandchild: record our own pid, then become the guest. Never returns. */
static void exec_guest(const struct hv *hv, const struct hv_start *req, const struct sim_def *def,
		       const char *incoming)
{
	char path[PATH_MAX], pidtxt[32], inc[32], node[32], key[32], ctl[PATH_MAX];
	int fd;

	dom_path(hv, req->name, "pid", path, sizeof(path));
	snprintf(pidtxt, sizeof(pidtxt), "%ld\n", (long)getpid());
	if (hv_write_file_atomic(path, pidtxt) < 0)
		_exit(127);
	dom_path(hv, req->name, "console.log", path, sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
	}
	fd = open("/dev/null", O_RDONLY);
	if (fd >= 0) {
		dup2(fd, 0);
		close(fd);
	}
	snprintf(inc, sizeof(inc), "%llu", (unsigned long long)req->incarnation);
	snprintf(node, sizeof(node), "%u", hv->nodeid);
	snprintf(key, sizeof(key), "0x%llx", (unsigned long long)hv->pr_key);
	dom_path(hv, req->name, NULL, ctl, sizeof(ctl));
	/* With scsi fencing the guest's own iSCSI session registers the host's key, so a
	 * PREEMPT of that key cuts the guest off too. */
	const char *argv[32] = {"hax-guest", "--domain", req->name, "--incarnation", inc,
				"--nodeid", node, "--disk", def->disk, "--initiator", hv->iqn,
				"--interval", def->interval, "--control", ctl};
	int argc = 15;

	if (incoming) {
		argv[argc++] = "--incoming";
		argv[argc++] = incoming;
	}
	if (def->state_size[0]) {
		argv[argc++] = "--state-size";
		argv[argc++] = def->state_size;
	}
	if (def->migrate_speed[0]) {
		argv[argc++] = "--migrate-speed";
		argv[argc++] = def->migrate_speed;
	}
	if (hv->pr_key) {
		argv[argc++] = "--pr-key";
		argv[argc++] = key;
	}
	argv[argc] = NULL;
	execv(hv->guest, (char *const *)argv);
	fprintf(stderr, "hax-guest: exec %s: %s\n", hv->guest, strerror(errno));
	_exit(127);
}

/* Double fork so the guest is nobody's child of ours and survives haxd. */
static int spawn_detached(const struct hv *hv, const struct hv_start *req,
			  const struct sim_def *def, const char *incoming)
{
	int status;
	pid_t child = fork();

	if (child < 0)
		return -errno;
	if (child == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		setsid();
		for (int fd = 3; fd < 1024; fd++)
			close(fd);
		if (fork() == 0)
			exec_guest(hv, req, def, incoming);
		_exit(0);
	}
	/* The middle child exits at once: this wait is immediate. */
	if (waitpid(child, &status, 0) < 0)
		return -errno;
	return 0;
}

/* A guest just spawned: its pid file not written yet, or naming a live process that
 * may not have become hax-guest yet (a zombie, exited and not yet reaped by whoever
 * adopted it, is not alive). */
static bool guest_starting(const struct hv *hv, const char *name)
{
	char path[PATH_MAX], stat[512];
	long pid = recorded_pid(hv, name);
	const char *rp;
	ssize_t n;
	int fd;

	dom_path(hv, name, "pid", path, sizeof(path));
	if (access(path, F_OK) < 0)
		return true;
	if (!pid || kill((pid_t)pid, 0) < 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, stat, sizeof(stat) - 1);
	close(fd);
	stat[n > 0 ? n : 0] = '\0';
	rp = strrchr(stat, ')');
	return rp && rp[1] == ' ' && rp[2] != 'Z' && rp[2] != 'X';
}

/* Settled once hax-guest runs. On a starved host the spawned process may not even have
 * written its pid file, or not yet exec'd, after SIM_START_SETTLE_MS: that is waited
 * for (up to SIM_START_DEADLINE_MS); a guest that exec'd and exited is a failure. */
static void start_settled(void *data)
{
	struct sim_op *op = data;

	op->timer = 0;
	if (guest_pid(op->hv, op->name) > 0) {
		op_finish(op, 0, NULL);
		return;
	}
	if (hax_now_mono_ns() < op->deadline_ns && guest_starting(op->hv, op->name) &&
	    op_arm(op, SIM_POLL_MS, start_settled) == 0)
		return;
	op_finish(op, -EIO, "guest exited during start (see its console.log)");
}

/* The domain's directory made afresh (meta.json before the guest, so no running guest is
 * ever without its incarnation) and the guest spawned; incoming: receive a migration. */
static int launch(struct hv *hv, const struct hv_start *req, const struct sim_def *def,
		  const char *incoming)
{
	char path[PATH_MAX];
	struct sim_op *op;
	json_t *meta;
	char *text;
	int r;

	/* A start not yet settled has no exec'd guest for guest_pid to see. */
	for (op = hv->ops; op; op = op->next)
		if (op->kind != OP_LIST && strcmp(op->name, req->name) == 0)
			return -EBUSY;
	if (guest_pid(hv, req->name) > 0)
		return -EEXIST;
	dom_path(hv, req->name, NULL, path, sizeof(path));
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return -errno;
	remove_domain_files(hv, req->name);
	meta = json_pack("{s:s, s:I, s:I, s:I, s:s}", "name", req->name, "incarnation",
			 (json_int_t)req->incarnation, "memory_mib", (json_int_t)req->memory_mib,
			 "vcpus", (json_int_t)req->vcpus, "disk", def->disk);
	text = json_dumps(meta, JSON_COMPACT);
	json_decref(meta);
	dom_path(hv, req->name, "meta.json", path, sizeof(path));
	r = text ? hv_write_file_atomic(path, text) : -ENOMEM;
	free(text);
	if (r == 0 && incoming) {
		dom_path(hv, req->name, "incoming", path, sizeof(path));
		r = hv_write_file_atomic(path, "");
	}
	if (r < 0)
		return r;
	return spawn_detached(hv, req, def, incoming);
}

static int sim_start(struct hv *hv, const struct hv_start *req, hv_done_fn done, void *opaque)
{
	char err[256];
	struct sim_def def;
	struct sim_op *op;
	int r;

	if (sim_parse_def(req->definition, &def, err, sizeof(err)) < 0)
		return -EINVAL;
	r = launch(hv, req, &def, NULL);
	if (r < 0)
		return r;
	op = op_new(hv, OP_START, req->name, done, opaque);
	op->deadline_ns = hax_now_mono_ns() + SIM_START_DEADLINE_MS * 1000000ull;
	r = op_arm(op, SIM_START_SETTLE_MS, start_settled);
	if (r < 0) {
		op_free(op);
		return r;
	}
	return 0;
}

/* Poll until the guest is gone; SIGKILL once the graceful deadline passes. */
static void stop_poll(void *data)
{
	struct sim_op *op = data;
	pid_t pid = guest_pid(op->hv, op->name);
	uint64_t now = hax_now_mono_ns();

	op->timer = 0;
	if (pid <= 0) {
		remove_domain_files(op->hv, op->name);
		op_finish(op, 0, NULL);
		return;
	}
	if (now >= op->deadline_ns) {
		if (op->killed) {
			op_finish(op, -ETIMEDOUT, "guest survived SIGKILL");
			return;
		}
		kill(pid, SIGKILL);
		op->killed = true;
		op->deadline_ns = now + SIM_KILL_GRACE_MS * 1000000ull;
	}
	if (op_arm(op, SIM_POLL_MS, stop_poll) < 0)
		op_finish(op, -ENOMEM, "cannot arm timer");
}

static int sim_stop_common(struct hv *hv, const char *name, uint64_t timeout_ms, int sig,
			   hv_done_fn done, void *opaque)
{
	pid_t pid = guest_pid(hv, name);
	struct sim_op *op = op_new(hv, sig == SIGKILL ? OP_DESTROY : OP_STOP, name, done, opaque);
	int r;

	op->killed = sig == SIGKILL;
	op->deadline_ns = hax_now_mono_ns() + timeout_ms * 1000000ull;
	if (pid > 0)
		kill(pid, sig);
	/* Even an already-stopped domain completes from the loop, never inside this call. */
	r = op_arm(op, pid > 0 ? SIM_POLL_MS : 0, stop_poll);
	if (r < 0)
		op_free(op);
	return r;
}

static int sim_stop(struct hv *hv, const char *name, uint64_t timeout_ms, hv_done_fn done,
		    void *opaque)
{
	return sim_stop_common(hv, name, timeout_ms, SIGTERM, done, opaque);
}

static int sim_destroy(struct hv *hv, const char *name, hv_done_fn done, void *opaque)
{
	return sim_stop_common(hv, name, SIM_KILL_GRACE_MS, SIGKILL, done, opaque);
}

/* A frozen sim guest is a stopped process: it writes nothing until thawed. */
static int sim_pause(struct hv *hv, const char *name, bool paused)
{
	pid_t pid = guest_pid(hv, name);

	if (pid <= 0)
		return -ENOENT;
	return kill(pid, paused ? SIGSTOP : SIGCONT) < 0 ? -errno : 0;
}

/* ---- migration: the guests copy themselves (guest/guest_migrate.h); the driver
 * starts the receiver, signals the sender and watches their control files ---- */

static void prepare_poll(void *data)
{
	struct sim_op *op = data;
	char port[32];
	uint64_t now = hax_now_mono_ns();

	op->timer = 0;
	if (read_dom_file(op->hv, op->name, "incoming-port", port, sizeof(port)) > 0) {
		snprintf(op->uri + strlen(op->uri), sizeof(op->uri) - strlen(op->uri), ":%s", port);
		op_finish(op, 0, op->uri);
		return;
	}
	/* As for a start, a receiver neither running nor still starting has died. */
	if (now >= op->deadline_ns ||
	    (guest_pid(op->hv, op->name) <= 0 && !guest_starting(op->hv, op->name))) {
		pid_t pid = guest_pid(op->hv, op->name);

		if (pid > 0)
			kill(pid, SIGKILL);
		op_finish(op, -EIO, "the receiving guest did not get ready (see its console.log)");
		return;
	}
	if (op_arm(op, 20, prepare_poll) < 0)
		op_finish(op, -ENOMEM, "cannot arm timer");
}

static int sim_migrate_prepare(struct hv *hv, const struct hv_migrate_in *req, hv_done_fn done,
			       void *opaque)
{
	struct hv_start start = {.name = req->name, .definition = req->definition,
				 .incarnation = req->incarnation, .memory_mib = req->memory_mib,
				 .vcpus = req->vcpus};
	struct sim_def def;
	struct sim_op *op;
	char err[256];
	int r;

	if (!req->listen_addr || !*req->listen_addr ||
	    sim_parse_def(req->definition, &def, err, sizeof(err)) < 0)
		return -EINVAL;
	r = launch(hv, &start, &def, req->listen_addr);
	if (r < 0)
		return r;
	op = op_new(hv, OP_MIG_IN, req->name, done, opaque);
	snprintf(op->uri, sizeof(op->uri), "tcp:%s", req->listen_addr);
	op->deadline_ns = hax_now_mono_ns() + 10000 * 1000000ull;
	r = op_arm(op, 20, prepare_poll);
	if (r < 0)
		op_free(op);
	return r;
}

static void report_progress(struct sim_op *op)
{
	char line[128], phase[32];
	unsigned long long done = 0, total = 0;
	struct hv_migrate_progress p = {.phase = phase, .percent = -1, .downtime_ms = -1};

	if (read_dom_file(op->hv, op->name, "migrate-progress", line, sizeof(line)) <= 0 ||
	    strcmp(line, op->last_progress) == 0 ||
	    sscanf(line, "%31s %llu %llu", phase, &done, &total) != 3)
		return;
	hax_strlcpy(op->last_progress, line, sizeof(op->last_progress));
	p.bytes_done = done;
	p.bytes_total = total;
	if (total)
		p.percent = (int)(done * 100 / total);
	if (op->progress)
		op->progress(op->opaque, &p);
}

static void send_poll(void *data)
{
	struct sim_op *op = data;
	char res[300];
	pid_t pid = guest_pid(op->hv, op->name);

	op->timer = 0;
	report_progress(op);
	if (read_dom_file(op->hv, op->name, "migrate-result", res, sizeof(res)) > 0) {
		if (strncmp(res, "failed: ", 8) == 0) {
			char path[PATH_MAX];

			dom_path(op->hv, op->name, "migrate-result", path, sizeof(path));
			unlink(path);
			op_finish(op, -EIO, res + 8);
			return;
		}
		if (pid <= 0) { /* committed, and the source copy is gone */
			remove_domain_files(op->hv, op->name);
			op_finish(op, 0, NULL);
			return;
		}
	} else if (pid <= 0) {
		remove_domain_files(op->hv, op->name);
		op_finish(op, -EIO, "the guest died during its migration");
		return;
	}
	if (hax_now_mono_ns() >= op->deadline_ns) {
		op_finish(op, -EPROTO, "no outcome from the migrating guest in time");
		return;
	}
	if (op_arm(op, SIM_POLL_MS, send_poll) < 0)
		op_finish(op, -ENOMEM, "cannot arm timer");
}

static int sim_migrate_send(struct hv *hv, const struct hv_migrate_out *req,
			    hv_progress_fn progress, hv_done_fn done, void *opaque)
{
	char addr[64], path[PATH_MAX], line[128];
	unsigned port;
	pid_t pid = guest_pid(hv, req->name);
	struct sim_op *op;
	int r;

	if (pid <= 0)
		return -ENOENT;
	for (op = hv->ops; op; op = op->next)
		if (op->kind != OP_LIST && strcmp(op->name, req->name) == 0)
			return -EBUSY;
	if (!req->uri || sscanf(req->uri, "tcp:%63[0-9.]:%u", addr, &port) != 2 || port == 0 ||
	    port > 65535)
		return -EINVAL;
	dom_path(hv, req->name, "migrate-result", path, sizeof(path));
	unlink(path);
	dom_path(hv, req->name, "migrate-progress", path, sizeof(path));
	unlink(path);
	snprintf(line, sizeof(line), "%s %u %llu\n", addr, port,
		 (unsigned long long)req->timeout_ms);
	dom_path(hv, req->name, "migrate-to", path, sizeof(path));
	r = hv_write_file_atomic(path, line);
	if (r < 0)
		return r;
	if (kill(pid, SIGUSR1) < 0)
		return -errno;
	op = op_new(hv, OP_MIG_OUT, req->name, done, opaque);
	op->progress = progress;
	/* The guest bounds the transfer itself; this only catches a guest that hangs. */
	op->deadline_ns = hax_now_mono_ns() + (req->timeout_ms + 30000) * 1000000ull;
	r = op_arm(op, SIM_POLL_MS, send_poll);
	if (r < 0)
		op_free(op);
	return r;
}

/* A live guest's state: receiving a migration (not committed yet), migrated away (its
 * commit sent, about to exit), or running. */
static enum hv_dom_state guest_state(const struct hv *hv, const char *name)
{
	char res[16], path[PATH_MAX];

	dom_path(hv, name, "incoming", path, sizeof(path));
	if (access(path, F_OK) == 0)
		return HV_INCOMING;
	if (read_dom_file(hv, name, "migrate-result", res, sizeof(res)) > 0 &&
	    strcmp(res, "done") == 0)
		return HV_MIGRATED;
	return HV_RUNNING;
}

static size_t scan_guests(struct hv *hv, struct hv_domain_info **out)
{
	struct hv_domain_info *doms = NULL;
	size_t n = 0;
	struct dirent *de;
	DIR *d = opendir(hv->dir);

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		json_t *meta;

		if (!hax_valid_name(de->d_name) || guest_pid(hv, de->d_name) <= 0)
			continue;
		meta = read_meta(hv, de->d_name);
		doms = hax_xrealloc(doms, (n + 1) * sizeof(*doms));
		memset(&doms[n], 0, sizeof(doms[n]));
		hax_strlcpy(doms[n].name, de->d_name, sizeof(doms[n].name));
		doms[n].state = guest_state(hv, de->d_name);
		doms[n].incarnation = json_integer_value(json_object_get(meta, "incarnation"));
		doms[n].memory_mib = json_integer_value(json_object_get(meta, "memory_mib"));
		doms[n].vcpus = json_integer_value(json_object_get(meta, "vcpus"));
		json_decref(meta);
		n++;
	}
	closedir(d);
	*out = doms;
	return n;
}

static void list_now(void *data)
{
	struct sim_op *op = data;
	struct hv_domain_info *doms = NULL;
	size_t n = scan_guests(op->hv, &doms);
	hv_list_fn done = op->list_done;
	void *opaque = op->opaque;

	op_free(op);
	done(opaque, 0, doms, n);
	free(doms);
}

static int sim_list(struct hv *hv, hv_list_fn done, void *opaque)
{
	struct sim_op *op = op_new(hv, OP_LIST, NULL, NULL, opaque);
	int r;

	op->list_done = done;
	r = op_arm(op, 0, list_now);
	if (r < 0)
		op_free(op);
	return r;
}

static int sim_capacity(struct hv *hv, struct hv_capacity *out)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	out->mem_total_mib = hv->mem_mib ? hv->mem_mib : hv_meminfo_total_mib();
	out->vcpus = hv->vcpus ? hv->vcpus : (uint32_t)(n > 0 ? n : 1);
	return 0;
}

static void find_guest_program(struct hv *hv)
{
	const char *env = getenv("HAX_GUEST");
	char self[PATH_MAX / 2];
	ssize_t n;

	if (env && *env) {
		hax_strlcpy(hv->guest, env, sizeof(hv->guest));
		return;
	}
	/* Running from a build tree: hax-guest sits next to haxd. */
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		*strrchr(self, '/') = '\0';
		snprintf(hv->guest, sizeof(hv->guest), "%s/hax-guest", self);
		if (access(hv->guest, X_OK) == 0)
			return;
	}
	snprintf(hv->guest, sizeof(hv->guest), "%s/hax/hax-guest", HAX_LIBEXECDIR);
}

static int sim_init(struct hv **out, const struct hv_host *host, char *err, size_t errlen)
{
	struct hv *hv = hax_xcalloc(1, sizeof(*hv));

	snprintf(hv->dir, sizeof(hv->dir), "%s/sim", host->state_dir);
	if (mkdir(hv->dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", hv->dir, strerror(errno));
		free(hv);
		return -errno;
	}
	hax_strlcpy(hv->host, host->host_name, sizeof(hv->host));
	hax_strlcpy(hv->iqn, host->iqn, sizeof(hv->iqn));
	hv->nodeid = host->nodeid;
	hv->pr_key = host->pr_key;
	hv->mem_mib = host->mem_mib;
	hv->vcpus = host->vcpus;
	find_guest_program(hv);
	if (access(hv->guest, X_OK) < 0) {
		snprintf(err, errlen, "guest program %s: %s", hv->guest, strerror(errno));
		free(hv);
		return -ENOENT;
	}
	*out = hv;
	return 0;
}

static void sim_fini(struct hv *hv)
{
	if (!hv)
		return;
	while (hv->ops)
		op_free(hv->ops);
	free(hv);
}

const struct hv_ops hv_sim_ops = {
	.name = "sim",
	.init = sim_init,
	.fini = sim_fini,
	.list = sim_list,
	.capacity = sim_capacity,
	.validate = sim_validate,
	.start = sim_start,
	.stop = sim_stop,
	.destroy = sim_destroy,
	.pause = sim_pause,
	.live_migration = false,
	.migrate_prepare = sim_migrate_prepare,
	.migrate_send = sim_migrate_send,
};
