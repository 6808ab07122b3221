import Foundation
import Testing
import VigilCore

@Suite("TOTP and base32")
struct TOTPTests {
    @Test("RFC 6238 appendix B vectors (SHA-1, 8 digits)")
    func rfc6238Vectors() {
        // given the RFC's SHA-1 seed
        let totp = TOTP(secret: Array("12345678901234567890".utf8), digits: 8)
        // then every published time gives the published code
        let vectors: [(TimeInterval, String)] = [
            (59, "94287082"), (1_111_111_109, "07081804"), (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"), (2_000_000_000, "69279037"), (20_000_000_000, "65353130"),
        ]
        for (t, code) in vectors { #expect(totp.code(at: Date(timeIntervalSince1970: t)) == code) }
    }

    @Test("a code from the previous or next step is accepted, older ones are not")
    func driftWindow() {
        let totp = TOTP(secret: Array("12345678901234567890".utf8))
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(totp.matchingCounter(for: totp.code(at: now - 30), at: now) == totp.counter(at: now) - 1)
        #expect(totp.matchingCounter(for: totp.code(at: now + 30), at: now) == totp.counter(at: now) + 1)
        #expect(totp.matchingCounter(for: totp.code(at: now - 90), at: now) == nil)
        #expect(totp.matchingCounter(for: "12345a", at: now) == nil)
        #expect(totp.matchingCounter(for: "", at: now) == nil)
    }

    @Test("base32 round-trips and matches RFC 4648 vectors")
    func base32() {
        #expect(Base32.encode(Array("foobar".utf8)) == "MZXW6YTBOI")
        #expect(Base32.decode("mzxw6ytboi======") == Array("foobar".utf8))
        #expect(Base32.decode("MZXW 6YTB OI") == Array("foobar".utf8))
        #expect(Base32.decode("MZ1!") == nil)
        let bytes: [UInt8] = (0..<20).map { UInt8($0 * 13 & 0xFF) }
        #expect(Base32.decode(Base32.encode(bytes)) == bytes)
    }

    @Test("the provisioning URI carries the secret and issuer")
    func provisioningURI() {
        let totp = TOTP(secret: Array("12345678901234567890".utf8))
        let uri = totp.provisioningURI(account: "alice", issuer: "Vigil Hotline")
        #expect(uri.hasPrefix("otpauth://totp/Vigil%20Hotline:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"))
        #expect(uri.contains("issuer=Vigil%20Hotline"))
    }
}

@Suite("Access rules and scopes")
struct AccessRuleTests {
    @Test("roles and scopes pass only where declared")
    func rules() {
        let admin = AccessRule.roles([.admin])
        #expect(admin.allows(role: .admin))
        #expect(!admin.allows(role: .analyst))
        #expect(!admin.allows(scopes: APIScope.allCases))
        #expect(AccessRule.apiScope(.matchRead).allows(scopes: [.matchRead]))
        #expect(!AccessRule.apiScope(.matchRead).allows(scopes: [.feedsRead]))
        #expect(!AccessRule.apiScope(.matchRead).allows(role: .admin))
    }

    @Test("scope lists parse, and unknown scopes are named")
    func scopes() throws {
        #expect(try APIScope.parseList("feeds:read, match:read") == [.feedsRead, .matchRead])
        #expect(throws: APIScopeError.unknown("feeds:write")) { try APIScope.parseList("feeds:read,feeds:write") }
        #expect(throws: APIScopeError.empty) { try APIScope.parseList("") }
    }
}
