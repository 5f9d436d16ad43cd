/*
 * test_regex.c - the pattern engine (lib/regex.c): the dialect, case by
 * case from tables; a compile error for every construct outside it; linear
 * time on inputs that make backtracking engines explode; large inputs; the
 * size and state limits; reads confined to s[0..n); an allocation-failure
 * sweep over compile; a differential run against POSIX extended regular
 * expressions on random patterns of the common subset; and threads sharing
 * one compiled expression.
 */
#include "test_util.h"
#include "test_chaos.h"
#include <pthread.h>
#include <regex.h>
#include "internal.h"

#define LEN_STR ((size_t)-1)     /* the input is NUL-terminated */

typedef struct match_case {
    const char *pattern;
    const char *input;
    size_t len;                  /* LEN_STR: strlen(input) */
    bool expect;
} match_case;

/* Compile (must succeed), search, free; prints the row on failure. */
static void run_matches(const match_case *t, size_t n)
{
    int failures = 0;
    for (size_t i = 0; i < n; i++) {
        bk__re *re = NULL;
        char err[256];
        bk_status st = bk__re_compile(&re, t[i].pattern, err, sizeof(err));
        if (st != BK_OK) {
            fprintf(stderr, "row %zu: /%s/ does not compile: %s\n", i, t[i].pattern, err);
            failures++;
            continue;
        }
        size_t len = t[i].len == LEN_STR ? strlen(t[i].input) : t[i].len;
        bool got = bk__re_search(re, t[i].input, len);
        if (got != t[i].expect) {
            fprintf(stderr, "row %zu: /%s/ on \"%s\": expected %s\n", i, t[i].pattern,
                t[i].input, t[i].expect ? "a match" : "no match");
            failures++;
        }
        bk__re_free(re);
    }
    assert_int_equal(failures, 0);
}

#define ROWS(t) (sizeof(t) / sizeof((t)[0]))

static const match_case LITERALS_AND_ANCHORS[] = {
    { "abc", "abc", LEN_STR, true },
    { "abc", "xxabcxx", LEN_STR, true },
    { "abc", "ab", LEN_STR, false },
    { "abc", "acb", LEN_STR, false },
    { "", "", LEN_STR, true },
    { "", "abc", LEN_STR, true },
    { "a/b", "a/b", LEN_STR, true },
    { "^abc", "abcd", LEN_STR, true },
    { "^abc", "xabc", LEN_STR, false },
    { "abc$", "xabc", LEN_STR, true },
    { "abc$", "abcx", LEN_STR, false },
    { "^abc$", "abc", LEN_STR, true },
    { "^abc$", "abc\n", LEN_STR, false },     /* $ is the end of input only */
    { "^abc$", "x\nabc", LEN_STR, false },    /* ^ is the start of input only */
    { "^$", "", LEN_STR, true },
    { "^$", "a", LEN_STR, false },
    { "^", "anything", LEN_STR, true },
    { "$", "", LEN_STR, true },
    { "a^b", "a^b", LEN_STR, false },
    { "a$b", "a$b", LEN_STR, false },
    { "^\\0$", "\0", 1, true },
    { "a\\0b", "a\0b", 3, true },
    { "^a.b$", "a\0b", 3, true },
    { "^.$", "a", LEN_STR, true },
    { "^.$", "\t", LEN_STR, true },
    { "^.$", "\n", LEN_STR, false },
    { "^.$", "\r", LEN_STR, false },
    { "^.$", "\xe2\x80\xa8", LEN_STR, false },  /* U+2028 */
    { "^.$", "\xe2\x80\xa9", LEN_STR, false },  /* U+2029 */
    { "^.$", "\xc2\x85", LEN_STR, true },       /* U+0085 is not a LineTerminator */
    { "a.c", "abc", LEN_STR, true },
    { "a.c", "a\nc", LEN_STR, false },
    { "^...$", "ab", LEN_STR, false },
};

