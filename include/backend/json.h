/**
 * @file backend/json.h
 * @brief Schema-directed JSON decoding and encoding of structs and records,
 * record streams, and conversion to and from jansson values.
 *
 * The decoder reads the bytes once and writes straight into the target; no
 * intermediate document tree is built. Defaults are strict and safe: every
 * limit below applies unless the caller loosens it per call.
 *
 * All functions here are thread-safe for distinct targets; a model may be
 * shared between threads.
 */
#ifndef BK_JSON_H
#define BK_JSON_H

#include <stdio.h>
#include <jansson.h>
#include "common.h"
#include "error.h"
#include "model.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Version of ::bk_decode_options. */
#define BK_DECODE_OPTIONS_VERSION 1

/** Per-call decoding options. Initialise with BK_DECODE_OPTIONS_INIT or
 * bk_decode_options_init(); pass NULL for the defaults. */
typedef struct bk_decode_options {
    unsigned int version;      /**< ::BK_DECODE_OPTIONS_VERSION */
    size_t max_depth;          /**< nesting of arrays/objects; default 64 */
    size_t max_string;         /**< bytes in one decoded string or bytes value; default 1 MiB */
    size_t max_size;           /**< bytes in the document; default 64 MiB */
    size_t max_errors;         /**< problems recorded before giving up; default 100 */
    bool allow_duplicate_keys; /**< when true the last duplicate wins; default false */
    bool skip_validation;      /**< do not check the model's constraints; default false */
} bk_decode_options;

/** Static initialiser with the defaults. */
#define BK_DECODE_OPTIONS_INIT { BK_DECODE_OPTIONS_VERSION, 64, 1u << 20, 64u << 20, 100, false, false }

/** @brief Fill @p opts with the defaults (for bindings).
 * @retval BK_OK, BK_EINVAL (NULL). @since 0.1 */
BK_EXTERN(bk_status) bk_decode_options_init(bk_decode_options *opts);

/** Version of ::bk_encode_options. */
#define BK_ENCODE_OPTIONS_VERSION 1

/** Per-call encoding options. */
typedef struct bk_encode_options {
    unsigned int version;  /**< ::BK_ENCODE_OPTIONS_VERSION */
    int indent;            /**< 0: compact; n > 0: pretty with n spaces (max 16) */
} bk_encode_options;

/** Static initialiser: compact output. */
#define BK_ENCODE_OPTIONS_INIT { BK_ENCODE_OPTIONS_VERSION, 0 }

/** @brief Fill @p opts with the defaults (for bindings).
 * @retval BK_OK, BK_EINVAL (NULL). @since 0.1 */
BK_EXTERN(bk_status) bk_encode_options_init(bk_encode_options *opts);

/**
 * @brief Decode one JSON document into a struct of @p model.
 *
 * @p out must point to a struct of the model (or record storage) which is
 * overwritten: whatever it held is not freed, so pass a zeroed or cleared
 * struct. On success the struct owns what was allocated; release it with
 * bk_clear(). On failure the struct is cleared (zeroed, nothing leaked) and
 * @p err holds every problem found, each with its path and code.
 *
 * @param buf   the bytes (need not be NUL-terminated); not retained.
 * @param opts  NULL for the defaults.
 * @retval BK_OK
 * @retval BK_ESYNTAX  malformed JSON (the problem has line and column)
 * @retval BK_EDECODE  well-formed JSON that does not fit the model
 * @retval BK_ELIMIT   a depth, length or size limit was exceeded
 * @retval BK_ENOMEM
 * @since 0.1
 */
BK_EXTERN(bk_status) bk_json_decode(void *out, const bk_model *model, const char *buf,
    size_t len, const bk_decode_options *opts, bk_error **err);

/**
 * @brief Encode a struct of @p model as JSON, appending to @p buf.
 * Fields are written in declaration order; optional fields that are absent
 * are left out. Strings are written as valid UTF-8 (an invalid string in the
 * struct is an error, not silently repaired).
 * On failure @p buf is restored to its previous length.
 * @retval BK_OK
 * @retval BK_EDECODE a value cannot be represented (invalid UTF-8, a
 *         non-finite float, an enum index out of range, a bad union tag);
 *         the problem's path names it.
 * @retval BK_ENOMEM
 * @since 0.1
 */
BK_EXTERN(bk_status) bk_json_encode_buf(bk_buf *buf, const bk_model *model, const void *obj,
    const bk_encode_options *opts, bk_error **err);

