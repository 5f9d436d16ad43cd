/* expect: member employer of User is not a Address */
/* BK_NESTED with the wrong struct type: employer is a Company. */
#include "cf_types.h"
extern const bk_model_def ADDRESS_DEF;
const bk_field F[] = { BK_NESTED(User, employer, Address, &ADDRESS_DEF) };
