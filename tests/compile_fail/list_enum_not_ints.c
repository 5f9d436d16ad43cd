/* expect: member scores of User is not a bk_ints */
/* BK_LIST_ENUM on a bk_i32s member. */
#include "cf_types.h"
const char *const NAMES[] = { "a", "b", NULL };
const bk_field F[] = { BK_LIST_ENUM(User, scores, NAMES) };
