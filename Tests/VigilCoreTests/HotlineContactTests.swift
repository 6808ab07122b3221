import Foundation
import Testing
import VigilCore

@Suite("Hotline: reporter contact details at rest")
struct HotlineContactTests {
    static let key = Data((0..<32).map { UInt8($0) })

    @Test("a contact sealed for a report opens for that report with that key")
    func roundTrip() throws {
        // given a sealer
        let sealer = try ContactSealer(rawKey: Self.key)
        // when a contact is sealed
        let sealed = try sealer.seal("parent@example.org", reportID: "report-1")
        // then it does not contain the text, has the stated overhead, and opens again
        #expect(sealed.count == "parent@example.org".utf8.count + ContactSealer.overhead)
        #expect(sealed.range(of: Data("parent".utf8)) == nil)
        #expect(sealed.first == ContactSealer.version)
        #expect(try sealer.open(sealed, reportID: "report-1") == "parent@example.org")
        #expect(try sealer.open(try sealer.seal("", reportID: "r"), reportID: "r") == "")
        #expect(try sealer.open(try sealer.seal("نعم ✓", reportID: "r"), reportID: "r") == "نعم ✓")
    }

    @Test("every seal uses a fresh nonce from the token source")
    func nonces() throws {
        let sealer = try ContactSealer(rawKey: Self.key)
        #expect(try sealer.seal("x", reportID: "r") != sealer.seal("x", reportID: "r"))
        let fixed = try ContactSealer(rawKey: Self.key, tokens: HotlineTestTokens(bytes: [7]))
        #expect(try fixed.seal("x", reportID: "r")[1..<13] == Data(repeating: 7, count: 12))
    }

    @Test("another report, another key, a flipped bit or a truncated value does not open")
    func tamper() throws {
        let sealer = try ContactSealer(rawKey: Self.key)
        let sealed = try sealer.seal("+33 6 12 34 56 78", reportID: "report-1")
        #expect(throws: ContactSealerError.authenticationFailed) { try sealer.open(sealed, reportID: "report-2") }
        let other = try ContactSealer(rawKey: Data(repeating: 9, count: 32))
        #expect(throws: ContactSealerError.authenticationFailed) { try other.open(sealed, reportID: "report-1") }
        for index in [1, 13, sealed.count - 1] {
            var flipped = sealed
            flipped[index] ^= 0x01
            #expect(throws: ContactSealerError.authenticationFailed) { try sealer.open(flipped, reportID: "report-1") }
        }
        #expect(throws: ContactSealerError.malformed) { try sealer.open(sealed.prefix(20), reportID: "report-1") }
        var version = sealed
        version[0] = 2
        #expect(throws: ContactSealerError.malformed) { try sealer.open(version, reportID: "report-1") }
        #expect(throws: ContactSealerError.wrongKeySize(128)) { try ContactSealer(rawKey: Data(count: 16)) }
    }

    @Test("the key file is created once, readable by the owner only, and loaded after")
    func keyFile() throws {
        // given an empty temporary folder
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-contact-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("keys/contact-key.pem").path
        // when the key is loaded twice
        let (first, created) = try ContactSealer.loadOrCreateKey(at: path, tokens: HotlineTestTokens(bytes: [1, 2, 3]))
        let (second, createdAgain) = try ContactSealer.loadOrCreateKey(at: path)
        // then it was created the first time only, with mode 0600, and is the same key
        #expect(created && !createdAgain)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let sealed = try ContactSealer(key: first).seal("x", reportID: "r")
        #expect(try ContactSealer(key: second).open(sealed, reportID: "r") == "x")
        // and a damaged file is refused, not replaced
        try Data("-----BEGIN-----\nnot base64\n".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: ContactSealerError.unreadableKey(path)) { try ContactSealer.loadOrCreateKey(at: path) }
    }

    @Test("contact details are due for deletion 90 days after the case closes, never while it is open")
    func retention() {
        let closed = Date(timeIntervalSince1970: 1_800_000_000)
        let rule = ContactRetention()
        #expect(rule.deletionDue(closedAt: nil) == nil)
        #expect(!rule.mustDelete(closedAt: nil, at: closed + 1_000 * 86_400))
        #expect(rule.deletionDue(closedAt: closed) == closed + 90 * 86_400)
        #expect(!rule.mustDelete(closedAt: closed, at: closed + 90 * 86_400 - 1))
        #expect(rule.mustDelete(closedAt: closed, at: closed + 90 * 86_400))
        #expect(ContactRetention(period: 30 * 86_400).mustDelete(closedAt: closed, at: closed + 30 * 86_400))
    }
}
