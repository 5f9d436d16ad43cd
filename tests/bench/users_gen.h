/*
 * users_gen.h - shared code of the JSON benchmarks (bench_json.c,
 * bench_json_mem.c). Header-only: every .c file in tests/bench/ is its own
 * executable, so shared code lives here as static (inline) definitions.
 *
 * Contents:
 *  - the User model (C structs and libbackend descriptors), shaped like the
 *    example of DESIGN.md section 2 plus score, active and an embedded
 *    address;
 *  - a deterministic generator (fixed-seed xorshift64*, never rand()) of N
 *    User records as one JSON array text, which also records where each
 *    element starts and ends (for the pre-split decode variant);
 *  - the "peer" path over jansson: DOM -> User (strings strdup'd, a
 *    hand-written RFC 3339 parser) and User -> DOM, doing the same work as
 *    the schema-directed codec;
 *  - comparison, timing and /proc helpers.
 */
#ifndef BK_BENCH_USERS_GEN_H
#define BK_BENCH_USERS_GEN_H

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include <backend.h>

/* ---- the model --------------------------------------------------------------- */

enum { ROLE_ADMIN, ROLE_MEMBER, ROLE_GUEST };

typedef struct Address {
    char *street;
    char *city;
    char *zip;
} Address;

typedef struct User {
    int64_t id;
    char   *name;
    char   *email;
    int32_t age;
    bool    active;
    double  score;
    bk_strs tags;
    Address address;
    int64_t created_at; /* microseconds since the epoch; RFC 3339 in JSON */
    int     role;       /* index into USER_ROLES */
} User;

static const char *const USER_ROLES[] = { "admin", "member", "guest", NULL };

static const bk_field ADDRESS_FIELDS[] = {
    BK_FIELD(Address, street, BK_STR),
    BK_FIELD(Address, city,   BK_STR),
    BK_FIELD(Address, zip,    BK_STR),
};
static const bk_model_def ADDRESS_DEF = BK_MODEL_DEF(Address, ADDRESS_FIELDS);

static const bk_field USER_FIELDS[] = {
    BK_FIELD (User, id,         BK_I64),
    BK_FIELD (User, name,       BK_STR),
    BK_FIELD (User, email,      BK_STR),
    BK_FIELD (User, age,        BK_I32),
    BK_FIELD (User, active,     BK_BOOL),
    BK_FIELD (User, score,      BK_F64),
    BK_LIST  (User, tags,       BK_STR),
    BK_NESTED(User, address,    Address, &ADDRESS_DEF),
    BK_FIELD (User, created_at, BK_TIMESTAMP),
    BK_ENUM  (User, role,       USER_ROLES),
};
static const bk_model_def USER_DEF = BK_MODEL_DEF(User, USER_FIELDS);

/* ---- small utilities --------------------------------------------------------- */

static inline double ug_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline void *ug_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "out of memory (%zu bytes)\n", n);
        exit(2);
    }
    return p;
}

static inline void *ug_xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz ? sz : 1);
    if (!p) {
        fprintf(stderr, "out of memory (%zu x %zu bytes)\n", n, sz);
        exit(2);
    }
    return p;
}

/* xorshift64* (Vigna): deterministic, seedable, good enough for test data. */
typedef struct ug_rng { uint64_t s; } ug_rng;

static inline uint64_t ug_next(ug_rng *r)
{
    uint64_t x = r->s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    r->s = x;
    return x * 0x2545F4914F6CDD1Dull;
}

/* Uniform-ish integer in [0, n). */
static inline uint32_t ug_below(ug_rng *r, uint32_t n)
{
    return (uint32_t)((ug_next(r) >> 32) % n);
}

/* ---- civil dates (Howard Hinnant's algorithms) ----------------------------------- */

