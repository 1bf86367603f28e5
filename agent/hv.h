/*
 * The hypervisor driver interface. One const ops struct per driver (agent/hv_*.c),
 * listed in one registry (agent/hv.c). Every long operation is asynchronous on the one
 * loop and ends in exactly one completion callback; a driver never blocks the loop.
 */
#ifndef HAX_HV_H
#define HAX_HV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/util.h"

enum hv_dom_state {
	HV_RUNNING,
	HV_PAUSED,
	HV_SHUTTING_DOWN,
	HV_CRASHED,
	HV_INCOMING,       /* receiving a migration: not the live copy (yet) */
	HV_MIGRATED,       /* sent away by a migration: a leftover, never resumed */
};

struct hv_domain_info {
	char name[HAX_NAME_MAX];
	uint64_t incarnation;      /* as given at start (or migrate-receive) */
	enum hv_dom_state state;
	uint32_t memory_mib;
	uint32_t vcpus;
};

struct hv_capacity {
	uint64_t mem_total_mib;    /* what domains may use on this host */
	uint32_t vcpus;
};

struct hv_start {
	const char *name;
	const char *definition;    /* the driver's own definition text */
	uint64_t incarnation;
	uint32_t memory_mib;
	uint32_t vcpus;
};

/* What a driver knows about its host, fixed at init. */
struct hv_host {
	const char *state_dir;     /* per-host directory the driver may use */
	const char *host_name;
	uint32_t nodeid;
	const char *iqn;           /* initiator name of this host */
	uint64_t mem_mib;          /* configured capacity; 0 = detect */
	uint32_t vcpus;            /* configured; 0 = detect */
	uint64_t pr_key;           /* SCSI-3 PR key guests register with; 0 = no scsi fencing */
	const char *drbdadm;       /* drbdadm program (NULL = the default) */
	const char *xl;            /* xl program (xl driver; NULL = /usr/sbin/xl) */
	const char *xl_migrate_ssh; /* xl migrate -s command (xl driver; NULL = the default) */
	const char *domain_paths;  /* host paths definitions may name (def_policy.h); NULL =
				    * unchecked. Read at every start: it may change on reload. */
};

/* Migration, target side: get ready to receive the domain. */
struct hv_migrate_in {
	const char *name;
	const char *definition;
	uint64_t incarnation;      /* what the target copy runs as (the same for a live migration) */
	uint32_t memory_mib;
	uint32_t vcpus;
	const char *source_host;   /* host name of the source */
	const char *listen_addr;   /* this host's cluster address, for a listening socket */
};

/* Migration, source side: send the domain to a target that is ready. */
struct hv_migrate_out {
	const char *name;
	uint64_t incarnation;      /* the target copy's (a stop-and-copy driver gives it) */
	const char *target_host;   /* the target's host name (xl: its ssh destination) */
	const char *target_addr;   /* the target's cluster address */
	const char *uri;           /* what the target's migrate_prepare answered */
	uint64_t timeout_ms;       /* the whole transfer; past it the migration is cancelled
				    * if the driver still can (never after the target acknowledged) */
};

/* Progress of a migration, as far as the driver knows it. */
struct hv_migrate_progress {
	const char *phase;         /* short words: "connecting", "copying", "stopped", "completing" */
	uint64_t bytes_done;       /* 0 = unknown */
	uint64_t bytes_total;      /* 0 = unknown */
	int percent;               /* -1 = unknown */
	int64_t downtime_ms;       /* -1 = unknown; known once the guest runs on the target */
};

struct hv;
/* result: 0 or -errno; msg: a short human reason on failure (may be NULL). */
typedef void (*hv_done_fn)(void *opaque, int result, const char *msg);
/* Inventory callback: the array is only valid during the call. result <0 = list failed. */
typedef void (*hv_progress_fn)(void *opaque, const struct hv_migrate_progress *p);
typedef void (*hv_list_fn)(void *opaque, int result, const struct hv_domain_info *doms,
			   size_t n);

struct hv_ops {
	const char *name;
	int (*init)(struct hv **out, const struct hv_host *host, char *err, size_t errlen);
	void (*fini)(struct hv *hv);       /* leaves running domains running */
	int (*list)(struct hv *hv, hv_list_fn done, void *opaque);
	int (*capacity)(struct hv *hv, struct hv_capacity *out);
	/* Check a definition before it enters the replicated state; 0 or -EINVAL + err. */
	int (*validate)(const char *definition, char *err, size_t errlen);
	/* Check it against the allow-lists (def_policy.h) with these host paths: 0, or
	 * -EPERM + err naming the key. NULL when the driver runs nothing as root (sim). The
	 * driver also applies it itself before every start. */
	int (*policy)(const char *definition, const char *paths, char *err, size_t errlen);
	int (*start)(struct hv *hv, const struct hv_start *req, hv_done_fn done, void *opaque);
	/* Graceful stop, then destroy after timeout_ms; done once the domain is gone. */
	int (*stop)(struct hv *hv, const char *name, uint64_t timeout_ms, hv_done_fn done,
		    void *opaque);
	int (*destroy)(struct hv *hv, const char *name, hv_done_fn done, void *opaque);
	/* Freeze (pause) or thaw a running domain in place: the no-quorum policy "freeze".
	 * Synchronous and quick; 0 or -errno (-ENOENT: not running). */
	int (*pause)(struct hv *hv, const char *name, bool paused);

	/* Migration (NULL when the driver has none). live: the guest keeps running during
	 * the copy and keeps its incarnation; otherwise stop-and-copy with a new one. */
	bool live_migration;
	/* Target: prepare to receive. done(0, uri) once ready: msg is then the driver's
	 * own string for the source's migrate_send (e.g. "tcp:10.0.0.2:49152"). Until the
	 * source completes, list() shows the domain HV_INCOMING; then HV_RUNNING. A failed
	 * or abandoned receive leaves an HV_INCOMING leftover that destroy() removes. */
	int (*migrate_prepare)(struct hv *hv, const struct hv_migrate_in *req, hv_done_fn done,
			       void *opaque);
	/* Source: send. progress may be called any number of times before done. done(0)
	 * once the target copy runs and the source copy is gone (or HV_MIGRATED, which the
	 * driver removes itself). done(<0) with the domain still running on the source
	 * whenever the driver could resume it; -EPROTO when the outcome is unknown (both
	 * ends must be checked: xl's "failed during final handshake"). */
	int (*migrate_send)(struct hv *hv, const struct hv_migrate_out *req,
			    hv_progress_fn progress, hv_done_fn done, void *opaque);
};

/* The registry: the driver named name, or NULL. */
const struct hv_ops *hv_lookup(const char *name);

extern const struct hv_ops hv_sim_ops;
extern const struct hv_ops hv_xl_ops;
extern const struct hv_ops hv_qemu_ops;

const char *hv_dom_state_name(enum hv_dom_state st);

/* Helpers the drivers share. Write text to path through a temporary file, fsync and
 * rename (0 or -errno); MemTotal of /proc/meminfo in MiB (0 if unreadable). */
int hv_write_file_atomic(const char *path, const char *text);
uint64_t hv_meminfo_total_mib(void);

#endif
