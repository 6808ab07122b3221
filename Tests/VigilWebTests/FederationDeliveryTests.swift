import Crypto
import Foundation
import SQLKit
import Testing
import Vapor
import VigilApp
import VigilCore
import VigilFormats
import VigilTestSupport
import VigilWeb

@testable import VigilStore

@Suite("Federation delivery: a referral reaches the partner's inbox signed, in order, once, after the partner was down")
struct FederationDeliveryTests {
    @Test("the partner down: retried with back-off; back up: every message delivered in order, a resend counted once")
    func deliveredAfterDowntime() async throws {
        // B, the receiving hotline, as a running server.
        try await withVigilApp { b, clockB in
            try await b.server.start(address: .hostname("127.0.0.1", port: 0))
            let port = b.http.server.shared.localAddress!.port!
            let keyA = Curve25519.Signing.PrivateKey()
            try await FederationStore(db: b.db, clock: clockB, secrets: try b.secretSealer).addPartner(
                FederationPartner(name: "hotline-xa", label: "XA", countries: ["XA"], baseURL: "https://xa.test"),
                publicKey: keyA.publicKey.rawRepresentation.base64EncodedString(), apiKey: nil, actor: .system)
            let issued = try await APIKeys(db: b.db, clock: clockB, tokens: SystemTokenSource()).create(
                partner: "hotline-xa", scopes: [.federationSend], actor: .system
            ).secret
            do {
                try await send(from: keyA, to: b, port: port, apiKey: issued, clockB: clockB)
            } catch {
                await b.server.shutdown()
                throw error
            }
            await b.server.shutdown()
        }
    }

