#include "watchdog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/watchdog.h>

#include "util.h"

struct watchdog {
	int fd;
};

int watchdog_open(const char *path, uint64_t timeout_ms, struct watchdog **out)
{
	struct watchdog *w;
	struct stat st;
	int fd, secs;

	fd = open(path, O_WRONLY | O_CLOEXEC | O_APPEND);
	if (fd < 0)
		return -errno;
	/* A real device takes its timeout by ioctl; the lab's stand-in is a file that
	 * knows its own. */
	if (fstat(fd, &st) == 0 && S_ISCHR(st.st_mode)) {
		secs = (int)((timeout_ms + 999) / 1000);
		if (ioctl(fd, WDIOC_SETTIMEOUT, &secs) < 0) {
			int e = errno;

			close(fd);
			return -e;
		}
	}
	w = hax_xcalloc(1, sizeof(*w));
	w->fd = fd;
	*out = w;
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
