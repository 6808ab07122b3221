import Foundation
import Testing
import VigilFormats

/// Bounces as mail systems really send them: RFC 3464 reports (Postfix, Exim, Exchange), folded fields, delays,
/// non-standard bounces, and messages that are not bounces at all.
@Suite("Bounce messages")
struct BounceMessageTests {
    static let postfix = """
        Return-Path: <>
        Delivered-To: bounces+Ab3dEf6hIj9kLm0n@hotline.test
        From: MAILER-DAEMON@mx.host.test (Mail Delivery System)
        Subject: Undelivered Mail Returned to Sender
        To: bounces+Ab3dEf6hIj9kLm0n@hotline.test
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=delivery-status; boundary="B1"

        --B1
        Content-Type: text/plain

        I'm sorry to have to inform you that your message could not be delivered.

        --B1
        Content-Type: message/delivery-status

        Reporting-MTA: dns; mx.host.test

        Final-Recipient: rfc822; abuse@host.test
        Original-Recipient: rfc822;abuse@host.test
        Action: failed
        Status: 5.1.1
        Diagnostic-Code: smtp; 550 5.1.1 <abuse@host.test>: Recipient address
            rejected: User unknown in local recipient table

        --B1--
        """

    @Test("an RFC 3464 report gives the token, the action, the status, the recipient and the unfolded diagnostic")
    func rfc3464() {
        let b = BounceMessage(parsing: Self.postfix.replacingOccurrences(of: "\n", with: "\r\n"))
        #expect(b.token == "ab3def6hij9klm0n", "read in lower case: mail systems may fold a local part")
        #expect(b.action == "failed" && b.isPermanentFailure)
        #expect(b.status == "5.1.1")
        #expect(b.recipient == "abuse@host.test")
        #expect(
            b.diagnostic
                == "550 5.1.1 <abuse@host.test>: Recipient address rejected: User unknown in local recipient table")
    }

    @Test("a delay report is not a permanent failure")
    func delayed() {
        let text = Self.postfix.replacingOccurrences(of: "Action: failed", with: "Action: delayed")
            .replacingOccurrences(of: "Status: 5.1.1", with: "Status: 4.4.1")
        let b = BounceMessage(parsing: text)
        #expect(b.action == "delayed" && !b.isPermanentFailure && b.status == "4.4.1")
    }

    @Test("a report without an Action field is judged by its status")
    func statusOnly() {
        let b = BounceMessage(parsing: Self.postfix.replacingOccurrences(of: "Action: failed\n", with: ""))
        #expect(b.action == "failed")
    }

    @Test(
        "a non-standard bounce (qmail) is read from its subject and first error line; the token from the returned header"
    )
    func qmail() {
        let text = """
            From: MAILER-DAEMON@old.host.test
            To: hotline@hotline.test
            Subject: failure notice

            Hi. This is the qmail-send program at old.host.test.
            I'm afraid I wasn't able to deliver your message to the following addresses.

            <abuse@old.host.test>:
            Sorry, no mailbox here by that name. (#5.1.1)
            550 5.1.1 mailbox unavailable

            --- Below this line is a copy of the message.

            X-Vigil-Notice: Zz9yXx8wVv7u
            Subject: Notice of child sexual abuse material on your service
            """
        let b = BounceMessage(parsing: text)
        #expect(b.token == "zz9yxx8wvv7u")
        #expect(b.action == "failed")
        #expect(b.status == "5.1.1")
        #expect(b.diagnostic?.contains("5.1.1") == true)
    }

    @Test("an auto-reply is no bounce, and a message naming no notice has no token")
    func notABounce() {
        let b = BounceMessage(
            parsing:
                "From: abuse@host.test\nSubject: Re: Notice [notice 4]\nAuto-Submitted: auto-replied\n\nThanks, ticket #123 opened.\n"
        )
        #expect(b.action == nil && b.token == nil && !b.isPermanentFailure)
        #expect(BounceMessage(parsing: "").token == nil)
        #expect(
            BounceMessage(parsing: "X-Vigil-Notice: <script>\n").token == nil,
            "only token characters are taken from the header")
    }
}
