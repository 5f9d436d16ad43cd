/*
 * regex.c - the regular expressions of the `pattern` constraint of string
 * fields (docs/validation.md#patterns).
 *
 * The dialect is the part of ECMA-262 (with the `u` flag: the text is a
 * sequence of Unicode code points, not of UTF-16 units) that also means the
 * same in JSON Schema validators: literals, `.`, classes, \d \w \s and their
 * negations, \b \B, escapes, ^ $ (start and end of the input only), groups,
 * alternation and greedy or lazy quantifiers. Anything else (backreferences,
 * lookaround, named groups, flags, property escapes, unknown escapes, lone
 * braces or brackets) is a compile error naming the construct and its byte
 * offset, so a pattern either means here what it means in the schema
 * exported for it, or is refused. One leniency: \- is accepted outside a
 * class too (ECMA-262 allows it only inside one under the u flag).
 *
 * Patterns are trusted to be small, the text searched is not. So:
 *   - compiling is bounded: at most RE_MAX_PATTERN bytes, groups nested at
 *     most RE_MAX_DEPTH deep (the parser and the code generator recurse on
 *     the pattern's structure, never on the text), counts in {n,m} at most
 *     RE_MAX_REPEAT, and at most RE_MAX_INSTS NFA states once counted
 *     repetitions are expanded (e{2,4} becomes e e e? e?); the size is
 *     computed on the syntax tree before the program is allocated;
 *   - searching simulates the Thompson NFA (a Pike VM without captures,
 *     since only a yes/no answer is wanted: the live states are a bitset),
 *     one code point at a time. Time is O(length of text * states) whatever
 *     the pattern and text, nothing backtracks, nothing recurses, and no
 *     byte at or after s[n] is read. The scratch space is a fixed area on
 *     the stack (about 18 KB), so a search never allocates and never writes
 *     to the compiled expression: one bk__re may be searched from many
 *     threads at once.
 *
 * Memory comes from bk__malloc and friends; every allocation failure while
 * compiling returns BK_ENOMEM and frees whatever was allocated.
 */
#include <stdarg.h>
#include <stdio.h>
#include "internal.h"

#define RE_MAX_PATTERN 4096u         /* bytes */
#define RE_MAX_DEPTH   64            /* nested groups */
#define RE_MAX_REPEAT  1000          /* n and m in {n,m} */
#define RE_MAX_INSTS   8192u         /* NFA states, MATCH included (fits uint16_t) */
#define RE_WORDS       (RE_MAX_INSTS / 64u)
#define RE_MAX_CP      0x10FFFFu
#define RE_NONE        0xFFFFFFFFu   /* no code point (before the start, after the end) */
#define RE_NIL         UINT32_MAX    /* end of a chain of jumps to patch */

/* ==== the compiled program ================================================= */

enum { OP_CHAR, OP_CLASS, OP_SPLIT, OP_JMP, OP_BOL, OP_EOL, OP_WORDB, OP_NWORDB, OP_MATCH };

typedef struct re_inst {
    uint32_t op;
    uint32_t x, y;      /* CHAR: code point; CLASS: class index; SPLIT: x, y; JMP: x */
} re_inst;

/* A set of code points: sorted, disjoint, non-adjacent ranges
 * ranges[2*first .. 2*(first+count)) as (lo, hi) pairs, plus a bitmap of
 * its ASCII part. */
typedef struct re_class {
    uint64_t ascii[2];
    uint32_t first, count;
} re_class;

struct bk__re {
    re_inst *prog;          /* ninst instructions; the last one is MATCH */
    uint32_t ninst;
    re_class *classes;
    uint32_t *ranges;       /* (lo, hi) pairs, shared by the classes */
    bool anchored;          /* the program starts with ^: only position 0 can start a match */
};

/* ==== UTF-8 ================================================================= */

/* Decode the code point at p[0..avail), avail >= 1. Returns its length in
 * bytes, or 0 when the bytes there are not valid UTF-8 (an overlong form, a
 * surrogate, a value past U+10FFFF, a bad or missing continuation byte);
 * *cp is then U+FFFD. Never reads p[avail] or beyond. */
