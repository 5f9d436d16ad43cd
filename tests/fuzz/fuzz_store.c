/*
 * fuzz_store.c - differential fuzzer for the SQLite adapter's own write and
 * read loops.
 *
 * Each input becomes a struct with raw values: strings of any bytes (not
 * UTF-8, quotes, control characters, up to 120 bytes), a list of strings,
 * an enum index that may be out of range, any double or float (NaN,
 * infinities), a u64 that may not fit, an optional string that is absent,
 * null or present, bytes, a map whose keys may repeat or be NULL,
 * timestamps and dates of any value (or near the ends of the years 0 to
 * 9999), lists of floats, doubles and u64 of any bits, and a key that is
 * given or left to the database. It is inserted (then maybe updated with a second struct from
 * the rest of the input) into two in-memory stores:
 *  - "sqlite": the built-in driver, whose adapter binds and reads rows in
 *    its own loops (bk__sqlite_write, the row reader), with the text
 *    checks picked by the first byte: AVX-512 where the CPU has it, or the
 *    inline SSE2 ones;
 *  - "sqlitegeneric": a copy of the same driver, which the core drives
 *    value by value (its own checks and binds, the driver's reads).
 * Both must give the same status and the same error (message, path,
 * code); when the write succeeds, the row read back from each must be
 * the same JSON, and the struct as written (an absent optional value
 * reads back as null: SQL has one NULL; -0.0 reads back as 0.0: SQLite
 * keeps a whole real as an integer). Any difference aborts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <backend.h>
#include "store_internal.h"
#include "store_text.h"

typedef struct {
    int64_t id;
    char *name;
    char *email;
    int32_t age;
    bool active;
    double score;
    bk_strs tags;
    int role;
    uint64_t big;
    int8_t small;
    char *note;
    bk_presence note_p;
    bk_bytes blob;
    float f32;
    bk_map m;              /* str -> i32 */
    bk_i64s stamps;        /* list<timestamp> */
    bk_i32s days;          /* list<date> */
    bk_f32s fs;            /* list<f32>, list<f64>, list<u64>: numbers in JSON text */
    bk_f64s ds;
    bk_u64s us;
} FRow;

static const char *const FROLES[] = { "admin", "member", "g\xc3\xa4st", NULL };

static const bk_field FROW_FIELDS[] = {
    BK_FIELD(FRow, id, BK_I64, .primary_key = true, .auto_id = true),
    BK_FIELD(FRow, name, BK_STR),
    BK_FIELD(FRow, email, BK_STR),
    BK_FIELD(FRow, age, BK_I32),
    BK_FIELD(FRow, active, BK_BOOL),
    BK_FIELD(FRow, score, BK_F64),
    BK_LIST(FRow, tags, BK_STR),
    BK_ENUM(FRow, role, FROLES),
    BK_FIELD(FRow, big, BK_U64),
    BK_FIELD(FRow, small, BK_I8),
    BK_FIELD(FRow, note, BK_STR, BK_PRESENCE(FRow, note_p)),
    BK_FIELD(FRow, blob, BK_BYTES),
    BK_FIELD(FRow, f32, BK_F32),
    BK_MAP(FRow, m, BK_I32),
    BK_LIST(FRow, stamps, BK_TIMESTAMP),
    BK_LIST(FRow, days, BK_DATE),
    BK_LIST(FRow, fs, BK_F32),
    BK_LIST(FRow, ds, BK_F64),
    BK_LIST(FRow, us, BK_U64),
};
static const bk_model_def FROW_DEF = BK_MODEL_DEF(FRow, FROW_FIELDS);

static bk_model *g_m;
static bk_store *g_fast, *g_generic;

static void die(const char *what, const char *a, const char *b)
{
    fprintf(stderr, "fuzz_store: %s\n  sqlite:        %s\n  sqlitegeneric: %s\n", what,
        a ? a : "(null)", b ? b : "(null)");
    abort();
}

static void init(void)
{
    static bk_store_driver copy;
    bk_error *err = NULL;
    copy = bk__sqlite_driver;
    copy.scheme = "sqlitegeneric";
    if (bk_model_new(&g_m, &FROW_DEF, &err) != BK_OK ||
            bk_store_register_driver(&copy, &err) != BK_OK ||
            bk_store_open(&g_fast, "sqlite::memory:", NULL, &err) != BK_OK ||
            bk_store_open(&g_generic, "sqlitegeneric::memory:", NULL, &err) != BK_OK ||
            bk_store_register(g_fast, g_m, "rows", &err) != BK_OK ||
            bk_store_register(g_generic, g_m, "rows", &err) != BK_OK) {
        fprintf(stderr, "fuzz_store: setup: %s\n", bk_error_message(err));
        abort();
    }
}

/* The input, read front to back; zeros past its end. */
typedef struct { const uint8_t *p; size_t n; } input;

static uint8_t byte(input *in)
{
    if (!in->n)
        return 0;
    in->n--;
    return *in->p++;
}

