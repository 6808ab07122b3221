import Foundation
import SQLKit
import Synchronization
import Testing
import Vapor
import VigilCore
import VigilStore
import VigilTestSupport

@testable import VigilApp
@testable import VigilWeb

/// The reporter's status e-mail: the public status only, in the report's language, once per change; phone numbers
/// are not written to; a status already superseded is not sent.
@Suite("Reporter updates")
struct ReporterUpdatesTests {
    final class Outbox: Sendable {
        let sent = Mutex<[(to: String, message: String)]>([])
        var messages: [(to: String, message: String)] { sent.withLock { $0 } }
    }

    func run(_ app: Application, _ clock: ManualClock, outbox: Outbox) async throws -> Int {
        let updates = ReporterUpdates(
            hotline: try app.hotlineStoreForTests(clock), sealer: try app.hotline.sealer,
            catalog: try app.hotline.catalog,
            configuration: try app.vigil.configuration
        ) { _, to, message in outbox.sent.withLock { $0.append((to, message)) } }
        let queue = JobQueue(db: app.db, clock: clock, owner: "test")
        var n = 0
        while let job = try await queue.claim(HotlineStore.reporterUpdateJob, limit: 1).first {
            try await updates.run(job)
            _ = try await queue.complete(job)
            n += 1
        }
        return n
    }

    func body(_ message: String) -> String {
        let parts = message.components(separatedBy: "\n\n")
        let base64 = parts.dropFirst().joined().replacingOccurrences(of: "\r\n", with: "").replacingOccurrences(
            of: "\n", with: "")
        return String(decoding: Data(base64Encoded: base64) ?? Data(), as: UTF8.self)
    }

    @Test("one message per change, in Spanish, with the public status and nothing about the case")
    func spanish() async throws {
        try await withVigilApp { app, clock in
            let store = try app.hotlineStoreForTests(clock)
            let r = try await store.submit(
                try ReportSubmission(kind: .url, url: "http://secret-gallery.test/x", contact: "madre@correo.test")
                    .validated(), language: "es", actor: .publicVisitor)
            try await store.apply(.claim(by: "ana"), to: r.caseID, actor: .user("ana"))
            let outbox = Outbox()
            #expect(try await run(app, clock, outbox: outbox) == 1)
            let (to, message) = try #require(outbox.messages.first)
            #expect(to == "madre@correo.test")
            #expect(message.contains("Subject: Vigil: novedades sobre su denuncia \(r.reference)"))
            let text = body(message)
            #expect(text.contains(r.reference.description))
            #expect(text.contains("Usted hizo la denuncia"))
            #expect(!text.contains("secret-gallery"), "nothing about the case beyond its public status")
            #expect(try await run(app, clock, outbox: outbox) == 0, "nothing twice")
        }
    }

    @Test("a phone number is not written to; a status that changed again is left to the newer update")
    func phoneAndSuperseded() async throws {
        try await withVigilApp { app, clock in
            let store = try app.hotlineStoreForTests(clock)
            let phone = try await store.submit(
                try ReportSubmission(kind: .url, url: "http://a.test/x", contact: "+44 20 7946 0000").validated(),
                language: "en", actor: .publicVisitor)
            try await store.apply(.claim(by: "ana"), to: phone.caseID, actor: .user("ana"))
            let mail = try await store.submit(
                try ReportSubmission(kind: .url, url: "http://b.test/x", contact: "dad@mail.test").validated(),
                language: "en", actor: .publicVisitor)
            try await store.apply(.claim(by: "ana"), to: mail.caseID, actor: .user("ana"))
            try await store.apply(
                .assess(CaseAssessment(outcome: .notIllegal), by: "ana"), to: mail.caseID, actor: .user("ana"))
            try await store.apply(.close(by: "ana"), to: mail.caseID, actor: .user("ana"))
            let outbox = Outbox()
            #expect(try await run(app, clock, outbox: outbox) == 3)
            #expect(outbox.messages.count == 1, "the phone gets nothing; 'being assessed' was superseded by 'closed'")
            #expect(body(outbox.messages[0].message).contains("Closed: we have finished dealing with your report."))
            let notSent = try await app.auditEventsForTests(action: "report.update-not-sent")
            #expect(notSent.count == 1 && notSent[0].contains("not an e-mail address"))
        }
    }
}

@Test("a subject that is not ASCII goes as RFC 2047 encoded words that decode back to it")
func encodedSubject() {
    let subject = "Vigil: مستجدات بشأن بلاغك R-7KQ4-M2XD, and a long tail to make more than one word of it"
    let header = MailMessage.encodedWord(subject)
    #expect(header.hasPrefix("=?utf-8?B?") && header.contains("\r\n =?utf-8?B?"))
    let decoded = header.components(separatedBy: "\r\n ").map { word in
        String(decoding: Data(base64Encoded: String(word.dropFirst(10).dropLast(2))) ?? Data(), as: UTF8.self)
    }.joined()
    #expect(decoded == subject)
    #expect(MailMessage.encodedWord("plain ASCII") == "plain ASCII")
}

extension Application {
    func hotlineStoreForTests(_ clock: ManualClock) throws -> HotlineStore {
        let hotline = try hotline
        return HotlineStore(
            db: db, clock: clock, tokens: SystemTokenSource(), sealer: hotline.sealer, triage: hotline.triage,
            fourEyes: hotline.fourEyes)
    }

    func auditEventsForTests(action: String) async throws -> [String] {
        try await (db as! any SQLDatabase).select().column("details").from("audit_events")
            .where("action", .equal, action).all().map { try $0.decode(column: "details", as: String.self) }
    }
}
