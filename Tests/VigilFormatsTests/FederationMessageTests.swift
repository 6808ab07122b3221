import Crypto
import Foundation
import Testing
import VigilFormats

@Suite("Federation messages: canonical bytes, signatures, refusals")
struct FederationMessageTests {
    /// The worked example's key (docs/federation/README.md): SHA-256 of the text below. An example, never a real key.
    static let exampleKey = try! Curve25519.Signing.PrivateKey(
        rawRepresentation: Data(SHA256.hash(data: Data("vigil federation example key".utf8))))
    static let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/federation")
    static let signedAt = Date(timeIntervalSince1970: 1_796_274_000)  // 2026-12-03T05:00:00Z

    static func referral() -> FederationMessage {
        FederationMessage(
            id: "6F1C2A4E-8B0D-4C53-9A61-2D7E5B3F9C10", from: "hotline-xa", case: "XA-2026-000123",
            referral: .init(
                items: [.init(kind: "url", value: "https://files.host.test/a/b.jpg")],
                assessment: .init(contentType: "image", illegality: "baseline", ageGroup: "prepubescent"),
                hosting: .init(country: "XB", ip: "192.0.2.10", asn: 64500, provider: "Example Hosting"),
                media: [.init(algorithm: "md5", value: "0123456789abcdef0123456789abcdef")],
                reportedAt: "2026-12-02T21:05:00Z", assessedAt: "2026-12-03T04:10:00Z"))
    }

