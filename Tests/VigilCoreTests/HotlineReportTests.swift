import Foundation
import Testing
import VigilCore

@Suite("Hotline: report fields and validation")
struct HotlineReportTests {
    @Test("two spellings of the same URL join the same case key")
    func urlJoins() throws {
        // given two reports of one page, written differently
        let a = try ReportSubmission(kind: .url, url: "HTTP://Example.COM/a/./b/../c#frag").validated()
        let b = try ReportSubmission(kind: .url, url: "  http://example.com/a/%63  ").validated()
        // then both have the canonical URL as their key
        #expect(a.caseKey == b.caseKey)
        #expect(a.caseKey?.rawValue == "http://example.com/a/c")
        #expect(a.isAnonymous)
        #expect(a.source == .publicReporter)
    }

    @Test("newsgroups join by group name, with an optional Message-ID kept in angle brackets")
    func newsgroup() throws {
        let r = try ReportSubmission(kind: .newsgroup, newsgroup: "news:Alt.Example", messageID: "abc@host.example")
            .validated()
        #expect(r.caseKey == CaseKey(rawValue: "news:alt.example"))
        #expect(r.subject == .newsgroup(.newsgroup("alt.example"), messageID: "<abc@host.example>"))
        let other = try ReportSubmission(kind: .newsgroup, newsgroup: "alt.example").validated()
        #expect(other.caseKey == r.caseKey)
        #expect(ValidatedReport.normalizeMessageID("<a@b>") == "<a@b>")
        #expect(ValidatedReport.normalizeMessageID("news:<a@b>") == "<a@b>")
        for bad in ["no-at-sign", "a@", "@b", "a b@c", "a@b@c", "<a@b"] {
            #expect(ValidatedReport.normalizeMessageID(bad) == nil, "\(bad)")
        }
    }

    @Test("P2P reports join by the file's key whatever link form was used")
    func p2p() throws {
        let hash = "0123456789abcdef0123456789abcdef01234567"
        let magnet = try ReportSubmission(kind: .p2p, p2p: "magnet:?xt=urn:btih:\(hash.uppercased())&dn=x").validated()
        let bare = try ReportSubmission(kind: .p2p, p2p: hash).validated()
        #expect(magnet.caseKey == bare.caseKey)
        #expect(magnet.caseKey?.rawValue == "urn:btih:\(hash)")
    }

    @Test("profiles join by their address when given one, else by service kind, service and user name")
    func profile() throws {
        let byName = try ReportSubmission(
            kind: .profile, serviceKind: .gaming, service: "ExampleGame", profile: "Some_One"
        )
        .validated()
        let sameName = try ReportSubmission(
            kind: .profile, serviceKind: .gaming, service: "examplegame", profile: "some_one"
        ).validated()
        #expect(byName.caseKey == CaseKey(rawValue: "profile:gaming:examplegame:some_one"))
        #expect(byName.caseKey == sameName.caseKey)
        let byURL = try ReportSubmission(kind: .profile, profile: "https://Social.example/u/Someone").validated()
        #expect(byURL.caseKey?.rawValue == "https://social.example/u/Someone")
    }

    @Test("behaviour reports need only the description and never join another case")
    func behaviour() throws {
        // given a description of grooming, with a contact and the danger flag
        let r = try ReportSubmission(
            kind: .behaviour, concerns: [.grooming, .sextortion], details: "  An adult keeps messaging my nephew.\n ",
            childInImmediateDanger: true, contact: " parent@example.org ", source: .professional
        ).validated()
        // then it is kept as given (trimmed) with no case key
        #expect(r.caseKey == nil)
        #expect(r.details == "An adult keeps messaging my nephew.")
        #expect(r.contact == .email("parent@example.org"))
        #expect(!r.isAnonymous)
        #expect(r.childInImmediateDanger)
        #expect(r.subject == .behaviour(concerns: [.grooming, .sextortion]))
        #expect(r.source == .professional)
    }

