/* expect: member tags of User is not a bk_map */
/* BK_MAP on a bk_strs member. */
#include "cf_types.h"
const bk_field F[] = { BK_MAP(User, tags, BK_STR) };
