/* libpglift C ABI. Stable: append only. */
#ifndef PGLIFT_H
#define PGLIFT_H

#if defined(__GNUC__) || defined(__clang__)
#define PGLIFT_API __attribute__((visibility("default")))
#else
#define PGLIFT_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/** The version of the loaded library, "MAJOR.MINOR.PATCH" (static storage). */
PGLIFT_API const char *pglift_version(void);

#ifdef __cplusplus
}
#endif
#endif /* PGLIFT_H */
