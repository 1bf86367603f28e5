#include "watchdog.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/watchdog.h>

#include "lib/util.h"

struct watchdog {
	int fd;
	uint64_t timeout_ms;     /* what the device accepted */
	int timeout_err;         /* why it is unknown (then timeout_ms is 0) */
};

/* A real device rounds or clamps the timeout it is given and writes back what it took;
 * GETTIMEOUT then tells what it really uses (some drivers differ from the write-back). */
static int device_timeout(int fd, uint64_t want_ms, uint64_t *got_ms)
{
	int secs = (int)((want_ms + 999) / 1000), now = 0;

	if (ioctl(fd, WDIOC_SETTIMEOUT, &secs) < 0)
		return -errno;
	if (ioctl(fd, WDIOC_GETTIMEOUT, &now) < 0)
		now = secs;
	if (now <= 0)
		return -EINVAL;
	*got_ms = (uint64_t)now * 1000;
	return 0;
}

/* The lab's stand-in (scripts/watchdog_lab) publishes the timeout it enforces. */
static int standin_timeout(const char *path, uint64_t *got_ms)
{
	char tpath[PATH_MAX + 16];
	unsigned long long ms = 0;
	FILE *f;
	int n;

	snprintf(tpath, sizeof(tpath), "%s.timeout", path);
	f = fopen(tpath, "re");
	if (!f)
		return -errno;
	n = fscanf(f, "%llu", &ms);
	fclose(f);
	if (n != 1 || ms == 0)
		return -EINVAL;
	*got_ms = ms;
	return 0;
}

int watchdog_open(const char *path, uint64_t timeout_ms, struct watchdog **out)
{
	struct watchdog *w;
	uint64_t got = 0;
	struct stat st;
	int fd, r;

	fd = open(path, O_WRONLY | O_CLOEXEC | O_APPEND);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (S_ISCHR(st.st_mode))
		r = device_timeout(fd, timeout_ms, &got);
	else
		r = standin_timeout(path, &got);
	/* A device whose timeout is unknown stays armed and fed (it may guard domains a
	 * previous haxd left running); the leader just cannot trust a wait for it. */
	w = hax_xcalloc(1, sizeof(*w));
	w->fd = fd;
	w->timeout_ms = r < 0 ? 0 : got;
	w->timeout_err = r < 0 ? r : 0;
	*out = w;
	return 0;
}

int watchdog_timeout(const struct watchdog *w, uint64_t *ms)
{
	if (w->timeout_err < 0)
		return w->timeout_err;
	*ms = w->timeout_ms;
	return 0;
}

int watchdog_feed(struct watchdog *w)
{
	return write(w->fd, "1", 1) == 1 ? 0 : -errno;
}

void watchdog_close(struct watchdog *w)
{
	if (!w)
		return;
	if (write(w->fd, "V", 1) != 1) {
		/* Nothing more to do: the device will fire, which is the safe side. */
	}
	close(w->fd);
	free(w);
}

void watchdog_leave(struct watchdog *w)
{
	if (!w)
		return;
	close(w->fd);
	free(w);
}
