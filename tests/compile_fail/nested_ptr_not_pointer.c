/* expect: member home of User is not a Address \* */
/* BK_NESTED_PTR on an embedded struct (not a pointer). */
#include "cf_types.h"
extern const bk_model_def ADDRESS_DEF;
const bk_field F[] = { BK_NESTED_PTR(User, home, Address, &ADDRESS_DEF) };
