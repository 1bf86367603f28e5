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

const char *hv_dom_state_name(enum hv_dom_state st)
{
	static const char *const names[] = {"running", "paused", "shutting-down", "crashed",
					     "incoming", "migrated"};

	return (unsigned)st < HAX_ARRAY_SIZE(names) ? names[st] : "?";
}
