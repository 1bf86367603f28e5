#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int hax_strlcpy(char *dst, const char *src, size_t n)
{
	size_t len = strlen(src);

	if (n == 0)
		return -ENAMETOOLONG;
	if (len >= n) {
		memcpy(dst, src, n - 1);
		dst[n - 1] = '\0';
		return -ENAMETOOLONG;
	}
	memcpy(dst, src, len + 1);
	return 0;
}

bool hax_valid_name(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len >= HAX_NAME_MAX || s[0] == '-' || s[0] == '.')
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '.' && *s != '_' && *s != '-')
			return false;
	return true;
}

const char *hax_reserved_domain_suffix(const char *s)
{
	static const char *const sfx[] = {"--incoming", "--migratedaway"};
	size_t n = strlen(s), i;

	for (i = 0; i < HAX_ARRAY_SIZE(sfx); i++)
		if (n >= strlen(sfx[i]) && strcmp(s + n - strlen(sfx[i]), sfx[i]) == 0)
			return sfx[i];
	return NULL;
}

/* Parse a decimal number followed by an optional suffix; rejects signs, spaces, overflow. */
static int parse_num_suffix(const char *s, uint64_t *num, const char **suffix)
{
	char *end;
	unsigned long long v;

	if (!isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	*num = v;
	*suffix = end;
	return 0;
}

static int mul_checked(uint64_t a, uint64_t b, uint64_t *out)
{
	if (b != 0 && a > UINT64_MAX / b)
		return -ERANGE;
	*out = a * b;
	return 0;
}

int hax_parse_duration_ms(const char *s, uint64_t *out_ms)
{
	uint64_t v, mult;
	const char *suf;
	int r = parse_num_suffix(s, &v, &suf);

	if (r < 0)
		return r;
	if (strcmp(suf, "ms") == 0)
		mult = 1;
	else if (strcmp(suf, "s") == 0 || *suf == '\0')
		mult = 1000;
	else if (strcmp(suf, "m") == 0 || strcmp(suf, "min") == 0)
		mult = 60000;
	else if (strcmp(suf, "h") == 0)
		mult = 3600000;
	else
		return -EINVAL;
	return mul_checked(v, mult, out_ms);
}

int hax_parse_size_mib(const char *s, uint64_t *out_mib)
{
	uint64_t v;
	const char *suf;
	int r = parse_num_suffix(s, &v, &suf);

	if (r < 0)
		return r;
	if (strcmp(suf, "K") == 0 || strcmp(suf, "KiB") == 0) {
		if (v % 1024)
			return -EINVAL;
		*out_mib = v / 1024;
		return 0;
	}
	if (*suf == '\0' || strcmp(suf, "M") == 0 || strcmp(suf, "MiB") == 0)
		return mul_checked(v, 1, out_mib);
	if (strcmp(suf, "G") == 0 || strcmp(suf, "GiB") == 0)
		return mul_checked(v, 1024, out_mib);
	if (strcmp(suf, "T") == 0 || strcmp(suf, "TiB") == 0)
		return mul_checked(v, 1024 * 1024, out_mib);
	return -EINVAL;
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t hax_now_mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

uint64_t hax_now_real_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

static void oom(void)
{
	fputs("hax: out of memory\n", stderr);
	abort();
}

void *hax_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom();
	return p;
}

void *hax_xcalloc(size_t n, size_t m)
{
	void *p = calloc(n ? n : 1, m ? m : 1);

	if (!p)
		oom();
	return p;
}

char *hax_xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		oom();
	return p;
}

void *hax_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		oom();
	return q;
}
