/* A BMC's answers as hax-fence-redfish reads them (fencing/redfish_parse.c). */
#include "fuzz.h"

#include "fencing/redfish_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *j = json_loadb((const char *)data, size, 0, NULL);
	const char *path, *first, *state, *target;
	size_t n;

	if (!j)
		return 0;
	if (redfish_pick_system(j, &path, &n, &first) == 0)
		FUZZ_CHECK(redfish_good_path(path) && n == 1);
	if (redfish_system_power(j, &state, &target) == 0)
		FUZZ_CHECK(state[0] && (!target || redfish_good_path(target)));
	(void)redfish_message(j);
	json_decref(j);
	return 0;
}
