/* The registry of hypervisor drivers (STYLE.md habit 12): one line per driver. Apart
 * from hv.c's helpers so that a program with a driver of its own (hax-sim) links the
 * helpers without every driver. */
#include "hv.h"

#include <string.h>

static const struct hv_ops *const drivers[] = {
	&hv_sim_ops,
	&hv_xl_ops,
	&hv_qemu_ops,
};

const struct hv_ops *hv_lookup(const char *name)
{
	size_t i;

	for (i = 0; i < HAX_ARRAY_SIZE(drivers); i++)
		if (strcmp(drivers[i]->name, name) == 0)
			return drivers[i];
	return NULL;
}
