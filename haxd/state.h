/*
 * The replicated cluster state: hosts, domains, maintenance, fence history, version.
 * The leader is its single writer; every member applies and persists the same changes.
 * Library code: no logging, no corosync/libqb; errors are -errno plus a message buffer.
 */
#ifndef HAX_STATE_H
#define HAX_STATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/util.h"

#define STATE_FORMAT_VERSION 1
/*
 * Size limits that agree (issue 12 item 8): every accepted state fits every message
 * that carries it. A hello carries the whole state plus an inventory in MSG_MAX_BYTES
 * (8 MiB): the state is held to STATE_MAX_JSON_BYTES (6 MiB), the other 2 MiB are the
 * inventory's and the envelope's. A domain is accepted only if the state stays within
 * that limit with room for everything that may still grow: each domain's changing
 * fields at their longest (STATE_DOMAIN_RESERVE: reason, host, target, numbers) and the
 * hosts, fence history and header at theirs (STATE_FIXED_RESERVE). tests/state checks
 * the worst case against both limits.
 */
#define STATE_MAX_JSON_BYTES (6u * 1024 * 1024) /* larger input is refused, -E2BIG */
#define STATE_DOMAIN_RESERVE 1536
#define STATE_FIXED_RESERVE (160u * 1024)
#define STATE_MAX_HOSTS 64
#define STATE_MAX_DOMAINS 2048
#define STATE_MAX_DEFINITION 65536   /* bytes of hypervisor definition text */
#define STATE_MAX_TAGS 16            /* anti-affinity tags per domain */
#define STATE_MAX_PREFER 32          /* preferred hosts per domain */
#define STATE_MAX_FENCE_HISTORY 64   /* oldest records are dropped beyond this */
#define STATE_REASON_MAX 160

enum host_state {
	HOST_UNKNOWN,    /* configured, never seen in this state's history */
	HOST_ONLINE,
	HOST_SUSPECT,    /* left the membership, not yet fenced */
	HOST_FENCING,
	HOST_FENCED,
	HOST_AGENT_LOST, /* corosync alive, haxd gone */
	HOST_STATE_COUNT
};

enum dom_state {
	DOM_STOPPED,
	DOM_STARTING,
	DOM_RUNNING,
	DOM_STOPPING,
	DOM_MIGRATING,
	DOM_RECOVERING,  /* pending placement */
	DOM_FAILED,
	DOM_DISABLED,
	DOM_STATE_COUNT
};

struct hax_host {
	char name[HAX_NAME_MAX];
	uint32_t nodeid;
	enum host_state state;
	bool maintenance;
	bool evacuating;                 /* every domain is to be migrated off it */
	uint32_t evacuate_concurrency;   /* that evacuation's bound; 0 = the cluster's */
	uint64_t mem_total_mib;
	uint64_t mem_free_mib;
	uint32_t vcpus_total;
	uint64_t watchdog_ms;            /* its watchdog's accepted timeout, as it last
					  * reported it as a member; 0 = not armed */
	uint64_t since_ns;               /* wall clock of the last state change */
};

struct hax_domain {
	char name[HAX_NAME_MAX];
	char *definition;                /* hypervisor definition text, owned, NUL-terminated */
	uint32_t memory_mib;             /* 1..16 TiB */
	uint32_t vcpus;                  /* 1..1024 */
	int32_t priority;                /* higher first; -1000..1000 */
	size_t n_anti;
	char anti[STATE_MAX_TAGS][HAX_NAME_MAX];
	size_t n_prefer;
	char prefer[STATE_MAX_PREFER][HAX_NAME_MAX];
	bool enabled;
	enum dom_state state;
	char host[HAX_NAME_MAX];         /* host it runs on or is placed on; "" = none */
	char target[HAX_NAME_MAX];       /* migration target; "" = none */
	uint64_t incarnation;            /* 0 = never started */
	uint64_t target_incarnation;     /* what the migration target runs as; 0 = none */
	uint64_t since_ns;               /* wall clock of the last state change */
	uint32_t start_attempts;         /* failed starts since the last success */
	uint32_t restarts;               /* starts after the first (failovers, restarts) */
	char reason[STATE_REASON_MAX];   /* why recovering/failed/stopped; "" = none */
};

struct hax_fence_record {
	char host[HAX_NAME_MAX];
	uint64_t time_ns;                /* wall clock */
	bool ok;
	char method[HAX_NAME_MAX];       /* fence level or "manual-ack" */
	char detail[STATE_REASON_MAX];
};

