/*
 * The qemu hypervisor driver: one QEMU process per domain, driven through QMP (qmp.c)
 * on the loop. QEMU daemonizes, so it is nobody's child once started and survives haxd
 * restarts like a VM survives its toolstack; the driver finds it again in
 * STATE_DIR/qemu/NAME/: meta.json (written before start), pid (QEMU's -pidfile),
 * qmp.sock (its QMP server), console.log (the serial console) and qemu.log (QEMU's own
 * start-up errors).
 *
 * Definition (key = value lines, '#' comments; memory and vcpus come from the domain):
 *   kernel = /path/vmlinuz        direct kernel boot (with initrd, append), or
 *   image = iscsi://PORTAL/IQN/LUN | /path/boot.img   a raw boot disk
 *   disk = iscsi://PORTAL/IQN/LUN | /path/disk.img    raw data disk, repeatable (max 4)
 *   initrd = /path/initrd.gz      append = extra kernel parameters
 *   interval = 20ms               the lab guest's journal interval (hax.interval)
 *   cpu = qemu64   machine = pc   accel = tcg|kvm      drbd = RESOURCE (the agent's)
 * iSCSI disks use QEMU's libiscsi driver with the host's initiator name. With a kernel,
 * the guest gets hax.name, hax.incarnation, hax.nodeid and hax.interval on its command
 * line (scripts/build-guest-image makes a guest that runs hax-guest with them).
 */
#include "hv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "lib/loop.h"
#include "def_policy.h"
#include "qmp.h"

#define QEMU_MAX_DISKS 4
#define QEMU_START_TIMEOUT_MS 60000 /* QEMU's own start (iSCSI logins included) */
#define QEMU_POLL_MS 100
#define QEMU_KILL_GRACE_MS 5000
#define QEMU_POWERDOWN_REPEAT_MS 2000 /* a press while the guest boots may go unseen */
#define QEMU_QUIT_GRACE_MS 5000
#define QEMU_LIST_TIMEOUT_MS 3000
#define QEMU_MIGRATE_POLL_MS 200
#define QEMU_CANCEL_GRACE_MS 30000 /* after migrate_cancel, for a terminal state */
#define QEMU_MAX_ARGS 64

struct qop;

struct hv {
	char dir[PATH_MAX / 2];	 /* STATE_DIR/qemu */
	char qemu[PATH_MAX / 2]; /* the qemu-system program */
	char host[HAX_NAME_MAX];
	uint32_t nodeid;
	const char *paths; /* hv_host.domain_paths */
	char iqn[256];
	uint64_t mem_mib;
	uint32_t vcpus;
	uint64_t next_op_id;
	struct qdom *doms; /* QMP connections, one per QEMU we know */
	struct qop *ops;   /* in-flight operations, cancelled by fini */
};

/* A domain whose QEMU we talk to. Freed only after its QMP connection, so a pending
 * reply (data = the qdom) never outlives it. */
struct qdom {
	struct qdom *next;
	struct hv *hv;
	char name[HAX_NAME_MAX];
	struct qmp *qmp;
	char status[32]; /* last run state QEMU told us ("" = unknown) */
	bool incoming;	 /* meta.json still says "receiving a migration" */
	uint64_t owner;	 /* id of the operation that owns it (0 = none) */
};

enum qop_kind { OP_START, OP_PREPARE, OP_STOP, OP_DESTROY, OP_MIGRATE, OP_LIST };

enum qop_phase {
	PH_SPAWN,      /* start/prepare: QEMU's parent process not back yet */
	PH_QUERY,      /* start/prepare: QMP query-status (and migrate-incoming) */
	PH_GRACEFUL,   /* stop: system_powerdown sent, waiting */
	PH_QUIT,       /* stop, migrate: quit sent, waiting */
	PH_KILL,       /* SIGKILL sent, waiting */
	PH_MIGRATING,  /* migrate: polling query-migrate */
	PH_CANCELLING, /* migrate: migrate_cancel sent after the timeout */
	PH_RESUMING,   /* migrate failed: cont sent */
	PH_LISTING,
};

struct qop {
	struct qop *next;
	struct hv *hv;
	uint64_t id;
	enum qop_kind kind;
	enum qop_phase phase;
	char name[HAX_NAME_MAX];
	pid_t child; /* QEMU's -daemonize parent, while it runs */
	uint64_t deadline_ns;
	uint64_t repeat_ns; /* stop: when to press the power button again */
	hax_timer_t timer;
	hv_done_fn done;
	hv_list_fn list_done;
	hv_progress_fn progress;
	void *opaque;
	char addr[80]; /* prepare: where to listen; migrate: the target's uri */
	char msg[256];
	int result;
	int64_t downtime_ms;
	int waiting; /* list: replies still due */
	struct hv_domain_info *doms;
	size_t ndoms;
};

struct qemu_def {
	char kernel[512], initrd[512], append[1024], image[512];
	char disk[QEMU_MAX_DISKS][512];
	int ndisks;
	char interval[32];
	char cpu[64], machine[64], accel[8];
};

/* ---- definition ------------------------------------------------------------------ */

static bool has_only(const char *s, const char *extra)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr(extra, *s)))
			return false;
	return true;
}

/* iscsi://HOST[:PORT]/TARGET-IQN/LUN or an absolute path. QEMU splits -drive options at
 * commas, so a comma would let a definition inject options: refused. */
static bool valid_disk(const char *v)
{
	const char *host, *target, *lun;
	char *end;
	long n;

	if (v[0] == '/')
		return strlen(v) > 1 && has_only(v, "/._-+:@");
	if (strncmp(v, "iscsi://", 8) != 0 || !has_only(v + 8, "/._-:[]"))
		return false;
	host = v + 8;
	target = strchr(host, '/');
	if (!target || target == host)
		return false;
	lun = strchr(target + 1, '/');
	if (!lun || lun == target + 1 || !lun[1])
		return false;
	n = strtol(lun + 1, &end, 10);
	return *end == '\0' && n >= 0 && n <= 16383;
}

