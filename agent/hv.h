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

#include "../haxd/util.h"

enum hv_dom_state {
	HV_RUNNING,
	HV_PAUSED,
	HV_SHUTTING_DOWN,
	HV_CRASHED,
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
};

struct hv;
/* result: 0 or -errno; msg: a short human reason on failure (may be NULL). */
typedef void (*hv_done_fn)(void *opaque, int result, const char *msg);
/* Inventory callback: the array is only valid during the call. result <0 = list failed. */
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
	int (*start)(struct hv *hv, const struct hv_start *req, hv_done_fn done, void *opaque);
	/* Graceful stop, then destroy after timeout_ms; done once the domain is gone. */
	int (*stop)(struct hv *hv, const char *name, uint64_t timeout_ms, hv_done_fn done,
		    void *opaque);
	int (*destroy)(struct hv *hv, const char *name, hv_done_fn done, void *opaque);
	/* Freeze (pause) or thaw a running domain in place: the no-quorum policy "freeze".
	 * Synchronous and quick; 0 or -errno (-ENOENT: not running). */
	int (*pause)(struct hv *hv, const char *name, bool paused);
};

/* The registry: the driver named name, or NULL. */
const struct hv_ops *hv_lookup(const char *name);

extern const struct hv_ops hv_sim_ops;

const char *hv_dom_state_name(enum hv_dom_state st);

#endif
