/*
 * formats.c - the string formats of bk_check.format (JSON Schema "format").
 *
 * Each check is a pure function of the bytes s[0..n): it never reads past
 * n (inputs need not be NUL-terminated, and may contain NUL), allocates
 * nothing, depends on no locale and keeps no state, so it is thread-safe.
 * The rules are strict and fixed; where common JSON Schema validators are
 * looser, the check is the conservative one and the rule says so.
 *
 * ---- rules (docs/validation.md#formats) ------------------------------------
 *
 * All formats are ASCII-only: a byte >= 0x80 anywhere fails every format
 * (internationalised forms - idn-email, idn-hostname, iri - are separate
 * JSON Schema formats and are not offered). No format trims whitespace.
 *
 * email      addr-spec "local@domain" (RFC 5321/5322 subset), at most 254
 *            bytes in all.
 *            - local part: a dot-atom, 1..64 bytes: runs of atext
 *              (A-Z a-z 0-9 and ! # $ % & ' * + / = ? ^ _ ` { | } ~ -)
 *              separated by single dots; no leading, trailing or double
 *              dot. Quoted local parts ("a b"@x.com), comments and
 *              folding white space are refused, although RFC 5322 allows
 *              them.
 *            - domain: a host name by the hostname rules below (one label
 *              is enough: a@localhost passes), or an address literal:
 *              "[" IPv4 "]" or "[IPv6:" IPv6 "]" by the ipv4/ipv6 rules
 *              ("IPv6:" in any letter case, as ABNF strings are). General
 *              address literals ([tag:...]) are refused. As a host name's
 *              last label cannot be all digits, a@1.2.3.4 fails: write
 *              a@[1.2.3.4].
 *            - Internationalised addresses (RFC 6531, UTF-8 anywhere) are
 *              refused.
 *            Many validators (python-jsonschema among them) only look for
 *            an "@"; this check is much stricter.
 *
 * hostname   RFC 1123 host name: labels of 1..63 bytes of A-Z a-z 0-9 and
 *            "-", not starting or ending with "-", separated by single
 *            dots; at most 253 bytes in all. A single label is enough.
 *            Refused: the empty string, a trailing dot (the root, as in
 *            "example.com.") and a leading or double dot; a last label made
 *            only of digits (RFC 1123 2.1: a host name never has the form
 *            of a dotted-decimal address, since at least the highest-level
 *            label is alphabetic), so "1.2.3.4", "256.0.0.1" and "123"
 *            fail while "1host" and "a.b2" pass. Labels are not checked
 *            against the IDNA A-label rules ("ab--cd" and "xn--zz" pass).
 *
 * ipv4       Dotted quad: exactly four decimal octets 0..255 separated by
 *            three dots; an octet is 1..3 digits with no leading zero ("0"
 *            passes, "01" and "00" fail); nothing else (no port, no
 *            prefix length, no shorthand like "127.1").
 *
 * ipv6       RFC 4291 2.2 text: eight groups of 1..4 hex digits (either
 *            case, leading zeros allowed) separated by ":"; or at most one
 *            "::" standing for one or more zero groups (so at most seven
 *            explicit groups with it: "1:2:3:4:5:6:7::" passes,
 *            "1:2:3:4::5:6:7:8" fails); the last two groups may be written
 *            as an IPv4 address by the ipv4 rules ("::ffff:1.2.3.4",
 *            "1:2:3:4:5:6:1.2.3.4"). No zone id ("fe80::1%eth0" fails), no
 *            brackets, no prefix length.
 *
 * uri        RFC 3986 absolute URI: scheme ":" hier-part ["?" query]
 *            ["#" fragment], where
 *            - scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." );
 *            - hier-part = "//" authority path-abempty, or a path
 *              (absolute, rootless or empty: "mailto:a@b",
 *              "urn:isbn:0451450523" and "a:" pass);
 *            - authority = [userinfo "@"] host [":" port]; port = *DIGIT
 *              (any number of digits, none included, as the RFC says: no
 *              range check); host = "[" IPv6 "]" by the ipv6 rules, or a
 *              reg-name of unreserved, sub-delims and %XX (possibly empty,
 *              as in "file:///etc"; an IPv4 address is one, and reg-names
 *              are not checked as host names);
 *            - path segments, query and fragment use the RFC's characters
 *              (pchar = unreserved / %XX / sub-delims / ":" / "@"; query
 *              and fragment also "/" and "?");
 *            - "%" must start a %XX escape of two hex digits.
 *            Refused: relative references ("//x/y", "/p", "p"), spaces and
 *            every other character outside the RFC's sets (including "[",
 *            "]" outside an IPv6 host, "\", "<", ">", '"', "{", "}", "|",
 *            "^", "`", controls and non-ASCII: IRIs are refused), a second
 *            "#", zone ids in IPv6 hosts ("[fe80::1%25eth0]", RFC 6874)
 *            and IPvFuture hosts ("[v1.x]"), which RFC 3986 allows: this
 *            check is stricter there.
 *
 * uuid       8-4-4-4-12 hex digits in either case, exactly 36 bytes; any
 *            version and variant. No braces, no "urn:uuid:" prefix, no
 *            other grouping.
 *
 * date-time  RFC 3339 date-time, as libbackend's timestamp type reads it:
 *            YYYY-MM-DD "T" HH:MM:SS [.F] offset, "T" and "Z" in either
 *            case (RFC 3339 5.6 note), offset "Z" or +HH:MM / -HH:MM
 *            (hours 00..23, minutes 00..59).
 *            - Real calendar dates, leap years honoured (2024-02-29
 *              passes, 2023-02-29 and 1900-02-29 fail).
 *            - Hours 00..23, minutes 00..59, seconds 00..59: 24:00:00 and
 *              the leap second 23:59:60 fail (RFC 3339 allows 60; this is
 *              stricter).
 *            - The fraction has 1..9 digits and digits after the sixth
 *              must be zeros (timestamps hold microseconds); RFC 3339
 *              allows any number of digits, this is stricter.
 *            - The instant, in UTC, must lie in 0000-01-01T00:00:00Z ..
 *              9999-12-31T23:59:59.999999Z (so
 *              "0000-01-01T00:00:00+01:00" fails).
 *            - The space separator that RFC 3339 permits by agreement
 *              (and the timestamp type reads) is refused, as JSON Schema
 *              requires.
 *
 * date       RFC 3339 full-date YYYY-MM-DD, exactly 10 bytes, years
 *            0000..9999, real calendar dates with leap years (proleptic
 *            Gregorian). No week or ordinal dates, no basic form
 *            ("20240229").
 *
 * time       RFC 3339 full-time HH:MM:SS [.F] offset, by exactly the
 *            date-time rules above for the time part and the offset (an
 *            offset is required; 24:00:00 and 23:59:60 fail; at most nine
 *            fraction digits, zeros after the sixth).
 *
 * Compared with python-jsonschema 4.10 (draft 2020-12 FormatChecker, with
 * rfc3987 for uri; for date-time and time it needs rfc3339-validator,
 * which Debian does not package, so those rules were taken from its
 * source), on the corpus of tests/test_formats.c: same verdicts, except
 * that jsonschema
 * - email: accepts any text with an "@";
 * - uri: accepts IPvFuture hosts, leading zeros in the IPv4 tail of an
 *   IPv6 host, and a final newline;
 * - uuid: accepts extra dashes, "+", "_", non-ASCII digits and spaces
 *   around the hex (Python's UUID() reads it with int());
 * - date: accepts ISO 8601 basic and week dates ("20240229",
 *   "2024-W09-4"), and refuses the year 0000;
 * - date-time, time: accept any number of fraction digits and a final
 *   newline; for date-time also instants past 9999-12-31T23:59:59.999999Z
 *   in UTC, and it refuses the year 0000;
 * - hostname: uses the fqdn package, whose rules are not RFC 1123's and
 *   changed between its releases.
 */
