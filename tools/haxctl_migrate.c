/*
 * haxctl migrate / evacuate / maintenance. The leader does the work; --wait follows it
 * through haxd's status (every member keeps the migrations' progress reports): on a
 * terminal one line per domain, redrawn in place; otherwise one plain line per change.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "haxctl.h"
#include "lib/util.h"

#define WAIT_POLL_MS 500
#define MAX_FOLLOW 4096

struct follow {
	char name[HAX_NAME_MAX];
	char from[HAX_NAME_MAX];
	char last[256];          /* last line printed (plain mode) */
	bool done;
};

struct watch {
	bool tty;
	const char *host;        /* evacuate: the host being emptied; NULL for migrate */
	size_t n;
	struct follow f[MAX_FOLLOW];
	int drawn;               /* lines drawn last time (tty) */
	uint64_t t0;
};

/* The member of the status array "domains" or "hosts" named name, or NULL. */
static const json_t *find_named(const json_t *status, const char *array, const char *name)
{
	const json_t *arr = json_object_get(status, array);
	size_t i;

	for (i = 0; i < json_array_size(arr); i++)
		if (strcmp(jstr(json_array_get(arr, i), "name"), name) == 0)
			return json_array_get(arr, i);
	return NULL;
}

/* One domain's line: where it is going, the phase and numbers the driver knows. */
static void describe(const struct follow *f, const json_t *d, char *out, size_t len)
{
	const json_t *m = json_object_get(d, "migration");
	const char *st = jstr(d, "state");

	if (!d) {
		snprintf(out, len, "%-16s gone from the configuration", f->name);
	} else if (strcmp(st, "migrating") == 0 && json_is_object(m)) {
		long long done = jint(m, "bytes_done"), total = jint(m, "bytes_total");
		long long pct = jint(m, "percent");
		char num[64] = "";

		if (total > 0)
			snprintf(num, sizeof(num), "  %.1f/%.1f MiB", done / 1048576.0,
				 total / 1048576.0);
		snprintf(out, len, "%-16s %s -> %s  %-10s %3lld%%%s  %.1f s", f->name, jstr(d, "host"),
			 jstr(d, "target"), jstr(m, "phase"), pct < 0 ? 0 : pct, num,
			 jint(m, "elapsed_ms") / 1000.0);
	} else if (strcmp(st, "migrating") == 0) {
		snprintf(out, len, "%-16s %s -> %s  preparing", f->name, jstr(d, "host"),
			 jstr(d, "target"));
	} else if (strcmp(jstr(d, "host"), f->from) != 0 && strcmp(st, "running") == 0) {
		snprintf(out, len, "%-16s moved to %s (incarnation %lld)", f->name, jstr(d, "host"),
			 jint(d, "incarnation"));
	} else {
		const char *why = json_string_value(json_object_get(d, "reason"));

		if (strcmp(st, "running") == 0 && !(why && *why))
			snprintf(out, len, "%-16s waiting on %s", f->name, jstr(d, "host"));
		else
			snprintf(out, len, "%-16s %s on %s%s%s", f->name, st, jstr(d, "host"),
				 why && *why ? ": " : "", why && *why ? why : "");
	}
}

static bool moved(const struct follow *f, const json_t *d)
{
	return d && strcmp(jstr(d, "state"), "running") == 0 && strcmp(jstr(d, "host"), f->from);
}

/* Redraw (tty) or print what changed (plain). Returns how many domains have moved. */
static size_t show(struct watch *w, const json_t *status)
{
	char line[256];
	size_t i, nmoved = 0;

	if (w->tty && w->drawn)
		printf("\033[%dA", w->drawn);
	w->drawn = 0;
	for (i = 0; i < w->n; i++) {
		const json_t *d = find_named(status, "domains", w->f[i].name);

		describe(&w->f[i], d, line, sizeof(line));
		nmoved += moved(&w->f[i], d);
		if (w->tty) {
			printf("\033[K  %s\n", line);
			w->drawn++;
		} else if (strcmp(line, w->f[i].last) != 0) {
			time_t now = time(NULL);
			struct tm tm;
			char ts[16];

			localtime_r(&now, &tm);
			strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
			printf("%s %s\n", ts, line);
		}
		hax_strlcpy(w->f[i].last, line, sizeof(w->f[i].last));
	}
	if (w->tty) {
		printf("\033[K%zu of %zu moved, %.1f s\n", nmoved, w->n,
		       (hax_now_mono_ns() - w->t0) / 1e9);
		w->drawn++;
	}
	fflush(stdout);
	return nmoved;
}

