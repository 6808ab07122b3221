#include "vigil_video.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libavutil/log.h>
#include <libavutil/time.h>
#include <libswscale/swscale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static pthread_once_t quiet_once = PTHREAD_ONCE_INIT;

/// FFmpeg's log level is process-wide: set once, before any thread opens a video.
static void quiet(void) { av_log_set_level(AV_LOG_FATAL); }

struct vigil_video {
    AVFormatContext *format;
    AVCodecContext *codec;
    struct SwsContext *sws;
    AVFrame *frame;
    AVPacket *packet;
    int stream;
    int width;
    int height;
    int64_t decoded;
    int64_t deadline_us;
    int draining;
    /// Reading stopped on an error other than the end of the file (a damaged or cut file).
    int read_error;
    /// swscale's output: rows 64-byte aligned, with room past the last one. swscale's SIMD writes whole vectors,
    /// so into a packed buffer whose rows are not a multiple of 16 bytes (a 312-pixel-wide video) it wrote past
    /// the caller's buffer and corrupted the heap; the rows are copied out from here.
    uint8_t *scaled;
    int scaled_stride;
    /// Skipping non-reference frames (see the header). The presentation times of the packets read and not yet
    /// passed, sorted (the decoder's reorder window plus skipped frames); the frames passed so far in presentation
    /// order (output or skipped): a frame's number is its rank. The state: 0 checking that ranks agree with the
    /// decode order, 1 skipping, -1 decoding everything. How many frames agreed, and the last number handed out.
    struct pending_frame { int64_t pts; int skippable; } *pending;
    int pending_count;
    int64_t ranked;
    int skip_state;
    int64_t agreed;
    int64_t last_number;
};

/// The most presentation times held: beyond it (a stream that never outputs what it reads) skipping stops.
static const int pending_cap = 4096;

/// Frames a packet may land on either side of its estimated number and still be decoded when one is wanted.
static const int64_t margin = 1;

/// Inserts a packet's presentation time, and whether it was sent to be skipped; 0 when there is no room.
static int pending_insert(vigil_video *v, int64_t pts, int skippable) {
    if (!v->pending) {
        v->pending = av_malloc_array(pending_cap, sizeof *v->pending);
        if (!v->pending) return 0;
    }
    if (v->pending_count == pending_cap) return 0;
    int i = v->pending_count++;
    while (i > 0 && v->pending[i - 1].pts > pts) { v->pending[i] = v->pending[i - 1]; i--; }
    v->pending[i].pts = pts;
    v->pending[i].skippable = skippable;
    return 1;
}

/// Passes every pending time before `pts` (frames skipped) and then `pts` itself; the frame's rank, or -1 when the
/// ranks can no longer be trusted: `pts` was never read, a frame passed over was sent to be decoded (the decoder
/// dropped it, so the reference would not count it), or one passed over was wanted (the estimate missed it).
static int64_t pending_pass(vigil_video *v, int64_t pts, vigil_video_want want, void *context) {
    int before = 0;
    while (before < v->pending_count && v->pending[before].pts < pts) {
        if (!v->pending[before].skippable || want(context, v->ranked + before)) return -1;
        before++;
    }
    if (before == v->pending_count || v->pending[before].pts != pts) return -1;
    int64_t rank = v->ranked + before;
    memmove(v->pending, v->pending + before + 1, (size_t)(v->pending_count - before - 1) * sizeof *v->pending);
    v->pending_count -= before + 1;
    v->ranked = rank + 1;
    return rank;
}

/// The number a packet's frame will likely have: frames passed, plus pending times before it.
static int64_t pending_estimate(const vigil_video *v, int64_t pts) {
    int before = 0;
    while (before < v->pending_count && v->pending[before].pts < pts) before++;
    return v->ranked + before;
}

void vigil_video_skip_nonreference(vigil_video *v, int on) {
    if (v && v->skip_state == 0 && !on) v->skip_state = -1;
}

int64_t vigil_video_skipped(const vigil_video *v) {
    if (!v || v->last_number + 1 <= v->decoded) return 0;
    return v->last_number + 1 - v->decoded;
}

/// Frames whose presentation times must agree with their order before skipping starts.
static const int64_t agreement_needed = 90;

static int interrupted(void *opaque) {
    const struct vigil_video *v = opaque;
    return v->deadline_us > 0 && av_gettime_relative() > v->deadline_us;
}

