/* expect: no member named [^a-z]*nmae */
/* BK_FIELD naming a member that does not exist (a typo). */
#include "cf_types.h"
const bk_field F[] = { BK_FIELD(User, nmae, BK_STR) };
