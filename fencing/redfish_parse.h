/*
 * What hax-fence-redfish reads in a BMC's answers (DMTF Redfish): the Systems collection,
 * a ComputerSystem's PowerState and reset action, an error body's message. Pure (jansson
 * only) so that a hostile or broken BMC's JSON is fuzzed (tests/fuzz).
 */
#ifndef HAX_REDFISH_PARSE_H
#define HAX_REDFISH_PARSE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define REDFISH_URL_MAX 1024

/* A resource path from the BMC or the command line: absolute, printable, no query. */
bool redfish_good_path(const char *p);

/* The one member of a Systems collection: 0 with *path (in coll). Otherwise *n members
 * and *first the first one's @odata.id (or NULL): -EBADMSG when there is one member but
 * no usable path or no Members array, -ENOENT when there are none or several. */
int redfish_pick_system(const json_t *coll, const char **path, size_t *n, const char **first);

/* A ComputerSystem's PowerState (non-empty string) in *state and its reset action's
 * target in *target (NULL if absent or not a good path). 0, or -EBADMSG without a
 * PowerState. */
int redfish_system_power(const json_t *sys, const char **state, const char **target);

/* A Redfish error body's own words: error.@Message.ExtendedInfo[0].Message, else
 * error.message. NULL if there are none. */
const char *redfish_message(const json_t *reply);

#endif