static size_t re_utf8(const unsigned char *p, size_t avail, uint32_t *cp)
{
    uint32_t b = p[0], c, min;
    size_t len;
    *cp = 0xFFFDu;
    if (b < 0x80) {
        *cp = b;
        return 1;
    }
    if (b >= 0xC2 && b <= 0xDF) {
        len = 2; c = b & 0x1F; min = 0x80;
    } else if (b >= 0xE0 && b <= 0xEF) {
        len = 3; c = b & 0x0F; min = 0x800;
    } else if (b >= 0xF0 && b <= 0xF4) {
        len = 4; c = b & 0x07; min = 0x10000;
    } else {
        return 0;
    }
    if (avail < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (p[i] & 0x3Fu);
    }
    if (c < min || c > RE_MAX_CP || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return len;
}

/* ==== predefined sets (ECMA-262 CharacterClassEscape, ASCII \d \w) ======== */

static const uint32_t RE_DIGIT[] = { 0x30, 0x39 };
static const uint32_t RE_WORD[] = { 0x30, 0x39, 0x41, 0x5A, 0x5F, 0x5F, 0x61, 0x7A };
/* WhiteSpace and LineTerminator: TAB LF VT FF CR, SPACE, NBSP, the Zs
 * category (U+1680, U+2000..U+200A, U+202F, U+205F, U+3000), LS, PS and the
 * BOM. */
static const uint32_t RE_SPACE[] = {
    0x09, 0x0D, 0x20, 0x20, 0xA0, 0xA0, 0x1680, 0x1680, 0x2000, 0x200A,
    0x2028, 0x2029, 0x202F, 0x202F, 0x205F, 0x205F, 0x3000, 0x3000, 0xFEFF, 0xFEFF,
};
/* `.` is everything but these (the LineTerminators). */
static const uint32_t RE_LINE_END[] = { 0x0A, 0x0A, 0x0D, 0x0D, 0x2028, 0x2029 };

typedef struct re_set {
    const uint32_t *r;
    size_t n;               /* pairs */
} re_set;

#define RE_SET(a) ((re_set){ (a), sizeof(a) / sizeof((a)[0]) / 2 })

static bool re_is_word(uint32_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
        c == '_';
}

/* ==== parser ================================================================= */

enum { N_CAT, N_ALT, N_REP, N_CHAR, N_CLASS, N_BOL, N_EOL, N_WORDB, N_NWORDB };

/* A syntax tree node. Children are a list through `next`. */
typedef struct re_node {
    uint32_t type;
    int32_t first, last, next;
    uint32_t val;           /* CHAR: code point; CLASS: class index */
    int32_t min, max;       /* REP; max < 0: no upper bound */
} re_node;

typedef struct re_parser {
    const unsigned char *s;
    size_t len, pos;
    re_node *nodes;
    size_t nnodes, cnodes;
    uint32_t *ranges;       /* (lo, hi) pairs */
    size_t nranges, cranges;/* in pairs */
    re_class *classes;
    size_t nclasses, cclasses;
    char *errbuf;
    size_t errlen;
    bk_status st;           /* first failure */
} re_parser;

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void re_error(re_parser *ps, bk_status st, const char *fmt, ...)
{
    if (ps->st != BK_OK)
        return;
    ps->st = st;
    if (ps->errbuf && ps->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ps->errbuf, ps->errlen, fmt, ap);
        va_end(ap);
    }
}

static void re_oom(re_parser *ps)
{
    re_error(ps, BK_ENOMEM, "out of memory");
}

/* Make room for `need` elements of `size` bytes in arr (capacity *cap).
 * Returns the array (moved or not), or NULL on failure with arr intact. */
static void *re_grow(void *arr, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap && arr)
        return arr;
    size_t ncap = *cap ? *cap : 16;
    while (ncap < need)
        ncap *= 2;
    if (ncap > SIZE_MAX / size)
        return NULL;
    void *p = bk__realloc(arr, ncap * size);
    if (p)
        *cap = ncap;
    return p;
}

static int32_t re_node_new(re_parser *ps, uint32_t type)
{
    re_node *p = re_grow(ps->nodes, &ps->cnodes, ps->nnodes + 1, sizeof(*p));
    if (!p) {
        re_oom(ps);
        return -1;
    }
    ps->nodes = p;
    re_node *n = &p[ps->nnodes];
    memset(n, 0, sizeof(*n));
    n->type = type;
    n->first = n->last = n->next = -1;
    return (int32_t)ps->nnodes++;
}

static void re_node_append(re_parser *ps, int32_t parent, int32_t child)
{
    re_node *p = &ps->nodes[parent];
    if (p->last >= 0)
        ps->nodes[p->last].next = child;
    else
        p->first = child;
    p->last = child;
}

static bool re_range_add(re_parser *ps, uint32_t lo, uint32_t hi)
{
    uint32_t *r = re_grow(ps->ranges, &ps->cranges, ps->nranges + 1, 2 * sizeof(*r));
    if (!r) {
        re_oom(ps);
        return false;
    }
    ps->ranges = r;
    r[2 * ps->nranges] = lo;
    r[2 * ps->nranges + 1] = hi;
    ps->nranges++;
    return true;
}

/* Add a predefined set, or its complement within [0, U+10FFFF], to the
 * class being built. */
static bool re_set_add(re_parser *ps, re_set set, bool negate)
{
    if (!negate) {
        for (size_t i = 0; i < set.n; i++)
            if (!re_range_add(ps, set.r[2 * i], set.r[2 * i + 1]))
                return false;
        return true;
    }
    uint32_t next = 0;
    for (size_t i = 0; i < set.n; i++) {
        if (set.r[2 * i] > next && !re_range_add(ps, next, set.r[2 * i] - 1))
            return false;
        next = set.r[2 * i + 1] + 1;
    }
    return next > RE_MAX_CP || re_range_add(ps, next, RE_MAX_CP);
}

/* Sift-down of the heap sort below: pairs ordered by lo. */
static void re_sift(uint32_t *r, size_t root, size_t n)
{
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= n)
            return;
        if (child + 1 < n && r[2 * (child + 1)] > r[2 * child])
            child++;
        if (r[2 * root] >= r[2 * child])
            return;
        uint32_t lo = r[2 * root], hi = r[2 * root + 1];
        r[2 * root] = r[2 * child];
        r[2 * root + 1] = r[2 * child + 1];
        r[2 * child] = lo;
        r[2 * child + 1] = hi;
        root = child;
    }
}

/* Close the class whose ranges were added since pair index `first`: sort
 * (heap sort: no recursion, no allocation), merge overlapping and adjacent
 * ranges, complement when negated, and record it with its ASCII bitmap.
 * Returns the class index, or -1 on OOM. */
