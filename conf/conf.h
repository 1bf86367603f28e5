/*
 * haxd.conf: INI-style configuration, parsed through one declarative key table.
 * Library code: never logs, never exits; every problem becomes "file:line: message".
 */
#ifndef HAX_CONF_H
#define HAX_CONF_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/util.h"

#define CONF_MAX_HOSTS 32
#define CONF_MAX_FENCES 64
#define CONF_MAX_STORAGE 64
#define CONF_MAX_LEVELS 8       /* fence levels per host */
#define CONF_MAX_LEVEL_DEVS 8   /* devices in one level "a+b+c" */
#define CONF_MAX_LUNS 64
#define CONF_STR_MAX 256

enum conf_driver { CONF_DRIVER_XL, CONF_DRIVER_QEMU, CONF_DRIVER_SIM };
enum conf_nq_policy { CONF_NQ_STOP, CONF_NQ_FREEZE };
enum conf_fence_driver {
	CONF_FENCE_AGENT,
	CONF_FENCE_SCSI,
	CONF_FENCE_REDFISH,
	CONF_FENCE_DRBD,
	CONF_FENCE_WATCHDOG,
};

struct conf_cluster {
	char name[HAX_NAME_MAX];        /* required */
	enum conf_driver driver;        /* default xl */
	char state_dir[PATH_MAX];       /* default /var/lib/hax */
	char client_group[HAX_NAME_MAX]; /* the operator role; default haxclient */
	char monitor_group[HAX_NAME_MAX]; /* the read-only role; default haxmonitor */
	uint64_t tick_ms;               /* leader tick, default 1s */
	uint64_t start_timeout_ms;      /* default 60s */
	uint64_t stop_timeout_ms;       /* default 60s */
	uint64_t migrate_timeout_ms;    /* default 10m */
	uint32_t migrate_concurrency;   /* default 4, whole cluster */
	uint32_t migrate_host_concurrency; /* default 2, per host (source or target) */
	uint32_t start_retries;         /* default 3 */
	enum conf_nq_policy no_quorum_policy; /* default stop */
	uint64_t no_quorum_timeout_ms;  /* default 10s */
	uint64_t fence_retry_ms;        /* first fence retry backoff, default 10s */
	uint64_t agent_lost_timeout_ms; /* haxd gone, corosync alive: fence after, default 60s */
	int log_level;                  /* syslog priority, default LOG_INFO */
	char xl[PATH_MAX];              /* xl program (driver xl), default /usr/sbin/xl */
	char xl_migrate_ssh[512];       /* what xl migrate -s runs to reach the target */
	char domain_paths[1024];        /* host paths definitions may name (def_policy.h) */
};

struct conf_fence_level {
	int ndev;
	int dev[CONF_MAX_LEVEL_DEVS];   /* indices into hax_conf.fences */
};

struct conf_host {
	char name[HAX_NAME_MAX];
	int line;                       /* line of the [host NAME] header */
	uint32_t nodeid;                /* required, 1..2^31-1 */
	char address[CONF_STR_MAX];     /* cluster address, optional */
	char iqn[CONF_STR_MAX];         /* default iqn.2026-11.org.hax:NAME */
	uint64_t memory_mib;            /* capacity offered to domains; 0 = detect */
	uint32_t vcpus;                 /* 0 = detect */
	int nlevels;
	struct conf_fence_level levels[CONF_MAX_LEVELS];
};

struct conf_fence {
	char name[HAX_NAME_MAX];
	int line;
	enum conf_fence_driver driver;  /* required */
	uint64_t timeout_ms;            /* default 60s */
	char agent[PATH_MAX];           /* fence agent program (driver agent) */
	char ip[CONF_STR_MAX];
	uint32_t port;                  /* 0 = agent default */
	char username[CONF_STR_MAX];
	char password_file[PATH_MAX];   /* the password is never in the config itself */
	char plug[CONF_STR_MAX];
	char url[CONF_STR_MAX];         /* redfish base URL */
	bool ssl_verify;                /* default yes */
	int nstorage;
	int storage[CONF_MAX_STORAGE];  /* indices into hax_conf.storage (driver scsi) */
	char drbdadm[PATH_MAX];         /* default /usr/sbin/drbdadm */
	char resource[CONF_STR_MAX];    /* drbd resource */
	char device[PATH_MAX];          /* watchdog device, default /dev/watchdog */
	uint64_t watchdog_timeout_ms;   /* default 60s */
};

