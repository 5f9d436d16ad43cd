/*
 * bench_json.c - JSON throughput of libbackend's schema-directed codec
 * against a typed layer over jansson's DOM, in one run.
 *
 * Usage: bench_json [N records, default 100000] [R runs, default 5]
 *
 * Measured in R rounds, each round running every operation once (so that
 * a slow period of a shared machine hits all of them alike); the table
 * gives the best (fastest) run, the median, and the least process CPU time
 * (a wall time well above it means the run was preempted):
 *  - libbackend decode of the array's elements into a preallocated User
 *    array: through a record stream (bk_json_stream_new_buffer,
 *    BK_STREAM_ARRAY; the headline), and element by element with
 *    bk_json_decode over slices split beforehand (splitting not timed);
 *  - bk_clear of those structs, timed on its own and reported both apart
 *    from and added to the decode;
 *  - libbackend encode: bk_json_encode_buf per record appending to one
 *    reused bk_buf, '[' ',' ']' written by the benchmark;
 *  - jansson decode: json_loadb of the whole document, walk of the DOM into
 *    the same structs (strdup'd strings, hand-written RFC 3339 parser),
 *    json_decref of the DOM - all timed; freeing the structs is timed
 *    apart, like bk_clear;
 *  - jansson encode: building the json_t tree from the structs, json_dumpb
 *    (compact) into a reused buffer, json_decref of the tree - all timed;
 *  - for context, jansson's json_loadb + json_decref alone (no walk).
 * Both encoders read the same structs, decoded once before any timing (so
 * their place in the heap does not depend on the timed runs' churn).
 * Then correctness: both decoders give equal structs for every record, the
 * per-element variant equals the stream, and libbackend's output decodes
 * back (with libbackend and with jansson) to the same structs. Any failure
 * exits with status 1. Timing targets are printed as PASS/MISS, never
 * asserted. Peak memory is measured by bench_json_mem.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "users_gen.h"

#define SEED 0x5EEDB0B5C0FFEEull

#if defined(__clang__)
#define COMPILER "clang " __clang_version__
#elif defined(__GNUC__)
#define COMPILER "gcc " __VERSION__
#else
#define COMPILER "unknown"
#endif

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double t_best(const double *t, int n)
{
    double b = t[0];
    for (int i = 1; i < n; i++)
        if (t[i] < b)
            b = t[i];
    return b;
}

static double t_median(const double *t, int n)
{
    double s[64];
    memcpy(s, t, (size_t)n * sizeof(double));
    qsort(s, (size_t)n, sizeof(double), cmp_double);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static void die_bk(const char *what, bk_status st, bk_error *err)
{
    fprintf(stderr, "FAIL: %s: %s: %s\n", what, bk_status_name(st), bk_error_message(err));
    bk_error_free(err);
    exit(1);
}

/* Append one byte to a bk_buf, growing it through libbackend's allocator. */
static void buf_putc(bk_buf *b, char c)
{
    if (b->len + 2 > b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 4096;
        char *np = bk_malloc(nc);
        if (!np) {
            fprintf(stderr, "out of memory\n");
            exit(2);
        }
        if (b->ptr)
            memcpy(np, b->ptr, b->len);
        bk_free(b->ptr);
        b->ptr = np;
        b->cap = nc;
    }
    b->ptr[b->len++] = c;
    b->ptr[b->len] = '\0';
}

/* Decode the array's records into out[0..n) through a record stream.
 * Returns the number of records; exits on a failure. */
static size_t decode_stream(User *out, size_t n, const bk_model *m, const char *text, size_t len)
{
    bk_json_stream *s;
    bk_error *err = NULL;
    bk_status st = bk_json_stream_new_buffer(&s, m, text, len, BK_STREAM_ARRAY, NULL, &err);
    if (st != BK_OK)
        die_bk("bk_json_stream_new_buffer", st, err);
    size_t i = 0;
    for (;; i++) {
        User extra;
        User *dst = i < n ? &out[i] : &extra;
        st = bk_json_stream_next(s, dst, &err);
        if (st == BK_ITEROVER)
            break;
        if (st != BK_OK)
            die_bk("bk_json_stream_next", st, err);
        if (i >= n) {
            bk_clear(m, &extra);
            fprintf(stderr, "FAIL: the stream yields more than %zu records\n", n);
            exit(1);
        }
    }
    bk_json_stream_free(s);
    return i;
}

/* Decode element i of the document from its pre-split slice. */
static void decode_slices(User *out, const bk_model *m, const users_doc *doc)
{
    for (size_t i = 0; i < doc->n; i++) {
        bk_error *err = NULL;
        bk_status st = bk_json_decode(&out[i], m, doc->text + doc->off[i], doc->elen[i], NULL, &err);
        if (st != BK_OK)
            die_bk("bk_json_decode", st, err);
    }
}

