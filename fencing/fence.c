/*
 * The fence driver registry (STYLE.md habit 12): one const ops struct per driver file,
 * listed here and nowhere else.
 */
#include <stddef.h>

#include "../haxd/util.h"
#include "fence.h"

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
