/*
 * Parsers for the xl driver (xl_parse.h). The formats are xl's own (Xen 4.17's
 * tools/xl and libxl):
 * - `xl list`: a header "Name  ID  Mem VCPUs<TAB>State<TAB>Time(s)", then one row per
 *   domain: the name left-aligned in 40 columns, domid, memory in MiB, online vcpus,
 *   six state letters "rbpscd" with '-' for an unset one (the fifth is the shutdown
 *   reason letter of "-rscwS"), cpu time. Names are read from the left up to the last
 *   five columns, so a long name that pushes the columns right still parses.
 * - `xl list -l`: a JSON array of {"domid": N, "config": libxl_domain_config}; the
 *   kernel command line is b_info.cmdline (4.10 on) or b_info."type.pv".cmdline.
 * - `xl info`: "key<spaces>: value" lines; memory figures are MiB.
 * - xl migrate: xl_migrate.c's fixed stderr messages of sender and receiver.
 * - xl.cfg: libxlutil's grammar (settings ended by a newline or ';', strings in
 *   double or single quotes, numbers, one-level lists that may span lines).
 */
#include "xl_parse.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lib/util.h"

/* ---- xl list ------------------------------------------------------------------- */

#define LIST_COLS 5 /* ID Mem VCPUs State Time(s), after the name */

static int parse_u32(const char *s, uint32_t *out)
{
	char *end;
	unsigned long long v;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > UINT32_MAX)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

/* "r-----", "-b----", "--p---", "---sc-", "-----d": column i holds its own letter or
 * '-'; the fifth holds the shutdown reason letter ('-' also for a poweroff). */
static int parse_state(const char *s, unsigned *flags, char *reason)
{
	static const char letter[6] = {'r', 'b', 'p', 's', 0, 'd'};
	static const unsigned bit[6] = {XL_RUNNING,  XL_BLOCKED, XL_PAUSED,
					XL_SHUTDOWN, 0,		 XL_DYING};
	int i;

	if (strlen(s) != 6)
		return -EINVAL;
	*flags = 0;
	*reason = '-';
	for (i = 0; i < 6; i++) {
		if (s[i] == '-')
			continue;
		if (i == 4) {
			if (!strchr("rscwS?", s[i]))
				return -EINVAL;
			*reason = s[i];
		} else if (s[i] == letter[i]) {
			*flags |= bit[i];
		} else {
			return -EINVAL;
		}
	}
	return 0;
}

/* Split a row into its whitespace-separated words; returns how many (at most max). */
static int split_words(char *line, char **w, int max)
{
	int n = 0;
	char *p = line;

	while (*p && n < max) {
		p += strspn(p, " \t");
		if (!*p)
			break;
		w[n++] = p;
		p += strcspn(p, " \t");
		if (*p)
			*p++ = '\0';
	}
	return n;
}

static int parse_row(char *line, struct xl_dom *d)
{
	char copy[512], *w[64], *time_end;
	int n, i;
	size_t name_len;

	if (strlen(line) >= sizeof(copy))
		return -EINVAL;
	strcpy(copy, line);
	n = split_words(copy, w, 64);
	if (n < 1 + LIST_COLS)
		return -EINVAL;
	memset(d, 0, sizeof(*d));
	i = n - LIST_COLS;
	/* The name is everything before the ID column, as written (it may hold spaces). */
	name_len = (size_t)(w[i] - copy);
	while (name_len && strchr(" \t", line[name_len - 1]))
		name_len--;
	if (name_len == 0 || name_len >= sizeof(d->name))
		return -EINVAL;
	memcpy(d->name, line, name_len);
	d->name[name_len] = '\0';
	if (parse_u32(w[i], &d->domid) < 0 || parse_u32(w[i + 1], &d->mem_mib) < 0 ||
	    parse_u32(w[i + 2], &d->vcpus) < 0 || parse_state(w[i + 3], &d->flags, &d->reason) < 0)
		return -EINVAL;
	strtod(w[i + 4], &time_end);
	if (time_end == w[i + 4] || *time_end)
		return -EINVAL;
	return 0;
}

static bool is_list_header(const char *line)
{
	return strncmp(line, "Name", 4) == 0 && strstr(line, " ID ") && strstr(line, "Mem") &&
	       strstr(line, "VCPUs") && strstr(line, "State") && strstr(line, "Time(s)");
}

