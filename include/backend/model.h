/**
 * @file backend/model.h
 * @brief Typed models: declared once, bound to a C struct or built at run
 * time, shared as a model description document.
 *
 * A model is built from one of three sources, all producing the same
 * immutable ::bk_model:
 *  1. static descriptors bound to a C struct (::bk_field arrays written with
 *     the BK_FIELD family of macros, gathered by a ::bk_model_def), built
 *     with bk_model_new(); the macros check member names and C types at
 *     compile time;
 *  2. the run-time builder (bk_builder_new() ...), for bindings and for hosts
 *     without structs: the library lays out the record itself;
 *  3. a model description document (JSON, see docs/models.md), loaded with
 *     bk_model_from_doc() and written back by bk_model_to_doc().
 *
 * A built model is immutable and reference counted (bk_model_ref(),
 * bk_model_unref()); it may be shared by any number of threads.
 *
 * The descriptor structs in this header are *transparent* and compiled
 * into the host: members are only ever appended, and the macros record the
 * descriptor version so the library knows which members a host filled.
 */
#ifndef BK_MODEL_H
#define BK_MODEL_H

#include <stddef.h>
#include <jansson.h>
#include "common.h"
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The kind of a field or element: what it is in JSON and in C. */
typedef enum bk_kind {
    BK_KIND_NONE = 0, /**< no kind (unit variants, unset element kinds) */
    BK_BOOL,      /**< JSON true/false; C `bool` */
    BK_I8,        /**< JSON integer; C `int8_t` */
    BK_I16,       /**< JSON integer; C `int16_t` */
    BK_I32,       /**< JSON integer; C `int32_t` */
    BK_I64,       /**< JSON integer; C `int64_t` */
    BK_U8,        /**< JSON integer; C `uint8_t` */
    BK_U16,       /**< JSON integer; C `uint16_t` */
    BK_U32,       /**< JSON integer; C `uint32_t` */
    BK_U64,       /**< JSON integer; C `uint64_t` */
    BK_F32,       /**< JSON number; C `float` (finite only) */
    BK_F64,       /**< JSON number; C `double` (finite only) */
    BK_STR,       /**< JSON string; C `char *`, NUL-terminated valid UTF-8 */
    BK_BYTES,     /**< JSON string, standard base64 with padding; C ::bk_bytes */
    BK_TIMESTAMP, /**< JSON RFC 3339 string; C `int64_t` microseconds since 1970-01-01T00:00:00Z */
    BK_DATE,      /**< JSON "YYYY-MM-DD"; C `int32_t` days since 1970-01-01 */
    BK_UUID,      /**< JSON "8-4-4-4-12" hex string; C ::bk_uuid */
    BK_ENUM,      /**< JSON string from a name table; C `int` (or a C enum of int size) holding the index */
    BK_MODEL,     /**< JSON object; C embedded struct of the nested model */
    BK_MODEL_PTR, /**< JSON object; C pointer to a struct allocated by the library (NULL when absent or null) */
    BK_LIST,      /**< JSON array; C list struct (::bk_list or a typed one such as ::bk_strs) */
    BK_MAP,       /**< JSON object with any keys; C ::bk_map */
    BK_JSON,      /**< any JSON value; C `json_t *` (a reference owned by the struct) */
    BK_UNION      /**< tagged union (sum type); C struct described by a ::bk_union_def */
} bk_kind;

/** Presence of an optional field: absent, explicitly null, or set. */
typedef unsigned char bk_presence;
#define BK_ABSENT  ((bk_presence)0) /**< the key was not in the document */
#define BK_NULL    ((bk_presence)1) /**< the key was present with `null` */
#define BK_PRESENT ((bk_presence)2) /**< the key was present with a value */

/** Bytes: a pointer and a length. */
typedef struct bk_bytes { unsigned char *data; size_t len; } bk_bytes;
/** A UUID: 16 bytes in network order. */
typedef struct bk_uuid { unsigned char bytes[16]; } bk_uuid;

/** Typed lists: `items` points to `len` elements. */
typedef struct bk_bools { bool *items; size_t len; } bk_bools;
typedef struct bk_i8s  { int8_t *items; size_t len; } bk_i8s;
typedef struct bk_i16s { int16_t *items; size_t len; } bk_i16s;
typedef struct bk_i32s { int32_t *items; size_t len; } bk_i32s;  /**< also lists of BK_DATE */
typedef struct bk_i64s { int64_t *items; size_t len; } bk_i64s;  /**< also lists of BK_TIMESTAMP */
typedef struct bk_u8s  { uint8_t *items; size_t len; } bk_u8s;
typedef struct bk_u16s { uint16_t *items; size_t len; } bk_u16s;
typedef struct bk_u32s { uint32_t *items; size_t len; } bk_u32s;
typedef struct bk_u64s { uint64_t *items; size_t len; } bk_u64s;
typedef struct bk_f32s { float *items; size_t len; } bk_f32s;
typedef struct bk_f64s { double *items; size_t len; } bk_f64s;
typedef struct bk_strs { char **items; size_t len; } bk_strs;
typedef struct bk_bytes_list { bk_bytes *items; size_t len; } bk_bytes_list;
typedef struct bk_uuids { bk_uuid *items; size_t len; } bk_uuids;
typedef struct bk_ints { int *items; size_t len; } bk_ints;       /**< lists of BK_ENUM */
typedef struct bk_jsons { json_t **items; size_t len; } bk_jsons;
/** A list of any element kind (models, lists, maps, unions...). */
typedef struct bk_list { void *items; size_t len; } bk_list;
/** A map from string keys to values of one kind; insertion order kept. */
typedef struct bk_map { char **keys; void *values; size_t len; } bk_map;