#include "internal.h"

/* ==== character classes (ASCII only; any byte >= 0x80 is in none) ======== */

static inline bool bk__is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static inline bool bk__is_alpha(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}
static inline bool bk__is_alnum(unsigned char c) { return bk__is_alpha(c) || bk__is_digit(c); }
static inline bool bk__is_hex(unsigned char c)
{
    return bk__is_digit(c) || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f');
}

/* ==== ipv4, ipv6, hostname ================================================ */

/* Dotted quad, exactly s[0..n). */
static bool bk__ipv4_ok(const char *s, size_t n)
{
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part > 0) {
            if (i >= n || s[i] != '.')
                return false;
            i++;
        }
        size_t start = i;
        unsigned v = 0;
        while (i < n && i - start < 3 && bk__is_digit((unsigned char)s[i]))
            v = v * 10 + (unsigned)(s[i++] - '0');
        size_t len = i - start;
        if (len == 0 || v > 255 || (len > 1 && s[start] == '0'))
            return false;
    }
    return i == n;
}

/*
 * RFC 4291 text form, exactly s[0..n). Reads pieces left to right: a
 * group of hex digits, or (as the last piece) an IPv4 address worth two
 * groups; pieces are joined by ":" and at most one "::". With "::" the
 * explicit groups must leave at least one group for it to stand for.
 */