static void say(char *error, size_t len, const char *what, int code) {
    if (!error || len == 0) return;
    if (code < 0) {
        char text[AV_ERROR_MAX_STRING_SIZE] = {0};
        av_strerror(code, text, sizeof text);
        snprintf(error, len, "%s (%s)", what, text);
    } else {
        snprintf(error, len, "%s", what);
    }
}

void vigil_video_close(vigil_video *v) {
    if (!v) return;
    sws_freeContext(v->sws);
    av_freep(&v->scaled);
    av_freep(&v->pending);
    av_frame_free(&v->frame);
    av_packet_free(&v->packet);
    avcodec_free_context(&v->codec);
    avformat_close_input(&v->format);
    av_free(v);
}

int vigil_video_open(const char *path, int64_t max_pixels, double deadline_seconds, int threads, vigil_video **out,
                     vigil_video_info *info, char *error, size_t error_len) {
    pthread_once(&quiet_once, quiet);
    *out = NULL;
    vigil_video *v = av_mallocz(sizeof *v);
    if (!v) { say(error, error_len, "out of memory", 0); return -5; }
    v->deadline_us = deadline_seconds > 0 ? av_gettime_relative() + (int64_t)(deadline_seconds * 1e6) : 0;
    v->format = avformat_alloc_context();
    if (!v->format) { vigil_video_close(v); say(error, error_len, "out of memory", 0); return -5; }
    v->format->interrupt_callback.callback = interrupted;
    v->format->interrupt_callback.opaque = v;
    // Only the file protocol: a name like "concat:…" or "subfile,,…" must never make FFmpeg read something else.
    AVDictionary *options = NULL;
    av_dict_set(&options, "protocol_whitelist", "file", 0);
    int rc = avformat_open_input(&v->format, path, NULL, &options);
    av_dict_free(&options);
    if (rc < 0) {
        // avformat_open_input frees the context on failure.
        v->format = NULL;
        int late = interrupted(v);
        vigil_video_close(v);
        say(error, error_len, late ? "the time limit passed while reading the container" : "not a video FFmpeg can read", rc);
        return late ? -6 : -1;
    }
    // Probing decodes a few frames too: the same pixel cap applies to every stream's probe decoder.
    char cap[32];
    snprintf(cap, sizeof cap, "%lld", (long long)max_pixels);
    AVDictionary **probe = av_calloc(v->format->nb_streams ? v->format->nb_streams : 1, sizeof *probe);
    if (!probe) { vigil_video_close(v); say(error, error_len, "out of memory", 0); return -5; }
    for (unsigned i = 0; i < v->format->nb_streams; i++) av_dict_set(&probe[i], "max_pixels", cap, 0);
    unsigned probed = v->format->nb_streams;
    rc = avformat_find_stream_info(v->format, probe);
    for (unsigned i = 0; i < probed; i++) av_dict_free(&probe[i]);
    av_free(probe);
    if (rc < 0) {
        int late = interrupted(v);
        vigil_video_close(v);
        say(error, error_len, late ? "the time limit passed while reading the streams" : "the streams cannot be read", rc);
        return late ? -6 : -1;
    }
    v->stream = -1;
    for (unsigned i = 0; i < v->format->nb_streams; i++) {
        if (v->format->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_VIDEO &&
            !(v->format->streams[i]->disposition & AV_DISPOSITION_ATTACHED_PIC)) {
            v->stream = (int)i;
            break;
        }
    }
    if (v->stream < 0) { vigil_video_close(v); say(error, error_len, "no video stream", 0); return -2; }
    AVStream *s = v->format->streams[v->stream];
    const AVCodecParameters *par = s->codecpar;
    if (par->width <= 0 || par->height <= 0 || (int64_t)par->width * par->height > max_pixels) {
        char what[128];
        snprintf(what, sizeof what, "frame size %dx%d is zero or over the limit of %lld pixels", par->width, par->height,
                 (long long)max_pixels);
        vigil_video_close(v);
        say(error, error_len, what, 0);
        return -4;
    }
    const AVCodec *codec = avcodec_find_decoder(par->codec_id);
    if (!codec) { vigil_video_close(v); say(error, error_len, "no decoder for this video's codec", 0); return -3; }
    v->codec = avcodec_alloc_context3(codec);
    if (!v->codec || avcodec_parameters_to_context(v->codec, par) < 0) {
        vigil_video_close(v); say(error, error_len, "out of memory", 0); return -5;
    }
    // One thread per decoder when Vigil hashes several files at once on its own threads; more when a video has the
    // cores to itself (frame threads: each frame bit for bit as one thread decodes it, and every packet keeps the
    // skip setting it was sent with). The pixel cap holds for every frame the decoder makes, not only the size the
    // container declares.
    // Each thread holds frames of its own: at most 16, and no more than keep about 256 MB of frames in flight.
    const int64_t affordable = ((int64_t)256 << 20) / ((int64_t)par->width * par->height * 3 / 2 + 1);
    if (threads > 16) threads = 16;
    if (threads > affordable) threads = (int)affordable;
    if (threads < 1) threads = 1;
    v->codec->thread_count = threads;
    if (threads > 1) v->codec->thread_type = FF_THREAD_FRAME;
    v->codec->max_pixels = max_pixels;
    rc = avcodec_open2(v->codec, codec, NULL);
    if (rc < 0) { vigil_video_close(v); say(error, error_len, "the decoder cannot be opened", rc); return -3; }
    v->width = par->width;
    v->height = par->height;
    v->frame = av_frame_alloc();
    v->packet = av_packet_alloc();
    if (!v->frame || !v->packet) { vigil_video_close(v); say(error, error_len, "out of memory", 0); return -5; }
    AVRational rate = s->avg_frame_rate;
    if (rate.num == 0 || rate.den == 0) rate = s->r_frame_rate;
    v->last_number = -1;
    // Only codecs whose non-reference frames no other frame uses: H.264 (nal_ref_idc 0) and MPEG-1/2/4 B-frames.
    // HEVC is left out: a sub-layer non-reference picture can still serve a higher temporal layer.
    switch (par->codec_id) {
    case AV_CODEC_ID_H264: case AV_CODEC_ID_MPEG1VIDEO: case AV_CODEC_ID_MPEG2VIDEO: case AV_CODEC_ID_MPEG4: break;
    default: v->skip_state = -1;
    }
    memset(info, 0, sizeof *info);
    info->width = par->width;
    info->height = par->height;
    info->frame_rate = (rate.num && rate.den) ? av_q2d(rate) : 0;
    info->duration = v->format->duration > 0 ? (double)v->format->duration / AV_TIME_BASE
                     : (s->duration > 0 ? s->duration * av_q2d(s->time_base) : -1);
    info->frame_count_hint = s->nb_frames;
    snprintf(info->codec, sizeof info->codec, "%s", codec->name);
    snprintf(info->container, sizeof info->container, "%s", v->format->iformat->name);
    *out = v;
    return 0;
}