/* Finished: the domain (migrate) is no longer migrating; the host (evacuate) is no longer
 * evacuating and nothing migrates off it. */
static bool finished(const struct watch *w, const json_t *status)
{
	size_t i;

	for (i = 0; i < w->n; i++) {
		const json_t *d = find_named(status, "domains", w->f[i].name);

		if (d && strcmp(jstr(d, "state"), "migrating") == 0)
			return false;
	}
	if (w->host) {
		const json_t *h = find_named(status, "hosts", w->host);

		return !h || !json_is_true(json_object_get(h, "evacuating"));
	}
	return true;
}

static int follow(struct watch *w)
{
	json_t *status;
	size_t nmoved = 0;
	int polls = 0;

	w->tty = isatty(STDOUT_FILENO);
	w->t0 = hax_now_mono_ns();
	for (;;) {
		if (call(json_pack("{s:s}", "cmd", "status"), &status))
			return EXIT_FAIL;
		nmoved = show(w, status);
		/* The first polls may predate the leader's first proposal. */
		if (++polls > 2 && finished(w, status)) {
			json_decref(status);
			break;
		}
		json_decref(status);
		usleep(WAIT_POLL_MS * 1000);
	}
	printf("%zu of %zu moved in %.1f s\n", nmoved, w->n, (hax_now_mono_ns() - w->t0) / 1e9);
	return nmoved == w->n ? 0 : EXIT_FAIL;
}

int cmd_migrate(int argc, char **argv)
{
	static struct watch w;
	json_t *reply, *status;
	const json_t *d;
	bool wait = false;

	if (argc == 3 && strcmp(argv[2], "--wait") == 0)
		wait = true;
	else if (argc != 2)
		return usage_error("%s", "migrate DOMAIN HOST [--wait]");
	if (!hax_valid_name(argv[0]) || !hax_valid_name(argv[1]))
		return usage_error("%s", "migrate: DOMAIN and HOST must be valid names");
	if (call(json_pack("{s:s}", "cmd", "status"), &status))
		return EXIT_FAIL;
	d = find_named(status, "domains", argv[0]);
	hax_strlcpy(w.f[0].name, argv[0], sizeof(w.f[0].name));
	hax_strlcpy(w.f[0].from, d ? jstr(d, "host") : "", sizeof(w.f[0].from));
	w.n = 1;
	json_decref(status);
	if (call(json_pack("{s:s, s:s, s:s}", "cmd", "migrate", "name", argv[0], "host", argv[1]),
		 &reply))
		return EXIT_FAIL;
	json_decref(reply);
	printf("%s: migrating from %s to %s\n", argv[0], w.f[0].from, argv[1]);
	return wait ? follow(&w) : 0;
}

static int print_plan(const char *host, const json_t *reply, bool dry)
{
	const json_t *plan = json_object_get(reply, "plan");
	bool fits = json_is_true(json_object_get(reply, "fits"));
	size_t i, nofit = 0;

	printf("Evacuation plan for %s%s:\n", host, dry ? " (dry run: nothing changes)" : "");
	for (i = 0; i < json_array_size(plan); i++) {
		const json_t *p = json_array_get(plan, i);
		const char *why = json_string_value(json_object_get(p, "reason"));

		nofit += json_is_null(json_object_get(p, "target"));
		printf("  %-16s -> %s%s%s\n", jstr(p, "domain"),
		       json_is_null(json_object_get(p, "target")) ? "(none)" : jstr(p, "target"),
		       why && *why ? "  " : "", why && *why ? why : "");
	}
	if (json_array_size(plan) == 0)
		printf("  (no domains on %s)\n", host);
	if (fits)
		printf("It fits: every domain has a target.\n");
	else
		printf("It does not fit: %zu domain(s) have no target now.\n", nofit);
	return fits ? 0 : EXIT_FAIL;
}