static int32_t re_class_finish(re_parser *ps, size_t first, bool negate)
{
    size_t k = ps->nranges - first;
    /* Room for the complement (one more range) and the class record. */
    uint32_t *rr = re_grow(ps->ranges, &ps->cranges, ps->nranges + 1, 2 * sizeof(*rr));
    if (!rr) {
        re_oom(ps);
        return -1;
    }
    ps->ranges = rr;
    re_class *cl = re_grow(ps->classes, &ps->cclasses, ps->nclasses + 1, sizeof(*cl));
    if (!cl) {
        re_oom(ps);
        return -1;
    }
    ps->classes = cl;

    uint32_t *r = ps->ranges + 2 * first;
    for (size_t i = k / 2; i-- > 0;)
        re_sift(r, i, k);
    for (size_t end = k; end > 1; end--) {
        uint32_t lo = r[0], hi = r[1];
        r[0] = r[2 * (end - 1)];
        r[1] = r[2 * (end - 1) + 1];
        r[2 * (end - 1)] = lo;
        r[2 * (end - 1) + 1] = hi;
        re_sift(r, 0, end - 1);
    }
    size_t m = 0;
    for (size_t i = 0; i < k; i++) {
        if (m > 0 && r[2 * i] <= r[2 * (m - 1) + 1] + 1) {
            if (r[2 * i + 1] > r[2 * (m - 1) + 1])
                r[2 * (m - 1) + 1] = r[2 * i + 1];
        } else {
            r[2 * m] = r[2 * i];
            r[2 * m + 1] = r[2 * i + 1];
            m++;
        }
    }
    if (negate) {
        /* Gap j is written at index j <= i after range i was read. */
        uint32_t next = 0;
        size_t j = 0;
        for (size_t i = 0; i < m; i++) {
            uint32_t lo = r[2 * i], hi = r[2 * i + 1];
            if (lo > next) {
                r[2 * j] = next;
                r[2 * j + 1] = lo - 1;
                j++;
            }
            next = hi + 1;
        }
        if (next <= RE_MAX_CP) {
            r[2 * j] = next;
            r[2 * j + 1] = RE_MAX_CP;
            j++;
        }
        m = j;
    }
    ps->nranges = first + m;

    re_class *c = &ps->classes[ps->nclasses];
    memset(c, 0, sizeof(*c));
    c->first = (uint32_t)first;
    c->count = (uint32_t)m;
    for (size_t i = 0; i < m && r[2 * i] < 128; i++) {
        uint32_t hi = r[2 * i + 1] < 127 ? r[2 * i + 1] : 127;
        for (uint32_t x = r[2 * i]; x <= hi; x++)
            c->ascii[x >> 6] |= UINT64_C(1) << (x & 63);
    }
    return (int32_t)ps->nclasses++;
}

/* A class node for a predefined set (`.`, \d, \W, ...). */
static int32_t re_set_node(re_parser *ps, re_set set, bool negate)
{
    size_t first = ps->nranges;
    if (!re_set_add(ps, set, negate))
        return -1;
    int32_t k = re_class_finish(ps, first, false);
    if (k < 0)
        return -1;
    int32_t n = re_node_new(ps, N_CLASS);
    if (n >= 0)
        ps->nodes[n].val = (uint32_t)k;
    return n;
}

static int re_peek(const re_parser *ps)
{
    return ps->pos < ps->len ? ps->s[ps->pos] : -1;
}

static int re_hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Exactly `digits` hex digits at the current position. */
static bool re_hex(re_parser *ps, size_t digits, uint32_t *out)
{
    uint32_t v = 0;
    if (ps->len - ps->pos < digits)
        return false;
    for (size_t i = 0; i < digits; i++) {
        int h = re_hexval(ps->s[ps->pos + i]);
        if (h < 0)
            return false;
        v = v * 16 + (uint32_t)h;
    }
    ps->pos += digits;
    *out = v;
    return true;
}

enum { ESC_CHAR, ESC_SET, ESC_WORDB, ESC_NWORDB };

typedef struct re_esc {
    int kind;
    uint32_t cp;            /* ESC_CHAR */
    re_set set;             /* ESC_SET */
    bool negate;
} re_esc;

/* Parse the escape at the current position (a backslash). In a class, \b
 * is U+0008 and \B an error; outside, they are the word-boundary
 * assertions. Returns false with the error recorded. */
