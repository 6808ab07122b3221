import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization
import VigilCore
import VigilStore

/// A small SMTP client for the relay the operator names (RFC 5321: EHLO, STARTTLS (RFC 3207) or implicit TLS,
/// AUTH PLAIN when configured, MAIL, RCPT, DATA with dot-stuffing, QUIT), on SwiftNIO with the relay's certificate
/// checked against the system's authorities plus any the operator adds.
///
/// With ``SMTPSecurity/starttls`` (the default) the client upgrades the connection and refuses a relay that does not
/// offer STARTTLS. A relay on loopback (the same machine: there is no wire to protect) is upgraded only when the
/// operator names a CA file for it, since a local Postfix usually offers STARTTLS with a self-signed certificate.
/// A password is never sent in the clear to a relay off this machine.
public struct SMTPClient: Sendable {
    public let host: String
    public let port: Int
    let username: String?
    let password: String?
    var security: SMTPSecurity = .starttls
    /// PEM file of extra certificate authorities for the relay's certificate.
    var caFile: String? = nil
    /// How long one reply may take before the connection is given up.
    var replyTimeout: TimeAmount = .seconds(60)

    init(
        host: String, port: Int, username: String?, password: String?, security: SMTPSecurity = .starttls,
        caFile: String? = nil
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.security = security
        self.caFile = caFile
    }

    /// The client the configuration describes, or nil when no relay is configured.
    /// Delivers one message: from, to, the whole message (the relay in production, a capture in tests).
    public typealias Send = @Sendable (_ from: String, _ to: String, _ message: String) async throws -> Void

    /// The relay `c` names as a `Send`; without one, each message fails saying that `what` waits (its job retries).
    public static func sender(_ c: VigilConfiguration, waiting what: String) -> Send {
        { from, to, message in
            guard let client = SMTPClient(c) else {
                throw StoreError.unreachable("no SMTP relay is configured (smtp_host): \(what) waits")
            }
            try await client.send(from: from, to: [to], message: message)
        }
    }

    public init?(_ c: VigilConfiguration) {
        guard let host = c.smtpHost else { return nil }
        self.init(
            host: host, port: c.smtpPort, username: c.smtpUsername, password: c.smtpPassword, security: c.smtpTLS,
            caFile: c.smtpCAFile)
    }

    public enum Failure: Error, CustomStringConvertible {
        case connect(String)
        case rejected(step: String, reply: String)
        case io(String)
        case tls(String)
        /// An address no SMTP command may carry (line breaks, angle brackets, spaces): refused before connecting.
        case invalidAddress(String)

        public var description: String {
            switch self {
            case .connect(let s): "cannot connect to the SMTP relay: \(s)"
            case .rejected(let step, let reply): "the SMTP relay refused \(step): \(reply)"
            case .io(let s): "SMTP connection failed: \(s)"
            case .tls(let s): "SMTP TLS failed: \(s)"
            case .invalidAddress(let a): "refusing to send to or from \(a.debugDescription): not an e-mail address"
            }
        }

        /// Whether the recipient's mailbox refused for good, so that sending again cannot help: RFC 3463 mailbox
        /// and address statuses (5.1.x, 5.2.x), or a bare 550/551/553 to RCPT. Relay and policy refusals (5.7.x,
        /// "relay access denied") are the operator's to fix and stay retryable; so is everything else.
        public var isPermanent: Bool {
            switch self {
            case .invalidAddress: return true
            case .rejected(let step, let reply):
                guard reply.hasPrefix("5"), step.hasPrefix("the recipient") || step == "the message" else {
                    return false
                }
                if let status = reply.firstMatch(of: /\b5\.(\d{1,3})\.\d{1,3}\b/) {
                    return status.1 == "1" || status.1 == "2"
                }
                return step.hasPrefix("the recipient") && ["550", "551", "553"].contains(String(reply.prefix(3)))
            default: return false
            }
        }
    }

    /// TLS contexts by CA file, made once per process: loading the system's authorities costs milliseconds, which
    /// profiles showed as most of a notice's sending time.
    private static let contexts = Mutex<[String: NIOSSLContext]>([:])

    static func context(caFile: String?) throws(Failure) -> NIOSSLContext {
        let key = caFile ?? ""
        if let made = contexts.withLock({ $0[key] }) { return made }
        do {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.minimumTLSVersion = .tlsv12
            if let caFile { tls.additionalTrustRoots = [.file(caFile)] }
            let context = try NIOSSLContext(configuration: tls)
            contexts.withLock { $0[key] = context }
            return context
        } catch {
            throw .tls("cannot set up TLS: \(error)")
        }
    }

