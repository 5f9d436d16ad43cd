/*
 * json_stream.c - record streams: the elements of a top-level array, or the
 * lines of an NDJSON stream, decoded one at a time.
 *
 * The stream finds where the next record ends with a small framing scanner
 * (brackets, strings and escapes only), then hands exactly those bytes to
 * the decoder, which validates everything. So a record with a problem —
 * even a syntax problem inside it — costs that record only, and the stream
 * moves on. Only a broken frame (an array that never closes, garbage between
 * elements) ends the stream. Reading from a file descriptor keeps at most
 * one record plus one read chunk in memory.
 */
#include <errno.h>
#include <stdint.h>
#include <unistd.h>
#include "internal.h"

#define CHUNK 65536

enum { SRC_BUF, SRC_FD, SRC_FILE };
enum { FR_OK, FR_MORE, FR_BAD };
enum { AS_START, AS_FIRST, AS_AFTER_VALUE, AS_VALUE, AS_END };

struct bk_json_stream {
    uint32_t magic;
    bk_model *model;
    bk_decode_options opts;
    bk_stream_format format;
    int src;
    int fd;
    FILE *fp;
    const char *data;   /* SRC_BUF: the caller's buffer; else buf.ptr */
    size_t len;         /* bytes available in data */
    size_t pos;         /* next unread byte */
    bk_buf buf;         /* SRC_FD / SRC_FILE storage */
    bool eof;
    int state;          /* array framing state (AS_...) */
    bool done;
    long long index;
};

static bk_status stream_new(bk_json_stream **out, const bk_model *model, int src,
    bk_stream_format format, const bk_decode_options *opts, bk_error **err)
{
    if (!out)
        return bk__error_set(err, BK_EINVAL, "bk_json_stream: NULL argument");
    *out = NULL;
    if (!bk__model_ok(model))
        return bk__error_set(err, BK_EINVAL, "bk_json_stream: not a model handle");
    if (format < BK_STREAM_AUTO || format > BK_STREAM_NDJSON)
        return bk__error_set(err, BK_EINVAL, "bk_json_stream: unknown format %d", (int)format);
    if (opts && (opts->version < 1 || opts->version > BK_DECODE_OPTIONS_VERSION))
        return bk__error_set(err, BK_EINVAL, "unknown bk_decode_options version");
    bk_json_stream *s = bk__calloc(1, sizeof(*s));
    if (!s)
        return bk__error_oom(err);
    s->magic = BK__MAGIC_STREAM;
    s->model = bk_model_ref((bk_model *)model);
    if (opts)
        s->opts = *opts;
    else
        bk_decode_options_init(&s->opts);
    s->format = format;
    s->src = src;
    s->fd = -1;
    s->state = AS_START;
    s->index = -1;
    *out = s;
    return BK_OK;
}

bk_status bk_json_stream_new_buffer(bk_json_stream **out, const bk_model *model,
    const char *buf, size_t len, bk_stream_format format, const bk_decode_options *opts,
    bk_error **err)
{
    if (!buf && len)
        return bk__error_set(err, BK_EINVAL, "bk_json_stream_new_buffer: NULL buffer");
    bk_status st = stream_new(out, model, SRC_BUF, format, opts, err);
    if (st == BK_OK) {
        (*out)->data = buf ? buf : "";
        (*out)->len = len;
        (*out)->eof = true;
    }
    return st;
}

bk_status bk_json_stream_new_fd(bk_json_stream **out, const bk_model *model, int fd,
    bk_stream_format format, const bk_decode_options *opts, bk_error **err)
{
    if (fd < 0)
        return bk__error_set(err, BK_EINVAL, "bk_json_stream_new_fd: invalid descriptor");
    bk_status st = stream_new(out, model, SRC_FD, format, opts, err);
    if (st == BK_OK)
        (*out)->fd = fd;
    return st;
}

bk_status bk_json_stream_new_file(bk_json_stream **out, const bk_model *model, FILE *fp,
    bk_stream_format format, const bk_decode_options *opts, bk_error **err)
{
    if (!fp)
        return bk__error_set(err, BK_EINVAL, "bk_json_stream_new_file: NULL file");
    bk_status st = stream_new(out, model, SRC_FILE, format, opts, err);
    if (st == BK_OK)
        (*out)->fp = fp;
    return st;
}

