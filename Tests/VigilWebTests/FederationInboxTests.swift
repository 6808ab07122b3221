import Crypto
import Foundation
import Testing
import Vapor
import VigilCore
import VigilFormats
import VigilStore
import VigilTestSupport
import VigilWeb

@Suite("Federation inbox: a partner's signed message is kept once; every refusal has its status, code and audit")
struct FederationInboxTests {
    struct Partner {
        let key: Curve25519.Signing.PrivateKey
        let apiKey: String
    }

    /// Registers hotline-xb (country XB) with a fresh key, and issues it a federation:send key.
    func register(_ app: Application, _ clock: ManualClock, name: String = "hotline-xb") async throws -> Partner {
        let key = Curve25519.Signing.PrivateKey()
        try await FederationStore(db: app.db, clock: clock, secrets: try app.secretSealer).addPartner(
            FederationPartner(
                name: name, label: name, countries: [name == "hotline-xb" ? "XB" : "XC"],
                baseURL: "https://\(name).test"),
            publicKey: key.publicKey.rawRepresentation.base64EncodedString(), apiKey: nil, actor: .system)
        let apiKey = try await APIKeys(db: app.db, clock: clock, tokens: SystemTokenSource()).create(
            partner: name, scopes: [.federationSend], actor: .system
        ).secret
        return Partner(key: key, apiKey: apiKey)
    }

    func referral(id: String = UUID().uuidString) -> FederationMessage {
        FederationMessage(
            id: id, from: "hotline-xb", case: "XB-2026-1",
            referral: .init(
                items: [.init(kind: "url", value: "https://files.host.test/a.jpg")],
                assessment: .init(contentType: "image", illegality: "baseline", ageGroup: "prepubescent"),
                hosting: .init(country: "XA"), reportedAt: "2026-12-01T10:00:00Z", assessedAt: "2026-12-01T11:00:00Z"))
    }

    func post(_ app: Application, apiKey: String?, _ body: String) async throws -> TestBrowser.Page {
        var h: HTTPHeaders = ["Content-Type": "application/json"]
        if let apiKey { h.add(name: .authorization, value: "Bearer \(apiKey)") }
        return try await TestBrowser(app).send(.POST, "/api/v1/federation/inbox", headers: h, body: body)
    }

    func sealed(_ m: FederationMessage, _ key: Curve25519.Signing.PrivateKey, at time: Date) throws -> String {
        String(decoding: try FederationSigning.seal(m, with: key, at: time).envelope, as: UTF8.self)
    }

    func code(_ page: TestBrowser.Page) -> String? {
        (try? JSONSerialization.jsonObject(with: Data(page.body.utf8)) as? [String: Any])?["code"] as? String
    }

    /// The codes of the `federation.refused` events, oldest first.
    func refusals(_ app: Application) async throws -> [String] {
        try await AuditLog.list(on: app.db, filter: .init(action: "federation.refused"), page: 1, per: 100).events
            .reversed().compactMap {
                (try? JSONSerialization.jsonObject(with: Data($0.detailsJSON.utf8)) as? [String: String])?["code"]
            }
    }

    @Test("accepted once (202), then a duplicate (409) that changes nothing")
    func acceptedOnce() async throws {
        try await withVigilApp { app, clock in
            // given
            let xb = try await register(app, clock)
            let body = try sealed(referral(), xb.key, at: clock.now())
            // when
            let first = try await post(app, apiKey: xb.apiKey, body)
            let again = try await post(app, apiKey: xb.apiKey, body)
            // then
            #expect(first.status == .accepted, "\(first.body)")
            #expect(again.status == .conflict && code(again) == "federation.duplicate")
            #expect(try await FederationStore(db: app.db, clock: clock).inboxCount(partner: "hotline-xb") == 1)
            let actions = try await AuditLog.list(on: app.db, filter: .init(), page: 1, per: 2).events.map(\.action)
            #expect(actions == ["federation.duplicate", "federation.received"])
        }
    }