static void raw(input *in, void *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ((uint8_t *)out)[i] = byte(in);
}

/* A NUL-terminated string of the next (byte % max) bytes (a NUL among
 * them ends it early, as in C). */
static char *text(input *in, size_t max)
{
    size_t n = byte(in) % max;
    char *s = malloc(n + 1);
    if (!s)
        abort();
    raw(in, s, n);
    s[n] = '\0';
    return s;
}

/* n zeroed elements of size bytes (NULL when n is 0). */
static void *zalloc(size_t n, size_t size)
{
    void *p = n ? calloc(n, size) : NULL;
    if (n && !p)
        abort();
    return p;
}

static void make_row(FRow *r, input *in, bool given_key)
{
    memset(r, 0, sizeof(*r));
    uint8_t k[2];
    raw(in, k, 2);
    r->id = given_key ? 1 + (k[0] | k[1] << 8) : 0;
    r->name = text(in, 121);
    r->email = text(in, 70);
    raw(in, &r->age, sizeof(r->age));
    r->active = byte(in) & 1;
    raw(in, &r->score, sizeof(r->score));
    r->tags.len = byte(in) % 6;
    r->tags.items = zalloc(r->tags.len, sizeof(char *));
    for (size_t i = 0; i < r->tags.len; i++)
        r->tags.items[i] = byte(in) % 16 == 0 ? NULL : text(in, 80);
    r->role = (int)(int8_t)byte(in) % 5;
    raw(in, &r->big, sizeof(r->big));
    r->small = (int8_t)byte(in);
    r->note_p = byte(in) % 3;
    r->note = r->note_p == BK_PRESENT ? text(in, 40) : NULL;
    r->blob.len = byte(in) % 20;
    r->blob.data = zalloc(r->blob.len, 1);
    raw(in, r->blob.data, r->blob.len);
    raw(in, &r->f32, sizeof(r->f32));
    /* a map of up to 5 keys, of 0..3 bytes (so often the same), one in 16
     * NULL */
    r->m.len = byte(in) % 6;
    r->m.keys = zalloc(r->m.len, sizeof(char *));
    r->m.values = zalloc(r->m.len, sizeof(int32_t));
    for (size_t i = 0; i < r->m.len; i++) {
        r->m.keys[i] = byte(in) % 16 == 0 ? NULL : text(in, 4);
        raw(in, (int32_t *)r->m.values + i, sizeof(int32_t));
    }
    /* up to 3 timestamps and dates: any value, or near the ends of the
     * years 0 to 9999 */
    static const int64_t us_edges[] = { -62167219200000000LL, 253402300799999999LL, 0 };
    static const int32_t day_edges[] = { -719528, 2932896, 0 };
    r->stamps.len = byte(in) % 4;
    r->stamps.items = zalloc(r->stamps.len, sizeof(int64_t));
    for (size_t i = 0; i < r->stamps.len; i++) {
        uint8_t how = byte(in);
        int64_t v;
        raw(in, &v, sizeof(v));
        r->stamps.items[i] = how % 2 ? v : us_edges[how / 2 % 3] + (int8_t)(v & 0xff);
    }
    r->days.len = byte(in) % 4;
    r->days.items = zalloc(r->days.len, sizeof(int32_t));
    for (size_t i = 0; i < r->days.len; i++) {
        uint8_t how = byte(in);
        int32_t v;
        raw(in, &v, sizeof(v));
        r->days.items[i] = how % 2 ? v : day_edges[how / 2 % 3] + (int8_t)(v & 0xff);
    }
    /* up to 3 of each, any bits (NaN, infinities, -0.0, subnormals) */
    r->fs.len = byte(in) % 4;
    r->fs.items = zalloc(r->fs.len, sizeof(float));
    raw(in, r->fs.items, r->fs.len * sizeof(float));
    r->ds.len = byte(in) % 4;
    r->ds.items = zalloc(r->ds.len, sizeof(double));
    raw(in, r->ds.items, r->ds.len * sizeof(double));
    r->us.len = byte(in) % 4;
    r->us.items = zalloc(r->us.len, sizeof(uint64_t));
    raw(in, r->us.items, r->us.len * sizeof(uint64_t));
}

/* A copy of p[0..n) (NULL when n is 0), and of a string list's items. */
static void *dup_mem(const void *p, size_t n)
{
    void *d = n ? malloc(n) : NULL;
    if (n && !d)
        abort();
    if (n)
        memcpy(d, p, n);
    return d;
}

static char **dup_strs(char *const *items, size_t n)
{
    char **d = dup_mem(items, n * sizeof(char *));
    for (size_t i = 0; i < n; i++)
        d[i] = items[i] ? strdup(items[i]) : NULL;
    return d;
}