/* The next line of *p (without its newline, CR stripped) into buf; false at the end. */
static bool next_line(const char **p, char *buf, size_t len, bool *too_long)
{
	const char *s = *p, *nl;
	size_t n;

	if (!*s)
		return false;
	nl = strchr(s, '\n');
	n = nl ? (size_t)(nl - s) : strlen(s);
	*p = s + n + (nl ? 1 : 0);
	*too_long = n >= len;
	if (*too_long)
		n = len - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (n && buf[n - 1] == '\r')
		buf[n - 1] = '\0';
	return true;
}

int xl_parse_list(const char *text, struct xl_dom **out, size_t *n, char *err, size_t errlen)
{
	struct xl_dom *doms = NULL;
	size_t count = 0;
	char line[512];
	bool header = false, too_long;
	int lineno = 0;

	while (next_line(&text, line, sizeof(line), &too_long)) {
		lineno++;
		if (!line[strspn(line, " \t")])
			continue;
		if (!header) {
			if (!is_list_header(line)) {
				snprintf(err, errlen, "line %d: not the header of xl list", lineno);
				goto err_free;
			}
			header = true;
			continue;
		}
		doms = hax_xrealloc(doms, (count + 1) * sizeof(*doms));
		if (too_long || parse_row(line, &doms[count]) < 0) {
			snprintf(err, errlen, "line %d: malformed row of xl list", lineno);
			goto err_free;
		}
		count++;
	}
	if (!header) {
		snprintf(err, errlen, "no xl list header");
		goto err_free;
	}
	*out = doms;
	*n = count;
	return 0;

err_free:
	free(doms);
	return -EINVAL;
}

/* ---- xl list -l ------------------------------------------------------------------ */

static uint64_t json_u64(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_integer(v) && json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v)
							       : 0;
}

static void fill_long(struct xl_dom *d, const json_t *c_info, const json_t *b_info)
{
	const char *uuid = json_string_value(json_object_get(c_info, "uuid"));
	const char *cmdline = json_string_value(json_object_get(b_info, "cmdline"));
	uint64_t v = json_u64(b_info, "max_vcpus");

	if (!cmdline)
		cmdline = json_string_value(
		    json_object_get(json_object_get(b_info, "type.pv"), "cmdline"));
	d->have_long = true;
	hax_strlcpy(d->uuid, uuid ? uuid : "", sizeof(d->uuid));
	d->max_vcpus = v <= UINT32_MAX ? (uint32_t)v : 0;
	d->target_memkb = json_u64(b_info, "target_memkb");
	d->max_memkb = json_u64(b_info, "max_memkb");
	xl_cmdline_hax(cmdline ? cmdline : "", &d->incarnation, &d->nodeid);
}

int xl_merge_list_long(const char *json, struct xl_dom *doms, size_t n, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root = json_loads(json, JSON_REJECT_DUPLICATES, &jerr), *e;
	size_t i, k;

	if (!json_is_array(root)) {
		snprintf(err, errlen, "xl list -l: %s", root ? "not a JSON array" : jerr.text);
		json_decref(root);
		return -EINVAL;
	}
	json_array_foreach(root, i, e)
	{
		const json_t *config = json_object_get(e, "config");
		const json_t *c_info = json_object_get(config, "c_info");
		const json_t *domid = json_object_get(e, "domid");
		const char *name = json_string_value(json_object_get(c_info, "name"));

		/* Domain-0's entry may have a null domid or a config without c_info. */
		if (!json_is_integer(domid) || !name)
			continue;
		for (k = 0; k < n; k++)
			if (doms[k].domid == (uint32_t)json_integer_value(domid) &&
			    strcmp(doms[k].name, name) == 0)
				fill_long(&doms[k], c_info, json_object_get(config, "b_info"));
	}
	json_decref(root);
	return 0;
}

/* ---- xl info --------------------------------------------------------------------- */

static int info_u64(const char *val, uint64_t *out)
{
	char *end;

	if (!isdigit((unsigned char)*val))
		return -EINVAL;
	errno = 0;
	*out = strtoull(val, &end, 10);
	return errno || *end ? -EINVAL : 0;
}

