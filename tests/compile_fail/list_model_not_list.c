/* expect: member tags of User is not a bk_list */
/* BK_LIST_MODEL on a bk_strs member. */
#include "cf_types.h"
extern const bk_model_def ADDRESS_DEF;
const bk_field F[] = { BK_LIST_MODEL(User, tags, &ADDRESS_DEF) };