/**
 * @brief Encode one field's value as JSON, appending to @p buf: the value of
 * field @p field of @p model held at @p value, a pointer to the field's C
 * member (what a field validator receives, see ::bk_validate_fn), written
 * compact as it would appear in the struct's encoding. For bindings and
 * generic validators that need the value in a form of their own.
 * On failure @p buf is restored to its previous length.
 * @retval BK_OK
 * @retval BK_EINVAL  NULL @p buf or @p value, or @p field out of range.
 * @retval BK_EMISUSE not a model handle.
 * @retval BK_EDECODE the value cannot be represented (see bk_json_encode_buf()).
 * @retval BK_ENOMEM
 * Thread-safe for distinct buffers. @since 0.1
 */
BK_EXTERN(bk_status) bk_json_encode_field(bk_buf *buf, const bk_model *model, size_t field,
    const void *value, bk_error **err);

/**
 * @brief Encode a struct of @p model as JSON into a new string.
 * @param out     receives NUL-terminated text; free with bk_free().
 * @param len_out receives its length (may be NULL).
 * @retval BK_OK, BK_EDECODE, BK_ENOMEM (see bk_json_encode_buf()). @since 0.1
 */
BK_EXTERN(bk_status) bk_json_encode(char **out, size_t *len_out, const bk_model *model,
    const void *obj, const bk_encode_options *opts, bk_error **err);

/**
 * @brief Convert a struct of @p model to a jansson value.
 * @param out receives a new reference (json_decref() it).
 * @retval BK_OK, BK_EDECODE, BK_ENOMEM. @since 0.1
 */
BK_EXTERN(bk_status) bk_json_to_value(json_t **out, const bk_model *model, const void *obj,
    bk_error **err);

/**
 * @brief Fill a struct of @p model from a jansson value (borrowed, not
 * modified). Same contract as bk_json_decode().
 * @retval BK_OK, BK_EDECODE, BK_ELIMIT, BK_ENOMEM. @since 0.1
 */
BK_EXTERN(bk_status) bk_json_from_value(void *out, const bk_model *model, const json_t *value,
    const bk_decode_options *opts, bk_error **err);

/* ---- record streams ------------------------------------------------------ */

/** What a stream holds. */
typedef enum bk_stream_format {
    BK_STREAM_AUTO = 0, /**< an array if the first non-space byte is '[', else NDJSON */
    BK_STREAM_ARRAY,    /**< one top-level JSON array of records */
    BK_STREAM_NDJSON    /**< one record per line (blank lines ignored) */
} bk_stream_format;

/** A pull stream of records: opaque. Belongs to one thread at a time. */
typedef struct bk_json_stream bk_json_stream;

/**
 * @brief Open a stream over a buffer. The buffer is borrowed: it must
 * outlive the stream and not change.
 * @retval BK_OK, BK_EINVAL, BK_ENOMEM. @since 0.1
 */
BK_EXTERN(bk_status) bk_json_stream_new_buffer(bk_json_stream **out, const bk_model *model,
    const char *buf, size_t len, bk_stream_format format, const bk_decode_options *opts,
    bk_error **err);

/**
 * @brief Open a stream reading from file descriptor @p fd (not closed by
 * the stream). Only one record (plus a read chunk) is held in memory.
 * @retval BK_OK, BK_EINVAL, BK_ENOMEM. @since 0.1
 */
BK_EXTERN(bk_status) bk_json_stream_new_fd(bk_json_stream **out, const bk_model *model,
    int fd, bk_stream_format format, const bk_decode_options *opts, bk_error **err);

/**
 * @brief Open a stream reading from @p fp (not closed by the stream).
 * @retval BK_OK, BK_EINVAL, BK_ENOMEM. @since 0.1
 */
BK_EXTERN(bk_status) bk_json_stream_new_file(bk_json_stream **out, const bk_model *model,
    FILE *fp, bk_stream_format format, const bk_decode_options *opts, bk_error **err);

/**
 * @brief Decode the next record into @p out (same contract as
 * bk_json_decode()).
 *
 * A record that does not fit the model yields BK_EDECODE (or BK_ELIMIT)
 * with bk_error_record_index() set, and the stream moves on: the next call
 * reads the next record. A syntax error in the framing (an unterminated
 * array, a broken line that cannot be skipped) ends the stream: later calls
 * return BK_ITEROVER.
 *
 * @retval BK_OK        a record was decoded
 * @retval BK_ITEROVER  no more records (not an error; @p err untouched)
 * @retval BK_EDECODE, BK_ESYNTAX, BK_ELIMIT, BK_EIO, BK_ENOMEM
 * @since 0.1
 */
BK_EXTERN(bk_status) bk_json_stream_next(bk_json_stream *s, void *out, bk_error **err);

/** @brief Index of the record the last bk_json_stream_next() read (0-based),
 * or -1 before the first. @since 0.1 */
BK_EXTERN(long long) bk_json_stream_index(const bk_json_stream *s);

/** @brief Free a stream. NULL-safe. @since 0.1 */
BK_EXTERN(void) bk_json_stream_free(bk_json_stream *s);

#ifdef __cplusplus
}
#endif
#endif