/** How absent/empty/default fields are left out when encoding. */
typedef enum bk_skip_if {
    BK_SKIP_NEVER = 0,   /**< always written (absent optionals are still left out) */
    BK_SKIP_IF_ABSENT,   /**< optional field absent or null, or NULL pointer: left out */
    BK_SKIP_IF_EMPTY,    /**< also "", empty bytes, empty list/map */
    BK_SKIP_IF_DEFAULT   /**< value equal to the field's default (or zero value) */
} bk_skip_if;

/** serde's rename_all cases. */
typedef enum bk_case {
    BK_CASE_NONE = 0,
    BK_CASE_LOWER,           /**< "lowercase" */
    BK_CASE_UPPER,           /**< "UPPERCASE" */
    BK_CASE_PASCAL,          /**< "PascalCase" */
    BK_CASE_CAMEL,           /**< "camelCase" */
    BK_CASE_SNAKE,           /**< "snake_case" */
    BK_CASE_SCREAMING_SNAKE, /**< "SCREAMING_SNAKE_CASE" */
    BK_CASE_KEBAB,           /**< "kebab-case" */
    BK_CASE_SCREAMING_KEBAB  /**< "SCREAMING-KEBAB-CASE" */
} bk_case;

/** serde's four representations of a tagged union. */
typedef enum bk_tagging {
    BK_TAG_EXTERNAL = 0, /**< `{"variant": payload}`; unit variants as `"variant"` */
    BK_TAG_INTERNAL,     /**< `{"type": "variant", ...payload fields}` (payload must be a model or unit) */
    BK_TAG_ADJACENT,     /**< `{"t": "variant", "c": payload}` */
    BK_UNTAGGED          /**< payload alone; the first variant that decodes wins */
} bk_tagging;

struct bk_model_def;
struct bk_union_def;

/**
 * Describes a type that is not a plain kind: the element of a list or map,
 * the payload of a union variant. Static and transparent.
 */
typedef struct bk_type_def {
    bk_kind kind;                          /**< the kind */
    bk_kind elem_kind;                     /**< BK_LIST/BK_MAP of a plain kind */
    const struct bk_type_def *elem;        /**< BK_LIST/BK_MAP of a described type */
    const struct bk_model_def *model;      /**< BK_MODEL/BK_MODEL_PTR, or element model */
    const char *const *enum_names;         /**< BK_ENUM (or enum elements): NULL-terminated */
    const struct bk_union_def *union_def;  /**< BK_UNION (or union elements) */
} bk_type_def;

/** String formats checked by ::bk_check.format (see docs/validation.md). */
typedef enum bk_format {
    BK_FORMAT_NONE = 0,
    BK_FORMAT_EMAIL,     /**< addr-spec: local@domain (RFC 5321 dot-atom; no quoted local parts) */
    BK_FORMAT_URI,       /**< absolute URI (RFC 3986): scheme ":" hier-part */
    BK_FORMAT_UUID,      /**< 8-4-4-4-12 hex */
    BK_FORMAT_HOSTNAME,  /**< RFC 1123 host name, labels of 1..63, total <= 253 */
    BK_FORMAT_IPV4,      /**< dotted quad, no leading zeros */
    BK_FORMAT_IPV6,      /**< RFC 4291 text forms, including :: and an IPv4 tail */
    BK_FORMAT_DATE_TIME, /**< RFC 3339 date-time */
    BK_FORMAT_DATE,      /**< RFC 3339 full-date */
    BK_FORMAT_TIME       /**< RFC 3339 full-time (with offset) */
} bk_format;

/**
 * Declarative constraints on a value (see docs/validation.md). Write them
 * with the BK_MIN(), BK_MAX_LEN(), ... macros inside a field macro; each
 * `has_` flag says whether its bound is set. Numbers compare as doubles
 * (integer bounds are exact up to 2^53). Lengths count Unicode code points.
 */
typedef struct bk_check {
    bool has_min, has_max;        /**< numeric bounds set */
    bool min_exclusive, max_exclusive;
    double min, max;              /**< numeric bounds */
    bool has_multiple_of;
    double multiple_of;           /**< value / multiple_of is an integer */
    bool has_min_len, has_max_len;
    size_t min_len, max_len;      /**< string length in code points; bytes length for BK_BYTES */
    bool has_min_items, has_max_items;
    size_t min_items, max_items;  /**< list items or map entries */
    bool unique_items;            /**< list items pairwise different */
    const char *pattern;          /**< regular expression (docs/validation.md#patterns), searched */
    bk_format format;             /**< a string format */
    const char *one_of;           /**< JSON array of the allowed values */
    const char *const_value;      /**< JSON of the only allowed value */
    const char *const *messages;  /**< message overrides: code, message, ..., NULL */
} bk_check;

/** A report that custom validators add problems to (opaque). */
typedef struct bk_report bk_report;

/**
 * A custom validator: check the value at @p value (a field's C value, or a
 * whole struct for a model validator) and report each problem with
 * bk_report_problem(). Return 0 to go on, non-zero to stop validating (the
 * validation then fails with BK_EUSER unless problems were reported).
 * Called from the validating thread; must not call back into the same
 * validation.
 */
typedef int (*bk_validate_fn)(const void *value, bk_report *report, void *payload);

/**
 * @brief Report a problem from a custom validator. @p path_suffix (may be
 * NULL) is appended to the path of the value being validated (`"end"` gives
 * `$.event.end`); @p code is reported as `custom:<code>`; @p params_json is
 * a JSON object with the parameters (may be NULL).
 * @retval BK_OK, BK_EINVAL (NULL report/code/message), BK_ENOMEM. @since 0.1
 */
BK_EXTERN(bk_status) bk_report_problem(bk_report *report, const char *path_suffix,
    const char *code, const char *message, const char *params_json);

/** Version of ::bk_field that the macros fill in. */
#define BK_FIELD_VERSION 1

/**
 * A field descriptor bound to a struct member. Write these with the
 * BK_FIELD family of macros, which fill `version`, `name`, `kind`,
 * `offset`, `size` and check the member's C type; attributes are passed as
 * designated initialisers after the kind: `.rename = "userName"`.
 */
