/*
 * What the xl driver reads and writes, as pure functions (no I/O, no clock, no log):
 * the outputs of `xl list`, `xl list -l` and `xl info`, the phase lines xl migrate
 * prints on stderr, and xl.cfg domain definitions (checked before they enter the
 * replicated state, and rewritten for a start with the hax.* kernel parameters).
 */
#ifndef HAX_XL_PARSE_H
#define HAX_XL_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define XL_NAME_MAX 128 /* a hax name plus "--migratedaway" fits */
#define XL_CFG_MAX (64 * 1024)

/* The state columns of `xl list`: r b p s (reason letter) d. */
enum {
	XL_RUNNING = 1 << 0,
	XL_BLOCKED = 1 << 1,
	XL_PAUSED = 1 << 2,
	XL_SHUTDOWN = 1 << 3,
	XL_DYING = 1 << 4,
};

/* One domain as `xl list` shows it, completed from `xl list -l` when it is there. */
struct xl_dom {
	char name[XL_NAME_MAX]; /* as xl shows it, with any --incoming/--migratedaway */
	uint32_t domid;
	uint32_t mem_mib; /* the table's Mem column */
	uint32_t vcpus;	  /* the table's VCPUs column (online vcpus) */
	unsigned flags;	  /* XL_RUNNING ... */
	char reason;	  /* shutdown reason letter: r s c w S, or '-' */
	/* From `xl list -l` (have_long): */
	bool have_long;
	char uuid[40];
	uint32_t max_vcpus;
	uint64_t target_memkb, max_memkb;
	uint64_t incarnation; /* hax.incarnation= of its kernel command line; 0 = none */
	uint32_t nodeid;      /* hax.nodeid= of its kernel command line; 0 = none */
};

/* `xl list` (the table, with its header). *out is malloc'd (free it), *n entries; the
 * Domain-0 row is kept (domid 0). 0, or -EINVAL with err ("line N: why"). */
int xl_parse_list(const char *text, struct xl_dom **out, size_t *n, char *err, size_t errlen);

/* `xl list -l` (a JSON array of {domid, config:{c_info, b_info, ...}}): completes the
 * table entries with the same domid and name. Entries without a match are ignored (the
 * two listings are taken at different instants). 0, or -EINVAL with err. */
int xl_merge_list_long(const char *json, struct xl_dom *doms, size_t n, char *err, size_t errlen);

/* The part of `xl info` hax uses. */
struct xl_info {
	uint64_t total_mib; /* total_memory */
	uint64_t free_mib;  /* free_memory */
	uint32_t nr_cpus;
	char scheduler[16]; /* xen_scheduler: credit, credit2, ... ("" = not shown) */
};

/* 0, or -EINVAL when total_memory, free_memory or nr_cpus is missing or malformed. */
int xl_parse_info(const char *text, struct xl_info *out);

/* The name xl shows for a domain NAME in the middle of a migration, and back. */
enum xl_name_kind { XL_NAME_PLAIN, XL_NAME_INCOMING, XL_NAME_MIGRATEDAWAY };

/* Split "NAME--incoming" into NAME and XL_NAME_INCOMING (and so on); base has room for
 * XL_NAME_MAX. Returns the kind. */
enum xl_name_kind xl_split_name(const char *xlname, char *base, size_t len);

/* How far an `xl migrate` got, from everything it (and, through ssh, the receiver)
 * printed on stderr so far. Phases only move forward. */
enum xl_mig_phase {
	XL_MIG_STARTED,	       /* nothing recognised yet: connecting */
	XL_MIG_RECEIVER_READY, /* "migration target: Ready to receive domain." */
	XL_MIG_TRANSFERRED,    /* "migration target: Transfer complete, ..." */
	XL_MIG_ACKNOWLEDGED,   /* "migration sender: Target has acknowledged transfer." */
	XL_MIG_TARGET_STARTED, /* target reports its copy runs */
	XL_MIG_SUCCESS,	       /* "Migration successful." */
};

enum xl_mig_failure {
	XL_MIG_OK,
	XL_MIG_FAIL_RESUMED,   /* before the handshake; resumed at the sender */
	XL_MIG_FAIL_SUSPEND,   /* the guest did not suspend; still at the sender */
	XL_MIG_FAIL_TARGET,    /* the target could not start its copy; sender resumed */
	XL_MIG_FAIL_HANDSHAKE, /* "failed during final handshake": check both ends */
};

struct xl_mig_status {
	enum xl_mig_phase phase;
	enum xl_mig_failure failure;
	char last[160]; /* the last non-empty line seen, for messages */
};

/* Scan text (all of stderr so far) into st, starting from a zeroed status. */
void xl_migrate_scan(const char *text, struct xl_mig_status *st);

/* The last non-empty line of text (an xl error message), copied into out. */
void xl_last_line(const char *text, char *out, size_t len);

/* ---- xl.cfg ---------------------------------------------------------------------- */

enum xl_cfg_type { XL_CFG_STRING, XL_CFG_NUMBER, XL_CFG_LIST };

struct xl_cfg_item {
	char key[64];
	enum xl_cfg_type type;
	char *str;	   /* STRING: the dequoted value */
	long long num;	   /* NUMBER */
	size_t nlist;	   /* LIST: number of elements */
	char **list;	   /* LIST: string elements (numbers as written) */
	size_t start, end; /* the statement's bytes in the text, end past its newline */
};

struct xl_cfg {
	struct xl_cfg_item *items;
	size_t n;
};

/* Parse xl.cfg text (the subset of xl's syntax: KEY = "string" | 'string' | number |
 * [list], '#' comments, statements ended by a newline or ';', KEY += "string").
 * 0, or -EINVAL with err ("line N: why"). */
int xl_cfg_parse(const char *text, struct xl_cfg *cfg, char *err, size_t errlen);
void xl_cfg_free(struct xl_cfg *cfg);

/* The value in force for key (xl: the last assignment wins), or NULL. */
const struct xl_cfg_item *xl_cfg_get(const struct xl_cfg *cfg, const char *key);

/* What hax checks in a definition before it enters the replicated state: the syntax,
 * and the keys hax reads (memory, maxmem, vcpus, maxvcpus, cpu_weight, cap, extra,
 * name) have sane types and ranges. 0 or -EINVAL with err. */
int xl_cfg_validate(const char *text, char *err, size_t errlen);

/* Scheduler and sizing settings hax applies after a start (0 = not set). */
struct xl_cfg_settings {
	uint32_t memory_mib;
	uint32_t vcpus;
	int weight; /* cpu_weight; -1 = not set */
	int cap;    /* cap; -1 = not set */
};

/* The settings of a (valid) definition. 0 or -EINVAL. */
int xl_cfg_settings(const char *text, struct xl_cfg_settings *out);

/* The definition as hax writes it for `xl create`: the text with its name and extra
 * statements replaced by name = "NAME" and an extra that ends with
 * "hax.incarnation=INC hax.nodeid=NODE" (what the guest reads from /proc/cmdline),
 * and memory/vcpus added from memory_mib/vcpus when the text has none. malloc'd, or
 * NULL with err. */
char *xl_cfg_for_start(const char *text, const char *name, uint64_t incarnation, uint32_t nodeid,
		       uint32_t memory_mib, uint32_t vcpus, char *err, size_t errlen);

/* hax.incarnation= and hax.nodeid= of a kernel command line (0 when absent). */
void xl_cmdline_hax(const char *cmdline, uint64_t *incarnation, uint32_t *nodeid);

#endif
