/* expect: tag member kind of BadShape is not an int */
/* BK_UNION_DEF whose tag member is a long, not an int. */
#include "cf_types.h"
const bk_type_def F64_TYPE = { .kind = BK_F64 };
const bk_variant V[] = {
    BK_VARIANT(BadShape, u.radius, "circle", &F64_TYPE),
    BK_VARIANT(BadShape, u.side, "square", &F64_TYPE),
};
const bk_union_def D = BK_UNION_DEF(BadShape, kind, V);
