/*
 * test_model.c - building models (C descriptors, run-time builder, model
 * description documents), their validation, JSON names, layout, the JSON
 * view and lookup table, documents' exact round trip, introspection and
 * misuse safety, allocation failures.
 */
#include "test_util.h"
#include <stddef.h>
#include <pthread.h>
#include "internal.h"

/* ---- models --------------------------------------------------------------- */

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
    BK_FIELD(Address, zip, BK_STR, .optional = false, .default_json = "\"00000\""),
};
static const bk_model_def ADDRESS_DEF = BK_MODEL_DEF(Address, ADDRESS_FIELDS);

/* The DESIGN example, with a nested model and an optional field. */
typedef struct {
    int64_t id;
    char *name;
    char *email;
    int32_t age;
    Role role;
    bk_strs tags;
    int64_t created_at;
    Address address;
    char *nickname;
    bk_presence nickname_p;
} User;

static const char *const NAME_ALIASES[] = { "full_name", "userName", NULL };

static const bk_field USER_FIELDS[] = {
    BK_FIELD(User, id, BK_I64, .primary_key = true, .auto_id = true),
    BK_FIELD(User, name, BK_STR, .aliases = NAME_ALIASES),
    BK_FIELD(User, email, BK_STR, .unique = true),
    BK_FIELD(User, age, BK_I32, .default_zero = true),
    BK_ENUM(User, role, ROLES, .default_json = "\"member\""),
    BK_LIST(User, tags, BK_STR, .default_json = "[]", .skip_if = BK_SKIP_IF_EMPTY),
    BK_FIELD(User, created_at, BK_TIMESTAMP),
    BK_NESTED(User, address, Address, &ADDRESS_DEF),
    BK_FIELD(User, nickname, BK_STR, BK_PRESENCE(User, nickname_p)),
};
static const bk_model_def USER_DEF = BK_MODEL_DEF(User, USER_FIELDS,
    .rename_all = BK_CASE_CAMEL, .deny_unknown = true);

/* A recursive model: a pointer to itself and a list of itself. */
typedef struct Node Node;
struct Node {
    int32_t value;
    Node *next;
    bk_list children;
};
static const bk_model_def NODE_DEF;
static const bk_field NODE_FIELDS[] = {
    BK_FIELD(Node, value, BK_I32),
    BK_NESTED_PTR(Node, next, Node, &NODE_DEF),
    BK_LIST_MODEL(Node, children, &NODE_DEF, .default_zero = true),
};
static const bk_model_def NODE_DEF = BK_MODEL_DEF(Node, NODE_FIELDS);

/* Unions. */
typedef struct { double r; } Circle;
typedef struct { double w, h; } Rect;
static const bk_field CIRCLE_FIELDS[] = { BK_FIELD(Circle, r, BK_F64) };
static const bk_model_def CIRCLE_DEF = BK_MODEL_DEF(Circle, CIRCLE_FIELDS);
static const bk_field RECT_FIELDS[] = { BK_FIELD(Rect, w, BK_F64), BK_FIELD(Rect, h, BK_F64) };
static const bk_model_def RECT_DEF = BK_MODEL_DEF(Rect, RECT_FIELDS);
static const bk_type_def CIRCLE_T = { .kind = BK_MODEL, .model = &CIRCLE_DEF };
static const bk_type_def RECT_T = { .kind = BK_MODEL, .model = &RECT_DEF };

typedef struct {
    int kind;
    union { Circle circle; Rect rect; } u;
} Shape;
static const bk_variant SHAPE_VARIANTS[] = {
    BK_VARIANT(Shape, u.circle, "circle", &CIRCLE_T),
    BK_VARIANT(Shape, u.rect, "rect", &RECT_T),
    BK_VARIANT_UNIT("none"),
};
static const bk_union_def SHAPE_DEF = BK_UNION_DEF(Shape, kind, SHAPE_VARIANTS,
    .tagging = BK_TAG_INTERNAL);
static const bk_type_def SHAPE_T = { .kind = BK_UNION, .union_def = &SHAPE_DEF };

typedef struct {
    int tag;
    union { int64_t num; char *text; bk_strs words; } u;
} Value;
static const bk_type_def I64_T = { .kind = BK_I64 };
static const bk_type_def STR_T = { .kind = BK_STR };
static const bk_type_def STRS_T = { .kind = BK_LIST, .elem_kind = BK_STR };
static const bk_variant VALUE_VARIANTS[] = {
    BK_VARIANT(Value, u.num, "num", &I64_T),
    BK_VARIANT(Value, u.text, "text", &STR_T),
    BK_VARIANT(Value, u.words, "words", &STRS_T),
    BK_VARIANT_UNIT("nothing"),
};
static const bk_union_def VALUE_DEF = BK_UNION_DEF(Value, tag, VALUE_VARIANTS,
    .tagging = BK_TAG_ADJACENT, .tag = "t", .content = "c");

/* A flattened model. */
typedef struct {
    char *label;
    int32_t weight;
} Meta;
static const bk_field META_FIELDS[] = {
    BK_FIELD(Meta, label, BK_STR),
    BK_FIELD(Meta, weight, BK_I32, .default_json = "7", .skip_if = BK_SKIP_IF_DEFAULT),
};
static const bk_model_def META_DEF = BK_MODEL_DEF(Meta, META_FIELDS);

/* Every kind and attribute, for the document round trip. */
static const bk_type_def ADDRESS_T = { .kind = BK_MODEL, .model = &ADDRESS_DEF };
static const char *const TITLE_ALIASES[] = { "heading", "caption", NULL };

typedef struct {
    int64_t id;
    char *title;
    Role role;
    bk_ints roles;
    bk_strs tags;
    bk_map counts;
    bk_list shapes;
    Shape main_shape;
    Value value;
    Node *tree;
    Meta meta;
    Address home;
    bk_map addresses;
    bk_list matrix;
    double score;
    bool active;
    json_t *extra;
    bk_presence extra_p;
    int32_t internal;
    bk_bytes blob;
    bk_uuid uid;
    int32_t day;
    int64_t at;
    float ratio;
    uint16_t port;
    int8_t small;
    uint64_t big;
    uint8_t u8;
    int16_t i16;
    uint32_t u32;
} Everything;

static const bk_field EVERYTHING_FIELDS[] = {
    BK_FIELD(Everything, id, BK_I64, .primary_key = true, .auto_id = true),
    BK_FIELD(Everything, title, BK_STR, .rename = "name", .aliases = TITLE_ALIASES),
    BK_ENUM(Everything, role, ROLES, .default_json = "\"guest\"", .index = true),
    BK_LIST_ENUM(Everything, roles, ROLES, .default_zero = true),
    BK_LIST(Everything, tags, BK_STR, .skip_if = BK_SKIP_IF_EMPTY, .default_zero = true),
    BK_MAP(Everything, counts, BK_I64, .default_json = "{\"a\":1,\"b\":2}"),
    BK_LIST_OF(Everything, shapes, &SHAPE_T, .default_zero = true),
    BK_UNION(Everything, main_shape, &SHAPE_DEF),
    BK_UNION(Everything, value, &VALUE_DEF, .default_json = "{\"t\":\"num\",\"c\":3}"),
    BK_NESTED_PTR(Everything, tree, Node, &NODE_DEF, .skip_if = BK_SKIP_IF_ABSENT),
    BK_NESTED(Everything, meta, Meta, &META_DEF, .flatten = true),
    BK_NESTED(Everything, home, Address, &ADDRESS_DEF),
    BK_MAP_OF(Everything, addresses, &ADDRESS_T, .default_zero = true),
    BK_LIST_OF(Everything, matrix, &STRS_T, .default_zero = true),
    BK_FIELD(Everything, score, BK_F64, .default_json = "1.5", .skip_if = BK_SKIP_IF_DEFAULT),
    BK_FIELD(Everything, active, BK_BOOL, .default_zero = true, .unique = true),
    BK_FIELD(Everything, extra, BK_JSON, BK_PRESENCE(Everything, extra_p)),
    BK_FIELD(Everything, internal, BK_I32, .skip = true),
    BK_FIELD(Everything, blob, BK_BYTES, .default_zero = true),
    BK_FIELD(Everything, uid, BK_UUID, .default_zero = true),
    BK_FIELD(Everything, day, BK_DATE, .default_zero = true),
    BK_FIELD(Everything, at, BK_TIMESTAMP, .default_zero = true),
    BK_FIELD(Everything, ratio, BK_F32, .default_zero = true),
    BK_FIELD(Everything, port, BK_U16, .default_json = "8080"),
    BK_FIELD(Everything, small, BK_I8, .default_zero = true),
    BK_FIELD(Everything, big, BK_U64, .default_zero = true),
    BK_FIELD(Everything, u8, BK_U8, .default_zero = true),
    BK_FIELD(Everything, i16, BK_I16, .default_zero = true),
    BK_FIELD(Everything, u32, BK_U32, .default_zero = true),
};
static const bk_model_def EVERYTHING_DEF = BK_MODEL_DEF(Everything, EVERYTHING_FIELDS,
    .rename_all = BK_CASE_KEBAB);

/* ---- helpers --------------------------------------------------------------- */

static bk_model *build(const bk_model_def *def)
{
    bk_model *m = NULL;
    bk_error *err = NULL;
    bk_status st = bk_model_new(&m, def, &err);
    if (st != BK_OK)
        fprintf(stderr, "build failed: %s\n", bk_error_message(err));
    assert_int_equal(st, BK_OK);
    assert_non_null(m);
    bk_error_free(err);
    return m;
}

static void assert_contains_(const char *hay, const char *needle, const char *file, int line)
{
    if (!needle || strstr(hay, needle))
        return;
    fprintf(stderr, "%s:%d: \"%s\" not in \"%s\"\n", file, line, needle, hay);
    fail();
}
#define assert_contains(h, n) assert_contains_((h), (n), __FILE__, __LINE__)

/* bk_model_new(def) must fail with BK_EMODEL and a message naming a and b. */
static void expect_emodel_(const bk_model_def *def, const char *a, const char *b,
    const char *file, int line)
{
    bk_model *m = (bk_model *)&m;
    bk_error *err = NULL;
    bk_status st = bk_model_new(&m, def, &err);
    if (st != BK_EMODEL) {
        fprintf(stderr, "%s:%d: expected BK_EMODEL, got %s (%s)\n", file, line,
            bk_status_name(st), bk_error_message(err));
        bk_model_unref(st == BK_OK ? m : NULL);
        fail();
    }
    assert_null(m);
    assert_int_equal(bk_error_code(err), BK_EMODEL);
    assert_contains_(bk_error_message(err), a, file, line);
    assert_contains_(bk_error_message(err), b, file, line);
    bk_error_free(err);
}
#define expect_emodel(def, a, b) expect_emodel_((def), (a), (b), __FILE__, __LINE__)

static long field(const bk_model *m, const char *name)
{
    long i = bk_model_field_index(m, name);
    assert_true(i >= 0);
    return i;
}

static const bk__field *ifield(const bk_model *m, const char *name)
{
    return &m->fields[field(m, name)];
}

static char *doc_of(const bk_model *m, bool pretty)
{
    char *doc = NULL;
    size_t len = 0;
    bk_error *err = NULL;
    bk_status st = bk_model_to_doc(&doc, &len, m, pretty, &err);
    if (st != BK_OK)
        fprintf(stderr, "to_doc failed: %s\n", bk_error_message(err));
    assert_int_equal(st, BK_OK);
    assert_non_null(doc);
    assert_int_equal(len, strlen(doc));
    return doc;
}

static bk_model *from_doc(const char *doc)
{
    bk_model *m = NULL;
    bk_error *err = NULL;
    bk_status st = bk_model_from_doc(&m, doc, strlen(doc), &err);
    if (st != BK_OK)
        fprintf(stderr, "from_doc failed: %s\n", bk_error_message(err));
    assert_int_equal(st, BK_OK);
    bk_error_free(err);
    return m;
}

/* to_doc(from_doc(to_doc(m))) == to_doc(m), compact and pretty. */
static void assert_round_trip(const bk_model *m)
{
    for (int pretty = 0; pretty < 2; pretty++) {
        char *d1 = doc_of(m, pretty);
        bk_model *m2 = from_doc(d1);
        char *d2 = doc_of(m2, pretty);
        assert_string_equal(d1, d2);
        bk_model *m3 = from_doc(d2);
        char *d3 = doc_of(m3, !pretty);
        char *d1b = doc_of(m, !pretty);
        assert_string_equal(d1b, d3);
        assert_int_equal(bk_model_field_count(m2), bk_model_field_count(m));
        for (size_t i = 0; i < bk_model_field_count(m); i++) {
            assert_string_equal(bk_model_field_json_name(m2, i), bk_model_field_json_name(m, i));
            assert_string_equal(bk_model_field_type(m2, i), bk_model_field_type(m, i));
        }
        bk_free(d1);
        bk_free(d2);
        bk_free(d3);
        bk_free(d1b);
        bk_model_unref(m2);
        bk_model_unref(m3);
    }
}

static bk_builder *new_builder(void)
{
    bk_builder *b = NULL;
    assert_int_equal(bk_builder_new(&b, NULL), BK_OK);
    assert_non_null(b);
    return b;
}

#define OK(call) do { \
        bk_error *e_ = NULL; \
        bk_status s_ = (call); \
        if (s_ != BK_OK) \
            fprintf(stderr, "%s:%d: %s -> %s: %s\n", __FILE__, __LINE__, #call, \
                bk_status_name(s_), bk_error_message(e_)); \
        bk_error_free(e_); \
        assert_int_equal(s_, BK_OK); \
    } while (0)
#define E (&e_)

/* call must fail with code, message containing a and b. */
#define FAILS(code, a, b, call) do { \
        bk_error *e_ = NULL; \
        bk_status s_ = (call); \
        if (s_ != (code)) \
            fprintf(stderr, "%s:%d: %s -> %s (want %s): %s\n", __FILE__, __LINE__, #call, \
                bk_status_name(s_), bk_status_name(code), bk_error_message(e_)); \
        assert_int_equal(s_, (code)); \
        assert_int_equal(bk_error_code(e_), (code)); \
        assert_contains(bk_error_message(e_), (a)); \
        assert_contains(bk_error_message(e_), (b)); \
        bk_error_free(e_); \
    } while (0)

/* ---- C descriptors ------------------------------------------------------------ */

static void design_user_builds_with_names_kinds_and_view(void **state)
{
    (void)state;
    bk_model *m = build(&USER_DEF);
    assert_string_equal(bk_model_name(m), "User");
    assert_int_equal(bk_model_size(m), sizeof(User));
    assert_int_equal(bk_model_field_count(m), 9);
    assert_int_equal(bk_model_field_index(m, "created_at"), 6);
    assert_int_equal(bk_model_field_index(m, "createdAt"), -1);
    assert_int_equal(bk_model_field_index(m, NULL), -1);
    assert_string_equal(bk_model_field_name(m, 6), "created_at");
    assert_string_equal(bk_model_field_json_name(m, 6), "createdAt");
    assert_int_equal(bk_model_field_kind(m, 6), BK_TIMESTAMP);
    assert_string_equal(bk_model_field_type(m, 6), "timestamp");
    assert_int_equal(bk_model_field_kind(m, 4), BK_ENUM);
    assert_string_equal(bk_model_field_type(m, 4), "User_role");
    assert_string_equal(bk_model_field_type(m, 5), "list<str>");
    assert_string_equal(bk_model_field_type(m, 7), "Address");
    assert_int_equal(bk_model_field_kind(m, 7), BK_MODEL);
    assert_true(bk_model_field_optional(m, 8));
    assert_false(bk_model_field_optional(m, 0));
    assert_null(bk_model_field_name(m, 9));
    assert_null(bk_model_field_json_name(m, 9));
    assert_null(bk_model_field_type(m, 9));
    assert_int_equal(bk_model_field_kind(m, 9), BK_KIND_NONE);

    /* internals: offsets, presence, requiredness, type nodes */
    const bk__field *nick = ifield(m, "nickname");
    assert_int_equal(nick->offset, offsetof(User, nickname));
    assert_int_equal(nick->presence_offset, offsetof(User, nickname_p));
    assert_int_equal(m->njfields, 9);
    assert_true(m->jfields[0].required);           /* id */
    assert_false(m->jfields[3].required);          /* age: default_zero */
    assert_false(m->jfields[4].required);          /* role: default */
    assert_true(m->jfields[6].required);           /* created_at */
    assert_false(m->jfields[8].required);          /* nickname: optional */
    assert_int_equal(m->jfields[8].presence_offset, offsetof(User, nickname_p));
    const bk__type *addr = ifield(m, "address")->type;
    assert_int_equal(addr->size, sizeof(Address));
    assert_int_equal(addr->align, _Alignof(Address));
    assert_string_equal(addr->model->name, "Address");
    assert_true(addr->model->from_c);
    const bk__type *tags = ifield(m, "tags")->type;
    assert_int_equal(tags->kind, BK_LIST);
    assert_int_equal(tags->elem->kind, BK_STR);
    assert_int_equal(tags->elem->size, sizeof(char *));
    const bk__enum *role = ifield(m, "role")->type->enm;
    assert_int_equal(role->n, 3);
    assert_string_equal(role->names[2], "guest");
    assert_int_equal(role->lens[2], 5);
    /* lookup table: power of two >= 2 * (9 names + 2 aliases), hashes FNV-1a */
    assert_int_equal(m->nslots, 32);
    size_t used = 0;
    for (size_t i = 0; i < m->nslots; i++) {
        if (m->slots[i].index < 0)
            continue;
        used++;
        uint32_t h = 2166136261u;
        for (size_t k = 0; k < m->slots[i].len; k++)
            h = (h ^ (unsigned char)m->slots[i].name[k]) * 16777619u;
        assert_int_equal(m->slots[i].hash, h);
    }
    assert_int_equal(used, 11);
    assert_int_equal(addr->model->nslots, 8);

    /* the codec sees the same names: camelCase keys, aliases, defaults */
    const char *json = "{\"id\":1,\"userName\":\"Ann\",\"email\":\"a@b\",\"createdAt\":"
        "\"2024-01-01T00:00:00Z\",\"address\":{\"street\":\"s\",\"city\":\"c\"}}";
    User u;
    bk_error *err = NULL;
    bk_status st = bk_json_decode(&u, m, json, strlen(json), NULL, &err);
    if (st != BK_OK)
        fprintf(stderr, "%s\n", bk_error_message(err));
    assert_int_equal(st, BK_OK);
    assert_string_equal(u.name, "Ann");
    assert_int_equal(u.role, ROLE_MEMBER);
    assert_string_equal(u.address.zip, "00000");
    assert_int_equal(u.nickname_p, BK_ABSENT);
    bk_clear(m, &u);
    assert_int_equal(bk_json_decode(&u, m, "{\"id\":1,\"bogus\":1}", 18, NULL, &err),
        BK_EDECODE);
    bk_error_free(err);
    bk_model_unref(m);
}