static const match_case CLASSES_AND_ESCAPES[] = {
    { "^[abc]+$", "abcabc", LEN_STR, true },
    { "^[abc]+$", "abcd", LEN_STR, false },
    { "^[a-z]+$", "hello", LEN_STR, true },
    { "^[a-z]+$", "Hello", LEN_STR, false },
    { "^[^a-z]+$", "HELLO123", LEN_STR, true },
    { "^[^a-z]+$", "HELLo", LEN_STR, false },
    { "^[^a]$", "\n", LEN_STR, true },
    { "[-a]", "-", LEN_STR, true },
    { "[a-]", "-", LEN_STR, true },
    { "^[a-c-e]+$", "a-e", LEN_STR, true },
    { "^[a-c-e]+$", "d", LEN_STR, false },
    { "^[--0]+$", "-./0", LEN_STR, true },
    { "^[z-za-a]+$", "za", LEN_STR, true },
    { "^[a-fA-F0-9]+$", "DeadBeef09", LEN_STR, true },
    { "^[a-fA-F0-9]+$", "DeadBeefg", LEN_STR, false },
    { "^[]$", "", LEN_STR, false },          /* [] matches nothing */
    { "[]", "abc", LEN_STR, false },
    { "[^]", "x", LEN_STR, true },           /* [^] matches anything */
    { "[^]", "\n", LEN_STR, true },
    { "^[^]$", "", LEN_STR, false },
    { "[\\]]", "]", LEN_STR, true },
    { "[\\\\]", "\\", LEN_STR, true },
    { "[[]", "[", LEN_STR, true },
    { "[.]", "a", LEN_STR, false },
    { "[.]", ".", LEN_STR, true },
    { "^[\\^]$", "^", LEN_STR, true },
    { "^[a^]+$", "a^", LEN_STR, true },
    { "^[\\d-]+$", "12-3", LEN_STR, true },
    { "^[\\-a]+$", "a-", LEN_STR, true },
    { "[\\b]", "\b", LEN_STR, true },
    { "[\\b]", "b", LEN_STR, false },
    { "[\\D]", "5", LEN_STR, false },
    { "[\\D]", "x", LEN_STR, true },
    { "^[\\D5]+$", "x5y", LEN_STR, true },
    { "^[^\\D]+$", "123", LEN_STR, true },
    { "^[^\\D]+$", "12a", LEN_STR, false },
    { "^[\\s\\S]+$", "any\nthing \xe2\x80\xa8", LEN_STR, true },
    { "^[^\\W\\d]+$", "abc_", LEN_STR, true },
    { "^[^\\W\\d]+$", "abc1", LEN_STR, false },
    { "^[\\w.+-]+@[\\w-]+\\.[a-z]{2,}$", "john.doe+x@ex-ample.com", LEN_STR, true },
    { "^[\\w.+-]+@[\\w-]+\\.[a-z]{2,}$", "john doe@example.com", LEN_STR, false },
    { "\\d", "x1", LEN_STR, true },
    { "\\d", "xy", LEN_STR, false },
    { "^\\d+$", "\xd9\xa3", LEN_STR, false },  /* ARABIC-INDIC THREE: \d is ASCII */
    { "^\\D+$", "ab", LEN_STR, true },
    { "^\\D+$", "a1", LEN_STR, false },
    { "^\\w+$", "a_Z9", LEN_STR, true },
    { "^\\w+$", "a-b", LEN_STR, false },
    { "^\\w$", "\xc3\xa9", LEN_STR, false },   /* é: \w is ASCII */
    { "^\\W$", "\xc3\xa9", LEN_STR, true },
    { "^\\s+$", " \t\n\v\f\r", LEN_STR, true },
    { "^\\s$", "\xc2\xa0", LEN_STR, true },      /* U+00A0 */
    { "^\\s$", "\xef\xbb\xbf", LEN_STR, true },  /* U+FEFF */
    { "^\\s$", "\xe3\x80\x80", LEN_STR, true },  /* U+3000 */
    { "^\\s$", "\xe2\x80\x80", LEN_STR, true },  /* U+2000 */
    { "^\\s$", "\xe2\x80\x8a", LEN_STR, true },  /* U+200A */
    { "^\\s$", "\xe2\x80\x8b", LEN_STR, false }, /* U+200B is not Zs */
    { "^\\s$", "\xe1\x9a\x80", LEN_STR, true },  /* U+1680 */
    { "^\\s$", "\xe2\x80\xaf", LEN_STR, true },  /* U+202F */
    { "^\\s$", "\xe2\x81\x9f", LEN_STR, true },  /* U+205F */
    { "^\\s$", "\xe2\x80\xa8", LEN_STR, true },  /* U+2028 */
    { "^\\s$", "\xc2\x85", LEN_STR, false },     /* U+0085 */
    { "^\\s$", "\xe1\xa0\x8e", LEN_STR, false }, /* U+180E left Zs in Unicode 6.3 */
    { "^\\S$", "a", LEN_STR, true },
    { "^\\S$", " ", LEN_STR, false },
    { "^\\.\\*\\\\\\(\\)\\[\\]\\{\\}\\|\\?\\+\\^\\$\\/\\-$", ".*\\()[]{}|?+^$/-", LEN_STR, true },
    { "^\\t\\n\\r\\f\\v$", "\t\n\r\f\v", LEN_STR, true },
    { "^\\x41\\x7e$", "A~", LEN_STR, true },
    { "^\\u0041$", "A", LEN_STR, true },
    { "^\\u00e9$", "\xc3\xa9", LEN_STR, true },
    { "^\\u00E9$", "\xc3\xa9", LEN_STR, true },
    { "^\\u00e9$", "e\xcc\x81", LEN_STR, false },  /* decomposed é is two code points */
    { "^\\u{1F600}$", "\xf0\x9f\x98\x80", LEN_STR, true },
    { "^\\u{00000041}$", "A", LEN_STR, true },
    { "^\\u{10FFFF}$", "\xf4\x8f\xbf\xbf", LEN_STR, true },
    { "^\\uD83D\\uDE00$", "\xf0\x9f\x98\x80", LEN_STR, true },  /* surrogate pair */
    { "^[\\u0400-\\u04FF]+$", "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82", LEN_STR, true },
    { "^[\\u{1F600}-\\u{1F64F}]$", "\xf0\x9f\x98\x81", LEN_STR, true },
    { "^[\\x00-\\x7F]+$", "plain ascii", LEN_STR, true },
    { "^[\\x00-\\x7F]+$", "caf\xc3\xa9", LEN_STR, false },
};