/// Converts the decoded frame to packed RGB24 (the frame's own size may differ from the stream's: it is scaled to
/// the stream's, as the reference's swscale context does).
static int convert(vigil_video *v, uint8_t *rgb) {
    v->sws = sws_getCachedContext(v->sws, v->frame->width, v->frame->height, v->frame->format, v->width, v->height,
                                  AV_PIX_FMT_RGB24, SWS_AREA, NULL, NULL, NULL);
    if (!v->sws) return -1;
    if (!v->scaled) {
        v->scaled_stride = FFALIGN(v->width * 3, 64);
        v->scaled = av_malloc((size_t)v->scaled_stride * (size_t)v->height + 256);
        if (!v->scaled) return -1;
    }
    uint8_t *planes[4] = {v->scaled, NULL, NULL, NULL};
    int strides[4] = {v->scaled_stride, 0, 0, 0};
    int rows = sws_scale(v->sws, (const uint8_t *const *)v->frame->data, v->frame->linesize, 0, v->frame->height,
                         planes, strides);
    if (rows <= 0) return -1;
    const size_t row = (size_t)v->width * 3;
    for (int y = 0; y < v->height; y++) memcpy(rgb + (size_t)y * row, v->scaled + (size_t)y * v->scaled_stride, row);
    return 0;
}