static bool bk__ipv6_ok(const char *s, size_t n)
{
    size_t i = 0, groups = 0;
    bool compressed = false;
    if (n < 2)
        return false;
    if (s[0] == ':') {
        if (s[1] != ':')
            return false;
        compressed = true;
        i = 2;
        if (i == n)
            return true;                    /* "::" */
    }
    for (;;) {
        size_t start = i;
        while (i < n && i - start < 5 && bk__is_hex((unsigned char)s[i]))
            i++;
        if (i < n && s[i] == '.') {         /* IPv4 tail: the rest of the text */
            if (groups > 6 || !bk__ipv4_ok(s + start, n - start))
                return false;
            groups += 2;
            break;
        }
        if (i == start || i - start > 4 || ++groups > 8)
            return false;
        if (i == n)
            break;
        if (s[i] != ':')
            return false;
        if (++i == n)
            return false;                   /* a trailing single ':' */
        if (s[i] == ':') {
            if (compressed)
                return false;               /* a second "::" (or ":::") */
            compressed = true;
            if (++i == n)
                break;
        }
    }
    return compressed ? groups <= 7 : groups == 8;
}

/* Classes of the host name and email checks, one table lookup a byte:
 * RFC 5322 atext, letter-digit-hyphen (RFC 1123 labels), digit. Bytes
 * >= 0x80 are in none. */
enum { BK__C_ATEXT = 1, BK__C_LDH = 2, BK__C_DIGIT = 4 };
static const unsigned char bk__cclass[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  /* 0x00 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  /* 0x10 */
    0, 1, 0, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 3, 0, 1,  /* 0x20 */
    7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 0, 0, 0, 1, 0, 1,  /* 0x30 */
    0, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,  /* 0x40 */
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 0, 0, 0, 1, 1,  /* 0x50 */
    1, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,  /* 0x60 */
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 1, 1, 1, 1, 0,  /* 0x70 */
};

/* RFC 1123 host name, exactly s[0..n) (see the rules above). */
static bool bk__hostname_ok(const char *s, size_t n)
{
    if (n == 0 || n > 253)
        return false;
    const unsigned char *p = (const unsigned char *)s, *e = p + n;
    for (;;) {
        const unsigned char *start = p;
        unsigned digits = BK__C_DIGIT;      /* kept while the label is all digits */
        while (p < e && (bk__cclass[*p] & BK__C_LDH))
            digits &= bk__cclass[*p++];
        size_t len = (size_t)(p - start);
        if (len == 0 || len > 63 || *start == '-' || p[-1] == '-')
            return false;
        if (p == e)
            return !digits;
        if (*p++ != '.')
            return false;                   /* the dot: another label must follow */
    }
}

/* ==== email =============================================================== */

#if defined(__SSE2__)
/*
 * The email rules for s[0..n), n <= 64, the common case, decided on bit
 * masks of the whole text (bit i: byte i is a letter, a digit, '.', '@',
 * '-'), built 16 bytes a step: no loop per byte and no branch per label.
 * Returns 1 (valid), 0 (invalid), or -1 when a byte is none of those (other
 * atext, '[', non-ASCII...): the byte-wise check decides. With n <= 64 the
 * length limits (local part 64, label 63, domain 253, all 254) hold.
 */