static bool re_escape(re_parser *ps, bool in_class, re_esc *e)
{
    size_t at = ps->pos++;
    memset(e, 0, sizeof(*e));
    e->kind = ESC_CHAR;
    if (ps->pos >= ps->len) {
        re_error(ps, BK_EMODEL, "trailing backslash at offset %zu", at);
        return false;
    }
    int c = ps->s[ps->pos++];
    switch (c) {
    case 'd': case 'D':
        e->kind = ESC_SET; e->set = RE_SET(RE_DIGIT); e->negate = c == 'D';
        return true;
    case 'w': case 'W':
        e->kind = ESC_SET; e->set = RE_SET(RE_WORD); e->negate = c == 'W';
        return true;
    case 's': case 'S':
        e->kind = ESC_SET; e->set = RE_SET(RE_SPACE); e->negate = c == 'S';
        return true;
    case 'b':
        if (in_class)
            e->cp = 0x08;
        else
            e->kind = ESC_WORDB;
        return true;
    case 'B':
        if (in_class) {
            re_error(ps, BK_EMODEL, "\\B at offset %zu is not allowed in a character class", at);
            return false;
        }
        e->kind = ESC_NWORDB;
        return true;
    case 't': e->cp = 0x09; return true;
    case 'n': e->cp = 0x0A; return true;
    case 'v': e->cp = 0x0B; return true;
    case 'f': e->cp = 0x0C; return true;
    case 'r': e->cp = 0x0D; return true;
    case '0':
        if (re_peek(ps) >= '0' && re_peek(ps) <= '9') {
            re_error(ps, BK_EMODEL, "octal escape at offset %zu is not supported", at);
            return false;
        }
        e->cp = 0;
        return true;
    case '1': case '2': case '3': case '4': case '5': case '6': case '7': case '8': case '9':
        re_error(ps, BK_EMODEL, "backreference \\%c at offset %zu is not supported", c, at);
        return false;
    case 'k':
        re_error(ps, BK_EMODEL, "named backreference \\k at offset %zu is not supported", at);
        return false;
    case 'p': case 'P':
        re_error(ps, BK_EMODEL,
            "Unicode property escape \\%c at offset %zu is not supported", c, at);
        return false;
    case 'x':
        if (!re_hex(ps, 2, &e->cp)) {
            re_error(ps, BK_EMODEL, "invalid \\x escape at offset %zu: expected 2 hex digits",
                at);
            return false;
        }
        return true;
    case 'u':
        if (re_peek(ps) == '{') {
            uint32_t v = 0;
            size_t digits = 0;
            int h;
            ps->pos++;
            while (ps->pos < ps->len && (h = re_hexval(ps->s[ps->pos])) >= 0) {
                if (v <= RE_MAX_CP)
                    v = v * 16 + (uint32_t)h;
                digits++;
                ps->pos++;
            }
            if (digits == 0 || re_peek(ps) != '}') {
                re_error(ps, BK_EMODEL,
                    "invalid \\u{...} escape at offset %zu: expected hex digits and '}'", at);
                return false;
            }
            ps->pos++;
            if (v > RE_MAX_CP) {
                re_error(ps, BK_EMODEL,
                    "\\u{...} escape at offset %zu is past U+10FFFF", at);
                return false;
            }
            e->cp = v;
            return true;
        }
        if (!re_hex(ps, 4, &e->cp)) {
            re_error(ps, BK_EMODEL,
                "invalid \\u escape at offset %zu: expected 4 hex digits or {...}", at);
            return false;
        }
        /* A surrogate pair written as two escapes is one code point. */
        if (e->cp >= 0xD800 && e->cp <= 0xDBFF && ps->len - ps->pos >= 6 &&
            ps->s[ps->pos] == '\\' && ps->s[ps->pos + 1] == 'u') {
            size_t save = ps->pos;
            uint32_t lo;
            ps->pos += 2;
            if (re_hex(ps, 4, &lo) && lo >= 0xDC00 && lo <= 0xDFFF)
                e->cp = 0x10000 + ((e->cp - 0xD800) << 10) + (lo - 0xDC00);
            else
                ps->pos = save;
        }
        return true;
    case '^': case '$': case '\\': case '.': case '*': case '+': case '?': case '(': case ')':
    case '[': case ']': case '{': case '}': case '|': case '/': case '-':
        e->cp = (uint32_t)c;
        return true;
    default:
        if (c >= 0x21 && c < 0x7F)
            re_error(ps, BK_EMODEL, "unknown escape \\%c at offset %zu", c, at);
        else
            re_error(ps, BK_EMODEL, "unknown escape at offset %zu", at);
        return false;
    }
}

/* One literal code point at the current position (the pattern was checked
 * to be valid UTF-8). */
static uint32_t re_literal(re_parser *ps)
{
    uint32_t cp;
    size_t n = re_utf8(ps->s + ps->pos, ps->len - ps->pos, &cp);
    ps->pos += n ? n : 1;
    return cp;
}

/* One member of a class: a literal, an escaped code point or a set. */
static bool re_class_atom(re_parser *ps, re_esc *e)
{
    if (ps->s[ps->pos] == '\\')
        return re_escape(ps, true, e);
    memset(e, 0, sizeof(*e));
    e->kind = ESC_CHAR;
    e->cp = re_literal(ps);
    return true;
}

/* Parse [...] at the current position into a class node. */
static int32_t re_parse_class(re_parser *ps)
{
    size_t at = ps->pos++;
    bool negate = false;
    size_t first = ps->nranges;
    if (re_peek(ps) == '^') {
        negate = true;
        ps->pos++;
    }
    for (;;) {
        if (ps->pos >= ps->len) {
            re_error(ps, BK_EMODEL,
                "unterminated character class: '[' at offset %zu is never closed", at);
            return -1;
        }
        if (ps->s[ps->pos] == ']') {
            ps->pos++;
            break;
        }
        size_t lo_at = ps->pos;
        re_esc lo, hi;
        if (!re_class_atom(ps, &lo))
            return -1;
        bool range = ps->pos + 1 < ps->len && ps->s[ps->pos] == '-' && ps->s[ps->pos + 1] != ']';
        if (lo.kind == ESC_SET) {
            if (range) {
                re_error(ps, BK_EMODEL,
                    "character class escape at offset %zu cannot bound a range", lo_at);
                return -1;
            }
            if (!re_set_add(ps, lo.set, lo.negate))
                return -1;
            continue;
        }
        if (!range) {
            if (!re_range_add(ps, lo.cp, lo.cp))
                return -1;
            continue;
        }
        ps->pos++;              /* '-' */
        size_t hi_at = ps->pos;
        if (!re_class_atom(ps, &hi))
            return -1;
        if (hi.kind == ESC_SET) {
            re_error(ps, BK_EMODEL,
                "character class escape at offset %zu cannot bound a range", hi_at);
            return -1;
        }
        if (hi.cp < lo.cp) {
            re_error(ps, BK_EMODEL, "character class range out of order at offset %zu", lo_at);
            return -1;
        }
        if (!re_range_add(ps, lo.cp, hi.cp))
            return -1;
    }
    int32_t k = re_class_finish(ps, first, negate);
    if (k < 0)
        return -1;
    int32_t n = re_node_new(ps, N_CLASS);
    if (n >= 0)
        ps->nodes[n].val = (uint32_t)k;
    return n;
}

/* Decimal count of a {n,m} quantifier; -1 if no digit. Values over the
 * limit read as RE_MAX_REPEAT + 1. */
