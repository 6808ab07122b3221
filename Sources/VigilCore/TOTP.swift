import Crypto
import Foundation

/// RFC 4648 base32 (no padding on output; padding and lower case accepted on input).
public enum Base32 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)

    /// Encodes bytes as upper-case base32 without padding.
    public static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for b in bytes {
            buffer = (buffer << 8) | UInt32(b)
            bits += 8
            while bits >= 5 {
                out.append(alphabet[Int((buffer >> UInt32(bits - 5)) & 31)])
                bits -= 5
            }
        }
        if bits > 0 { out.append(alphabet[Int((buffer << UInt32(5 - bits)) & 31)]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes base32, ignoring spaces, hyphens and `=` padding; `nil` on any other character.
    public static func decode(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for c in text.uppercased().utf8 {
            if c == 32 || c == 45 || c == 61 { continue }
            guard let v = alphabet.firstIndex(of: c) else { return nil }
            buffer = (buffer << 5) | UInt32(v)
            bits += 5
            if bits >= 8 {
                out.append(UInt8((buffer >> UInt32(bits - 8)) & 0xFF))
                bits -= 8
            }
        }
        return out
    }
}

/// Time-based one-time passwords (RFC 6238: HMAC-SHA-1, 30-second steps, 6 digits),
/// as every authenticator app computes them.
public struct TOTP: Sendable, Equatable {
    /// The shared secret.
    public let secret: [UInt8]
    public let digits: Int
    public let period: TimeInterval

    public init(secret: [UInt8], digits: Int = 6, period: TimeInterval = 30) {
        self.secret = secret
        self.digits = digits
        self.period = period
    }

    /// A new 160-bit secret.
    public static func generate(using tokens: some TokenSource) -> TOTP {
        TOTP(secret: tokens.randomBytes(20))
    }

    /// The secret in base32, as typed into an authenticator by hand.
    public var base32Secret: String { Base32.encode(secret) }

    /// The RFC 6238 time step of `date`.
    public func counter(at date: Date) -> UInt64 {
        UInt64(max(0, date.timeIntervalSince1970) / period)
    }

    /// The code for time step `counter` (RFC 4226 HOTP).
    public func code(counter: UInt64) -> String {
        var big = counter.bigEndian
        let message = withUnsafeBytes(of: &big) { Data($0) }
        let mac = Array(HMAC<Insecure.SHA1>.authenticationCode(for: message, using: SymmetricKey(data: secret)))
        let offset = Int(mac[mac.count - 1] & 0x0F)
        let binary =
            (UInt32(mac[offset] & 0x7F) << 24) | (UInt32(mac[offset + 1]) << 16)
            | (UInt32(mac[offset + 2]) << 8) | UInt32(mac[offset + 3])
        var modulus: UInt32 = 1
        for _ in 0..<digits { modulus *= 10 }
        let value = String(binary % modulus)
        return String(repeating: "0", count: digits - value.count) + value
    }

    /// The code at `date`.
    public func code(at date: Date) -> String { code(counter: counter(at: date)) }

    /// The time step a submitted code matches, allowing `window` steps of clock drift either side;
    /// `nil` when it matches none. Callers store the step and refuse a step already used (replay).
    public func matchingCounter(for submitted: String, at date: Date, window: Int = 1) -> UInt64? {
        let cleaned = submitted.filter { !$0.isWhitespace }
        guard cleaned.count == digits, cleaned.allSatisfy(\.isASCII), cleaned.allSatisfy(\.isNumber) else {
            return nil
        }
        let now = Int64(counter(at: date))
        for delta in -Int64(window)...Int64(window) {
            let c = now + delta
            guard c >= 0 else { continue }
            if constantTimeEquals(code(counter: UInt64(c)), cleaned) { return UInt64(c) }
        }
        return nil
    }

    /// The `otpauth://` URI that authenticator apps read from a QR code.
    public func provisioningURI(account: String, issuer: String) -> String {
        func enc(_ s: String) -> String {
            s.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? s
        }
        return "otpauth://totp/\(enc(issuer)):\(enc(account))?secret=\(base32Secret)&issuer=\(enc(issuer))"
            + "&algorithm=SHA1&digits=\(digits)&period=\(Int(period))"
    }
}

/// Compares two strings in time that depends only on their lengths.
public func constantTimeEquals(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8)
    let y = Array(b.utf8)
    guard x.count == y.count else { return false }
    var diff: UInt8 = 0
    for i in 0..<x.count { diff |= x[i] ^ y[i] }
    return diff == 0
}

/// SHA-256 of a string, as lowercase hex: how tokens and keys are stored.
public func sha256Hex(_ text: String) -> String {
    SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
}
