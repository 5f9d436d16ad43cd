/*
 * test_formats.c - the string formats of bk_check.format (lib/formats.c).
 *
 * One table of {format, input, expected} cases, at least 15 valid and 15
 * invalid per format. Every case is checked from a heap copy of exactly its
 * length (so ASan catches a read past n), and so is every prefix of it.
 *
 * Cross-check: the table is written to a JSON file and /usr/bin/python3
 * runs python-jsonschema's draft 2020-12 FormatChecker over it (Debian
 * python3-jsonschema; with python3-rfc3987 it also checks "uri"). Each
 * case must get the same verdict, except the cases marked with a known
 * difference (the `differs` member says why; they are reported, not
 * compared). Formats the installed jsonschema has no checker for (it
 * needs fqdn for hostname, rfc3339-validator for date-time and time,
 * which Debian does not package) are reported as not compared; hostname
 * verdicts would only be printed (see not_compared()). The known
 * differences for date-time and time were found against the
 * rfc3339-validator 0.1.x rules (one regular expression, year 0000
 * refused, no leap second, no range). Without python3 or jsonschema the
 * cross-check prints a skip line and passes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"

typedef struct fmt_case {
    bk_format f;
    const char *s;
    size_t n;
    bool ok;
    const char *differs;   /* why python-jsonschema disagrees (not compared), or NULL */
} fmt_case;

#define OK(F, s)        { BK_FORMAT_##F, s, sizeof(s) - 1, true, NULL }
#define BAD(F, s)       { BK_FORMAT_##F, s, sizeof(s) - 1, false, NULL }
#define OK_D(F, s, w)   { BK_FORMAT_##F, s, sizeof(s) - 1, true, w }
#define BAD_D(F, s, w)  { BK_FORMAT_##F, s, sizeof(s) - 1, false, w }

/* Known differences with python-jsonschema 4.x (see the rules block at the
 * top of lib/formats.c). */
#define JS_AT     "jsonschema's email check only looks for an '@'"
#define JS_NL     "rfc3987 matches with '$', which also matches before a final newline"
#define JS_FUTURE "rfc3987 accepts IPvFuture hosts; we refuse them"
#define JS_V4LZ   "rfc3987 accepts leading zeros in the IPv4 tail of an IPv6 host"
#define JS_UUIDINT "Python's UUID() drops every dash and reads the hex with int(), " \
    "which takes '+', '_', non-ASCII digits and surrounding spaces"
#define JS_YEAR0  "Python's date has no year 0; RFC 3339 allows 0000"
#define JS_ISO    "Python 3.11's date.fromisoformat also reads ISO 8601 basic and week dates"
#define JS_YEAR0DT "rfc3339-validator refuses the year 0000; RFC 3339 allows it"
#define JS_NLDT   "rfc3339-validator matches with '$', which also matches before a final newline"
#define JS_FRAC   "rfc3339-validator accepts any number of fraction digits"
#define JS_RANGE  "rfc3339-validator has no range limit on the instant in UTC"

#define A10 "aaaaaaaaaa"
#define A61 A10 A10 A10 A10 A10 A10 "a"
#define A62 A61 "a"
#define A63 A62 "a"
#define A64 A63 "a"