static int32_t re_count(re_parser *ps)
{
    int32_t v = -1;
    while (ps->pos < ps->len && ps->s[ps->pos] >= '0' && ps->s[ps->pos] <= '9') {
        int32_t d = ps->s[ps->pos++] - '0';
        v = v < 0 ? d : v * 10 + d;
        if (v > RE_MAX_REPEAT)
            v = RE_MAX_REPEAT + 1;
    }
    return v;
}

/* Parse {n}, {n,} or {n,m} at the current position ('{'). */
static bool re_braces(re_parser *ps, int32_t *min, int32_t *max)
{
    size_t at = ps->pos++;
    int32_t n = re_count(ps), m;
    if (n < 0) {
        if (re_peek(ps) == ',')
            re_error(ps, BK_EMODEL,
                "invalid quantifier at offset %zu: {,m} is not ECMA-262, write {0,m}", at);
        else
            re_error(ps, BK_EMODEL,
                "invalid quantifier at offset %zu: expected {n}, {n,} or {n,m} "
                "(write \\{ for a literal brace)", at);
        return false;
    }
    if (re_peek(ps) == ',') {
        ps->pos++;
        m = re_count(ps);
    } else {
        m = n;
    }
    if (re_peek(ps) != '}') {
        re_error(ps, BK_EMODEL,
            "invalid quantifier at offset %zu: expected {n}, {n,} or {n,m} "
            "(write \\{ for a literal brace)", at);
        return false;
    }
    ps->pos++;
    if (n > RE_MAX_REPEAT || m > RE_MAX_REPEAT) {
        re_error(ps, BK_EMODEL, "repetition count at offset %zu exceeds the limit of %d", at,
            RE_MAX_REPEAT);
        return false;
    }
    if (m >= 0 && m < n) {
        re_error(ps, BK_EMODEL, "quantifier range out of order {%d,%d} at offset %zu", n, m,
            at);
        return false;
    }
    *min = n;
    *max = m;
    return true;
}

static int32_t re_parse_alt(re_parser *ps, int depth);

/* Parse (...), (?:...) at the current position; refuse the other (? forms. */
static int32_t re_parse_group(re_parser *ps, int depth)
{
    size_t at = ps->pos++;
    if (depth >= RE_MAX_DEPTH) {
        re_error(ps, BK_EMODEL, "groups nested deeper than %d at offset %zu", RE_MAX_DEPTH, at);
        return -1;
    }
    if (re_peek(ps) == '?') {
        int c1 = ps->pos + 1 < ps->len ? ps->s[ps->pos + 1] : -1;
        int c2 = ps->pos + 2 < ps->len ? ps->s[ps->pos + 2] : -1;
        if (c1 == ':') {
            ps->pos += 2;
        } else if (c1 == '=' || c1 == '!') {
            re_error(ps, BK_EMODEL, "lookahead (?%c at offset %zu is not supported", c1, at);
            return -1;
        } else if (c1 == '<' && (c2 == '=' || c2 == '!')) {
            re_error(ps, BK_EMODEL, "lookbehind (?<%c at offset %zu is not supported", c2, at);
            return -1;
        } else if (c1 == '<') {
            re_error(ps, BK_EMODEL,
                "named group (?<...> at offset %zu is not supported (use (?:...))", at);
            return -1;
        } else {
            re_error(ps, BK_EMODEL,
                "invalid group (? at offset %zu (only (?:...) is supported; no flags)", at);
            return -1;
        }
    }
    int32_t inner = re_parse_alt(ps, depth + 1);
    if (inner < 0)
        return -1;
    if (re_peek(ps) != ')') {
        re_error(ps, BK_EMODEL,
            "unbalanced parenthesis: '(' at offset %zu is never closed", at);
        return -1;
    }
    ps->pos++;
    return inner;
}

/* One atom: a literal, `.`, a class, an escape, an assertion or a group. */
static int32_t re_parse_atom(re_parser *ps, int depth)
{
    size_t at = ps->pos;
    int c = ps->s[ps->pos];
    int32_t n;
    re_esc e;
    switch (c) {
    case '^':
        ps->pos++;
        return re_node_new(ps, N_BOL);
    case '$':
        ps->pos++;
        return re_node_new(ps, N_EOL);
    case '.':
        ps->pos++;
        return re_set_node(ps, RE_SET(RE_LINE_END), true);
    case '(':
        return re_parse_group(ps, depth);
    case '[':
        return re_parse_class(ps);
    case '*': case '+': case '?':
        re_error(ps, BK_EMODEL, "nothing to repeat: '%c' at offset %zu", c, at);
        return -1;
    case '{':
        re_error(ps, BK_EMODEL,
            "nothing to repeat: '{' at offset %zu (write \\{ for a literal brace)", at);
        return -1;
    case '}': case ']':
        re_error(ps, BK_EMODEL, "unescaped '%c' at offset %zu (write \\%c)", c, at, c);
        return -1;
    case '\\':
        if (!re_escape(ps, false, &e))
            return -1;
        if (e.kind == ESC_SET)
            return re_set_node(ps, e.set, e.negate);
        if (e.kind == ESC_WORDB)
            return re_node_new(ps, N_WORDB);
        if (e.kind == ESC_NWORDB)
            return re_node_new(ps, N_NWORDB);
        n = re_node_new(ps, N_CHAR);
        if (n >= 0)
            ps->nodes[n].val = e.cp;
        return n;
    default: {
        uint32_t cp = re_literal(ps);
        n = re_node_new(ps, N_CHAR);
        if (n >= 0)
            ps->nodes[n].val = cp;
        return n;
    }
    }
}

/* An atom and its quantifier, if any. Assertions take none (ECMA-262 with
 * the u flag). */