struct evac_args {
	const char *host;
	bool wait, dry, abort;
	long conc;
};

static int parse_evacuate(int argc, char **argv, struct evac_args *a)
{
	int i;

	for (i = 0; i < argc; i++) {
		char *end;

		if (strcmp(argv[i], "--wait") == 0) {
			a->wait = true;
		} else if (strcmp(argv[i], "--dry-run") == 0) {
			a->dry = true;
		} else if (strcmp(argv[i], "--abort") == 0) {
			a->abort = true;
		} else if (strcmp(argv[i], "--concurrency") == 0 && i + 1 < argc) {
			a->conc = strtol(argv[++i], &end, 10);
			if (*end || a->conc < 1 || a->conc > 64)
				return usage_error("--concurrency %s: expected 1..64", argv[i]);
		} else if (argv[i][0] == '-' || a->host) {
			return usage_error("evacuate: unexpected argument \"%s\"", argv[i]);
		} else {
			a->host = argv[i];
		}
	}
	if (!a->host || !hax_valid_name(a->host))
		return usage_error("%s", "evacuate HOST [--wait] [--concurrency N] [--dry-run] | "
					 "evacuate --abort HOST");
	if (a->abort && (a->wait || a->dry || a->conc))
		return usage_error("%s", "evacuate --abort HOST takes no other option");
	if (a->dry && a->wait)
		return usage_error("%s", "--dry-run and --wait do not go together");
	return 0;
}

int cmd_evacuate(int argc, char **argv)
{
	static struct watch w;
	struct evac_args a = {0};
	const json_t *plan;
	json_t *reply, *req;
	size_t i;
	int r = parse_evacuate(argc, argv, &a);

	if (r)
		return r;
	req = json_pack("{s:s, s:s, s:b, s:b, s:I}", "cmd", "evacuate", "host", a.host, "dry_run",
			a.dry, "abort", a.abort, "concurrency", (json_int_t)a.conc);
	if (call(req, &reply))
		return EXIT_FAIL;
	if (a.abort) {
		printf("%s: evacuation aborted: migrations under way finish, no new ones start; %s stays in maintenance (haxctl maintenance %s off)\n",
		       a.host, a.host, a.host);
		json_decref(reply);
		return 0;
	}
	r = print_plan(a.host, reply, a.dry);
	if (a.dry) {
		json_decref(reply);
		return r;
	}
	printf("%s: maintenance on, evacuating\n", a.host);
	plan = json_object_get(reply, "plan");
	for (i = 0; i < json_array_size(plan) && i < MAX_FOLLOW; i++) {
		hax_strlcpy(w.f[i].name, jstr(json_array_get(plan, i), "domain"), HAX_NAME_MAX);
		hax_strlcpy(w.f[i].from, a.host, HAX_NAME_MAX);
	}
	w.n = i;
	w.host = a.host;
	json_decref(reply);
	return a.wait ? follow(&w) : 0;
}

int cmd_maintenance(int argc, char **argv)
{
	json_t *reply;
	bool on;

	if (argc != 2 || !hax_valid_name(argv[0]) ||
	    (strcmp(argv[1], "on") != 0 && strcmp(argv[1], "off") != 0))
		return usage_error("%s", "maintenance HOST on|off");
	on = strcmp(argv[1], "on") == 0;
	if (call(json_pack("{s:s, s:s, s:b}", "cmd", "maintenance", "host", argv[0], "on", on),
		 &reply))
		return EXIT_FAIL;
	json_decref(reply);
	if (on)
		printf("%s: maintenance on: no new domains are placed there; those running stay (haxctl evacuate %s moves them)\n",
		       argv[0], argv[0]);
	else
		printf("%s: maintenance off: it takes domains again\n", argv[0]);
	return 0;
}
