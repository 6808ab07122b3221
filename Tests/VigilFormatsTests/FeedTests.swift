import Crypto
import Foundation
import Testing
import VigilCore

@testable import VigilFormats

@Suite("Block-list feeds: every format from one version, signatures, the hashed lookup")
struct FeedTests {
    let list = PublishedList(
        version: 42, publishedAt: Date(timeIntervalSince1970: 1_800_000_000),
        targets: [
            ListTarget(kind: .domain, value: "bad.test"),
            ListTarget(kind: .url, value: "host.test/gallery/a.jpg"),
            ListTarget(kind: .prefix, value: "share.test/dir/"),
            ListTarget(kind: .newsgroup, value: "alt.bad.group"),
        ])
    let options = FeedOptions(stopIPv4: "127.0.0.9", stopIPv6: "::1", stopURL: "http://127.0.0.1:8080/stop")

    func text(_ f: FeedFormat) -> String {
        String(decoding: FeedRenderer.render(list, as: f, options: options), as: UTF8.self)
    }

    @Test("RPZ: domain entries (and their subdomains) answer the STOP address; the serial is the version")
    func rpz() {
        let zone = text(.rpz)
        #expect(zone.contains("( 42 3600"))
        #expect(zone.contains("\nbad.test A 127.0.0.9\n") && zone.contains("\n*.bad.test AAAA ::1\n"))
        #expect(!zone.contains("host.test") && !zone.contains("alt.bad"), "URLs and newsgroups are not DNS entries")
        let nx = String(
            decoding: FeedRenderer.render(list, as: .rpz, options: FeedOptions(stopURL: "x")), as: UTF8.self)
        #expect(nx.contains("\nbad.test CNAME .\n"))
    }

    @Test("hosts, domains, newsgroups and JSON carry what their users load")
    func plainFormats() {
        #expect(text(.hosts).contains("\n127.0.0.9 bad.test\n"))
        #expect(text(.domains).hasSuffix("\nbad.test\n"))
        #expect(text(.newsgroups).hasSuffix("\nalt.bad.group\n"))
        #expect(text(.json).contains("\"version\":42,\"published\":\"2027-01-15T08:00:00Z\""))
        #expect(text(.json).contains("{\"kind\":\"url\",\"value\":\"host.test/gallery/a.jpg\"}"))
        #expect(!text(.hashed).contains("bad.test"), "the hashed list is not a readable directory")
    }

    @Test("the JSON diff lists additions and removals since a version")
    func diff() throws {
        let old = [ListTarget(kind: .domain, value: "bad.test"), ListTarget(kind: .domain, value: "gone.test")]
        let json =
            try JSONSerialization.jsonObject(with: Data(FeedRenderer.diffJSON(since: 40, old: old, to: list)))
            as! [String: Any]
        #expect(json["since"] as? Int == 40 && json["version"] as? Int == 42)
        #expect((json["added"] as! [[String: String]]).count == 3)
        #expect((json["removed"] as! [[String: String]]).map { $0["value"] } == ["gone.test"])
    }

    @Test("a signed hashed list verifies; one changed byte or another key is refused")
    func signature() throws {
        let key = Curve25519.Signing.PrivateKey()
        let signed = FeedSignature.signedHashedList(FeedRenderer.render(list, as: .hashed, options: options), with: key)
        let parsed = try HashedList(parsing: signed, publicKey: key.publicKey)
        #expect(parsed.version == 42 && parsed.count == 3 && parsed.stopURL == "http://127.0.0.1:8080/stop")
        var tampered = signed
        tampered[40] ^= 1
        #expect(throws: HashedListError.badSignature) { try HashedList(parsing: tampered, publicKey: key.publicKey) }
        #expect(throws: HashedListError.badSignature) {
            try HashedList(parsing: signed, publicKey: Curve25519.Signing.PrivateKey().publicKey)
        }
        #expect(throws: HashedListError.unsigned) {
            try HashedList(parsing: FeedRenderer.render(list, as: .hashed, options: options), publicKey: key.publicKey)
        }
        #expect(throws: HashedListError.notAHashedList) {
            try HashedList(parsing: Array("hello\n".utf8), publicKey: nil)
        }
    }

    @Test("lookups: exact URLs exactly, prefixes and domains with what lies under them, any spelling of the URL")
    func lookups() throws {
        let hashed = try HashedList(parsing: FeedRenderer.render(list, as: .hashed, options: options), publicKey: nil)
        for listed in [
            "http://host.test/gallery/a.jpg", "HTTP://HOST.test/gallery/%61.jpg",
            "https://host.test/gallery/./a.jpg#frag",
            "http://share.test/dir/x/y.png?z=1", "http://www.share.test/dir/", "http://bad.test/",
            "http://a.b.bad.test/any/thing",
        ] {
            #expect(hashed.isListed(listed), "\(listed)")
        }
        for unlisted in [
            "http://host.test/gallery/b.jpg", "http://host.test/gallery/a.jpg?x=1", "http://share.test/other/",
            "http://notbad.test/", "http://bad.test.example/", "not a url", "http://en.wikipedia.test/wiki/Main",
        ] {
            #expect(!hashed.isListed(unlisted), "\(unlisted)")
        }
    }
}