static void shared_sub_defs_and_enum_arrays_are_built_once(void **state)
{
    (void)state;
    bk_model *m = build(&EVERYTHING_DEF);
    /* ROLES used by role and roles: one enum, named after its first use */
    const bk__type *role = ifield(m, "role")->type;
    const bk__type *roles = ifield(m, "roles")->type;
    assert_ptr_equal(role->enm, roles->elem->enm);
    assert_string_equal(role->expr, "Everything_role");
    assert_string_equal(roles->expr, "list<Everything_role>");
    assert_int_equal(roles->elem->size, sizeof(int));
    /* ADDRESS_DEF embedded and as map values: one model */
    const bk__type *home = ifield(m, "home")->type;
    const bk__type *addresses = ifield(m, "addresses")->type;
    assert_ptr_equal(home->model, addresses->elem->model);
    assert_string_equal(addresses->expr, "map<Address>");
    assert_int_equal(addresses->elem->size, sizeof(Address));
    /* the union, its payloads and a list of unions */
    const bk__type *shapes = ifield(m, "shapes")->type;
    const bk__type *main_shape = ifield(m, "main_shape")->type;
    assert_ptr_equal(shapes->elem, main_shape);
    assert_string_equal(shapes->expr, "list<Shape>");
    assert_int_equal(main_shape->size, sizeof(Shape));
    assert_int_equal(main_shape->uni->n, 3);
    assert_string_equal(main_shape->uni->tag, "type");
    assert_string_equal(main_shape->uni->content, "content");
    assert_int_equal(main_shape->uni->variants[1].offset, offsetof(Shape, u.rect));
    assert_null(main_shape->uni->variants[2].type);
    const bk__union *value = ifield(m, "value")->type->uni;
    assert_string_equal(value->tag, "t");
    assert_string_equal(value->variants[2].type->expr, "list<str>");
    assert_string_equal(ifield(m, "matrix")->type->expr, "list<list<str>>");
    assert_string_equal(ifield(m, "tree")->type->expr, "ptr<Node>");
    assert_string_equal(ifield(m, "extra")->type->expr, "json");
    /* type nodes are interned per schema */
    for (size_t i = 0; i < m->schema->ntypes; i++)
        for (size_t k = 0; k < i; k++)
            assert_string_not_equal(m->schema->types[i]->expr, m->schema->types[k]->expr);
    /* kebab-case, rename wins, skipped and flattened fields */
    assert_string_equal(bk_model_field_json_name(m, (size_t)field(m, "main_shape")),
        "main-shape");
    assert_string_equal(bk_model_field_json_name(m, 1), "name");
    size_t nj = 0;
    bool saw_label = false;
    for (size_t i = 0; i < m->njfields; i++) {
        assert_string_not_equal(m->jfields[i].name, "internal");
        assert_string_not_equal(m->jfields[i].name, "meta");
        if (strcmp(m->jfields[i].name, "label") == 0) {
            saw_label = true;
            assert_int_equal(m->jfields[i].offset, offsetof(Everything, meta.label));
            assert_true(m->jfields[i].required);
        }
        if (strcmp(m->jfields[i].name, "weight") == 0) {
            assert_int_equal(m->jfields[i].offset, offsetof(Everything, meta.weight));
            assert_false(m->jfields[i].required);
        }
        nj++;
    }
    assert_true(saw_label);
    assert_int_equal(nj, bk_model_field_count(m) - 2 + 2); /* -internal -meta +label +weight */
    /* skip_if default: the compact encoding of the default */
    const bk__field *score = ifield(m, "score");
    assert_string_equal(score->default_enc, "1.5");
    assert_int_equal(score->default_enc_len, 3);
    const bk__field *weight = &ifield(m, "meta")->type->model->fields[1];
    assert_string_equal(weight->default_enc, "7");
    assert_null(ifield(m, "id")->default_enc);
    bk_model_unref(m);
}

static void recursive_pointer_model_builds_decodes_and_frees(void **state)
{
    (void)state;
    bk_model *m = build(&NODE_DEF);
    const bk__field *next = ifield(m, "next");
    assert_int_equal(next->type->kind, BK_MODEL_PTR);
    assert_ptr_equal(next->type->model, m);
    assert_ptr_equal(ifield(m, "children")->type->elem->model, m);
    assert_int_equal(ifield(m, "children")->type->elem->size, sizeof(Node));
    assert_int_equal(m->schema->nmodels, 1);
    const char *json = "{\"value\":1,\"next\":{\"value\":2,\"next\":null,\"children\":[]},"
        "\"children\":[{\"value\":3,\"next\":{\"value\":4,\"next\":null}}]}";
    Node n;
    bk_error *err = NULL;
    bk_status st = bk_json_decode(&n, m, json, strlen(json), NULL, &err);
    if (st != BK_OK)
        fprintf(stderr, "%s\n", bk_error_message(err));
    assert_int_equal(st, BK_OK);
    assert_int_equal(n.next->value, 2);
    assert_int_equal(((Node *)n.children.items)[0].next->value, 4);
    bk_clear(m, &n);
    /* references: the schema lives until the last one goes */
    assert_ptr_equal(bk_model_ref(m), m);
    bk_model_unref(m);
    assert_string_equal(bk_model_name(m), "Node");
    assert_round_trip(m);
    bk_model_unref(m);
}

static void *ref_worker(void *p)
{
    bk_model *m = p;
    for (int i = 0; i < 20000; i++)
        bk_model_unref(bk_model_ref(m));
    return NULL;
}

static void references_are_atomic(void **state)
{
    (void)state;
    bk_model *m = build(&USER_DEF);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, ref_worker, m), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(atomic_load(&m->schema->refs), 1);
    bk_model_unref(m);
}

/* rename_all on `created_at_utc`, exactly as serde does for struct fields. */
typedef struct { int64_t created_at_utc; char *x; } CaseT;

#define CASE_DEF(NAME, C) \
    static const bk_field NAME##_FIELDS[] = { BK_FIELD(CaseT, created_at_utc, BK_I64), \
        BK_FIELD(CaseT, x, BK_STR, .rename = "Explicit_name") }; \
    static const bk_model_def NAME##_DEF = BK_MODEL_DEF(CaseT, NAME##_FIELDS, .rename_all = C);
CASE_DEF(C_NONE, BK_CASE_NONE)
CASE_DEF(C_LOWER, BK_CASE_LOWER)
CASE_DEF(C_UPPER, BK_CASE_UPPER)
CASE_DEF(C_PASCAL, BK_CASE_PASCAL)
CASE_DEF(C_CAMEL, BK_CASE_CAMEL)
CASE_DEF(C_SNAKE, BK_CASE_SNAKE)
CASE_DEF(C_SSNAKE, BK_CASE_SCREAMING_SNAKE)
CASE_DEF(C_KEBAB, BK_CASE_KEBAB)
CASE_DEF(C_SKEBAB, BK_CASE_SCREAMING_KEBAB)

