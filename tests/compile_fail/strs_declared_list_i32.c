/* expect: member tags of User is not the list type of its element kind */
/* A bk_strs member declared as a list of BK_I32. */
#include "cf_types.h"
const bk_field F[] = { BK_LIST(User, tags, BK_I32) };