    func send(
        from keyA: Curve25519.Signing.PrivateKey, to b: Application, port: Int, apiKey: String, clockB: ManualClock
    ) async throws {
        // A, the referring hotline; its fetch policy allows this lab's loopback.
        try await withVigilApp(configure: {
            $0.fetchPolicy = OutboundAddressPolicy(allowed: [IPRange(cidr: "127.0.0.0/8")!])
        }) { a, clockA in
            clockA.set(clockB.now())
            let store = FederationStore(db: a.db, clock: clockA, secrets: try a.secretSealer)
            try await store.addPartner(
                FederationPartner(
                    name: "hotline-xb", label: "XB", countries: ["XB"], baseURL: "http://127.0.0.1:\(port)"),
                publicKey: Curve25519.Signing.PrivateKey().publicKey.rawRepresentation.base64EncodedString(),
                apiKey: apiKey, actor: .system)
            let hotline = try a.hotlineStoreForTests
            let service = FederationService(
                store: store, hotline: hotline, notices: NoticeStore(db: a.db, clock: clockA),
                // A closed port is retried until the connect timeout: 2 s here, so the test does not wait 10 s,
                // and a loaded machine still connects once the partner is back (a loopback connect took
                // over 500 ms in CI's link checks).
                fetcher: OutboundFetcher(
                    policy: try a.vigil.configuration.fetchPolicy, resolver: DNSClient.configured("127.0.0.1:9"),
                    connectTimeout: .seconds(2)),
                signingKey: keyA, installation: "Hotline XA")
            // given: two assessed cases referred, and the partner down
            let first = try await TakedownTests().assessedCase(hotline, "http://files.host.test/a.jpg")
            let second = try await TakedownTests().assessedCase(hotline, "http://files.host.test/b.jpg")
            let partner = try await store.partner(named: "hotline-xb")
            try await service.refer(caseID: first, country: "XB", to: partner)
            try await service.refer(caseID: second, country: "XB", to: partner)
            await b.server.shutdown()
            // when: delivered while down
            #expect(try await service.deliver() == 0)
            let waiting = try await store.pending()
            #expect(waiting.count == 2)
            #expect(waiting[0].attempts == 1 && waiting[0].lastError != nil)
            #expect(waiting[1].attempts == 0, "a later message waits behind the first: order per partner")
            // and before the back-off has passed, nothing is tried
            clockA.advance(by: 10)
            #expect(try await service.deliver() == 0)
            #expect(try await store.pending()[0].attempts == 1)
            // then: B back up, after the back-off
            try await b.server.start(address: .hostname("127.0.0.1", port: port))
            clockA.advance(by: 25)
            clockB.set(clockA.now())
            #expect(try await service.deliver() == 2)
            #expect(try await store.pending().isEmpty)
            let inbox = FederationStore(db: b.db, clock: clockB)
            #expect(try await inbox.inboxCount(partner: "hotline-xa") == 2)
            let received = try await AuditLog.list(
                on: b.db, filter: .init(action: "federation.received"), page: 1, per: 10
            ).events.reversed().map(\.detailsJSON)
            #expect(received.count == 2)
            #expect(received[0].contains(FederationService.reference(first)))
            #expect(received[1].contains(FederationService.reference(second)))
            // the referral carries the case, its assessment and hosting, never the reporter
            let kept = try await b.db.sql.select().column("message").from("federation_inbox")
                .where("case_ref", .equal, FederationService.reference(first)).first()?
                .decode(column: "message", as: String.self)
            let message = try JSONDecoder().decode(FederationMessage.self, from: Data(try #require(kept).utf8))
            #expect(message.referral?.items == [.init(kind: "url", value: "http://files.host.test/a.jpg")])
            #expect(message.referral?.assessment.illegality == "baseline")
            #expect(message.referral?.hosting.country == "XB")
            #expect(message.from == "Hotline XA")
            // A's case page: the referral delivered; B's answers, when they come, are listed under it
            let (analyst, _) = try await Staff.signedIn(a, clock: clockA, username: "ana2", role: .analyst)
            let page = try await analyst.get("/cases/\(first)")
            #expect(page.body.contains("partner-timeline") && page.body.contains("referral sent: delivered"))
            // a resend of a delivered message (as after a lost answer) is taken as delivered, and kept once
            try await a.db.sql.update("federation_outbox").set("state", to: "pending").where(
                "case_ref", .equal, FederationService.reference(first)
            ).run()
            #expect(try await service.deliver() == 1)
            #expect(try await inbox.inboxCount(partner: "hotline-xa") == 2)
            let duplicates = try await AuditLog.list(
                on: b.db, filter: .init(action: "federation.duplicate"), page: 1, per: 10
            ).total
            #expect(duplicates == 1)
            // B's 'removed' answer reaches A: the case page says so, and A's cross-border figures count it
            let referralID = try #require(try await store.outgoing(caseRef: FederationService.reference(first)).first)
                .messageID
            let status = FederationMessage(
                id: UUID().uuidString, from: "Hotline XB", case: "case-1",
                status: .init(
                    referral: referralID, state: .removed,
                    at: FederationSigning.timestamp(clockA.now().addingTimeInterval(2 * 86400))))
            let opened = try FederationSigning.open(
                try FederationSigning.seal(status, with: Curve25519.Signing.PrivateKey(), at: clockA.now()).envelope)
            _ = try await store.receive(
                messageID: status.id, partner: "hotline-xb", type: "status", caseRef: "case-1",
                canonical: String(decoding: opened.canonical, as: UTF8.self), referral: referralID, actor: .system)
            // another partner cannot speak for a referral it never got: its 'removed' is not shown nor counted
            try await store.addPartner(
                FederationPartner(name: "hotline-xc", label: "XC", countries: ["XC"], baseURL: "https://xc.test"),
                publicKey: Curve25519.Signing.PrivateKey().publicKey.rawRepresentation.base64EncodedString(),
                apiKey: nil, actor: .system)
            let meddling = FederationMessage(
                id: UUID().uuidString, from: "Hotline XC", case: "c-1",
                status: .init(referral: referralID, state: .removed, at: FederationSigning.timestamp(clockA.now())))
            let meddled = try FederationSigning.open(
                try FederationSigning.seal(meddling, with: Curve25519.Signing.PrivateKey(), at: clockA.now()).envelope)
            _ = try await store.receive(
                messageID: meddling.id, partner: "hotline-xc", type: "status", caseRef: "c-1",
                canonical: String(decoding: meddled.canonical, as: UTF8.self), referral: referralID, actor: .system)
            #expect(try await store.answers(toReferrals: [referralID]).map(\.partner) == ["hotline-xb"])
            let figures = try #require(try await store.figures().first)
            #expect(figures.sent == 2 && figures.delivered == 2 && figures.received == 0)
            #expect(figures.reportToRemoval.count == 1 && figures.reportToRemoval[0] > 2 * 86400)
            let (supervisor, _) = try await Staff.signedIn(a, clock: clockA, username: "sue2", role: .supervisor)
            let takedown = try await supervisor.get("/takedown")
            #expect(takedown.body.contains("id=\"by-partner\"") && takedown.body.contains("hotline-xb"))
            #expect(try await analyst.get("/cases/\(first)").body.contains("removed in XB at"))
            // and the public transparency page: referred 2, received 2, removed 1 (within 3 days), none to us
            let month = Month(containing: clockA.now()).description
            let csv = try await TestBrowser(a).get("/transparency/partner-referrals.csv?from=\(month)&to=\(month)")
            #expect(csv.status == .ok)
            #expect(
                csv.body.contains("Referred,Received by the partner,Removed there,Removed within 3 days,Referred to us")
            )
            #expect(csv.body.contains("XB") && csv.body.contains(",2,2,1,1,0"), "\(csv.body)")
            let times = try await TestBrowser(a).get("/transparency/partner-times.csv?from=\(month)&to=\(month)")
            #expect(times.body.contains("Assessment to receipt (median hours)"))
            #expect(try await TestBrowser(a).get("/transparency").body.contains("id=\"fig-partner-referrals\""))

            // a referral queued before a law-enforcement hold waits for the hold's end
            let third = try await TakedownTests().assessedCase(hotline, "http://files.host.test/c.jpg")
            try await service.refer(caseID: third, country: "XB", to: partner)
            try await hotline.apply(
                .placeHold(CaseHold(reason: "operation", expiresAt: clockA.now() + 86_400, placedBy: "leo")),
                to: third, actor: .user("leo"))
            #expect(try await service.deliver(ignoringBackoff: true) == 0)
            let held = try #require(try await store.pending().first)
            #expect(held.lastError?.contains("held for law enforcement") == true)
            #expect(held.nextAttempt == clockA.now() + 86_400)
            #expect(try await inbox.inboxCount(partner: "hotline-xa") == 2, "nothing left while held")
            clockA.advance(by: 86_401)
            clockB.set(clockA.now())
            #expect(try await service.deliver() == 1)
        }
    }
}