static int def_set(struct qemu_def *def, const char *key, const char *val)
{
	uint64_t ms;

	if (strcmp(key, "kernel") == 0 || strcmp(key, "initrd") == 0) {
		if (val[0] != '/' || !has_only(val, "/._-+") || strlen(val) >= sizeof(def->kernel))
			return -EINVAL;
		hax_strlcpy(key[0] == 'k' ? def->kernel : def->initrd, val, sizeof(def->kernel));
	} else if (strcmp(key, "append") == 0) {
		/* hax.* belong to the driver; one line, printable. */
		if (strstr(val, "hax.") || !has_only(val, " ._-+=,:/\"'@") ||
		    strlen(val) >= sizeof(def->append))
			return -EINVAL;
		hax_strlcpy(def->append, val, sizeof(def->append));
	} else if (strcmp(key, "image") == 0 || strcmp(key, "disk") == 0) {
		if (!valid_disk(val) || strlen(val) >= sizeof(def->image))
			return -EINVAL;
		if (key[0] == 'i')
			hax_strlcpy(def->image, val, sizeof(def->image));
		else if (def->ndisks < QEMU_MAX_DISKS)
			hax_strlcpy(def->disk[def->ndisks++], val, sizeof(def->disk[0]));
		else
			return -E2BIG;
	} else if (strcmp(key, "interval") == 0) {
		if (hax_parse_duration_ms(val, &ms) < 0 || ms < 1 || ms > 10000)
			return -EINVAL;
		hax_strlcpy(def->interval, val, sizeof(def->interval));
	} else if (strcmp(key, "cpu") == 0) {
		if (!val[0] || strlen(val) >= sizeof(def->cpu) || !has_only(val, "._-+=,"))
			return -EINVAL;
		hax_strlcpy(def->cpu, val, sizeof(def->cpu));
	} else if (strcmp(key, "machine") == 0) {
		/* A machine type, no properties: some read or write host files (dumpdtb=,
		 * memory-backend= to an -object that hax never gives). */
		if (!val[0] || strlen(val) >= sizeof(def->machine) || !has_only(val, "._-"))
			return -EINVAL;
		hax_strlcpy(def->machine, val, sizeof(def->machine));
	} else if (strcmp(key, "accel") == 0) {
		if (strcmp(val, "tcg") != 0 && strcmp(val, "kvm") != 0)
			return -EINVAL;
		hax_strlcpy(def->accel, val, sizeof(def->accel));
	} else if (strcmp(key, "drbd") == 0) {
		/* the agent promotes the resource before the start (agent.c) */
		return hax_valid_name(val) ? 0 : -EINVAL;
	} else {
		return -ENOENT;
	}
	return 0;
}

/* The value of a "key = value" line: append keeps its inner spaces, others end at one. */
static int def_line(struct qemu_def *def, char *buf, int line, char *err, size_t errlen)
{
	char key[64], val[1100];
	size_t n;
	int r;

	if (sscanf(buf, " %63[a-z_] = %1099[^\r\n]", key, val) != 2) {
		snprintf(err, errlen, "qemu definition line %d: expected key = value", line);
		return -EINVAL;
	}
	n = strlen(val);
	while (n > 0 && (val[n - 1] == ' ' || val[n - 1] == '\t'))
		val[--n] = '\0';
	if (strcmp(key, "append") != 0)
		val[strcspn(val, " \t")] = '\0';
	r = def_set(def, key, val);
	if (r == -ENOENT)
		snprintf(err, errlen, "qemu definition line %d: unknown key \"%s\"", line, key);
	else if (r == -E2BIG)
		snprintf(err, errlen, "qemu definition line %d: at most %d disks", line,
			 QEMU_MAX_DISKS);
	else if (r < 0)
		snprintf(err, errlen, "qemu definition line %d: bad value for %s: \"%.200s\"", line,
			 key, val);
	return r < 0 ? -EINVAL : 0;
}

static int def_check(const struct qemu_def *def, char *err, size_t errlen)
{
	if (!def->kernel[0] && !def->image[0]) {
		snprintf(err, errlen,
			 "qemu definition: \"kernel = PATH\" or \"image = DISK\" is required");
		return -EINVAL;
	}
	if (def->kernel[0] && def->image[0]) {
		snprintf(err, errlen, "qemu definition: kernel and image exclude each other");
		return -EINVAL;
	}
	if (!def->kernel[0] && (def->initrd[0] || def->append[0])) {
		snprintf(err, errlen, "qemu definition: initrd and append need a kernel");
		return -EINVAL;
	}
	if (!def->image[0] && def->ndisks == 0) {
		snprintf(err, errlen,
			 "qemu definition: \"disk = iscsi://PORTAL/IQN/LUN\" is required");
		return -EINVAL;
	}
	return 0;
}

static int qemu_parse_def(const char *text, struct qemu_def *def, char *err, size_t errlen)
{
	const char *p = text;
	int line = 0;

	memset(def, 0, sizeof(*def));
	hax_strlcpy(def->interval, "20ms", sizeof(def->interval));
	hax_strlcpy(def->cpu, "qemu64", sizeof(def->cpu));
	hax_strlcpy(def->machine, "pc", sizeof(def->machine));
	hax_strlcpy(def->accel, "tcg", sizeof(def->accel));
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char buf[1200];

		line++;
		if (len >= sizeof(buf)) {
			snprintf(err, errlen, "qemu definition line %d: too long", line);
			return -EINVAL;
		}
		memcpy(buf, p, len);
		buf[len] = '\0';
		p += len + (nl ? 1 : 0);
		if (buf[strspn(buf, " \t\r")] == '#' || buf[strspn(buf, " \t\r")] == '\0')
			continue;
		if (def_line(def, buf, line, err, errlen) < 0)
			return -EINVAL;
	}
	return def_check(def, err, errlen);
}

static int qemu_validate(const char *definition, char *err, size_t errlen)
{
	struct qemu_def def;

	return qemu_parse_def(definition, &def, err, errlen);
}

/* Host files QEMU (root) would open: kernel, initrd, file images and disks (iSCSI
 * disks are QEMU's own network connections). */
static int def_policy(const struct qemu_def *def, const char *paths, char *err, size_t errlen)
{
	const char *key[2 + QEMU_MAX_DISKS + 1], *val[2 + QEMU_MAX_DISKS + 1];
	size_t n = 0, i;

	key[n] = "kernel", val[n++] = def->kernel;
	key[n] = "initrd", val[n++] = def->initrd;
	key[n] = "image", val[n++] = def->image;
	for (i = 0; i < (size_t)def->ndisks; i++)
		key[n] = "disk", val[n++] = def->disk[i];
	for (i = 0; i < n; i++) {
		if (val[i][0] != '/' || def_path_allowed(val[i], paths))
			continue;
		snprintf(err, errlen, "%s: %.200s is outside domain_paths (%.200s)", key[i], val[i],
			 paths);
		return -EPERM;
	}
	return 0;
}

static int qemu_policy(const char *definition, const char *paths, char *err, size_t errlen)
{
	struct qemu_def def;

	if (qemu_parse_def(definition, &def, err, errlen) < 0)
		return -EINVAL;
	return def_policy(&def, paths, err, errlen);
}

/* ---- files and processes ---------------------------------------------------------- */

static void dom_path(const struct hv *hv, const char *name, const char *file, char *out, size_t len)
{
	snprintf(out, len, "%s/%s%s%s", hv->dir, name, file ? "/" : "", file ? file : "");
}