static int bk__email_short(const char *s, size_t n)
{
    uint64_t let = 0, dig = 0, dot = 0, at = 0, hyp = 0;
    for (size_t b = 0; b < n; b += 16) {
        unsigned char tail[16];
        const unsigned char *q = (const unsigned char *)s + b;
        unsigned skip = 0;                  /* leading bytes of the block seen before */
        if (n - b < 16 && n >= 16) {        /* never read past n: the last 16 bytes */
            skip = (unsigned)(16 - (n - b));
            q = (const unsigned char *)s + n - 16;
        } else if (n - b < 16) {
            memset(tail, 0, sizeof(tail));
            memcpy(tail, q, n - b);
            q = tail;
        }
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)q);
        __m128i lo = _mm_or_si128(v, _mm_set1_epi8(0x20));   /* bytes >= 0x80 stay negative */
        __m128i l = _mm_and_si128(_mm_cmpgt_epi8(lo, _mm_set1_epi8('a' - 1)),
                                  _mm_cmpgt_epi8(_mm_set1_epi8('z' + 1), lo));
        __m128i d = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('0' - 1)),
                                  _mm_cmpgt_epi8(_mm_set1_epi8('9' + 1), v));
#define BK__MASK(x) ((uint64_t)((unsigned)_mm_movemask_epi8(x) >> skip) << b)
        let |= BK__MASK(l);
        dig |= BK__MASK(d);
        dot |= BK__MASK(_mm_cmpeq_epi8(v, _mm_set1_epi8('.')));
        at |= BK__MASK(_mm_cmpeq_epi8(v, _mm_set1_epi8('@')));
        hyp |= BK__MASK(_mm_cmpeq_epi8(v, _mm_set1_epi8('-')));
#undef BK__MASK
    }
    uint64_t all = n == 64 ? ~0ull : (1ull << n) - 1;
    if ((let | dig | dot | at | hyp) != all)
        return -1;
    if (!at)
        return 0;
    unsigned a = (unsigned)__builtin_ctzll(at);         /* the first '@' ends the local part */
    uint64_t local = (1ull << a) - 1, dom = all & ~local & ~(1ull << a);
    uint64_t ldh = let | dig | hyp;
    /* local part: a dot-atom (letters, digits and '-' are atext) */
    if (a == 0 || (dot & 1) || (dot & (1ull << (a - 1))) || (dot & (dot >> 1) & local))
        return 0;
    /* domain: a host name (no second '@'; non-empty labels not starting or
     * ending with '-'; the last label not all digits) */
    if (!dom || (at & dom))
        return 0;
    uint64_t first = 1ull << (a + 1), last = 1ull << (n - 1);
    uint64_t starts = (dot << 1 | first) & dom, ends = (dot >> 1 | last) & dom;
    if ((dot & (starts | ends)) || (hyp & (starts | ends)))
        return 0;
    uint64_t ddot = dot & dom;
    unsigned lstart = ddot ? 64 - (unsigned)__builtin_clzll(ddot) : a + 1;
    return (ldh & ~dig & dom & ~((1ull << lstart) - 1)) != 0;
}
#endif

static bool bk__email_ok(const char *s, size_t n)
{
    if (n > 254)
        return false;
#if defined(__SSE2__)
    if (n <= 64) {
        int r = bk__email_short(s, n);
        if (r >= 0)
            return r;
    }
#endif
    /* The local part, a dot-atom: non-empty atext runs joined by single
     * dots, ended by the first '@' (which is not atext). */
    const unsigned char *p = (const unsigned char *)s, *e = p + n;
    for (;;) {
        const unsigned char *run = p;
        while (p < e && (bk__cclass[*p] & BK__C_ATEXT))
            p++;
        if (p == run)
            return false;                   /* empty, or a leading, double or final dot */
        if (p < e && *p == '.')
            p++;
        else
            break;
    }
    if (p == e || *p != '@')
        return false;
    const char *at = (const char *)p;
    size_t ln = (size_t)(at - s);
    if (ln > 64)
        return false;
    const char *d = at + 1;
    size_t dn = n - ln - 1;
    if (dn >= 2 && d[0] == '[' && d[dn - 1] == ']') {
        const char *lit = d + 1;
        size_t len = dn - 2;
        static const char tag[] = "ipv6:";
        bool v6 = len >= 5;
        for (size_t k = 0; v6 && k < 5; k++) {
            unsigned char c = (unsigned char)lit[k];
            if (c >= 'A' && c <= 'Z')
                c = (unsigned char)(c - 'A' + 'a');
            v6 = c == (unsigned char)tag[k];
        }
        return v6 ? bk__ipv6_ok(lit + 5, len - 5) : bk__ipv4_ok(lit, len);
    }
    return bk__hostname_ok(d, dn);
}

