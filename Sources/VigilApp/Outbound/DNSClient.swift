import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A small DNS client (RFC 1035 over UDP) for the configured resolver: A and AAAA answers and the CNAME chain.
public struct DNSClient: Sendable {
    public let server: String
    public let port: UInt16

    public init(server: String, port: UInt16) {
        self.server = server
        self.port = port
    }

    /// The resolver: `host:port`, or the first nameserver in /etc/resolv.conf.
    public static func configured(_ text: String?) -> DNSClient {
        if let text, !text.isEmpty {
            let parts = text.split(separator: ":")
            return DNSClient(server: String(parts[0]), port: parts.count > 1 ? UInt16(parts[1]) ?? 53 : 53)
        }
        let conf = (try? String(contentsOfFile: "/etc/resolv.conf", encoding: .utf8)) ?? ""
        let ns = conf.split(separator: "\n").first { $0.hasPrefix("nameserver ") }.map {
            String($0.dropFirst(11)).trimmingCharacters(in: .whitespaces)
        }
        return DNSClient(server: ns ?? "127.0.0.1", port: 53)
    }

    public struct Answer: Sendable, Equatable {
        public var cnames: [String] = []
        public var addresses: [String] = []
        public var nxdomain = false
    }

    public enum Failure: Error { case network(String), malformed }

    /// A and AAAA for `name`, with the CNAME chain the resolver reported.
    public func resolve(_ name: String) throws(Failure) -> Answer {
        var out = Answer()
        for type in [UInt16(1), 28] {
            let a = try query(name, type: type)
            out.nxdomain = out.nxdomain || a.nxdomain
            for c in a.cnames where !out.cnames.contains(c) { out.cnames.append(c) }
            out.addresses += a.addresses
        }
        return out
    }

    public func query(_ name: String, type: UInt16) throws(Failure) -> Answer {
        var packet: [UInt8] = [0x56, 0x49, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]
        for label in name.split(separator: ".") where !label.isEmpty {
            let bytes = Array(label.utf8.prefix(63))
            packet.append(UInt8(bytes.count))
            packet += bytes
        }
        packet += [0, UInt8(type >> 8), UInt8(type & 0xFF), 0, 1]
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw .network("socket") }
        defer { close(fd) }
        var tv = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        guard inet_pton(AF_INET, server, &addr.sin_addr) == 1 else {
            throw .network("resolver \(server) is not an IPv4 address")
        }
        // A connected socket: a resolver that is not there answers "refused" at once instead of a time-out.
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0, send(fd, packet, packet.count, 0) == packet.count else {
            throw .network("cannot reach the resolver \(server):\(port)")
        }
        var buf = [UInt8](repeating: 0, count: 4096)
        let n = recv(fd, &buf, buf.count, 0)
        guard n >= 12 else { throw .network("no answer from the resolver \(server):\(port)") }
        return try Self.parse(Array(buf[..<n]))
    }

    public static func parse(_ d: [UInt8]) throws(Failure) -> Answer {
        func u16(_ i: Int) throws(Failure) -> Int {
            guard i + 1 < d.count else { throw .malformed }
            return Int(d[i]) << 8 | Int(d[i + 1])
        }
        func name(_ start: Int) throws(Failure) -> (String, Int) {
            var labels: [String] = [], i = start, end = -1, jumps = 0
            while true {
                guard i < d.count else { throw .malformed }
                let len = Int(d[i])
                if len == 0 { i += 1; break }
                if len & 0xC0 == 0xC0 {
                    guard i + 1 < d.count, jumps < 20 else { throw .malformed }
                    if end < 0 { end = i + 2 }
                    i = (len & 0x3F) << 8 | Int(d[i + 1])
                    jumps += 1
                    continue
                }
                guard i + 1 + len <= d.count else { throw .malformed }
                labels.append(String(decoding: d[(i + 1)...(i + len)], as: UTF8.self))
                i += 1 + len
            }
            return (labels.joined(separator: ".").lowercased(), end >= 0 ? end : i)
        }
        var out = Answer()
        out.nxdomain = (d[3] & 0x0F) == 3
        let qd = try u16(4), an = try u16(6)
        var i = 12
        for _ in 0..<qd { i = try name(i).1 + 4 }
        for _ in 0..<an {
            i = try name(i).1
            let type = try u16(i), rdlen = try u16(i + 8)
            i += 10
            guard i + rdlen <= d.count else { throw .malformed }
            switch type {
            case 1 where rdlen == 4: out.addresses.append(d[i..<(i + 4)].map(String.init).joined(separator: "."))
            case 28 where rdlen == 16:
                var a = in6_addr()
                withUnsafeMutableBytes(of: &a) { $0.copyBytes(from: d[i..<(i + 16)]) }
                var text = [CChar](repeating: 0, count: 64)
                inet_ntop(AF_INET6, &a, &text, 64)
                out.addresses.append(String(cString: text))
            case 5: out.cnames.append(try name(i).0)
            default: break
            }
            i += rdlen
        }
        return out
    }
}