struct conf_storage {
	char name[HAX_NAME_MAX];
	int line;
	char portal[CONF_STR_MAX];      /* required, host[:port] */
	char target[CONF_STR_MAX];      /* required, target IQN */
	int nluns;                      /* 0 = every LUN of the target */
	uint32_t luns[CONF_MAX_LUNS];
	uint64_t check_interval_ms;     /* is SCSI fencing in force? 0 = not checked */
	bool persistent;                /* the target keeps reservations across a failover */
};

struct hax_conf {
	char path[PATH_MAX];
	struct conf_cluster cluster;
	int nhosts, nfences, nstorage;
	struct conf_host hosts[CONF_MAX_HOSTS];
	struct conf_fence fences[CONF_MAX_FENCES];
	struct conf_storage storage[CONF_MAX_STORAGE];
};

/* Every error of one parse, each already formatted "file:line: message". */
struct conf_errors {
	int n;
	char **msg;
};

enum conf_type {
	CONF_T_STRING,
	CONF_T_PATH,     /* absolute path */
	CONF_T_INT,
	CONF_T_BOOL,     /* yes/no/true/false/on/off/1/0 */
	CONF_T_DURATION, /* ms */
	CONF_T_SIZE,     /* MiB */
	CONF_T_ENUM,
	CONF_T_LIST,     /* space-separated words */
};

/* One row of the key table (exported for the man-page and example tests). */
struct conf_key {
	const char *section;    /* "cluster", "host", "fence", "storage" */
	const char *key;
	enum conf_type type;
	const char *const *enum_values; /* NULL-terminated, for CONF_T_ENUM */
	uint64_t min, max;      /* for INT, DURATION, SIZE */
	const char *def;        /* default as written in a file, NULL = required or none */
	bool required;
	bool reloadable;        /* applied by SIGHUP without a restart */
	const char *help;       /* one line */
};

/* Parse a file into out (fully initialised with defaults first). Returns 0, or -EINVAL with
 * every problem appended to errs, or -errno when unreadable (also appended to errs). */
int conf_parse_file(const char *path, struct hax_conf *out, struct conf_errors *errs);

/* Same, from a string; name is used in messages in place of the file name. */
int conf_parse_string(const char *name, const char *text, struct hax_conf *out,
		      struct conf_errors *errs);

void conf_errors_free(struct conf_errors *errs);

/* The key table: returns the rows and their count. */
const struct conf_key *conf_keys(size_t *n);

/* What a reload cannot apply: the parts of fresh that differ from live among the
 * settings that need a restart ([cluster] keys not reloadable, any [host], [fence] or
 * [storage] section added, removed or changed; the line numbers do not count). Writes
 * up to max labels such as "[fence power] changed", "[storage san] added" or
 * "[cluster] state_dir changed" into out; returns
 * how many differ (possibly more than max). Pure. */
#define CONF_LABEL_MAX 96
int conf_restart_needed(const struct hax_conf *live, const struct hax_conf *fresh,
			char (*out)[CONF_LABEL_MAX], int max);

/* Host by name or nodeid; NULL if absent. */
/* Advice that is not an error: a host whose every fence level holds only scsi devices
 * with a storage that does not keep reservations across a failover (issue 17). Writes up
 * to max lines "file:line: warning: ..." into out[i] (each len bytes); returns the
 * number written. */
int conf_warnings(const struct hax_conf *c, char (*out)[512], int max);

const struct conf_host *conf_host_by_name(const struct hax_conf *c, const char *name);
const struct conf_host *conf_host_by_nodeid(const struct hax_conf *c, uint32_t nodeid);

const char *conf_driver_name(enum conf_driver d);
const char *conf_fence_driver_name(enum conf_fence_driver d);

#endif
