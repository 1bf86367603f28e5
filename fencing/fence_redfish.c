/* placeholder: being written */
#include "fence.h"
const struct fence_driver fence_redfish_driver = {.kind = CONF_FENCE_REDFISH, .name = "redfish"};
