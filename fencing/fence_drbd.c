/* placeholder: being written */
#include "fence.h"
const struct fence_driver fence_drbd_driver = {.kind = CONF_FENCE_DRBD, .name = "drbd"};