static ssize_t read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

/* The pid of NAME's QEMU if that process is alive and really is ours: its command line
 * names our QMP socket (a recycled pid, or the same domain under another state dir, as
 * on the other end of a migration on one machine, does not). A zombie has no command
 * line, so it counts as gone. */
static pid_t qemu_pid(const struct hv *hv, const char *name)
{
	char path[PATH_MAX], want[PATH_MAX + 16], buf[16384];
	ssize_t n;
	long pid;

	dom_path(hv, name, "pid", path, sizeof(path));
	if (read_small(path, buf, 32) <= 0)
		return 0;
	pid = strtol(buf, NULL, 10);
	if (pid <= 1)
		return 0;
	snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
	n = read_small(path, buf, sizeof(buf));
	if (n <= 0)
		return 0;
	dom_path(hv, name, "qmp.sock", path, sizeof(path));
	snprintf(want, sizeof(want), "path=%s,", path);
	for (char *p = buf; p < buf + n; p += strlen(p) + 1)
		if (strstr(p, want))
			return (pid_t)pid;
	return 0;
}

static void remove_domain_files(const struct hv *hv, const char *name)
{
	static const char *const files[] = {"pid", "meta.json", "qmp.sock"};
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < HAX_ARRAY_SIZE(files); i++) {
		dom_path(hv, name, files[i], path, sizeof(path));
		unlink(path);
	}
}

static json_t *read_meta(const struct hv *hv, const char *name)
{
	char path[PATH_MAX];

	dom_path(hv, name, "meta.json", path, sizeof(path));
	return json_load_file(path, 0, NULL);
}