static const fmt_case cases[] = {
    /* ---- email ---------------------------------------------------------- */
    OK(EMAIL, "a@x.com"),
    OK(EMAIL, "john.doe@example.com"),
    OK(EMAIL, "first.middle.last@sub.example.co.uk"),
    OK(EMAIL, "user+tag@example.org"),
    OK(EMAIL, "!#$%&'*+/=?^_`{|}~-@example.com"),
    OK(EMAIL, "a@localhost"),
    OK(EMAIL, "A_B-C@EXAMPLE.COM"),
    OK(EMAIL, "x@[127.0.0.1]"),
    OK(EMAIL, "x@[IPv6:::1]"),
    OK(EMAIL, "x@[IPv6:2001:db8::1]"),
    OK(EMAIL, "x@[ipv6:2001:db8::1]"),
    OK(EMAIL, "1@2.example"),
    OK(EMAIL, A64 "@x.com"),
    OK(EMAIL, A64 "@" A63 "." A63 "." A61),              /* 254 bytes */
    OK(EMAIL, "a@a-b.c-d.example"),
    OK(EMAIL, "o'reilly@example.ie"),
    OK(EMAIL, "a@1host.example"),
    OK(EMAIL, "a.b.c@x.y"),
    BAD(EMAIL, ""),
    BAD(EMAIL, "plainaddress"),
    BAD(EMAIL, "a.example.com"),
    BAD_D(EMAIL, "a..b@x.com", JS_AT),
    BAD_D(EMAIL, ".a@x.com", JS_AT),
    BAD_D(EMAIL, "a.@x.com", JS_AT),
    BAD_D(EMAIL, "a@-x.com", JS_AT),
    BAD_D(EMAIL, "a@x-.com", JS_AT),
    BAD_D(EMAIL, "@x.com", JS_AT),
    BAD_D(EMAIL, "a@", JS_AT),
    BAD_D(EMAIL, "a@x..com", JS_AT),
    BAD_D(EMAIL, "a@x.com.", JS_AT),
    BAD_D(EMAIL, "\"a b\"@x.com", JS_AT),
    BAD_D(EMAIL, "a b@x.com", JS_AT),
    BAD_D(EMAIL, "a@b@x.com", JS_AT),
    BAD_D(EMAIL, "jöhn@example.com", JS_AT),
    BAD_D(EMAIL, "a@exämple.com", JS_AT),
    BAD_D(EMAIL, A64 "a@x.com", JS_AT),                   /* local part of 65 */
    BAD_D(EMAIL, A64 "@" A63 "." A63 "." A62, JS_AT),     /* 255 bytes */
    BAD_D(EMAIL, "a@1.2.3.4", JS_AT),
    BAD_D(EMAIL, "a@[1.2.3.256]", JS_AT),
    BAD_D(EMAIL, "a@[IPv6:1.2.3.4]", JS_AT),
    BAD_D(EMAIL, "a@[::1]", JS_AT),
    BAD_D(EMAIL, "a@[tag:x]", JS_AT),
    BAD_D(EMAIL, "a(comment)@x.com", JS_AT),
    BAD_D(EMAIL, "a@x_y.com", JS_AT),
    BAD_D(EMAIL, " a@x.com", JS_AT),
    BAD_D(EMAIL, "a@x.com\n", JS_AT),
    BAD_D(EMAIL, "a\0@x.com", JS_AT),

    /* ---- hostname ------------------------------------------------------- */
    OK(HOSTNAME, "localhost"),
    OK(HOSTNAME, "example.com"),
    OK(HOSTNAME, "www.example.com"),
    OK(HOSTNAME, "a"),
    OK(HOSTNAME, "a-b.c"),
    OK(HOSTNAME, "xn--bcher-kva.example"),
    OK(HOSTNAME, "1host"),
    OK(HOSTNAME, "a.b2"),
    OK(HOSTNAME, "EXAMPLE.COM"),
    OK(HOSTNAME, "a1.b2.c3"),
    OK(HOSTNAME, "sub-domain.example-site.org"),
    OK(HOSTNAME, A63 ".com"),
    OK(HOSTNAME, A63 "." A63 "." A63 "." A61),           /* 253 bytes */
    OK(HOSTNAME, "host123"),
    OK(HOSTNAME, "1.2.3.a4"),
    OK(HOSTNAME, "ab--cd.com"),
    OK(HOSTNAME, "0a.9z"),
    BAD(HOSTNAME, ""),
    BAD(HOSTNAME, "."),
    BAD(HOSTNAME, "example.com."),
    BAD(HOSTNAME, ".example.com"),
    BAD(HOSTNAME, "a..b"),
    BAD(HOSTNAME, "-a.com"),
    BAD(HOSTNAME, "a-.com"),
    BAD(HOSTNAME, "a.-b"),
    BAD(HOSTNAME, A64 ".com"),                            /* label of 64 */
    BAD(HOSTNAME, A63 "." A63 "." A63 "." A62),          /* 254 bytes */
    BAD(HOSTNAME, "a_b.com"),
    BAD(HOSTNAME, "a b.com"),
    BAD(HOSTNAME, "exämple.com"),
    BAD(HOSTNAME, "1.2.3.4"),
    BAD(HOSTNAME, "256.0.0.1"),
    BAD(HOSTNAME, "123"),
    BAD(HOSTNAME, "a.b.123"),
    BAD(HOSTNAME, "a@b.com"),
    BAD(HOSTNAME, "a:80"),
    BAD(HOSTNAME, "a/b"),
    BAD(HOSTNAME, "a.com\n"),
    BAD(HOSTNAME, "*.example.com"),
    BAD(HOSTNAME, "a\0b"),

    /* ---- ipv4 ----------------------------------------------------------- */
    OK(IPV4, "0.0.0.0"),
    OK(IPV4, "255.255.255.255"),
    OK(IPV4, "1.2.3.4"),
    OK(IPV4, "127.0.0.1"),
    OK(IPV4, "192.168.1.1"),
    OK(IPV4, "10.0.0.255"),
    OK(IPV4, "8.8.8.8"),
    OK(IPV4, "100.64.0.1"),
    OK(IPV4, "172.16.254.1"),
    OK(IPV4, "224.0.0.1"),
    OK(IPV4, "1.10.100.200"),
    OK(IPV4, "249.250.251.252"),
    OK(IPV4, "199.99.9.0"),
    OK(IPV4, "203.0.113.0"),
    OK(IPV4, "169.254.0.1"),
    OK(IPV4, "0.0.0.1"),
    BAD(IPV4, ""),
    BAD(IPV4, "256.0.0.1"),
    BAD(IPV4, "1.2.3"),
    BAD(IPV4, "1.2.3.4.5"),
    BAD(IPV4, "01.2.3.4"),
    BAD(IPV4, "1.2.3.04"),
    BAD(IPV4, "00.0.0.0"),
    BAD(IPV4, "1.2.3."),
    BAD(IPV4, ".1.2.3"),
    BAD(IPV4, "1..2.3"),
    BAD(IPV4, "1.2.3.4 "),
    BAD(IPV4, " 1.2.3.4"),
    BAD(IPV4, "1.2.3.4/24"),
    BAD(IPV4, "1.2.3.4:80"),
    BAD(IPV4, "a.b.c.d"),
    BAD(IPV4, "1234.1.1.1"),
    BAD(IPV4, "1.2.3.-1"),
    BAD(IPV4, "127.1"),
    BAD(IPV4, "0x7f.0.0.1"),
    BAD(IPV4, "1.2.3.4\n"),
    BAD(IPV4, "１.2.3.4"),
    BAD(IPV4, "1,2,3,4"),
    BAD(IPV4, "::1"),
    BAD(IPV4, "300.300.300.300"),
    BAD(IPV4, "1.2.3.4\0"),

    /* ---- ipv6 ----------------------------------------------------------- */
    OK(IPV6, "::"),
    OK(IPV6, "::1"),
    OK(IPV6, "1::"),
    OK(IPV6, "1::2:3"),
    OK(IPV6, "2001:db8::1"),
    OK(IPV6, "2001:0db8:0000:0000:0000:ff00:0042:8329"),
    OK(IPV6, "2001:DB8::8:800:200C:417A"),
    OK(IPV6, "fe80::1"),
    OK(IPV6, "::ffff:1.2.3.4"),
    OK(IPV6, "::1.2.3.4"),
    OK(IPV6, "1:2:3:4:5:6:1.2.3.4"),
    OK(IPV6, "1:2:3:4:5:6:7:8"),
    OK(IPV6, "1:2:3:4:5:6:7::"),
    OK(IPV6, "::2:3:4:5:6:7:8"),
    OK(IPV6, "1::8"),
    OK(IPV6, "ABCD:EF01:2345:6789:abcd:ef01:2345:6789"),
    OK(IPV6, "0:0:0:0:0:0:0:0"),
    OK(IPV6, "1:2:3:4:5::1.2.3.4"),
    OK(IPV6, "ff02::1:ff00:0"),
    OK(IPV6, "64:ff9b::192.0.2.33"),
    BAD(IPV6, ""),
    BAD(IPV6, ":"),
    BAD(IPV6, ":::"),
    BAD(IPV6, "1:2:3:4:5:6:7:8:9"),
    BAD(IPV6, "1:2:3:4::5:6:7:8"),
    BAD(IPV6, "1::2::3"),
    BAD(IPV6, "1:::2"),
    BAD(IPV6, "12345::"),
    BAD(IPV6, "g::"),
    BAD(IPV6, "::ffff:1.2.3"),
    BAD(IPV6, "::ffff:256.1.1.1"),
    BAD(IPV6, "::ffff:01.2.3.4"),
    BAD(IPV6, "::ffff:1.2.3.4.5"),
    BAD(IPV6, "1.2.3.4::"),
    BAD(IPV6, "1.2.3.4"),
    BAD(IPV6, "fe80::1%eth0"),
    BAD(IPV6, "[::1]"),
    BAD(IPV6, " ::1"),
    BAD(IPV6, "::1 "),
    BAD(IPV6, "1:2:3:4:5:6:7"),
    BAD(IPV6, ":1::"),
    BAD(IPV6, "1:"),
    BAD(IPV6, "1::2:"),
    BAD(IPV6, "1:2:3:4:5:6:7:1.2.3.4"),
    BAD(IPV6, "1::1.2.3.4:5"),
    BAD(IPV6, "::1/128"),
    BAD(IPV6, "１::"),
    BAD(IPV6, "::1\0"),

    /* ---- uri ------------------------------------------------------------ */
    OK(URI, "http://[::1]:80/p?q#f"),
    OK(URI, "mailto:a@b"),
    OK(URI, "urn:isbn:0451450523"),
    OK(URI, "http://example.com"),
    OK(URI, "https://example.com/path/to?x=1&y=2#frag"),
    OK(URI, "ftp://user:pass@ftp.example.com:21/file.txt"),
    OK(URI, "file:///etc/passwd"),
    OK(URI, "a:"),
    OK(URI, "http://"),
    OK(URI, "http://x:/"),
    OK(URI, "tel:+1-816-555-1212"),
    OK(URI, "news:comp.infosystems.www.servers.unix"),
    OK(URI, "ldap://[2001:db8::7]/c=GB?objectClass?one"),
    OK(URI, "http://example.com/%7Euser/%E2%82%ac"),
    OK(URI, "http://a/b/c/d;p?q"),
    OK(URI, "git+ssh://git@example.com/x/y.git"),
    OK(URI, "x-y.z+w:opaque"),
    OK(URI, "http://192.168.0.1:8080/"),
    OK(URI, "http://example.com/?q=a/b?c"),
    OK(URI, "http://example.com/#a/b?c"),
    OK(URI, "foo://example.com:8042/over/there?name=ferret#nose"),
    OK(URI, "urn:oasis:names:specification:docbook:dtd:xml:4.1.2"),
    OK(URI, "http://user@[::ffff:1.2.3.4]/"),
    OK(URI, "http://x/p@q:r"),
    OK(URI, "s:%20"),
    OK(URI, "http://x/!$&'()*+,;="),
    OK(URI, "http://256.256.256.256/"),
    OK(URI, "data:text/plain;charset=utf-8,hello"),
    OK(URI, "http://%41:%42@h%43:99999"),
    BAD(URI, ""),
    BAD(URI, "a b://x"),
    BAD(URI, "%zz"),
    BAD(URI, "http://x/%zz"),
    BAD(URI, "http://x/%4"),
    BAD(URI, "http://x/%"),
    BAD(URI, "//example.com/p"),
    BAD(URI, "/path"),
    BAD(URI, "path"),
    BAD(URI, "1http://x"),
    BAD(URI, "+a:b"),
    BAD(URI, ":x"),
    BAD(URI, "http://exa mple.com"),
    BAD(URI, "http://x/a b"),
    BAD(URI, "http://x/<>"),
    BAD(URI, "http://x/p#a#b"),
    BAD(URI, "http://[::1"),
    BAD(URI, "http://[::1]x/"),
    BAD(URI, "http://[1.2.3.4]/"),
    BAD(URI, "http://[]/"),
    BAD(URI, "http://[fe80::1%25eth0]/"),
    BAD(URI, "http://x:8a/"),
    BAD(URI, "http://a@b@c/"),
    BAD(URI, "http://x/ü"),
    BAD(URI, "http://x/\\"),
    BAD(URI, "http://x/{}"),
    BAD(URI, "http://x/^"),
    BAD(URI, "http://x/|"),
    BAD(URI, "http://x/`"),
    BAD(URI, "http://x/\""),
    BAD(URI, "http://x\t/"),
    BAD(URI, "http://x/p?q\x7f"),
    BAD(URI, "http://x/\0"),
    BAD_D(URI, "http://[v1.fe]/", JS_FUTURE),
    BAD_D(URI, "http://[::1.2.3.04]/", JS_V4LZ),
    BAD_D(URI, "http://x/\n", JS_NL),

    /* ---- uuid ----------------------------------------------------------- */
    OK(UUID, "123e4567-e89b-12d3-a456-426614174000"),
    OK(UUID, "00000000-0000-0000-0000-000000000000"),
    OK(UUID, "ffffffff-ffff-ffff-ffff-ffffffffffff"),
    OK(UUID, "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF"),
    OK(UUID, "550e8400-e29b-41d4-a716-446655440000"),
    OK(UUID, "6ba7b810-9dad-11d1-80b4-00c04fd430c8"),
    OK(UUID, "AbCdEf01-2345-6789-aBcD-eF0123456789"),
    OK(UUID, "01234567-89ab-cdef-0123-456789abcdef"),
    OK(UUID, "f81d4fae-7dec-11d0-a765-00a0c91e6bf6"),
    OK(UUID, "9c5b94b1-35ad-49bb-b118-8e8fc24abf80"),
    OK(UUID, "00000000-0000-1000-8000-000000000000"),
    OK(UUID, "c232ab00-9414-11ec-b3c8-9f6bdeced846"),
    OK(UUID, "0191c5a0-5f4f-7c2e-9b8a-3d2f1e0c4b6a"),
    OK(UUID, "12345678-1234-5678-1234-567812345678"),
    OK(UUID, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
    OK(UUID, "deadbeef-dead-beef-dead-beefdeadbeef"),
    BAD(UUID, ""),
    BAD(UUID, "123e4567e89b12d3a456426614174000"),
    BAD(UUID, "{123e4567-e89b-12d3-a456-426614174000}"),
    BAD(UUID, "urn:uuid:123e4567-e89b-12d3-a456-426614174000"),
    BAD(UUID, "123e4567-e89b-12d3-a456-42661417400"),
    BAD(UUID, "123e4567-e89b-12d3-a456-4266141740000"),
    BAD(UUID, "123e4567-e89b-12d3-a456_426614174000"),
    BAD(UUID, "g23e4567-e89b-12d3-a456-426614174000"),
    BAD(UUID, "123e4567-e89b-12d3-a4564-26614174000"),
    BAD(UUID, "1234567-81234-1234-1234-123456789abc"),
    BAD_D(UUID, "123e4567-e89b-12d3-a456-42661417400 ", JS_UUIDINT),
    BAD(UUID, " 123e4567-e89b-12d3-a456-426614174000"),
    BAD(UUID, "123e4567-e89b-12d3-a456-426614174000\n"),
    BAD(UUID, "12345678-1234-1234-1234-12345678abcg"),
    BAD(UUID, "123e4567-e89b-12d3-a456-42661417400\0"),
    BAD_D(UUID, "12345678-1234-1234-1234-1234-56789abc", JS_UUIDINT),
    BAD_D(UUID, "+23e4567-e89b-12d3-a456-426614174000", JS_UUIDINT),
    BAD_D(UUID, "123e4567-e89b-12d3-a456-4266_4174000", JS_UUIDINT),
    BAD_D(UUID, "123e4567-e89b-12d3-a456-4266141740０0", JS_UUIDINT),

    /* ---- date ----------------------------------------------------------- */
    OK(DATE, "2024-02-29"),
    OK(DATE, "2000-02-29"),
    OK(DATE, "1996-02-29"),
    OK(DATE, "2400-02-29"),
    OK(DATE, "2023-02-28"),
    OK(DATE, "1970-01-01"),
    OK(DATE, "9999-12-31"),
    OK(DATE, "0001-01-01"),
    OK(DATE, "2023-01-31"),
    OK(DATE, "2023-03-31"),
    OK(DATE, "2023-04-30"),
    OK(DATE, "2023-06-30"),
    OK(DATE, "2023-09-30"),
    OK(DATE, "2023-11-30"),
    OK(DATE, "2023-12-31"),
    OK_D(DATE, "0000-01-01", JS_YEAR0),
    BAD(DATE, ""),
    BAD(DATE, "2023-02-29"),
    BAD(DATE, "1900-02-29"),
    BAD(DATE, "2100-02-29"),
    BAD(DATE, "2023-04-31"),
    BAD(DATE, "2023-13-01"),
    BAD(DATE, "2023-00-10"),
    BAD(DATE, "2023-01-00"),
    BAD(DATE, "2023-01-32"),
    BAD(DATE, "2024-2-29"),
    BAD(DATE, "24-02-29"),
    BAD(DATE, "2024/02/29"),
    BAD(DATE, "2024-02-29T00:00:00Z"),
    BAD(DATE, "2024-02-29 "),
    BAD(DATE, " 2024-02-29"),
    BAD(DATE, "2024-02-3x"),
    BAD(DATE, "+2024-02-29"),
    BAD(DATE, "2024-02-2９"),
    BAD(DATE, "10000-01-01"),
    BAD(DATE, "2024-060"),
    BAD(DATE, "2024-02-29\0"),
    BAD_D(DATE, "20240229", JS_ISO),
    BAD_D(DATE, "2024-W09-4", JS_ISO),

    /* ---- date-time ------------------------------------------------------ */
    OK(DATE_TIME, "2024-02-29T12:34:56Z"),
    OK(DATE_TIME, "1970-01-01T00:00:00Z"),
    OK(DATE_TIME, "2024-01-01t00:00:00z"),
    OK(DATE_TIME, "2024-01-01T00:00:00.1Z"),
    OK(DATE_TIME, "2024-01-01T00:00:00.123456Z"),
    OK(DATE_TIME, "2024-01-01T00:00:00.123456000Z"),
    OK(DATE_TIME, "2024-01-01T23:59:59+23:59"),
    OK(DATE_TIME, "2024-01-01T00:00:00-23:59"),
    OK(DATE_TIME, "2024-01-01T12:00:00+05:30"),
    OK(DATE_TIME, "9999-12-31T23:59:59.999999Z"),
    OK_D(DATE_TIME, "0000-01-01T00:00:00Z", JS_YEAR0DT),
    OK(DATE_TIME, "2000-02-29T00:00:00-00:00"),
    OK(DATE_TIME, "1999-12-31T23:59:59.5+01:00"),
    OK(DATE_TIME, "2024-06-30T12:00:00.000Z"),
    OK(DATE_TIME, "2024-12-31T23:59:59Z"),
    OK(DATE_TIME, "2024-01-01T00:00:00+00:00"),
    BAD(DATE_TIME, ""),
    BAD(DATE_TIME, "2024-01-01 00:00:00Z"),
    BAD(DATE_TIME, "2024-01-01T24:00:00Z"),
    BAD(DATE_TIME, "2023-02-29T00:00:00Z"),
    BAD(DATE_TIME, "2024-01-01T00:00:00"),
    BAD(DATE_TIME, "2024-01-01T00:00Z"),
    BAD(DATE_TIME, "2024-01-01T00:60:00Z"),
    BAD(DATE_TIME, "2024-01-01T00:00:00.Z"),
    BAD(DATE_TIME, "2024-01-01T00:00:00+24:00"),
    BAD(DATE_TIME, "2024-01-01T00:00:00+01:60"),
    BAD(DATE_TIME, "2024-01-01T00:00:00+0100"),
    BAD(DATE_TIME, "2024-01-01T00:00:00+01"),
    BAD(DATE_TIME, "2024-01-01"),
    BAD(DATE_TIME, "2024-01-01T00:00:00ZZ"),
    BAD(DATE_TIME, "2024-01-01X00:00:00Z"),
    BAD(DATE_TIME, " 2024-01-01T00:00:00Z"),
    BAD(DATE_TIME, "2024-01-01T00:00:00Z "),
    BAD(DATE_TIME, "2024-01-01T0:00:00Z"),
    BAD(DATE_TIME, "2024-01-01T00:00:00,5Z"),
    BAD(DATE_TIME, "2024-01-01T00:00:00Z\0"),
    BAD(DATE_TIME, "2016-12-31T23:59:60Z"),
    BAD_D(DATE_TIME, "2024-01-01T00:00:00.1234567Z", JS_FRAC),
    BAD_D(DATE_TIME, "2024-01-01T00:00:00.0000000001Z", JS_FRAC),
    BAD(DATE_TIME, "0000-01-01T00:00:00+01:00"),
    BAD_D(DATE_TIME, "9999-12-31T23:59:59-01:00", JS_RANGE),
    BAD_D(DATE_TIME, "2024-01-01T00:00:00Z\n", JS_NLDT),

    /* ---- time ----------------------------------------------------------- */
    OK(TIME, "00:00:00Z"),
    OK(TIME, "23:59:59Z"),
    OK(TIME, "12:34:56z"),
    OK(TIME, "12:34:56.789Z"),
    OK(TIME, "12:34:56.123456000Z"),
    OK(TIME, "12:00:00+05:30"),
    OK(TIME, "12:00:00-08:00"),
    OK(TIME, "00:00:00+23:59"),
    OK(TIME, "23:59:59-23:59"),
    OK(TIME, "08:30:00.5+01:00"),
    OK(TIME, "12:00:00.000001Z"),
    OK(TIME, "01:02:03Z"),
    OK(TIME, "19:20:30.45+01:00"),
    OK(TIME, "23:00:00-00:00"),
    OK(TIME, "10:10:10.1-10:10"),
    OK(TIME, "12:00:00+00:00"),
    BAD(TIME, ""),
    BAD(TIME, "24:00:00Z"),
    BAD(TIME, "12:00:00"),
    BAD(TIME, "12:00Z"),
    BAD(TIME, "12:60:00Z"),
    BAD(TIME, "12:00:61Z"),
    BAD(TIME, "1:00:00Z"),
    BAD(TIME, "12:00:00.Z"),
    BAD(TIME, "12:00:00+24:00"),
    BAD(TIME, "12:00:00+01:60"),
    BAD(TIME, "12:00:00 Z"),
    BAD(TIME, "12:00:00ZZ"),
    BAD(TIME, "T12:00:00Z"),
    BAD(TIME, "12:00:00+0100"),
    BAD(TIME, "12:00:00z "),
    BAD(TIME, "12:00:00+01:00:00"),
    BAD(TIME, "12:00:00Z\0"),
    BAD(TIME, "2024-01-01T12:00:00Z"),
    BAD(TIME, "23:59:60Z"),
    BAD_D(TIME, "12:00:00Z\n", JS_NLDT),
    BAD_D(TIME, "12:00:00.1234567Z", JS_FRAC),
    BAD_D(TIME, "12:00:00.12345678901Z", JS_FRAC),
};
#define NCASES (sizeof cases / sizeof cases[0])

/* A heap copy of exactly n bytes (at least one allocated byte, never
 * readable past n for the check: ASan guards it). */
static char *exact_copy(const char *s, size_t n)
{
    char *p = malloc(n ? n : 1);
    assert_non_null(p);
    memcpy(p, s, n);
    return p;
}

static void print_case(const char *prefix, const fmt_case *c)
{
    printf("%s%s \"", prefix, bk__format_name(c->f));
    for (size_t i = 0; i < c->n; i++) {
        unsigned char ch = (unsigned char)c->s[i];
        if (ch < 0x20 || ch == 0x7f || ch == '"' || ch == '\\')
            printf("\\x%02x", ch);
        else
            putchar(ch);
    }
    printf("\" (%zu bytes)", c->n);
}

static void test_table(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t i = 0; i < NCASES; i++) {
        const fmt_case *c = &cases[i];
        char *p = exact_copy(c->s, c->n);
        if (bk__format_check(c->f, p, c->n) != c->ok) {
            print_case("FAIL ", c);
            printf(": expected %s\n", c->ok ? "valid" : "invalid");
            failures++;
        }
        free(p);
    }
    assert_int_equal(failures, 0);
}