static int32_t re_parse_term(re_parser *ps, int depth)
{
    size_t at = ps->pos;
    int c = ps->s[ps->pos];
    bool assertion = c == '^' || c == '$' ||
        (c == '\\' && ps->pos + 1 < ps->len &&
         (ps->s[ps->pos + 1] == 'b' || ps->s[ps->pos + 1] == 'B'));
    int32_t atom = re_parse_atom(ps, depth);
    if (atom < 0)
        return -1;
    int32_t min, max;
    switch (re_peek(ps)) {
    case '*': min = 0; max = -1; break;
    case '+': min = 1; max = -1; break;
    case '?': min = 0; max = 1; break;
    case '{': min = max = 0; break;
    default: return atom;
    }
    if (assertion) {
        re_error(ps, BK_EMODEL,
            "nothing to repeat: the assertion at offset %zu cannot take a quantifier", at);
        return -1;
    }
    if (re_peek(ps) == '{') {
        if (!re_braces(ps, &min, &max))
            return -1;
    } else {
        ps->pos++;
    }
    if (re_peek(ps) == '?')     /* lazy: the same for a yes/no search */
        ps->pos++;
    int32_t rep = re_node_new(ps, N_REP);
    if (rep < 0)
        return -1;
    ps->nodes[rep].min = min;
    ps->nodes[rep].max = max;
    re_node_append(ps, rep, atom);
    return rep;
}

/* A sequence of terms up to '|', ')' or the end. A ')' at depth 0 has no
 * '(' to close. */
static int32_t re_parse_cat(re_parser *ps, int depth)
{
    int32_t cat = re_node_new(ps, N_CAT);
    if (cat < 0)
        return -1;
    while (ps->pos < ps->len && ps->s[ps->pos] != '|') {
        if (ps->s[ps->pos] == ')') {
            if (depth == 0) {
                re_error(ps, BK_EMODEL,
                    "unbalanced parenthesis: ')' at offset %zu has no matching '('", ps->pos);
                return -1;
            }
            break;
        }
        int32_t t = re_parse_term(ps, depth);
        if (t < 0)
            return -1;
        re_node_append(ps, cat, t);
    }
    return cat;
}

/* Alternatives separated by '|'. */
static int32_t re_parse_alt(re_parser *ps, int depth)
{
    int32_t first = re_parse_cat(ps, depth);
    if (first < 0 || re_peek(ps) != '|')
        return first;
    int32_t alt = re_node_new(ps, N_ALT);
    if (alt < 0)
        return -1;
    re_node_append(ps, alt, first);
    while (re_peek(ps) == '|') {
        ps->pos++;
        int32_t next = re_parse_cat(ps, depth);
        if (next < 0)
            return -1;
        re_node_append(ps, alt, next);
    }
    return alt;
}

/* ==== code generation ======================================================= */

/* a + b and a * b, saturated just past the state limit. */
static size_t re_sat_add(size_t a, size_t b)
{
    size_t s = a + b;
    return s > RE_MAX_INSTS ? RE_MAX_INSTS + 1 : s;
}

static size_t re_sat_mul(size_t a, size_t b)
{
    if (a == 0 || b == 0)
        return 0;
    return a > (RE_MAX_INSTS + 1) / b ? RE_MAX_INSTS + 1 : re_sat_add(a * b, 0);
}

/* Instructions node i compiles to (capped at RE_MAX_INSTS + 1). Recursion
 * is bounded by the group nesting limit. */
static size_t re_size(const re_parser *ps, int32_t i)
{
    const re_node *n = &ps->nodes[i];
    size_t s = 0, k = 0;
    switch (n->type) {
    case N_CAT:
    case N_ALT:
        for (int32_t c = n->first; c >= 0; c = ps->nodes[c].next, k++)
            s = re_sat_add(s, re_size(ps, c));
        if (n->type == N_ALT && k > 1)
            s = re_sat_add(s, 2 * (k - 1));         /* SPLIT and JMP per alternative */
        return s;
    case N_REP:
        s = re_size(ps, n->first);
        if (s == 0)
            return 0;
        if (n->max < 0)                             /* e* = SPLIT e JMP; e{n,} = e^n SPLIT */
            return n->min == 0 ? re_sat_add(s, 2) : re_sat_add(re_sat_mul(s, (size_t)n->min), 1);
        return re_sat_add(re_sat_mul(s, (size_t)n->min),     /* e^n (SPLIT e)^(m-n) */
            re_sat_mul(s + 1, (size_t)(n->max - n->min)));
    default:
        return 1;
    }
}

typedef struct re_gen {
    const re_parser *ps;
    re_inst *prog;
    uint32_t pc;
} re_gen;

static uint32_t re_put(re_gen *g, uint32_t op, uint32_t x, uint32_t y)
{
    re_inst *in = &g->prog[g->pc];
    in->op = op;
    in->x = x;
    in->y = y;
    return g->pc++;
}

/* Point every instruction of the chain (linked through x, or y when use_y)
 * at target. */
static void re_patch(re_gen *g, uint32_t chain, bool use_y, uint32_t target)
{
    while (chain != RE_NIL) {
        re_inst *in = &g->prog[chain];
        uint32_t *f = use_y ? &in->y : &in->x;
        chain = *f;
        *f = target;
    }
}

/* Emit node i at g->pc. The program was sized by re_size, so it fits.
 * Recursion is bounded by the group nesting limit. */
