import Foundation

/// What a returned e-mail says about a notice: a delivery status notification (RFC 3464, `message/delivery-status`)
/// or one of the non-standard bounces older mail systems still send.
///
/// The notice is found by the token in its VERP envelope sender (`LOCAL+TOKEN@…`, which the bounce is addressed to;
/// LOCAL is the local part of the configured bounce address), or by the `X-Vigil-Notice: TOKEN` header of the
/// returned original. Tokens are read in lower case (mail systems may fold the case of a local part).
public struct BounceMessage: Sendable, Equatable {
    /// The notice's bounce token, when the message names one.
    public var token: String?
    /// `failed`, `delayed`, `delivered`, `relayed` or `expanded` (RFC 3464), or nil when the message is not a
    /// delivery report (an auto-reply, say).
    public var action: String?
    /// The RFC 3463 status, such as `5.1.1`.
    public var status: String?
    /// The remote server's words (`Diagnostic-Code`), or the first failure line of a non-standard bounce.
    public var diagnostic: String?
    /// The recipient that failed (`Final-Recipient`).
    public var recipient: String?

    /// Whether the message says delivery failed for good.
    public var isPermanentFailure: Bool { action == "failed" }

    /// Reads a raw message (headers and body). Never throws: what cannot be read stays nil.
    /// - Parameter localPart: the bounce address's local part (`bounces` for `bounces@hotline.example`).
    public init(parsing raw: String, localPart: String = "bounces") {
        let text = raw.replacingOccurrences(of: "\r\n", with: "\n")
        // Unfold continuation lines (RFC 5322 §2.2.3) so that folded fields read as one line.
        var lines: [Substring] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if let last = lines.last, !last.isEmpty, line.first == " " || line.first == "\t" {
                lines[lines.count - 1] = Substring(last + " " + line.drop { $0 == " " || $0 == "\t" })
            } else {
                lines.append(line)
            }
        }
        func field(_ name: String) -> String? {
            let prefix = name.lowercased() + ":"
            for line in lines where line.lowercased().hasPrefix(prefix) {
                let value = line.dropFirst(prefix.count).trimmingCharacters(in: .whitespaces)
                if !value.isEmpty { return value }
            }
            return nil
        }
        // Every `local+token@` in the message; the first whose local part is the bounce address's names the notice.
        let local = localPart.lowercased()
        token = text.lowercased().matches(of: /([a-z0-9._-]+)\+([a-z0-9_-]{8,64})@/).first { String($0.1) == local }
            .map { String($0.2) }
        if token == nil, let header = field("X-Vigil-Notice")?.lowercased(), (8...64).contains(header.count),
            header.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
        {
            token = header
        }
        let isReport = text.range(of: "message/delivery-status", options: .caseInsensitive) != nil
        if let a = field("Action") {
            action = a.lowercased().split(separator: " ").first.map(String.init)
        }
        if let s = field("Status") { status = s.split(separator: " ").first.map(String.init) }
        if let d = field("Diagnostic-Code") {
            // "smtp; 550 5.1.1 <x>: user unknown": keep what the remote server said.
            diagnostic = d.split(separator: ";", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) }
        }
        if let r = field("Final-Recipient") ?? field("Original-Recipient") {
            recipient = r.split(separator: ";", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) }
        }
        if action == nil, !isReport {
            // A non-standard bounce: judge by the subject and the first 5xx/4xx line of the body.
            let subject = (field("Subject") ?? "").lowercased()
            let bounceSubjects = [
                "undeliver", "delivery status notification", "failure notice", "returned mail", "mail delivery failed",
                "delivery failure", "non remis", "no se puede entregar",
            ]
            if bounceSubjects.contains(where: subject.contains) {
                let codeLine = lines.first {
                    $0.firstMatch(of: /\b[45]\d\d[ -]/) != nil || $0.firstMatch(of: /\b[45]\.\d{1,3}\.\d{1,3}\b/) != nil
                }
                diagnostic = codeLine.map { $0.trimmingCharacters(in: .whitespaces) }
                status = codeLine.flatMap { $0.firstMatch(of: /\b([45]\.\d{1,3}\.\d{1,3})\b/) }.map { String($0.1) }
                let delayed = subject.contains("delay") || status?.hasPrefix("4") == true || subject.contains("warning")
                action = delayed ? "delayed" : "failed"
            }
        }
        if action == nil, let status, isReport {
            action = status.hasPrefix("5") ? "failed" : status.hasPrefix("4") ? "delayed" : nil
        }
        if let d = diagnostic, d.count > 500 { diagnostic = String(d.prefix(500)) }
    }
}
