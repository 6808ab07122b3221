// Small non-variadic wrappers around libvips' variadic C API, which Swift cannot call directly.
// A system-library target cannot hold .c files, so the wrappers are `static inline` here.
#ifndef VIGIL_CVIPS_SHIM_H
#define VIGIL_CVIPS_SHIM_H

#include <vips/vips.h>

static inline void vigil_vips_drop_log(const gchar *domain, GLogLevelFlags level, const gchar *message, gpointer data) {
    (void)domain; (void)level; (void)message; (void)data;
}

/// Drops libvips' and GLib's warnings about individual files ("ignoring nclx profile", …): every failure that
/// matters reaches the caller as an error, and hostile files must not flood stderr.
static inline void vigil_vips_silence_warnings(void) {
    g_log_set_handler("VIPS", (GLogLevelFlags)(G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO),
                      vigil_vips_drop_log, NULL);
}

/// Starts libvips once per process. Returns 0 on success.
static inline int vigil_vips_init(void) {
    return VIPS_INIT("vigil");
}

/// Loads the header of an encoded image held in memory; pixels are decoded lazily, in one sequential pass.
/// `shrink` > 1 asks the JPEG loader to decode at 1/shrink scale (only valid for JPEG).
/// Decoding stops at the first error or truncation instead of returning grey-filled pixels.
static inline VipsImage *vigil_vips_load_buffer(const void *buf, size_t len, int shrink) {
    if (shrink > 1) {
        return vips_image_new_from_buffer(buf, len, "", "access", VIPS_ACCESS_SEQUENTIAL,
                                          "fail_on", VIPS_FAIL_ON_ERROR, "shrink", shrink, NULL);
    }
    return vips_image_new_from_buffer(buf, len, "", "access", VIPS_ACCESS_SEQUENTIAL,
                                      "fail_on", VIPS_FAIL_ON_ERROR, NULL);
}

/// Like `vigil_vips_load_buffer`, for a file on disk (used for files too large to hold in memory).
static inline VipsImage *vigil_vips_load_file(const char *path, int shrink) {
    if (shrink > 1) {
        return vips_image_new_from_file(path, "access", VIPS_ACCESS_SEQUENTIAL,
                                        "fail_on", VIPS_FAIL_ON_ERROR, "shrink", shrink, NULL);
    }
    return vips_image_new_from_file(path, "access", VIPS_ACCESS_SEQUENTIAL, "fail_on", VIPS_FAIL_ON_ERROR, NULL);
}

/// Converts to another interpretation (colour space), e.g. CMYK or 16-bit RGB to 8-bit sRGB.
static inline int vigil_vips_colourspace(VipsImage *in, VipsImage **out, VipsInterpretation space) {
    return vips_colourspace(in, out, space, NULL);
}

/// Casts every band to unsigned 8-bit, clipping out-of-range values.
static inline int vigil_vips_cast_uchar(VipsImage *in, VipsImage **out) {
    return vips_cast(in, out, VIPS_FORMAT_UCHAR, NULL);
}

/// Keeps `n` bands starting at `band`.
static inline int vigil_vips_extract_bands(VipsImage *in, VipsImage **out, int band, int n) {
    return vips_extract_band(in, out, band, "n", n, NULL);
}

/// A copy of `in` labelled with another interpretation (pixels untouched), e.g. RGB16 before saving 16-bit PNG.
static inline int vigil_vips_reinterpret(VipsImage *in, VipsImage **out, VipsInterpretation space) {
    return vips_copy(in, out, "interpretation", space, NULL);
}

/// Writes an image to a PNG or JPEG file chosen by the file name's suffix (used by tests and benchmarks).
static inline int vigil_vips_write_file(VipsImage *in, const char *path) {
    return vips_image_write_to_file(in, path, NULL);
}

/// A thumbnail of an encoded image in memory, no larger than `side` x `side`, shrinking on load where the format
/// allows. (From memory, not a path: libvips would read "[...]" in a file name as load options.)
static inline int vigil_vips_thumbnail_buffer(const void *buf, size_t len, VipsImage **out, int side) {
    return vips_thumbnail_buffer((void *)buf, len, out, side, "height", side, "size", VIPS_SIZE_DOWN,
                                 "fail_on", VIPS_FAIL_ON_ERROR, NULL);
}

/// Encodes an image as baseline JPEG in memory (freed with g_free), without metadata.
static inline int vigil_vips_jpegsave_buffer(VipsImage *in, void **buf, size_t *len, int quality) {
    return vips_jpegsave_buffer(in, buf, len, "Q", quality, "strip", TRUE, NULL);
}

/// Unreferences a GObject held by Swift.
static inline void vigil_vips_unref(VipsImage *image) {
    g_object_unref(image);
}

#endif
