/* Small helpers shared by every part of hax; no I/O besides the clock. */
#ifndef HAX_UTIL_H
#define HAX_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define HAX_NAME_MAX 64    /* host, domain, fence, storage names incl. NUL */
#define HAX_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Copy src into dst of size n, always NUL-terminated; returns -ENAMETOOLONG if cut. */
int hax_strlcpy(char *dst, const char *src, size_t n);

/* true if s is a valid object name: 1..63 chars of [A-Za-z0-9._-], not starting with '-' or '.'. */
bool hax_valid_name(const char *s);

/* The suffix xl appends to a domain's name during a migration ("--incoming",
 * "--migratedaway") if s ends in one, else NULL. A domain so named would be taken for
 * the migration leftover of another one (xl_split_name), never seen running, and
 * started again on every tick: such names are refused for domains. */
const char *hax_reserved_domain_suffix(const char *s);

/* Parse "500ms", "60s", "2m", "1h" (a bare number means seconds) into milliseconds. 0 or -EINVAL. */
int hax_parse_duration_ms(const char *s, uint64_t *out_ms);

/* Parse "512M", "4G", "1T", "1024K" (a bare number means MiB) into MiB; K must be whole MiB. */
int hax_parse_size_mib(const char *s, uint64_t *out_mib);

/* Monotonic and wall clocks in nanoseconds. */
uint64_t hax_now_mono_ns(void);
uint64_t hax_now_real_ns(void);

/* Abort with a message; for out-of-memory only (STYLE.md: never on input). */
void *hax_xmalloc(size_t n);
void *hax_xcalloc(size_t n, size_t m);
char *hax_xstrdup(const char *s);
void *hax_xrealloc(void *p, size_t n);

#endif
