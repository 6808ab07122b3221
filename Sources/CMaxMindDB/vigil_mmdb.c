#include "vigil_mmdb.h"
#include <maxminddb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *vigil_mmdb_open(const char *path) {
    MMDB_s *db = malloc(sizeof(MMDB_s));
    if (!db) return NULL;
    if (MMDB_open(path, MMDB_MODE_MMAP, db) != MMDB_SUCCESS) { free(db); return NULL; }
    return db;
}

void vigil_mmdb_close(void *db) {
    if (!db) return;
    MMDB_close((MMDB_s *)db);
    free(db);
}

int vigil_mmdb_value(void *db, const char *address, const char *a, const char *b, const char *c, char *out, size_t out_len) {
    int gai = 0, err = 0;
    MMDB_lookup_result_s r = MMDB_lookup_string((MMDB_s *)db, address, &gai, &err);
    if (gai != 0 || err != MMDB_SUCCESS) return -1;
    if (!r.found_entry) return 0;
    MMDB_entry_data_s d;
    int status = c ? MMDB_get_value(&r.entry, &d, a, b, c, NULL) : b ? MMDB_get_value(&r.entry, &d, a, b, NULL) : MMDB_get_value(&r.entry, &d, a, NULL);
    if (status != MMDB_SUCCESS || !d.has_data) return 0;
    switch (d.type) {
    case MMDB_DATA_TYPE_UTF8_STRING: {
        size_t n = d.data_size < out_len - 1 ? d.data_size : out_len - 1;
        memcpy(out, d.utf8_string, n);
        out[n] = 0;
        return 1;
    }
    case MMDB_DATA_TYPE_UINT16: snprintf(out, out_len, "%u", (unsigned)d.uint16); return 1;
    case MMDB_DATA_TYPE_UINT32: snprintf(out, out_len, "%u", (unsigned)d.uint32); return 1;
    case MMDB_DATA_TYPE_UINT64: snprintf(out, out_len, "%llu", (unsigned long long)d.uint64); return 1;
    default: return 0;
    }
}
