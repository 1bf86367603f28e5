/*
 * The fence driver registry (STYLE.md habit 12): one const ops struct per driver file,
 * listed here and nowhere else.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/util.h"
#include "lib/child.h"
#include "fence.h"

#ifndef HAX_SBINDIR
#define HAX_SBINDIR "/usr/sbin"
#endif

/* Weak, so that a test program can link the registry with only the drivers it tests; a
 * driver missing from a link is "none". haxd links them all. */
extern const struct fence_driver fence_agent_driver __attribute__((weak));
extern const struct fence_driver fence_scsi_driver __attribute__((weak));
extern const struct fence_driver fence_redfish_driver __attribute__((weak));
extern const struct fence_driver fence_drbd_driver __attribute__((weak));
extern const struct fence_driver fence_watchdog_driver __attribute__((weak));

static const struct fence_driver *const drivers[] = {
    &fence_agent_driver,
    &fence_scsi_driver,
    &fence_redfish_driver,
    &fence_drbd_driver,
    &fence_watchdog_driver,
};

const struct fence_driver *fence_driver_for(enum conf_fence_driver kind)
{
	size_t i;

	/* A driver without start() is a stub of a build that lacks it: "none". */
	for (i = 0; i < HAX_ARRAY_SIZE(drivers); i++)
		if (drivers[i] && drivers[i]->kind == kind && drivers[i]->start)
			return drivers[i];
	return NULL;
}

uint64_t fence_scsi_key(uint32_t nodeid)
{
	/* "hax" in the top three bytes tells our registrations from anyone else's. */
	return 0x6861780000000000ull | nodeid;
}

void fence_find_tool(const char *name, const char *env, char *out, size_t len)
{
	const char *path = getenv(env);
	char self[PATH_MAX / 2];
	ssize_t n;

	if (path && *path) {
		hax_strlcpy(out, path, len);
		return;
	}
	/* From a build tree, or installed: the tool sits next to haxd. */
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		*strrchr(self, '/') = '\0';
		snprintf(out, len, "%s/%s", self, name);
		if (access(out, X_OK) == 0)
			return;
	}
	snprintf(out, len, "%s/%s", HAX_SBINDIR, name);
}

int fence_read_password(const char *path, char *out, size_t size, char *err, size_t errlen)
{
	ssize_t n;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		goto err_say;
	}
	do
		n = read(fd, out, size - 1);
	while (n < 0 && errno == EINTR);
	r = -errno;
	close(fd);
	if (n < 0)
		goto err_say;
	out[n] = '\0';
	if (!memchr(out, '\n', (size_t)n) && (size_t)n == size - 1) {
		explicit_bzero(out, size);
		snprintf(err, errlen, "password_file %s: first line longer than %zu bytes", path,
			 size - 2);
		return -EINVAL;
	}
	n = (ssize_t)strcspn(out, "\r\n");
	explicit_bzero(out + n, size - (size_t)n);
	if (!out[0]) {
		snprintf(err, errlen, "password_file %s: empty first line", path);
		return -EINVAL;
	}
	return 0;

err_say:
	snprintf(err, errlen, "cannot read password_file %s: %s", path, strerror(-r));
	return r;
}

void fence_scrub(char *s, const char *secret)
{
	size_t n = strlen(secret);
	char *p;

	if (!n)
		return;
	/* Search on past each mask: a secret made of '*' would otherwise match its own mask
	 * for ever (found by tests/fuzz). */
	for (p = s; (p = strstr(p, secret)); p += n)
		memset(p, '*', n);
}

void fence_last_line(const char *output, const char *secret, char *line, size_t len)
{
	char *buf = hax_xstrdup(output), *s = buf, *end, *p;
	size_t n = strlen(buf);

	/* A full buffer is the tail of a longer output: its first line is a fragment that
	 * may hold the end of a secret, beyond what fence_scrub() can recognise. */
	if (n >= CHILD_OUTPUT_MAX - 1)
		s = (p = strchr(buf, '\n')) ? p + 1 : buf + n;
	fence_scrub(s, secret);
	end = s + strlen(s);
	while (end > s && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	p = strrchr(s, '\n');
	p = p ? p + 1 : s;
	while (*p == ' ' || *p == '\t')
		p++;
	snprintf(line, len, "%s", *p ? p : "(no output)");
	for (p = line; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	explicit_bzero(buf, n);
	free(buf);
}