/* Encode users[0..n) as one array into buf (reset first). */
static void encode_bk(bk_buf *buf, const bk_model *m, const User *users, size_t n)
{
    bk_buf_reset(buf);
    buf_putc(buf, '[');
    for (size_t i = 0; i < n; i++) {
        if (i)
            buf_putc(buf, ',');
        bk_error *err = NULL;
        bk_status st = bk_json_encode_buf(buf, m, &users[i], NULL, &err);
        if (st != BK_OK)
            die_bk("bk_json_encode_buf", st, err);
    }
    buf_putc(buf, ']');
}

static void clear_bk(const bk_model *m, User *u, size_t n)
{
    for (size_t i = 0; i < n; i++)
        bk_clear(m, &u[i]);
}

static void clear_plain(User *u, size_t n)
{
    for (size_t i = 0; i < n; i++)
        users_plain_clear(&u[i]);
}

/* Compare a[0..n) with b[0..n); print up to 3 differences. Returns the
 * number of records that differ. */
static size_t compare_all(const char *what, const User *a, const User *b, size_t n)
{
    size_t bad = 0;
    char why[512];
    for (size_t i = 0; i < n; i++) {
        if (!users_equal(&a[i], &b[i], why, sizeof(why))) {
            if (bad < 3)
                fprintf(stdout, "  %s: record %zu: %s\n", what, i, why);
            bad++;
        }
    }
    printf("check %-58s %s (%zu/%zu records equal)\n", what, bad ? "FAIL" : "ok", n - bad, n);
    return bad;
}

/* One measured operation: wall (CLOCK_MONOTONIC) and process CPU time of
 * each run, in seconds. */
typedef struct meas {
    double wall[64];
    double cpu[64];
} meas;

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct stamp { double wall, cpu; } stamp;

static stamp stamp_now(void)
{
    stamp t = { ug_now(), cpu_now() };
    return t;
}

static void record(meas *m, int r, stamp from, stamp to)
{
    m->wall[r] = to.wall - from.wall;
    m->cpu[r] = to.cpu - from.cpu;
}

static void record_sum(meas *m, int r, const meas *a, const meas *b)
{
    m->wall[r] = a->wall[r] + b->wall[r];
    m->cpu[r] = a->cpu[r] + b->cpu[r];
}

typedef struct row {
    const char *name;
    const meas *m;
    double bytes;   /* bytes per run the MB/s figure refers to (0: none) */
} row;

static void print_row(const row *r, int runs, size_t n)
{
    double b = t_best(r->m->wall, runs), med = t_median(r->m->wall, runs);
    double cpu = t_best(r->m->cpu, runs);
    if (r->bytes > 0)
        printf("%-52s %9.1f %9.1f %9.1f %7.0f %11.0f\n", r->name, b * 1e3, med * 1e3, cpu * 1e3,
            r->bytes / 1e6 / b, (double)n / b);
    else
        printf("%-52s %9.1f %9.1f %9.1f %7s %11.0f\n", r->name, b * 1e3, med * 1e3, cpu * 1e3, "-",
            (double)n / b);
}

/* Print peer/ours for the best and median wall times and the best CPU
 * times; PASS/MISS on the best wall times when a target is given. */
static bool ratio_line(const char *name, const meas *peer, const meas *ours, int runs,
    double target)
{
    double rb = t_best(peer->wall, runs) / t_best(ours->wall, runs);
    double rm = t_median(peer->wall, runs) / t_median(ours->wall, runs);
    double rc = t_best(peer->cpu, runs) / t_best(ours->cpu, runs);
    printf("%-30s %7.2fx %8.2fx %8.2fx", name, rb, rm, rc);
    if (target > 0) {
        bool pass = rb >= target;
        printf("   target >= %2.0fx: %s\n", target, pass ? "PASS" : "MISS");
        return pass;
    }
    printf("\n");
    return true;
}

static void print_loadavg(const char *when)
{
    char buf[128] = "?";
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (!fgets(buf, sizeof(buf), f))
            strcpy(buf, "?");
        fclose(f);
    }
    /* the three averages only */
    char *q = buf;
    for (int k = 0; k < 3 && q; k++)
        q = strchr(q + 1, ' ');
    if (q)
        *q = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    printf("load average %s: %s (1, 5, 15 min)\n", when, buf);
}

