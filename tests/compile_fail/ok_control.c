/* Control: every descriptor macro used correctly; this file MUST compile. */
#include "cf_types.h"

const char *const ROLES[] = { "admin", "member", NULL };
const bk_type_def F64_TYPE = { .kind = BK_F64 };

const bk_field ADDRESS_FIELDS[] = {
    BK_FIELD(Address, city, BK_STR),
    BK_FIELD(Address, zip, BK_STR, .rename = "postcode"),
};
const bk_model_def ADDRESS_DEF = BK_MODEL_DEF(Address, ADDRESS_FIELDS);

const bk_field COMPANY_FIELDS[] = { BK_FIELD(Company, name, BK_STR) };
const bk_model_def COMPANY_DEF = BK_MODEL_DEF(Company, COMPANY_FIELDS);

const bk_variant SHAPE_VARIANTS[] = {
    BK_VARIANT(Shape, u.radius, "circle", &F64_TYPE),
    BK_VARIANT(Shape, u.side, "square", &F64_TYPE),
    BK_VARIANT_UNIT("point"),
};
const bk_union_def SHAPE_DEF = BK_UNION_DEF(Shape, kind, SHAPE_VARIANTS,
    .tagging = BK_TAG_ADJACENT, .tag = "t", .content = "c");

const bk_type_def ADDRESS_TYPE = { .kind = BK_MODEL, .model = &ADDRESS_DEF };

const bk_field USER_FIELDS[] = {
    BK_FIELD(User, id, BK_I64, .primary_key = true, .auto_id = true),
    BK_FIELD(User, name, BK_STR),
    BK_FIELD(User, age, BK_I32),
    BK_ENUM(User, role, ROLES, .default_json = "\"member\""),
    BK_LIST(User, tags, BK_STR),
    BK_LIST(User, scores, BK_I32),
    BK_LIST_ENUM(User, roles, ROLES),
    BK_LIST_MODEL(User, addresses, &ADDRESS_DEF),
    BK_MAP(User, counters, BK_I64),
    BK_NESTED(User, home, Address, &ADDRESS_DEF),
    BK_NESTED_PTR(User, work, Address, &ADDRESS_DEF),
    BK_NESTED(User, employer, Company, &COMPANY_DEF),
    BK_FIELD(User, nick, BK_STR, BK_PRESENCE(User, nick_state)),
    BK_UNION(User, shape, &SHAPE_DEF),
};
const bk_model_def USER_DEF = BK_MODEL_DEF(User, USER_FIELDS, .deny_unknown = true);

/* The list/map "_OF" forms with a described element type. */
typedef struct Book { bk_list shelves; bk_map by_city; } Book;
const bk_field BOOK_FIELDS[] = {
    BK_LIST_OF(Book, shelves, &ADDRESS_TYPE),
    BK_MAP_OF(Book, by_city, &ADDRESS_TYPE),
};
const bk_model_def BOOK_DEF = BK_MODEL_DEF(Book, BOOK_FIELDS);