int vigil_video_next(vigil_video *v, vigil_video_want want, void *context, uint8_t *rgb, int64_t *frame_number,
                     int *converted, char *error, size_t error_len) {
    *converted = 0;
    for (;;) {
        if (interrupted(v)) { say(error, error_len, "the time limit passed while decoding", 0); return -7; }
        int rc = avcodec_receive_frame(v->codec, v->frame);
        if (rc == 0) {
            const int64_t pts = v->frame->pts;
            int64_t number = v->decoded;
            if (v->skip_state == 1) {
                // Numbered by rank; a frame whose time was never read means the ranks are lost: start again.
                number = pts == AV_NOPTS_VALUE ? -1 : pending_pass(v, pts, want, context);
                if (number < 0) {
                    av_frame_unref(v->frame);
                    say(error, error_len, "frame times do not follow the packets; decode everything", 0);
                    return -9;
                }
            } else if (v->skip_state == 0) {
                if (pts == AV_NOPTS_VALUE || pending_pass(v, pts, want, context) != number) {
                    v->skip_state = -1;
                } else if (++v->agreed >= agreement_needed) {
                    v->skip_state = 1;
                }
            }
            v->decoded++;
            v->last_number = number;
            *frame_number = number;
            if (want(context, *frame_number)) {
                if (convert(v, rgb) < 0) {
                    av_frame_unref(v->frame);
                    say(error, error_len, "the frame cannot be converted to RGB", 0);
                    return -8;
                }
                *converted = 1;
            }
            av_frame_unref(v->frame);
            return 1;
        }
        if (rc == AVERROR_EOF || (v->draining && rc == AVERROR(EAGAIN))) {
            if (v->read_error) { say(error, error_len, "the file is damaged or cut short", v->read_error); return -8; }
            // Frames skipped at the end still count; a wanted one among them was missed.
            if (v->skip_state == 1) {
                for (int i = 0; i < v->pending_count; i++) {
                    if (!v->pending[i].skippable) continue;
                    if (want(context, v->ranked + i)) {
                        say(error, error_len, "a wanted frame was skipped; decode everything", 0);
                        return -9;
                    }
                    if (v->ranked + i > v->last_number) v->last_number = v->ranked + i;
                }
            }
            return 0;
        }
        // A damaged packet is skipped, as players do (on frame threads its error comes back here, later, rather
        // than from sending it); FFmpeg clears it and the next call goes on.
        if (rc == AVERROR_INVALIDDATA) continue;
        if (rc != AVERROR(EAGAIN)) { say(error, error_len, "decoding failed", rc); return -8; }
        // The decoder wants more input: the next packet of the video stream, or the end.
        for (;;) {
            if (interrupted(v)) { say(error, error_len, "the time limit passed while reading", 0); return -7; }
            rc = av_read_frame(v->format, v->packet);
            if (rc < 0) {
                if (interrupted(v)) { say(error, error_len, "the time limit passed while reading", 0); return -7; }
                // The end of the file, or a read that failed (kept: reported once the decoder is drained).
                if (rc != AVERROR_EOF || (v->format->pb && v->format->pb->error)) {
                    v->read_error = rc != AVERROR_EOF ? rc : v->format->pb->error;
                }
                v->draining = 1;
                avcodec_send_packet(v->codec, NULL);
                break;
            }
            if (v->packet->stream_index != v->stream) { av_packet_unref(v->packet); continue; }
            // Every packet's time is kept while checking or skipping; a frame not wanted (nor any frame within the
            // margin of its estimated number) is decoded only if others refer to it.
            v->codec->skip_frame = AVDISCARD_DEFAULT;
            if (v->skip_state >= 0) {
                const int64_t pts = v->packet->pts;
                int skippable = 0;
                if (v->skip_state == 1 && pts != AV_NOPTS_VALUE) {
                    const int64_t estimate = pending_estimate(v, pts);
                    skippable = 1;
                    for (int64_t n = estimate - margin; n <= estimate + margin && skippable; n++) {
                        skippable = !(n >= 0 && want(context, n));
                    }
                }
                if (pts == AV_NOPTS_VALUE || !pending_insert(v, pts, skippable)) {
                    if (v->skip_state == 1) {
                        av_packet_unref(v->packet);
                        say(error, error_len, "a packet without a time while skipping; decode everything", 0);
                        return -9;
                    }
                    v->skip_state = -1;
                } else if (skippable) {
                    v->codec->skip_frame = AVDISCARD_NONREF;
                }
            }
            rc = avcodec_send_packet(v->codec, v->packet);
            av_packet_unref(v->packet);
            // A damaged packet is skipped, as players do; the frames around it still count.
            if (rc < 0 && rc != AVERROR(EAGAIN) && rc != AVERROR_INVALIDDATA) {
                say(error, error_len, "the decoder refused a packet", rc);
                return -8;
            }
            break;
        }
    }
}