    @Test("refused: forged, unknown key, disabled partner, retired key, stale, malformed, oversized, wrong API key")
    func refusals() async throws {
        try await withVigilApp { app, clock in
            let xb = try await register(app, clock)
            let xc = try await register(app, clock, name: "hotline-xc")
            let stranger = Curve25519.Signing.PrivateKey()
            var expected: [String] = []
            func refused(_ page: TestBrowser.Page, _ status: HTTPResponseStatus, _ c: String) {
                #expect(page.status == status, "\(c): \(page.body)")
                #expect(code(page) == c, "\(page.body)")
                expected.append(c)
            }
            // forged: signed by a stranger, claiming hotline-xb's key
            let forged = try sealed(referral(), stranger, at: clock.now()).replacingOccurrences(
                of: FederationSigning.keyID(of: stranger.publicKey), with: FederationSigning.keyID(of: xb.key.publicKey)
            )
            refused(try await post(app, apiKey: xb.apiKey, forged), .unauthorized, "federation.bad-signature")
            // a key nobody registered
            refused(
                try await post(app, apiKey: xb.apiKey, try sealed(referral(), stranger, at: clock.now())),
                .unauthorized,
                "federation.unknown-key")
            // hotline-xb's message with hotline-xc's API key, and with none
            let good = try sealed(referral(), xb.key, at: clock.now())
            refused(try await post(app, apiKey: xc.apiKey, good), .unauthorized, "federation.not-authorised")
            refused(try await post(app, apiKey: nil, good), .unauthorized, "federation.not-authorised")
            // too old, and from the future
            refused(
                try await post(
                    app, apiKey: xb.apiKey, try sealed(referral(), xb.key, at: clock.now().addingTimeInterval(-301))),
                .badRequest, "federation.stale")
            refused(
                try await post(
                    app, apiKey: xb.apiKey, try sealed(referral(), xb.key, at: clock.now().addingTimeInterval(301))),
                .badRequest, "federation.stale")
            // malformed JSON, a member named twice, and an oversized body
            refused(try await post(app, apiKey: xb.apiKey, "{\"message\": "), .badRequest, "federation.malformed")
            refused(
                try await post(
                    app, apiKey: xb.apiKey,
                    good.replacingOccurrences(of: "{\"message\":", with: "{\"signature\":\"x\",\"message\":")),
                .badRequest, "federation.malformed")
            refused(
                try await post(app, apiKey: xb.apiKey, String(repeating: " ", count: 300_000) + good), .payloadTooLarge,
                "federation.too-large")
            // a disabled partner is refused at once
            let store = FederationStore(db: app.db, clock: clock, secrets: try app.secretSealer)
            try await store.setEnabled("hotline-xb", false, actor: .system)
            refused(try await post(app, apiKey: xb.apiKey, good), .forbidden, "federation.partner-disabled")
            try await store.setEnabled("hotline-xb", true, actor: .system)
            // a rotated-out key after its overlap; the new key works
            let next = Curve25519.Signing.PrivateKey()
            try await store.rotateKey(
                "hotline-xb", newPublicKey: next.publicKey.rawRepresentation.base64EncodedString(), overlap: 60,
                actor: .system)
            let withinOverlap = try await post(app, apiKey: xb.apiKey, try sealed(referral(), xb.key, at: clock.now()))
            #expect(withinOverlap.status == .accepted, "\(withinOverlap.body)")
            clock.advance(by: 61)
            refused(
                try await post(app, apiKey: xb.apiKey, try sealed(referral(), xb.key, at: clock.now())), .unauthorized,
                "federation.key-retired")
            let rotated = try await post(app, apiKey: xb.apiKey, try sealed(referral(), next, at: clock.now()))
            #expect(rotated.status == .accepted, "\(rotated.body)")
            // then: each refusal audited with its code, and nothing refused was kept
            #expect(try await refusals(app) == expected)
            #expect(try await FederationStore(db: app.db, clock: clock).inboxCount() == 2)
        }
    }
}
