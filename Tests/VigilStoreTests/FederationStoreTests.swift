import Crypto
import Foundation
import SQLKit
import Testing
import VigilCore
import VigilTestSupport

@testable import VigilStore

@Suite("Federation store: partners, keys with overlap, the inbox keeps each message once")
struct FederationStoreTests {
    static func publicKey() -> String {
        Curve25519.Signing.PrivateKey().publicKey.rawRepresentation.base64EncodedString()
    }

    @Test(
        "a partner is registered with its key and sealed API key; bad settings are refused before anything is written")
    func registry() async throws {
        try await withVigilApp { app, clock in
            // given
            let store = FederationStore(db: app.db, clock: clock, secrets: try app.secretSealer)
            let key = Self.publicKey()
            let partner = FederationPartner(
                name: "hotline-xb", label: "Hotline XB", countries: ["XB", "XC"], baseURL: "https://hotline.xb.test")
            // when
            try await store.addPartner(partner, publicKey: key, apiKey: "secret-token", actor: .system)
            // then
            let stored = try await store.partner(named: "hotline-xb")
            #expect(stored.countries == ["XB", "XC"] && stored.enabled && stored.hasAPIKey)
            #expect(stored.keys.map(\.publicKey) == [key])
            #expect(try await store.apiKey(for: "hotline-xb") == "secret-token")
            let raw = try await app.db.sql.select().column(FederationPartners.apiKeySealed)
                .from(FederationPartners.tableName).first()?.decode(FederationPartners.apiKeySealed, as: String.self)
            #expect(raw?.contains("secret-token") == false)
            #expect(try await store.partner(covering: "xc")?.name == "hotline-xb")
            // refused: duplicate name, bad country, bad key, same key again
            await #expect(throws: StoreError.self) {
                try await store.addPartner(partner, publicKey: Self.publicKey(), apiKey: nil, actor: .system)
            }
            for (bad, why) in [
                (FederationPartner(name: "Bad Name", label: "x", countries: ["XD"], baseURL: "https://x.test"), "name"),
                (FederationPartner(name: "xd", label: "x", countries: ["xd"], baseURL: "https://x.test"), "ISO 3166-1"),
                (FederationPartner(name: "xd", label: "x", countries: ["XD"], baseURL: "ftp://x.test"), "http(s)"),
            ] {
                do {
                    try await store.addPartner(bad, publicKey: Self.publicKey(), apiKey: nil, actor: .system)
                    Issue.record("accepted \(bad)")
                } catch let e as StoreError { #expect(e.description.contains(why), "\(e)") }
            }
            await #expect(throws: StoreError.self) {
                try await store.addPartner(
                    FederationPartner(name: "xd", label: "x", countries: ["XD"], baseURL: "https://x.test"),
                    publicKey: "c2hvcnQ=", apiKey: nil, actor: .system)
            }
            await #expect(throws: StoreError.self) {
                try await store.addPartner(
                    FederationPartner(name: "xe", label: "x", countries: ["XE"], baseURL: "https://x.test"),
                    publicKey: key, apiKey: nil, actor: .system)
            }
            #expect(try await store.partners().map(\.name) == ["hotline-xb"])
            // disabled: no longer covers its countries
            try await store.setEnabled("hotline-xb", false, actor: .system)
            #expect(try await store.partner(covering: "XB") == nil)
        }
    }

    @Test("a rotated key keeps verifying until the overlap ends; the new one from now")
    func rotation() async throws {
        try await withVigilApp { app, clock in
            let store = FederationStore(db: app.db, clock: clock, secrets: try app.secretSealer)
            let old = Self.publicKey()
            try await store.addPartner(
                FederationPartner(name: "hotline-xb", label: "XB", countries: ["XB"], baseURL: "https://xb.test"),
                publicKey: old, apiKey: nil, actor: .system)
            // when
            let new = Self.publicKey()
            let retire = try await store.rotateKey(
                "hotline-xb", newPublicKey: new, overlap: 3600, actor: .system)
            // then
            let keys = try await store.partner(named: "hotline-xb").keys
            let oldKey = try #require(keys.first { $0.publicKey == old })
            let newKey = try #require(keys.first { $0.publicKey == new })
            #expect(retire == clock.now().addingTimeInterval(3600))
            #expect(oldKey.isCurrent(at: clock.now().addingTimeInterval(3599)))
            #expect(!oldKey.isCurrent(at: clock.now().addingTimeInterval(3600)))
            #expect(newKey.isCurrent(at: clock.now().addingTimeInterval(86400 * 365)))
            #expect(try await store.key(id: newKey.id)?.partner.name == "hotline-xb")
            await #expect(throws: StoreError.self) {
                try await store.rotateKey("hotline-xb", newPublicKey: new, overlap: 0, actor: .system)
            }
        }
    }

    @Test("the inbox keeps a message id once; both receipts and refusals are audited")
    func inbox() async throws {
        try await withVigilApp { app, clock in
            let store = FederationStore(db: app.db, clock: clock)
            let id = UUID().uuidString.lowercased()
            #expect(
                try await store.receive(
                    messageID: id, partner: "hotline-xb", type: "referral", caseRef: "XB-1", canonical: "{}",
                    actor: .system) == .new)
            #expect(
                try await store.receive(
                    messageID: id, partner: "hotline-xb", type: "referral", caseRef: "XB-1", canonical: "{}",
                    actor: .system) == .duplicate)
            try await store.auditRefusal(
                code: "federation.bad-signature", partner: "hotline-xb", messageID: id, reason: "no", actor: .system)
            #expect(try await store.inboxCount() == 1)
            let actions = try await AuditLog.list(on: app.db, filter: .init(), page: 1, per: 3).events.map(\.action)
            #expect(actions == ["federation.refused", "federation.duplicate", "federation.received"])
        }
    }
}
