#include "redfish_parse.h"

#include <errno.h>
#include <string.h>

bool redfish_good_path(const char *p)
{
	if (!p || p[0] != '/' || strlen(p) >= REDFISH_URL_MAX)
		return false;
	for (; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '?' || *p == '#')
			return false;
	return true;
}

int redfish_pick_system(const json_t *coll, const char **path, size_t *n, const char **first)
{
	json_t *members = json_object_get(coll, "Members");
	const char *s = json_string_value(json_object_get(json_array_get(members, 0), "@odata.id"));

	*n = json_array_size(members);
	*first = s;
	if (*n == 1 && redfish_good_path(s)) {
		*path = s;
		return 0;
	}
	if (*n == 1 || !json_is_array(members))
		return -EBADMSG;
	return -ENOENT;
}

int redfish_system_power(const json_t *sys, const char **state, const char **target)
{
	const char *ps = json_string_value(json_object_get(sys, "PowerState"));
	json_t *reset = json_object_get(json_object_get(sys, "Actions"), "#ComputerSystem.Reset");
	const char *t = json_string_value(json_object_get(reset, "target"));

	if (!ps || !ps[0])
		return -EBADMSG;
	*state = ps;
	*target = redfish_good_path(t) ? t : NULL;
	return 0;
}

const char *redfish_message(const json_t *reply)
{
	json_t *e = json_object_get(reply, "error");
	json_t *info = json_object_get(e, "@Message.ExtendedInfo");
	const char *m = json_string_value(json_object_get(json_array_get(info, 0), "Message"));

	return m ? m : json_string_value(json_object_get(e, "message"));
}
