#ifndef VIGIL_MMDB_H
#define VIGIL_MMDB_H
#include <stddef.h>

/// A thin wrapper over libmaxminddb that exposes no system headers to Swift (libmaxminddb's own header pulls in
/// socket headers that clash with Glibc's module).
void *vigil_mmdb_open(const char *path);
void vigil_mmdb_close(void *db);
/// Writes the string or unsigned value at the path (up to three keys; NULL ends it) for `address` into `out`.
/// Returns 1 when found, 0 when not, -1 on a lookup error.
int vigil_mmdb_value(void *db, const char *address, const char *a, const char *b, const char *c, char *out, size_t out_len);
#endif