typedef struct bk_field {
    unsigned int version;                  /**< ::BK_FIELD_VERSION */
    const char *name;                      /**< the C member name */
    bk_kind kind;                          /**< the kind */
    size_t offset;                         /**< offsetof the member */
    size_t size;                           /**< sizeof the member */
    bk_kind elem_kind;                     /**< BK_LIST/BK_MAP of a plain kind */
    const bk_type_def *elem;               /**< BK_LIST/BK_MAP of a described type */
    const struct bk_model_def *model;      /**< nested model (BK_MODEL, BK_MODEL_PTR, or elements) */
    const char *const *enum_names;         /**< enum names, NULL-terminated */
    const struct bk_union_def *union_def;  /**< union description */
    bool optional;                         /**< tracks presence (see BK_PRESENCE()) */
    size_t presence_offset;                /**< offsetof the ::bk_presence member */
    const char *rename;                    /**< JSON name instead of the member name */
    const char *const *aliases;            /**< more accepted input names, NULL-terminated */
    const char *default_json;              /**< JSON literal used when the key is absent */
    bool default_zero;                     /**< absent key leaves the zero value (serde `default`) */
    bool skip;                             /**< never read nor written */
    bk_skip_if skip_if;                    /**< when to leave the field out on encode */
    bool flatten;                          /**< BK_MODEL only: its fields appear in the parent object */
    bool primary_key;                      /**< storage: primary key */
    bool auto_id;                          /**< storage: key generated by the store */
    bool unique;                           /**< storage: unique column */
    bool index;                            /**< storage: indexed column */
    bk_check check;                        /**< constraints on the value */
    const bk_check *elem_check;            /**< constraints on each list item / map value */
    bk_validate_fn validate;               /**< custom validator of the value (or NULL) */
    void *validate_payload;                /**< passed to validate */
    const char *validate_name;             /**< name of the custom validator (for documents) */
    bool row_version;                      /**< storage: optimistic-locking version (an integer) */
} bk_field;

/** Version of ::bk_model_def that BK_MODEL_DEF fills in. */
#define BK_MODEL_DEF_VERSION 1

/** A model bound to a C struct: its name, size and fields. */
typedef struct bk_model_def {
    unsigned int version;        /**< ::BK_MODEL_DEF_VERSION */
    const char *name;            /**< model name (the struct's name by default) */
    size_t size;                 /**< sizeof the struct */
    size_t align;                /**< alignof the struct */
    const bk_field *fields;      /**< the fields */
    size_t nfields;              /**< how many */
    bk_case rename_all;          /**< case applied to member names (not to `rename`) */
    bool deny_unknown;           /**< unknown keys are errors (otherwise ignored) */
    bk_validate_fn validate;     /**< custom validator of the whole struct (cross-field rules) */
    void *validate_payload;      /**< passed to validate */
    const char *validate_name;   /**< name of the custom validator (for documents) */
} bk_model_def;

/** One variant of a union. */
typedef struct bk_variant {
    const char *name;            /**< the tag value in JSON */
    size_t offset;               /**< offset of the payload inside the union struct */
    const bk_type_def *type;     /**< payload type; NULL for a unit variant */
} bk_variant;

/** Version of ::bk_union_def that BK_UNION_DEF fills in. */
#define BK_UNION_DEF_VERSION 1

/**
 * A tagged union bound to a C struct holding an `int` tag (the variant's
 * index) and the payloads (usually in a C union).
 */
typedef struct bk_union_def {
    unsigned int version;        /**< ::BK_UNION_DEF_VERSION */
    const char *name;            /**< union name */
    size_t size;                 /**< sizeof the struct */
    size_t align;                /**< alignof the struct */
    size_t tag_offset;           /**< offsetof the int tag member */
    const bk_variant *variants;  /**< the variants */
    size_t nvariants;            /**< how many */
    bk_tagging tagging;          /**< representation in JSON */
    const char *tag;             /**< tag key (internal, adjacent); default "type" */
    const char *content;         /**< content key (adjacent); default "content" */
} bk_union_def;

/* ---- descriptor macros -------------------------------------------------- */

/** @cond INTERNAL */
#define BK__ASSERT(cond, msg) (0 * sizeof(struct { int bk__x; _Static_assert(cond, msg); }))
#define BK__IS(T, m, CT) _Generic(((T *)0)->m, CT: 1, default: 0)
#define BK__CT_BK_BOOL bool
#define BK__CT_BK_I8 int8_t
#define BK__CT_BK_I16 int16_t
#define BK__CT_BK_I32 int32_t
#define BK__CT_BK_I64 int64_t
#define BK__CT_BK_U8 uint8_t
#define BK__CT_BK_U16 uint16_t
#define BK__CT_BK_U32 uint32_t
#define BK__CT_BK_U64 uint64_t
#define BK__CT_BK_F32 float
#define BK__CT_BK_F64 double
#define BK__CT_BK_STR char *
#define BK__CT_BK_BYTES bk_bytes
#define BK__CT_BK_TIMESTAMP int64_t
#define BK__CT_BK_DATE int32_t
#define BK__CT_BK_UUID bk_uuid
#define BK__CT_BK_JSON json_t *
#define BK__LT_BK_BOOL bk_bools
#define BK__LT_BK_I8 bk_i8s
#define BK__LT_BK_I16 bk_i16s
#define BK__LT_BK_I32 bk_i32s
#define BK__LT_BK_I64 bk_i64s
#define BK__LT_BK_U8 bk_u8s
#define BK__LT_BK_U16 bk_u16s
#define BK__LT_BK_U32 bk_u32s
#define BK__LT_BK_U64 bk_u64s
#define BK__LT_BK_F32 bk_f32s
#define BK__LT_BK_F64 bk_f64s
#define BK__LT_BK_STR bk_strs
#define BK__LT_BK_BYTES bk_bytes_list
#define BK__LT_BK_TIMESTAMP bk_i64s
#define BK__LT_BK_DATE bk_i32s
#define BK__LT_BK_UUID bk_uuids
#define BK__LT_BK_JSON bk_jsons
#define BK__BASE(T, m) .version = BK_FIELD_VERSION, .name = #m, .size = sizeof(((T *)0)->m)
#define BK__HEAD(...) BK__HEAD_(__VA_ARGS__, ~)
#define BK__HEAD_(a, ...) a
#define BK__CAT(a, b) BK__CAT_(a, b)
#define BK__CAT_(a, b) a##b
/** @endcond */