static inline int64_t ug_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static inline void ug_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static inline bool ug_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static inline int64_t ug_floordiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/*
 * The peer's RFC 3339 parser (hand-written, what a typed layer over a DOM
 * would carry): YYYY-MM-DD('T'|'t'|' ')HH:MM:SS[.fraction]('Z'|'z'|±HH:MM)
 * -> microseconds since the epoch, UTC. Digits past the sixth fractional
 * one are truncated. Returns false when malformed or out of range.
 */
static inline bool ug_ts_parse(const char *s, size_t n, int64_t *out)
{
    unsigned v[6];
    static const unsigned char pos[6] = { 0, 5, 8, 11, 14, 17 };
    static const unsigned char width[6] = { 4, 2, 2, 2, 2, 2 };
    if (n < 20 || s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':' ||
        (s[10] != 'T' && s[10] != 't' && s[10] != ' '))
        return false;
    for (int f = 0; f < 6; f++) {
        unsigned x = 0;
        for (unsigned i = 0; i < width[f]; i++) {
            char c = s[pos[f] + i];
            if (c < '0' || c > '9')
                return false;
            x = x * 10 + (unsigned)(c - '0');
        }
        v[f] = x;
    }
    static const unsigned char mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (v[1] < 1 || v[1] > 12 || v[2] < 1 ||
        v[2] > mdays[v[1] - 1] + (unsigned)(v[1] == 2 && ug_leap((int64_t)v[0])) ||
        v[3] > 23 || v[4] > 59 || v[5] > 59)
        return false;
    size_t i = 19;
    int64_t frac = 0;
    if (s[i] == '.') {
        i++;
        size_t digits = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            if (digits < 6)
                frac = frac * 10 + (s[i] - '0');
            digits++;
            i++;
        }
        if (digits == 0)
            return false;
        for (; digits < 6; digits++)
            frac *= 10;
    }
    if (i >= n)
        return false;
    int64_t off = 0;
    if (s[i] == 'Z' || s[i] == 'z') {
        i++;
    } else if (s[i] == '+' || s[i] == '-') {
        if (n - i != 6 || s[i + 3] != ':')
            return false;
        const char *o = s + i + 1;
        for (int k = 0; k < 5; k++)
            if (k != 2 && (o[k] < '0' || o[k] > '9'))
                return false;
        int oh = (o[0] - '0') * 10 + (o[1] - '0'), om = (o[3] - '0') * 10 + (o[4] - '0');
        if (oh > 23 || om > 59)
            return false;
        off = (int64_t)(oh * 60 + om) * 60;
        if (s[i] == '-')
            off = -off;
        i += 6;
    } else {
        return false;
    }
    if (i != n)
        return false;
    int64_t days = ug_days_from_civil((int64_t)v[0], v[1], v[2]);
    int64_t secs = days * 86400 + (int64_t)v[3] * 3600 + (int64_t)v[4] * 60 + v[5] - off;
    *out = secs * 1000000 + frac;
    return true;
}

/* The peer's RFC 3339 formatter: UTC with 'Z'; fraction of 3 or 6 digits
 * when non-zero. Returns the length written into out (>= 32 bytes). */
static inline size_t ug_ts_format(char *out, int64_t us)
{
    int64_t secs = ug_floordiv(us, 1000000);
    int64_t frac = us - secs * 1000000;
    int64_t days = ug_floordiv(secs, 86400);
    int64_t sod = secs - days * 86400;
    int64_t y;
    unsigned m, d;
    ug_civil_from_days(days, &y, &m, &d);
    int n = snprintf(out, 32, "%04d-%02u-%02uT%02d:%02d:%02d", (int)y, m, d, (int)(sod / 3600),
        (int)(sod / 60 % 60), (int)(sod % 60));
    if (frac) {
        if (frac % 1000 == 0)
            n += snprintf(out + n, 32 - (size_t)n, ".%03d", (int)(frac / 1000));
        else
            n += snprintf(out + n, 32 - (size_t)n, ".%06d", (int)frac);
    }
    out[n++] = 'Z';
    out[n] = '\0';
    return (size_t)n;
}