/* ==== uri ================================================================= */

enum {
    BK__U_UNRES = 1,   /* ALPHA DIGIT - . _ ~ */
    BK__U_SUB   = 2,   /* ! $ & ' ( ) * + , ; = */
    BK__U_COLON = 4,
    BK__U_AT    = 8,
    BK__U_SLASH = 16,
    BK__U_QMARK = 32
};
#define BK__U_REGNAME  (BK__U_UNRES | BK__U_SUB)
#define BK__U_USERINFO (BK__U_REGNAME | BK__U_COLON)
#define BK__U_PCHAR    (BK__U_USERINFO | BK__U_AT)
#define BK__U_PATH     (BK__U_PCHAR | BK__U_SLASH)
#define BK__U_QUERY    (BK__U_PATH | BK__U_QMARK)   /* also fragment */

static unsigned bk__uri_class(unsigned char c)
{
    if (bk__is_alnum(c))
        return BK__U_UNRES;
    switch (c) {
    case '-': case '.': case '_': case '~':
        return BK__U_UNRES;
    case '!': case '$': case '&': case '\'': case '(': case ')': case '*': case '+':
    case ',': case ';': case '=':
        return BK__U_SUB;
    case ':': return BK__U_COLON;
    case '@': return BK__U_AT;
    case '/': return BK__U_SLASH;
    case '?': return BK__U_QMARK;
    default:  return 0;
    }
}

/* The end of the run from i of characters in `mask` or %XX escapes, within
 * s[0..n). A '%' without two hex digits after it ends the run (at the
 * '%'), so the caller, expecting a delimiter or the end there, fails. */
static size_t bk__uri_span(const char *s, size_t n, size_t i, unsigned mask)
{
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            if (n - i < 3 || !bk__is_hex((unsigned char)s[i + 1]) ||
                !bk__is_hex((unsigned char)s[i + 2]))
                break;
            i += 3;
        } else if (bk__uri_class(c) & mask) {
            i++;
        } else {
            break;
        }
    }
    return i;
}

/* authority = [userinfo "@"] host [":" port], exactly s[0..n). */
static bool bk__authority_ok(const char *s, size_t n)
{
    size_t i = 0;
    const char *at = memchr(s, '@', n);
    if (at != NULL) {
        size_t un = (size_t)(at - s);
        if (bk__uri_span(s, un, 0, BK__U_USERINFO) != un)
            return false;
        i = un + 1;
    }
    if (i < n && s[i] == '[') {
        const char *close = memchr(s + i, ']', n - i);
        if (close == NULL || !bk__ipv6_ok(s + i + 1, (size_t)(close - s) - i - 1))
            return false;
        i = (size_t)(close - s) + 1;
    } else {
        i = bk__uri_span(s, n, i, BK__U_REGNAME);
    }
    if (i < n && s[i] == ':')
        for (i++; i < n && bk__is_digit((unsigned char)s[i]); i++)
            ;
    return i == n;
}

static bool bk__uri_ok(const char *s, size_t n)
{
    if (n == 0 || !bk__is_alpha((unsigned char)s[0]))
        return false;
    size_t i = 1;
    while (i < n && (bk__is_alnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '-' ||
            s[i] == '.'))
        i++;
    if (i == n || s[i] != ':')
        return false;
    i++;
    if (n - i >= 2 && s[i] == '/' && s[i + 1] == '/') {
        size_t a = i + 2;
        for (i = a; i < n && s[i] != '/' && s[i] != '?' && s[i] != '#'; i++)
            ;
        if (!bk__authority_ok(s + a, i - a))
            return false;
    }
    /* After an authority the path is empty or starts with '/' (the
     * authority ends there); without one, "//" cannot start it. Either
     * way path characters are all that is left to check. */
    i = bk__uri_span(s, n, i, BK__U_PATH);
    if (i < n && s[i] == '?')
        i = bk__uri_span(s, n, i + 1, BK__U_QUERY);
    if (i < n && s[i] == '#')
        i = bk__uri_span(s, n, i + 1, BK__U_QUERY);
    return i == n;
}

