/* expect: member id of User does not have the C type of its kind */
/* An int64_t member declared BK_STR. */
#include "cf_types.h"
const bk_field F[] = { BK_FIELD(User, id, BK_STR) };
