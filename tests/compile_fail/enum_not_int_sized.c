/* expect: enum member small of User must be int-sized */
/* BK_ENUM on a char member. */
#include "cf_types.h"
const char *const NAMES[] = { "a", "b", NULL };
const bk_field F[] = { BK_ENUM(User, small, NAMES) };