int xl_parse_info(const char *text, struct xl_info *out)
{
	struct xl_info info = {0};
	unsigned seen = 0;
	char line[1024];
	bool too_long;

	while (next_line(&text, line, sizeof(line), &too_long)) {
		char *colon = strchr(line, ':'), *key = line, *val;
		size_t klen;
		uint64_t v;

		if (too_long || !colon)
			continue;
		*colon = '\0';
		klen = strcspn(key, " \t");
		key[klen] = '\0';
		val = colon + 1 + strspn(colon + 1, " \t");
		if (strcmp(key, "total_memory") == 0 && info_u64(val, &info.total_mib) == 0)
			seen |= 1;
		else if (strcmp(key, "free_memory") == 0 && info_u64(val, &info.free_mib) == 0)
			seen |= 2;
		else if (strcmp(key, "nr_cpus") == 0 && info_u64(val, &v) == 0 && v > 0 &&
			 v <= UINT32_MAX) {
			info.nr_cpus = (uint32_t)v;
			seen |= 4;
		} else if (strcmp(key, "xen_scheduler") == 0)
			hax_strlcpy(info.scheduler, val, sizeof(info.scheduler));
	}
	if (seen != 7)
		return -EINVAL;
	*out = info;
	return 0;
}

/* ---- names and migration --------------------------------------------------------- */

enum xl_name_kind xl_split_name(const char *xlname, char *base, size_t len)
{
	static const struct {
		const char *suffix;
		enum xl_name_kind kind;
	} sfx[] = {{"--incoming", XL_NAME_INCOMING}, {"--migratedaway", XL_NAME_MIGRATEDAWAY}};
	size_t n = strlen(xlname), i;

	for (i = 0; i < HAX_ARRAY_SIZE(sfx); i++) {
		size_t s = strlen(sfx[i].suffix);

		if (n > s && strcmp(xlname + n - s, sfx[i].suffix) == 0 && n - s < len) {
			memcpy(base, xlname, n - s);
			base[n - s] = '\0';
			return sfx[i].kind;
		}
	}
	hax_strlcpy(base, xlname, len);
	return XL_NAME_PLAIN;
}

static void scan_line(const char *line, struct xl_mig_status *st)
{
	static const struct {
		const char *text;
		enum xl_mig_phase phase;
	} phases[] = {
	    {"migration target: Ready to receive domain", XL_MIG_RECEIVER_READY},
	    {"migration target: Transfer complete", XL_MIG_TRANSFERRED},
	    {"migration sender: Target has acknowledged transfer", XL_MIG_ACKNOWLEDGED},
	    /* xl's own spelling, and the corrected one should it ever be fixed */
	    {"migration target: Domain started successsfully", XL_MIG_TARGET_STARTED},
	    {"migration target: Domain started successfully", XL_MIG_TARGET_STARTED},
	    {"migration sender: Target reports successful startup", XL_MIG_TARGET_STARTED},
	    {"Migration successful", XL_MIG_SUCCESS},
	};
	static const struct {
		const char *text;
		enum xl_mig_failure failure;
	} failures[] = {
	    {"Migration failed, resuming at sender", XL_MIG_FAIL_RESUMED},
	    {"Migration failed, failed to suspend at sender", XL_MIG_FAIL_SUSPEND},
	    {"Migration failed due to problems at target", XL_MIG_FAIL_TARGET},
	    {"Migration failed during final handshake", XL_MIG_FAIL_HANDSHAKE},
	};
	size_t i;

	for (i = 0; i < HAX_ARRAY_SIZE(phases); i++)
		if (strstr(line, phases[i].text) && phases[i].phase > st->phase)
			st->phase = phases[i].phase;
	/* The handshake failure is the one that leaves the outcome unknown: it wins. */
	for (i = 0; i < HAX_ARRAY_SIZE(failures); i++)
		if (strstr(line, failures[i].text) && st->failure != XL_MIG_FAIL_HANDSHAKE)
			st->failure = failures[i].failure;
}

void xl_migrate_scan(const char *text, struct xl_mig_status *st)
{
	char line[512];
	bool too_long;

	while (next_line(&text, line, sizeof(line), &too_long)) {
		/* Progress meters redraw with CR: only the last redraw counts. */
		char *cr = strrchr(line, '\r'), *l = cr ? cr + 1 : line;

		if (!l[strspn(l, " \t")])
			continue;
		scan_line(l, st);
		hax_strlcpy(st->last, l, sizeof(st->last));
	}
}