/*
 * Each macro's first variadic argument is its last mandatory one (the kind,
 * the names, the definition); attributes follow it as designated
 * initialisers. (C11 without extensions forbids an empty "...", so the
 * mandatory argument travels inside it.)
 */

/**
 * A field of a plain kind: BK_BOOL, BK_I8..BK_U64, BK_F32, BK_F64, BK_STR,
 * BK_BYTES, BK_TIMESTAMP, BK_DATE, BK_UUID, BK_JSON. The member's C type
 * must be the kind's C type exactly, or compilation fails.
 * Usage: `BK_FIELD(User, age, BK_I32, .rename = "years")`.
 */
#define BK_FIELD(T, m, ...) { BK__BASE(T, m), \
    .offset = offsetof(T, m) + BK__ASSERT(BK__IS(T, m, BK__CAT(BK__CT_, BK__HEAD(__VA_ARGS__))), \
        "bk: member " #m " of " #T " does not have the C type of its kind"), .kind = __VA_ARGS__ }

/** An enum field: `BK_ENUM(T, m, NAMES, attrs...)`; `NAMES` is a
 * NULL-terminated array of the JSON names; the member holds the index (an
 * int, or a C enum of the same size). */
#define BK_ENUM(T, m, ...) { BK__BASE(T, m), .kind = BK_ENUM, \
    .offset = offsetof(T, m) + BK__ASSERT(sizeof(((T *)0)->m) == sizeof(int), \
        "bk: enum member " #m " of " #T " must be int-sized"), .enum_names = __VA_ARGS__ }

/** A nested model embedded as a struct of type `SubT`:
 * `BK_NESTED(T, m, SubT, &SUB_DEF, attrs...)`. */
#define BK_NESTED(T, m, SubT, ...) { BK__BASE(T, m), .kind = BK_MODEL, \
    .offset = offsetof(T, m) + BK__ASSERT(BK__IS(T, m, SubT), \
        "bk: member " #m " of " #T " is not a " #SubT), .model = __VA_ARGS__ }

/** A nested model held by pointer (`SubT *`), allocated by the decoder;
 * NULL means absent or null. Allows recursive models.
 * `BK_NESTED_PTR(T, m, SubT, &SUB_DEF, attrs...)`. */
#define BK_NESTED_PTR(T, m, SubT, ...) { BK__BASE(T, m), .kind = BK_MODEL_PTR, \
    .offset = offsetof(T, m) + BK__ASSERT(BK__IS(T, m, SubT *), \
        "bk: member " #m " of " #T " is not a " #SubT " *"), .model = __VA_ARGS__ }

/** A list of a plain kind, held in the typed list struct of that kind
 * (BK_STR -> ::bk_strs, BK_I32 -> ::bk_i32s, BK_TIMESTAMP -> ::bk_i64s ...):
 * `BK_LIST(T, m, BK_STR, attrs...)`. */
#define BK_LIST(T, m, ...) { BK__BASE(T, m), .kind = BK_LIST, \
    .offset = offsetof(T, m) + BK__ASSERT(BK__IS(T, m, BK__CAT(BK__LT_, BK__HEAD(__VA_ARGS__))), \
        "bk: member " #m " of " #T " is not the list type of its element kind"), \
    .elem_kind = __VA_ARGS__ }

/** A list of enum values, held in ::bk_ints: `BK_LIST_ENUM(T, m, NAMES, attrs...)`. */
#define BK_LIST_ENUM(T, m, ...) { BK__BASE(T, m), .kind = BK_LIST, .elem_kind = BK_ENUM, \
    .offset = offsetof(T, m) + BK__ASSERT(BK__IS(T, m, bk_ints), \
        "bk: member " #m " of " #T " is not a bk_ints"), .enum_names = __VA_ARGS__ }

/** A list of embedded models, held in ::bk_list (items is a `SubT *`):
 * `BK_LIST_MODEL(T, m, &SUB_DEF, attrs...)`. */
#define BK_LIST_MODEL(T, m, ...) { BK__BASE(T, m), .kind = BK_LIST, .elem_kind = BK_MODEL, \
    .offset = offsetof(T, m) + BK__ASSERT(BK__IS(T, m, bk_list), \
        "bk: member " #m " of " #T " is not a bk_list"), .model = __VA_ARGS__ }

/** A list whose element is described by a `const bk_type_def *`, held in
 * ::bk_list: `BK_LIST_OF(T, m, &ELEM_TYPE, attrs...)`. */
#define BK_LIST_OF(T, m, ...) { BK__BASE(T, m), .kind = BK_LIST, \
    .offset = offsetof(T, m) + BK__ASSERT(BK__IS(T, m, bk_list), \
        "bk: member " #m " of " #T " is not a bk_list"), .elem = __VA_ARGS__ }

/** A map from strings to a plain kind, held in ::bk_map (values is an
 * array of the kind's C type): `BK_MAP(T, m, BK_I64, attrs...)`. */
#define BK_MAP(T, m, ...) { BK__BASE(T, m), .kind = BK_MAP, \
    .offset = offsetof(T, m) + BK__ASSERT(BK__IS(T, m, bk_map), \
        "bk: member " #m " of " #T " is not a bk_map"), .elem_kind = __VA_ARGS__ }

/** A map whose values are described by a `const bk_type_def *`, held in
 * ::bk_map: `BK_MAP_OF(T, m, &VALUE_TYPE, attrs...)`. */
#define BK_MAP_OF(T, m, ...) { BK__BASE(T, m), .kind = BK_MAP, \
    .offset = offsetof(T, m) + BK__ASSERT(BK__IS(T, m, bk_map), \
        "bk: member " #m " of " #T " is not a bk_map"), .elem = __VA_ARGS__ }

/** A tagged union: `BK_UNION(T, m, &UNION_DEF, attrs...)`; the member's
 * size is checked against the definition when the model is built. */
#define BK_UNION(T, m, ...) { BK__BASE(T, m), .kind = BK_UNION, \
    .offset = offsetof(T, m), .union_def = __VA_ARGS__ }

/** Attribute: make a field optional with presence tracked in member `pm`
 * (a ::bk_presence). Use inside a field macro:
 * `BK_FIELD(User, nick, BK_STR, BK_PRESENCE(User, nick_state))`. */
#define BK_PRESENCE(T, pm) .optional = true, \
    .presence_offset = offsetof(T, pm) + BK__ASSERT(BK__IS(T, pm, bk_presence), \
        "bk: presence member " #pm " of " #T " is not a bk_presence")

/* Constraint attributes, for use inside the field macros:
 * `BK_FIELD(User, age, BK_I32, BK_MIN(0), BK_MAX(150))`. */
/** Inclusive lower bound. */
#define BK_MIN(v) .check.has_min = true, .check.min = (v)
/** Inclusive upper bound. */
#define BK_MAX(v) .check.has_max = true, .check.max = (v)
/** Exclusive lower bound (value > v). */
#define BK_GT(v) .check.has_min = true, .check.min_exclusive = true, .check.min = (v)
/** Exclusive upper bound (value < v). */
#define BK_LT(v) .check.has_max = true, .check.max_exclusive = true, .check.max = (v)
/** value / v is an integer. */
#define BK_MULTIPLE_OF(v) .check.has_multiple_of = true, .check.multiple_of = (v)
/** At least n code points. */
#define BK_MIN_LEN(n) .check.has_min_len = true, .check.min_len = (n)
/** At most n code points. */
#define BK_MAX_LEN(n) .check.has_max_len = true, .check.max_len = (n)
/** At least n list items / map entries. */
#define BK_MIN_ITEMS(n) .check.has_min_items = true, .check.min_items = (n)
/** At most n list items / map entries. */
#define BK_MAX_ITEMS(n) .check.has_max_items = true, .check.max_items = (n)
/** List items pairwise different. */
#define BK_UNIQUE_ITEMS .check.unique_items = true
/** Regular expression the string must contain a match of (anchor with ^...$). */
#define BK_PATTERN(re) .check.pattern = (re)
/** A string format (BK_FORMAT_EMAIL ...). */
#define BK_FORMAT(f) .check.format = (f)
/** Allowed values, as a JSON array: `BK_ONE_OF("[\"a\", \"b\"]")`. */
#define BK_ONE_OF(json) .check.one_of = (json)
/** The only allowed value, as JSON. */
#define BK_CONST(json) .check.const_value = (json)
/** Message overrides: `BK_MESSAGES("too_long", "Name is too long")`. */
#define BK_MESSAGES(...) .check.messages = (const char *const[]){ __VA_ARGS__, NULL }
/** Constraints on each element of a list or value of a map:
 * `BK_EACH(BK_MAX_LEN(20), BK_PATTERN("^[a-z]+$"))`. */
#define BK_EACH(...) .elem_check = &((const bk_field){ __VA_ARGS__ }).check
/** A custom validator with its name and payload. */
#define BK_VALIDATE(fn, name, payload) .validate = (fn), .validate_name = (name), \
    .validate_payload = (payload)

/** A model definition for struct `T` with a field array:
 * `BK_MODEL_DEF(T, FIELDS, .rename_all = BK_CASE_CAMEL, .deny_unknown = true)`. */
#define BK_MODEL_DEF(T, ...) { .version = BK_MODEL_DEF_VERSION, .name = #T, \
    .size = sizeof(T), .align = _Alignof(T), \
    .nfields = sizeof(BK__HEAD(__VA_ARGS__)) / sizeof((BK__HEAD(__VA_ARGS__))[0]), \
    .fields = __VA_ARGS__ }

/** A variant whose payload is member `m` of union struct `T`, of type
 * `TYPE` (a `const bk_type_def *`). */
#define BK_VARIANT(T, m, NAME, TYPE) { (NAME), offsetof(T, m), (TYPE) }
/** A unit variant (no payload). */
#define BK_VARIANT_UNIT(NAME) { (NAME), 0, NULL }

/** A union definition for struct `T` whose `int` member `tagm` holds the
 * variant index: `BK_UNION_DEF(T, tagm, VARIANTS, .tagging = BK_TAG_INTERNAL)`. */
#define BK_UNION_DEF(T, tagm, ...) { .version = BK_UNION_DEF_VERSION, .name = #T, \
    .size = sizeof(T), .align = _Alignof(T), \
    .tag_offset = offsetof(T, tagm) + BK__ASSERT(BK__IS(T, tagm, int), \
        "bk: tag member " #tagm " of " #T " is not an int"), \
    .nvariants = sizeof(BK__HEAD(__VA_ARGS__)) / sizeof((BK__HEAD(__VA_ARGS__))[0]), \
    .variants = __VA_ARGS__ }

/* ---- built models ------------------------------------------------------- */

/** A built model: immutable, reference counted, shareable between threads. */
typedef struct bk_model bk_model;

/**
 * @brief Build a model from static descriptors bound to a C struct.
 *
 * Checks the whole definition (recursively through nested models, list
 * elements and unions): kinds, sizes, duplicate or conflicting JSON names
 * (after rename, rename_all, aliases and flatten), defaults that do not
 * decode, flatten of something that is not an embedded model. The
 * descriptors are copied: they need not outlive the model.
 *
 * @param out  receives the model (one reference; release with
 *             bk_model_unref()); NULL on failure.
 * @retval BK_OK
 * @retval BK_EMODEL  the definition is invalid; the error says where.
 * @retval BK_EINVAL  a NULL argument or an unknown descriptor version.
 * @retval BK_ENOMEM
 * Thread-safe. @since 0.1
 */
BK_EXTERN(bk_status) bk_model_new(bk_model **out, const bk_model_def *def, bk_error **err);

/** @brief Add a reference; returns @p model. NULL-safe. Thread-safe. @since 0.1 */
BK_EXTERN(bk_model *) bk_model_ref(bk_model *model);

/** @brief Drop a reference; the last one frees the model. NULL-safe.
 * Thread-safe. @since 0.1 */
BK_EXTERN(void) bk_model_unref(bk_model *model);

/** @brief The model's name. Borrowed, valid while the model lives. @since 0.1 */
BK_EXTERN(const char *) bk_model_name(const bk_model *model);

/** @brief Size in bytes of the model's struct (for run-time models, the
 * size of a record's storage). @since 0.1 */
BK_EXTERN(size_t) bk_model_size(const bk_model *model);

/** @brief Number of declared fields (skipped ones included). @since 0.1 */
BK_EXTERN(size_t) bk_model_field_count(const bk_model *model);

/** @brief Index of the field with C/declared name @p name, or -1. @since 0.1 */
BK_EXTERN(long) bk_model_field_index(const bk_model *model, const char *name);

/** @brief Declared name of field @p i (NULL when out of range). Borrowed,
 * valid while the model lives. @since 0.1 */
BK_EXTERN(const char *) bk_model_field_name(const bk_model *model, size_t i);

/** @brief JSON name of field @p i after rename/rename_all (NULL when out of
 * range). Borrowed, valid while the model lives. @since 0.1 */
BK_EXTERN(const char *) bk_model_field_json_name(const bk_model *model, size_t i);

/** @brief Kind of field @p i (BK_KIND_NONE when out of range). @since 0.1 */
BK_EXTERN(bk_kind) bk_model_field_kind(const bk_model *model, size_t i);

/** @brief Whether field @p i tracks presence (is optional). @since 0.1 */
BK_EXTERN(bool) bk_model_field_optional(const bk_model *model, size_t i);

/**
 * @brief The type expression of field @p i as written in a model
 * description document (`i32`, `list<str>`, `map<Address>`, `ptr<Node>`).
 * Borrowed, valid while the model lives; NULL when out of range. @since 0.1
 */
BK_EXTERN(const char *) bk_model_field_type(const bk_model *model, size_t i);

/**
 * @brief Release everything the library allocated inside a struct (or
 * record storage) of this model — strings, bytes, lists, maps, pointed-to
 * models, json_t references — and zero the struct. Use it after a decode,
 * on success or failure, and on structs whose heap members were allocated
 * with bk_malloc(). NULL-safe for @p obj.
 * Thread-safe for distinct objects. @since 0.1
 */
BK_EXTERN(void) bk_clear(const bk_model *model, void *obj);

/* ---- run-time builder ----------------------------------------------------- */

/**
 * A builder of run-time models. It holds named definitions — models, unions,
 * enums — and builds one of them (with everything it refers to) into a
 * ::bk_model whose record layout the library chooses. Not thread-safe; use
 * one builder from one thread.
 *
 * Types are written as type expressions (docs/models.md): `bool`, `i8` ...
 * `u64`, `f32`, `f64`, `str`, `bytes`, `timestamp`, `date`, `uuid`, `json`,
 * the name of a model (embedded), union or enum, `ptr<Model>`, `list<T>`,
 * `map<T>`.
 *
 * Attributes are a key and a JSON value, exactly as in the description
 * document: field attributes `rename` (string), `aliases` (array of
 * strings), `default` (any JSON), `default_zero` (bool), `optional` (bool),
 * `skip` (bool), `skip_if` ("absent" | "empty" | "default"), `flatten`
 * (bool), `primary_key`, `auto_id`, `unique`, `index`, `row_version` (bool); model
 * attributes `rename_all` (serde's case name), `deny_unknown` (bool); union
 * attributes `tagging` ("external" | "internal" | "adjacent" | "untagged"),
 * `tag`, `content` (strings).
 *
 * Constraints (::bk_check, docs/validation.md) are field attributes too:
 * `min`, `max` (numbers, inclusive), `exclusive_min`, `exclusive_max`
 * (numbers: the bound and its exclusive flag; each replaces the bound on its
 * side), `multiple_of` (number > 0), `min_len`, `max_len`, `min_items`,
 * `max_items` (non-negative integers), `unique_items` (bool), `pattern`
 * (string), `format` ("email", "uri", "uuid", "hostname", "ipv4", "ipv6",
 * "date-time", "date", "time"), `one_of` (array of allowed values), `const`
 * (any JSON), `messages` (object: code -> message), `each` (object of the
 * same constraint keys, applied to each list item or map value) and
 * `validator` (string: the name of a custom validator). The model attribute
 * `validator` names the model's validator. Whether a constraint fits the
 * field's type is checked when the model is built (BK_EMODEL).
 */
typedef struct bk_builder bk_builder;

/** @brief Create an empty builder. @retval BK_OK, BK_ENOMEM, BK_EINVAL. @since 0.1 */
BK_EXTERN(bk_status) bk_builder_new(bk_builder **out, bk_error **err);

/** @brief Free a builder (models built from it stay valid). NULL-safe. @since 0.1 */
BK_EXTERN(void) bk_builder_free(bk_builder *b);

/**
 * @brief Start a new model definition named @p name; the following
 * bk_builder_field() and bk_builder_model_attr() calls apply to it.
 * @retval BK_OK, BK_EMODEL (name taken or not an identifier), BK_ENOMEM.
 * @since 0.1
 */
BK_EXTERN(bk_status) bk_builder_model(bk_builder *b, const char *name, bk_error **err);

/**
 * @brief Set an attribute of the current model (`rename_all`, `deny_unknown`).
 * @p json_value is JSON text, such as `"\"camelCase\""` or `"true"`.
 * @retval BK_OK, BK_EMODEL (unknown key, bad value, no current model), BK_ENOMEM.
 * @since 0.1
 */
BK_EXTERN(bk_status) bk_builder_model_attr(bk_builder *b, const char *key,
    const char *json_value, bk_error **err);

/**
 * @brief Add a field named @p name of type @p type (a type expression) to
 * the current model; following bk_builder_field_attr() calls apply to it.
 * Names in the type are resolved when the model is built.
 * @retval BK_OK, BK_EMODEL (duplicate name, bad expression, no current
 * model), BK_ENOMEM. @since 0.1
 */
BK_EXTERN(bk_status) bk_builder_field(bk_builder *b, const char *name,
    const char *type, bk_error **err);

/**
 * @brief Set an attribute of the current field (see ::bk_builder).
 * @retval BK_OK, BK_EMODEL (unknown key, bad value, no current field), BK_ENOMEM.
 * @since 0.1
 */
BK_EXTERN(bk_status) bk_builder_field_attr(bk_builder *b, const char *key,
    const char *json_value, bk_error **err);

/**
 * @brief Attach a custom validator to the current field (the one the last
 * bk_builder_field() added): @p fn is called with a pointer to the field's
 * C value (in the record storage) and @p payload whenever a value of the
 * model is validated (docs/validation.md#custom-validators).
 *
 * Replaces any validator set before, including one named by the
 * `validator` attribute (documents carry only the name; the host supplies
 * the function here). @p name (copied; may be NULL) is written to
 * documents by bk_model_to_doc() as the field's `validator` attribute.
 * @p fn may be NULL to keep only the name. @p payload is not copied: it
 * must outlive every model built from this definition, and @p fn must be
 * safe to call from every thread that validates.
 * @retval BK_OK
 * @retval BK_EMODEL  no current field, or @p name is empty or not UTF-8.
 * @retval BK_EINVAL  @p b is NULL. @retval BK_EMISUSE not a builder.
 * @retval BK_ENOMEM  the builder is unchanged.
 * Not thread-safe (see ::bk_builder). @since 0.1
 */
BK_EXTERN(bk_status) bk_builder_field_validator(bk_builder *b, bk_validate_fn fn,
    void *payload, const char *name, bk_error **err);

/**
 * @brief Attach a custom validator to the current model (the one the last
 * bk_builder_model() started): @p fn is called with a pointer to the whole
 * record (cross-field rules) after the model's fields are validated.
 * Same rules as bk_builder_field_validator(): replaces any validator set
 * before, @p name (copied; may be NULL) is the model's `validator`
 * attribute in documents, @p payload must outlive the models.
 * @retval BK_OK
 * @retval BK_EMODEL  no current model, or @p name is empty or not UTF-8.
 * @retval BK_EINVAL, BK_EMISUSE, BK_ENOMEM (the builder is unchanged).
 * Not thread-safe (see ::bk_builder). @since 0.1
 */
BK_EXTERN(bk_status) bk_builder_model_validator(bk_builder *b, bk_validate_fn fn,
    void *payload, const char *name, bk_error **err);

/**
 * @brief Define an enum named @p name whose JSON names are the @p n strings
 * of @p names (copied). @retval BK_OK, BK_EMODEL, BK_ENOMEM. @since 0.1
 */
BK_EXTERN(bk_status) bk_builder_enum(bk_builder *b, const char *name,
    const char *const *names, size_t n, bk_error **err);

/**
 * @brief Start a new union definition; following bk_builder_variant() and
 * bk_builder_union_attr() calls apply to it.
 * @retval BK_OK, BK_EMODEL, BK_ENOMEM. @since 0.1
 */
BK_EXTERN(bk_status) bk_builder_union(bk_builder *b, const char *name, bk_error **err);

/** @brief Set an attribute of the current union (`tagging`, `tag`, `content`).
 * @retval BK_OK, BK_EMODEL, BK_ENOMEM. @since 0.1 */
BK_EXTERN(bk_status) bk_builder_union_attr(bk_builder *b, const char *key,
    const char *json_value, bk_error **err);

/** @brief Add a variant to the current union; @p type is a type expression,
 * or NULL for a unit variant. @retval BK_OK, BK_EMODEL, BK_ENOMEM. @since 0.1 */
BK_EXTERN(bk_status) bk_builder_variant(bk_builder *b, const char *name,
    const char *type, bk_error **err);

/**
 * @brief Make an already built model (and every model, union and enum it
 * refers to) available by name to the definitions in this builder. Its
 * layout is kept, so records and structs of it embed unchanged.
 * @retval BK_OK, BK_EMODEL (a name clashes with a different definition),
 * BK_ENOMEM. @since 0.1
 */
BK_EXTERN(bk_status) bk_builder_use(bk_builder *b, bk_model *model, bk_error **err);

/**
 * @brief Build the model named @p root and everything it refers to.
 * The builder stays usable; building twice gives two equal models.
 * @retval BK_OK, BK_EMODEL (unknown name, invalid definition; the error
 * names the model and field), BK_ENOMEM. @since 0.1
 */
BK_EXTERN(bk_status) bk_builder_build(bk_model **out, bk_builder *b, const char *root,
    bk_error **err);

/* ---- model description documents ----------------------------------------- */

/**
 * @brief Build a model from a model description document (JSON text, see
 * docs/models.md): `{"bk_model": 1, "root": "User", "models": [...],
 * "unions": [...], "enums": [...]}`.
 * @param out receives one reference; NULL on failure.
 * @retval BK_OK, BK_ESYNTAX (not JSON), BK_EMODEL (not a valid description),
 * BK_ENOMEM. Thread-safe. @since 0.1
 */
BK_EXTERN(bk_status) bk_model_from_doc(bk_model **out, const char *doc, size_t len,
    bk_error **err);

/**
 * One entry of a table of named validators (::bk_doc_options.validators):
 * the function that a document's `validator` attribute @p name stands for.
 */
typedef struct bk_doc_validator {
    const char *name;          /**< the name documents use */
    bk_validate_fn fn;         /**< the function (non-NULL) */
    void *payload;             /**< passed to fn; must outlive the models loaded */
} bk_doc_validator;

/**
 * Finds the function of a validator name met in a document (see
 * ::bk_doc_options.resolve). Called once per validator of the loaded model,
 * after it is built and before bk_model_from_doc_ex() returns it: @p model
 * is the (borrowed) model that declares the validator, @p field the index
 * of its field (bk_model_field_name(), bk_model_field_kind() ... work on
 * it), or -1 for the model's own validator. Set @p fn_out (and
 * @p payload_out) and return 0; leave @p fn_out NULL when the name is
 * unknown (the load then fails with BK_EMODEL). A non-zero return aborts
 * the load with BK_EUSER. @p payload is ::bk_doc_options.payload.
 */
typedef int (*bk_doc_resolve_fn)(bk_validate_fn *fn_out, void **payload_out,
    const bk_model *model, long field, const char *name, void *payload);

/**
 * Releases a validator payload that ::bk_doc_options.resolve returned (see
 * ::bk_doc_options.release): @p validator_payload, and
 * ::bk_doc_options.payload.
 */
typedef void (*bk_doc_release_fn)(void *validator_payload, void *payload);

/** Version of ::bk_doc_options. */
#define BK_DOC_OPTIONS_VERSION 1

/**
 * Options of bk_model_from_doc_ex(): how the validator names of a document
 * (`validator` attributes of models and fields) become functions.
 * Initialise with BK_DOC_OPTIONS_INIT or bk_doc_options_init().
 *
 * Each name of the loaded model is looked up in @p validators first, then
 * passed to @p resolve. A name neither knows fails the load (BK_EMODEL,
 * "model M, field f: no validator named \"x\""): a validated field is never
 * silently left unvalidated.
 */
typedef struct bk_doc_options {
    unsigned int version;                /**< ::BK_DOC_OPTIONS_VERSION */
    const bk_doc_validator *validators;  /**< table searched first (may be NULL) */
    size_t nvalidators;                  /**< its length */
    bk_doc_resolve_fn resolve;           /**< resolver for the other names (may be NULL) */
    /** Called once for every payload that @p resolve returned with a
     * function, when the loaded model is freed (the last bk_model_unref(),
     * from whichever thread drops it) or at once when the load fails after
     * resolving. May be NULL. Not called for the table's payloads. */
    bk_doc_release_fn release;
    void *payload;                       /**< passed to resolve and release */
} bk_doc_options;

/** Static initialiser: no table, no resolver. */
#define BK_DOC_OPTIONS_INIT { BK_DOC_OPTIONS_VERSION, NULL, 0, NULL, NULL, NULL }

/** @brief Fill @p opts with the defaults (for bindings): no table, no
 * resolver, no release; the same as ::BK_DOC_OPTIONS_INIT. Allocates and
 * owns nothing. @retval BK_OK, BK_EINVAL (NULL). Thread-safe. @since 0.1 */
BK_EXTERN(bk_status) bk_doc_options_init(bk_doc_options *opts);

/**
 * @brief Build a model from a model description document, attaching
 * functions to its validator names (docs/validation.md#validators-in-documents).
 *
 * As bk_model_from_doc(), then every `validator` name of the models the
 * root reaches is resolved through @p opts (table, then resolver); names of
 * models the root does not reach are ignored. bk_model_to_doc() still
 * writes the names. With @p opts NULL this is bk_model_from_doc(): names
 * are kept without functions.
 *
 * @param out receives one reference; NULL on failure.
 * @param opts copied where needed; the table's payloads and the
 * resolver's must outlive the model (or be released by @p opts->release).
 * The functions are called from every thread that validates values of the
 * model, so must be thread-safe.
 * @retval BK_OK
 * @retval BK_EMODEL   not a valid description, or a validator name that
 *                     neither the table nor the resolver knows (the message
 *                     names the model and field).
 * @retval BK_ESYNTAX  not JSON.
 * @retval BK_EUSER    the resolver returned non-zero.
 * @retval BK_EINVAL   NULL @p out or @p doc, or an unknown @p opts version.
 * @retval BK_ENOMEM
 * Thread-safe (the resolver runs on the calling thread). @since 0.1
 */
BK_EXTERN(bk_status) bk_model_from_doc_ex(bk_model **out, const char *doc, size_t len,
    const bk_doc_options *opts, bk_error **err);

/**
 * @brief Write a model — however it was built — as a model description
 * document. Loading the document and writing it again gives the same bytes.
 * Models declared in C get run-time layouts when loaded elsewhere, so the
 * document carries names, types and attributes, not offsets.
 * @param out receives NUL-terminated JSON text; free with bk_free().
 * @param len_out receives its length (may be NULL).
 * Constraints are written as field attributes; custom validators by their
 * name only (`validator`), since a document cannot carry a C function.
 * @param pretty indent with two spaces when true.
 * @retval BK_OK, BK_ENOMEM
 * @retval BK_EUNSUPPORTED a default or an allowed value (`one_of`,
 * `const`) holds an integer beyond the 64-bit range of the JSON library.
 * Thread-safe. @since 0.1
 */
BK_EXTERN(bk_status) bk_model_to_doc(char **out, size_t *len_out, const bk_model *model,
    bool pretty, bk_error **err);

#ifdef __cplusplus
}
#endif
#endif