static void re_emit(re_gen *g, int32_t i)
{
    const re_node *n = &g->ps->nodes[i];
    uint32_t chain = RE_NIL;
    switch (n->type) {
    case N_CHAR:   re_put(g, OP_CHAR, n->val, 0); return;
    case N_CLASS:  re_put(g, OP_CLASS, n->val, 0); return;
    case N_BOL:    re_put(g, OP_BOL, 0, 0); return;
    case N_EOL:    re_put(g, OP_EOL, 0, 0); return;
    case N_WORDB:  re_put(g, OP_WORDB, 0, 0); return;
    case N_NWORDB: re_put(g, OP_NWORDB, 0, 0); return;
    case N_CAT:
        for (int32_t c = n->first; c >= 0; c = g->ps->nodes[c].next)
            re_emit(g, c);
        return;
    case N_ALT:
        /* SPLIT L1 L2; L1: a; JMP end; L2: SPLIT ...; last; end: */
        for (int32_t c = n->first; c >= 0; c = g->ps->nodes[c].next) {
            if (g->ps->nodes[c].next < 0) {
                re_emit(g, c);
                break;
            }
            uint32_t split = re_put(g, OP_SPLIT, g->pc + 1, 0);
            re_emit(g, c);
            chain = re_put(g, OP_JMP, chain, 0);
            g->prog[split].y = g->pc;
        }
        re_patch(g, chain, false, g->pc);
        return;
    case N_REP: {
        if (re_size(g->ps, n->first) == 0)
            return;
        int32_t copies = n->max < 0 ? n->min - 1 : n->min;
        for (int32_t k = 0; k < copies; k++)
            re_emit(g, n->first);
        if (n->max < 0 && n->min == 0) {            /* L: SPLIT body end; body; JMP L; end: */
            uint32_t split = re_put(g, OP_SPLIT, g->pc + 1, 0);
            re_emit(g, n->first);
            re_put(g, OP_JMP, split, 0);
            g->prog[split].y = g->pc;
        } else if (n->max < 0) {                    /* L: body; SPLIT L next */
            uint32_t body = g->pc;
            re_emit(g, n->first);
            re_put(g, OP_SPLIT, body, g->pc + 1);
        } else {                                    /* (SPLIT body end; body)^(m-n) end: */
            for (int32_t k = n->min; k < n->max; k++) {
                chain = re_put(g, OP_SPLIT, g->pc + 1, chain);
                re_emit(g, n->first);
            }
            re_patch(g, chain, true, g->pc);
        }
        return;
    }
    default:
        return;
    }
}

/* ==== public (internal) entry points ======================================= */

/*
 * Compile `pattern` (a NUL-terminated UTF-8 string) into *out.
 *
 * Checks the size and the UTF-8 first, parses into a syntax tree, sizes the
 * program (counted repetitions expanded) and refuses it past the state
 * limit, then allocates and emits it. The classes and their ranges move
 * from the parser into the result; the tree is freed.
 *
 * Returns BK_OK; BK_EMODEL for a pattern outside the dialect or the limits,
 * with "<problem> at offset <byte>" in errbuf; BK_ENOMEM ("out of memory"
 * in errbuf) when an allocation fails; BK_EINVAL for NULL arguments. On
 * failure *out is NULL and nothing is left allocated. errbuf may be NULL
 * (errlen is then ignored); the message is truncated to errlen - 1 bytes.
 */
bk_status bk__re_compile(bk__re **out, const char *pattern, char *errbuf, size_t errlen)
{
    re_parser ps;
    bk__re *re = NULL;
    memset(&ps, 0, sizeof(ps));
    ps.errbuf = errbuf;
    ps.errlen = errlen;
    if (errbuf && errlen)
        errbuf[0] = '\0';
    if (out)
        *out = NULL;
    if (!out || !pattern) {
        re_error(&ps, BK_EINVAL, "no pattern");
        goto done;
    }
    ps.s = (const unsigned char *)pattern;
    ps.len = strlen(pattern);
    if (ps.len > RE_MAX_PATTERN) {
        re_error(&ps, BK_EMODEL, "pattern is %zu bytes, longer than the limit of %u",
            ps.len, RE_MAX_PATTERN);
        goto done;
    }
    for (size_t i = 0; i < ps.len;) {
        uint32_t cp;
        size_t n = re_utf8(ps.s + i, ps.len - i, &cp);
        if (n == 0) {
            re_error(&ps, BK_EMODEL, "invalid UTF-8 at offset %zu", i);
            goto done;
        }
        i += n;
    }

    int32_t root = re_parse_alt(&ps, 0);
    if (root < 0)
        goto done;
    size_t size = re_sat_add(re_size(&ps, root), 1);
    if (size > RE_MAX_INSTS) {
        re_error(&ps, BK_EMODEL,
            "pattern too large: more than %u NFA states once repetitions are expanded",
            RE_MAX_INSTS);
        goto done;
    }
    if (!(re = bk__calloc(1, sizeof(*re))) || !(re->prog = bk__calloc(size, sizeof(re_inst)))) {
        re_oom(&ps);
        goto done;
    }
    re_gen g = { &ps, re->prog, 0 };
    re_emit(&g, root);
    re_put(&g, OP_MATCH, 0, 0);
    re->ninst = g.pc;
    re->anchored = re->prog[0].op == OP_BOL;
    re->classes = ps.classes;
    re->ranges = ps.ranges;
    ps.classes = NULL;
    ps.ranges = NULL;

done:
    bk__free(ps.nodes);
    bk__free(ps.classes);
    bk__free(ps.ranges);
    if (ps.st != BK_OK) {
        bk__re_free(re);
        return ps.st;
    }
    *out = re;
    return BK_OK;
}

static bool re_class_has(const bk__re *re, const re_class *k, uint32_t c)
{
    if (c < 128)
        return (k->ascii[c >> 6] >> (c & 63)) & 1;
    const uint32_t *r = re->ranges + 2 * (size_t)k->first;
    size_t lo = 0, hi = k->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c < r[2 * mid])
            hi = mid;
        else if (c > r[2 * mid + 1])
            lo = mid + 1;
        else
            return true;
    }
    return false;
}