static void rename_all_follows_serde_for_every_case(void **state)
{
    (void)state;
    static const struct { const bk_model_def *def; const char *doc_name, *want; } cases[] = {
        { &C_NONE_DEF, NULL, "created_at_utc" },
        { &C_LOWER_DEF, "lowercase", "created_at_utc" },   /* serde: fields unchanged */
        { &C_UPPER_DEF, "UPPERCASE", "CREATED_AT_UTC" },
        { &C_PASCAL_DEF, "PascalCase", "CreatedAtUtc" },
        { &C_CAMEL_DEF, "camelCase", "createdAtUtc" },
        { &C_SNAKE_DEF, "snake_case", "created_at_utc" },
        { &C_SSNAKE_DEF, "SCREAMING_SNAKE_CASE", "CREATED_AT_UTC" },
        { &C_KEBAB_DEF, "kebab-case", "created-at-utc" },
        { &C_SKEBAB_DEF, "SCREAMING-KEBAB-CASE", "CREATED-AT-UTC" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bk_model *m = build(cases[i].def);
        assert_string_equal(bk_model_field_json_name(m, 0), cases[i].want);
        assert_string_equal(bk_model_field_json_name(m, 1), "Explicit_name"); /* rename wins */
        /* the document carries the case name; the builder gives the same names */
        char *doc = doc_of(m, false);
        if (cases[i].doc_name) {
            char needle[64];
            snprintf(needle, sizeof(needle), "\"rename_all\":\"%s\"", cases[i].doc_name);
            assert_contains(doc, needle);
        } else {
            assert_null(strstr(doc, "rename_all"));
        }
        bk_model *m2 = from_doc(doc);
        assert_string_equal(bk_model_field_json_name(m2, 0), cases[i].want);
        bk_free(doc);
        bk_model_unref(m2);
        bk_model_unref(m);
    }
    /* underscores collapse, leading ones vanish in Pascal/camel */
    bk_builder *b = new_builder();
    OK(bk_builder_model(b, "Odd", E));
    OK(bk_builder_model_attr(b, "rename_all", "\"camelCase\"", E));
    OK(bk_builder_field(b, "_a__b_", "i32", E));
    OK(bk_builder_field(b, "x1_y2", "i32", E));
    bk_model *m = NULL;
    OK(bk_builder_build(&m, b, "Odd", E));
    assert_string_equal(bk_model_field_json_name(m, 0), "aB");
    assert_string_equal(bk_model_field_json_name(m, 1), "x1Y2");
    bk_model_unref(m);
    bk_builder_free(b);
}

/* ---- C descriptor validation -------------------------------------------------- */

typedef struct {
    int32_t a;
    int64_t b;
    char *s;
    bk_strs l;
    bk_map mp;
    int e;
    Address addr;
    Address *paddr;
    bk_presence p;
    Shape sh;
    Meta meta;
    char *label;
} Bad;

#define BAD_DEF(NAME, ...) \
    static const bk_field NAME##_F[] = { __VA_ARGS__ }; \
    static const bk_model_def NAME = BK_MODEL_DEF(Bad, NAME##_F);
#define RAW(m, K, ...) { .version = 1, .name = #m, .kind = K, .offset = offsetof(Bad, m), \
    .size = sizeof(((Bad *)0)->m), __VA_ARGS__ }

static const char *const NO_NAMES[] = { NULL };
static const char *const DUP_NAMES[] = { "x", "y", "x", NULL };
static const char *const ALIAS_A[] = { "a", NULL };

BAD_DEF(BAD_FIELD_VERSION, { .version = BK_FIELD_VERSION + 1, .name = "a", .kind = BK_I32,
    .offset = offsetof(Bad, a), .size = 4 })
BAD_DEF(BAD_KIND, RAW(a, (bk_kind)99, .elem_kind = BK_KIND_NONE))
BAD_DEF(BAD_KIND_NONE, RAW(a, BK_KIND_NONE, .elem_kind = BK_KIND_NONE))
BAD_DEF(BAD_SIZE, { .version = 1, .name = "b", .kind = BK_I32, .offset = offsetof(Bad, b),
    .size = sizeof(int64_t) })
BAD_DEF(BAD_SIZE_BOOL, { .version = 1, .name = "a", .kind = BK_BOOL, .offset = 0, .size = 4 })
BAD_DEF(BAD_SIZE_DATE, RAW(b, BK_DATE, .elem_kind = BK_KIND_NONE))
BAD_DEF(BAD_SIZE_UUID, RAW(b, BK_UUID, .elem_kind = BK_KIND_NONE))
BAD_DEF(BAD_SIZE_STR, RAW(a, BK_STR, .elem_kind = BK_KIND_NONE))
BAD_DEF(BAD_SIZE_MODEL, RAW(s, BK_MODEL, .model = &ADDRESS_DEF))
BAD_DEF(BAD_SIZE_LIST, RAW(mp, BK_LIST, .elem_kind = BK_STR))
BAD_DEF(BAD_SIZE_MAP, RAW(l, BK_MAP, .elem_kind = BK_STR))
BAD_DEF(BAD_SIZE_UNION, RAW(a, BK_UNION, .union_def = &SHAPE_DEF))
BAD_DEF(BAD_SIZE_ENUM, RAW(b, BK_ENUM, .enum_names = ROLES))
BAD_DEF(BAD_LIST_NO_ELEM, RAW(l, BK_LIST, .elem_kind = BK_KIND_NONE))
BAD_DEF(BAD_MAP_NO_ELEM, RAW(mp, BK_MAP, .elem_kind = BK_KIND_NONE))
BAD_DEF(BAD_LIST_OF_LIST_NO_ELEM, RAW(l, BK_LIST, .elem_kind = BK_LIST))
BAD_DEF(BAD_ENUM_NO_NAMES, RAW(e, BK_ENUM, .elem_kind = BK_KIND_NONE))
BAD_DEF(BAD_ENUM_ZERO_NAMES, RAW(e, BK_ENUM, .enum_names = NO_NAMES))
BAD_DEF(BAD_ENUM_DUP_NAMES, RAW(e, BK_ENUM, .enum_names = DUP_NAMES))
BAD_DEF(BAD_MODEL_NO_MODEL, RAW(addr, BK_MODEL, .elem_kind = BK_KIND_NONE))
BAD_DEF(BAD_PTR_NO_MODEL, RAW(paddr, BK_MODEL_PTR, .elem_kind = BK_KIND_NONE))
BAD_DEF(BAD_UNION_NO_DEF, RAW(sh, BK_UNION, .elem_kind = BK_KIND_NONE))
BAD_DEF(BAD_FLATTEN_STR, RAW(s, BK_STR, .flatten = true))
BAD_DEF(BAD_FLATTEN_PTR, RAW(paddr, BK_MODEL_PTR, .model = &ADDRESS_DEF, .flatten = true))
BAD_DEF(BAD_FLATTEN_OPTIONAL, RAW(addr, BK_MODEL, .model = &ADDRESS_DEF, .flatten = true,
    .optional = true, .presence_offset = offsetof(Bad, p)))
BAD_DEF(BAD_DUP_RENAME, RAW(a, BK_I32, .elem_kind = BK_KIND_NONE),
    RAW(s, BK_STR, .rename = "a"))
BAD_DEF(BAD_DUP_ALIAS, RAW(a, BK_I32, .elem_kind = BK_KIND_NONE),
    RAW(s, BK_STR, .aliases = ALIAS_A))
BAD_DEF(BAD_DUP_FLATTEN, RAW(meta, BK_MODEL, .model = &META_DEF, .flatten = true),
    RAW(label, BK_STR, .elem_kind = BK_KIND_NONE))
BAD_DEF(BAD_DUP_DECLARED, RAW(a, BK_I32, .elem_kind = BK_KIND_NONE),
    { .version = 1, .name = "a", .kind = BK_I32, .offset = offsetof(Bad, e), .size = 4 })
BAD_DEF(BAD_OUTSIDE, { .version = 1, .name = "far", .kind = BK_I64,
    .offset = sizeof(Bad), .size = 8 })
BAD_DEF(BAD_PRESENCE_OUTSIDE, RAW(s, BK_STR, .optional = true, .presence_offset = sizeof(Bad)))
BAD_DEF(BAD_DEFAULT, RAW(a, BK_I32, .default_json = "\"seven\""))
BAD_DEF(BAD_DEFAULT_SYNTAX, RAW(a, BK_I32, .default_json = "{"))
BAD_DEF(BAD_DEFAULT_ENUM, RAW(e, BK_ENUM, .enum_names = ROLES, .default_json = "\"owner\""))
BAD_DEF(BAD_SKIP_IF, RAW(a, BK_I32, .skip_if = (bk_skip_if)9))

static void every_invalid_descriptor_is_emodel_naming_the_field(void **state)
{
    (void)state;
    expect_emodel(&BAD_FIELD_VERSION, "Bad", "field a");
    expect_emodel(&BAD_FIELD_VERSION, "version", NULL);
    expect_emodel(&BAD_KIND, "field a", "kind 99");
    expect_emodel(&BAD_KIND_NONE, "field a", "kind 0");
    expect_emodel(&BAD_SIZE, "field b", "size 8");
    expect_emodel(&BAD_SIZE_BOOL, "field a", "bool");
    expect_emodel(&BAD_SIZE_DATE, "field b", "date");
    expect_emodel(&BAD_SIZE_UUID, "field b", "uuid");
    expect_emodel(&BAD_SIZE_STR, "field a", "str");
    expect_emodel(&BAD_SIZE_MODEL, "field s", "Address");
    expect_emodel(&BAD_SIZE_LIST, "field mp", "list<str>");
    expect_emodel(&BAD_SIZE_MAP, "field l", "map<str>");
    expect_emodel(&BAD_SIZE_UNION, "field a", "Shape");
    expect_emodel(&BAD_SIZE_ENUM, "field b", "size");
    expect_emodel(&BAD_LIST_NO_ELEM, "field l", "list without an element");
    expect_emodel(&BAD_MAP_NO_ELEM, "field mp", "map without an element");
    expect_emodel(&BAD_LIST_OF_LIST_NO_ELEM, "field l", "without an element");
    expect_emodel(&BAD_ENUM_NO_NAMES, "field e", "enum without names");
    expect_emodel(&BAD_ENUM_ZERO_NAMES, "field e", "no names");
    expect_emodel(&BAD_ENUM_DUP_NAMES, "field e", "\"x\" twice");
    expect_emodel(&BAD_MODEL_NO_MODEL, "field addr", "without a model");
    expect_emodel(&BAD_PTR_NO_MODEL, "field paddr", "without a model");
    expect_emodel(&BAD_UNION_NO_DEF, "field sh", "without a union");
    expect_emodel(&BAD_FLATTEN_STR, "field s", "flatten");
    expect_emodel(&BAD_FLATTEN_PTR, "field paddr", "flatten");
    expect_emodel(&BAD_FLATTEN_OPTIONAL, "field addr", "optional");
    expect_emodel(&BAD_DUP_RENAME, "field s", "\"a\" is also used by field a");
    expect_emodel(&BAD_DUP_ALIAS, "field s", "\"a\" is also used by field a");
    expect_emodel(&BAD_DUP_FLATTEN, "field label", "\"label\"");
    expect_emodel(&BAD_DUP_DECLARED, "field a", "two fields");
    expect_emodel(&BAD_OUTSIDE, "field far", "outside");
    expect_emodel(&BAD_PRESENCE_OUTSIDE, "field s", "presence");
    expect_emodel(&BAD_DEFAULT, "field a", "\"seven\"");
    expect_emodel(&BAD_DEFAULT_SYNTAX, "field a", "default");
    expect_emodel(&BAD_DEFAULT_ENUM, "field e", "\"owner\"");
    expect_emodel(&BAD_SKIP_IF, "field a", "skip_if");
}

/* The flatten collision names the flattened field too. */
static void flatten_collision_names_both_fields(void **state)
{
    (void)state;
    bk_model *m = NULL;
    bk_error *err = NULL;
    static const bk_field F[] = {
        RAW(label, BK_STR, .elem_kind = BK_KIND_NONE),
        RAW(meta, BK_MODEL, .model = &META_DEF, .flatten = true),
    };
    static const bk_model_def D = BK_MODEL_DEF(Bad, F);
    assert_int_equal(bk_model_new(&m, &D, &err), BK_EMODEL);
    assert_contains(bk_error_message(err), "field meta");
    assert_contains(bk_error_message(err), "flattened field label");
    bk_error_free(err);
}

/* Model and union descriptor problems. */
typedef struct { int32_t x; } Self;
static const bk_model_def SELF_DEF;
static const bk_field SELF_FIELDS[] = {
    { .version = 1, .name = "me", .kind = BK_MODEL, .offset = 0, .size = sizeof(Self),
      .model = &SELF_DEF },
};
static const bk_model_def SELF_DEF = BK_MODEL_DEF(Self, SELF_FIELDS);

typedef struct { int32_t x; } MutA;
typedef struct { int32_t y; } MutB;
static const bk_model_def MUTB_DEF;
static const bk_field MUTA_FIELDS[] = {
    { .version = 1, .name = "b", .kind = BK_MODEL, .offset = 0, .size = 4, .model = &MUTB_DEF },
};
static const bk_model_def MUTA_DEF = BK_MODEL_DEF(MutA, MUTA_FIELDS);
static const bk_field MUTB_FIELDS[] = {
    { .version = 1, .name = "a", .kind = BK_MODEL, .offset = 0, .size = 4, .model = &MUTA_DEF },
};
static const bk_model_def MUTB_DEF = BK_MODEL_DEF(MutB, MUTB_FIELDS);

static const bk_model_def NEW_VERSION_DEF = { .version = BK_MODEL_DEF_VERSION + 1,
    .name = "Future", .size = 8, .align = 8, .fields = NULL, .nfields = 0 };
static const bk_model_def NO_NAME_DEF = { .version = 1, .name = NULL, .size = 8, .align = 8 };
typedef struct { int32_t y; } date;
static const bk_field DATE_FIELDS[] = { BK_FIELD(date, y, BK_I32) };
static const bk_model_def DATE_DEF = BK_MODEL_DEF(date, DATE_FIELDS);
struct Tagged_s { int32_t x; };
static const bk_field TAGGED_FIELDS[] = { BK_FIELD(struct Tagged_s, x, BK_I32) };
static const bk_model_def TAGGED_DEF = BK_MODEL_DEF(struct Tagged_s, TAGGED_FIELDS);
static const bk_type_def LOOP_T = { .kind = BK_LIST, .elem = &LOOP_T };

typedef struct { bk_list l; } Loop;
static const bk_field LOOP_FIELDS[] = { BK_LIST_OF(Loop, l, &LOOP_T) };
static const bk_model_def LOOP_DEF = BK_MODEL_DEF(Loop, LOOP_FIELDS);

/* unions */
static const bk_variant NO_VARIANTS[] = { BK_VARIANT_UNIT("x") };
static const bk_union_def ZERO_VARIANTS_DEF = { .version = 1, .name = "Empty",
    .size = sizeof(Shape), .align = _Alignof(Shape), .tag_offset = 0,
    .variants = NO_VARIANTS, .nvariants = 0 };
static const bk_variant DUP_VARIANTS[] = {
    BK_VARIANT(Shape, u.circle, "circle", &CIRCLE_T),
    BK_VARIANT(Shape, u.rect, "circle", &RECT_T),
};
static const bk_union_def DUP_VARIANTS_DEF = BK_UNION_DEF(Shape, kind, DUP_VARIANTS);
static const bk_variant SCALAR_VARIANTS[] = {
    BK_VARIANT(Value, u.num, "num", &I64_T),
};
static const bk_union_def INTERNAL_SCALAR_DEF = BK_UNION_DEF(Value, tag, SCALAR_VARIANTS,
    .tagging = BK_TAG_INTERNAL);
static const bk_union_def ADJACENT_SAME_DEF = BK_UNION_DEF(Value, tag, SCALAR_VARIANTS,
    .tagging = BK_TAG_ADJACENT, .tag = "k", .content = "k");
static const bk_union_def ADJACENT_DEFAULTS_DEF = BK_UNION_DEF(Value, tag, SCALAR_VARIANTS,
    .tagging = BK_TAG_ADJACENT, .tag = "content");
/* internal tag "r" collides with Circle's field r */
static const bk_union_def TAG_CLASH_DEF = BK_UNION_DEF(Shape, kind, SHAPE_VARIANTS,
    .tagging = BK_TAG_INTERNAL, .tag = "r");

typedef struct { Shape sh; Value v; } Holder;
#define HOLDER(NAME, UDEF) \
    static const bk_field NAME##_F[] = { BK_UNION(Holder, sh, UDEF) }; \
    static const bk_model_def NAME = BK_MODEL_DEF(Holder, NAME##_F);
#define HOLDER_V(NAME, UDEF) \
    static const bk_field NAME##_F[] = { BK_UNION(Holder, v, UDEF) }; \
    static const bk_model_def NAME = BK_MODEL_DEF(Holder, NAME##_F);
HOLDER(H_ZERO, &ZERO_VARIANTS_DEF)
HOLDER(H_DUP, &DUP_VARIANTS_DEF)
HOLDER_V(H_INTERNAL_SCALAR, &INTERNAL_SCALAR_DEF)
HOLDER_V(H_ADJ_SAME, &ADJACENT_SAME_DEF)
HOLDER_V(H_ADJ_DEFAULT, &ADJACENT_DEFAULTS_DEF)
HOLDER(H_TAG_CLASH, &TAG_CLASH_DEF)

static void invalid_models_and_unions_are_emodel(void **state)
{
    (void)state;
    expect_emodel(&SELF_DEF, "field me", "embeds itself");
    expect_emodel(&MUTA_DEF, "embeds itself", NULL);
    expect_emodel(&NEW_VERSION_DEF, "Future", "version");
    expect_emodel(&NO_NAME_DEF, "no name", NULL);
    expect_emodel(&DATE_DEF, "model date", "reserved");
    bk_model *tagged = build(&TAGGED_DEF); /* "struct Tagged_s" is named Tagged_s */
    assert_string_equal(bk_model_name(tagged), "Tagged_s");
    bk_model_unref(tagged);
    expect_emodel(&LOOP_DEF, "field l", "nested more than");
    expect_emodel(&H_ZERO, "union Empty", "no variants");
    expect_emodel(&H_DUP, "union Shape", "variant circle");
    expect_emodel(&H_DUP, "duplicate", NULL);
    expect_emodel(&H_INTERNAL_SCALAR, "variant num", "internal tagging");
    expect_emodel(&H_ADJ_SAME, "union Value", "same tag and content key \"k\"");
    /* the content key defaults to "content": clashes with tag "content" */
    expect_emodel(&H_ADJ_DEFAULT, "union Value", "\"content\"");
    expect_emodel(&H_TAG_CLASH, "variant circle", "tag \"r\"");

    bk_model *m = (bk_model *)&m;
    bk_error *err = NULL;
    assert_int_equal(bk_model_new(&m, NULL, &err), BK_EINVAL);
    assert_null(m);
    assert_int_equal(bk_error_code(err), BK_EINVAL);
    bk_error_free(err);
    assert_int_equal(bk_model_new(NULL, &USER_DEF, NULL), BK_EINVAL);
}

/* ---- run-time builder ------------------------------------------------------------ */

static void builder_lays_out_like_a_c_compiler(void **state)
{
    (void)state;
    bk_builder *b = new_builder();
    OK(bk_builder_model(b, "Rec", E));
    OK(bk_builder_field(b, "a", "bool", E));
    OK(bk_builder_field(b, "b", "i64", E));
    OK(bk_builder_field(b, "c", "str", E));
    OK(bk_builder_field_attr(b, "optional", "true", E));
    OK(bk_builder_field(b, "d", "i32", E));
    OK(bk_builder_field_attr(b, "optional", "true", E));
    OK(bk_builder_field(b, "e", "u8", E));
    OK(bk_builder_field(b, "f", "skip_me_not", E)); /* resolved only when built */
    bk_model *m = NULL;
    FAILS(BK_EMODEL, "model Rec, field f", "unknown type name \"skip_me_not\"",
        bk_builder_build(&m, b, "Rec", E));
    assert_null(m);
    bk_builder_free(b);

    b = new_builder();
    OK(bk_builder_model(b, "Rec", E));
    OK(bk_builder_field(b, "a", "bool", E));
    OK(bk_builder_field(b, "b", "i64", E));
    OK(bk_builder_field(b, "c", "str", E));
    OK(bk_builder_field_attr(b, "optional", "true", E));
    OK(bk_builder_field(b, "d", "i32", E));
    OK(bk_builder_field_attr(b, "optional", "true", E));
    OK(bk_builder_field(b, "e", "u8", E));
    OK(bk_builder_build(&m, b, "Rec", E));
    assert_int_equal(bk_model_field_count(m), 5);
    /* a@0 b@8 c@16 d@24 e@28, presence c@29 d@30, size 31 -> 32 */
    assert_int_equal(ifield(m, "a")->offset, 0);
    assert_int_equal(ifield(m, "b")->offset, 8);
    assert_int_equal(ifield(m, "c")->offset, 16);
    assert_int_equal(ifield(m, "d")->offset, 24);
    assert_int_equal(ifield(m, "e")->offset, 28);
    assert_int_equal(ifield(m, "c")->presence_offset, 29);
    assert_int_equal(ifield(m, "d")->presence_offset, 30);
    assert_int_equal(bk_model_size(m), 32);
    assert_int_equal(m->align, 8);
    assert_false(m->from_c);
    assert_true(bk_model_field_optional(m, 2));
    /* records and the codec use the computed layout */
    char *obj = calloc(1, bk_model_size(m));
    const char *json = "{\"a\":true,\"b\":-5,\"c\":\"hi\",\"e\":200}";
    bk_error *err = NULL;
    assert_int_equal(bk_json_decode(obj, m, json, strlen(json), NULL, &err), BK_OK);
    assert_true(*(bool *)obj);
    assert_int_equal(*(int64_t *)(obj + 8), -5);
    assert_string_equal(*(char **)(obj + 16), "hi");
    assert_int_equal((unsigned char)obj[28], 200);
    assert_int_equal(obj[29], BK_PRESENT);
    assert_int_equal(obj[30], BK_ABSENT);
    bk_clear(m, obj);
    free(obj);
    bk_model_unref(m);
    bk_builder_free(b);
}

static void builder_embeds_models_and_unions(void **state)
{
    (void)state;
    bk_builder *b = new_builder();
    OK(bk_builder_model(b, "Outer", E));
    OK(bk_builder_field(b, "a", "u8", E));
    OK(bk_builder_field(b, "inner", "Inner", E));
    OK(bk_builder_field(b, "items", "list<Inner>", E));
    OK(bk_builder_field(b, "shape", "Shape", E));
    OK(bk_builder_field(b, "by_name", "map<ptr<Outer>>", E));
    OK(bk_builder_model(b, "Inner", E));
    OK(bk_builder_field(b, "x", "i16", E));
    OK(bk_builder_field(b, "y", "u8", E));
    OK(bk_builder_model(b, "Circle", E));
    OK(bk_builder_field(b, "r", "f64", E));
    OK(bk_builder_union(b, "Shape", E));
    OK(bk_builder_union_attr(b, "tagging", "\"internal\"", E));
    OK(bk_builder_union_attr(b, "tag", "\"kind\"", E));
    OK(bk_builder_variant(b, "circle", "Circle", E));
    OK(bk_builder_variant(b, "none", NULL, E));
    OK(bk_builder_model(b, "Unused", E));
    OK(bk_builder_field(b, "z", "NoSuchType", E)); /* not reachable: not built */
    bk_model *m = NULL;
    OK(bk_builder_build(&m, b, "Outer", E));
    const bk_model *inner = ifield(m, "inner")->type->model;
    assert_int_equal(inner->size, 4);
    assert_int_equal(inner->align, 2);
    assert_int_equal(inner->fields[1].offset, 2);
    assert_int_equal(ifield(m, "inner")->offset, 2);
    assert_int_equal(ifield(m, "items")->offset, 8);
    assert_int_equal(ifield(m, "items")->type->elem->size, 4);
    const bk__union *u = ifield(m, "shape")->type->uni;
    assert_int_equal(u->tag_offset, 0);
    assert_int_equal(u->variants[0].offset, 8);
    assert_int_equal(u->variants[1].offset, 0);
    assert_int_equal(u->size, 16);
    assert_int_equal(u->align, 8);
    assert_string_equal(u->tag, "kind");
    assert_string_equal(u->content, "content");
    assert_int_equal(ifield(m, "shape")->offset, 24);
    assert_int_equal(ifield(m, "by_name")->offset, 40);
    assert_string_equal(bk_model_field_type(m, 4), "map<ptr<Outer>>");
    assert_ptr_equal(ifield(m, "by_name")->type->elem->model, m);
    assert_int_equal(bk_model_size(m), 40 + sizeof(bk_map));
    assert_int_equal(m->schema->nmodels, 3); /* Outer, Inner, Circle; not Unused */
    /* building twice gives equal models */
    bk_model *m2 = NULL;
    OK(bk_builder_build(&m2, b, "Outer", E));
    assert_ptr_not_equal(m, m2);
    char *d1 = doc_of(m, false), *d2 = doc_of(m2, false);
    assert_string_equal(d1, d2);
    bk_free(d1);
    bk_free(d2);
    bk_model_unref(m2);
    /* the model outlives the builder */
    bk_builder_free(b);
    assert_int_equal(bk_model_size(m), 40 + sizeof(bk_map));
    bk_model_unref(m);
}

static void builder_rejects_bad_definitions(void **state)
{
    (void)state;
    bk_builder *b = new_builder();
    bk_model *m = NULL;
    /* nothing current yet */
    FAILS(BK_EMODEL, "no current model", NULL, bk_builder_field(b, "x", "i32", E));
    FAILS(BK_EMODEL, "no current model", NULL, bk_builder_model_attr(b, "deny_unknown", "true", E));
    FAILS(BK_EMODEL, "no current field", NULL, bk_builder_field_attr(b, "optional", "true", E));
    FAILS(BK_EMODEL, "no current union", NULL, bk_builder_variant(b, "v", NULL, E));
    FAILS(BK_EMODEL, "no current union", NULL, bk_builder_union_attr(b, "tag", "\"t\"", E));
    /* names */
    FAILS(BK_EMODEL, "1abc", "identifier", bk_builder_model(b, "1abc", E));
    FAILS(BK_EMODEL, "a b", "identifier", bk_builder_model(b, "a b", E));
    FAILS(BK_EMODEL, "i32", "reserved", bk_builder_model(b, "i32", E));
    FAILS(BK_EMODEL, "list", "reserved", bk_builder_union(b, "list", E));
    FAILS(BK_EINVAL, "NULL", NULL, bk_builder_model(b, NULL, E));
    OK(bk_builder_model(b, "A", E));
    FAILS(BK_EMODEL, "model A", "already defined", bk_builder_model(b, "A", E));
    FAILS(BK_EMODEL, "union A", "already defined", bk_builder_union(b, "A", E));
    FAILS(BK_EMODEL, "no current field", NULL, bk_builder_field_attr(b, "optional", "true", E));
    /* type expressions */
    const char *bad[] = { "", "list", "list<>", "list<str", "list<str>>", "map<str", "ptr<i32>",
        "ptr<list<A>>", "ptr<>", "str ", " str", "list< str>", "foo<A>", "a-b", "9x",
        "list<map<ptr<1>>>" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        FAILS(BK_EMODEL, "model A, field f", "type expression",
            bk_builder_field(b, "f", bad[i], E));
    OK(bk_builder_field(b, "f", "list<map<ptr<A>>>", E));
    FAILS(BK_EMODEL, "model A, field f", "two fields", bk_builder_field(b, "f", "i32", E));
    FAILS(BK_EMODEL, "field", "empty", bk_builder_field(b, "", "i32", E));
    FAILS(BK_EMODEL, "field", "UTF-8", bk_builder_field(b, "\xff", "i32", E));
    /* attributes */
    FAILS(BK_EMODEL, "model A, field f", "unknown attribute nullable",
        bk_builder_field_attr(b, "nullable", "true", E));
    FAILS(BK_EMODEL, "model A, field f", "optional expects a boolean",
        bk_builder_field_attr(b, "optional", "1", E));
    FAILS(BK_EMODEL, "model A", "not JSON", bk_builder_field_attr(b, "optional", "tru", E));
    FAILS(BK_EMODEL, "field f", "rename expects a string",
        bk_builder_field_attr(b, "rename", "[]", E));
    FAILS(BK_EMODEL, "field f", "aliases expects an array of strings",
        bk_builder_field_attr(b, "aliases", "[\"a\",1]", E));
    FAILS(BK_EMODEL, "field f", "skip_if", bk_builder_field_attr(b, "skip_if", "\"never\"", E));
    FAILS(BK_EINVAL, "NULL", NULL, bk_builder_field_attr(b, NULL, "true", E));
    FAILS(BK_EINVAL, "NULL", NULL, bk_builder_field_attr(b, "skip", NULL, E));
    FAILS(BK_EMODEL, "model A", "unknown attribute flatten",
        bk_builder_model_attr(b, "flatten", "true", E));
    FAILS(BK_EMODEL, "model A", "rename_all", bk_builder_model_attr(b, "rename_all",
        "\"Title Case\"", E));
    /* enums */
    const char *names[] = { "x", "y", "x" };
    FAILS(BK_EMODEL, "enum E", "\"x\" appears twice", bk_builder_enum(b, "E", names, 3, E));
    FAILS(BK_EMODEL, "enum E", "no names", bk_builder_enum(b, "E", names, 0, E));
    FAILS(BK_EMODEL, "enum A", "already defined", bk_builder_enum(b, "A", names, 2, E));
    /* unions */
    OK(bk_builder_union(b, "U", E));
    FAILS(BK_EMODEL, "field", "no current model", bk_builder_field(b, "g", "i32", E));
    FAILS(BK_EMODEL, "union U", "tagging", bk_builder_union_attr(b, "tagging", "\"inside\"", E));
    FAILS(BK_EMODEL, "union U", "unknown attribute rename_all",
        bk_builder_union_attr(b, "rename_all", "\"camelCase\"", E));
    FAILS(BK_EMODEL, "union U", "tag expects a string", bk_builder_union_attr(b, "tag", "1", E));
    OK(bk_builder_variant(b, "v", "i32", E));
    FAILS(BK_EMODEL, "union U, variant v", "duplicate", bk_builder_variant(b, "v", NULL, E));
    FAILS(BK_EMODEL, "union U, variant w", "type expression",
        bk_builder_variant(b, "w", "list<", E));
    /* build-time errors */
    FAILS(BK_EMODEL, "model Nope", "no model", bk_builder_build(&m, b, "Nope", E));
    FAILS(BK_EMODEL, "model U", "no model", bk_builder_build(&m, b, "U", E));
    assert_null(m);
    bk_builder_free(b);

    /* semantic errors found when building */
    struct { const char *model, *field, *type, *attr, *value, *a, *b; } cases[] = {
        { "S", "me", "S", NULL, NULL, "model S, field me", "embeds itself" },
        { "S", "u", "U1", NULL, NULL, "embeds itself", NULL },
        { "S", "p", "ptr<U1>", NULL, NULL, "model S, field p", "not a model" },
        { "S", "x", "str", "flatten", "true", "model S, field x", "flatten" },
        { "S", "x", "T", "flatten", "true", "model S, field x", "optional" },
        { "S", "x", "i32", "default", "\"nope\"", "model S, field x", "default" },
        { "S", "x", "i32", "rename", "\"t1\"", "model S, field x", "also used by field t1" },
        { "S", "x", "E1", "default", "\"c\"", "model S, field x", "\"c\"" },
        { "S", "x", "U2", NULL, NULL, "union U2", "no variants" },
        { "S", "x", "U3", NULL, NULL, "union U3, variant v", "internal tagging" },
        { "S", "x", "U4", NULL, NULL, "union U4", "same tag and content" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        b = new_builder();
        const char *e1[] = { "a", "b" };
        OK(bk_builder_enum(b, "E1", e1, 2, E));
        OK(bk_builder_model(b, "T", E));
        OK(bk_builder_field(b, "t1", "i32", E));
        OK(bk_builder_union(b, "U1", E));
        OK(bk_builder_variant(b, "s", "S", E));
        OK(bk_builder_union(b, "U2", E));
        OK(bk_builder_union(b, "U3", E));
        OK(bk_builder_union_attr(b, "tagging", "\"internal\"", E));
        OK(bk_builder_variant(b, "v", "list<T>", E));
        OK(bk_builder_union(b, "U4", E));
        OK(bk_builder_union_attr(b, "tagging", "\"adjacent\"", E));
        OK(bk_builder_union_attr(b, "content", "\"type\"", E));
        OK(bk_builder_variant(b, "v", "T", E));
        OK(bk_builder_model(b, cases[i].model, E));
        OK(bk_builder_field(b, "t1", "i32", E));
        OK(bk_builder_field(b, cases[i].field, cases[i].type, E));
        if (cases[i].attr) {
            OK(bk_builder_field_attr(b, cases[i].attr, cases[i].value, E));
            if (strcmp(cases[i].type, "T") == 0)
                OK(bk_builder_field_attr(b, "optional", "true", E));
        }
        FAILS(BK_EMODEL, cases[i].a, cases[i].b, bk_builder_build(&m, b, cases[i].model, E));
        assert_null(m);
        bk_builder_free(b);
    }
}

static void builder_handles_are_misuse_safe(void **state)
{
    (void)state;
    bk_model *m = build(&USER_DEF);
    bk_builder *fake = (bk_builder *)(void *)m;   /* a model is not a builder */
    bk_model *out = NULL;
    FAILS(BK_EMISUSE, "builder", NULL, bk_builder_model(fake, "X", E));
    FAILS(BK_EMISUSE, "builder", NULL, bk_builder_build(&out, fake, "X", E));
    FAILS(BK_EMISUSE, "builder", NULL, bk_builder_use(fake, m, E));
    FAILS(BK_EINVAL, "NULL", NULL, bk_builder_field(NULL, "x", "i32", E));
    FAILS(BK_EINVAL, "NULL", NULL, bk_builder_build(&out, NULL, "X", E));
    FAILS(BK_EINVAL, "NULL", NULL, bk_builder_new(NULL, E));
    bk_builder_free(fake);        /* ignored */
    bk_builder_free(NULL);
    assert_string_equal(bk_model_name(m), "User");
    bk_builder *b = new_builder();
    FAILS(BK_EINVAL, "NULL", NULL, bk_builder_use(b, NULL, E));
    FAILS(BK_EMISUSE, "not a model", NULL, bk_builder_use(b, (bk_model *)(void *)b, E));
    FAILS(BK_EINVAL, "NULL", NULL, bk_builder_build(NULL, b, "X", E));
    bk_builder_free(b);
    bk_model_unref(m);
}

static void builder_uses_built_models_and_keeps_their_layout(void **state)
{
    (void)state;
    bk_model *user = build(&USER_DEF);
    bk_builder *b = new_builder();
    OK(bk_builder_use(b, user, E));
    OK(bk_builder_use(b, user, E)); /* idempotent */
    OK(bk_builder_model(b, "Team", E));
    OK(bk_builder_field(b, "lead", "User", E));
    OK(bk_builder_field(b, "members", "list<User>", E));
    OK(bk_builder_field(b, "office", "ptr<Address>", E));
    OK(bk_builder_field(b, "default_role", "User_role", E));
    OK(bk_builder_field_attr(b, "default", "\"guest\"", E));
    FAILS(BK_EMODEL, "Address", "already defined", bk_builder_model(b, "Address", E));
    bk_model *m = NULL;
    OK(bk_builder_build(&m, b, "Team", E));
    bk_builder_free(b);
    const bk__field *lead = ifield(m, "lead");
    assert_ptr_equal(lead->type->model, user);
    assert_int_equal(lead->type->size, sizeof(User));
    assert_int_equal(ifield(m, "members")->offset, sizeof(User));
    assert_ptr_equal(ifield(m, "office")->type->model, user->fields[7].type->model);
    assert_ptr_equal(ifield(m, "default_role")->type->enm, user->fields[4].type->enm);
    assert_int_equal(m->schema->ndeps, 1);
    assert_ptr_equal(m->schema->deps[0], user->schema);
    /* the built model keeps the used one alive */
    bk_model_unref(user);
    assert_string_equal(lead->type->model->name, "User");
    /* the document is self-contained */
    char *doc = doc_of(m, false);
    assert_contains(doc, "{\"name\":\"User\",\"rename_all\":\"camelCase\"");
    assert_contains(doc, "\"enums\":[{\"name\":\"User_role\"");
    assert_round_trip(m);
    bk_free(doc);

    /* a name clash with a different definition */
    b = new_builder();
    OK(bk_builder_model(b, "Address", E));
    OK(bk_builder_field(b, "line", "str", E));
    FAILS(BK_EMODEL, "Address", "already defined", bk_builder_use(b, m, E));
    /* all or nothing: Team was not made available */
    OK(bk_builder_model(b, "Team", E));
    bk_builder_free(b);
    /* the root may be a used model */
    b = new_builder();
    OK(bk_builder_use(b, m, E));
    bk_model *same = NULL;
    OK(bk_builder_build(&same, b, "Team", E));
    assert_ptr_equal(same, m);
    bk_model_unref(same);
    bk_builder_free(b);
    bk_model_unref(m);
}

/* ---- documents ----------------------------------------------------------------- */

static const char CANONICAL[] =
    "{\"bk_model\":1,\"root\":\"User\",\"models\":["
    "{\"name\":\"User\",\"rename_all\":\"camelCase\",\"deny_unknown\":true,\"fields\":["
    "{\"name\":\"id\",\"type\":\"i64\",\"primary_key\":true,\"auto_id\":true},"
    "{\"name\":\"role\",\"type\":\"User_role\",\"default\":\"member\"},"
    "{\"name\":\"nick\",\"type\":\"str\",\"rename\":\"nickName\",\"aliases\":[\"nick_name\",\"nn\"],"
    "\"optional\":true,\"skip_if\":\"absent\"},"
    "{\"name\":\"shape\",\"type\":\"Shape\",\"optional\":true},"
    "{\"name\":\"tags\",\"type\":\"list<str>\",\"default\":[],\"skip_if\":\"empty\",\"index\":true},"
    "{\"name\":\"email\",\"type\":\"str\",\"unique\":true},"
    "{\"name\":\"rev\",\"type\":\"i32\",\"default_zero\":true,\"row_version\":true},"
    "{\"name\":\"friends\",\"type\":\"map<ptr<User>>\",\"default_zero\":true},"
    "{\"name\":\"secret\",\"type\":\"bytes\",\"skip\":true},"
    "{\"name\":\"loc\",\"type\":\"Geo\",\"flatten\":true},"
    "{\"name\":\"score\",\"type\":\"f64\",\"default\":0.25,\"skip_if\":\"default\"}]},"
    "{\"name\":\"Circle\",\"fields\":[{\"name\":\"r\",\"type\":\"f64\",\"default_zero\":true}]},"
    "{\"name\":\"Geo\",\"fields\":[{\"name\":\"lat\",\"type\":\"f64\"},{\"name\":\"lon\",\"type\":\"f64\"}]}],"
    "\"unions\":[{\"name\":\"Shape\",\"tagging\":\"internal\",\"tag\":\"kind\","
    "\"variants\":[{\"name\":\"circle\",\"type\":\"Circle\"},{\"name\":\"none\"}]}],"
    "\"enums\":[{\"name\":\"User_role\",\"values\":[\"admin\",\"member\",\"guest\"]}]}";

static void canonical_document_reads_and_writes_back_exactly(void **state)
{
    (void)state;
    bk_model *m = from_doc(CANONICAL);
    char *doc = doc_of(m, false);
    assert_string_equal(doc, CANONICAL);
    bk_free(doc);
    assert_string_equal(bk_model_field_json_name(m, 2), "nickName");
    assert_string_equal(bk_model_field_json_name(m, 1), "role");
    assert_string_equal(bk_model_field_type(m, 7), "map<ptr<User>>");
    assert_int_equal(bk_model_field_kind(m, 3), BK_UNION);
    assert_true(m->deny_unknown);
    assert_string_equal(ifield(m, "score")->default_enc, "0.25");
    assert_true(ifield(m, "rev")->row_version);
    assert_false(ifield(m, "email")->row_version);
    /* flatten: lat/lon in the view, loc and secret not */
    assert_true(bk__model_ok(m));
    bool lat = false;
    for (size_t i = 0; i < m->njfields; i++) {
        assert_string_not_equal(m->jfields[i].name, "loc");
        assert_string_not_equal(m->jfields[i].name, "secret");
        lat |= strcmp(m->jfields[i].name, "lat") == 0;
    }
    assert_true(lat);
    /* pretty: two-space indent, same content */
    char *pretty = doc_of(m, true);
    assert_true(strncmp(pretty, "{\n  \"bk_model\": 1,\n  \"root\": \"User\",\n  \"models\": [\n"
        "    {\n      \"name\": \"User\",", 71) == 0);
    bk_model *m2 = from_doc(pretty);
    char *again = doc_of(m2, false);
    assert_string_equal(again, CANONICAL);
    bk_free(pretty);
    bk_free(again);
    bk_model_unref(m2);
    /* whitespace and key order in the input do not matter */
    const char *loose = "{ \"models\": [ { \"fields\": [ { \"type\": \"i32\", \"name\": \"x\","
        " \"optional\": false } ], \"name\": \"P\" } ], \"root\": \"P\", \"bk_model\": 1,"
        " \"unions\": [], \"enums\": [] }";
    bk_model *p = from_doc(loose);
    char *pd = doc_of(p, false);
    assert_string_equal(pd, "{\"bk_model\":1,\"root\":\"P\",\"models\":[{\"name\":\"P\","
        "\"fields\":[{\"name\":\"x\",\"type\":\"i32\"}]}]}");
    bk_free(pd);
    bk_model_unref(p);
    bk_model_unref(m);
}

static void c_models_round_trip_through_documents(void **state)
{
    (void)state;
    const bk_model_def *defs[] = { &USER_DEF, &EVERYTHING_DEF, &NODE_DEF, &ADDRESS_DEF,
        &C_SKEBAB_DEF };
    for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]); i++) {
        bk_model *m = build(defs[i]);
        assert_round_trip(m);
        bk_model_unref(m);
    }
    /* the document of a C model: order and attributes */
    bk_model *m = build(&EVERYTHING_DEF);
    char *doc = doc_of(m, false);
    assert_true(strncmp(doc, "{\"bk_model\":1,\"root\":\"Everything\",\"models\":[{\"name\":"
        "\"Everything\",\"rename_all\":\"kebab-case\",\"fields\":[{\"name\":\"id\",\"type\":"
        "\"i64\",\"primary_key\":true,\"auto_id\":true},{\"name\":\"title\",\"type\":\"str\","
        "\"rename\":\"name\",\"aliases\":[\"heading\",\"caption\"]},{\"name\":\"role\",\"type\":"
        "\"Everything_role\",\"default\":\"guest\",\"index\":true},", 302) == 0);
    /* models in first-reference order: Everything, Circle, Rect (via Shape), Node, Meta,
     * Address; unions Shape, Value; one enum */
    const char *order[] = { "{\"name\":\"Everything\"", "{\"name\":\"Circle\"",
        "{\"name\":\"Rect\"", "{\"name\":\"Node\"", "{\"name\":\"Meta\"",
        "{\"name\":\"Address\"", "\"unions\":[{\"name\":\"Shape\"", "{\"name\":\"Value\"",
        "\"enums\":[{\"name\":\"Everything_role\",\"values\":[\"admin\",\"member\",\"guest\"]}]}" };
    const char *at = doc;
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        const char *p = strstr(at, order[i]);
        if (!p)
            fprintf(stderr, "missing or out of order: %s\n", order[i]);
        assert_non_null(p);
        at = p;
    }
    assert_contains(doc, "{\"name\":\"Value\",\"tagging\":\"adjacent\",\"tag\":\"t\","
        "\"content\":\"c\",\"variants\":[{\"name\":\"num\",\"type\":\"i64\"},{\"name\":\"text\","
        "\"type\":\"str\"},{\"name\":\"words\",\"type\":\"list<str>\"},{\"name\":\"nothing\"}]}");
    assert_contains(doc, "{\"name\":\"counts\",\"type\":\"map<i64>\",\"default\":{\"a\":1,\"b\":2}}");
    assert_contains(doc, "{\"name\":\"meta\",\"type\":\"Meta\",\"flatten\":true}");
    assert_contains(doc, "{\"name\":\"internal\",\"type\":\"i32\",\"skip\":true}");
    assert_contains(doc, "{\"name\":\"tree\",\"type\":\"ptr<Node>\",\"skip_if\":\"absent\"}");
    assert_contains(doc, "{\"name\":\"extra\",\"type\":\"json\",\"optional\":true}");
    assert_contains(doc, "{\"name\":\"matrix\",\"type\":\"list<list<str>>\",\"default_zero\":true}");
    assert_contains(doc, "{\"name\":\"weight\",\"type\":\"i32\",\"default\":7,\"skip_if\":\"default\"}");
    /* the loaded copy has a run-time layout but the same JSON behaviour */
    bk_model *rt = from_doc(doc);
    assert_false(rt->from_c);
    assert_int_equal(rt->njfields, m->njfields);
    for (size_t i = 0; i < m->njfields; i++) {
        assert_string_equal(rt->jfields[i].name, m->jfields[i].name);
        assert_int_equal(rt->jfields[i].required, m->jfields[i].required);
    }
    bk_free(doc);
    bk_model_unref(rt);
    bk_model_unref(m);
}

static void builder_models_round_trip_through_documents(void **state)
{
    (void)state;
    bk_builder *b = new_builder();
    const char *colors[] = { "red", "green", "blue" };
    OK(bk_builder_enum(b, "Color", colors, 3, E));
    OK(bk_builder_model(b, "Doc", E));
    OK(bk_builder_model_attr(b, "rename_all", "\"SCREAMING_SNAKE_CASE\"", E));
    OK(bk_builder_model_attr(b, "deny_unknown", "true", E));
    OK(bk_builder_field(b, "id", "uuid", E));
    OK(bk_builder_field_attr(b, "primary_key", "true", E));
    OK(bk_builder_field(b, "color", "Color", E));
    OK(bk_builder_field_attr(b, "default", "  \"blue\"  ", E));
    OK(bk_builder_field_attr(b, "skip_if", "\"default\"", E));
    OK(bk_builder_field(b, "palette", "map<list<Color>>", E));
    OK(bk_builder_field_attr(b, "aliases", "[\"colors\",\"pal\"]", E));
    OK(bk_builder_field_attr(b, "default_zero", "true", E));
    OK(bk_builder_field(b, "ev", "Event", E));
    OK(bk_builder_field(b, "evs", "list<Event>", E));
    OK(bk_builder_field_attr(b, "default", "[{\"Ping\":{\"seq\":1}}, \"Quit\"]", E));
    OK(bk_builder_field(b, "any", "Any", E));
    OK(bk_builder_field_attr(b, "optional", "true", E));
    OK(bk_builder_field(b, "tagged", "Tagged", E));
    OK(bk_builder_field_attr(b, "optional", "true", E));
    OK(bk_builder_field(b, "parent", "ptr<Doc>", E));
    OK(bk_builder_field(b, "stamp", "Stamp", E));
    OK(bk_builder_field_attr(b, "flatten", "true", E));
    OK(bk_builder_field(b, "note", "str", E));
    OK(bk_builder_field_attr(b, "rename", "\"Note\"", E));
    OK(bk_builder_field_attr(b, "skip", "true", E));
    OK(bk_builder_field(b, "raw", "json", E));
    OK(bk_builder_field_attr(b, "optional", "true", E));
    OK(bk_builder_field_attr(b, "skip_if", "\"absent\"", E));
    OK(bk_builder_field(b, "count", "u32", E));
    OK(bk_builder_field_attr(b, "unique", "true", E));
    OK(bk_builder_field_attr(b, "index", "true", E));
    OK(bk_builder_field_attr(b, "auto_id", "true", E));
    OK(bk_builder_field_attr(b, "default", "0", E));
    OK(bk_builder_model(b, "Stamp", E));
    OK(bk_builder_field(b, "created", "timestamp", E));
    OK(bk_builder_field(b, "day", "date", E));
    OK(bk_builder_field_attr(b, "default_zero", "true", E));
    OK(bk_builder_model(b, "Ping", E));
    OK(bk_builder_field(b, "seq", "i64", E));
    OK(bk_builder_field_attr(b, "default_zero", "true", E));
    OK(bk_builder_union(b, "Event", E));
    OK(bk_builder_variant(b, "Ping", "Ping", E));
    OK(bk_builder_variant(b, "Data", "bytes", E));
    OK(bk_builder_variant(b, "Quit", NULL, E));
    OK(bk_builder_union(b, "Any", E));
    OK(bk_builder_union_attr(b, "tagging", "\"untagged\"", E));
    OK(bk_builder_variant(b, "n", "f64", E));
    OK(bk_builder_variant(b, "s", "str", E));
    OK(bk_builder_union(b, "Tagged", E));
    OK(bk_builder_union_attr(b, "tagging", "\"adjacent\"", E));
    OK(bk_builder_union_attr(b, "tag", "\"k\"", E));
    OK(bk_builder_union_attr(b, "content", "\"v\"", E));
    OK(bk_builder_variant(b, "one", "i8", E));
    OK(bk_builder_variant(b, "many", "list<i16>", E));
    bk_model *m = NULL;
    OK(bk_builder_build(&m, b, "Doc", E));
    bk_builder_free(b);
    assert_string_equal(bk_model_field_json_name(m, 2), "PALETTE");
    assert_string_equal(bk_model_field_json_name(m, 9), "Note");
    assert_string_equal(ifield(m, "color")->default_json, "\"blue\"");
    assert_string_equal(ifield(m, "color")->default_enc, "\"blue\"");
    assert_string_equal(ifield(m, "evs")->default_json, "[{\"Ping\":{\"seq\":1}},\"Quit\"]");
    assert_round_trip(m);
    char *doc = doc_of(m, false);
    assert_contains(doc, "{\"name\":\"color\",\"type\":\"Color\",\"default\":\"blue\","
        "\"skip_if\":\"default\"}");
    assert_contains(doc, "{\"name\":\"count\",\"type\":\"u32\",\"default\":0,\"auto_id\":true,"
        "\"unique\":true,\"index\":true}");
    assert_contains(doc, "\"unions\":[{\"name\":\"Event\",\"variants\":[{\"name\":\"Ping\","
        "\"type\":\"Ping\"},{\"name\":\"Data\",\"type\":\"bytes\"},{\"name\":\"Quit\"}]},"
        "{\"name\":\"Any\",\"tagging\":\"untagged\"");
    assert_contains(doc, "\"enums\":[{\"name\":\"Color\",\"values\":[\"red\",\"green\",\"blue\"]}]");
    bk_free(doc);
    bk_model_unref(m);
}

static void bad_documents_are_rejected_with_where(void **state)
{
    (void)state;
    bk_model *m = (bk_model *)&m;
    bk_error *err = NULL;
    /* syntax: BK_ESYNTAX with line and column */
    const char *bad = "{\"bk_model\":1,\n\"root\":\"A\",\n\"models\":[}";
    assert_int_equal(bk_model_from_doc(&m, bad, strlen(bad), &err), BK_ESYNTAX);
    assert_null(m);
    assert_int_equal(bk_error_code(err), BK_ESYNTAX);
    size_t off = 0, line = 0, col = 0;
    assert_int_equal(bk_error_location(err, 0, &off, &line, &col), BK_OK);
    assert_int_equal(line, 3);
    assert_true(col > 0);
    assert_contains(bk_error_message(err), "line 3");
    bk_error_free(err);
    err = NULL;
    /* length is honoured: a prefix is not a document */
    const char *good = "{\"bk_model\":1,\"root\":\"A\",\"models\":[{\"name\":\"A\",\"fields\":[]}]}";
    assert_int_equal(bk_model_from_doc(&m, good, 10, &err), BK_ESYNTAX);
    bk_error_free(err);
    err = NULL;
    m = from_doc(good);
    assert_int_equal(bk_model_field_count(m), 0);
    assert_int_equal(bk_model_size(m), 1);
    bk_model_unref(m);

    struct { const char *doc, *a, *b; } cases[] = {
        { "[]", "not a JSON object", NULL },
        { "{\"bk_model\":2,\"root\":\"A\",\"models\":[]}", "bk_model", NULL },
        { "{\"bk_model\":\"1\",\"root\":\"A\",\"models\":[]}", "bk_model", NULL },
        { "{\"bk_model\":1,\"models\":[]}", "missing \"root\"", NULL },
        { "{\"bk_model\":1,\"root\":\"A\"}", "missing \"models\"", NULL },
        { "{\"bk_model\":1,\"root\":\"A\",\"models\":{}}", "\"models\" must be an array", NULL },
        { "{\"bk_model\":1,\"root\":\"A\",\"models\":[],\"extra\":1}", "unknown key \"extra\"",
          NULL },
        { "{\"bk_model\":1,\"root\":\"A\",\"models\":[]}", "model A", "no model" },
        { "{\"bk_model\":1,\"root\":\"A\",\"models\":[{\"name\":\"A\",\"fields\":["
          "{\"name\":\"x\",\"type\":\"Adress\"}]}]}", "model A, field x",
          "unknown type name \"Adress\"" },
        { "{\"bk_model\":1,\"root\":\"A\",\"models\":[{\"name\":\"A\",\"fields\":["
          "{\"name\":\"x\",\"type\":\"i32\",\"nullable\":true}]}]}", "model A, field x",
          "unknown attribute nullable" },
        { "{\"bk_model\":1,\"root\":\"A\",\"models\":[{\"name\":\"A\",\"fields\":["
          "{\"name\":\"x\",\"type\":\"i32\",\"optional\":\"yes\"}]}]}", "field x",
          "optional expects a boolean" },
        { "{\"bk_model\":1,\"root\":\"A\",\"models\":[{\"name\":\"A\",\"strict\":true,"
          "\"fields\":[]}]}", "model A", "unknown attribute strict" },
        { "{\"bk_model\":1,\"root\":\"A\",\"models\":[{\"name\":\"A\",\"fields\":["
          "{\"name\":\"x\"}]}]}", "fields[0]", "missing \"type\"" },
        { "{\"bk_model\":1,\"root\":\"A\",\"models\":[{\"name\":\"A\",\"fields\":["
          "{\"name\":\"x\",\"type\":\"list<\"}]}]}", "field x", "type expression" },
        { "{\"bk_model\":1,\"root\":\"A\",\"models\":[{\"name\":\"A\",\"fields\":[]},"
          "{\"name\":\"A\",\"fields\":[]}]}", "model A", "already defined" },
        { "{\"bk_model\":1,\"root\":\"A\",\"models\":[{\"name\":\"A\",\"fields\":["
          "{\"name\":\"x\",\"type\":\"U\"}]}],\"unions\":[{\"name\":\"U\",\"variants\":["
          "{\"name\":\"a\",\"type\":\"i32\",\"extra\":1}]}]}", "union U, variant a",
          "unknown key \"extra\"" },
        { "{\"bk_model\":1,\"root\":\"A\",\"models\":[],\"unions\":[{\"name\":\"U\","
          "\"tagging\":\"sideways\",\"variants\":[]}]}", "union U", "tagging" },
        { "{\"bk_model\":1,\"root\":\"A\",\"models\":[],\"enums\":[{\"name\":\"E\","
          "\"values\":[\"a\",2]}]}", "enum E", "values[1]" },
        { "{\"bk_model\":1,\"root\":\"A\",\"models\":[],\"enums\":[{\"name\":\"E\","
          "\"values\":[\"a\"],\"x\":1}]}", "enums[0]", "unknown key \"x\"" },
        { "{\"bk_model\":1,\"root\":\"A\",\"models\":[{\"name\":\"A\",\"fields\":["
          "{\"name\":\"x\",\"type\":\"i32\",\"default\":\"x\"}]}]}", "model A, field x",
          "default" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        m = (bk_model *)&m;
        FAILS(BK_EMODEL, cases[i].a, cases[i].b,
            bk_model_from_doc(&m, cases[i].doc, strlen(cases[i].doc), E));
        assert_null(m);
    }
    /* a duplicate key is a model error with a location */
    const char *dup = "{\"bk_model\":1,\"root\":\"A\",\"root\":\"B\",\"models\":[]}";
    assert_int_equal(bk_model_from_doc(&m, dup, strlen(dup), &err), BK_EMODEL);
    assert_contains(bk_error_message(err), "duplicate");
    bk_error_free(err);
    FAILS(BK_EINVAL, "NULL", NULL, bk_model_from_doc(&m, NULL, 0, E));
    FAILS(BK_EINVAL, "NULL", NULL, bk_model_from_doc(NULL, good, strlen(good), E));
}

/* Defaults are decoded, and decoding applies the defaults of absent keys:
 * a default that needs itself again is rejected instead of recursing. */
typedef struct Chain Chain;
struct Chain { int32_t v; Chain *next; };
static const bk_model_def CHAIN_DEF;
static const bk_field CHAIN_FIELDS[] = {
    BK_FIELD(Chain, v, BK_I32),
    BK_NESTED_PTR(Chain, next, Chain, &CHAIN_DEF, .default_json = "{\"v\":1}"),
};
static const bk_model_def CHAIN_DEF = BK_MODEL_DEF(Chain, CHAIN_FIELDS);
static const bk_model_def CHAIN_OK_DEF;
static const bk_field CHAIN_OK_FIELDS[] = {
    BK_FIELD(Chain, v, BK_I32),
    BK_NESTED_PTR(Chain, next, Chain, &CHAIN_OK_DEF, .default_json = "{\"v\":1,\"next\":null}"),
};
static const bk_model_def CHAIN_OK_DEF = BK_MODEL_DEF(Chain, CHAIN_OK_FIELDS);

static void self_referencing_defaults_are_rejected(void **state)
{
    (void)state;
    expect_emodel(&CHAIN_DEF, "field next", "needs itself");
    /* the default says next: null, so it does not need itself */
    bk_model *c = build(&CHAIN_OK_DEF);
    Chain ch;
    bk_error *err = NULL;
    assert_int_equal(bk_json_decode(&ch, c, "{\"v\":5}", 7, NULL, &err), BK_OK);
    assert_int_equal(ch.next->v, 1);
    assert_null(ch.next->next);
    bk_clear(c, &ch);
    bk_model_unref(c);
    const char *tmpl = "{\"bk_model\":1,\"root\":\"N\",\"models\":[{\"name\":\"N\",\"fields\":["
        "{\"name\":\"v\",\"type\":\"i32\"},{\"name\":\"kids\",\"type\":\"list<N>\",\"default\":%s},"
        "{\"name\":\"w\",\"type\":\"W\",\"optional\":true,\"default\":%s}]},"
        "{\"name\":\"M\",\"fields\":[{\"name\":\"n\",\"type\":\"ptr<N>\",\"default\":{\"v\":2}}]}],"
        "\"unions\":[{\"name\":\"W\",\"tagging\":\"adjacent\",\"variants\":["
        "{\"name\":\"m\",\"type\":\"M\"},{\"name\":\"x\"}]}]}";
    struct { const char *kids, *w; bool ok; } cases[] = {
        { "[]", "{\"type\":\"x\"}", true },
        { "[{\"v\":1,\"kids\":[],\"w\":{\"type\":\"x\"}}]", "{\"type\":\"x\"}", true },
        { "[{\"v\":1}]", "null", false },                         /* kids -> kids */
        { "[]", "{\"type\":\"m\",\"content\":{}}", false },       /* w -> M.n -> N.w */
        { "[]", "{\"type\":\"m\",\"content\":{\"n\":null}}", true },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char doc[1024];
        snprintf(doc, sizeof(doc), tmpl, cases[i].kids, cases[i].w);
        bk_model *m = NULL;
        if (cases[i].ok) {
            m = from_doc(doc);
            assert_round_trip(m);
            bk_model_unref(m);
        } else {
            FAILS(BK_EMODEL, "model N, field", "needs itself",
                bk_model_from_doc(&m, doc, strlen(doc), E));
        }
    }
    /* a bad default is reported where it is written, not where it is used:
     * M.n's default {"v":2} brings in N.w's default, which is not a W */
    char doc[1024];
    snprintf(doc, sizeof(doc), tmpl, "[]", "null");
    bk_model *m = NULL;
    FAILS(BK_EMODEL, "model N, field w", "default null is not a valid W",
        bk_model_from_doc(&m, doc, strlen(doc), E));
}

/* Two C definitions with one name cannot share a schema (documents name
 * types). */
static const bk_field ADDRESS2_FIELDS[] = { BK_FIELD(Address, street, BK_STR) };
static const bk_model_def ADDRESS2_DEF = BK_MODEL_DEF(Address, ADDRESS2_FIELDS);
typedef struct { Address a; Address b; } TwoAddr;
static const bk_field TWOADDR_FIELDS[] = {
    BK_NESTED(TwoAddr, a, Address, &ADDRESS_DEF),
    BK_NESTED(TwoAddr, b, Address, &ADDRESS2_DEF),
};
static const bk_model_def TWOADDR_DEF = BK_MODEL_DEF(TwoAddr, TWOADDR_FIELDS);

static void duplicate_definition_names_are_rejected(void **state)
{
    (void)state;
    expect_emodel(&TWOADDR_DEF, "two different definitions are named Address", NULL);
}

/* Long reference chains are walked without deep recursion; long embedding
 * chains are refused. */
static char *chain_doc(size_t n, const char *type_fmt)
{
    size_t cap = n * 96 + 128, len = 0;
    char *doc = malloc(cap);
    assert_non_null(doc);
    len += (size_t)snprintf(doc + len, cap - len,
        "{\"bk_model\":1,\"root\":\"M0\",\"models\":[");
    for (size_t i = 0; i < n; i++) {
        char type[64];
        if (i + 1 < n)
            snprintf(type, sizeof(type), type_fmt, i + 1);
        else
            snprintf(type, sizeof(type), "i32");
        len += (size_t)snprintf(doc + len, cap - len,
            "%s{\"name\":\"M%zu\",\"fields\":[{\"name\":\"x\",\"type\":\"%s\"}]}",
            i ? "," : "", i, type);
    }
    snprintf(doc + len, cap - len, "]}");
    return doc;
}

static void long_chains_are_handled(void **state)
{
    (void)state;
    char *doc = chain_doc(3000, "ptr<M%zu>");
    bk_model *m = from_doc(doc);
    assert_int_equal(m->schema->nmodels, 3000);
    char *out = doc_of(m, false);
    assert_string_equal(out, doc);
    bk_builder *b = new_builder();
    OK(bk_builder_use(b, m, E));
    OK(bk_builder_model(b, "Top", E));
    OK(bk_builder_field(b, "m", "M2999", E));
    bk_model *top = NULL;
    OK(bk_builder_build(&top, b, "Top", E));
    bk_builder_free(b);
    bk_model_unref(top);
    bk_free(out);
    bk_model_unref(m);
    free(doc);

    doc = chain_doc(200, "M%zu");
    m = from_doc(doc);
    assert_int_equal(bk_model_size(m), 4);
    bk_model_unref(m);
    free(doc);
    doc = chain_doc(300, "M%zu");
    FAILS(BK_EMODEL, "embedded more than 256 levels", NULL,
        bk_model_from_doc(&m, doc, strlen(doc), E));
    free(doc);
}

/* ---- introspection and misuse --------------------------------------------------- */

static void model_functions_are_null_and_misuse_safe(void **state)
{
    (void)state;
    struct { uint32_t magic; char pad[256]; } fake = { 0xdeadbeef, { 0 } };
    const bk_model *bad[] = { NULL, (const bk_model *)(void *)&fake };
    for (size_t i = 0; i < 2; i++) {
        const bk_model *m = bad[i];
        assert_null(bk_model_name(m));
        assert_int_equal(bk_model_size(m), 0);
        assert_int_equal(bk_model_field_count(m), 0);
        assert_int_equal(bk_model_field_index(m, "x"), -1);
        assert_null(bk_model_field_name(m, 0));
        assert_null(bk_model_field_json_name(m, 0));
        assert_int_equal(bk_model_field_kind(m, 0), BK_KIND_NONE);
        assert_false(bk_model_field_optional(m, 0));
        assert_null(bk_model_field_type(m, 0));
        assert_null(bk_model_ref((bk_model *)m));
        bk_model_unref((bk_model *)m);
        char *doc = (char *)&fake;
        size_t len = 7;
        FAILS(i ? BK_EMISUSE : BK_EINVAL, i ? "not a model" : "NULL", NULL,
            bk_model_to_doc(&doc, &len, m, false, E));
        assert_null(doc);
        assert_int_equal(len, 0);
    }
    bk_model *m = build(&ADDRESS_DEF);
    FAILS(BK_EINVAL, "NULL", NULL, bk_model_to_doc(NULL, NULL, m, false, E));
    char *doc = NULL;
    assert_int_equal(bk_model_to_doc(&doc, NULL, m, false, NULL), BK_OK);
    assert_string_equal(doc, "{\"bk_model\":1,\"root\":\"Address\",\"models\":[{\"name\":"
        "\"Address\",\"fields\":[{\"name\":\"street\",\"type\":\"str\"},{\"name\":\"city\","
        "\"type\":\"str\"},{\"name\":\"zip\",\"type\":\"str\",\"default\":\"00000\"}]}]}");
    bk_free(doc);
    bk_model_unref(m);
    /* error pointer may be NULL */
    assert_int_equal(bk_model_new(&m, &BAD_SIZE, NULL), BK_EMODEL);
    assert_null(m);
}

/* jansson holds integers up to int64: a larger default cannot be written. */
typedef struct { uint64_t big; } Big;
static const bk_field BIG_FIELDS[] = {
    BK_FIELD(Big, big, BK_U64, .default_json = "18446744073709551615"),
};
static const bk_model_def BIG_DEF = BK_MODEL_DEF(Big, BIG_FIELDS);

static void defaults_beyond_jansson_are_unsupported_in_documents(void **state)
{
    (void)state;
    bk_model *m = build(&BIG_DEF);
    char *doc = (char *)&doc;
    FAILS(BK_EUNSUPPORTED, "Big", "default", bk_model_to_doc(&doc, NULL, m, false, E));
    assert_null(doc);
    bk_model_unref(m);
}

/* ---- constraints and custom validators -------------------------------------------- */

/* A constraint on every kind of field, element constraints on lists and
 * maps, messages, named validators on fields and on the model. */
typedef struct {
    bool flag;
    int8_t i8;
    int16_t i16;
    int32_t i32;
    int64_t i64;
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    float f32;
    double f64;
    char *s;
    bk_bytes blob;
    int64_t at;
    int32_t day;
    bk_uuid uid;
    Role role;
    Address addr;
    Node *node;
    bk_strs tags;
    bk_map counts;
    json_t *any;
    Shape shape;
    bk_list shapes;
    char *nick;
    bk_presence nick_p;
    bk_i32s scores;
} Checked;

static int g_node_calls, g_checked_calls;

static int node_ok(const void *value, bk_report *r, void *payload)
{
    (void)payload;
    Node *const *n = value;
    g_node_calls++;
    if (*n && (*n)->value < 0)
        bk_report_problem(r, "value", "negative", "must not be negative", NULL);
    return 0;
}

static int checked_ok(const void *value, bk_report *r, void *payload)
{
    const Checked *c = value;
    (*(int *)payload)++;
    if (c->i8 > c->i16)
        bk_report_problem(r, "i8", "order", "i8 must not exceed i16", "{\"i16\":0}");
    return 0;
}

static const bk_field CHECKED_FIELDS[] = {
    BK_FIELD(Checked, flag, BK_BOOL, BK_CONST("true")),
    BK_FIELD(Checked, i8, BK_I8, BK_MIN(-5), BK_MAX(5)),
    BK_FIELD(Checked, i16, BK_I16, BK_GT(-100), BK_LT(100), BK_MULTIPLE_OF(2)),
    BK_FIELD(Checked, i32, BK_I32, BK_MIN(0), BK_MESSAGES("below_min", "no negatives")),
    BK_FIELD(Checked, i64, BK_I64, BK_ONE_OF("[1, 2, 3]")),
    BK_FIELD(Checked, u8, BK_U8, BK_MAX(200)),
    BK_FIELD(Checked, u16, BK_U16, BK_MULTIPLE_OF(0.5)),
    BK_FIELD(Checked, u32, BK_U32, BK_GT(0.5)),
    BK_FIELD(Checked, u64, BK_U64, BK_MAX(1e19)),
    BK_FIELD(Checked, f32, BK_F32, BK_MIN(-1.5), BK_MAX(1.5)),
    BK_FIELD(Checked, f64, BK_F64, BK_GT(0), BK_LT(1), BK_MULTIPLE_OF(0.1)),
    BK_FIELD(Checked, s, BK_STR, BK_MIN_LEN(1), BK_MAX_LEN(10), BK_PATTERN("^[a-z.]+$"),
             BK_FORMAT(BK_FORMAT_HOSTNAME)),
    BK_FIELD(Checked, blob, BK_BYTES, BK_MIN_LEN(1), BK_MAX_LEN(16)),
    BK_FIELD(Checked, at, BK_TIMESTAMP, BK_ONE_OF("[\"2024-01-01T00:00:00Z\"]")),
    BK_FIELD(Checked, day, BK_DATE, BK_CONST("\"2024-01-01\"")),
    BK_FIELD(Checked, uid, BK_UUID, BK_ONE_OF("[\"01234567-89ab-cdef-0123-456789abcdef\"]")),
    BK_ENUM(Checked, role, ROLES, BK_ONE_OF("[\"admin\", \"member\"]")),
    BK_NESTED(Checked, addr, Address, &ADDRESS_DEF,
              BK_CONST("{\"street\": \"a\", \"city\": \"b\"}")),
    BK_NESTED_PTR(Checked, node, Node, &NODE_DEF, BK_VALIDATE(node_ok, "node_ok", NULL)),
    BK_LIST(Checked, tags, BK_STR, BK_MIN_ITEMS(1), BK_MAX_ITEMS(5), BK_UNIQUE_ITEMS,
            BK_EACH(BK_MAX_LEN(8), BK_PATTERN("^[a-z]+$"),
                    BK_MESSAGES("pattern", "lowercase only"))),
    BK_MAP(Checked, counts, BK_I64, BK_MAX_ITEMS(3), BK_EACH(BK_MIN(0)), .default_zero = true),
    BK_FIELD(Checked, any, BK_JSON, BK_ONE_OF("[1, \"a\", null, {\"k\": [true]}]")),
    BK_UNION(Checked, shape, &SHAPE_DEF, BK_CONST("{\"type\": \"none\"}")),
    BK_LIST_OF(Checked, shapes, &SHAPE_T, BK_MAX_ITEMS(2),
               BK_EACH(BK_ONE_OF("[{\"type\": \"none\"}, {\"type\": \"circle\", \"r\": 1}]")),
               .default_zero = true),
    BK_FIELD(Checked, nick, BK_STR, BK_PRESENCE(Checked, nick_p), BK_MIN_LEN(3)),
    BK_LIST(Checked, scores, BK_I32, BK_EACH(BK_MIN(0), BK_MAX(100)), .default_zero = true),
};
static const bk_model_def CHECKED_DEF = BK_MODEL_DEF(Checked, CHECKED_FIELDS,
    .validate = checked_ok, .validate_payload = &g_checked_calls,
    .validate_name = "checked_ok");

static const char CHECKED_JSON[] =
    "{\"flag\":true,\"i8\":1,\"i16\":2,\"i32\":0,\"i64\":2,\"u8\":200,\"u16\":3,\"u32\":1,"
    "\"u64\":10000000000000000000,\"f32\":1.5,\"f64\":0.3,\"s\":\"a.example\",\"blob\":\"AAE=\","
    "\"at\":\"2024-01-01T01:00:00+01:00\",\"day\":\"2024-01-01\","
    "\"uid\":\"01234567-89AB-CDEF-0123-456789ABCDEF\",\"role\":\"member\","
    "\"addr\":{\"city\":\"b\",\"street\":\"a\",\"zip\":\"00000\"},\"node\":{\"value\":1,\"next\":null},"
    "\"tags\":[\"a\",\"b\"],\"counts\":{\"x\":0},\"any\":{\"k\":[true]},\"shape\":{\"type\":\"none\"},"
    "\"shapes\":[{\"r\":1,\"type\":\"circle\"}],\"nick\":null,\"scores\":[0,100]}";

static bk_status decode_checked(const bk_model *m, const char *json, bk_error **err)
{
    void *obj = calloc(1, bk_model_size(m));
    assert_non_null(obj);
    bk_status st = bk_json_decode(obj, m, json, strlen(json), NULL, err);
    bk_clear(m, obj);
    free(obj);
    return st;
}

/* CHECKED_JSON with the value of one top-level key replaced (spliced as
 * text: some values are beyond what jansson holds). */
static char *checked_with(const char *key, const char *value)
{
    char pat[64];
    snprintf(pat, sizeof(pat), "\"%s\":", key);
    const char *at = strstr(CHECKED_JSON, pat);
    assert_non_null(at);
    const char *v = at + strlen(pat), *e = v;
    int depth = 0;
    bool str = false;
    for (; *e; e++) {
        if (str) {
            if (*e == '\\')
                e++;
            else if (*e == '"')
                str = false;
        } else if (*e == '"') {
            str = true;
        } else if (*e == '{' || *e == '[') {
            depth++;
        } else if (*e == '}' || *e == ']') {
            if (depth-- == 0)
                break;
        } else if (*e == ',' && depth == 0) {
            break;
        }
    }
    size_t a = (size_t)(v - CHECKED_JSON), b = strlen(value), c = strlen(e);
    char *out = malloc(a + b + c + 1);
    assert_non_null(out);
    memcpy(out, CHECKED_JSON, a);
    memcpy(out + a, value, b);
    memcpy(out + a + b, e, c + 1);
    return out;
}

static void constraints_are_compiled_on_every_kind(void **state)
{
    (void)state;
    bk_model *m = build(&CHECKED_DEF);
    assert_true(m->has_checks);
    assert_non_null(ifield(m, "flag")->check);
    assert_null(ifield(m, "flag")->elem_check);
    assert_null(ifield(m, "node")->check);
    assert_ptr_equal((void *)ifield(m, "node")->validate, (void *)node_ok);
    assert_string_equal(ifield(m, "node")->validate_name, "node_ok");
    assert_non_null(ifield(m, "tags")->elem_check);
    assert_non_null(ifield(m, "tags")->elem_check->re);
    assert_string_equal(ifield(m, "tags")->elem_check->src.messages[1], "lowercase only");
    assert_string_equal(m->validate_name, "checked_ok");
    /* Node (reached by ptr) and Address have nothing to check */
    assert_false(ifield(m, "node")->type->model->has_checks);
    assert_false(ifield(m, "addr")->type->model->has_checks);

    bk_error *err = NULL;
    g_node_calls = g_checked_calls = 0;
    bk_status st = decode_checked(m, CHECKED_JSON, &err);
    if (st != BK_OK)
        fprintf(stderr, "%s\n", bk_error_message(err));
    assert_int_equal(st, BK_OK);
    assert_int_equal(g_node_calls, 1);
    assert_int_equal(g_checked_calls, 1);
    /* one violation per field, each with its code */
    static const struct { const char *key, *value, *path, *code; } bad[] = {
        { "flag", "false", "$.flag", "not_const" },
        { "i8", "6", "$.i8", "above_max" },
        { "i16", "-100", "$.i16", "below_min" },
        { "i16", "3", "$.i16", "not_multiple_of" },
        { "i32", "-1", "$.i32", "below_min" },
        { "i64", "4", "$.i64", "not_one_of" },
        { "u8", "201", "$.u8", "above_max" },
        { "u32", "0", "$.u32", "below_min" },
        { "u64", "10000000000000100000", "$.u64", "above_max" },
        { "f32", "-1.75", "$.f32", "below_min" },
        { "f64", "1", "$.f64", "above_max" },
        { "s", "\"\"", "$.s", "too_short" },
        { "s", "\"Abc\"", "$.s", "pattern" },
        { "s", "\"a..b\"", "$.s", "format" },
        { "blob", "\"\"", "$.blob", "too_short" },
        { "at", "\"2024-01-01T00:00:01Z\"", "$.at", "not_one_of" },
        { "day", "\"2024-01-02\"", "$.day", "not_const" },
        { "uid", "\"01234567-89ab-cdef-0123-456789abcdee\"", "$.uid", "not_one_of" },
        { "role", "\"guest\"", "$.role", "not_one_of" },
        { "addr", "{\"street\":\"a\",\"city\":\"c\"}", "$.addr", "not_const" },
        { "node", "{\"value\":-1,\"next\":null}", "$.node.value", "custom:negative" },
        { "tags", "[]", "$.tags", "too_few_items" },
        { "tags", "[\"a\",\"a\"]", "$.tags", "unique" },
        { "tags", "[\"A\"]", "$.tags[0]", "pattern" },
        { "tags", "[\"abcdefghi\"]", "$.tags[0]", "too_long" },
        { "counts", "{\"a\":-1}", "$.counts.a", "below_min" },
        { "counts", "{\"a\":1,\"b\":1,\"c\":1,\"d\":1}", "$.counts", "too_many_items" },
        { "any", "2", "$.any", "not_one_of" },
        { "shape", "{\"type\":\"circle\",\"r\":1}", "$.shape", "not_const" },
        { "shapes", "[{\"type\":\"circle\",\"r\":2}]", "$.shapes[0]", "not_one_of" },
        { "nick", "\"ab\"", "$.nick", "too_short" },
        { "scores", "[101]", "$.scores[0]", "above_max" },
        { "i8", "5", "$.i8", "custom:order" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *json = checked_with(bad[i].key, bad[i].value);
        err = NULL;
        st = decode_checked(m, json, &err);
        if (st != BK_EVALIDATION)
            fprintf(stderr, "case %zu (%s=%s): %s %s\n", i, bad[i].key, bad[i].value,
                bk_status_name(st), bk_error_message(err));
        assert_int_equal(st, BK_EVALIDATION);
        bk_assert_problem(err, bad[i].path, bad[i].code);
        if (strcmp(bad[i].key, "i32") == 0)
            assert_string_equal(bk_error_problem_message(err, 0), "no negatives");
        if (strcmp(bad[i].key, "tags") == 0 && strcmp(bad[i].code, "pattern") == 0)
            assert_string_equal(bk_error_problem_message(err, 0), "lowercase only");
        bk_error_free(err);
        free(json);
    }
    bk_model_unref(m);
}

/* has_checks reaches up through nesting, pointers (also in cycles), list
 * elements, map values, union payloads and models of other schemas. */
static void has_checks_follows_every_reference(void **state)
{
    (void)state;
    /* C: Node has nothing; Checked has everything; User nests Address only */
    bk_model *u = build(&USER_DEF);
    assert_false(u->has_checks);
    bk_model_unref(u);
    const char *tmpl = "{\"bk_model\":1,\"root\":\"A\",\"models\":["
        "{\"name\":\"A\",\"fields\":[{\"name\":\"b\",\"type\":\"%s\"},{\"name\":\"x\",\"type\":\"i32\"}]},"
        "{\"name\":\"B\",\"fields\":[{\"name\":\"a\",\"type\":\"ptr<A>\"},{\"name\":\"c\",\"type\":\"%s\"}]},"
        "{\"name\":\"C\",\"fields\":[{\"name\":\"v\",\"type\":\"i32\"%s}]}],"
        "\"unions\":[{\"name\":\"U\",\"variants\":[{\"name\":\"l\",\"type\":\"list<U>\"},"
        "{\"name\":\"c\",\"type\":\"C\"}]}]}";
    static const struct { const char *btype, *ctype, *attr; bool a, b, c; } cases[] = {
        { "B", "ptr<C>", "", false, false, false },
        { "B", "ptr<C>", ",\"min\":0", true, true, true },
        { "list<B>", "map<C>", ",\"min\":0", true, true, true },
        { "map<list<B>>", "U", ",\"max\":1", true, true, true },
        { "ptr<B>", "list<U>", ",\"validator\":\"v\"", false, false, false },
        { "B", "U", "", false, false, false },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char doc[1024];
        snprintf(doc, sizeof(doc), tmpl, cases[i].btype, cases[i].ctype, cases[i].attr);
        bk_model *a = from_doc(doc);
        const bk_model *b = ifield(a, "b")->type->kind == BK_MODEL
            || ifield(a, "b")->type->kind == BK_MODEL_PTR ? ifield(a, "b")->type->model : NULL;
        const bk__type *t = ifield(a, "b")->type;
        while (!b && (t->kind == BK_LIST || t->kind == BK_MAP))
            t = t->elem;
        b = b ? b : t->model;
        const bk__type *ct = ifield(b, "c")->type;
        while (ct->kind == BK_LIST || ct->kind == BK_MAP)
            ct = ct->elem;
        const bk_model *c = ct->kind == BK_UNION ? ct->uni->variants[1].type->model : ct->model;
        /* a validator name alone (no function) checks nothing */
        if (i == 4)
            assert_string_equal(c->fields[0].validate_name, "v");
        if (a->has_checks != cases[i].a || b->has_checks != cases[i].b
                || c->has_checks != cases[i].c)
            fprintf(stderr, "case %zu: %d %d %d\n", i, a->has_checks, b->has_checks,
                c->has_checks);
        assert_int_equal(a->has_checks, cases[i].a);
        assert_int_equal(b->has_checks, cases[i].b);
        assert_int_equal(c->has_checks, cases[i].c);
        /* a builder reaching C of that schema through a union inherits it */
        if (!strchr(cases[i].ctype, 'U')) {
            bk_model_unref(a);
            continue;
        }
        bk_builder *bd = new_builder();
        OK(bk_builder_use(bd, a, E));
        OK(bk_builder_model(bd, "Top", E));
        OK(bk_builder_field(bd, "u", "list<U>", E));
        OK(bk_builder_field(bd, "n", "i8", E));
        bk_model *top = NULL;
        OK(bk_builder_build(&top, bd, "Top", E));
        assert_int_equal(top->has_checks, c->has_checks);
        bk_model_unref(top);
        bk_builder_free(bd);
        bk_model_unref(a);
    }
}

static int g_field_calls, g_model_calls;

static int field_even(const void *value, bk_report *r, void *payload)
{
    (*(int *)payload)++;
    if (*(const int32_t *)value % 2)
        bk_report_problem(r, NULL, "even", "must be even", NULL);
    return 0;
}

static int model_stop(const void *value, bk_report *r, void *payload)
{
    (void)value;
    (void)r;
    (*(int *)payload)++;
    return 1;
}

static void builder_sets_constraints_and_validators(void **state)
{
    (void)state;
    bk_builder *b = new_builder();
    OK(bk_builder_model(b, "P", E));
    OK(bk_builder_model_validator(b, model_stop, &g_model_calls, "stopper", E));
    OK(bk_builder_field(b, "n", "i32", E));
    OK(bk_builder_field_attr(b, "min", "1.5", E));
    OK(bk_builder_field_attr(b, "exclusive_min", "0", E));     /* replaces min */
    OK(bk_builder_field_attr(b, "max", "100", E));
    OK(bk_builder_field_validator(b, field_even, &g_field_calls, "even", E));
    OK(bk_builder_field(b, "tags", "map<str>", E));
    OK(bk_builder_field_attr(b, "each", "{\"format\":\"ipv4\",\"messages\":{\"format\":\"an IP\"}}", E));
    OK(bk_builder_field_attr(b, "max_items", "2", E));
    OK(bk_builder_field_attr(b, "default", "{}", E));
    bk_model *m = NULL;
    OK(bk_builder_build(&m, b, "P", E));
    bk_builder_free(b);
    const bk__field *n = ifield(m, "n");
    assert_true(n->check->src.has_min && n->check->src.min_exclusive && n->check->src.min == 0);
    assert_true(n->check->src.has_max && !n->check->src.max_exclusive);
    assert_true(m->has_checks);
    char *doc = doc_of(m, false);
    assert_string_equal(doc, "{\"bk_model\":1,\"root\":\"P\",\"models\":[{\"name\":\"P\","
        "\"validator\":\"stopper\",\"fields\":[{\"name\":\"n\",\"type\":\"i32\","
        "\"exclusive_min\":0,\"max\":100,\"validator\":\"even\"},{\"name\":\"tags\","
        "\"type\":\"map<str>\",\"default\":{},\"max_items\":2,\"each\":{\"format\":\"ipv4\","
        "\"messages\":{\"format\":\"an IP\"}}}]}]}");
    bk_free(doc);
    assert_round_trip(m);
    /* the validators run: the field's, then the model's, which stops */
    g_field_calls = g_model_calls = 0;
    void *obj = calloc(1, bk_model_size(m));
    FAILS(BK_EUSER, "stopped", NULL, bk_json_decode(obj, m, "{\"n\":2}", 7, NULL, E));
    assert_int_equal(g_field_calls, 1);
    assert_int_equal(g_model_calls, 1);
    bk_error *err = NULL;
    assert_int_equal(bk_json_decode(obj, m, "{\"n\":3,\"tags\":{\"a\":\"1.2.3\"}}", 28, NULL,
        &err), BK_EVALIDATION);
    bk_assert_problem(err, "$.n", "custom:even");
    bk_assert_problem(err, "$.tags.a", "format");
    assert_string_equal(bk_error_problem_message(err, 1), "an IP");
    bk_error_free(err);
    free(obj);
    bk_model_unref(m);
    /* a model loaded from its document has the names but not the functions */
    b = new_builder();
    OK(bk_builder_model(b, "Q", E));
    OK(bk_builder_field(b, "v", "u8", E));
    OK(bk_builder_field_attr(b, "validator", "\"later\"", E));
    OK(bk_builder_field_validator(b, NULL, NULL, NULL, E));     /* removes it */
    OK(bk_builder_model_attr(b, "validator", "\"whole\"", E));
    OK(bk_builder_build(&m, b, "Q", E));
    assert_null(ifield(m, "v")->validate_name);
    assert_string_equal(m->validate_name, "whole");
    assert_null((void *)m->validate);
    assert_false(m->has_checks);
    bk_model_unref(m);
    bk_builder_free(b);
}

static void bad_constraints_are_rejected_where_declared(void **state)
{
    (void)state;
    bk_builder *b = new_builder();
    FAILS(BK_EMODEL, "no current field", NULL, bk_builder_field_validator(b, NULL, NULL, "x", E));
    FAILS(BK_EMODEL, "no current model", NULL, bk_builder_model_validator(b, NULL, NULL, "x", E));
    FAILS(BK_EINVAL, "NULL", NULL, bk_builder_field_validator(NULL, NULL, NULL, NULL, E));
    OK(bk_builder_model(b, "M", E));
    FAILS(BK_EMODEL, "model M", "empty", bk_builder_model_validator(b, NULL, NULL, "", E));
    FAILS(BK_EMODEL, "validator", "non-empty string", bk_builder_model_attr(b, "validator", "3", E));
    OK(bk_builder_field(b, "f", "str", E));
    static const struct { const char *key, *value, *a, *b; } attrs[] = {
        { "min", "\"1\"", "attribute min", "a number" },
        { "exclusive_max", "null", "attribute exclusive_max", "a number" },
        { "multiple_of", "0", "attribute multiple_of", "a number > 0" },
        { "multiple_of", "-2.5", "attribute multiple_of", "a number > 0" },
        { "min_len", "-1", "attribute min_len", "non-negative integer" },
        { "max_items", "1.5", "attribute max_items", "non-negative integer" },
        { "unique_items", "1", "attribute unique_items", "a boolean" },
        { "pattern", "[]", "attribute pattern", "a string" },
        { "format", "\"phone\"", "attribute format", "\"email\"" },
        { "one_of", "{}", "attribute one_of", "an array" },
        { "messages", "{\"too_long\":1}", "attribute messages", "code: message" },
        { "messages", "[]", "attribute messages", "code: message" },
        { "each", "[]", "attribute each", "an object" },
        { "each", "{\"each\":{}}", "attribute each", "unknown constraint each" },
        { "each", "{\"validator\":\"v\"}", "attribute each", "unknown constraint validator" },
        { "each", "{\"min\":1,\"exclusive_min\":2}", "attribute each", "both set one bound" },
        { "each", "{\"max_len\":\"x\"}", "attribute each.max_len", "non-negative integer" },
        { "validator", "\"\"", "attribute validator", "non-empty string" },
        { "minimum", "1", "unknown attribute minimum", NULL },
    };
    for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
        FAILS(BK_EMODEL, "model M, field f", attrs[i].a,
            bk_builder_field_attr(b, attrs[i].key, attrs[i].value, E));
    /* a failed "each" leaves the previous one */
    OK(bk_builder_field_attr(b, "each", "{\"max_len\":3}", E));
    FAILS(BK_EMODEL, "each", NULL, bk_builder_field_attr(b, "each", "{\"max_len\":4,\"x\":1}", E));
    bk_builder_free(b);

    /* constraints that do not fit the type fail the build, naming the field */
    static const struct { const char *type, *attr, *a, *b; } builds[] = {
        { "str", "\"min\":1", "field f", "numbers only" },
        { "i32", "\"pattern\":\"x\"", "field f", "strings only" },
        { "str", "\"pattern\":\"(a\"", "field f", "does not compile" },
        { "i32", "\"each\":{\"min\":1}", "field f", "needs a list or a map, not i32" },
        { "list<i32>", "\"each\":{\"max_len\":1}", "field f (each)", "strings and bytes only" },
        { "map<str>", "\"each\":{\"one_of\":[1]}", "field f (each)", "not a valid str" },
        { "i8", "\"one_of\":[1000]", "field f", "not a valid i8" },
        { "i8", "\"min\":5,\"max\":1", "field f", "min is above max" },
        { "str", "\"messages\":{\"nope\":\"x\"}", "field f", "unknown code" },
        { "str", "\"min\":1,\"exclusive_min\":2", "field f", "both set one bound" },
    };
    for (size_t i = 0; i < sizeof(builds) / sizeof(builds[0]); i++) {
        char doc[512];
        snprintf(doc, sizeof(doc), "{\"bk_model\":1,\"root\":\"M\",\"models\":[{\"name\":\"M\","
            "\"fields\":[{\"name\":\"f\",\"type\":\"%s\",%s}]}]}", builds[i].type, builds[i].attr);
        bk_model *m = NULL;
        FAILS(BK_EMODEL, builds[i].a, builds[i].b, bk_model_from_doc(&m, doc, strlen(doc), E));
        assert_null(m);
    }
}

/* C: element constraints on a scalar, a validator name that is not UTF-8. */
typedef struct { int32_t v; } Scalar;
static const bk_field EACH_SCALAR_FIELDS[] = { BK_FIELD(Scalar, v, BK_I32, BK_EACH(BK_MIN(0))) };
static const bk_model_def EACH_SCALAR_DEF = BK_MODEL_DEF(Scalar, EACH_SCALAR_FIELDS);
static const bk_field BAD_NAME_FIELDS[] = {
    BK_FIELD(Scalar, v, BK_I32, BK_VALIDATE(field_even, "\xff", NULL)),
};
static const bk_model_def BAD_NAME_DEF = BK_MODEL_DEF(Scalar, BAD_NAME_FIELDS);
static const bk_field BAD_MSG_FIELDS[] = {
    BK_FIELD(Scalar, v, BK_I32, BK_MIN(0), BK_MESSAGES("below_min", "\xc3")),
};
static const bk_model_def BAD_MSG_DEF = BK_MODEL_DEF(Scalar, BAD_MSG_FIELDS);
static const bk_field EMPTY_EACH_FIELDS[] = { BK_FIELD(Scalar, v, BK_I32, BK_EACH(.index = false)) };
static const bk_model_def EMPTY_EACH_DEF = BK_MODEL_DEF(Scalar, EMPTY_EACH_FIELDS);
static const bk_model_def MODEL_BAD_NAME_DEF = BK_MODEL_DEF(Scalar, EMPTY_EACH_FIELDS,
    .validate_name = "");

static void bad_c_constraints_are_emodel(void **state)
{
    (void)state;
    expect_emodel(&EACH_SCALAR_DEF, "model Scalar, field v", "needs a list or a map");
    expect_emodel(&BAD_NAME_DEF, "field v", "validator name");
    expect_emodel(&BAD_MSG_DEF, "field v", "not valid UTF-8");
    expect_emodel(&MODEL_BAD_NAME_DEF, "model Scalar", "validator name");
    /* an element check that sets nothing is no check */
    bk_model *m = build(&EMPTY_EACH_DEF);
    assert_null(m->fields[0].elem_check);
    assert_false(m->has_checks);
    bk_model_unref(m);
}

/* Constraints in a document: fixed order, integral numbers as integers,
 * and the exact bytes back. */
static const char CANONICAL_CHECKS[] =
    "{\"bk_model\":1,\"root\":\"C\",\"models\":[{\"name\":\"C\",\"deny_unknown\":true,"
    "\"validator\":\"c_ok\",\"fields\":["
    "{\"name\":\"a\",\"type\":\"i64\",\"min\":-9223372036854775808,\"exclusive_max\":1e19,"
    "\"multiple_of\":3},"
    "{\"name\":\"b\",\"type\":\"f64\",\"default\":0.5,\"exclusive_min\":0.10000000000000001,"
    "\"max\":2.5,\"multiple_of\":0.25,\"messages\":{\"above_max\":\"too big\",\"below_min\":\"too small\"}},"
    "{\"name\":\"c\",\"type\":\"str\",\"optional\":true,\"min_len\":0,\"max_len\":9,"
    "\"pattern\":\"^\\\\w+$\",\"format\":\"date-time\",\"one_of\":[\"x\",\"y\"],\"const\":\"x\","
    "\"validator\":\"c_field\"},"
    "{\"name\":\"d\",\"type\":\"list<map<bytes>>\",\"min_items\":1,\"max_items\":2,"
    "\"unique_items\":true,\"each\":{\"min_items\":1}},"
    "{\"name\":\"e\",\"type\":\"map<f32>\",\"max_items\":0,\"each\":{\"min\":1,\"max\":2,"
    "\"one_of\":[1,1.5,2],\"messages\":{\"not_one_of\":\"1, 1.5 or 2\"}}},"
    "{\"name\":\"f\",\"type\":\"json\",\"const\":{\"k\":[null,true,{}]}},"
    "{\"name\":\"g\",\"type\":\"bytes\",\"min_len\":1,\"max_len\":3,\"const\":\"AAE=\"}]}]}";

static void constraints_read_and_write_back_exactly(void **state)
{
    (void)state;
    bk_model *m = from_doc(CANONICAL_CHECKS);
    char *doc = doc_of(m, false);
    assert_string_equal(doc, CANONICAL_CHECKS);
    bk_free(doc);
    assert_round_trip(m);
    const bk_check *a = &ifield(m, "a")->check->src;
    assert_true(a->has_min && a->min == -9223372036854775808.0 && !a->min_exclusive);
    assert_true(a->has_max && a->max == 1e19 && a->max_exclusive);
    assert_true(ifield(m, "b")->check->src.min == 0.1);
    bk_model_unref(m);
    /* reals that are integral are written as integers; key order is fixed */
    m = from_doc("{\"bk_model\":1,\"root\":\"R\",\"models\":[{\"name\":\"R\",\"fields\":["
        "{\"each\":{\"max\":2.0,\"min\":-0.0},\"max_items\":3,\"type\":\"list<u8>\","
        "\"name\":\"r\"}]}]}");
    doc = doc_of(m, false);
    assert_string_equal(doc, "{\"bk_model\":1,\"root\":\"R\",\"models\":[{\"name\":\"R\","
        "\"fields\":[{\"name\":\"r\",\"type\":\"list<u8>\",\"max_items\":3,\"each\":"
        "{\"min\":0,\"max\":2}}]}]}");
    bk_free(doc);
    bk_model_unref(m);
    /* min and exclusive_min in one field object are ambiguous */
    const char *both = "{\"bk_model\":1,\"root\":\"R\",\"models\":[{\"name\":\"R\",\"fields\":["
        "{\"name\":\"r\",\"type\":\"i8\",\"max\":1,\"exclusive_max\":2}]}]}";
    FAILS(BK_EMODEL, "model R, field r", "both set one bound",
        bk_model_from_doc(&m, both, strlen(both), E));
}

static void c_constraints_round_trip_through_documents(void **state)
{
    (void)state;
    bk_model *m = build(&CHECKED_DEF);
    assert_round_trip(m);
    char *doc = doc_of(m, false);
    assert_contains(doc, "\"validator\":\"checked_ok\",\"fields\":[");
    assert_contains(doc, "{\"name\":\"flag\",\"type\":\"bool\",\"const\":true}");
    assert_contains(doc, "{\"name\":\"i16\",\"type\":\"i16\",\"exclusive_min\":-100,"
        "\"exclusive_max\":100,\"multiple_of\":2}");
    assert_contains(doc, "{\"name\":\"i32\",\"type\":\"i32\",\"min\":0,\"messages\":"
        "{\"below_min\":\"no negatives\"}}");
    assert_contains(doc, "{\"name\":\"u16\",\"type\":\"u16\",\"multiple_of\":0.5}");
    assert_contains(doc, "{\"name\":\"u64\",\"type\":\"u64\",\"max\":1e19}");
    assert_contains(doc, "{\"name\":\"f64\",\"type\":\"f64\",\"exclusive_min\":0,"
        "\"exclusive_max\":1,\"multiple_of\":0.10000000000000001}");
    assert_contains(doc, "{\"name\":\"s\",\"type\":\"str\",\"min_len\":1,\"max_len\":10,"
        "\"pattern\":\"^[a-z.]+$\",\"format\":\"hostname\"}");
    assert_contains(doc, "{\"name\":\"role\",\"type\":\"Checked_role\",\"one_of\":[\"admin\","
        "\"member\"]}");
    assert_contains(doc, "{\"name\":\"addr\",\"type\":\"Address\",\"const\":{\"street\":\"a\","
        "\"city\":\"b\"}}");
    assert_contains(doc, "{\"name\":\"node\",\"type\":\"ptr<Node>\",\"validator\":\"node_ok\"}");
    assert_contains(doc, "{\"name\":\"tags\",\"type\":\"list<str>\",\"min_items\":1,"
        "\"max_items\":5,\"unique_items\":true,\"each\":{\"max_len\":8,\"pattern\":\"^[a-z]+$\","
        "\"messages\":{\"pattern\":\"lowercase only\"}}}");
    assert_contains(doc, "{\"name\":\"counts\",\"type\":\"map<i64>\",\"default_zero\":true,"
        "\"max_items\":3,\"each\":{\"min\":0}}");
    assert_contains(doc, "{\"name\":\"any\",\"type\":\"json\",\"one_of\":[1,\"a\",null,"
        "{\"k\":[true]}]}");
    assert_contains(doc, "{\"name\":\"nick\",\"type\":\"str\",\"optional\":true,\"min_len\":3}");
    /* the loaded copy validates the same way (without the functions) */
    bk_model *rt = from_doc(doc);
    assert_true(rt->has_checks);
    bk_error *err = NULL;
    assert_int_equal(decode_checked(rt, CHECKED_JSON, &err), BK_OK);
    char *json = checked_with("tags", "[\"A\"]");
    assert_int_equal(decode_checked(rt, json, &err), BK_EVALIDATION);
    bk_assert_problem(err, "$.tags[0]", "pattern");
    assert_string_equal(bk_error_problem_message(err, 0), "lowercase only");
    bk_error_free(err);
    free(json);
    bk_free(doc);
    bk_model_unref(rt);
    bk_model_unref(m);
}

/* ---- allocation failures ---------------------------------------------------------- */

static long g_fail_at = -1;
static long g_allocs;

static void *failing_malloc(size_t n)
{
    if (g_fail_at >= 0 && g_allocs++ == g_fail_at)
        return NULL;
    return malloc(n);
}

static void *failing_realloc(void *p, size_t n)
{
    if (g_fail_at >= 0 && g_allocs++ == g_fail_at)
        return NULL;
    return realloc(p, n);
}

/* One operation under test: returns its status, releases what it made. */
static bk_status op_model_new(void)
{
    bk_model *m = NULL;
    bk_error *err = NULL;
    bk_status st = bk_model_new(&m, &EVERYTHING_DEF, &err);
    if (st != BK_OK) {
        assert_null(m);
        assert_int_equal(bk_error_code(err), st);
    }
    bk_error_free(err);
    bk_model_unref(m);
    return st;
}

static bk_status op_doc_round_trip(void)
{
    bk_model *m = NULL, *m2 = NULL;
    bk_error *err = NULL;
    char *doc = NULL;
    bk_status st = bk_model_from_doc(&m, CANONICAL, strlen(CANONICAL), &err);
    if (st == BK_OK)
        st = bk_model_to_doc(&doc, NULL, m, true, &err);
    if (st == BK_OK)
        st = bk_model_from_doc(&m2, doc, strlen(doc), &err);
    if (st != BK_OK)
        assert_int_equal(bk_error_code(err), st);
    bk_error_free(err);
    bk_free(doc);
    bk_model_unref(m);
    bk_model_unref(m2);
    return st;
}

static bk_status op_builder_use(void)
{
    bk_model *user = NULL, *m = NULL;
    bk_builder *b = NULL;
    bk_error *err = NULL;
    bk_status st = bk_model_new(&user, &USER_DEF, &err);
    if (st == BK_OK)
        st = bk_builder_new(&b, &err);
    if (st == BK_OK)
        st = bk_builder_use(b, user, &err);
    if (st == BK_OK)
        st = bk_builder_model(b, "Team", &err);
    if (st == BK_OK)
        st = bk_builder_field(b, "lead", "User", &err);
    if (st == BK_OK)
        st = bk_builder_field_attr(b, "aliases", "[\"boss\"]", &err);
    if (st == BK_OK)
        st = bk_builder_enum(b, "Size", (const char *const[]){ "s", "m" }, 2, &err);
    if (st == BK_OK)
        st = bk_builder_field(b, "size", "list<Size>", &err);
    if (st == BK_OK)
        st = bk_builder_build(&m, b, "Team", &err);
    if (st != BK_OK)
        assert_int_equal(bk_error_code(err), st);
    bk_error_free(err);
    bk_builder_free(b);
    bk_model_unref(m);
    bk_model_unref(user);
    return st;
}

static bk_status op_checked_model_new(void)
{
    bk_model *m = NULL;
    bk_error *err = NULL;
    bk_status st = bk_model_new(&m, &CHECKED_DEF, &err);
    if (st != BK_OK) {
        assert_null(m);
        assert_int_equal(bk_error_code(err), st);
    }
    bk_error_free(err);
    bk_model_unref(m);
    return st;
}

static bk_status op_checks_doc_round_trip(void)
{
    bk_model *m = NULL, *m2 = NULL;
    bk_error *err = NULL;
    char *doc = NULL;
    bk_status st = bk_model_from_doc(&m, CANONICAL_CHECKS, strlen(CANONICAL_CHECKS), &err);
    if (st == BK_OK)
        st = bk_model_to_doc(&doc, NULL, m, false, &err);
    if (st == BK_OK)
        st = bk_model_from_doc(&m2, doc, strlen(doc), &err);
    if (st == BK_OK)
        assert_string_equal(doc, CANONICAL_CHECKS);
    if (st != BK_OK)
        assert_int_equal(bk_error_code(err), st);
    bk_error_free(err);
    bk_free(doc);
    bk_model_unref(m);
    bk_model_unref(m2);
    return st;
}

static bk_status op_builder_checks(void)
{
    bk_builder *b = NULL;
    bk_model *m = NULL;
    bk_error *err = NULL;
    bk_status st = bk_builder_new(&b, &err);
    if (st == BK_OK)
        st = bk_builder_model(b, "P", &err);
    if (st == BK_OK)
        st = bk_builder_model_validator(b, model_stop, NULL, "stopper", &err);
    if (st == BK_OK)
        st = bk_builder_field(b, "tags", "list<str>", &err);
    if (st == BK_OK)
        st = bk_builder_field_attr(b, "each", "{\"pattern\":\"^a\",\"one_of\":[\"a\"],"
            "\"messages\":{\"pattern\":\"p\",\"not_one_of\":\"o\"}}", &err);
    if (st == BK_OK)
        st = bk_builder_field_attr(b, "messages", "{\"unique\":\"u\"}", &err);
    if (st == BK_OK)
        st = bk_builder_field_attr(b, "const", "[\"a\"]", &err);
    if (st == BK_OK)
        st = bk_builder_field_validator(b, field_even, NULL, "even", &err);
    if (st == BK_OK)
        st = bk_builder_build(&m, b, "P", &err);
    if (st != BK_OK)
        assert_int_equal(bk_error_code(err), st);
    bk_error_free(err);
    bk_builder_free(b);
    bk_model_unref(m);
    return st;
}

static void sweep(bk_status (*op)(void))
{
    assert_int_equal(bk_set_allocator(failing_malloc, failing_realloc, free), BK_OK);
    long n;
    for (n = 0;; n++) {
        g_fail_at = n;
        g_allocs = 0;
        bk_status st = op();
        if (st == BK_OK)
            break;
        assert_int_equal(st, BK_ENOMEM);
        assert_true(n < 100000);
    }
    g_fail_at = -1;
    assert_int_equal(bk_set_allocator(NULL, NULL, NULL), BK_OK);
    assert_true(n > 10);
}

static void allocation_failures_are_clean(void **state)
{
    (void)state;
    sweep(op_model_new);
    sweep(op_doc_round_trip);
    sweep(op_builder_use);
    sweep(op_checked_model_new);
    sweep(op_checks_doc_round_trip);
    sweep(op_builder_checks);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(design_user_builds_with_names_kinds_and_view),
        cmocka_unit_test(shared_sub_defs_and_enum_arrays_are_built_once),
        cmocka_unit_test(recursive_pointer_model_builds_decodes_and_frees),
        cmocka_unit_test(references_are_atomic),
        cmocka_unit_test(rename_all_follows_serde_for_every_case),
        cmocka_unit_test(every_invalid_descriptor_is_emodel_naming_the_field),
        cmocka_unit_test(flatten_collision_names_both_fields),
        cmocka_unit_test(invalid_models_and_unions_are_emodel),
        cmocka_unit_test(builder_lays_out_like_a_c_compiler),
        cmocka_unit_test(builder_embeds_models_and_unions),
        cmocka_unit_test(builder_rejects_bad_definitions),
        cmocka_unit_test(builder_handles_are_misuse_safe),
        cmocka_unit_test(builder_uses_built_models_and_keeps_their_layout),
        cmocka_unit_test(canonical_document_reads_and_writes_back_exactly),
        cmocka_unit_test(c_models_round_trip_through_documents),
        cmocka_unit_test(builder_models_round_trip_through_documents),
        cmocka_unit_test(bad_documents_are_rejected_with_where),
        cmocka_unit_test(self_referencing_defaults_are_rejected),
        cmocka_unit_test(duplicate_definition_names_are_rejected),
        cmocka_unit_test(long_chains_are_handled),
        cmocka_unit_test(model_functions_are_null_and_misuse_safe),
        cmocka_unit_test(defaults_beyond_jansson_are_unsupported_in_documents),
        cmocka_unit_test(constraints_are_compiled_on_every_kind),
        cmocka_unit_test(has_checks_follows_every_reference),
        cmocka_unit_test(builder_sets_constraints_and_validators),
        cmocka_unit_test(bad_constraints_are_rejected_where_declared),
        cmocka_unit_test(bad_c_constraints_are_emodel),
        cmocka_unit_test(constraints_read_and_write_back_exactly),
        cmocka_unit_test(c_constraints_round_trip_through_documents),
        cmocka_unit_test(allocation_failures_are_clean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
