import Foundation

/// Where time comes from. Libraries take one of these instead of calling `Date()`,
/// so expiry, lockouts and rechecks can be tested without sleeping.
public protocol VigilClock: Sendable {
    /// The current instant.
    func now() -> Date
}

/// The wall clock.
public struct SystemClock: VigilClock {
    public init() {}
    public func now() -> Date { Date() }
}

/// A clock that only moves when told to; for tests and replays.
public final class ManualClock: VigilClock, @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date

    /// Starts at `start`.
    public init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) { current = start }

    public func now() -> Date { lock.withLock { current } }

    /// Moves the clock forward by `interval` seconds.
    public func advance(by interval: TimeInterval) { lock.withLock { current += interval } }

    /// Sets the clock to `date`.
    public func set(_ date: Date) { lock.withLock { current = date } }
}

/// Where random tokens come from.
public protocol TokenSource: Sendable {
    /// `count` cryptographically random bytes.
    func randomBytes(_ count: Int) -> [UInt8]
}

/// Tokens from the system's CSPRNG.
public struct SystemTokenSource: TokenSource {
    public init() {}
    public func randomBytes(_ count: Int) -> [UInt8] {
        var g = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &g) }
    }
}

extension TokenSource {
    /// `bytes` random bytes as lower-case hex (for tokens that must survive case folding, such as a mail local part).
    public func hexToken(bytes: Int) -> String {
        randomBytes(bytes).map { String(format: "%02x", $0) }.joined()
    }

    /// A URL-safe token of `bytes` random bytes (base64url, no padding).
    public func urlSafeToken(bytes: Int = 32) -> String {
        Data(randomBytes(bytes)).base64URLEncoded()
    }
}

extension Data {
    /// Base64url without padding (RFC 4648 §5), for tokens in URLs and cookies.
    public func base64URLEncoded() -> String {
        base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