void bk_json_stream_free(bk_json_stream *s)
{
    if (!s || s->magic != BK__MAGIC_STREAM)
        return;
    s->magic = 0;
    bk_buf_dispose(&s->buf);
    bk_model_unref(s->model);
    bk__free(s);
}

long long bk_json_stream_index(const bk_json_stream *s)
{
    return s && s->magic == BK__MAGIC_STREAM ? s->index : -1;
}

/* Read more bytes (fd/FILE sources), dropping what was consumed. */
static bk_status fill(bk_json_stream *s, bk_error **err)
{
    if (s->eof)
        return BK_OK;
    if (s->pos > 0) {
        memmove(s->buf.ptr, s->buf.ptr + s->pos, s->buf.len - s->pos);
        s->buf.len -= s->pos;
        s->pos = 0;
    }
    if (bk__buf_reserve(&s->buf, CHUNK) != BK_OK)
        return bk__error_oom(err);
    ssize_t n;
    if (s->src == SRC_FD) {
        do {
            n = read(s->fd, s->buf.ptr + s->buf.len, CHUNK);
        } while (n < 0 && errno == EINTR);
    } else {
        size_t r = fread(s->buf.ptr + s->buf.len, 1, CHUNK, s->fp);
        n = (ssize_t)r;
        if (r == 0 && ferror(s->fp))
            n = -1;
    }
    if (n < 0)
        return bk__error_set(err, BK_EIO, "reading the stream failed: %s", strerror(errno));
    if (n == 0)
        s->eof = true;
    s->buf.len += (size_t)n;
    s->data = s->buf.ptr;
    s->len = s->buf.len;
    return BK_OK;
}

/* Skip white space; returns false when more data is needed. */
static bool skip_ws(bk_json_stream *s)
{
    while (s->pos < s->len) {
        char c = s->data[s->pos];
        if (c != ' ' && c != '\n' && c != '\r' && c != '\t')
            return true;
        s->pos++;
    }
    return false;
}

/*
 * Find the end of the JSON value starting at p (framing only). Returns
 * FR_OK with *n, FR_MORE when the data ends first, FR_BAD when the frame is
 * broken (a closing bracket with nothing open).
 */
static int frame_value(const char *p, size_t avail, bool at_eof, size_t *n)
{
    size_t i = 0, depth = 0;
    bool in_str = false;
    if (avail == 0)
        return FR_MORE;
    char c0 = p[0];
    if (c0 != '{' && c0 != '[' && c0 != '"') {
        /* scalar: up to a delimiter */
        while (i < avail) {
            char c = p[i];
            if (c == ',' || c == ']' || c == '}' || c == ' ' || c == '\n' || c == '\r' || c == '\t')
                break;
            i++;
        }
        if (i == avail && !at_eof)
            return FR_MORE;
        *n = i;
        return i ? FR_OK : FR_BAD;
    }
    for (; i < avail; i++) {
        char c = p[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
            if (!in_str && depth == 0) {
                *n = i + 1;
                return FR_OK;
            }
            continue;
        }
        if (c == '"') {
            in_str = true;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (depth == 0)
                return FR_BAD;
            if (--depth == 0) {
                *n = i + 1;
                return FR_OK;
            }
        }
    }
    return FR_MORE;
}

static bk_status frame_error(bk_json_stream *s, const char *what, bk_error **err)
{
    s->done = true;
    bk_status st = bk__error_problem(err, BK_ESYNTAX, "$", "syntax", "%s (stream ends)", what);
    if (err && *err)
        bk__error_set_record_index(*err, s->index + 1);
    return st;
}

