// A small C face over FFmpeg's libraries for Vigil's video hashing: open a file (container and codec found from its
// content), read its facts, and decode frames in order, converting the ones asked for to packed RGB24 at the video's
// own size (swscale, area filter, as vPDQ's reference does). Bounded: a deadline interrupts reading and decoding, and
// dimensions beyond a pixel cap are refused before anything is decoded.
#ifndef VIGIL_VIDEO_H
#define VIGIL_VIDEO_H

#include <stddef.h>
#include <stdint.h>

typedef struct vigil_video vigil_video;

typedef struct {
    int width;
    int height;
    /// avg_frame_rate, else r_frame_rate (as vPDQ's reference reads it); 0 when unknown.
    double frame_rate;
    /// Seconds; negative when the container does not say.
    double duration;
    /// The container's frame count when it says (0 otherwise).
    int64_t frame_count_hint;
    char codec[32];
    char container[64];
} vigil_video_info;

/// Opens `path` (the file protocol only; pass `/proc/self/fd/N` to read a file already open). Returns 0, or a negative code with a sentence in `error`:
/// -1 not a video FFmpeg can read, -2 no video stream, -3 no decoder, -4 dimensions zero or over `max_pixels`,
/// -5 out of memory, -6 the deadline passed while probing. `threads` above 1 decodes on that many threads (FFmpeg's
/// frame threads: the same frames, bit for bit, sooner), for a video hashed while other cores are idle.
int vigil_video_open(const char *path, int64_t max_pixels, double deadline_seconds, int threads, vigil_video **out,
                     vigil_video_info *info, char *error, size_t error_len);

/// Decodes the next frame. With `want` non-zero, converts it to RGB24 into `rgb` (width*height*3 bytes, packed).
/// Returns 1 when a frame was decoded (its number in presentation order, from 0, in `frame_number`), 0 at the end,
/// negative on an error (-7 the deadline passed, -8 a decoding error, or a read that failed before the end: the
/// file is damaged or cut short; -9 skipping lost the frame numbers, see below) with a sentence in `error`.
/// `want` is asked per frame through the callback so that only sampled frames are converted; it must be a pure
/// function of the number, because it is also asked about packets before they are decoded.
///
/// Skipping (on unless vigil_video_skip_nonreference(v, 0)): frames are numbered by their rank in presentation
/// order among all packets read (each packet is one frame), which is the decode-output count the reference uses.
/// Once the first 90 frames' ranks have agreed with that count, a packet whose frame is not wanted (nor any frame
/// within one of its estimated number) is decoded only if other frames refer to it (AVDISCARD_NONREF): a frame no
/// other frame refers to cannot change a wanted one, so the wanted frames decode exactly as before. A stream whose
/// ranks disagree is decoded whole; one that loses them while skipping (a frame whose time was never read, a packet
/// without a time, a frame sent to be decoded that never came out, a wanted frame passed over) ends with -9: decode
/// it again with skipping off. Only H.264 and MPEG-1/2/4 are skipped (not HEVC: its sub-layer non-reference
/// pictures can serve higher temporal layers).
typedef int (*vigil_video_want)(void *context, int64_t frame_number);
void vigil_video_skip_nonreference(vigil_video *v, int on);
/// Frames skipped so far without decoding (packets discarded as non-reference).
int64_t vigil_video_skipped(const vigil_video *v);
int vigil_video_next(vigil_video *v, vigil_video_want want, void *context, uint8_t *rgb, int64_t *frame_number,
                     int *converted, char *error, size_t error_len);

void vigil_video_close(vigil_video *v);

#endif