/* At least 15 valid and 15 invalid cases for every format. */
static void test_table_coverage(void **state)
{
    (void)state;
    for (int f = BK_FORMAT_EMAIL; f <= BK_FORMAT_TIME; f++) {
        size_t good = 0, bad = 0;
        for (size_t i = 0; i < NCASES; i++)
            if ((int)cases[i].f == f)
                cases[i].ok ? good++ : bad++;
        printf("%-10s %2zu valid, %2zu invalid\n", bk__format_name((bk_format)f), good, bad);
        assert_true(good >= 15);
        assert_true(bad >= 15);
    }
    printf("%zu cases\n", NCASES);
}

/* Every prefix of every case, from an exact heap copy: no read past n (ASan),
 * and a prefix of a case is never valid by accident where the format makes
 * that impossible (fixed-length formats). */
static void test_prefixes_stay_in_bounds(void **state)
{
    (void)state;
    for (size_t i = 0; i < NCASES; i++) {
        const fmt_case *c = &cases[i];
        for (size_t k = 0; k < c->n; k++) {
            char *p = exact_copy(c->s, k);
            bool ok = bk__format_check(c->f, p, k);
            if (c->ok && (c->f == BK_FORMAT_UUID || c->f == BK_FORMAT_DATE))
                assert_false(ok);
            free(p);
        }
    }
}