static const match_case ALTERNATION_AND_QUANTIFIERS[] = {
    { "cat|dog", "hotdog", LEN_STR, true },
    { "cat|dog", "bird", LEN_STR, false },
    { "x|y|z", "z", LEN_STR, true },
    { "^(cat|dog)$", "dog", LEN_STR, true },
    { "^(cat|dog)$", "cats", LEN_STR, false },
    { "^cat|dog$", "cats", LEN_STR, true },      /* (^cat)|(dog$) */
    { "^cat|dog$", "a cat", LEN_STR, false },
    { "^(?:a|b|c)+$", "abcabc", LEN_STR, true },
    { "^(?:a|b|c)+$", "abcabd", LEN_STR, false },
    { "^(a|)$", "", LEN_STR, true },
    { "^(|a)$", "a", LEN_STR, true },
    { "^(?:)$", "", LEN_STR, true },
    { "^()$", "", LEN_STR, true },
    { "a|^b", "xb", LEN_STR, false },
    { "a|^b", "bx", LEN_STR, true },
    { "^(a|ab)(c|bcd)$", "abcd", LEN_STR, true },
    { "^(a|ab)(c|bcd)$", "abc", LEN_STR, true },
    { "^(a|ab)(c|bcd)$", "abd", LEN_STR, false },
    { "^a*$", "", LEN_STR, true },
    { "^a*$", "aaa", LEN_STR, true },
    { "^a*$", "aab", LEN_STR, false },
    { "^a+$", "", LEN_STR, false },
    { "^a+$", "aa", LEN_STR, true },
    { "^ab?c$", "ac", LEN_STR, true },
    { "^ab?c$", "abc", LEN_STR, true },
    { "^ab?c$", "abbc", LEN_STR, false },
    { "^a{3}$", "aaa", LEN_STR, true },
    { "^a{3}$", "aa", LEN_STR, false },
    { "^a{3}$", "aaaa", LEN_STR, false },
    { "^a{2,}$", "a", LEN_STR, false },
    { "^a{2,}$", "aa", LEN_STR, true },
    { "^a{2,}$", "aaaaa", LEN_STR, true },
    { "^a{2,3}$", "a", LEN_STR, false },
    { "^a{2,3}$", "aa", LEN_STR, true },
    { "^a{2,3}$", "aaa", LEN_STR, true },
    { "^a{2,3}$", "aaaa", LEN_STR, false },
    { "^a{0}$", "", LEN_STR, true },
    { "^a{0}$", "a", LEN_STR, false },
    { "^a{0,0}b$", "b", LEN_STR, true },
    { "^a{0,1}b$", "b", LEN_STR, true },
    { "^a{0,1}b$", "ab", LEN_STR, true },
    { "^a{0,}$", "aaaa", LEN_STR, true },
    { "^a{1,}$", "", LEN_STR, false },
    { "^a{1000}$", NULL, 1000, true },           /* filled in by the test: 1000 'a' */
    { "^(ab){2}$", "abab", LEN_STR, true },
    { "^(ab){2}$", "ab", LEN_STR, false },
    { "^(?:a|bc){2,3}$", "abca", LEN_STR, true },
    { "^(?:a|bc){2,3}$", "abcabc", LEN_STR, false },
    { "^a*?$", "aa", LEN_STR, true },
    { "^a+?$", "aa", LEN_STR, true },
    { "^a??$", "", LEN_STR, true },
    { "^a??b$", "ab", LEN_STR, true },
    { "^a{1,2}?$", "aa", LEN_STR, true },
    { "^a{2,}?$", "a", LEN_STR, false },
    { "^(a*)*$", "aaa", LEN_STR, true },
    { "^(a*)*b$", "aaa", LEN_STR, false },
    { "^(a*)+$", "", LEN_STR, true },
    { "^(a|a)*$", "aaaa", LEN_STR, true },
    { "^(?:)*$", "", LEN_STR, true },
    { "^(?:)+a$", "a", LEN_STR, true },
    { "^(?:){1000}a$", "a", LEN_STR, true },
    { "^(a?){3}a{3}$", "aaa", LEN_STR, true },
    { "^(a?){3}a{3}$", "aaaaaaa", LEN_STR, false },
    { "^\\d{3}-\\d{4}$", "555-1234", LEN_STR, true },
    { "^\\d{3}-\\d{4}$", "555-12345", LEN_STR, false },
    { "^(\\d{1,3}\\.){3}\\d{1,3}$", "192.168.0.1", LEN_STR, true },
    { "^(\\d{1,3}\\.){3}\\d{1,3}$", "192.168.0", LEN_STR, false },
    { "^(^a)+$", "a", LEN_STR, true },
    { "^(^a)+$", "aa", LEN_STR, false },
    { "(^)*a", "ba", LEN_STR, true },
    { "(a$)+", "ba", LEN_STR, true },
    { "^((a)|b)+$", "abba", LEN_STR, true },
    { "\\bcat\\b", "the cat sat", LEN_STR, true },
    { "\\bcat\\b", "concat", LEN_STR, false },
    { "\\bcat\\b", "cats", LEN_STR, false },
    { "\\bcat\\b", "cat", LEN_STR, true },
    { "\\Bcat", "concat", LEN_STR, true },
    { "\\Bcat", "cat", LEN_STR, false },
    { "\\b", "", LEN_STR, false },
    { "\\B", "", LEN_STR, true },
    { "\\b", "a", LEN_STR, true },
    { "\\b", " ", LEN_STR, false },
    { "a\\b", "a\xc3\xa9", LEN_STR, true },       /* é is not a word character */
    { "^\\w+\\b.\\b\\w+$", "ab-cd", LEN_STR, true },
    { "\\b_", "a_", LEN_STR, false },
};

