import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A small SMTP client for a relay the operator runs (RFC 5321: EHLO, AUTH PLAIN when configured, MAIL, RCPT,
/// DATA with dot-stuffing, QUIT). Blocking; callers run it off the event loops. STARTTLS is not spoken: point it at
/// a local relay (Postfix, an MTA on the same host or network) that handles TLS onwards.
struct SMTPClient: Sendable {
    let host: String
    let port: Int
    let username: String?
    let password: String?
    let timeout: Int = 30

    enum Failure: Error, CustomStringConvertible {
        case connect(String)
        case rejected(step: String, reply: String)
        case io(String)

        var description: String {
            switch self {
            case .connect(let s): "cannot connect to the SMTP relay: \(s)"
            case .rejected(let step, let reply): "the SMTP relay refused \(step): \(reply)"
            case .io(let s): "SMTP connection failed: \(s)"
            }
        }

        /// 5xx replies are permanent; everything else may succeed later.
        var isPermanent: Bool {
            if case .rejected(_, let reply) = self { return reply.hasPrefix("5") }
            return false
        }
    }

    /// Sends one message (the full RFC 5322 text) to the recipients.
    func send(from: String, to recipients: [String], message: String) throws(Failure) {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else { throw .connect("cannot resolve \(host)") }
        defer { freeaddrinfo(list) }
        var fd: Int32 = -1
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let ai = cursor {
            fd = socket(ai.pointee.ai_family, ai.pointee.ai_socktype, ai.pointee.ai_protocol)
            if fd >= 0 {
                var tv = timeval(tv_sec: timeout, tv_usec: 0)
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                if connect(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0 { break }
                close(fd)
                fd = -1
            }
            cursor = ai.pointee.ai_next
        }
        guard fd >= 0 else { throw .connect("\(host):\(port): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var buffer: [UInt8] = []

        func readReply() throws(Failure) -> String {
            var lines: [String] = []
            while true {
                while let nl = buffer.firstIndex(of: 0x0A) {
                    let line = String(decoding: buffer[..<nl], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                    buffer.removeSubrange(...nl)
                    lines.append(line)
                    if line.count < 4 || line[line.index(line.startIndex, offsetBy: 3)] != "-" { return lines.joined(separator: " | ") }
                }
                var chunk = [UInt8](repeating: 0, count: 4096)
                let n = recv(fd, &chunk, chunk.count, 0)
                guard n > 0 else { throw .io(n == 0 ? "the relay closed the connection" : String(cString: strerror(errno))) }
                buffer += chunk[..<n]
            }
        }
        func write(_ text: String) throws(Failure) {
            var bytes = Array(text.utf8)
            var sent = 0
            while sent < bytes.count {
                let n = bytes.withUnsafeMutableBytes { Glibc.send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
                guard n > 0 else { throw .io(String(cString: strerror(errno))) }
                sent += n
            }
            bytes.removeAll()
        }
        func command(_ text: String, expect: Character, step: String) throws(Failure) {
            try write(text + "\r\n")
            let reply = try readReply()
            guard reply.first == expect else { throw .rejected(step: step, reply: reply) }
        }

        let greeting = try readReply()
        guard greeting.hasPrefix("2") else { throw .rejected(step: "the connection", reply: greeting) }
        try command("EHLO vigil", expect: "2", step: "EHLO")
        if let username, let password {
            let token = Data("\0\(username)\0\(password)".utf8).base64EncodedString()
            try command("AUTH PLAIN \(token)", expect: "2", step: "authentication")
        }
        try command("MAIL FROM:<\(from)>", expect: "2", step: "the sender")
        for r in recipients { try command("RCPT TO:<\(r)>", expect: "2", step: "the recipient \(r)") }
        try command("DATA", expect: "3", step: "DATA")
        let body = message.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasPrefix(".") ? "." + $0 : String($0) }.joined(separator: "\r\n")
        try command(body + "\r\n.", expect: "2", step: "the message")
        try? write("QUIT\r\n")
    }
}