/* Make sure data from pos holds a full line/value; sets *start, *n. */
static bk_status next_frame(bk_json_stream *s, size_t *start, size_t *n, bool *have,
    bk_error **err)
{
    bk_status st;
    *have = false;
    for (;;) {
        if (!skip_ws(s)) {
            if (!s->eof) {
                if ((st = fill(s, err)) != BK_OK)
                    return st;
                continue;
            }
            if (s->format == BK_STREAM_ARRAY && s->state == AS_START)
                return frame_error(s, "empty input, an array was expected", err);
            if (s->format == BK_STREAM_ARRAY && s->state != AS_END)
                return frame_error(s, "unterminated array", err);
            return BK_OK;
        }
        if (s->format == BK_STREAM_AUTO)
            s->format = s->data[s->pos] == '[' ? BK_STREAM_ARRAY : BK_STREAM_NDJSON;
        if (s->format == BK_STREAM_NDJSON) {
            const char *nl = memchr(s->data + s->pos, '\n', s->len - s->pos);
            if (!nl && !s->eof) {
                if (s->len - s->pos > s->opts.max_size)
                    return frame_error(s, "line longer than the document size limit", err);
                if ((st = fill(s, err)) != BK_OK)
                    return st;
                continue;
            }
            *start = s->pos;
            *n = (nl ? (size_t)(nl - s->data) : s->len) - s->pos;
            s->pos += *n + (nl ? 1 : 0);
            *have = true;
            return BK_OK;
        }
        /* array framing: a small state machine that survives refills */
        char c = s->data[s->pos];
        switch (s->state) {
        case AS_START:
            if (c != '[')
                return frame_error(s, "'[' expected at the start of the array", err);
            s->pos++;
            s->state = AS_FIRST;
            continue;
        case AS_AFTER_VALUE:
            if (c == ',') {
                s->pos++;
                s->state = AS_VALUE;
                continue;
            }
            if (c != ']')
                return frame_error(s, "',' or ']' expected between records", err);
            s->pos++;
            s->state = AS_END;
            continue;
        case AS_END:
            return frame_error(s, "unexpected data after the array", err);
        default: /* AS_FIRST, AS_VALUE */
            if (c == ']' && s->state == AS_FIRST) {
                s->pos++;
                s->state = AS_END;
                continue;
            }
            break;
        }
        /* a value starts here: bk_json_stream_next decodes it in place */
        *start = s->pos;
        *n = SIZE_MAX;
        *have = true;
        return BK_OK;
    }
}

/*
 * Decode the array element at s->pos in place, reading more input when the
 * element runs past what is buffered. When the decoder could not read the
 * element to its end (a syntax error inside it), the framing scanner finds
 * the end so the stream can go on with the next element.
 */
static bk_status decode_element(bk_json_stream *s, void *out, bk_error **err)
{
    bk_status st;
    for (;;) {
        size_t consumed;
        bool complete, hit_end;
        bk_error *e = NULL;
        st = bk__json_decode_prefix(out, s->model, s->data + s->pos, s->len - s->pos, &s->opts,
            &consumed, &complete, &hit_end, &e);
        if (hit_end && !s->eof) {
            bk_error_free(e);
            if (s->len - s->pos > s->opts.max_size)
                return frame_error(s, "record larger than the document size limit", err);
            bk_status fst = fill(s, err);
            if (fst != BK_OK)
                return fst;
            continue;
        }
        if (!complete) {
            size_t vn = 0;
            int fr;
            while ((fr = frame_value(s->data + s->pos, s->len - s->pos, s->eof, &vn)) == FR_MORE &&
                   !s->eof) {
                bk_status fst = fill(s, err);
                if (fst != BK_OK) {
                    bk_error_free(e);
                    return fst;
                }
            }
            if (fr != FR_OK) {
                bk_error_free(e);
                return frame_error(s, fr == FR_MORE ? "unterminated array"
                                                    : "malformed record in the array", err);
            }
            consumed = vn;
        }
        s->pos += consumed;
        s->state = AS_AFTER_VALUE;
        s->index++;
        if (st != BK_OK) {
            bk__error_set_record_index(e, s->index);
            if (err)
                *err = e;
            else
                bk_error_free(e);
        }
        return st;
    }
}

bk_status bk_json_stream_next(bk_json_stream *s, void *out, bk_error **err)
{
    if (!s || s->magic != BK__MAGIC_STREAM || !out)
        return bk__error_set(err, s ? BK_EMISUSE : BK_EINVAL, "bk_json_stream_next: bad handle");
    if (s->done) {
        memset(out, 0, s->model->size);
        return BK_ITEROVER;
    }
    size_t start = 0, n = 0;
    bool have;
    bk_status st = next_frame(s, &start, &n, &have, err);
    if (st != BK_OK) {
        s->done = true;
        memset(out, 0, s->model->size);
        return st;
    }
    if (!have) {
        s->done = true;
        memset(out, 0, s->model->size);
        return BK_ITEROVER;
    }
    if (n == SIZE_MAX)
        return decode_element(s, out, err);
    s->index++;
    st = bk_json_decode(out, s->model, s->data + start, n, &s->opts, err);
    if (st != BK_OK && err && *err)
        bk__error_set_record_index(*err, s->index);
    return st;
}