void xl_last_line(const char *text, char *out, size_t len)
{
	char line[512];
	bool too_long;

	if (len)
		out[0] = '\0';
	while (next_line(&text, line, sizeof(line), &too_long))
		if (line[strspn(line, " \t")])
			hax_strlcpy(out, line + strspn(line, " \t"), len);
}

void xl_cmdline_hax(const char *cmdline, uint64_t *incarnation, uint32_t *nodeid)
{
	const char *p = cmdline;

	*incarnation = 0;
	*nodeid = 0;
	while (*p) {
		size_t n;
		char *end;

		p += strspn(p, " \t");
		n = strcspn(p, " \t");
		if (strncmp(p, "hax.incarnation=", 16) == 0 && isdigit((unsigned char)p[16])) {
			unsigned long long v = strtoull(p + 16, &end, 10);

			if (end == p + n)
				*incarnation = v;
		} else if (strncmp(p, "hax.nodeid=", 11) == 0 && isdigit((unsigned char)p[11])) {
			unsigned long long v = strtoull(p + 11, &end, 10);

			if (end == p + n && v <= UINT32_MAX)
				*nodeid = (uint32_t)v;
		}
		p += n;
	}
}

/* ---- xl.cfg ------------------------------------------------------------------------ */

enum tok {
	T_EOF,
	T_ID,
	T_EQ,
	T_PLUSEQ,
	T_STRING,
	T_NUMBER,
	T_LBRACK,
	T_RBRACK,
	T_COMMA,
	T_NL,
	T_SEMI,
	T_ERR
};

struct lexer {
	const char *s;
	size_t pos;
	int line;
	size_t tok_start;
	int tok_line;
	char *val; /* ID, STRING, NUMBER text (malloc'd, owned by the lexer) */
	char err[128];
};

static enum tok lex_string(struct lexer *lx, char q)
{
	size_t cap = 64, n = 0;
	char *out = hax_xmalloc(cap);

	for (;;) {
		char c = lx->s[lx->pos++];

		if (c == '\0' || c == '\n') {
			snprintf(lx->err, sizeof(lx->err), "unterminated string");
			free(out);
			return T_ERR;
		}
		if (c == q)
			break;
		if (c == '\\') {
			char e = lx->s[lx->pos++];

			c = e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e;
			if (!strchr("ntr\\\"'", e) || e == '\0') {
				snprintf(lx->err, sizeof(lx->err), "unsupported escape sequence");
				free(out);
				return T_ERR;
			}
		}
		if (n + 2 > cap)
			out = hax_xrealloc(out, cap *= 2);
		out[n++] = c;
	}
	out[n] = '\0';
	lx->val = out;
	return T_STRING;
}

static enum tok lex_word(struct lexer *lx, enum tok t, const char *more)
{
	size_t start = lx->pos - 1, n;

	/* strchr finds the terminator too: a word must stop at the end of the text. */
	while (isalnum((unsigned char)lx->s[lx->pos]) ||
	       (lx->s[lx->pos] && strchr(more, lx->s[lx->pos])))
		lx->pos++;
	n = lx->pos - start;
	lx->val = hax_xmalloc(n + 1);
	memcpy(lx->val, lx->s + start, n);
	lx->val[n] = '\0';
	return t;
}

static enum tok lex(struct lexer *lx)
{
	char c;

	free(lx->val);
	lx->val = NULL;
	for (;;) {
		c = lx->s[lx->pos];
		if (c == ' ' || c == '\t' || c == '\r') {
			lx->pos++;
		} else if (c == '#') {
			lx->pos += strcspn(lx->s + lx->pos, "\n");
		} else {
			break;
		}
	}
	lx->tok_start = lx->pos;
	lx->tok_line = lx->line;
	if (c == '\0')
		return T_EOF;
	lx->pos++;
	switch (c) {
	case '\n':
		lx->line++;
		return T_NL;
	case ';':
		return T_SEMI;
	case '=':
		return T_EQ;
	case '[':
		return T_LBRACK;
	case ']':
		return T_RBRACK;
	case ',':
		return T_COMMA;
	case '"':
	case '\'':
		return lex_string(lx, c);
	case '+':
		if (lx->s[lx->pos] == '=') {
			lx->pos++;
			return T_PLUSEQ;
		}
		break;
	default:
		if (isalpha((unsigned char)c) || c == '_')
			return lex_word(lx, T_ID, "_");
		if (isdigit((unsigned char)c))
			return lex_word(lx, T_NUMBER, "._");
	}
	snprintf(lx->err, sizeof(lx->err), "unexpected character '%c'",
		 isprint((unsigned char)c) ? c : '?');
	return T_ERR;
}