    /// Whether the relay runs on this machine (an address literal, never a name that merely starts with 127).
    var isLoopback: Bool {
        if host == "localhost" || host == "::1" || host == "[::1]" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    /// Sends one message (the full RFC 5322 text) to the recipients, with `from` as the envelope sender.
    public func send(from: String, to recipients: [String], message: String) async throws(Failure) {
        for a in [from] + recipients where !EmailAddress.isPlausible(a) { throw .invalidAddress(a) }
        let upgrades = security == .tls || (security == .starttls && (!isLoopback || caFile != nil))
        let tlsContext = upgrades ? try Self.context(caFile: caFile) : nil
        let serverName: String? = host.allSatisfy { $0.isNumber || $0 == "." } || host.contains(":") ? nil : host
        let implicitTLS = security == .tls
        let timeout = replyTimeout
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(30))
                .connect(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandlers([
                            IdleStateHandler(readTimeout: timeout), CloseWhenIdle(),
                        ])
                        if implicitTLS, let tlsContext {
                            try channel.pipeline.syncOperations.addHandler(
                                NIOSSLClientHandler(context: tlsContext, serverHostname: serverName), position: .first)
                        }
                        return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw .connect("\(host):\(port): \(error)")
        }
        do {
            try await channel.executeThenClose { inbound, outbound in
                var session = Session(inbound: inbound.makeAsyncIterator(), outbound: outbound)
                try await converse(
                    &session, channel: channel.channel, tlsContext: tlsContext, serverName: serverName,
                    from: from, recipients: recipients, message: message)
            }
        } catch let failure as Failure {
            throw failure
        } catch let error as NIOSSLError {
            throw .tls("\(error)")
        } catch let error as BoringSSLError {
            throw .tls("\(error)")
        } catch {
            throw .io("\(error)")
        }
    }

    private func converse(
        _ s: inout Session, channel: any Channel, tlsContext: NIOSSLContext?, serverName: String?, from: String,
        recipients: [String],
        message: String
    ) async throws {
        let greeting = try await s.reply()
        guard greeting.hasPrefix("2") else { throw Failure.rejected(step: "the connection", reply: greeting) }
        var ehlo = try await s.command("EHLO vigil", expect: "2", step: "EHLO")
        var encrypted = security == .tls
        if security == .starttls, let tlsContext {
            if ehlo.uppercased().contains("STARTTLS") {
                _ = try await s.command("STARTTLS", expect: "2", step: "STARTTLS")
                // Anything after the 220 arrived in clear and could be an attacker's (CVE-2011-0411): refuse it.
                guard s.buffer.isEmpty else { throw Failure.tls("the relay sent data after agreeing to STARTTLS") }
                try await channel.eventLoop.submit {
                    try channel.pipeline.syncOperations.addHandler(
                        NIOSSLClientHandler(context: tlsContext, serverHostname: serverName), position: .first)
                }.get()
                encrypted = true
                ehlo = try await s.command("EHLO vigil", expect: "2", step: "EHLO after STARTTLS")
            } else if !isLoopback {
                throw Failure.tls(
                    "the relay \(host):\(port) does not offer STARTTLS; set smtp_tls = tls for port 465, or none for a trusted network"
                )
            }
        }
        if let username, let password {
            guard encrypted || isLoopback else {
                throw Failure.tls(
                    "refusing to send the SMTP password unencrypted to \(host): use smtp_tls = starttls or tls")
            }
            let token = Data("\0\(username)\0\(password)".utf8).base64EncodedString()
            _ = try await s.command("AUTH PLAIN \(token)", expect: "2", step: "authentication")
        }
        _ = try await s.command("MAIL FROM:<\(from)>", expect: "2", step: "the sender")
        for r in recipients { _ = try await s.command("RCPT TO:<\(r)>", expect: "2", step: "the recipient \(r)") }
        _ = try await s.command("DATA", expect: "3", step: "DATA")
        let body = message.replacingOccurrences(of: "\r\n", with: "\n").split(
            separator: "\n", omittingEmptySubsequences: false
        )
        .map { $0.hasPrefix(".") ? "." + $0 : String($0) }.joined(separator: "\r\n")
        _ = try await s.command(body + "\r\n.", expect: "2", step: "the message")
        try? await s.write("QUIT\r\n")
    }

    /// One conversation: replies are read line by line (multi-line replies joined with " | ").
    private struct Session {
        var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
        let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
        var buffer: [UInt8] = []

        mutating func reply() async throws -> String {
            var lines: [String] = []
            while true {
                while let nl = buffer.firstIndex(of: 0x0A) {
                    let line = String(decoding: buffer[..<nl], as: UTF8.self).trimmingCharacters(
                        in: .whitespacesAndNewlines)
                    buffer.removeSubrange(...nl)
                    lines.append(line)
                    if line.count < 4 || line[line.index(line.startIndex, offsetBy: 3)] != "-" {
                        return lines.joined(separator: " | ")
                    }
                }
                // The idle handler closes a connection that stays silent too long, which ends the stream.
                guard let chunk = try await inbound.next() else {
                    throw Failure.io("the relay closed the connection or did not answer in time")
                }
                buffer += chunk.readableBytesView
            }
        }

        func write(_ text: String) async throws {
            try await outbound.write(ByteBuffer(string: text))
        }

        mutating func command(_ text: String, expect: Character, step: String) async throws -> String {
            try await write(text + "\r\n")
            let reply = try await reply()
            guard reply.first == expect else { throw Failure.rejected(step: step, reply: reply) }
            return reply
        }
    }
}

/// Closes a connection on which nothing arrived for the idle handler's read timeout.
private final class CloseWhenIdle: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}