/* ---- the generator ------------------------------------------------------------------ */

typedef struct ug_text { char *p; size_t len, cap; } ug_text;

static inline void ug_reserve(ug_text *t, size_t extra)
{
    if (t->len + extra + 1 <= t->cap)
        return;
    size_t nc = t->cap ? t->cap : 1024;
    while (nc < t->len + extra + 1)
        nc *= 2;
    char *np = realloc(t->p, nc);
    if (!np) {
        fprintf(stderr, "out of memory (%zu bytes)\n", nc);
        exit(2);
    }
    t->p = np;
    t->cap = nc;
}

static inline void ug_puts(ug_text *t, const char *s)
{
    size_t n = strlen(s);
    ug_reserve(t, n);
    memcpy(t->p + t->len, s, n + 1);
    t->len += n;
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static inline void ug_printf(ug_text *t, const char *fmt, ...);

#include <stdarg.h>
static inline void ug_printf(ug_text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        exit(2);
    ug_reserve(t, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(t->p + t->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

#define UG_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Pools. Entries are JSON text fragments (already escaped where needed). */
static const char *const UG_FIRST[] = {
    "Ana", "José", "Zoë", "Björn", "François", "Łukasz", "Søren", "Renée", "Mårten", "Noël",
    "Ingrid", "Chloé", "Jürgen", "Yūki", "Hiroshi", "Mei", "Olga", "Dmitri", "Ava", "太郎",
    "花子", "Émile", "Siobhán", "Kwame", "Priya", "Ömer", "Nguyễn", "Lars", "Carmen", "Wei",
};
static const char *const UG_LAST[] = {
    "Müller", "García", "O'Brien", "Smith", "Johansson", "Kowalski", "Dubois", "Schröder",
    "Rossi", "山田", "田中", "Núñez", "Østergaard", "Brontë", "Jones", "Okafor", "Ivanova",
    "日本", "Fernández", "Çelik", "Lefèvre", "Kim", "Sato", "Andersson", "Novák",
};
/* occasional JSON escapes and astral characters */
static const char *const UG_NAME_EXTRA[] = {
    " \\\"Ace\\\"",        /* "Ace" in quotes */
    " back\\\\slash",      /* a backslash */
    "\\nJr.",              /* a newline */
    " Ren\\u00e9e",        /* \u00e9 */
    " \\ud83d\\ude00",     /* U+1F600 as a surrogate pair */
    " 😀",                 /* the same, raw */
    " 🚀",
    " 日本",
};
static const char *const UG_ASCII_FIRST[] = {
    "ana", "jose", "zoe", "bjorn", "francois", "lukasz", "soren", "renee", "marten", "noel",
    "ingrid", "chloe", "jurgen", "yuki", "hiroshi", "mei", "olga", "dmitri", "ava", "taro",
};
static const char *const UG_ASCII_LAST[] = {
    "muller", "garcia", "obrien", "smith", "johansson", "kowalski", "dubois", "schroder",
    "rossi", "yamada", "tanaka", "nunez", "ostergaard", "bronte", "jones", "okafor",
};
static const char *const UG_DOMAINS[] = {
    "example.com", "mail.example.org", "corp.example.net", "uni-muenchen.example", "example.co.jp",
};
static const char *const UG_TAGS[] = {
    "beta", "c", "rust", "go", "python", "vip", "early-adopter", "café", "東京", "newsletter",
    "ops", "sre", "ml", "data", "admin-ui", "trial", "paid", "über",
};
static const char *const UG_STREETS[] = {
    "Main", "Königs", "Elm", "Oak", "Rue de la Paix", "Calle Mayor", "桜", "Baker", "Høgh", "Maple",
};
static const char *const UG_STREET_TYPES[] = { "St", "Ave", "straße", "Blvd", "Road", "通り", "Lane" };
static const char *const UG_CITIES[] = {
    "Berlin", "München", "Paris", "Zürich", "東京", "São Paulo", "New York", "Kraków",
    "Reykjavík", "Montréal", "Lagos", "Oslo",
};
static const struct { const char *text; int minutes; } UG_OFFSETS[] = {
    { "+02:00", 120 }, { "-05:00", -300 }, { "+05:30", 330 }, { "-08:00", -480 },
    { "+09:00", 540 }, { "+00:00", 0 },
};

/* A generated document: one JSON array, and each element's byte range. */
typedef struct users_doc {
    char   *text;   /* NUL-terminated (the NUL is not part of len) */
    size_t  len;
    size_t  n;      /* records */
    size_t *off;    /* element i is text[off[i] .. off[i]+elen[i]) */
    size_t *elen;
} users_doc;

static inline void ug_gen_user(ug_text *t, ug_rng *r, size_t i)
{
    /* id: mostly moderate, 1 in 50 above 2^53 (exact int64 handling) */
    int64_t id = ug_below(r, 50) == 0 ? (int64_t)9000000000000000000ll + (int64_t)i
                                      : (int64_t)100000 + (int64_t)i * 37 + ug_below(r, 37);
    ug_printf(t, "{\"id\":%" PRId64 ",\"name\":\"%s %s", id,
        UG_FIRST[ug_below(r, UG_COUNT(UG_FIRST))], UG_LAST[ug_below(r, UG_COUNT(UG_LAST))]);
    if (ug_below(r, 6) == 0)
        ug_puts(t, UG_NAME_EXTRA[ug_below(r, UG_COUNT(UG_NAME_EXTRA))]);
    ug_printf(t, "\",\"email\":\"%s.%s%u@%s\"", UG_ASCII_FIRST[ug_below(r, UG_COUNT(UG_ASCII_FIRST))],
        UG_ASCII_LAST[ug_below(r, UG_COUNT(UG_ASCII_LAST))], ug_below(r, 1000),
        UG_DOMAINS[ug_below(r, UG_COUNT(UG_DOMAINS))]);
    unsigned cents = ug_below(r, 10001);
    ug_printf(t, ",\"age\":%u,\"active\":%s,\"score\":%u.%02u,\"tags\":[", ug_below(r, 151),
        ug_below(r, 3) ? "true" : "false", cents / 100, cents % 100);
    unsigned ntags = ug_below(r, 6);
    for (unsigned k = 0; k < ntags; k++)
        ug_printf(t, "%s\"%s\"", k ? "," : "", UG_TAGS[ug_below(r, UG_COUNT(UG_TAGS))]);
    ug_printf(t, "],\"address\":{\"street\":\"%u %s %s\",\"city\":\"%s\",\"zip\":\"%05u\"}",
        1 + ug_below(r, 9999), UG_STREETS[ug_below(r, UG_COUNT(UG_STREETS))],
        UG_STREET_TYPES[ug_below(r, UG_COUNT(UG_STREET_TYPES))],
        UG_CITIES[ug_below(r, UG_COUNT(UG_CITIES))], ug_below(r, 100000));
    /* created_at: 2000-01-01 .. 2030-01-01 UTC; local time + offset */
    int64_t secs = 946684800 + (int64_t)(ug_next(r) % (1893456000ull - 946684800ull));
    unsigned fmode = ug_below(r, 4), omode = ug_below(r, 20);
    int offmin = 0;
    const char *offtext = "Z";
    if (omode >= 12) {
        size_t k = omode < 17 ? 0 : 1 + ug_below(r, UG_COUNT(UG_OFFSETS) - 1);
        offmin = UG_OFFSETS[k].minutes;
        offtext = UG_OFFSETS[k].text;
    }
    int64_t local = secs + offmin * 60;
    int64_t days = ug_floordiv(local, 86400), sod = local - days * 86400, y;
    unsigned mo, d;
    ug_civil_from_days(days, &y, &mo, &d);
    ug_printf(t, ",\"created_at\":\"%04d-%02u-%02uT%02d:%02d:%02d", (int)y, mo, d,
        (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60));
    if (fmode == 2)
        ug_printf(t, ".%03u", ug_below(r, 1000));
    else if (fmode == 3)
        ug_printf(t, ".%06u", ug_below(r, 1000000));
    unsigned rr = ug_below(r, 10);
    ug_printf(t, "%s\",\"role\":\"%s\"}", offtext,
        USER_ROLES[rr == 0 ? ROLE_ADMIN : rr <= 2 ? ROLE_GUEST : ROLE_MEMBER]);
}

/* Generate n records with a fixed seed: "[\n{...},\n{...}\n]\n". */
static inline void users_gen(users_doc *doc, size_t n, uint64_t seed)
{
    ug_text t = { NULL, 0, 0 };
    ug_rng r = { seed ? seed : 0x9E3779B97F4A7C15ull };
    doc->n = n;
    doc->off = ug_xmalloc(n * sizeof(size_t));
    doc->elen = ug_xmalloc(n * sizeof(size_t));
    ug_reserve(&t, n * 300 + 16);
    ug_puts(&t, "[\n");
    for (size_t i = 0; i < n; i++) {
        if (i)
            ug_puts(&t, ",\n");
        doc->off[i] = t.len;
        ug_gen_user(&t, &r, i);
        doc->elen[i] = t.len - doc->off[i];
    }
    ug_puts(&t, "\n]\n");
    doc->text = t.p;
    doc->len = t.len;
}

static inline void users_doc_free(users_doc *doc)
{
    free(doc->text);
    free(doc->off);
    free(doc->elen);
    memset(doc, 0, sizeof(*doc));
}

/* ---- the peer path: jansson DOM <-> User ------------------------------------------- */

/* Free a User filled by users_from_json() (plain malloc/strdup) and zero it. */
static inline void users_plain_clear(User *u)
{
    free(u->name);
    free(u->email);
    for (size_t k = 0; k < u->tags.len; k++)
        free(u->tags.items[k]);
    free(u->tags.items);
    free(u->address.street);
    free(u->address.city);
    free(u->address.zip);
    memset(u, 0, sizeof(*u));
}

static inline bool ug_get_str(char **dst, const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_string(v))
        return false;
    *dst = strdup(json_string_value(v));
    return *dst != NULL;
}

/*
 * Fill a zeroed User from a jansson object: type checks, int32 range for
 * age, enum lookup, RFC 3339 parse, strings strdup'd. Returns false (and
 * clears u) when the object does not fit.
 */
static inline bool users_from_json(User *u, const json_t *o)
{
    const json_t *v;
    if (!json_is_object(o))
        return false;
    if (!json_is_integer(v = json_object_get(o, "id")))
        goto bad;
    u->id = (int64_t)json_integer_value(v);
    if (!ug_get_str(&u->name, o, "name") || !ug_get_str(&u->email, o, "email"))
        goto bad;
    if (!json_is_integer(v = json_object_get(o, "age")) || json_integer_value(v) < INT32_MIN ||
        json_integer_value(v) > INT32_MAX)
        goto bad;
    u->age = (int32_t)json_integer_value(v);
    if (!json_is_boolean(v = json_object_get(o, "active")))
        goto bad;
    u->active = json_is_true(v);
    if (!json_is_number(v = json_object_get(o, "score")))
        goto bad;
    u->score = json_number_value(v);
    if (!json_is_array(v = json_object_get(o, "tags")))
        goto bad;
    size_t nt = json_array_size(v);
    if (nt) {
        u->tags.items = calloc(nt, sizeof(char *));
        if (!u->tags.items)
            goto bad;
        for (size_t k = 0; k < nt; k++) {
            const json_t *e = json_array_get(v, k);
            if (!json_is_string(e))
                goto bad;
            if (!(u->tags.items[k] = strdup(json_string_value(e))))
                goto bad;
            u->tags.len = k + 1;
        }
    }
    if (!json_is_object(v = json_object_get(o, "address")) ||
        !ug_get_str(&u->address.street, v, "street") || !ug_get_str(&u->address.city, v, "city") ||
        !ug_get_str(&u->address.zip, v, "zip"))
        goto bad;
    if (!json_is_string(v = json_object_get(o, "created_at")) ||
        !ug_ts_parse(json_string_value(v), json_string_length(v), &u->created_at))
        goto bad;
    if (!json_is_string(v = json_object_get(o, "role")))
        goto bad;
    {
        const char *s = json_string_value(v);
        int k = 0;
        while (USER_ROLES[k] && strcmp(USER_ROLES[k], s) != 0)
            k++;
        if (!USER_ROLES[k])
            goto bad;
        u->role = k;
    }
    return true;
bad:
    users_plain_clear(u);
    return false;
}

/*
 * Parse a whole document with jansson and walk it into users[0..n) (zeroed
 * beforehand). Returns the number of records, or -1 (message on stderr).
 */
static inline long users_decode_jansson(User *users, size_t n, const char *text, size_t len)
{
    json_error_t je;
    json_t *root = json_loadb(text, len, 0, &je);
    if (!root) {
        fprintf(stderr, "jansson: %s (line %d)\n", je.text, je.line);
        return -1;
    }
    long res = -1;
    if (!json_is_array(root) || json_array_size(root) > n) {
        fprintf(stderr, "jansson: not an array of at most %zu records\n", n);
        goto done;
    }
    size_t m = json_array_size(root);
    for (size_t i = 0; i < m; i++) {
        if (!users_from_json(&users[i], json_array_get(root, i))) {
            fprintf(stderr, "jansson: record %zu does not fit the model\n", i);
            for (size_t k = 0; k < i; k++)
                users_plain_clear(&users[k]);
            goto done;
        }
    }
    res = (long)m;
done:
    json_decref(root);
    return res;
}

/* Build the jansson object of a User (NULL on failure). The *_set_new and
 * *_append_new calls steal their value even on failure and fail cleanly on
 * a NULL container or value, so errors are just OR-ed together. */
static inline json_t *users_to_json(const User *u)
{
    if (u->role < 0 || u->role > ROLE_GUEST)
        return NULL;
    json_t *o = json_object();
    if (!o)
        return NULL;
    char ts[40];
    int rc = 0;
    rc |= json_object_set_new_nocheck(o, "id", json_integer((json_int_t)u->id));
    rc |= json_object_set_new_nocheck(o, "name", json_string(u->name));
    rc |= json_object_set_new_nocheck(o, "email", json_string(u->email));
    rc |= json_object_set_new_nocheck(o, "age", json_integer(u->age));
    rc |= json_object_set_new_nocheck(o, "active", json_boolean(u->active));
    rc |= json_object_set_new_nocheck(o, "score", json_real(u->score));
    json_t *tags = json_array();
    for (size_t k = 0; k < u->tags.len; k++)
        rc |= json_array_append_new(tags, json_string(u->tags.items[k]));
    rc |= json_object_set_new_nocheck(o, "tags", tags);
    json_t *addr = json_object();
    rc |= json_object_set_new_nocheck(addr, "street", json_string(u->address.street));
    rc |= json_object_set_new_nocheck(addr, "city", json_string(u->address.city));
    rc |= json_object_set_new_nocheck(addr, "zip", json_string(u->address.zip));
    rc |= json_object_set_new_nocheck(o, "address", addr);
    size_t tn = ug_ts_format(ts, u->created_at);
    rc |= json_object_set_new_nocheck(o, "created_at", json_stringn(ts, tn));
    rc |= json_object_set_new_nocheck(o, "role", json_string(USER_ROLES[u->role]));
    if (rc) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/*
 * Encode users[0..n) the jansson way: build the whole tree, json_dumpb it
 * (compact) into *buf (grown when too small), free the tree. Returns the
 * output length, or 0 on failure.
 */
static inline size_t users_encode_jansson(char **buf, size_t *cap, const User *users, size_t n)
{
    json_t *arr = json_array();
    if (!arr)
        return 0;
    for (size_t i = 0; i < n; i++) {
        json_t *o = users_to_json(&users[i]);
        if (!o || json_array_append_new(arr, o) != 0) {
            json_decref(arr);
            return 0;
        }
    }
    size_t need = json_dumpb(arr, *buf, *cap, JSON_COMPACT);
    if (need > *cap) {
        free(*buf);
        *cap = need + need / 8;
        *buf = ug_xmalloc(*cap);
        need = json_dumpb(arr, *buf, *cap, JSON_COMPACT);
    }
    json_decref(arr);
    return need;
}

/* ---- comparison ---------------------------------------------------------------------- */

static inline bool ug_streq(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

/* Compare two Users field by field; on a difference, name it in why. */
static inline bool users_equal(const User *a, const User *b, char *why, size_t whylen)
{
#define UG_DIFF(...) do { snprintf(why, whylen, __VA_ARGS__); return false; } while (0)
    if (a->id != b->id)
        UG_DIFF("id %" PRId64 " != %" PRId64, a->id, b->id);
    if (!ug_streq(a->name, b->name))
        UG_DIFF("name \"%s\" != \"%s\"", a->name ? a->name : "(null)", b->name ? b->name : "(null)");
    if (!ug_streq(a->email, b->email))
        UG_DIFF("email \"%s\" != \"%s\"", a->email ? a->email : "(null)", b->email ? b->email : "(null)");
    if (a->age != b->age)
        UG_DIFF("age %d != %d", (int)a->age, (int)b->age);
    if (a->active != b->active)
        UG_DIFF("active %d != %d", (int)a->active, (int)b->active);
    if (a->score != b->score)
        UG_DIFF("score %.17g != %.17g", a->score, b->score);
    if (a->tags.len != b->tags.len)
        UG_DIFF("tags.len %zu != %zu", a->tags.len, b->tags.len);
    for (size_t k = 0; k < a->tags.len; k++)
        if (!ug_streq(a->tags.items[k], b->tags.items[k]))
            UG_DIFF("tags[%zu] \"%s\" != \"%s\"", k, a->tags.items[k] ? a->tags.items[k] : "(null)",
                b->tags.items[k] ? b->tags.items[k] : "(null)");
    if (!ug_streq(a->address.street, b->address.street) || !ug_streq(a->address.city, b->address.city) ||
        !ug_streq(a->address.zip, b->address.zip))
        UG_DIFF("address differs");
    if (a->created_at != b->created_at)
        UG_DIFF("created_at %" PRId64 " != %" PRId64, a->created_at, b->created_at);
    if (a->role != b->role)
        UG_DIFF("role %d != %d", a->role, b->role);
    return true;
#undef UG_DIFF
}

/* ---- /proc/self/status ------------------------------------------------------------ */

/* Read "VmHWM:" and "VmRSS:" (kB). Returns false when unavailable. */
static inline bool ug_vm(long *hwm_kb, long *rss_kb)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return false;
    char line[256];
    *hwm_kb = *rss_kb = -1;
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "VmHWM:", 6) == 0)
            *hwm_kb = strtol(line + 6, NULL, 10);
        else if (strncmp(line, "VmRSS:", 6) == 0)
            *rss_kb = strtol(line + 6, NULL, 10);
    }
    fclose(f);
    return *hwm_kb >= 0 && *rss_kb >= 0;
}

/* Reset VmHWM to the current RSS ("echo 5 > /proc/self/clear_refs"). */
static inline bool ug_reset_hwm(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f)
        return false;
    bool ok = fputs("5", f) >= 0;
    return fclose(f) == 0 && ok;
}

#endif