static unsigned re_ctz(uint64_t x)  /* x != 0 */
{
#if defined(__GNUC__)
    return (unsigned)__builtin_ctzll(x);
#else
    unsigned n = 0;
    while (!(x & 1)) {
        x >>= 1;
        n++;
    }
    return n;
#endif
}

/* What the assertions see at a position between two code points. */
typedef struct re_ctx {
    bool at_start, at_end, word_before, word_after;
} re_ctx;

/*
 * Add pc and every state reachable from it without consuming a code point
 * (through SPLIT, JMP and the assertions true in cx) to the set `set`, which
 * also serves as the visited mark, so each state is pushed at most once and
 * `stack` (RE_MAX_INSTS entries) cannot overflow. Returns true as soon as
 * MATCH is reached.
 */
static bool re_close(const bk__re *re, uint64_t *set, uint16_t *stack, uint32_t pc,
    const re_ctx *cx)
{
    size_t sp = 0;
#define RE_PUSH(p) do { uint32_t p_ = (p); \
        if (!(set[p_ >> 6] & (UINT64_C(1) << (p_ & 63)))) { \
            set[p_ >> 6] |= UINT64_C(1) << (p_ & 63); stack[sp++] = (uint16_t)p_; } } while (0)
    RE_PUSH(pc);
    while (sp > 0) {
        const re_inst *in = &re->prog[stack[--sp]];
        uint32_t next = (uint32_t)(in - re->prog) + 1;
        switch (in->op) {
        case OP_MATCH:  return true;
        case OP_JMP:    RE_PUSH(in->x); break;
        case OP_SPLIT:  RE_PUSH(in->y); RE_PUSH(in->x); break;
        case OP_BOL:    if (cx->at_start) RE_PUSH(next); break;
        case OP_EOL:    if (cx->at_end) RE_PUSH(next); break;
        case OP_WORDB:  if (cx->word_before != cx->word_after) RE_PUSH(next); break;
        case OP_NWORDB: if (cx->word_before == cx->word_after) RE_PUSH(next); break;
        default:        break;      /* CHAR, CLASS: wait for the next code point */
        }
    }
#undef RE_PUSH
    return false;
}

/* Decode the code point at p[0..avail) for the search: an invalid byte is
 * one U+FFFD. Returns the bytes consumed (>= 1). */
static size_t re_next(const unsigned char *p, size_t avail, uint32_t *cp)
{
    size_t n = re_utf8(p, avail, cp);
    return n ? n : 1;
}

/*
 * Whether some substring of s[0..n) matches re.
 *
 * The Thompson simulation: `cur` holds the states waiting for the code point
 * at `pos`, closed under the empty moves valid at `pos`. Unless the pattern
 * is anchored by a leading ^, the start state joins at every position, which
 * makes the search unanchored. Each code point moves the waiting states
 * that accept it into `next`, closed under the empty moves at the following
 * position (whose context needs the code point after it, decoded one ahead).
 * Reaching MATCH anywhere answers true at once.
 *
 * O(n * states) time, no allocation, about 18 KB of stack, reads nothing at
 * or past s[n]; invalid UTF-8 bytes read as U+FFFD each. False for a NULL re
 * (or a NULL s with n > 0).
 */
bool bk__re_search(const bk__re *re, const char *s, size_t n)
{
    uint64_t set_a[RE_WORDS], set_b[RE_WORDS];
    uint16_t stack[RE_MAX_INSTS];
    if (!re || (!s && n))
        return false;
    const unsigned char *p = (const unsigned char *)s;
    size_t words = ((size_t)re->ninst + 63) / 64;
    uint64_t *cur = set_a, *next = set_b;
    size_t pos = 0, clen = 0;
    uint32_t prev = RE_NONE, c = RE_NONE;
    memset(cur, 0, words * sizeof(*cur));
    if (n)
        clen = re_next(p, n, &c);
    for (;;) {
        re_ctx cx = { pos == 0, pos == n, re_is_word(prev), re_is_word(c) };
        if (pos == 0 || !re->anchored) {
            if (re_close(re, cur, stack, 0, &cx))
                return true;
        } else {
            bool live = false;
            for (size_t w = 0; w < words && !live; w++)
                live = cur[w] != 0;
            if (!live)
                return false;
        }
        if (pos == n)
            return false;
        size_t npos = pos + clen, nlen = 0;
        uint32_t c2 = RE_NONE;
        if (npos < n)
            nlen = re_next(p + npos, n - npos, &c2);
        re_ctx nx = { false, npos == n, re_is_word(c), re_is_word(c2) };
        memset(next, 0, words * sizeof(*next));
        for (size_t w = 0; w < words; w++) {
            uint64_t bits = cur[w];
            while (bits) {
                uint32_t pc = (uint32_t)(w * 64 + re_ctz(bits));
                bits &= bits - 1;
                const re_inst *in = &re->prog[pc];
                bool ok = in->op == OP_CHAR ? in->x == c
                    : in->op == OP_CLASS ? re_class_has(re, &re->classes[in->x], c) : false;
                if (!ok)
                    continue;
                uint32_t to = pc + 1, op = re->prog[to].op;
                if (op == OP_CHAR || op == OP_CLASS)    /* the common case, without the stack */
                    next[to >> 6] |= UINT64_C(1) << (to & 63);
                else if (re_close(re, next, stack, to, &nx))
                    return true;
            }
        }
        uint64_t *t = cur;
        cur = next;
        next = t;
        prev = c;
        c = c2;
        clen = nlen;
        pos = npos;
    }
}

void bk__re_free(bk__re *re)
{
    if (!re)
        return;
    bk__free(re->prog);
    bk__free(re->classes);
    bk__free(re->ranges);
    bk__free(re);
}