/* n is the end of the input, whatever follows it. */
static void test_length_is_respected(void **state)
{
    (void)state;
    assert_true(bk__format_check(BK_FORMAT_IPV4, "1.2.3.45", 7));
    assert_false(bk__format_check(BK_FORMAT_IPV4, "1.2.3.4", 6));
    assert_true(bk__format_check(BK_FORMAT_IPV6, "::1:2", 3));
    assert_true(bk__format_check(BK_FORMAT_EMAIL, "a@x.com..", 7));
    assert_true(bk__format_check(BK_FORMAT_HOSTNAME, "example.com.", 11));
    assert_true(bk__format_check(BK_FORMAT_URI, "a:b c", 3));
    assert_true(bk__format_check(BK_FORMAT_URI, "http://x/%41", 12));
    assert_false(bk__format_check(BK_FORMAT_URI, "http://x/%41", 11));
    assert_false(bk__format_check(BK_FORMAT_URI, "http://x/%41", 10));
    assert_true(bk__format_check(BK_FORMAT_DATE, "2024-02-29T00:00:00Z", 10));
    assert_true(bk__format_check(BK_FORMAT_DATE_TIME, "2024-01-01T00:00:00Zjunk", 20));
    assert_true(bk__format_check(BK_FORMAT_TIME, "12:00:00Z12", 9));
    assert_true(bk__format_check(BK_FORMAT_UUID, "123e4567-e89b-12d3-a456-426614174000ff", 36));
    /* Empty input, with or without a pointer. */
    for (int f = BK_FORMAT_EMAIL; f <= BK_FORMAT_TIME; f++) {
        assert_false(bk__format_check((bk_format)f, NULL, 0));
        assert_false(bk__format_check((bk_format)f, "", 0));
        assert_false(bk__format_check((bk_format)f, NULL, 5));
    }
}

