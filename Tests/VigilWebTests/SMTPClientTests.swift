import Testing
import VigilCore

@testable import VigilApp

/// What the SMTP client decides before and after talking to a relay: which refusals are for good, which addresses
/// it will not put in a command, what counts as this machine.
@Suite("SMTP client rules")
struct SMTPClientTests {
    @Test("only mailbox refusals are permanent; relay and policy refusals stay retryable for the operator to fix")
    func permanence() {
        func rcpt(_ reply: String) -> SMTPClient.Failure {
            .rejected(step: "the recipient abuse@host.test", reply: reply)
        }
        #expect(rcpt("550 5.1.1 <abuse@host.test>: Recipient address rejected: User unknown").isPermanent)
        #expect(rcpt("552 5.2.2 mailbox full").isPermanent)
        #expect(rcpt("550 no such user").isPermanent)
        #expect(!rcpt("554 5.7.1 <abuse@host.test>: Relay access denied").isPermanent)
        #expect(!rcpt("553 5.7.1 Sender address rejected: not owned by user").isPermanent)
        #expect(!rcpt("450 4.2.0 try later").isPermanent)
        #expect(!SMTPClient.Failure.rejected(step: "the sender", reply: "550 5.1.8 bad sender").isPermanent)
        #expect(!SMTPClient.Failure.connect("refused").isPermanent)
    }

    @Test("an address that could break out of a command or a header is refused before any connection")
    func addresses() async {
        for bad in [
            "abuse@host.test\r\nRCPT TO:<x@evil.test>", "a b@host.test", "<abuse@host.test>", "nobody", "@host.test",
            "abuse@",
        ] {
            #expect(!EmailAddress.isPlausible(bad), "\(bad.debugDescription)")
        }
        #expect(EmailAddress.isPlausible("abuse+notices@host.test"))
        let client = SMTPClient(host: "127.0.0.1", port: 9, username: nil, password: nil)
        await #expect(throws: SMTPClient.Failure.self) {
            try await client.send(from: "hotline@hotline.test", to: ["abuse@host.test\r\nDATA"], message: "x")
        }
    }

    @Test("loopback is an address literal, not a name that starts with 127")
    func loopback() {
        for host in ["127.0.0.1", "127.1.2.3", "::1", "localhost"] {
            #expect(SMTPClient(host: host, port: 25, username: nil, password: nil).isLoopback)
        }
        for host in ["127.mail.example", "10.0.0.1", "mail.example", "127.0.0.256"] {
            #expect(!SMTPClient(host: host, port: 25, username: nil, password: nil).isLoopback, "\(host)")
        }
    }
}
