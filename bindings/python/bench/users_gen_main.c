/*
 * users_gen_main.c - write the C benchmark's User document to a file, so the
 * Python benchmark reads exactly the bytes tests/bench/bench_json decodes.
 *
 * Usage: users_gen_main OUT.json [N records, default 100000]
 * The generator and its seed are tests/bench/users_gen.h and bench_json.c's
 * SEED (keep the two in step).
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "users_gen.h"

#define SEED 0x5EEDB0B5C0FFEEull /* = tests/bench/bench_json.c */

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s OUT.json [records (default 100000)]\n", argv[0]);
        return 2;
    }
    size_t n = argc == 3 ? (size_t)strtoull(argv[2], NULL, 10) : 100000;
    users_doc doc;
    users_gen(&doc, n, SEED);
    FILE *f = fopen(argv[1], "wb");
    if (!f || fwrite(doc.text, 1, doc.len, f) != doc.len || fclose(f) != 0) {
        perror(argv[1]);
        return 1;
    }
    users_doc_free(&doc);
    return 0;
}