    @Test("RFC 8785: members sorted by UTF-16 code units, strings escaped as the RFC says, whitespace gone")
    func canonicalForm() throws {
        // given: the RFC's sorting sample (§3.2.3) and strings that need each kind of escape
        let json =
            #"{"\u20ac":1, "\r":2, "\ufb33":3, "1":4, "\ud83d\ude00":5, "\u0080":6, "\u00f6":7, "s":"a/b\"c\\d\n\u000f é"}"#
        // when
        let canonical = try FederationSigning.canonical(json: Array(json.utf8))
        // then
        #expect(
            String(decoding: canonical, as: UTF8.self)
                == "{\"\\r\":2,\"1\":4,\"s\":\"a/b\\\"c\\\\d\\n\\u000f é\",\"\u{80}\":6,\"ö\":7,\"€\":1,\"😀\":5,\"דּ\":3}"
        )
        #expect(throws: FederationError.self) { try FederationSigning.canonical(json: Array(#"{"a":1.5}"#.utf8)) }
        #expect(throws: FederationError.self) { try FederationSigning.canonical(json: Array(#"{"a":1,"a":2}"#.utf8)) }
    }

    @Test("the worked example in docs/federation is reproduced byte for byte and verifies")
    func workedExample() throws {
        // given
        let (_, envelope) = try FederationSigning.seal(Self.referral(), with: Self.exampleKey, at: Self.signedAt)
        let path = Self.docs.appendingPathComponent("example-referral.json")
        if ProcessInfo.processInfo.environment["VIGIL_WRITE_FEDERATION_EXAMPLE"] == "1" {
            try Data(envelope + [0x0A]).write(to: path)
            let canonical = try FederationSigning.open(envelope).canonical
            try Data(canonical).write(to: Self.docs.appendingPathComponent("example-referral.canonical"))
        }
        // when
        let published = try Data(contentsOf: path)
        let opened = try FederationSigning.open(Array(published.dropLast()))
        // then: Ed25519 is deterministic, so the same key and message give the same bytes
        #expect(Array(published) == envelope + [0x0A])
        #expect(opened.message.keyID == FederationSigning.keyID(of: Self.exampleKey.publicKey))
        #expect(opened.message.signedAt == "2026-12-03T05:00:00Z")
        try opened.verify(with: Self.exampleKey.publicKey)
        let canonical = try String(
            contentsOf: Self.docs.appendingPathComponent("example-referral.canonical"), encoding: .utf8)
        #expect(Array(canonical.utf8) == opened.canonical)
    }

    @Test("a verified message survives any member order and whitespace; one changed byte does not")
    func tamper() throws {
        // given
        let (_, envelope) = try FederationSigning.seal(Self.referral(), with: Self.exampleKey, at: Self.signedAt)
        let text = String(decoding: envelope, as: UTF8.self)
        let reordered =
            "{ \"signature\" : " + text.split(separator: "\"signature\":")[1].dropLast() + " ,\n \"message\": "
            + String(text.dropFirst("{\"message\":".count).split(separator: ",\"signature\"")[0]) + "}"
        let changed = text.replacingOccurrences(of: "b.jpg", with: "c.jpg")
        let other = Curve25519.Signing.PrivateKey()
        // when / then
        try FederationSigning.open(Array(reordered.utf8)).verify(with: Self.exampleKey.publicKey)
        #expect(throws: FederationError.badSignature) {
            try FederationSigning.open(Array(changed.utf8)).verify(with: Self.exampleKey.publicKey)
        }
        #expect(throws: FederationError.badSignature) {
            try FederationSigning.open(envelope).verify(with: other.publicKey)
        }
    }

    @Test("refusals: malformed, wrong body, bad vocabulary, too large, outside the time window")
    func refusals() throws {
        let (_, envelope) = try FederationSigning.seal(Self.referral(), with: Self.exampleKey, at: Self.signedAt)
        let opened = try FederationSigning.open(envelope)
        // time window: 300 s either way
        try opened.checkTime(now: Self.signedAt.addingTimeInterval(299), window: 300)
        #expect(throws: FederationError.stale(skewSeconds: 301, windowSeconds: 300)) {
            try opened.checkTime(now: Self.signedAt.addingTimeInterval(301), window: 300)
        }
        #expect(throws: FederationError.stale(skewSeconds: -400, windowSeconds: 300)) {
            try opened.checkTime(now: Self.signedAt.addingTimeInterval(-400), window: 300)
        }
        func code(_ body: String) -> String? {
            let opened = Result { () throws(FederationError) in try FederationSigning.open(Array(body.utf8)) }
            guard case .failure(let error) = opened else { return nil }
            return error.code
        }
        let signature = String(repeating: "A", count: 86) + "=="
        #expect(code("not json") == "federation.malformed")
        #expect(code(#"{"message":{},"signature":"\#(signature)"}"#) == "federation.malformed")
        #expect(code(#"{"message":{"a":1},"signature":"c2hvcnQ="}"#) == "federation.malformed")
        #expect(code(String(repeating: " ", count: FederationSigning.maxEnvelopeBytes + 1)) == "federation.too-large")
        // a referral whose kind is unknown, and a status message carrying a referral body
        var bad = Self.referral()
        bad.referral?.items[0].kind = "ftp"
        #expect(throws: FederationError.malformed("item kind 'ftp' is not url, newsgroup or p2p")) {
            try FederationSigning.seal(bad, with: Self.exampleKey, at: Self.signedAt)
        }
        bad = Self.referral()
        bad.type = .status
        #expect(throws: FederationError.self) {
            try FederationSigning.seal(bad, with: Self.exampleKey, at: Self.signedAt)
        }
        bad = Self.referral()
        bad.protocol = "vigil-federation/9"
        #expect((try? FederationSigning.seal(bad, with: Self.exampleKey, at: Self.signedAt)) == nil)
        var declined = FederationMessage(
            id: UUID().uuidString, from: "hotline-xb", case: "XB-1",
            status: .init(referral: UUID().uuidString.lowercased(), state: .declined, at: "2026-12-03T05:00:00Z"))
        #expect(throws: FederationError.malformed("a declined status says why ('reason')")) {
            try FederationSigning.seal(declined, with: Self.exampleKey, at: Self.signedAt)
        }
        declined.status?.reason = "not illegal here"
        _ = try FederationSigning.seal(declined, with: Self.exampleKey, at: Self.signedAt)
    }
}