/* The struct's deep copy (the store writes a generated key back). */
static void copy_row(FRow *out, const FRow *r)
{
    *out = *r;
    out->name = strdup(r->name);
    out->email = strdup(r->email);
    out->note = r->note ? strdup(r->note) : NULL;
    out->tags.items = dup_strs(r->tags.items, r->tags.len);
    out->blob.data = dup_mem(r->blob.data, r->blob.len);
    out->m.keys = dup_strs(r->m.keys, r->m.len);
    out->m.values = dup_mem(r->m.values, r->m.len * sizeof(int32_t));
    out->stamps.items = dup_mem(r->stamps.items, r->stamps.len * sizeof(int64_t));
    out->days.items = dup_mem(r->days.items, r->days.len * sizeof(int32_t));
    out->fs.items = dup_mem(r->fs.items, r->fs.len * sizeof(float));
    out->ds.items = dup_mem(r->ds.items, r->ds.len * sizeof(double));
    out->us.items = dup_mem(r->us.items, r->us.len * sizeof(uint64_t));
}

static void free_row(FRow *r)
{
    free(r->name);
    free(r->email);
    free(r->note);
    for (size_t i = 0; i < r->tags.len; i++)
        free(r->tags.items[i]);
    free(r->tags.items);
    free(r->blob.data);
    for (size_t i = 0; i < r->m.len; i++)
        free(r->m.keys[i]);
    free(r->m.keys);
    free(r->m.values);
    free(r->stamps.items);
    free(r->days.items);
    free(r->fs.items);
    free(r->ds.items);
    free(r->us.items);
}

static char *describe(bk_status st, const bk_error *err)
{
    char *out = malloc(2048);
    if (!out)
        abort();
    int w = snprintf(out, 2048, "%s: %s", bk_status_name(st), st ? bk_error_message(err) : "");
    for (size_t i = 0; err && i < bk_error_count(err) && w < 1800; i++)
        w += snprintf(out + w, 2048 - (size_t)w, " [%s %s]", bk_error_path(err, i),
            bk_error_problem_code(err, i));
    return out;
}

static char *as_json(const FRow *r)
{
    char *json = NULL;
    bk_error *err = NULL;
    if (bk_json_encode(&json, NULL, g_m, r, NULL, &err) != BK_OK) {
        fprintf(stderr, "fuzz_store: a row written cannot be encoded: %s\n",
            bk_error_message(err));
        abort();
    }
    return json;
}

/* The same write on both stores: the same outcome; the row read back from
 * each the same, and the struct as written. */
static void both(int update, FRow *fast, FRow *gen)
{
    bk_error *ea = NULL, *eb = NULL;
    bk_status sa = update ? bk_store_update(g_fast, g_m, fast, NULL, 0, &ea)
                          : bk_store_insert(g_fast, g_m, fast, &ea);
    bk_status sb = update ? bk_store_update(g_generic, g_m, gen, NULL, 0, &eb)
                          : bk_store_insert(g_generic, g_m, gen, &eb);
    char *da = describe(sa, ea), *db = describe(sb, eb);
    if (strcmp(da, db) != 0 || fast->id != gen->id)
        die(update ? "update differs" : "insert differs", da, db);
    free(da);
    free(db);
    bk_error_free(ea);
    bk_error_free(eb);
    ea = eb = NULL;
    if (sa != BK_OK)
        return;
    FRow ra, rb;
    if ((sa = bk_store_get(&ra, g_fast, g_m, &fast->id, &ea)) != BK_OK ||
            (sb = bk_store_get(&rb, g_generic, g_m, &gen->id, &eb)) != BK_OK)
        die("a row written does not read back", bk_error_message(ea), bk_error_message(eb));
    char *ja = as_json(&ra), *jb = as_json(&rb);
    if (strcmp(ja, jb) != 0)
        die("rows read back differ", ja, jb);
    FRow want = *fast;
    if (want.note_p == BK_ABSENT)
        want.note_p = BK_NULL;     /* one NULL in SQL */
    if (want.score == 0)
        want.score = 0.0;          /* SQLite keeps -0.0 as the integer 0 */
    if (want.f32 == 0)
        want.f32 = 0.0f;
    char *jw = as_json(&want);
    if (strcmp(ja, jw) != 0)
        die("the row read back is not the one written", ja, jw);
    free(ja);
    free(jb);
    free(jw);
    bk_clear(g_m, &ra);
    bk_clear(g_m, &rb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!g_m)
        init();
    input in = { data, size };
    uint8_t flags = byte(&in);
    bk__text_wide_use(flags & 1);
    FRow a, b;
    make_row(&a, &in, flags & 2);
    copy_row(&b, &a);
    both(0, &a, &b);
    if ((flags & 4) && a.id == b.id && a.id != 0) {
        FRow a2, b2;
        make_row(&a2, &in, true);
        a2.id = a.id;
        copy_row(&b2, &a2);
        both(1, &a2, &b2);
        free_row(&a2);
        free_row(&b2);
    }
    /* keep the tables small; the key sequence goes on */
    if (a.id) {
        bk_store_delete(g_fast, g_m, &a.id, NULL);
        bk_store_delete(g_generic, g_m, &b.id, NULL);
    }
    free_row(&a);
    free_row(&b);
    return 0;
}