/* A time longer than any valid one is refused without reading it all. */
static void test_time_long_inputs(void **state)
{
    (void)state;
    char buf[200];
    memset(buf, '0', sizeof buf);
    memcpy(buf, "12:00:00.", 9);
    for (size_t n = 9; n <= sizeof buf; n++)
        assert_false(bk__format_check(BK_FORMAT_TIME, buf, n));
    /* The longest valid time: nine fraction digits and a numeric offset. */
    assert_true(bk__format_check(BK_FORMAT_TIME, "12:00:00.000000000+01:00", 24));
    assert_false(bk__format_check(BK_FORMAT_TIME, "12:00:00.0000000000+01:00", 25));
}

/* ---- email and hostname against the reference rules -----------------------------
 *
 * lib/formats.c checks email and hostname in one table-driven pass. The
 * functions below are the straightforward reading of the rules (the
 * implementation before that pass), kept as the reference: both must give
 * the same verdict on every string of a small alphabet up to 5 bytes, and
 * on random strings around the length limits (63-byte labels, 64-byte
 * local parts, 253/254 bytes in all). */

static bool ref_alnum(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool ref_atext(unsigned char c)
{
    return ref_alnum(c) || (c && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

static bool ref_hostname(const char *s, size_t n)
{
    if (n == 0 || n > 253)
        return false;
    size_t i = 0;
    for (;;) {
        size_t start = i;
        bool all_digits = true;
        for (; i < n && s[i] != '.'; i++) {
            unsigned char c = (unsigned char)s[i];
            if (!ref_alnum(c) && c != '-')
                return false;
            all_digits = all_digits && c >= '0' && c <= '9';
        }
        if (i == start || i - start > 63 || s[start] == '-' || s[i - 1] == '-')
            return false;
        if (i == n)
            return !all_digits;
        i++;
    }
}

static bool ref_email(const char *s, size_t n)
{
    if (n > 254)
        return false;
    const char *at = memchr(s, '@', n);
    if (!at)
        return false;
    size_t ln = (size_t)(at - s);
    if (ln == 0 || ln > 64 || s[0] == '.' || s[ln - 1] == '.')
        return false;
    for (size_t i = 0; i < ln; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.' ? s[i + 1] == '.' : !ref_atext(c))
            return false;
    }
    const char *d = at + 1;
    size_t dn = n - ln - 1;
    if (dn >= 2 && d[0] == '[' && d[dn - 1] == ']') {
        bool v6 = dn - 2 >= 5;
        for (size_t k = 0; v6 && k < 5; k++)
            v6 = (d[1 + k] | (d[1 + k] >= 'A' && d[1 + k] <= 'Z' ? 0x20 : 0)) == "ipv6:"[k];
        if (v6)
            return bk__format_check(BK_FORMAT_IPV6, d + 6, dn - 7);
        return bk__format_check(BK_FORMAT_IPV4, d + 1, dn - 2);
    }
    return ref_hostname(d, dn);
}

static size_t g_valid_long;   /* valid verdicts on inputs over 60 bytes */

static void compare_with_reference(const char *s, size_t n, int *failures)
{
    char *p = exact_copy(s, n);
    bool e = bk__format_check(BK_FORMAT_EMAIL, p, n), h = bk__format_check(BK_FORMAT_HOSTNAME, p, n);
    g_valid_long += n > 60 && (e || h);
    if (e != ref_email(p, n) || h != ref_hostname(p, n)) {
        if ((*failures)++ < 10)
            printf("differs from the reference: \"%.*s\" (%zu bytes): email %d, hostname %d\n",
                (int)n, p, n, e, h);
    }
    free(p);
}

static void test_email_hostname_match_reference(void **state)
{
    (void)state;
    static const char alphabet[] = { 'a', 'Z', '7', '-', '.', '@', '[', ']', ':', '!', '\xc3' };
    const size_t na = sizeof(alphabet);
    int failures = 0;
    char buf[400];
    for (size_t len = 0; len <= 5; len++) {
        size_t total = 1;
        for (size_t k = 0; k < len; k++)
            total *= na;
        for (size_t code = 0; code < total; code++) {
            size_t c = code;
            for (size_t k = 0; k < len; k++, c /= na)
                buf[k] = alphabet[c % na];
            compare_with_reference(buf, len, &failures);
        }
    }
    /* random runs of label characters, dots and at signs near the limits */
    static const char *const runs[] = { "a", "b1", "-", ".", "@", "x.y", "[1.2.3.4]", "[IPv6:::1]",
        "9", "\xc3\xa9", "~", " " };
    uint64_t x = 88172645463325252ull;
    for (int iter = 0; iter < 20000; iter++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        size_t want = (size_t[]){ 8, 62, 64, 66, 252, 254, 256 }[x % 7] + (x >> 8) % 3;
        size_t n = 0;
        uint64_t y = x;
        while (n < want) {
            y = y * 6364136223846793005ull + 1442695040888963407ull;
            const char *r = runs[(y >> 33) % 12];
            size_t rl = strlen(r), reps = (y >> 45) % 2 ? 1 : 1 + (y >> 50) % 70;
            /* mostly label characters, so long strings still have a chance */
            if (rl == 1 && strchr(".@- ~", r[0]) && (y >> 20) % 4)
                r = "a", rl = 1, reps = 1 + (y >> 50) % 70;
            for (size_t k = 0; k < reps && n + rl <= want && n + rl < sizeof(buf); k++, n += rl)
                memcpy(buf + n, r, rl);
            if (n + rl > want)
                break;
        }
        compare_with_reference(buf, n, &failures);
        /* and as the domain of an email with a valid local part */
        char mail[420];
        int ml = snprintf(mail, sizeof(mail), "u.v@%.*s", (int)n, buf);
        compare_with_reference(mail, (size_t)ml < sizeof(mail) ? (size_t)ml : sizeof(mail) - 1,
            &failures);
    }
    printf("email/hostname: %zu valid verdicts on long random inputs\n", g_valid_long);
    assert_true(g_valid_long > 1000);
    assert_int_equal(failures, 0);
}

static void test_none_and_unknown(void **state)
{
    (void)state;
    assert_true(bk__format_check(BK_FORMAT_NONE, "anything at all", 15));
    assert_true(bk__format_check(BK_FORMAT_NONE, NULL, 0));
    assert_false(bk__format_check((bk_format)99, "a@x.com", 7));
    assert_false(bk__format_check((bk_format)-1, "a@x.com", 7));
}

static void test_names(void **state)
{
    (void)state;
    static const struct { bk_format f; const char *name; } names[] = {
        {BK_FORMAT_EMAIL, "email"}, {BK_FORMAT_URI, "uri"}, {BK_FORMAT_UUID, "uuid"},
        {BK_FORMAT_HOSTNAME, "hostname"}, {BK_FORMAT_IPV4, "ipv4"}, {BK_FORMAT_IPV6, "ipv6"},
        {BK_FORMAT_DATE_TIME, "date-time"}, {BK_FORMAT_DATE, "date"}, {BK_FORMAT_TIME, "time"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        assert_string_equal(bk__format_name(names[i].f), names[i].name);
        bk_format f = BK_FORMAT_NONE;
        assert_true(bk__format_from_name(names[i].name, &f));
        assert_int_equal(f, names[i].f);
    }
    assert_null(bk__format_name(BK_FORMAT_NONE));
    assert_null(bk__format_name((bk_format)99));
    assert_null(bk__format_name((bk_format)-1));
    static const char *const unknown[] = {
        "", "none", "Email", "EMAIL", "date_time", "datetime", "uri-reference", "iri",
        "idn-email", "idn-hostname", "ipv4 ", "regex", "duration",
    };
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        bk_format f = BK_FORMAT_URI;
        assert_false(bk__format_from_name(unknown[i], &f));
        assert_int_equal(f, BK_FORMAT_URI);             /* untouched */
    }
    bk_format f = BK_FORMAT_URI;
    assert_false(bk__format_from_name(NULL, &f));
    assert_int_equal(f, BK_FORMAT_URI);
}

/* ==== cross-check with python-jsonschema ================================= */

#define PYTHON "/usr/bin/python3"

/* Formats whose jsonschema checker is printed, not compared: hostname
 * needs fqdn (not in Debian), whose rules changed between its releases
 * (labels of 62 or 63 bytes, an alphabetic last label, one or two labels
 * at least, a trailing dot), none of them the RFC 1123 rules we follow. */
static const char *not_compared(bk_format f)
{
    if (f == BK_FORMAT_HOSTNAME)
        return "fqdn's rules vary by release and are not RFC 1123's";
    return NULL;
}

/* Reads [[index, format, input], ...] from argv[1]; prints "skip <why>" and
 * stops when jsonschema is missing, else "version <v>" then one line per
 * case: "<index> ok|bad|none" (none: no checker for that format). */
static const char py_script[] =
    "import json, sys\n"
    "try:\n"
    "    import jsonschema\n"
    "except ImportError:\n"
    "    print('skip python3 has no jsonschema module (Debian: python3-jsonschema)')\n"
    "    sys.exit(0)\n"
    "try:\n"
    "    from importlib.metadata import version\n"
    "    print('version', version('jsonschema'))\n"
    "except Exception:\n"
    "    print('version unknown')\n"
    "fc = getattr(jsonschema.Draft202012Validator, 'FORMAT_CHECKER', None)\n"
    "if fc is None:\n"
    "    fc = jsonschema.draft202012_format_checker\n"
    "with open(sys.argv[1], encoding='utf-8') as f:\n"
    "    cases = json.load(f)\n"
    "for i, fmt, s in cases:\n"
    "    if fmt not in fc.checkers:\n"
    "        print(i, 'none')\n"
    "    else:\n"
    "        print(i, 'ok' if fc.conforms(s, fmt) else 'bad')\n"
    "sys.stdout.flush()\n";

static void write_json_string(FILE *f, const char *s, size_t n)
{
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);               /* UTF-8 passes through */
    }
    fputc('"', f);
}

/* Write the table to a temporary JSON file; returns its path in `path`. */
static void write_cases(char *path, size_t cap)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(path, cap, "%s/bk_formats_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    fputc('[', f);
    for (size_t i = 0; i < NCASES; i++) {
        fprintf(f, "%s\n[%zu, \"%s\", ", i ? "," : "", i, bk__format_name(cases[i].f));
        write_json_string(f, cases[i].s, cases[i].n);
        fputc(']', f);
    }
    fputs("]\n", f);
    assert_int_equal(fclose(f), 0);
}

static void test_cross_check_jsonschema(void **state)
{
    (void)state;
    if (access(PYTHON, X_OK) != 0) {
        printf("[  SKIPPED ] cross-check: no " PYTHON "\n");
        return;
    }
    char path[512];
    write_cases(path, sizeof path);

    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(stdout);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execl(PYTHON, "python3", "-c", py_script, path, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    FILE *in = fdopen(fds[0], "r");
    assert_non_null(in);

    enum { NOT_SEEN = 0, JS_OK, JS_BAD, JS_NONE };
    static unsigned char verdict[NCASES];
    memset(verdict, NOT_SEEN, sizeof verdict);
    char line[512], version[128] = "unknown";
    bool skipped = false;
    while (fgets(line, sizeof line, in)) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "skip ", 5) == 0) {
            printf("[  SKIPPED ] cross-check: %s\n", line + 5);
            skipped = true;
        } else if (strncmp(line, "version ", 8) == 0) {
            snprintf(version, sizeof version, "%.100s", line + 8);
        } else {
            char word[8];
            size_t idx;
            if (sscanf(line, "%zu %7s", &idx, word) == 2 && idx < NCASES)
                verdict[idx] = strcmp(word, "ok") == 0 ? JS_OK
                    : strcmp(word, "bad") == 0 ? JS_BAD : JS_NONE;
            else
                printf("cross-check: unexpected output: %s\n", line);
        }
    }
    fclose(in);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    unlink(path);
    if (skipped)
        return;
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    size_t compared = 0, mismatches = 0, known = 0, confirmed = 0;
    size_t unchecked[BK_FORMAT_TIME + 1] = {0};
    for (size_t i = 0; i < NCASES; i++) {
        const fmt_case *c = &cases[i];
        if (verdict[i] == NOT_SEEN) {
            print_case("cross-check: no answer for ", c);
            printf("\n");
            mismatches++;
            continue;
        }
        if (verdict[i] == JS_NONE) {
            unchecked[c->f]++;
            continue;
        }
        bool js = verdict[i] == JS_OK;
        if (not_compared(c->f)) {
            if (js != c->ok) {
                print_case("cross-check: info: ", c);
                printf(": jsonschema says %s (%s)\n", js ? "valid" : "invalid",
                    not_compared(c->f));
            }
            continue;
        }
        if (c->differs) {
            known++;
            if (js != c->ok) {
                confirmed++;
            } else {
                print_case("cross-check: note: known difference now agrees: ", c);
                printf(" [%s]\n", c->differs);
            }
            continue;
        }
        compared++;
        if (js != c->ok) {
            print_case("cross-check: DISAGREE ", c);
            printf(": libbackend %s, jsonschema %s\n", c->ok ? "valid" : "invalid",
                js ? "valid" : "invalid");
            mismatches++;
        }
    }
    printf("cross-check: jsonschema %s, draft 2020-12 FormatChecker: %zu cases compared, "
        "%zu disagree; %zu known differences not compared (%zu still differ)\n",
        version, compared, mismatches, known, confirmed);
    for (int f = BK_FORMAT_EMAIL; f <= BK_FORMAT_TIME; f++)
        if (unchecked[f])
            printf("cross-check: %s: no jsonschema checker installed, %zu cases not compared\n",
                bk__format_name((bk_format)f), unchecked[f]);
    assert_int_equal(mismatches, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_table_coverage),
        cmocka_unit_test(test_prefixes_stay_in_bounds),
        cmocka_unit_test(test_length_is_respected),
        cmocka_unit_test(test_time_long_inputs),
        cmocka_unit_test(test_none_and_unknown),
        cmocka_unit_test(test_email_hostname_match_reference),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_cross_check_jsonschema),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