static void item_free(struct xl_cfg_item *it)
{
	size_t i;

	free(it->str);
	for (i = 0; i < it->nlist; i++)
		free(it->list[i]);
	free(it->list);
}

/* The next token past newlines (lists may span lines). */
static enum tok lex_skip_nl(struct lexer *lx)
{
	enum tok t;

	while ((t = lex(lx)) == T_NL)
		;
	return t;
}

static int parse_list(struct lexer *lx, struct xl_cfg_item *it)
{
	enum tok t = lex_skip_nl(lx);

	it->type = XL_CFG_LIST;
	while (t != T_RBRACK) {
		if (t != T_STRING && t != T_NUMBER) {
			snprintf(lx->err, sizeof(lx->err),
				 "expected a string or number in the list");
			return -EINVAL;
		}
		it->list = hax_xrealloc(it->list, (it->nlist + 1) * sizeof(*it->list));
		it->list[it->nlist++] = lx->val;
		lx->val = NULL;
		t = lex_skip_nl(lx);
		if (t == T_COMMA)
			t = lex_skip_nl(lx);
		else if (t != T_RBRACK) {
			snprintf(lx->err, sizeof(lx->err), "expected ',' or ']' in the list");
			return -EINVAL;
		}
	}
	return 0;
}

static int parse_value(struct lexer *lx, struct xl_cfg_item *it)
{
	enum tok t = lex(lx);
	char *end;

	if (t == T_LBRACK)
		return parse_list(lx, it);
	if (t == T_STRING) {
		it->type = XL_CFG_STRING;
		it->str = lx->val;
		lx->val = NULL;
		return 0;
	}
	if (t == T_NUMBER) {
		it->type = XL_CFG_NUMBER;
		it->str = lx->val;
		lx->val = NULL;
		errno = 0;
		it->num = strtoll(it->str, &end, 0);
		if (errno || *end)
			it->num = -1; /* a number xl may read, but not one hax reads */
		return 0;
	}
	if (t != T_ERR)
		snprintf(lx->err, sizeof(lx->err), "expected a value after '='");
	return -EINVAL;
}

/* KEY = VALUE or KEY += VALUE, then a newline, ';' or the end. */
static int parse_setting(struct lexer *lx, struct xl_cfg_item *it)
{
	enum tok t;

	memset(it, 0, sizeof(*it));
	it->start = lx->tok_start;
	if (strlen(lx->val) >= sizeof(it->key)) {
		snprintf(lx->err, sizeof(lx->err), "setting name too long");
		return -EINVAL;
	}
	strcpy(it->key, lx->val);
	t = lex(lx);
	if (t != T_EQ && t != T_PLUSEQ) {
		snprintf(lx->err, sizeof(lx->err), "expected '=' after \"%.40s\"", it->key);
		return -EINVAL;
	}
	if (parse_value(lx, it) < 0)
		return -EINVAL;
	if (t == T_PLUSEQ) {
		/* Marked by a '+' at the end of the key: hax rejects it where it reads. */
		size_t k = strlen(it->key);

		if (k + 1 < sizeof(it->key)) {
			it->key[k] = '+';
			it->key[k + 1] = '\0';
		}
	}
	t = lex(lx);
	if (t != T_NL && t != T_SEMI && t != T_EOF) {
		snprintf(lx->err, sizeof(lx->err), "expected the end of the line after \"%.40s\"",
			 it->key);
		return -EINVAL;
	}
	it->end = lx->pos;
	return 0;
}

int xl_cfg_parse(const char *text, struct xl_cfg *cfg, char *err, size_t errlen)
{
	struct lexer lx = {.s = text, .line = 1};
	struct xl_cfg c = {0};
	enum tok t;

	if (strlen(text) > XL_CFG_MAX) {
		snprintf(err, errlen, "definition larger than %d bytes", XL_CFG_MAX);
		return -EINVAL;
	}
	while ((t = lex(&lx)) != T_EOF) {
		if (t == T_NL || t == T_SEMI)
			continue;
		if (t == T_ID) {
			c.items = hax_xrealloc(c.items, (c.n + 1) * sizeof(*c.items));
			if (parse_setting(&lx, &c.items[c.n]) == 0) {
				c.n++;
				continue;
			}
			item_free(&c.items[c.n]);
		} else if (t != T_ERR) {
			snprintf(lx.err, sizeof(lx.err), "expected a setting (KEY = VALUE)");
		}
		snprintf(err, errlen, "line %d: %s", lx.tok_line, lx.err);
		free(lx.val);
		xl_cfg_free(&c);
		return -EINVAL;
	}
	free(lx.val);
	*cfg = c;
	return 0;
}

