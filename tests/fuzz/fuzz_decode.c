/*
 * fuzz_decode.c - libFuzzer target for the decoder.
 *
 * Decodes the input as a User (nested model, enum, lists, optional) and as
 * a model with every kind and a union; whatever decodes must re-encode, and
 * re-decode to the same bytes. A crash, a sanitizer report, a leak, or a
 * round-trip mismatch is a finding.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <backend.h>
#include "../test_models.h"

typedef struct { double radius; } FCircle;
typedef struct { int kind; union { FCircle c; bk_i64s nums; } u; } FShape;
typedef struct {
    bool b; int8_t i8; uint16_t u16; int64_t i64; uint64_t u64; float f32; double f64;
    char *s; bk_bytes by; int64_t ts; int32_t day; bk_uuid id; Address *ptr;
    bk_map counts; json_t *raw; FShape shape; bk_list shapes;
} FAll;

static const bk_field FCIRCLE_FIELDS[] = { BK_FIELD(FCircle, radius, BK_F64) };
static const bk_model_def FCIRCLE_DEF = BK_MODEL_DEF(FCircle, FCIRCLE_FIELDS);
static const bk_type_def FCIRCLE_T = { .kind = BK_MODEL, .model = &FCIRCLE_DEF };
static const bk_type_def NUMS_T = { .kind = BK_LIST, .elem_kind = BK_I64 };
static const bk_variant FSHAPE_VARIANTS[] = {
    BK_VARIANT(FShape, u.c, "circle", &FCIRCLE_T),
    BK_VARIANT(FShape, u.nums, "nums", &NUMS_T),
    BK_VARIANT_UNIT("none"),
};
static const bk_union_def FSHAPE_EXT = BK_UNION_DEF(FShape, kind, FSHAPE_VARIANTS);
typedef FShape FShapeUntagged; /* a second union over the same struct needs its own name */
static const bk_union_def FSHAPE_UNTAGGED = BK_UNION_DEF(FShapeUntagged, kind, FSHAPE_VARIANTS,
    .tagging = BK_UNTAGGED);
static const bk_type_def FSHAPE_T = { .kind = BK_UNION, .union_def = &FSHAPE_UNTAGGED };
static const bk_field FALL_FIELDS[] = {
    BK_FIELD(FAll, b, BK_BOOL), BK_FIELD(FAll, i8, BK_I8), BK_FIELD(FAll, u16, BK_U16),
    BK_FIELD(FAll, i64, BK_I64), BK_FIELD(FAll, u64, BK_U64), BK_FIELD(FAll, f32, BK_F32),
    BK_FIELD(FAll, f64, BK_F64), BK_FIELD(FAll, s, BK_STR), BK_FIELD(FAll, by, BK_BYTES),
    BK_FIELD(FAll, ts, BK_TIMESTAMP), BK_FIELD(FAll, day, BK_DATE), BK_FIELD(FAll, id, BK_UUID),
    BK_NESTED_PTR(FAll, ptr, Address, &ADDRESS_DEF), BK_MAP(FAll, counts, BK_I32),
    BK_FIELD(FAll, raw, BK_JSON), BK_UNION(FAll, shape, &FSHAPE_EXT),
    BK_LIST_OF(FAll, shapes, &FSHAPE_T),
};
static const bk_model_def FALL_DEF = BK_MODEL_DEF(FAll, FALL_FIELDS, .deny_unknown = true);

static bk_model *g_user, *g_all;

static void round_trip(const bk_model *m, void *obj, size_t size)
{
    char *out = NULL;
    size_t len = 0;
    if (bk_json_encode(&out, &len, m, obj, NULL, NULL) != BK_OK)
        abort(); /* whatever decoded must encode */
    void *again = calloc(1, size);
    if (bk_json_decode(again, m, out, len, NULL, NULL) != BK_OK)
        abort();
    char *out2 = NULL;
    size_t len2 = 0;
    if (bk_json_encode(&out2, &len2, m, again, NULL, NULL) != BK_OK)
        abort();
    if (len != len2 || memcmp(out, out2, len) != 0)
        abort();
    bk_free(out);
    bk_free(out2);
    bk_clear(m, again);
    free(again);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    if (!g_user) {
        bk_error *e = NULL;
        if (bk_model_new(&g_user, &USER_DEF, &e) != BK_OK ||
            bk_model_new(&g_all, &FALL_DEF, &e) != BK_OK) {
            fprintf(stderr, "fuzz_decode: model: %s\n", bk_error_message(e));
            abort();
        }
    }
    User u;
    bk_error *err = NULL;
    if (bk_json_decode(&u, g_user, (const char *)data, size, NULL, &err) == BK_OK) {
        round_trip(g_user, &u, sizeof(u));
        bk_clear(g_user, &u);
    } else {
        if (bk_error_code(err) == BK_OK || !bk_error_message(err))
            abort();
        bk_error_free(err);
    }
    FAll a;
    err = NULL;
    if (bk_json_decode(&a, g_all, (const char *)data, size, NULL, &err) == BK_OK) {
        round_trip(g_all, &a, sizeof(a));
        bk_clear(g_all, &a);
    } else {
        bk_error_free(err);
    }
    bk_json_stream *s = NULL;
    if (bk_json_stream_new_buffer(&s, g_user, (const char *)data, size, BK_STREAM_AUTO, NULL, NULL) == BK_OK) {
        for (int i = 0; i < 1000; i++) {
            bk_status st = bk_json_stream_next(s, &u, &err);
            if (st == BK_ITEROVER)
                break;
            if (st == BK_OK)
                bk_clear(g_user, &u);
            else
                bk_error_free(err);
            err = NULL;
        }
        bk_json_stream_free(s);
    }
    return 0;
}
