/*
 * conf_keys: print haxd.conf's key table (conf_keys() of the core library), one key a
 * line, for the man-page test. Tab-separated:
 *   SECTION KEY TYPE DEFAULT MIN MAX REQUIRED RELOADABLE ENUM-VALUES
 * DEFAULT is "-" when there is none; MIN and MAX are "-" for keys without bounds and
 * are written like haxd's own range messages (durations 100ms, 1m; sizes 64T).
 * ENUM-VALUES is space-separated ("-" for other types).
 */
#include <stdio.h>

#include "conf/conf.h"

#define MS_SEC 1000ull
#define MS_MIN (60 * MS_SEC)
#define MS_HOUR (60 * MS_MIN)

static const char *const type_names[] = {
    [CONF_T_STRING] = "string", [CONF_T_PATH] = "path",		[CONF_T_INT] = "integer",
    [CONF_T_BOOL] = "boolean",	[CONF_T_DURATION] = "duration", [CONF_T_SIZE] = "size",
    [CONF_T_ENUM] = "enum",	[CONF_T_LIST] = "list",
};

struct unit {
	unsigned long long div;
	const char *name;
};

static const struct unit dur_units[] = {{MS_HOUR, "h"}, {MS_MIN, "m"}, {MS_SEC, "s"}, {1, "ms"}};
static const struct unit size_units[] = {{1024 * 1024, "T"}, {1024, "G"}, {1, "M"}};

/* The same units as conf.c's messages: the largest unit that divides the value. */
static void fmt_bound(const struct conf_key *k, unsigned long long v, char *buf, size_t n)
{
	const struct unit *u = NULL;
	size_t i, count = 0;

	if (k->type == CONF_T_DURATION) {
		u = dur_units;
		count = sizeof(dur_units) / sizeof(dur_units[0]);
	} else if (k->type == CONF_T_SIZE) {
		u = size_units;
		count = sizeof(size_units) / sizeof(size_units[0]);
	}
	snprintf(buf, n, "%llu", v);
	for (i = 0; v != 0 && i < count; i++) {
		if (v % u[i].div == 0) {
			snprintf(buf, n, "%llu%s", v / u[i].div, u[i].name);
			return;
		}
	}
}

int main(void)
{
	size_t n, i, j;
	const struct conf_key *k = conf_keys(&n);
	char lo[32], hi[32];

	for (i = 0; i < n; i++) {
		if (k[i].max > 0) {
			fmt_bound(&k[i], k[i].min, lo, sizeof(lo));
			fmt_bound(&k[i], k[i].max, hi, sizeof(hi));
		} else {
			snprintf(lo, sizeof(lo), "-");
			snprintf(hi, sizeof(hi), "-");
		}
		printf("%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t", k[i].section, k[i].key,
		       (size_t)k[i].type < sizeof(type_names) / sizeof(type_names[0])
			   ? type_names[k[i].type]
			   : "?",
		       k[i].def ? k[i].def : "-", lo, hi, k[i].required, k[i].reloadable);
		for (j = 0; k[i].type == CONF_T_ENUM && k[i].enum_values[j]; j++)
			printf("%s%s", j ? " " : "", k[i].enum_values[j]);
		printf("%s\n", k[i].type == CONF_T_ENUM ? "" : "-");
	}
	return 0;
}
