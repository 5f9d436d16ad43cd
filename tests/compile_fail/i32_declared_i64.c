/* expect: member age of User does not have the C type of its kind */
/* An int32_t member declared BK_I64. */
#include "cf_types.h"
const bk_field F[] = { BK_FIELD(User, age, BK_I64) };
