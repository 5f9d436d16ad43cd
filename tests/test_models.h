/* Models shared by the codec tests. */
#ifndef BK_TEST_MODELS_H
#define BK_TEST_MODELS_H
#include <backend.h>

typedef enum { ROLE_ADMIN, ROLE_MEMBER, ROLE_GUEST } Role;
static const char *const ROLES[] = { "admin", "member", "guest", NULL };

typedef struct {
    char *street;
    char *city;
    char *zip;
} Address;

static const bk_field ADDRESS_FIELDS[] = {
    BK_FIELD(Address, street, BK_STR),
    BK_FIELD(Address, city, BK_STR),
    BK_FIELD(Address, zip, BK_STR),
};
static const bk_model_def ADDRESS_DEF = BK_MODEL_DEF(Address, ADDRESS_FIELDS);

typedef struct {
    int64_t id;
    char *name;
    char *email;
    int32_t age;
    bool active;
    double score;
    bk_strs tags;
    Address address;
    int64_t created_at;
    Role role;
    char *nickname;
    bk_presence nickname_p;
} User;

static const bk_field USER_FIELDS[] = {
    BK_FIELD(User, id, BK_I64, .primary_key = true),
    BK_FIELD(User, name, BK_STR),
    BK_FIELD(User, email, BK_STR),
    BK_FIELD(User, age, BK_I32),
    BK_FIELD(User, active, BK_BOOL, .default_json = "true"),
    BK_FIELD(User, score, BK_F64, .default_zero = true),
    BK_LIST(User, tags, BK_STR, .default_json = "[]"),
    BK_NESTED(User, address, Address, &ADDRESS_DEF),
    BK_FIELD(User, created_at, BK_TIMESTAMP),
    BK_ENUM(User, role, ROLES, .default_json = "\"member\""),
    BK_FIELD(User, nickname, BK_STR, BK_PRESENCE(User, nickname_p)),
};
static const bk_model_def USER_DEF = BK_MODEL_DEF(User, USER_FIELDS, .deny_unknown = true);

#endif