static const match_case UNICODE[] = {
    { "^.{3}$", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", LEN_STR, true },   /* 日本語 */
    { "^.{3}$", "ab", LEN_STR, false },
    { "^.{3}$", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9ex", LEN_STR, false },
    { "^.{9}$", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", LEN_STR, false },  /* not bytes */
    { "\xe6\x97\xa5\xe6\x9c\xac", "\xe3\x81\x93\xe3\x82\x93\xe6\x97\xa5\xe6\x9c\xac", LEN_STR,
      true },
    { "^[\xc3\xa9-\xc3\xab]+$", "\xc3\xa9\xc3\xaa\xc3\xab", LEN_STR, true }, /* [é-ë] on éêë */
    { "^[\xc3\xa9-\xc3\xab]$", "e", LEN_STR, false },
    { "^[\xc3\xa9-\xc3\xab]$", "\xc3\xa8", LEN_STR, false },  /* è */
    { "^[\xc3\xa9-\xc3\xab]$", "\xc3\xac", LEN_STR, false },  /* ì */
    { "^[^\xc3\xa9-\xc3\xab]$", "\xc3\xac", LEN_STR, true },
    { "^\xf0\x9f\x98\x80+$", "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80", LEN_STR, true },
    { "^\xf0\x9f\x98\x80+$", "\xf0\x9f\x98\x80\xf0\x9f\x98\x80" "a", LEN_STR, false },
    { "^\xf0\x9f\x98\x80+$", "", LEN_STR, false },
    { "^\xf0\x9f\x98\x80{2}$", "\xf0\x9f\x98\x80\xf0\x9f\x98\x80", LEN_STR, true },
    { "^[\xf0\x9f\x98\x80-\xf0\x9f\x98\x82]$", "\xf0\x9f\x98\x81", LEN_STR, true },
    { "^[^\xf0\x9f\x98\x80]$", "\xf0\x9f\x98\x81", LEN_STR, true },
    { "^[^\xf0\x9f\x98\x80]$", "\xf0\x9f\x98\x80", LEN_STR, false },
    { "^.$", "\xf0\x9f\x98\x80", LEN_STR, true },
    { "^..$", "\xf0\x9f\x98\x80", LEN_STR, false },
    { "^\\S$", "\xf0\x9f\x98\x80", LEN_STR, true },
    { "^(?:\xe6\x97\xa5|\xe6\x9c\xac)+$", "\xe6\x9c\xac\xe6\x97\xa5", LEN_STR, true },
    { "^\\uFFFD$", "\xef\xbf\xbd", LEN_STR, true },
};

static void literals_and_anchors_match_as_in_ecma(void **state)
{
    (void)state;
    run_matches(LITERALS_AND_ANCHORS, ROWS(LITERALS_AND_ANCHORS));
}

static void classes_and_escapes_match_as_in_ecma(void **state)
{
    (void)state;
    run_matches(CLASSES_AND_ESCAPES, ROWS(CLASSES_AND_ESCAPES));
}

static void alternation_quantifiers_and_boundaries_match_as_in_ecma(void **state)
{
    (void)state;
    match_case t[ROWS(ALTERNATION_AND_QUANTIFIERS)];
    char *as = malloc(1001);
    assert_non_null(as);
    memset(as, 'a', 1000);
    as[1000] = '\0';
    memcpy(t, ALTERNATION_AND_QUANTIFIERS, sizeof(t));
    for (size_t i = 0; i < ROWS(t); i++)
        if (!t[i].input)
            t[i].input = as;
    run_matches(t, ROWS(t));
    free(as);
}

static void text_is_code_points_not_bytes(void **state)
{
    (void)state;
    run_matches(UNICODE, ROWS(UNICODE));
}

typedef struct error_case {
    const char *pattern;
    const char *message;         /* must occur in errbuf */
} error_case;

static const error_case ERRORS[] = {
    { "(abc", "unbalanced parenthesis: '(' at offset 0" },
    { "ab(c", "unbalanced parenthesis: '(' at offset 2" },
    { "abc)", "unbalanced parenthesis: ')' at offset 3" },
    { "a(b)c)d", "')' at offset 5" },
    { "((a)", "unbalanced parenthesis: '(' at offset 0" },
    { ")", "unbalanced parenthesis" },
    { "*a", "nothing to repeat: '*' at offset 0" },
    { "a|*", "nothing to repeat: '*' at offset 2" },
    { "a**", "nothing to repeat: '*' at offset 2" },
    { "a+*", "nothing to repeat" },
    { "a???", "nothing to repeat: '?' at offset 3" },
    { "+", "nothing to repeat: '+'" },
    { "?", "nothing to repeat: '?'" },
    { "(*)", "nothing to repeat" },
    { "(?:+)", "nothing to repeat" },
    { "a{2}{3}", "nothing to repeat: '{' at offset 4" },
    { "{2}", "nothing to repeat: '{'" },
    { "x{", "invalid quantifier at offset 1" },
    { "x{}", "invalid quantifier" },
    { "x{a}", "invalid quantifier" },
    { "x{1", "invalid quantifier" },
    { "x{1,2", "invalid quantifier" },
    { "x{1,a}", "invalid quantifier" },
    { "x{,3}", "{,m} is not ECMA-262" },
    { "x{2,1}", "quantifier range out of order {2,1}" },
    { "x{1001}", "exceeds the limit of 1000" },
    { "x{0,1001}", "exceeds the limit of 1000" },
    { "x{99999999999999999999}", "exceeds the limit of 1000" },
    { "a}", "unescaped '}' at offset 1" },
    { "a]", "unescaped ']' at offset 1" },
    { "(a)\\1", "backreference \\1 at offset 3 is not supported" },
    { "\\9", "backreference \\9" },
    { "(?<x>a)\\k<x>", "named group" },
    { "\\k<x>", "named backreference \\k" },
    { "(?=a)", "lookahead (?= at offset 0 is not supported" },
    { "a(?!b)", "lookahead (?! at offset 1" },
    { "(?<=a)b", "lookbehind (?<= at offset 0" },
    { "(?<!a)b", "lookbehind (?<!" },
    { "(?<name>a)", "named group (?<...> at offset 0 is not supported" },
    { "(?i)a", "invalid group (? at offset 0" },
    { "(?", "invalid group" },
    { "(?P<n>a)", "invalid group" },
    { "\\q", "unknown escape \\q at offset 0" },
    { "a\\a", "unknown escape \\a at offset 1" },
    { "\\cJ", "unknown escape \\c" },
    { "\\e", "unknown escape \\e" },
    { "\\z", "unknown escape \\z" },
    { "\\A", "unknown escape \\A" },
    { "\\ ", "unknown escape" },
    { "\\\xc3\xa9", "unknown escape at offset 0" },
    { "[\\q]", "unknown escape \\q at offset 1" },
    { "\\p{L}", "Unicode property escape \\p at offset 0" },
    { "\\P{Lu}", "Unicode property escape \\P" },
    { "abc\\", "trailing backslash at offset 3" },
    { "[abc", "unterminated character class: '[' at offset 0" },
    { "x[a-", "unterminated character class: '[' at offset 1" },
    { "[", "unterminated character class" },
    { "[^", "unterminated character class" },
    { "[\\", "trailing backslash at offset 1" },
    { "[z-a]", "character class range out of order at offset 1" },
    { "[\xc3\xab-\xc3\xa9]", "range out of order" },
    { "[\\d-z]", "character class escape at offset 1 cannot bound a range" },
    { "[a-\\d]", "character class escape at offset 3 cannot bound a range" },
    { "[\\B]", "\\B at offset 1 is not allowed in a character class" },
    { "^*", "nothing to repeat: the assertion at offset 0" },
    { "a$+", "nothing to repeat: the assertion at offset 1" },
    { "\\b*", "nothing to repeat: the assertion" },
    { "\\B{2}", "nothing to repeat: the assertion" },
    { "\\x4", "invalid \\x escape at offset 0" },
    { "\\xZZ", "invalid \\x escape" },
    { "\\u12", "invalid \\u escape at offset 0" },
    { "\\u12G4", "invalid \\u escape" },
    { "\\u{}", "invalid \\u{...} escape" },
    { "\\u{12", "invalid \\u{...} escape" },
    { "\\u{12x}", "invalid \\u{...} escape" },
    { "\\u{110000}", "past U+10FFFF" },
    { "\\u{FFFFFFFFFFFF}", "past U+10FFFF" },
    { "\\01", "octal escape at offset 0" },
    { "\xff", "invalid UTF-8 at offset 0" },
    { "ab\xc3", "invalid UTF-8 at offset 2" },
    { "a\xed\xa0\x80", "invalid UTF-8 at offset 1" },    /* a surrogate */
    { "\xc0\xaf", "invalid UTF-8 at offset 0" },         /* overlong */
    { "\xf4\x90\x80\x80", "invalid UTF-8" },             /* past U+10FFFF */
    { "[\x80]", "invalid UTF-8 at offset 1" },
};

static void unsupported_constructs_are_model_errors(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t i = 0; i < ROWS(ERRORS); i++) {
        bk__re *re = (bk__re *)&failures;   /* must be reset to NULL */
        char err[256];
        memset(err, 'Z', sizeof(err));
        bk_status st = bk__re_compile(&re, ERRORS[i].pattern, err, sizeof(err));
        if (st != BK_EMODEL || re != NULL || !memchr(err, '\0', sizeof(err)) ||
            !strstr(err, ERRORS[i].message)) {
            fprintf(stderr, "row %zu: /%s/: status %d, message \"%.*s\", wanted \"%s\"\n", i,
                ERRORS[i].pattern, (int)st, (int)sizeof(err), err, ERRORS[i].message);
            failures++;
            if (st == BK_OK)
                bk__re_free(re);
        }
    }
    assert_int_equal(failures, 0);
}

/* An exactly sized heap copy (no NUL after it), so ASan and valgrind catch
 * any read past n. */
static char *exact_copy(const char *s, size_t n)
{
    char *p = malloc(n ? n : 1);
    assert_non_null(p);
    memcpy(p, s, n);
    return p;
}

static bool search_exact(const char *pattern, const char *s, size_t n)
{
    bk__re *re = NULL;
    char err[256];
    bk_status st = bk__re_compile(&re, pattern, err, sizeof(err));
    if (st != BK_OK)
        fprintf(stderr, "/%s/: %s\n", pattern, err);
    assert_int_equal(st, BK_OK);
    char *copy = exact_copy(s, n);
    bool r = bk__re_search(re, copy, n);
    free(copy);
    bk__re_free(re);
    return r;
}

static void catastrophic_backtracking_patterns_run_in_linear_time(void **state)
{
    (void)state;
    size_t n = 100000;
    char *s = malloc(n + 1);
    assert_non_null(s);
    memset(s, 'a', n);
    s[n] = '!';
    static const char *const evil[] = {
        "^(a+)+$", "^(a|a)+$", "^(a|aa)+$", "^(a*)*$", "^(a?){50}a{50}$", "(a+)+b",
        "^(\\w+\\s?)*$", "^([a-zA-Z0-9])(([\\-.]|[_]+)?([a-zA-Z0-9]+))*(@)",
        "(x+x+)+y", "^(?:a{1,10}){1,100}$", "(.*a){20}!x",
    };
    for (size_t i = 0; i < ROWS(evil); i++)
        assert_false(search_exact(evil[i], s, n + 1));
    /* And the matching side of the same patterns. */
    assert_true(search_exact("^(a+)+$", s, n));
    assert_true(search_exact("^(a|aa)+!$", s, n + 1));
    assert_true(search_exact("(.*a){20}!", s, n + 1));
    free(s);
}

static void megabyte_inputs_are_searched_to_the_end(void **state)
{
    (void)state;
    size_t n = 1u << 20;
    char *s = malloc(n);
    assert_non_null(s);
    memset(s, 'a', n);
    assert_true(search_exact("^a*$", s, n));
    assert_true(search_exact("^[a-z]+$", s, n));
    assert_false(search_exact("b", s, n));
    assert_false(search_exact("\\d", s, n));
    assert_true(search_exact("a{1000}", s, n));
    s[n - 1] = 'b';
    assert_false(search_exact("^a*$", s, n));
    assert_true(search_exact("ab$", s, n));
    assert_true(search_exact("a{20}b", s, n));
    assert_false(search_exact("\\bab$", s, n));

    /* Three-byte code points: 日 repeated. */
    size_t m = (n / 3) * 3;
    for (size_t i = 0; i < m; i += 3)
        memcpy(s + i, "\xe6\x97\xa5", 3);
    assert_true(search_exact("^\xe6\x97\xa5+$", s, m));
    assert_true(search_exact("^.+$", s, m));
    /* Cut inside the last code point: its two bytes read as two U+FFFD. */
    assert_false(search_exact("^\xe6\x97\xa5+$", s, m - 1));
    assert_true(search_exact("^.+$", s, m - 1));
    assert_false(search_exact("[^\xe6\x97\xa5]", s, m));
    free(s);
}

static void search_reads_only_the_given_bytes(void **state)
{
    (void)state;
    const char *text = "abcX";
    assert_true(search_exact("c$", text, 3));
    assert_true(search_exact("^abc$", text, 3));
    assert_false(search_exact("X", text, 3));
    assert_true(search_exact("^$", text, 0));
    assert_false(search_exact("a", text, 0));
    /* A multi-byte code point cut by n is not read past n. */
    assert_false(search_exact("\xe6\x97\xa5", "\xe6\x97\xa5", 2));
    /* NULL text of length 0 is the empty string; a NULL expression matches nothing. */
    bk__re *re = NULL;
    assert_int_equal(bk__re_compile(&re, "^$", NULL, 0), BK_OK);
    assert_true(bk__re_search(re, NULL, 0));
    assert_false(bk__re_search(re, NULL, 5));
    bk__re_free(re);
    assert_false(bk__re_search(NULL, "x", 1));
    bk__re_free(NULL);
}

static void invalid_utf8_text_reads_as_replacement_characters(void **state)
{
    (void)state;
    assert_true(search_exact("^.{3}$", "\xff\xfe\xc3", 3));
    assert_true(search_exact("^\\uFFFD\\uFFFD$", "\xe6\x97", 2));   /* a truncated 日 */
    assert_true(search_exact("^a.b$", "a\xed\xa0\x80" "b", 5) == false); /* 3 bytes, 3 U+FFFD */
    assert_true(search_exact("^a...b$", "a\xed\xa0\x80" "b", 5));
    assert_true(search_exact("^.+$", "\xc0\xaf\x80\xf8", 4));
    assert_false(search_exact("^[a-z]+$", "ab\x80", 3));
}

static void limits_on_pattern_size_nesting_and_states(void **state)
{
    (void)state;
    char err[256];
    bk__re *re = NULL;
    char *p = malloc(5000);
    assert_non_null(p);

    memset(p, 'a', 4096);
    p[4096] = '\0';
    assert_int_equal(bk__re_compile(&re, p, err, sizeof(err)), BK_OK);
    bk__re_free(re);
    memset(p, 'a', 4097);
    p[4097] = '\0';
    assert_int_equal(bk__re_compile(&re, p, err, sizeof(err)), BK_EMODEL);
    assert_null(re);
    assert_non_null(strstr(err, "pattern is 4097 bytes, longer than the limit of 4096"));

    /* 64 nested groups are fine, 65 are not. */
    for (int depth = 64; depth <= 65; depth++) {
        size_t k = 0;
        for (int i = 0; i < depth; i++)
            p[k++] = '(';
        p[k++] = 'a';
        for (int i = 0; i < depth; i++)
            p[k++] = ')';
        p[k] = '\0';
        bk_status st = bk__re_compile(&re, p, err, sizeof(err));
        if (depth == 64) {
            assert_int_equal(st, BK_OK);
            assert_true(bk__re_search(re, "xa", 2));
            bk__re_free(re);
        } else {
            assert_int_equal(st, BK_EMODEL);
            assert_non_null(strstr(err, "groups nested deeper than 64 at offset 64"));
        }
    }
    free(p);

    /* States: counted repetitions are expanded, and capped at 8192. */
    assert_int_equal(bk__re_compile(&re, "^(?:a{1000}){8}$", err, sizeof(err)), BK_OK);
    bk__re_free(re);
    /* (a|b) is 4 states (SPLIT a JMP b), MATCH is 1: 8192 exactly. */
    assert_int_equal(bk__re_compile(&re, "(?:a|b){1000}(?:c|d){1000}e{191}", err, sizeof(err)),
        BK_OK);
    bk__re_free(re);
    static const char *const big[] = {
        "(?:a|b){1000}(?:c|d){1000}e{192}",
        "(?:a{1000}){9}", "(?:a{0,1000}){5}", "((a{1000}){1000}){1000}",
        "(?:(?:(?:(?:x{1000}){1000}){1000}){1000}){1000}", "[a-z]{1000}[a-z]{1000}(?:\\d{1,1000}){4}",
    };
    for (size_t i = 0; i < ROWS(big); i++) {
        re = NULL;
        assert_int_equal(bk__re_compile(&re, big[i], err, sizeof(err)), BK_EMODEL);
        assert_null(re);
        assert_non_null(strstr(err, "pattern too large: more than 8192 NFA states"));
    }
}

static void error_buffer_is_optional_and_truncated(void **state)
{
    (void)state;
    bk__re *re = NULL;
    char small[8];
    assert_int_equal(bk__re_compile(&re, "(abc", NULL, 0), BK_EMODEL);
    assert_null(re);
    memset(small, 'Z', sizeof(small));
    assert_int_equal(bk__re_compile(&re, "(abc", small, sizeof(small)), BK_EMODEL);
    assert_string_equal(small, "unbalan");
    small[0] = 'Z';
    assert_int_equal(bk__re_compile(&re, "(abc", small, 0), BK_EMODEL);
    assert_int_equal(small[0], 'Z');
    /* Success leaves an empty message. */
    char err[64] = "stale";
    assert_int_equal(bk__re_compile(&re, "abc", err, sizeof(err)), BK_OK);
    assert_string_equal(err, "");
    bk__re_free(re);
    assert_int_equal(bk__re_compile(NULL, "abc", err, sizeof(err)), BK_EINVAL);
    assert_int_equal(bk__re_compile(&re, NULL, err, sizeof(err)), BK_EINVAL);
    assert_null(re);
}

/* ---- allocation-failure sweep -------------------------------------------- */


static void compile_survives_every_allocation_failure(void **state)
{
    (void)state;
    static const char *const patterns[] = {
        "^(?:[a-z0-9._%+-]+|\\d{2,4})@[^\\s@]+\\.(com|org|\xe6\x97\xa5\xe6\x9c\xac)$",
        "[\\s\\S]", "x{0,50}y+", "(((a|b|c|d|e|f|g|h|i|j|k|l|m|n|o|p|q|r|s)))*",
        "[a][b][c][d][e][f][g][h][i][j][k][l][m][n][o][p][q][r][s][t][u][v][w][x][y][z]",
        "[\\W\\D\\S.]\\bq\\B",
    };
    assert_int_equal(bk_set_allocator(chaos_malloc, chaos_realloc, chaos_free), BK_OK);
    for (size_t i = 0; i < ROWS(patterns); i++) {
        long n;
        for (n = 0;; n++) {
            bk__re *re = (bk__re *)&n;
            char err[64];
            chaos_live = 0;
            chaos_arm(n);
            bk_status st = bk__re_compile(&re, patterns[i], err, sizeof(err));
            chaos_disarm();
            if (st == BK_OK) {
                assert_true(chaos_count <= n);        /* every allocation was tried */
                (void)bk__re_search(re, "x@y.org", 7);
                bk__re_free(re);
                assert_int_equal(chaos_live, 0);
                break;
            }
            if (st != BK_ENOMEM)
                fprintf(stderr, "/%s/ with allocation %ld failing: %s\n", patterns[i], n, err);
            assert_int_equal(st, BK_ENOMEM);
            assert_null(re);
            assert_string_equal(err, "out of memory");
            assert_int_equal(chaos_live, 0);
        }
        assert_true(n > 2);     /* the sweep did fail some allocations */
    }
    assert_int_equal(bk_set_allocator(NULL, NULL, NULL), BK_OK);
}

/* ---- differential: POSIX extended regular expressions ------------------- */

/* On the subset both understand the same way (ASCII literals, `.`, bracket
 * expressions, groups, alternation, * + ? {n} {n,m} {n,}, ^ and $) a yes/no
 * search has one answer, whatever the matching strategy; glibc's regexec
 * gives the reference. The texts avoid '\n', where `.` differs. */

static uint64_t g_rng = 0x9E3779B97F4A7C15ull;

static unsigned rnd(unsigned n)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (unsigned)(g_rng % n);
}

static void gen_alt(char *buf, size_t *k, size_t cap, int depth);

static void put(char *buf, size_t *k, size_t cap, const char *s)
{
    size_t n = strlen(s);
    if (*k + n < cap) {
        memcpy(buf + *k, s, n);
        *k += n;
        buf[*k] = '\0';
    }
}

static void gen_term(char *buf, size_t *k, size_t cap, int depth)
{
    static const char *const atoms[] = { "a", "b", "c", ".", "[ab]", "[^a]", "[a-b]", "a" };
    static const char *const quants[] = { "", "", "", "*", "+", "?", "{2}", "{1,3}", "{0,2}",
        "{2,}" };
    unsigned r = rnd(12);
    if (r < 8 || depth >= 3) {
        put(buf, k, cap, atoms[rnd(ROWS(atoms))]);
    } else if (r < 10) {
        put(buf, k, cap, "(");
        gen_alt(buf, k, cap, depth + 1);
        put(buf, k, cap, ")");
    } else if (depth == 0) {
        /* Anchors stay outside groups: glibc gets ^ and $ inside repeated
         * groups wrong (e.g. /[^a]{1,3}(c+|$){2}/ "matches" "abca"). */
        put(buf, k, cap, r == 10 ? "^" : "$");
        return;                 /* assertions take no quantifier */
    } else {
        put(buf, k, cap, "c");
    }
    put(buf, k, cap, quants[rnd(ROWS(quants))]);
}

static void gen_alt(char *buf, size_t *k, size_t cap, int depth)
{
    unsigned branches = rnd(4) == 0 ? 2 : 1;
    for (unsigned b = 0; b < branches; b++) {
        if (b)
            put(buf, k, cap, "|");
        unsigned terms = 1 + rnd(3);
        for (unsigned t = 0; t < terms; t++)
            gen_term(buf, k, cap, depth);
    }
}

static void agrees_with_posix_ere_on_random_patterns(void **state)
{
    (void)state;
    int failures = 0, compared = 0;
    for (int iter = 0; iter < 3000 && failures < 10; iter++) {
        char pat[256];
        size_t k = 0;
        pat[0] = '\0';
        gen_alt(pat, &k, sizeof(pat), 0);
        regex_t posix;
        if (regcomp(&posix, pat, REG_EXTENDED | REG_NOSUB) != 0)
            continue;
        bk__re *re = NULL;
        char err[256];
        if (bk__re_compile(&re, pat, err, sizeof(err)) != BK_OK) {
            fprintf(stderr, "/%s/ does not compile: %s\n", pat, err);
            failures++;
            regfree(&posix);
            continue;
        }
        for (int j = 0; j < 25; j++) {
            char text[16];
            size_t len = rnd(9);
            for (size_t i = 0; i < len; i++)
                text[i] = "abc"[rnd(3)];
            text[len] = '\0';
            bool want = regexec(&posix, text, 0, NULL, 0) == 0;
            bool got = bk__re_search(re, text, len);
            compared++;
            if (got != want) {
                fprintf(stderr, "/%s/ on \"%s\": POSIX says %d, we say %d\n", pat, text, want,
                    got);
                failures++;
                break;
            }
        }
        bk__re_free(re);
        regfree(&posix);
    }
    assert_int_equal(failures, 0);
    assert_true(compared > 50000);
}

/* ---- threads share a compiled expression -------------------------------- */

typedef struct shared_job {
    const bk__re *re;
    int wrong;
} shared_job;

static void *search_many(void *arg)
{
    shared_job *job = arg;
    static const struct { const char *s; bool want; } texts[] = {
        { "2024-03-01", true }, { "2024-3-01", false }, { "on 1999-12-31 at noon", true },
        { "\xe6\x97\xa5 2000-01-01", true }, { "", false },
    };
    for (int round = 0; round < 2000; round++)
        for (size_t i = 0; i < ROWS(texts); i++)
            if (bk__re_search(job->re, texts[i].s, strlen(texts[i].s)) != texts[i].want)
                job->wrong++;
    return NULL;
}

static void threads_search_one_expression_at_once(void **state)
{
    (void)state;
    bk__re *re = NULL;
    assert_int_equal(bk__re_compile(&re, "\\b\\d{4}-\\d{2}-\\d{2}\\b", NULL, 0), BK_OK);
    pthread_t th[4];
    shared_job jobs[4];
    for (int i = 0; i < 4; i++) {
        jobs[i].re = re;
        jobs[i].wrong = 0;
        assert_int_equal(pthread_create(&th[i], NULL, search_many, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(jobs[i].wrong, 0);
    }
    bk__re_free(re);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(literals_and_anchors_match_as_in_ecma),
        cmocka_unit_test(classes_and_escapes_match_as_in_ecma),
        cmocka_unit_test(alternation_quantifiers_and_boundaries_match_as_in_ecma),
        cmocka_unit_test(text_is_code_points_not_bytes),
        cmocka_unit_test(unsupported_constructs_are_model_errors),
        cmocka_unit_test(catastrophic_backtracking_patterns_run_in_linear_time),
        cmocka_unit_test(megabyte_inputs_are_searched_to_the_end),
        cmocka_unit_test(search_reads_only_the_given_bytes),
        cmocka_unit_test(invalid_utf8_text_reads_as_replacement_characters),
        cmocka_unit_test(limits_on_pattern_size_nesting_and_states),
        cmocka_unit_test(error_buffer_is_optional_and_truncated),
        cmocka_unit_test(compile_survives_every_allocation_failure),
        cmocka_unit_test(agrees_with_posix_ere_on_random_patterns),
        cmocka_unit_test(threads_search_one_expression_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
