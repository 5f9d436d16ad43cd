/*
 * bench_json_mem.c - peak memory of decoding a whole JSON array of User
 * records into structs, against the memory the structs hold once done.
 *
 * Usage: bench_json_mem [N records, default 100000]
 *
 * Each measurement runs in a fresh child process (fork) so that one
 * decoder's freed heap cannot hide another's growth. In the child:
 *   rss0 = VmRSS; reset VmHWM ("5" > /proc/self/clear_refs);
 *   allocate User[N] and decode the document into it;
 *   peak = VmHWM - rss0; held = VmRSS - rss0 after malloc_trim(0) gave
 *   free heap pages back (glibc; printed untrimmed too); both include the
 *   User array, which is part of the result; ratio = peak / held.
 * The document text exists before the measurement and is not counted.
 * Target for libbackend: ratio <= 1.2 (printed as PASS/MISS, not asserted).
 * The jansson path (whole DOM, then structs) is printed for comparison.
 * Exit status 1 if a decode fails or /proc cannot be read or reset.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "users_gen.h"
#if defined(__GLIBC__)
#include <malloc.h> /* malloc_trim */
#endif
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define SEED 0x5EEDB0B5C0FFEEull

enum { MODE_BK_STREAM, MODE_BK_SLICES, MODE_JANSSON };

static const char *const MODE_NAMES[] = {
    "libbackend stream -> User[N]",
    "libbackend bk_json_decode per slice -> User[N]",
    "jansson DOM + walk -> User[N] (DOM freed)",
};

/* Child: measure one mode, print one line. Returns the exit status. */
static int measure(int mode, const users_doc *doc, const bk_model *model)
{
    size_t n = doc->n;
    long hwm0, rss0, hwm1, rss1;
    if (!ug_vm(&hwm0, &rss0)) {
        fprintf(stderr, "cannot read /proc/self/status\n");
        return 1;
    }
    if (!ug_reset_hwm()) {
        fprintf(stderr, "cannot reset VmHWM through /proc/self/clear_refs\n");
        return 1;
    }
    if (!ug_vm(&hwm0, &rss0))
        return 1;
    User *users = ug_xcalloc(n, sizeof(User));
    size_t got = 0;
    bk_error *err = NULL;
    bk_status st = BK_OK;
    if (mode == MODE_BK_STREAM) {
        bk_json_stream *s = NULL;
        st = bk_json_stream_new_buffer(&s, model, doc->text, doc->len, BK_STREAM_ARRAY, NULL, &err);
        while (st == BK_OK && got < n) {
            st = bk_json_stream_next(s, &users[got], &err);
            if (st == BK_OK)
                got++;
        }
        if (st == BK_ITEROVER)
            st = BK_OK;
        bk_json_stream_free(s);
    } else if (mode == MODE_BK_SLICES) {
        for (; got < n && st == BK_OK; got++)
            st = bk_json_decode(&users[got], model, doc->text + doc->off[got], doc->elen[got], NULL, &err);
        if (st != BK_OK)
            got--;
    } else {
        long k = users_decode_jansson(users, n, doc->text, doc->len);
        got = k < 0 ? 0 : (size_t)k;
    }
    if (!ug_vm(&hwm1, &rss1))
        return 1;
    long hwm2 = 0, rss2 = rss1;
#if defined(__GLIBC__)
    /* give free heap pages back, so "held" is memory still in use */
    malloc_trim(0);
    if (!ug_vm(&hwm2, &rss2))
        return 1;
#endif
    if (st != BK_OK || got != n) {
        fprintf(stderr, "%s: decoded %zu of %zu records: %s %s\n", MODE_NAMES[mode], got, n,
            bk_status_name(st), bk_error_message(err));
        bk_error_free(err);
        return 1;
    }
    double peak = (double)(hwm1 - rss0) / 1024.0, held_raw = (double)(rss1 - rss0) / 1024.0;
    double held = (double)(rss2 - rss0) / 1024.0;
    double ratio = held > 0 ? peak / held : 0;
    printf("%-48s %9.1f %9.1f %9.1f %7.3f   %s\n", MODE_NAMES[mode], peak, held_raw, held, ratio,
        mode == MODE_JANSSON ? "(comparison)" : ratio <= 1.2 ? "target <= 1.2: PASS"
                                                              : "target <= 1.2: MISS");
    fflush(stdout);
    /* the process exits: no need to free the structs */
    return 0;
}

int main(int argc, char **argv)
{
    size_t n = 100000;
    if (argc > 1) {
        char *e;
        unsigned long long v = strtoull(argv[1], &e, 10);
        if (*e || v == 0 || v > 100000000ull) {
            fprintf(stderr, "usage: %s [records (default 100000)]\n", argv[0]);
            return 2;
        }
        n = (size_t)v;
    }
    users_doc doc;
    users_gen(&doc, n, SEED);
    bk_model *model = NULL;
    bk_error *err = NULL;
    bk_status st = bk_model_new(&model, &USER_DEF, &err);
    if (st != BK_OK) {
        fprintf(stderr, "bk_model_new: %s\n", bk_error_message(err));
        bk_error_free(err);
        return 1;
    }
    printf("libbackend JSON decode memory: %zu records, document %.2f MB (not counted)\n", n,
        (double)doc.len / 1e6);
    printf("peak = VmHWM growth during the decode; held = VmRSS growth once done, as is and after\n"
           "malloc_trim(0) returned free heap pages (MiB; all include User[N] = %.2f MiB);\n"
           "ratio = peak / held after trim\n", (double)(n * sizeof(User)) / (1024.0 * 1024.0));
    printf("\n%-48s %9s %9s %9s %7s\n", "decode", "peak MiB", "held MiB", "trimmed", "ratio");
    fflush(stdout);
    int status = 0;
    for (int mode = MODE_BK_STREAM; mode <= MODE_JANSSON; mode++) {
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            return 1;
        }
        if (pid == 0)
            _exit(measure(mode, &doc, model));
        int ws;
        if (waitpid(pid, &ws, 0) != pid || !WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
            status = 1;
    }
    bk_model_unref(model);
    users_doc_free(&doc);
    return status;
}