void xl_cfg_free(struct xl_cfg *cfg)
{
	size_t i;

	for (i = 0; i < cfg->n; i++)
		item_free(&cfg->items[i]);
	free(cfg->items);
	cfg->items = NULL;
	cfg->n = 0;
}

const struct xl_cfg_item *xl_cfg_get(const struct xl_cfg *cfg, const char *key)
{
	size_t i;

	for (i = cfg->n; i-- > 0;)
		if (strcmp(cfg->items[i].key, key) == 0)
			return &cfg->items[i];
	return NULL;
}

/* The keys hax reads, with what each must hold. */
static const struct cfg_rule {
	const char *key;
	enum xl_cfg_type type;
	long long min, max;
} cfg_rules[] = {
    {"name", XL_CFG_STRING, 0, 0},
    {"extra", XL_CFG_STRING, 0, 0},
    {"memory", XL_CFG_NUMBER, 1, 16ll * 1024 * 1024},
    {"maxmem", XL_CFG_NUMBER, 1, 16ll * 1024 * 1024},
    {"vcpus", XL_CFG_NUMBER, 1, 4096},
    {"maxvcpus", XL_CFG_NUMBER, 1, 4096},
    {"cpu_weight", XL_CFG_NUMBER, 1, 65535},
    {"cap", XL_CFG_NUMBER, 0, 100 * 4096},
    {"disk", XL_CFG_LIST, 0, 0},
};

static const char *const type_names[] = {"a string", "a number", "a list"};

static int check_rule(const struct xl_cfg *cfg, const struct cfg_rule *r, char *err, size_t errlen)
{
	const struct xl_cfg_item *it = xl_cfg_get(cfg, r->key);
	char plus[sizeof(it->key)];

	snprintf(plus, sizeof(plus), "%s+", r->key);
	if (xl_cfg_get(cfg, plus)) {
		snprintf(err, errlen, "%s: hax reads this setting, write it once as %s = ...",
			 r->key, r->key);
		return -EINVAL;
	}
	if (!it)
		return 0;
	if (it->type != r->type) {
		snprintf(err, errlen, "%s: expected %s", r->key, type_names[r->type]);
		return -EINVAL;
	}
	if (r->type == XL_CFG_NUMBER && (it->num < r->min || it->num > r->max)) {
		snprintf(err, errlen, "%s: expected a whole number %lld..%lld, not \"%.20s\"",
			 r->key, r->min, r->max, it->str);
		return -EINVAL;
	}
	return 0;
}

int xl_cfg_validate(const char *text, char *err, size_t errlen)
{
	struct xl_cfg cfg;
	const struct xl_cfg_item *mem, *max;
	size_t i;
	int r = 0;

	if (xl_cfg_parse(text, &cfg, err, errlen) < 0)
		return -EINVAL;
	for (i = 0; i < HAX_ARRAY_SIZE(cfg_rules) && r == 0; i++)
		r = check_rule(&cfg, &cfg_rules[i], err, errlen);
	mem = xl_cfg_get(&cfg, "memory");
	max = xl_cfg_get(&cfg, "maxmem");
	if (r == 0 && mem && max && mem->num > max->num) {
		snprintf(err, errlen, "memory (%lld) is larger than maxmem (%lld)", mem->num,
			 max->num);
		r = -EINVAL;
	}
	mem = xl_cfg_get(&cfg, "vcpus");
	max = xl_cfg_get(&cfg, "maxvcpus");
	if (r == 0 && mem && max && mem->num > max->num) {
		snprintf(err, errlen, "vcpus (%lld) is larger than maxvcpus (%lld)", mem->num,
			 max->num);
		r = -EINVAL;
	}
	xl_cfg_free(&cfg);
	return r;
}

