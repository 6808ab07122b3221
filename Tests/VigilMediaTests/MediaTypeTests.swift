import Testing
import VigilMedia

@Suite("Content sniffing")
struct MediaTypeTests {
    @Test("recognises each image format by its magic bytes")
    func recognisesMagicBytes() {
        // given
        let samples: [(MediaType, [UInt8])] = [
            (.jpeg, [0xFF, 0xD8, 0xFF, 0xE0]),
            (.png, [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0]),
            (.gif, Array("GIF89a".utf8) + [1, 0]),
            (.gif, Array("GIF87a".utf8)),
            (.webp, Array("RIFF".utf8) + [0, 0, 0, 0] + Array("WEBPVP8 ".utf8)),
            (.tiff, [0x49, 0x49, 0x2A, 0x00, 8, 0, 0, 0]),
            (.tiff, [0x4D, 0x4D, 0x00, 0x2A, 0, 0, 0, 8]),
            (.bmp, Array("BM".utf8) + [UInt8](repeating: 0, count: 12) + [40, 0, 0, 0]),
            (.heif, [0, 0, 0, 24] + Array("ftypheic".utf8)),
            (.avif, [0, 0, 0, 28] + Array("ftypavif".utf8)),
        ]
        for (expected, header) in samples {
            // when
            let sniffed = MediaType.sniff(header)
            // then
            #expect(sniffed == expected, "header \(header.prefix(12)) should be \(expected)")
        }
    }

    @Test("text, empty input and near-misses are not images")
    func rejectsNonImages() {
        // given
        let samples: [[UInt8]] = [
            [], Array("BMW is a car maker, not a bitmap".utf8), Array("hello world".utf8),
            [0xFF, 0xD8], Array("RIFF\0\0\0\0WAVE".utf8), [0, 0, 0, 24] + Array("ftypmp42".utf8),
        ]
        for header in samples {
            // when / then
            #expect(MediaType.sniff(header) == .other)
        }
    }
}