    @Test("the minimum per kind is required, and the error names the field")
    func required() {
        let cases: [(ReportSubmission, [ReportField])] = [
            (ReportSubmission(kind: .url), [.url]),
            (ReportSubmission(kind: .url, url: "   "), [.url]),
            (ReportSubmission(kind: .newsgroup, messageID: "a@b"), [.newsgroup]),
            (ReportSubmission(kind: .p2p), [.p2p]),
            (ReportSubmission(kind: .profile), [.profile]),
            (ReportSubmission(kind: .profile, profile: "someone"), [.service]),
            (ReportSubmission(kind: .behaviour, concerns: [.bullying]), [.details]),
        ]
        for (submission, fields) in cases {
            #expect(throws: ReportValidationError(issues: fields.map { .init(field: $0, problem: .required) })) {
                try submission.validated()
            }
        }
    }

    @Test("bad values give field-named errors with a message key, all fields at once, in form order")
    func invalid() throws {
        // given a URL that is not a web address, an over-long contact and a control character in the details
        let submission = ReportSubmission(
            kind: .url, url: "javascript:alert(1)", details: "see\u{0}this",
            contact: String(repeating: "x", count: ValidatedReport.Limit.contact + 1))
        // when it is validated
        let error = #expect(throws: ReportValidationError.self) { try submission.validated() }
        // then every problem is named, in the order of the form
        let issues = try #require(error?.issues)
        #expect(issues.map(\.field) == [.url, .details, .contact])
        #expect(issues.map(\.messageKey) == ["error.invalid.url", "error.invalid_characters", "error.too_long"])
        #expect(issues[2].messageArguments == ["limit": "254"])
        #expect(error?.issues(for: .contact).count == 1)
        if case .invalid(let reason) = issues[0].problem {
            #expect(reason.contains("javascript"))
        } else {
            Issue.record("expected an invalid-URL reason")
        }
    }

    @Test("limits: the longest value passes, one more character fails; line breaks only in the details")
    func limits() throws {
        let longest = String(repeating: "é", count: ValidatedReport.Limit.details)
        #expect(try ReportSubmission(kind: .behaviour, details: longest).validated().details == longest)
        #expect(throws: ReportValidationError(issues: [.init(field: .details, problem: .tooLong(limit: 5_000))])) {
            try ReportSubmission(kind: .behaviour, details: longest + "é").validated()
        }
        #expect(try ReportSubmission(kind: .behaviour, details: "line one\nline two\ttab").validated().details != nil)
        #expect(throws: ReportValidationError(issues: [.init(field: .contact, problem: .invalidCharacters)])) {
            try ReportSubmission(kind: .behaviour, details: "x", contact: "a\nb@example.org").validated()
        }
        #expect(throws: ReportValidationError(issues: [.init(field: .service, problem: .tooLong(limit: 100))])) {
            try ReportSubmission(kind: .profile, service: String(repeating: "s", count: 101), profile: "x").validated()
        }
    }

    @Test("malformed newsgroup, Message-ID, P2P link and profile address are refused by field")
    func malformedTargets() {
        let cases: [(ReportSubmission, ReportField)] = [
            (ReportSubmission(kind: .newsgroup, newsgroup: "alt..bad"), .newsgroup),
            (ReportSubmission(kind: .newsgroup, newsgroup: "alt.ok", messageID: "nope"), .messageID),
            (ReportSubmission(kind: .p2p, p2p: "magnet:?dn=nothing"), .p2p),
            (ReportSubmission(kind: .profile, profile: "https://"), .profile),
        ]
        for (submission, field) in cases {
            let error = #expect(throws: ReportValidationError.self) { try submission.validated() }
            #expect(error?.issues.map(\.field) == [field])
            #expect(error?.issues.first?.messageKey == "error.invalid.\(field.rawValue)")
        }
    }

    @Test("a contact is an e-mail address or a phone number; anything else is refused by field")
    func contacts() throws {
        let good: [(String, ReporterContact)] = [
            ("Parent.Name@Example.ORG", .email("Parent.Name@example.org")),
            ("+33 6 12 34 56 78", .phone("+33612345678")),
            ("(020) 7946-0958", .phone("02079460958")),
            ("0612.34.56.78", .phone("0612345678")),
        ]
        for (typed, expected) in good {
            #expect(ReporterContact(typed) == expected, "\(typed)")
            #expect(
                try ReportSubmission(kind: .behaviour, details: "x", contact: typed).validated().contact == expected)
        }
        #expect(ReporterContact.phone("+331").text == "+331")
        for bad in [
            "call me", "a@b", "a@@b.org", "@example.org", "a@example.", "a b@example.org", "12345", "1+2345678",
            String(repeating: "1", count: 21), "<a@b.org>",
        ] {
            #expect(ReporterContact(bad) == nil, "\(bad)")
        }
        let error = #expect(throws: ReportValidationError.self) {
            try ReportSubmission(kind: .behaviour, details: "x", contact: "call me on Tuesday").validated()
        }
        #expect(error?.issues.map(\.messageKey) == ["error.invalid.contact"])
    }

    @Test("fast-track sources are hotlines, police and platforms")
    func sources() {
        #expect(ReportSource.allCases.filter(\.isFastTrack) == [.hotlinePartner, .police, .platform])
        #expect(ReportSource(rawValue: "public") == .publicReporter)
    }
}
