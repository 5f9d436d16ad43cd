/* expect: presence member nick_flag of User is not a bk_presence */
/* BK_PRESENCE naming an int member instead of a bk_presence. */
#include "cf_types.h"
const bk_field F[] = { BK_FIELD(User, nick, BK_STR, BK_PRESENCE(User, nick_flag)) };
