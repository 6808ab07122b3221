import Testing
import VigilMedia

@Suite("Digests")
struct DigestTests {
    @Test("known answers for the empty string, \"abc\" and a million \"a\"")
    func knownAnswers() {
        // given
        let vectors: [([UInt8], FileDigests)] = [
            (
                [],
                FileDigests(
                    md5: "d41d8cd98f00b204e9800998ecf8427e", sha1: "da39a3ee5e6b4b0d3255bfef95601890afd80709",
                    sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
            ),
            (
                Array("abc".utf8),
                FileDigests(
                    md5: "900150983cd24fb0d6963f7d28e17f72", sha1: "a9993e364706816aba3e25717850c26c9cd0d89d",
                    sha256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
            ),
            (
                [UInt8](repeating: 0x61, count: 1_000_000),
                FileDigests(
                    md5: "7707d6ae4e027c70eea2a935c2296f21", sha1: "34aa973cd4c4daa4f61eeb2bdbad27316534016f",
                    sha256: "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
            ),
        ]
        for (input, expected) in vectors {
            // when
            let digests = input.withUnsafeBytes { DigestAccumulator.digests(of: $0) }
            // then
            #expect(digests == expected)
        }
    }

    @Test("streaming a file in chunks gives the same digests as hashing it in one piece")
    func streamingMatchesOneShot() throws {
        // given a file of 3 MiB + 17 bytes, so reads and cache-sized slices end mid-buffer
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let content =
            TestImages.noise(width: 1024, height: 1024, bands: 3, seed: 7).bytes + [UInt8](repeating: 9, count: 17)
        try dir.write(content, to: "blob.bin")
        let expected = content.withUnsafeBytes { DigestAccumulator.digests(of: $0) }
        // when
        let outcome = FileHasher(options: HashOptions()).hash(path: dir.file("blob.bin"))
        // then
        #expect(outcome.problem == nil)
        #expect(outcome.record?.digests == expected)
        #expect(outcome.record?.size == content.count)
        #expect(outcome.record?.pdq == nil)
    }

    @Test("the million-a file digested from disk matches the published vectors")
    func millionAFromDisk() throws {
        // given
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write([UInt8](repeating: 0x61, count: 1_000_000), to: "a.txt")
        // when
        let record = FileHasher(options: HashOptions(content: .digestsOnly)).hash(path: dir.file("a.txt")).record
        // then
        #expect(record?.digests?.md5 == "7707d6ae4e027c70eea2a935c2296f21")
        #expect(record?.digests?.sha1 == "34aa973cd4c4daa4f61eeb2bdbad27316534016f")
        #expect(record?.digests?.sha256 == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }
}
