/**
 * @file backend/error.h
 * @brief Error handles: what failed, every problem with its path, and how
 * to answer it over HTTP.
 *
 * Conventions (see docs/conventions.md):
 * - A fallible function takes `bk_error **err` as its last parameter. It
 *   may be NULL. It is written only on failure, and then the returned
 *   status equals bk_error_code(*err). The caller frees it with
 *   bk_error_free().
 * - An error holds a list of *problems*. A decode that finds several shape
 *   errors reports them all (up to a cap) in one handle. Each problem has a
 *   JSON path (`$.users[3].address.zip`), a stable code string (`type`,
 *   `missing`, ...), a message, and, for syntax errors, a byte offset, line
 *   and column.
 * - When memory runs out while building an error, a static out-of-memory
 *   error is returned; freeing it is a no-op.
 *
 * An error handle is immutable once returned and may be read from several
 * threads.
 */
#ifndef BK_ERROR_H
#define BK_ERROR_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An error: opaque; see the accessors below. */
typedef struct bk_error bk_error;

/**
 * @brief Free an error. NULL-safe; freeing the static out-of-memory error
 * is a no-op. @since 0.1
 */
BK_EXTERN(void) bk_error_free(bk_error *err);

/**
 * @brief The status of the failure (never BK_OK for a real error).
 * @return BK_EINVAL when @p err is NULL. @since 0.1
 */
BK_EXTERN(bk_status) bk_error_code(const bk_error *err);

/**
 * @brief A one-line human-readable summary ("3 problems in the document:
 * $.age: expected an integer, got a string; ...").
 * @return a string owned by the error, valid until bk_error_free(); never
 * NULL ("" when @p err is NULL). @since 0.1
 */
BK_EXTERN(const char *) bk_error_message(const bk_error *err);

/**
 * @brief Number of problems recorded (0 for errors that are not about a
 * document, such as BK_ENOMEM or BK_EINVAL). @since 0.1
 */
BK_EXTERN(size_t) bk_error_count(const bk_error *err);

/**
 * @brief Whether more problems were found than the configured cap allowed
 * to record. @since 0.1
 */
BK_EXTERN(bool) bk_error_truncated(const bk_error *err);

/**
 * @brief The JSON path of problem @p i, such as `$.tags[3]` or `$` for the
 * document itself. Object keys that are not identifiers are written in
 * brackets: `$["a b"]`.
 * @return a string owned by the error; NULL when @p i is out of range.
 * @since 0.1
 */
BK_EXTERN(const char *) bk_error_path(const bk_error *err, size_t i);

/**
 * @brief The stable code of problem @p i: one of `syntax`, `type`,
 * `missing`, `unknown_field`, `out_of_range`, `invalid_utf8`,
 * `invalid_value`, `too_deep`, `too_long`, `too_large`, `duplicate_key`,
 * `embedded_nul`, `unknown_variant`, `too_many_errors` (documented in
 * docs/json.md). New codes may be added; existing ones never change.
 * @return a static string; NULL when @p i is out of range. @since 0.1
 */
BK_EXTERN(const char *) bk_error_problem_code(const bk_error *err, size_t i);

/**
 * @brief The message of problem @p i.
 * @return a string owned by the error; NULL when @p i is out of range.
 * @since 0.1
 */
BK_EXTERN(const char *) bk_error_problem_message(const bk_error *err, size_t i);

/**
 * @brief The parameters of problem @p i as a JSON object text, such as
 * `{"max_len":100}` for a `too_long` violation; `{}` when it has none.
 * @return a string owned by the error; NULL when @p i is out of range.
 * @since 0.1
 */
BK_EXTERN(const char *) bk_error_problem_params(const bk_error *err, size_t i);

/**
 * @brief Location of problem @p i in the input: byte offset (0-based),
 * line and column (1-based, column counted in bytes). Any pointer may be
 * NULL. When the problem has no location, all three are 0.
 * @retval BK_OK, BK_EINVAL (index out of range). @since 0.1
 */
BK_EXTERN(bk_status) bk_error_location(const bk_error *err, size_t i,
    size_t *offset, size_t *line, size_t *column);

/**
 * @brief For errors from a record stream: the 0-based index of the record
 * the error is about, or -1 when it is not about one record. @since 0.1
 */
BK_EXTERN(long long) bk_error_record_index(const bk_error *err);

/**
 * @brief The HTTP status a server should answer with for this error:
 * 400 for syntax/shape/limit errors, 422 for validation, 404 not found,
 * 409 conflict, 503 busy, 500 for everything else. @since 0.1
 */
BK_EXTERN(int) bk_error_http_status(const bk_error *err);

#ifdef __cplusplus
}
#endif
#endif
