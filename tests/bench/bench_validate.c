/*
 * bench_validate.c - what validation adds to decoding.
 *
 * The same 100k User records (users_gen.h) are decoded by the stream into
 * structs, in one run, three ways:
 *   1. the plain User model (no constraints);
 *   2. a User model with a realistic set of constraints, validation skipped
 *      (skip_validation): the decode cost of that model;
 *   3. the same constrained model, validated (the default).
 * The figure of interest is (3) / (2) - 1: the share validation adds to
 * decode time. Target: <= 15%. Timing is reported, never asserted.
 * Because (2) and (3) of one round run back to back, the per-round ratio
 * is printed too (its median and range): on a shared machine it is less
 * sensitive to load drifting between rounds than best against best.
 *
 *   bench_validate [N=100000] [R=7] [ONLY]
 *
 * ONLY (1, 2 or 3) runs one of the three ways alone, R times, for
 * profilers: `valgrind --tool=callgrind bench_validate 10000 1 3` minus the
 * same with 2 is the instruction cost of validation.
 */
#include "users_gen.h"

static const bk_field CADDRESS_FIELDS[] = {
    BK_FIELD(Address, street, BK_STR, BK_MIN_LEN(1), BK_MAX_LEN(200)),
    BK_FIELD(Address, city,   BK_STR, BK_MIN_LEN(1), BK_MAX_LEN(100)),
    BK_FIELD(Address, zip,    BK_STR, BK_MIN_LEN(3), BK_MAX_LEN(12)),
};
static const bk_model_def CADDRESS_DEF = BK_MODEL_DEF(Address, CADDRESS_FIELDS);

static const bk_field CUSER_FIELDS[] = {
    BK_FIELD (User, id,         BK_I64, BK_MIN(1)),
    BK_FIELD (User, name,       BK_STR, BK_MIN_LEN(1), BK_MAX_LEN(100)),
    BK_FIELD (User, email,      BK_STR, BK_FORMAT(BK_FORMAT_EMAIL), BK_MAX_LEN(254)),
    BK_FIELD (User, age,        BK_I32, BK_MIN(0), BK_MAX(150)),
    BK_FIELD (User, active,     BK_BOOL),
    BK_FIELD (User, score,      BK_F64, BK_MIN(0), BK_MAX(100)),
    BK_LIST  (User, tags,       BK_STR, BK_MAX_ITEMS(10), BK_EACH(BK_MIN_LEN(1), BK_MAX_LEN(32))),
    BK_NESTED(User, address,    Address, &CADDRESS_DEF),
    BK_FIELD (User, created_at, BK_TIMESTAMP),
    BK_ENUM  (User, role,       USER_ROLES),
};
static const bk_model_def CUSER_DEF = BK_MODEL_DEF(User, CUSER_FIELDS);

static double decode_all(bk_model *m, const users_doc *doc, User *out, bool validate,
    size_t *count)
{
    bk_decode_options o;
    bk_decode_options_init(&o);
    o.skip_validation = !validate;
    bk_json_stream *s = NULL;
    bk_error *err = NULL;
    double t0 = ug_now();
    if (bk_json_stream_new_buffer(&s, m, doc->text, doc->len, BK_STREAM_ARRAY, &o, &err) != BK_OK) {
        fprintf(stderr, "stream: %s\n", bk_error_message(err));
        exit(1);
    }
    size_t n = 0;
    bk_status st;
    while ((st = bk_json_stream_next(s, &out[n], &err)) == BK_OK)
        n++;
    double t1 = ug_now();
    if (st != BK_ITEROVER) {
        fprintf(stderr, "record %zu: %s\n", n, bk_error_message(err));
        exit(1);
    }
    bk_json_stream_free(s);
    *count = n;
    return t1 - t0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 100000;
    int runs = argc > 2 ? atoi(argv[2]) : 7;
    int only = argc > 3 ? atoi(argv[3]) : 0;
    if (runs < 1 || runs > 1000 || only < 0 || only > 3) {
        fprintf(stderr, "usage: bench_validate [N] [R (1..1000)] [ONLY (1..3)]\n");
        return 2;
    }
    users_doc doc;
    users_gen(&doc, n, 42);
    bk_model *plain = NULL, *checked = NULL;
    bk_error *err = NULL;
    if (bk_model_new(&plain, &USER_DEF, &err) != BK_OK ||
        bk_model_new(&checked, &CUSER_DEF, &err) != BK_OK) {
        fprintf(stderr, "model: %s\n", bk_error_message(err));
        return 1;
    }
    User *out = ug_xcalloc(n, sizeof(User));
    double best[3] = { 1e9, 1e9, 1e9 };
    double ratio[1000];
    const char *names[3] = {
        "decode, plain model",
        "decode, constrained model, skip_validation",
        "decode + validate, constrained model",
    };
    for (int r = 0; r < runs; r++) {
        double t_round[3] = { 0, 0, 0 };
        for (int k = 0; k < 3; k++) {
            if (only && k != only - 1)
                continue;
            size_t got;
            bk_model *m = k == 0 ? plain : checked;
            double t = decode_all(m, &doc, out, k == 2, &got);
            if (got != n) {
                fprintf(stderr, "%s: %zu of %zu records\n", names[k], got, n);
                return 1;
            }
            t_round[k] = t;
            if (t < best[k])
                best[k] = t;
            for (size_t i = 0; i < got; i++)
                bk_clear(m, &out[i]);
        }
        ratio[r] = t_round[1] > 0 ? t_round[2] / t_round[1] - 1.0 : 0;
    }
    if (only) {
        printf("%s: best of %d runs %.1f ms\n", names[only - 1], runs, best[only - 1] * 1e3);
        free(out);
        bk_model_unref(plain);
        bk_model_unref(checked);
        users_doc_free(&doc);
        return 0;
    }
    printf("libbackend validation benchmark: %zu records, %.2f MB, best of %d runs\n", n,
        doc.len / 1e6, runs);
    for (int k = 0; k < 3; k++)
        printf("%-48s %8.1f ms %8.0f MB/s\n", names[k], best[k] * 1e3, doc.len / 1e6 / best[k]);
    double added = best[2] / best[1] - 1.0;
    printf("validation adds %.1f%% to decode time (constrained model)   target <= 15%%: %s\n",
        added * 100.0, added <= 0.15 ? "PASS" : "MISS");
    qsort(ratio, (size_t)runs, sizeof(double), cmp_double);
    printf("per-round ratio (3)/(2) - 1: median %.1f%%, range %.1f%% .. %.1f%%\n",
        ratio[runs / 2] * 100.0, ratio[0] * 100.0, ratio[runs - 1] * 100.0);
    printf("constrained decode+validate vs plain decode: %+.1f%%\n", (best[2] / best[0] - 1.0) * 100.0);
    free(out);
    bk_model_unref(plain);
    bk_model_unref(checked);
    users_doc_free(&doc);
    return 0;
}