int xl_cfg_settings(const char *text, struct xl_cfg_settings *out)
{
	struct xl_cfg cfg;
	const struct xl_cfg_item *it;
	char err[8];

	if (xl_cfg_validate(text, err, sizeof(err)) < 0 ||
	    xl_cfg_parse(text, &cfg, err, sizeof(err)) < 0)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	it = xl_cfg_get(&cfg, "memory");
	out->memory_mib = it ? (uint32_t)it->num : 0;
	it = xl_cfg_get(&cfg, "vcpus");
	out->vcpus = it ? (uint32_t)it->num : 0;
	it = xl_cfg_get(&cfg, "cpu_weight");
	out->weight = it ? (int)it->num : -1;
	it = xl_cfg_get(&cfg, "cap");
	out->cap = it ? (int)it->num : -1;
	xl_cfg_free(&cfg);
	return 0;
}

/* Append s to the growing buffer *buf (length *len). */
static void put(char **buf, size_t *len, const char *s, size_t n)
{
	*buf = hax_xrealloc(*buf, *len + n + 1);
	memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[*len] = '\0';
}

static void put_str(char **buf, size_t *len, const char *s)
{
	put(buf, len, s, strlen(s));
}

/* s as an xl.cfg double-quoted string. */
static void put_quoted(char **buf, size_t *len, const char *s)
{
	put_str(buf, len, "\"");
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			put_str(buf, len, "\\");
		if (*s == '\n')
			put_str(buf, len, "\\n");
		else
			put(buf, len, s, 1);
	}
	put_str(buf, len, "\"");
}

/* The guest's kernel command line: the definition's own words minus any hax.* ones,
 * then hax's. */
static void put_extra(char **buf, size_t *len, const char *extra, uint64_t incarnation,
		      uint32_t nodeid)
{
	char *words = hax_xstrdup(extra ? extra : ""), *save = NULL, *w, tail[80];
	char *line = NULL;
	size_t llen = 0;

	for (w = strtok_r(words, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		if (strncmp(w, "hax.incarnation=", 16) == 0 || strncmp(w, "hax.nodeid=", 11) == 0)
			continue;
		put_str(&line, &llen, w);
		put_str(&line, &llen, " ");
	}
	snprintf(tail, sizeof(tail), "hax.incarnation=%" PRIu64 " hax.nodeid=%" PRIu32, incarnation,
		 nodeid);
	put_str(&line, &llen, tail);
	put_str(buf, len, "extra = ");
	put_quoted(buf, len, line);
	put_str(buf, len, "\n");
	free(line);
	free(words);
}

char *xl_cfg_for_start(const char *text, const char *name, uint64_t incarnation, uint32_t nodeid,
		       uint32_t memory_mib, uint32_t vcpus, char *err, size_t errlen)
{
	const struct xl_cfg_item *extra;
	struct xl_cfg cfg;
	char *out = NULL, num[64];
	size_t len = 0, pos = 0, i;

	if (xl_cfg_validate(text, err, errlen) < 0 || xl_cfg_parse(text, &cfg, err, errlen) < 0)
		return NULL;
	/* The text as written, without the settings hax writes itself. */
	for (i = 0; i < cfg.n; i++) {
		const struct xl_cfg_item *it = &cfg.items[i];

		if (strcmp(it->key, "name") != 0 && strcmp(it->key, "extra") != 0)
			continue;
		put(&out, &len, text + pos, it->start - pos);
		pos = it->end;
	}
	put_str(&out, &len, text + pos);
	if (len && out[len - 1] != '\n')
		put_str(&out, &len, "\n");
	put_str(&out, &len,
		"# Written by hax for this start: the domain's name, and its "
		"incarnation for the guest's /proc/cmdline.\nname = ");
	put_quoted(&out, &len, name);
	put_str(&out, &len, "\n");
	extra = xl_cfg_get(&cfg, "extra");
	put_extra(&out, &len, extra ? extra->str : NULL, incarnation, nodeid);
	if (memory_mib && !xl_cfg_get(&cfg, "memory")) {
		snprintf(num, sizeof(num), "memory = %" PRIu32 "\n", memory_mib);
		put_str(&out, &len, num);
	}
	if (vcpus && !xl_cfg_get(&cfg, "vcpus")) {
		snprintf(num, sizeof(num), "vcpus = %" PRIu32 "\n", vcpus);
		put_str(&out, &len, num);
	}
	xl_cfg_free(&cfg);
	return out;
}
