/* expect: member name of User does not have the C type of its kind */
/* A char * member declared BK_I32. */
#include "cf_types.h"
const bk_field F[] = { BK_FIELD(User, name, BK_I32) };