int main(int argc, char **argv)
{
    size_t n = 100000;
    int runs = 5;
    if (argc > 1) {
        char *e;
        unsigned long long v = strtoull(argv[1], &e, 10);
        if (*e || v == 0 || v > 100000000ull) {
            fprintf(stderr, "usage: %s [records (default 100000)] [runs (1..64, default 5)]\n", argv[0]);
            return 2;
        }
        n = (size_t)v;
    }
    if (argc > 2) {
        runs = atoi(argv[2]);
        if (runs < 1 || runs > 64) {
            fprintf(stderr, "usage: %s [records (default 100000)] [runs (1..64, default 5)]\n", argv[0]);
            return 2;
        }
    }

    users_doc doc;
    users_gen(&doc, n, SEED);

    bk_model *model = NULL;
    bk_error *err = NULL;
    bk_status st = bk_model_new(&model, &USER_DEF, &err);
    if (st != BK_OK)
        die_bk("bk_model_new", st, err);

    User *A = ug_xcalloc(n, sizeof(User));  /* libbackend stream: reference, encoders' input */
    User *W = ug_xcalloc(n, sizeof(User));  /* target of the timed decodes */
    User *B = ug_xcalloc(n, sizeof(User));  /* libbackend, slices */
    User *J = ug_xcalloc(n, sizeof(User));  /* jansson */
    User *T = ug_xcalloc(n, sizeof(User));  /* round trips */
    static meas m_dec_stream, m_dec_slices, m_clear, m_dec_stream_clear, m_dec_slices_clear,
        m_dec_jansson, m_free_jansson, m_dec_jansson_free, m_dom_jansson, m_enc_bk, m_enc_jansson;

    printf("libbackend JSON benchmark: libbackend %s, jansson %s, compiler %s\n", bk_version(),
        JANSSON_VERSION, COMPILER);
    printf("records: %zu   document: %.2f MB (%zu bytes, 1 MB = 10^6 bytes)   runs: %d each\n",
        n, (double)doc.len / 1e6, doc.len, runs);
    print_loadavg("before");

    /* The reference structs (checks, input of both encoders), decoded
     * first, untimed, so that their layout in the heap does not depend on
     * the churn of the timed runs. */
    if (decode_stream(A, n, model, doc.text, doc.len) != n) {
        fprintf(stderr, "FAIL: the stream did not yield %zu records\n", n);
        return 1;
    }

    /* Rounds: every operation once per round, so that a slow period of
     * the machine hits all of them alike. */
    bk_buf out = BK_BUF_INIT;
    char *jout = NULL;
    size_t jcap = 0, jlen = 0;
    for (int r = 0; r < runs; r++) {
        stamp t0, t1, t2;

        /* libbackend decode through the stream, then bk_clear */
        t0 = stamp_now();
        size_t got = decode_stream(W, n, model, doc.text, doc.len);
        t1 = stamp_now();
        if (got != n) {
            fprintf(stderr, "FAIL: the stream yielded %zu records, expected %zu\n", got, n);
            return 1;
        }
        clear_bk(model, W, n);
        t2 = stamp_now();
        record(&m_dec_stream, r, t0, t1);
        record(&m_clear, r, t1, t2);
        record(&m_dec_stream_clear, r, t0, t2);

        /* libbackend decode of pre-split slices, then bk_clear */
        t0 = stamp_now();
        decode_slices(W, model, &doc);
        t1 = stamp_now();
        clear_bk(model, W, n);
        t2 = stamp_now();
        record(&m_dec_slices, r, t0, t1);
        record(&m_dec_slices_clear, r, t0, t2);

        /* jansson: DOM, walk, decref; then free the structs */
        t0 = stamp_now();
        long jgot = users_decode_jansson(W, n, doc.text, doc.len);
        t1 = stamp_now();
        if (jgot != (long)n) {
            fprintf(stderr, "FAIL: jansson path decoded %ld records, expected %zu\n", jgot, n);
            return 1;
        }
        clear_plain(W, n);
        t2 = stamp_now();
        record(&m_dec_jansson, r, t0, t1);
        record(&m_free_jansson, r, t1, t2);
        record_sum(&m_dec_jansson_free, r, &m_dec_jansson, &m_free_jansson);

        /* jansson's parse alone, for context */
        t0 = stamp_now();
        json_error_t je;
        json_t *root = json_loadb(doc.text, doc.len, 0, &je);
        if (!root) {
            fprintf(stderr, "FAIL: json_loadb: %s\n", je.text);
            return 1;
        }
        json_decref(root);
        t1 = stamp_now();
        record(&m_dom_jansson, r, t0, t1);

        /* encoders, both from A */
        t0 = stamp_now();
        encode_bk(&out, model, A, n);
        t1 = stamp_now();
        record(&m_enc_bk, r, t0, t1);

        t0 = stamp_now();
        jlen = users_encode_jansson(&jout, &jcap, A, n);
        t1 = stamp_now();
        if (jlen == 0) {
            fprintf(stderr, "FAIL: jansson encode failed\n");
            return 1;
        }
        record(&m_enc_jansson, r, t0, t1);
    }
    print_loadavg("after ");

    /* untimed decodes kept for the checks */
    decode_slices(B, model, &doc);
    if (users_decode_jansson(J, n, doc.text, doc.len) != (long)n)
        return 1;

    /* ---- table ---- */
    double in_bytes = (double)doc.len;
    const row rows[] = {
        { "libbackend decode: stream (bk_json_stream_next)", &m_dec_stream, in_bytes },
        { "libbackend decode: bk_json_decode per slice", &m_dec_slices, in_bytes },
        { "libbackend bk_clear of the decoded structs", &m_clear, 0 },
        { "libbackend decode + bk_clear: stream", &m_dec_stream_clear, in_bytes },
        { "libbackend decode + bk_clear: per slice", &m_dec_slices_clear, in_bytes },
        { "jansson decode: json_loadb + walk + json_decref", &m_dec_jansson, in_bytes },
        { "jansson free of the decoded structs", &m_free_jansson, 0 },
        { "jansson decode + free structs", &m_dec_jansson_free, in_bytes },
        { "(jansson json_loadb + json_decref alone, no walk)", &m_dom_jansson, in_bytes },
        { "libbackend encode: bk_json_encode_buf, reused buf", &m_enc_bk, (double)out.len },
        { "jansson encode: build tree + json_dumpb + decref", &m_enc_jansson, (double)jlen },
    };
    printf("\nbest = fastest of the %d runs (wall clock, CLOCK_MONOTONIC), median = their median;\n"
           "cpu = least process CPU time of the runs (wall well above cpu: the run was preempted).\n"
           "Decode rows exclude bk_clear / freeing the structs (timed apart, added in the \"+\" rows).\n",
        runs);
    printf("%-52s %9s %9s %9s %7s %11s\n", "operation", "best ms", "median ms", "cpu ms", "MB/s",
        "records/s");
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        if (i == 9)
            printf("%-52s (output: libbackend %.2f MB, jansson %.2f MB)\n", "", (double)out.len / 1e6,
                (double)jlen / 1e6);
        print_row(&rows[i], runs, n);
    }
    printf("(MB/s and records/s from the best run; decode MB/s per input byte, encode MB/s per byte\n"
           " each encoder produced)\n");

    printf("\nratio libbackend/jansson = jansson time / libbackend time\n");
    printf("%-30s %8s %9s %9s\n", "", "best", "median", "cpu");
    bool dec_pass = ratio_line("decode, stream (headline)", &m_dec_jansson, &m_dec_stream, runs, 12);
    ratio_line("decode, per slice", &m_dec_jansson, &m_dec_slices, runs, 0);
    ratio_line("decode + clear/free, stream", &m_dec_jansson_free, &m_dec_stream_clear, runs, 0);
    bool enc_pass = ratio_line("encode", &m_enc_jansson, &m_enc_bk, runs, 18);
    printf("decode target (>= 12x jansson, best runs): %s\n", dec_pass ? "PASS" : "MISS");
    printf("encode target (>= 18x jansson, best runs): %s\n", enc_pass ? "PASS" : "MISS");

    /* ---- correctness ---- */
    printf("\n");
    size_t bad = 0;
    bad += compare_all("libbackend stream == jansson (every field)", A, J, n);
    bad += compare_all("libbackend per-slice == libbackend stream", B, A, n);
    size_t got = decode_stream(T, n, model, out.ptr, out.len);
    if (got != n) {
        printf("check round trip: libbackend encode -> libbackend decode: FAIL (%zu records)\n", got);
        bad++;
    } else {
        bad += compare_all("round trip: libbackend encode -> libbackend decode", T, A, n);
    }
    clear_bk(model, T, got < n ? got : n);
    if (users_decode_jansson(T, n, out.ptr, out.len) != (long)n) {
        printf("check round trip: libbackend encode -> jansson decode: FAIL (not loadable)\n");
        bad++;
    } else {
        bad += compare_all("round trip: libbackend encode -> jansson decode", T, A, n);
        clear_plain(T, n);
    }
    got = decode_stream(T, n, model, jout, jlen);
    if (got != n) {
        printf("check peer encode -> libbackend decode: FAIL (%zu records)\n", got);
        bad++;
    } else {
        bad += compare_all("peer (jansson) encode -> libbackend decode", T, A, n);
    }
    clear_bk(model, T, got < n ? got : n);
    printf("correctness: %s\n", bad ? "FAIL" : "all checks passed");

    clear_bk(model, A, n);
    clear_bk(model, B, n);
    clear_plain(J, n);
    free(A);
    free(W);
    free(B);
    free(J);
    free(T);
    free(jout);
    bk_buf_dispose(&out);
    bk_model_unref(model);
    users_doc_free(&doc);
    return bad ? 1 : 0;
}
