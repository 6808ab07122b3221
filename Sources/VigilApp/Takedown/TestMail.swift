import Foundation
import VigilCore
import VigilStore

extension NoticeService {
    /// Sends a short test message through the configured relay, as notices go (same security, authentication and
    /// envelope sender), so an operator can check the mail settings before the first notice. Returns what was done.
    public static func sendTestMail(_ c: VigilConfiguration, to recipient: String, at now: Date) async throws -> String
    {
        guard let client = SMTPClient(c) else {
            throw StoreError.invalid(
                "no SMTP relay is configured: set smtp_host (and smtp_port, smtp_tls, smtp_username)")
        }
        let sender = NoticeService.envelopeSender(c, token: "test0000test")
        let date = now.formatted(.iso8601)
        let message = """
            From: \(c.siteName) <\(c.smtpFrom)>
            To: <\(recipient)>
            Subject: \(c.siteName): test of the mail settings
            X-Vigil-Notice: test0000test
            MIME-Version: 1.0
            Content-Type: text/plain; charset=utf-8

            This message checks that \(c.siteName) can send notices through \(c.smtpHost ?? ""):\(c.smtpPort) (\(c.smtpTLS.rawValue)).
            Sent \(date). Nothing else needs doing.
            """
        try await client.send(from: sender, to: [recipient], message: message)
        return
            "sent a test message to \(recipient) through \(client.host):\(client.port) (\(c.smtpTLS.rawValue)), envelope sender \(sender)"
    }
}