/* ==== date-time, date, time, uuid ========================================= */

static bool bk__date_time_ok(const char *s, size_t n)
{
    int64_t us;
    if (n > 10 && s[10] == ' ')
        return false;                       /* RFC 3339 allows it by agreement only */
    return bk__ts_parse(s, n, &us);
}

/* full-time: checked as the date-time "1970-01-01T" + s, so that the time
 * and offset rules are exactly those of bk__ts_parse (an offset of at most
 * 23:59 keeps that instant inside its range). */
static bool bk__time_ok(const char *s, size_t n)
{
    static const char day[] = "1970-01-01T";
    char buf[sizeof day - 1 + 24];          /* HH:MM:SS.FFFFFFFFF+HH:MM is 24 */
    int64_t us;
    if (n > sizeof buf - (sizeof day - 1))
        return false;
    memcpy(buf, day, sizeof day - 1);
    if (n > 0)
        memcpy(buf + sizeof day - 1, s, n);
    return bk__ts_parse(buf, sizeof day - 1 + n, &us);
}

/* ==== the table =========================================================== */

static const char *const bk__format_names[] = {
    [BK_FORMAT_EMAIL] = "email",
    [BK_FORMAT_URI] = "uri",
    [BK_FORMAT_UUID] = "uuid",
    [BK_FORMAT_HOSTNAME] = "hostname",
    [BK_FORMAT_IPV4] = "ipv4",
    [BK_FORMAT_IPV6] = "ipv6",
    [BK_FORMAT_DATE_TIME] = "date-time",
    [BK_FORMAT_DATE] = "date",
    [BK_FORMAT_TIME] = "time",
};
#define BK__NFORMATS (sizeof bk__format_names / sizeof bk__format_names[0])

/*
 * Whether s[0..n) is valid for format f, by the rules at the top of this
 * file. BK_FORMAT_NONE accepts everything; an unknown value accepts
 * nothing. s may be NULL only when n is 0. Never reads past s[n - 1].
 */
bool bk__format_check(bk_format f, const char *s, size_t n)
{
    int32_t days;
    unsigned char uuid[16];
    if (s == NULL) {
        if (n != 0)
            return false;
        s = "";
    }
    switch (f) {
    case BK_FORMAT_NONE:      return true;
    case BK_FORMAT_EMAIL:     return bk__email_ok(s, n);
    case BK_FORMAT_URI:       return bk__uri_ok(s, n);
    case BK_FORMAT_UUID:      return bk__uuid_parse(s, n, uuid);
    case BK_FORMAT_HOSTNAME:  return bk__hostname_ok(s, n);
    case BK_FORMAT_IPV4:      return bk__ipv4_ok(s, n);
    case BK_FORMAT_IPV6:      return bk__ipv6_ok(s, n);
    case BK_FORMAT_DATE_TIME: return bk__date_time_ok(s, n);
    case BK_FORMAT_DATE:      return bk__date_parse(s, n, &days);
    case BK_FORMAT_TIME:      return bk__time_ok(s, n);
    }
    return false;
}

/* The JSON Schema name of f ("email", "date-time", ...); NULL for
 * BK_FORMAT_NONE and unknown values. */
const char *bk__format_name(bk_format f)
{
    if ((unsigned)f >= BK__NFORMATS)
        return NULL;
    return bk__format_names[f];
}

/* The format with this JSON Schema name (exact, case-sensitive match).
 * false, *out untouched, for NULL or an unknown name. */
bool bk__format_from_name(const char *name, bk_format *out)
{
    if (name == NULL)
        return false;
    for (size_t i = 1; i < BK__NFORMATS; i++)
        if (strcmp(name, bk__format_names[i]) == 0) {
            *out = (bk_format)i;
            return true;
        }
    return false;
}