/* The last non-empty line of qemu.log: why QEMU would not start. */
static void qemu_log_tail(const struct hv *hv, const char *name, char *out, size_t len)
{
	char path[PATH_MAX], buf[2048], *line;
	struct stat st;
	ssize_t n = -1;
	int fd;

	hax_strlcpy(out, "QEMU exited during start (see its qemu.log)", len);
	dom_path(hv, name, "qemu.log", path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (fstat(fd, &st) == 0)
		n = pread(fd, buf, sizeof(buf) - 1,
			  st.st_size > (off_t)sizeof(buf) - 1 ? st.st_size - (off_t)sizeof(buf) + 1
							      : 0);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	line = strrchr(buf, '\n');
	line = line ? line + 1 : buf;
	if (*line)
		hax_strlcpy(out, line, len);
}

/* ---- domains and their QMP connections ------------------------------------------- */

static struct qop *op_by_id(struct hv *hv, uint64_t id)
{
	struct qop *op;

	for (op = hv->ops; id && op; op = op->next)
		if (op->id == id)
			return op;
	return NULL;
}

static struct qdom *dom_find(struct hv *hv, const char *name)
{
	struct qdom *d;

	for (d = hv->doms; d; d = d->next)
		if (strcmp(d->name, name) == 0)
			return d;
	return NULL;
}

static struct qdom *dom_get(struct hv *hv, const char *name)
{
	struct qdom *d = dom_find(hv, name);

	if (d)
		return d;
	d = hax_xcalloc(1, sizeof(*d));
	d->hv = hv;
	hax_strlcpy(d->name, name, sizeof(d->name));
	d->next = hv->doms;
	hv->doms = d;
	return d;
}

static int write_meta_json(const struct hv *hv, const char *name, json_t *meta)
{
	char path[PATH_MAX];
	char *text = json_dumps(meta, JSON_COMPACT);
	int r;

	dom_path(hv, name, "meta.json", path, sizeof(path));
	r = text ? hv_write_file_atomic(path, text) : -ENOMEM;
	free(text);
	return r;
}

/* What QEMU says it is doing. A received guest that runs is the live copy from now on:
 * meta.json says so too, so that a later haxd whose QMP gets no answer in time never
 * takes it for a leftover of a failed migration. */
static void dom_set_status(struct qdom *d, const char *status)
{
	json_t *meta;

	hax_strlcpy(d->status, status, sizeof(d->status));
	if (!d->incoming || strcmp(status, "running") != 0)
		return;
	meta = read_meta(d->hv, d->name);
	if (meta && json_object_set_new(meta, "incoming", json_false()) == 0 &&
	    write_meta_json(d->hv, d->name, meta) == 0)
		d->incoming = false;
	json_decref(meta);
}

static void on_dom_closed(void *data, int err)
{
	struct qdom *d = data;

	(void)err;
	/* QEMU quit or died; whoever waits for it polls its pid. */
	qmp_free(d->qmp);
	d->qmp = NULL;
}

static void on_dom_event(void *data, const char *event, json_t *evdata)
{
	struct qdom *d = data;

	(void)evdata;
	if (!event)
		return;
	if (strcmp(event, "STOP") == 0)
		dom_set_status(d, "paused");
	else if (strcmp(event, "RESUME") == 0)
		dom_set_status(d, "running");
	else if (strcmp(event, "SHUTDOWN") == 0)
		dom_set_status(d, "shutdown");
}

static const struct qmp_callbacks dom_callbacks = {
    .closed = on_dom_closed,
    .event = on_dom_event,
};

/* d's QMP connection, connecting if there is none. NULL if QEMU does not answer. */
static struct qmp *dom_qmp(struct qdom *d)
{
	char path[PATH_MAX];

	if (d->qmp)
		return d->qmp;
	dom_path(d->hv, d->name, "qmp.sock", path, sizeof(path));
	if (qmp_connect(path, &dom_callbacks, d, &d->qmp) < 0)
		d->qmp = NULL;
	return d->qmp;
}

/* Forget a connection that belongs to an earlier QEMU of this name. */
static void dom_reset(struct qdom *d)
{
	qmp_free(d->qmp);
	d->qmp = NULL;
	d->status[0] = '\0';
}

static enum hv_dom_state state_of(const char *status)
{
	static const struct {
		const char *status;
		enum hv_dom_state state;
	} map[] = {
	    {"running", HV_RUNNING},	    {"finish-migrate", HV_RUNNING},
	    {"inmigrate", HV_INCOMING},	    {"postmigrate", HV_MIGRATED},
	    {"shutdown", HV_SHUTTING_DOWN}, {"guest-panicked", HV_CRASHED},
	    {"internal-error", HV_CRASHED},
	};
	size_t i;

	for (i = 0; status && i < HAX_ARRAY_SIZE(map); i++)
		if (strcmp(status, map[i].status) == 0)
			return map[i].state;
	/* paused, io-error, prelaunch, save-vm, watchdog, ...: not running, but there. */
	return status && *status ? HV_PAUSED : HV_RUNNING;
}

/* ---- operations ------------------------------------------------------------------- */

static struct qop *op_new(struct hv *hv, enum qop_kind kind, const char *name, hv_done_fn done,
			  void *opaque)
{
	struct qop *op = hax_xcalloc(1, sizeof(*op));

	op->hv = hv;
	op->id = ++hv->next_op_id;
	op->kind = kind;
	hax_strlcpy(op->name, name ? name : "", sizeof(op->name));
	op->done = done;
	op->opaque = opaque;
	op->downtime_ms = -1;
	op->next = hv->ops;
	hv->ops = op;
	return op;
}

static void op_free(struct qop *op)
{
	struct qdom *d = op->name[0] ? dom_find(op->hv, op->name) : NULL;
	struct qop **pp;

	for (pp = &op->hv->ops; *pp; pp = &(*pp)->next)
		if (*pp == op) {
			*pp = op->next;
			break;
		}
	if (d && d->owner == op->id)
		d->owner = 0;
	hax_timer_del(op->timer);
	if (op->child > 0)
		hax_child_unwatch(op->child);
	free(op->doms);
	free(op);
}

/* Complete an operation: the callback may start new operations, so unlink first. */
static void op_finish(struct qop *op, int result, const char *msg)
{
	hv_done_fn done = op->done;
	void *opaque = op->opaque;
	char text[sizeof(op->msg)];

	hax_strlcpy(text, msg ? msg : "", sizeof(text));
	op_free(op);
	if (done)
		done(opaque, result, msg ? text : NULL);
}

static void op_arm(struct qop *op, uint64_t ms, hax_timer_fn fn)
{
	hax_timer_del(op->timer);
	op->timer = 0;
	if (hax_timer_add(ms, fn, op, &op->timer) < 0)
		abort(); /* out of memory: nothing sane is left to do */
}

static int op_command(struct qop *op, const char *cmd, json_t *args, qmp_reply_fn fn)
{
	struct qdom *d = dom_get(op->hv, op->name);
	struct qmp *q = dom_qmp(d);

	if (!q) {
		json_decref(args);
		return -ENOTCONN;
	}
	return qmp_command(q, cmd, args, fn, d, op->id);
}

static void on_reply_ignored(void *data, uint64_t tag, json_t *ret, const char *err)
{
	(void)data;
	(void)tag;
	(void)ret;
	(void)err;
}

static void gone_poll(void *data);

/* Wait until the domain's QEMU is gone, escalating on the way: PH_GRACEFUL (a powerdown
 * was sent) → quit → SIGKILL → give up. Then the result stored in op is reported. */
static void wait_gone(struct qop *op, enum qop_phase phase, uint64_t ms)
{
	op->phase = phase;
	op->deadline_ns = hax_now_mono_ns() + ms * 1000000ull;
	op_arm(op, 0, gone_poll);
}

static void escalate(struct qop *op, pid_t pid)
{
	if (op->phase == PH_GRACEFUL && op_command(op, "quit", NULL, on_reply_ignored) == 0) {
		op->phase = PH_QUIT;
		op->deadline_ns = hax_now_mono_ns() + QEMU_QUIT_GRACE_MS * 1000000ull;
		return;
	}
	kill(pid, SIGKILL);
	op->phase = PH_KILL;
	op->deadline_ns = hax_now_mono_ns() + QEMU_KILL_GRACE_MS * 1000000ull;
}

static void gone_poll(void *data)
{
	struct qop *op = data;
	pid_t pid = qemu_pid(op->hv, op->name);

	op->timer = 0;
	if (pid <= 0) {
		remove_domain_files(op->hv, op->name);
		op_finish(op, op->result, op->result ? op->msg : NULL);
		return;
	}
	if (op->phase == PH_KILL && hax_now_mono_ns() >= op->deadline_ns) {
		op_finish(op, -ETIMEDOUT, "QEMU survived SIGKILL");
		return;
	}
	if (hax_now_mono_ns() >= op->deadline_ns) {
		escalate(op, pid);
	} else if (op->phase == PH_GRACEFUL && hax_now_mono_ns() >= op->repeat_ns) {
		op->repeat_ns = hax_now_mono_ns() + QEMU_POWERDOWN_REPEAT_MS * 1000000ull;
		op_command(op, "system_powerdown", NULL, on_reply_ignored);
	}
	op_arm(op, QEMU_POLL_MS, gone_poll);
}

/* A start that went wrong after QEMU may have come up: never report a failure while a
 * QEMU of ours could still be running the guest (the leader would start it elsewhere). */
static void fail_and_kill(struct qop *op, int result, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail_and_kill(struct qop *op, int result, const char *fmt, ...)
{
	va_list ap;
	pid_t pid = qemu_pid(op->hv, op->name);

	va_start(ap, fmt);
	vsnprintf(op->msg, sizeof(op->msg), fmt, ap);
	va_end(ap);
	op->result = result;
	if (pid > 0)
		kill(pid, SIGKILL);
	if (op->child > 0) {
		kill(op->child, SIGKILL);
		hax_child_unwatch(op->child);
		op->child = 0;
	}
	wait_gone(op, PH_KILL, QEMU_KILL_GRACE_MS);
}

/* ---- start and prepare ------------------------------------------------------------ */

struct qemu_argv {
	char *v[QEMU_MAX_ARGS + 1];
	int n;
};

static void arg(struct qemu_argv *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void arg(struct qemu_argv *a, const char *fmt, ...)
{
	va_list ap;

	if (a->n >= QEMU_MAX_ARGS)
		abort(); /* a programming error: the table below is fixed */
	va_start(ap, fmt);
	if (vasprintf(&a->v[a->n], fmt, ap) < 0)
		abort();
	va_end(ap);
	a->v[++a->n] = NULL;
}

static void argv_free(struct qemu_argv *a)
{
	while (a->n > 0)
		free(a->v[--a->n]);
}

struct qemu_req {
	const char *name;
	uint64_t incarnation;
	uint32_t memory_mib, vcpus;
	bool incoming;
};

/* Boot (kernel or image) and disks, iSCSI ones with this host's initiator name. */
static void argv_disks(const struct hv *hv, const struct qemu_req *req, const struct qemu_def *def,
		       struct qemu_argv *a)
{
	int i;

	if (def->kernel[0]) {
		arg(a, "-kernel");
		arg(a, "%s", def->kernel);
		if (def->initrd[0]) {
			arg(a, "-initrd");
			arg(a, "%s", def->initrd);
		}
		arg(a, "-append");
		arg(a,
		    "console=ttyS0 %s%shax.name=%s hax.incarnation=%" PRIu64 " hax.nodeid=%u "
		    "hax.interval=%s",
		    def->append, def->append[0] ? " " : "", req->name, req->incarnation, hv->nodeid,
		    def->interval);
	}
	if (hv->iqn[0]) {
		arg(a, "-iscsi");
		arg(a, "initiator-name=%s", hv->iqn);
	}
	if (def->image[0]) {
		arg(a, "-drive");
		arg(a, "file=%s,format=raw,if=virtio,index=0", def->image);
	}
	for (i = 0; i < def->ndisks; i++) {
		arg(a, "-drive");
		arg(a, "file=%s,format=raw,if=virtio", def->disk[i]);
	}
}

static void build_argv(const struct hv *hv, const struct qemu_req *req, const struct qemu_def *def,
		       struct qemu_argv *a)
{
	char dir[PATH_MAX];

	dom_path(hv, req->name, NULL, dir, sizeof(dir));
	arg(a, "%s", hv->qemu);
	arg(a, "-name");
	arg(a, "%s", req->name);
	arg(a, "-nodefaults");
	arg(a, "-no-user-config");
	arg(a, "-display");
	arg(a, "none");
	arg(a, "-nic");
	arg(a, "none");
	arg(a, "-machine");
	arg(a, "%s,accel=%s", def->machine, def->accel);
	arg(a, "-cpu");
	arg(a, "%s", def->cpu);
	arg(a, "-m");
	arg(a, "%u", req->memory_mib ? req->memory_mib : 128);
	arg(a, "-smp");
	arg(a, "%u", req->vcpus ? req->vcpus : 1);
	argv_disks(hv, req, def, a);
	arg(a, "-chardev");
	arg(a, "socket,id=qmp,path=%s/qmp.sock,server=on,wait=off", dir);
	arg(a, "-mon");
	arg(a, "chardev=qmp,mode=control");
	arg(a, "-chardev");
	arg(a, "file,id=serial0,path=%s/console.log,append=on", dir);
	arg(a, "-serial");
	arg(a, "chardev:serial0");
	arg(a, "-pidfile");
	arg(a, "%s/pid", dir);
	arg(a, "-daemonize");
	if (req->incoming) {
		arg(a, "-incoming");
		arg(a, "defer");
	}
}

/* QEMU daemonizes: its first process exits once the guest is set up (0) or QEMU failed
 * (1, with the reason in qemu.log). The daemon itself is nobody's child of ours. */
static int spawn_qemu(const struct hv *hv, const char *name, char *const *argv, pid_t *out)
{
	char log[PATH_MAX];
	pid_t pid;

	dom_path(hv, name, "qemu.log", log, sizeof(log));
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		sigset_t none;
		int fd;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		fd = open("/dev/null", O_RDONLY);
		if (fd >= 0)
			dup2(fd, 0);
		fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		closefrom(3);
		if (chdir("/") < 0)
			_exit(127);
		execv(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	*out = pid;
	return 0;
}

static void on_incoming_port(void *data, uint64_t tag, json_t *ret, const char *err)
{
	struct qdom *d = data;
	struct qop *op = op_by_id(d->hv, tag);
	json_t *sa = json_array_get(json_object_get(ret, "socket-address"), 0);
	const char *port = json_string_value(json_object_get(sa, "port"));
	char uri[sizeof(op->addr) + 32];

	if (!op)
		return;
	if (!ret || !port || strspn(port, "0123456789") != strlen(port) || !*port) {
		fail_and_kill(op, -EIO, "QEMU reports no incoming port: %s", err ? err : "?");
		return;
	}
	snprintf(uri, sizeof(uri), "tcp:%s:%s", op->addr, port);
	op_finish(op, 0, uri);
}

static void on_incoming(void *data, uint64_t tag, json_t *ret, const char *err)
{
	struct qdom *d = data;
	struct qop *op = op_by_id(d->hv, tag);

	if (!op)
		return;
	if (!ret) {
		fail_and_kill(op, -EIO, "migrate-incoming: %s", err);
		return;
	}
	/* Port 0 above: QEMU picked a free one, which query-migrate tells. */
	if (op_command(op, "query-migrate", NULL, on_incoming_port) < 0)
		fail_and_kill(op, -EIO, "QMP connection lost");
}

static void on_start_status(void *data, uint64_t tag, json_t *ret, const char *err)
{
	struct qdom *d = data;
	struct qop *op = op_by_id(d->hv, tag);
	const char *status = json_string_value(json_object_get(ret, "status"));
	const char *want = op && op->kind == OP_PREPARE ? "inmigrate" : "running";
	char uri[sizeof(op->addr) + 8];

	if (!op)
		return;
	if (!status) {
		fail_and_kill(op, -EIO, "QMP query-status: %s", err ? err : "no status");
		return;
	}
	d->incoming = op->kind == OP_PREPARE;
	dom_set_status(d, status);
	if (strcmp(status, want) != 0) {
		fail_and_kill(op, -EIO, "QEMU is %s after start, not %s", status, want);
		return;
	}
	if (op->kind == OP_START) {
		op_finish(op, 0, NULL);
		return;
	}
	snprintf(uri, sizeof(uri), "tcp:%s:0", op->addr);
	if (op_command(op, "migrate-incoming", json_pack("{s:s}", "uri", uri), on_incoming) < 0)
		fail_and_kill(op, -EIO, "QMP connection lost");
}

static void on_spawned(void *data, int pid, int status)
{
	struct qop *op = data;
	struct qdom *d = dom_get(op->hv, op->name);
	char msg[sizeof(op->msg)];

	(void)pid;
	op->child = 0;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		qemu_log_tail(op->hv, op->name, msg, sizeof(msg));
		fail_and_kill(op, -EIO, "%s", msg);
		return;
	}
	op->phase = PH_QUERY;
	dom_reset(d);
	if (op_command(op, "query-status", NULL, on_start_status) < 0)
		fail_and_kill(op, -EIO, "cannot connect to QEMU's QMP socket");
}

static void start_timeout(void *data)
{
	struct qop *op = data;

	op->timer = 0;
	fail_and_kill(op, -ETIMEDOUT, "QEMU did not start within %d s",
		      QEMU_START_TIMEOUT_MS / 1000);
}

static int write_meta(const struct hv *hv, const struct qemu_req *req)
{
	json_t *meta =
	    json_pack("{s:s, s:I, s:I, s:I, s:b}", "name", req->name, "incarnation",
		      (json_int_t)req->incarnation, "memory_mib", (json_int_t)req->memory_mib,
		      "vcpus", (json_int_t)req->vcpus, "incoming", req->incoming);
	int r = meta ? write_meta_json(hv, req->name, meta) : -ENOMEM;

	json_decref(meta);
	return r;
}

/* start and migrate_prepare: check, write meta.json, spawn QEMU, watch its first process. */
static int launch(struct hv *hv, const struct qemu_req *req, const char *definition,
		  struct qop **out)
{
	char path[PATH_MAX], err[256];
	struct qemu_argv a = {.n = 0};
	struct qemu_def def;
	struct qdom *d;
	struct qop *op;
	pid_t pid = 0;
	int r;

	if (!hax_valid_name(req->name))
		return -EINVAL;
	if (qemu_parse_def(definition, &def, err, sizeof(err)) < 0)
		return -EINVAL;
	/* On every host, before QEMU (root) opens anything the definition names. */
	if (hv->paths && def_policy(&def, hv->paths, err, sizeof(err)) < 0) {
		hax_log(LOG_ERR, "qemu: refusing to start %s: %s", req->name, err);
		return -EPERM;
	}
	dom_path(hv, req->name, "qmp.sock", path, sizeof(path));
	if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return -ENAMETOOLONG;
	d = dom_find(hv, req->name);
	if (d && d->owner)
		return -EBUSY;
	if (qemu_pid(hv, req->name) > 0)
		return -EEXIST;
	dom_path(hv, req->name, NULL, path, sizeof(path));
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return -errno;
	remove_domain_files(hv, req->name);
	r = write_meta(hv, req);
	if (r < 0)
		return r;
	build_argv(hv, req, &def, &a);
	r = spawn_qemu(hv, req->name, a.v, &pid);
	argv_free(&a);
	if (r < 0)
		return r;
	op = op_new(hv, req->incoming ? OP_PREPARE : OP_START, req->name, NULL, NULL);
	op->child = pid;
	op->phase = PH_SPAWN;
	d = dom_get(hv, req->name);
	d->owner = op->id;
	r = hax_child_watch(pid, on_spawned, op);
	if (r < 0) {
		kill(pid, SIGKILL);
		op->child = 0;
		op_free(op);
		return r;
	}
	op_arm(op, QEMU_START_TIMEOUT_MS, start_timeout);
	*out = op;
	return 0;
}

static int qemu_start(struct hv *hv, const struct hv_start *req, hv_done_fn done, void *opaque)
{
	struct qemu_req q = {.name = req->name,
			     .incarnation = req->incarnation,
			     .memory_mib = req->memory_mib,
			     .vcpus = req->vcpus};
	struct qop *op;
	int r = launch(hv, &q, req->definition, &op);

	if (r < 0)
		return r;
	op->done = done;
	op->opaque = opaque;
	return 0;
}

/* An address QEMU's tcp: URI takes: a host name or IPv4 literal, or IPv6 in brackets. */
static int listen_uri_host(const char *addr, char *out, size_t len)
{
	if (!addr || !*addr || strlen(addr) + 3 > len)
		return -EINVAL;
	if (strchr(addr, ':')) {
		if (!has_only(addr, ":.%"))
			return -EINVAL;
		snprintf(out, len, "[%s]", addr);
		return 0;
	}
	if (!has_only(addr, ".-"))
		return -EINVAL;
	hax_strlcpy(out, addr, len);
	return 0;
}

static int qemu_migrate_prepare(struct hv *hv, const struct hv_migrate_in *req, hv_done_fn done,
				void *opaque)
{
	struct qemu_req q = {.name = req->name,
			     .incarnation = req->incarnation,
			     .memory_mib = req->memory_mib,
			     .vcpus = req->vcpus,
			     .incoming = true};
	char host[sizeof(((struct qop *)0)->addr)];
	struct qop *op;
	int r;

	if (listen_uri_host(req->listen_addr, host, sizeof(host)) < 0)
		return -EINVAL;
	r = launch(hv, &q, req->definition, &op);
	if (r < 0)
		return r;
	hax_strlcpy(op->addr, host, sizeof(op->addr));
	op->done = done;
	op->opaque = opaque;
	return 0;
}

/* ---- stop, destroy, pause --------------------------------------------------------- */

static void on_powerdown(void *data, uint64_t tag, json_t *ret, const char *err)
{
	struct qdom *d = data;
	struct qop *op = op_by_id(d->hv, tag);

	(void)ret;
	(void)err;
	/* Refused or lost: nothing graceful will happen, so go on to quit at once. */
	if (op && !ret && op->phase == PH_GRACEFUL)
		op->deadline_ns = 0;
}

static int qemu_stop(struct hv *hv, const char *name, uint64_t timeout_ms, hv_done_fn done,
		     void *opaque)
{
	struct qdom *d = dom_find(hv, name);
	struct qop *op;

	if (d && d->owner)
		return -EBUSY;
	op = op_new(hv, OP_STOP, name, done, opaque);
	if (qemu_pid(hv, name) <= 0) {
		/* Already stopped: complete from the loop, never inside this call. */
		wait_gone(op, PH_KILL, QEMU_KILL_GRACE_MS);
		return 0;
	}
	dom_get(hv, name)->owner = op->id;
	/* The ACPI power button: the guest shuts down by itself, or quit after timeout_ms. */
	if (op_command(op, "system_powerdown", NULL, on_powerdown) < 0)
		timeout_ms = 0;
	wait_gone(op, PH_GRACEFUL, timeout_ms);
	op->repeat_ns = hax_now_mono_ns() + QEMU_POWERDOWN_REPEAT_MS * 1000000ull;
	return 0;
}

static int qemu_destroy(struct hv *hv, const char *name, hv_done_fn done, void *opaque)
{
	struct qdom *d = dom_find(hv, name);
	struct qop *owner = d ? op_by_id(hv, d->owner) : NULL;
	pid_t pid = qemu_pid(hv, name);
	struct qop *op;

	/* A QEMU still being set up may not have written its pid yet. */
	if (owner && owner->phase == PH_SPAWN)
		return -EBUSY;
	if (pid > 0)
		kill(pid, SIGKILL);
	/* Whoever owned the domain sees it gone and fails; this one only waits. */
	op = op_new(hv, OP_DESTROY, name, done, opaque);
	wait_gone(op, PH_KILL, QEMU_KILL_GRACE_MS);
	return 0;
}

/* Freeze or thaw through QMP stop/cont. The command is on its way when this returns
 * (QEMU acts on it within milliseconds); list() shows the result. */
static int qemu_pause(struct hv *hv, const char *name, bool paused)
{
	struct qdom *d;
	struct qmp *q;

	if (qemu_pid(hv, name) <= 0)
		return -ENOENT;
	d = dom_get(hv, name);
	q = dom_qmp(d);
	if (!q)
		return -ENOTCONN;
	return qmp_command(q, paused ? "stop" : "cont", NULL, on_reply_ignored, d, 0);
}

/* ---- list and capacity ------------------------------------------------------------ */

static void list_finish(void *data)
{
	struct qop *op = data;
	hv_list_fn done = op->list_done;
	void *opaque = op->opaque;
	struct hv_domain_info *doms = op->doms;
	size_t n = op->ndoms;

	op->doms = NULL;
	op->timer = 0;
	op_free(op);
	done(opaque, 0, doms, n);
	free(doms);
}

static void on_list_status(void *data, uint64_t tag, json_t *ret, const char *err)
{
	struct qdom *d = data;
	struct qop *op = op_by_id(d->hv, tag);
	const char *status = json_string_value(json_object_get(ret, "status"));
	size_t i;

	(void)err;
	if (!op)
		return;
	if (status)
		dom_set_status(d, status);
	for (i = 0; i < op->ndoms; i++)
		if (strcmp(op->doms[i].name, d->name) == 0)
			op->doms[i].state = state_of(d->status);
	if (--op->waiting == 0)
		op_arm(op, 0, list_finish);
}

/* One inventory entry for a live QEMU, from meta.json and the last status known. */
static void list_add(struct qop *op, const char *name)
{
	struct hv_domain_info *info;
	struct qdom *d = dom_get(op->hv, name);
	json_t *meta = read_meta(op->hv, name);

	op->doms = hax_xrealloc(op->doms, (op->ndoms + 1) * sizeof(*op->doms));
	info = &op->doms[op->ndoms++];
	memset(info, 0, sizeof(*info));
	hax_strlcpy(info->name, name, sizeof(info->name));
	info->incarnation = json_integer_value(json_object_get(meta, "incarnation"));
	info->memory_mib = json_integer_value(json_object_get(meta, "memory_mib"));
	info->vcpus = json_integer_value(json_object_get(meta, "vcpus"));
	/* Until QEMU answers: a receiving copy is never taken for the live one. */
	d->incoming = json_is_true(json_object_get(meta, "incoming"));
	if (!d->status[0] && d->incoming)
		hax_strlcpy(d->status, "inmigrate", sizeof(d->status));
	info->state = state_of(d->status);
	json_decref(meta);
	if (dom_qmp(d) && qmp_command(d->qmp, "query-status", NULL, on_list_status, d, op->id) == 0)
		op->waiting++;
}

/* Every live QEMU of ours is listed, whether or not its QMP answers in time: a domain
 * left out could be started a second time elsewhere. */
static int qemu_list(struct hv *hv, hv_list_fn done, void *opaque)
{
	struct qop *op = op_new(hv, OP_LIST, NULL, NULL, opaque);
	struct dirent *de;
	DIR *dir = opendir(hv->dir);

	op->list_done = done;
	op->phase = PH_LISTING;
	while (dir && (de = readdir(dir)))
		if (hax_valid_name(de->d_name) && qemu_pid(hv, de->d_name) > 0)
			list_add(op, de->d_name);
	if (dir)
		closedir(dir);
	op_arm(op, op->waiting ? QEMU_LIST_TIMEOUT_MS : 0, list_finish);
	return 0;
}

static int qemu_capacity(struct hv *hv, struct hv_capacity *out)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	out->mem_total_mib = hv->mem_mib ? hv->mem_mib : hv_meminfo_total_mib();
	out->vcpus = hv->vcpus ? hv->vcpus : (uint32_t)(n > 0 ? n : 1);
	return 0;
}

/* ---- migrate_send (source) -------------------------------------------------------- */

static void migrate_poll(void *data);

static void report_progress(struct qop *op, const char *status, json_t *ret)
{
	static const struct {
		const char *status, *phase;
	} phases[] = {
	    {"setup", "connecting"}, {"active", "copying"},	 {"pre-switchover", "stopped"},
	    {"device", "stopped"},   {"completed", "completed"}, {"cancelling", "cancelling"},
	};
	json_t *ram = json_object_get(ret, "ram");
	struct hv_migrate_progress p = {.phase = status, .percent = -1, .downtime_ms = -1};
	uint64_t remaining = (uint64_t)json_integer_value(json_object_get(ram, "remaining"));
	size_t i;

	if (!op->progress)
		return;
	for (i = 0; i < HAX_ARRAY_SIZE(phases); i++)
		if (strcmp(status, phases[i].status) == 0)
			p.phase = phases[i].phase;
	p.bytes_done = (uint64_t)json_integer_value(json_object_get(ram, "transferred"));
	p.bytes_total = (uint64_t)json_integer_value(json_object_get(ram, "total"));
	if (p.bytes_total && remaining <= p.bytes_total)
		p.percent = (int)((p.bytes_total - remaining) * 100 / p.bytes_total);
	if (strcmp(status, "completed") == 0) {
		p.percent = 100;
		p.downtime_ms = op->downtime_ms;
	}
	op->progress(op->opaque, &p);
}

static void on_resumed(void *data, uint64_t tag, json_t *ret, const char *err)
{
	struct qdom *d = data;
	struct qop *op = op_by_id(d->hv, tag);

	(void)ret;
	(void)err;
	if (op)
		op_finish(op, op->result, op->msg);
}

/* After a failed migration: QEMU restarts the source by itself when it was running;
 * make sure, then report the failure with the domain running here. */
static void on_failed_status(void *data, uint64_t tag, json_t *ret, const char *err)
{
	struct qdom *d = data;
	struct qop *op = op_by_id(d->hv, tag);
	const char *status = json_string_value(json_object_get(ret, "status"));

	(void)err;
	if (!op)
		return;
	if (status)
		dom_set_status(d, status);
	if (status && strcmp(status, "running") != 0 && strcmp(status, "paused") != 0) {
		op->phase = PH_RESUMING;
		if (op_command(op, "cont", NULL, on_resumed) == 0)
			return;
	}
	op_finish(op, op->result, op->msg);
}

static void migrate_ended(struct qop *op, const char *status, json_t *ret)
{
	const char *desc = json_string_value(json_object_get(ret, "error-desc"));

	if (strcmp(status, "completed") == 0) {
		op->downtime_ms = json_integer_value(json_object_get(ret, "downtime"));
		report_progress(op, status, ret);
		/* The target runs the guest now: the source copy goes away. */
		op->result = 0;
		if (op_command(op, "quit", NULL, on_reply_ignored) == 0)
			wait_gone(op, PH_QUIT, QEMU_QUIT_GRACE_MS);
		else
			wait_gone(op, PH_QUIT, 0);
		return;
	}
	op->result = op->phase == PH_CANCELLING ? -ETIMEDOUT : -EIO;
	snprintf(op->msg, sizeof(op->msg), "migration %s%s%s", status, desc ? ": " : "",
		 desc ? desc : (op->phase == PH_CANCELLING ? " after the timeout" : ""));
	if (op_command(op, "query-status", NULL, on_failed_status) < 0)
		op_finish(op, op->result, op->msg);
}

static void on_query_migrate(void *data, uint64_t tag, json_t *ret, const char *err)
{
	struct qdom *d = data;
	struct qop *op = op_by_id(d->hv, tag);
	const char *status = json_string_value(json_object_get(ret, "status"));

	(void)err;
	if (!op)
		return;
	if (status && (strcmp(status, "completed") == 0 || strcmp(status, "failed") == 0 ||
		       strcmp(status, "cancelled") == 0)) {
		migrate_ended(op, status, ret);
		return;
	}
	if (status)
		report_progress(op, status, ret);
	op_arm(op, QEMU_MIGRATE_POLL_MS, migrate_poll);
}

static void migrate_poll(void *data)
{
	struct qop *op = data;
	uint64_t now = hax_now_mono_ns();

	op->timer = 0;
	if (qemu_pid(op->hv, op->name) <= 0) {
		/* The source died: whether the target got the guest is unknown here. */
		op_finish(op, -EPROTO, "source QEMU gone during migration: check the target");
		return;
	}
	if (op->phase == PH_MIGRATING && now >= op->deadline_ns) {
		op_command(op, "migrate_cancel", NULL, on_reply_ignored);
		op->phase = PH_CANCELLING;
		op->deadline_ns = now + QEMU_CANCEL_GRACE_MS * 1000000ull;
	} else if (op->phase == PH_CANCELLING && now >= op->deadline_ns) {
		op_finish(op, -EPROTO, "migration did not end after migrate_cancel");
		return;
	}
	if (op_command(op, "query-migrate", NULL, on_query_migrate) < 0)
		op_arm(op, QEMU_MIGRATE_POLL_MS, migrate_poll);
}

static void on_migrate(void *data, uint64_t tag, json_t *ret, const char *err)
{
	struct qdom *d = data;
	struct qop *op = op_by_id(d->hv, tag);

	if (!op)
		return;
	if (!ret) {
		/* Refused before anything moved: the guest runs on here, untouched. */
		op_finish(op, -EIO, err);
		return;
	}
	op_arm(op, 0, migrate_poll);
}

static int qemu_migrate_send(struct hv *hv, const struct hv_migrate_out *req,
			     hv_progress_fn progress, hv_done_fn done, void *opaque)
{
	struct qdom *d = dom_find(hv, req->name);
	struct qop *op;
	int r;

	if (!req->uri || strncmp(req->uri, "tcp:", 4) != 0 ||
	    strlen(req->uri) >= sizeof(op->addr) || !has_only(req->uri + 4, ".:[]-%"))
		return -EINVAL;
	if (qemu_pid(hv, req->name) <= 0)
		return -ENOENT;
	if (d && d->owner)
		return -EBUSY;
	d = dom_get(hv, req->name);
	if (!dom_qmp(d))
		return -ENOTCONN;
	op = op_new(hv, OP_MIGRATE, req->name, done, opaque);
	op->progress = progress;
	op->phase = PH_MIGRATING;
	hax_strlcpy(op->addr, req->uri, sizeof(op->addr));
	op->deadline_ns =
	    hax_now_mono_ns() + (req->timeout_ms ? req->timeout_ms : 600000) * 1000000ull;
	d->owner = op->id;
	r = op_command(op, "migrate", json_pack("{s:s}", "uri", req->uri), on_migrate);
	if (r < 0) {
		op_free(op);
		return r;
	}
	return 0;
}

/* ---- init and fini ---------------------------------------------------------------- */

static int find_qemu(struct hv *hv)
{
	const char *env = getenv("HAX_QEMU");
	const char *path = getenv("PATH");
	char dirs[4096], *save = NULL, *dir;

	if (env && *env) {
		hax_strlcpy(hv->qemu, env, sizeof(hv->qemu));
		return access(hv->qemu, X_OK) == 0 ? 0 : -ENOENT;
	}
	hax_strlcpy(dirs, path && *path ? path : "/usr/bin:/bin", sizeof(dirs));
	for (dir = strtok_r(dirs, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		snprintf(hv->qemu, sizeof(hv->qemu), "%s/qemu-system-x86_64", dir);
		if (access(hv->qemu, X_OK) == 0)
			return 0;
	}
	hax_strlcpy(hv->qemu, "qemu-system-x86_64", sizeof(hv->qemu));
	return -ENOENT;
}

static int qemu_init(struct hv **out, const struct hv_host *host, char *err, size_t errlen)
{
	struct hv *hv = hax_xcalloc(1, sizeof(*hv));
	struct dirent *de;
	DIR *dir;

	snprintf(hv->dir, sizeof(hv->dir), "%s/qemu", host->state_dir);
	hv->paths = host->domain_paths;
	if (mkdir(hv->dir, 0700) < 0 && errno != EEXIST) {
		int r = -errno;

		snprintf(err, errlen, "%s: %s", hv->dir, strerror(errno));
		free(hv);
		return r;
	}
	if (find_qemu(hv) < 0) {
		snprintf(err, errlen, "QEMU program %s not found (Debian package qemu-system-x86)",
			 hv->qemu);
		free(hv);
		return -ENOENT;
	}
	/* It goes into QEMU's option syntax, where a comma would start another option. */
	if (host->iqn && (strlen(host->iqn) >= sizeof(hv->iqn) || !has_only(host->iqn, ".:-"))) {
		snprintf(err, errlen, "initiator name \"%.100s\" is not an iSCSI name", host->iqn);
		free(hv);
		return -EINVAL;
	}
	hax_strlcpy(hv->host, host->host_name ? host->host_name : "", sizeof(hv->host));
	hax_strlcpy(hv->iqn, host->iqn ? host->iqn : "", sizeof(hv->iqn));
	hv->nodeid = host->nodeid;
	hv->mem_mib = host->mem_mib;
	hv->vcpus = host->vcpus;
	/* QEMUs of an earlier haxd: connect again now (list() would, too). */
	dir = opendir(hv->dir);
	while (dir && (de = readdir(dir)))
		if (hax_valid_name(de->d_name) && qemu_pid(hv, de->d_name) > 0)
			dom_qmp(dom_get(hv, de->d_name));
	if (dir)
		closedir(dir);
	*out = hv;
	return 0;
}

static void qemu_fini(struct hv *hv)
{
	if (!hv)
		return;
	while (hv->ops)
		op_free(hv->ops);
	while (hv->doms) {
		struct qdom *d = hv->doms;

		hv->doms = d->next;
		qmp_free(d->qmp);
		free(d);
	}
	free(hv);
}

const struct hv_ops hv_qemu_ops = {
    .name = "qemu",
    .init = qemu_init,
    .fini = qemu_fini,
    .list = qemu_list,
    .capacity = qemu_capacity,
    .validate = qemu_validate,
    .policy = qemu_policy,
    .start = qemu_start,
    .stop = qemu_stop,
    .destroy = qemu_destroy,
    .pause = qemu_pause,
    .live_migration = true,
    .migrate_prepare = qemu_migrate_prepare,
    .migrate_send = qemu_migrate_send,
};
