/**
 * @file backend/common.h
 * @brief Status codes, versioning, library initialisation and memory hooks.
 *
 * Every libbackend function that can fail returns a ::bk_status (0 means
 * success) and, when the caller passes a non-NULL `bk_error **err`, an error
 * handle describing the failure (see backend/error.h).
 */
#ifndef BK_COMMON_H
#define BK_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && !defined(BK_STATIC)
#  ifdef BK_BUILDING_LIBRARY
#    define BK_EXTERN(type) __declspec(dllexport) type
#  else
#    define BK_EXTERN(type) __declspec(dllimport) type
#  endif
#elif defined(__GNUC__)
#  define BK_EXTERN(type) __attribute__((visibility("default"))) type
#else
#  define BK_EXTERN(type) type
#endif

/** Major version: changes when the ABI breaks. @since 0.1 */
#define BK_VERSION_MAJOR 0
/** Minor version: new API, ABI compatible. @since 0.1 */
#define BK_VERSION_MINOR 1
/** Patch version. @since 0.1 */
#define BK_VERSION_PATCH 0
/** Version as a string. @since 0.1 */
#define BK_VERSION "0.1.0"
/** Version as one comparable number: 0xMMmmpp. @since 0.1 */
#define BK_VERSION_NUMBER ((BK_VERSION_MAJOR << 16) | (BK_VERSION_MINOR << 8) | BK_VERSION_PATCH)

/**
 * Status codes. Append-only: values never change once released.
 *
 * Every fallible function returns one of these; 0 is success. The codes a
 * caller should expect from a particular call are listed in its doc comment.
 */
typedef enum bk_status {
    BK_OK = 0,          /**< success */
    BK_ERROR = 1,       /**< generic failure (see the error message) */
    BK_ENOMEM = 2,      /**< an allocation failed */
    BK_EINVAL = 3,      /**< an argument is invalid (NULL where not allowed, bad option) */
    BK_EMISUSE = 4,     /**< a handle was used wrongly (freed, wrong type, wrong thread) */
    BK_ESYNTAX = 5,     /**< the input is not well-formed (JSON syntax) */
    BK_EDECODE = 6,     /**< the input is well-formed but does not fit the model */
    BK_EVALIDATION = 7, /**< a value violates a declared constraint */
    BK_ELIMIT = 8,      /**< a configured limit (depth, length, size) was exceeded */
    BK_ENOTFOUND = 9,   /**< the requested item does not exist */
    BK_ECONFLICT = 10,  /**< the operation conflicts with existing state */
    BK_EBUSY = 11,      /**< a resource is busy; retrying may succeed */
    BK_EIO = 12,        /**< an operating-system I/O error */
    BK_EUSER = 13,      /**< a user callback returned non-zero */
    BK_EMODEL = 14,     /**< a model definition is invalid */
    BK_EUNSUPPORTED = 15, /**< the operation is not supported here */
    BK_EINTERNAL = 16,  /**< an internal error (a bug or an unexpected engine state) */
    BK_ITEROVER = 17,   /**< an iterator is exhausted (not a failure) */
    BK_EUNAUTHORIZED = 18, /**< the caller is not authenticated or not allowed */
    BK_ETIMEOUT = 19,   /**< an operation did not finish in time */
    BK_ESCHEMA = 20     /**< a database schema differs from the model */
} bk_status;

/**
 * @brief The library version as a string ("0.1.0").
 * @return a static string; never NULL.
 * Thread-safe. @since 0.1
 */
BK_EXTERN(const char *) bk_version(void);

/**
 * @brief The library version as a number (see ::BK_VERSION_NUMBER).
 * Compare with the header's macro to detect a header/library mismatch.
 * Thread-safe. @since 0.1
 */
BK_EXTERN(int) bk_version_number(void);

/**
 * @brief The symbolic name of a status ("BK_ENOMEM").
 * @return a static string; "BK_UNKNOWN" for a value that is not a status.
 * Thread-safe. @since 0.1
 */
BK_EXTERN(const char *) bk_status_name(bk_status status);

/**
 * @brief Initialise the library. Reference counted: each successful call
 * needs one bk_shutdown(). Calling it is optional — every function works
 * without it — but hooks set with bk_set_allocator() must be set first.
 * @retval BK_OK always today.
 * Thread-safe. @since 0.1
 */
BK_EXTERN(bk_status) bk_init(void);

/**
 * @brief Release one bk_init() reference. Never fails.
 * Thread-safe. @since 0.1
 */
BK_EXTERN(void) bk_shutdown(void);

/** malloc-like allocation hook. */
typedef void *(*bk_malloc_fn)(size_t size);
/** realloc-like allocation hook. */
typedef void *(*bk_realloc_fn)(void *ptr, size_t size);
/** free-like allocation hook. */
typedef void (*bk_free_fn)(void *ptr);

/**
 * @brief Route every allocation libbackend makes through the given
 * functions. Pass three NULLs to restore the C library's.
 *
 * Set it once, before any other call (or after all objects are freed):
 * memory allocated by one allocator must not be released by another.
 * jansson values (json_t) keep using jansson's own allocator.
 *
 * @retval BK_OK     the hooks are installed.
 * @retval BK_EINVAL some but not all of the three are NULL.
 * Not thread-safe with respect to other libbackend calls. @since 0.1
 */
BK_EXTERN(bk_status) bk_set_allocator(bk_malloc_fn m, bk_realloc_fn r, bk_free_fn f);

/**
 * @brief Allocate through libbackend's allocator (see bk_set_allocator()).
 * @return the memory, or NULL on failure. Free it with bk_free().
 * Thread-safe. @since 0.1
 */
BK_EXTERN(void *) bk_malloc(size_t size);

/**
 * @brief Free memory that libbackend allocated and handed to the caller
 * (encoded buffers, strings returned through out-parameters). NULL-safe.
 * Thread-safe. @since 0.1
 */
BK_EXTERN(void) bk_free(void *ptr);

/**
 * A growable byte buffer owned by the caller, filled by the library.
 *
 * Start it zeroed (`bk_buf b = BK_BUF_INIT;`); the library appends to it and
 * keeps `ptr` NUL-terminated. Release the memory with bk_buf_dispose().
 * Reusing one buffer across calls avoids an allocation per call.
 */
typedef struct bk_buf {
    char *ptr;   /**< the bytes (NUL-terminated when non-NULL) */
    size_t len;  /**< bytes used, not counting the terminator */
    size_t cap;  /**< bytes allocated */
} bk_buf;

/** Static initialiser for ::bk_buf. */
#define BK_BUF_INIT { NULL, 0, 0 }

/**
 * @brief Empty a buffer without releasing its memory (len = 0).
 * NULL-safe. @since 0.1
 */
BK_EXTERN(void) bk_buf_reset(bk_buf *buf);

/**
 * @brief Release a buffer's memory and zero it. NULL-safe. @since 0.1
 */
BK_EXTERN(void) bk_buf_dispose(bk_buf *buf);

/**
 * @brief Detach the bytes from a buffer: `*out` receives `buf->ptr` (free
 * it with bk_free()) and the buffer is zeroed. On an empty buffer `*out`
 * receives an allocated empty string.
 * @retval BK_OK, BK_ENOMEM. @since 0.1
 */
BK_EXTERN(bk_status) bk_buf_detach(char **out, bk_buf *buf);

#ifdef __cplusplus
}
#endif
#endif