struct hax_state {
	uint64_t epoch;                  /* bumped by a new leader */
	uint64_t seq;                    /* bumped by every change */
	char cluster[HAX_NAME_MAX];
	uint64_t last_incarnation;       /* the highest incarnation ever handed out */
	size_t nhosts;
	struct hax_host *hosts;
	size_t ndomains;
	struct hax_domain *domains;
	size_t nfence;                   /* oldest first */
	struct hax_fence_record *fence;
	/* The haxd members of the view whose leader began this epoch, and the hosts that
	 * may hold changes this history lacks: members of an earlier epoch that left with
	 * a ring split, which may have delivered the last changes (and run the commands)
	 * that the other side never saw. A host leaves the doubt when it is a member of a
	 * new epoch's view or is fenced; while any host is in doubt, nothing is started. */
	size_t nepoch_members;
	char epoch_members[STATE_MAX_HOSTS][HAX_NAME_MAX];
	size_t ndoubt;
	char doubt[STATE_MAX_HOSTS][HAX_NAME_MAX];
	size_t budget;                   /* sum of state_domain_budget() over the domains */
};

/* Lifecycle. state_free accepts NULL. state_clone aborts only on out-of-memory. */
struct hax_state *state_new(const char *cluster);
void state_free(struct hax_state *s);
struct hax_state *state_clone(const struct hax_state *s);

/* <0, 0, >0 as (epoch, seq) of a is older, equal, newer than b's. */
int state_version_cmp(const struct hax_state *a, const struct hax_state *b);

/* Lookups; NULL when absent. */
struct hax_host *state_host(const struct hax_state *s, const char *name);
struct hax_host *state_host_by_nodeid(const struct hax_state *s, uint32_t nodeid);
struct hax_domain *state_domain(const struct hax_state *s, const char *name);

/* Bytes a domain may take in the state's JSON, now or after any change: its fixed
 * fields as encoded plus STATE_DOMAIN_RESERVE for those that change. */
size_t state_domain_budget(const struct hax_domain *d);

/* Add a host (name, nodeid) if absent; returns it. -EEXIST if the nodeid belongs to another
 * name, -E2BIG past STATE_MAX_HOSTS, -EINVAL for a bad name. */
int state_add_host(struct hax_state *s, const char *name, uint32_t nodeid,
		   struct hax_host **out);

/* Add a copy of *d (definition duplicated). -EEXIST duplicate name, -EINVAL invalid fields
 * (message in err), -E2BIG too many domains. Does not bump seq: callers do. */
int state_add_domain(struct hax_state *s, const struct hax_domain *d, char *err, size_t errlen);

/* Remove a domain; -ENOENT if absent. */
int state_remove_domain(struct hax_state *s, const char *name);

/* Validate one domain's fields (name, sizes, tags, definition length); 0 or -EINVAL + err. */
int state_domain_validate(const struct hax_domain *d, char *err, size_t errlen);

/* Append a fence record, dropping the oldest past STATE_MAX_FENCE_HISTORY. */
void state_add_fence_record(struct hax_state *s, const struct hax_fence_record *r);

/* JSON. state_to_json returns a new reference. state_from_json validates everything (types,
 * ranges, names, duplicates, sizes) and returns 0 or -EINVAL with a message in err. */
json_t *state_to_json(const struct hax_state *s);
int state_from_json(const json_t *j, struct hax_state **out, char *err, size_t errlen);
json_t *domain_to_json(const struct hax_domain *d);
/* Parses into *out (caller frees out->definition with domain_clear). */
int domain_from_json(const json_t *j, struct hax_domain *out, char *err, size_t errlen);
void domain_clear(struct hax_domain *d);

/* Text forms; state_from_string refuses more than STATE_MAX_JSON_BYTES with -E2BIG. */
char *state_to_string(const struct hax_state *s); /* malloc'd, compact JSON */
int state_from_string(const char *text, size_t len, struct hax_state **out, char *err,
		      size_t errlen);

/* Persistence: DIR/state.json written to a temp file, fsync, rename, fsync of DIR.
 * state_load returns -ENOENT when there is no saved state. */
int state_save(const struct hax_state *s, const char *dir);
int state_load(const char *dir, struct hax_state **out, char *err, size_t errlen);

/* Names, shared by logs, events, IPC, haxctl and check_haxd. parse returns -EINVAL. */
const char *host_state_name(enum host_state st);
const char *dom_state_name(enum dom_state st);
int host_state_parse(const char *name, enum host_state *out);
int dom_state_parse(const char *name, enum dom_state *out);

#endif
