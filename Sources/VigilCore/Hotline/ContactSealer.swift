import Crypto
import Foundation

/// Encrypts reporters' contact details at rest with AES-256-GCM.
///
/// Each sealed value is bound to its report: the report's identifier is the associated data, so a sealed contact
/// copied onto another report's row does not open. Layout: one version byte (`1`), the 12-byte nonce, the
/// ciphertext and the 16-byte tag.
public struct ContactSealer: Sendable {
    /// The format version written in front of every sealed value.
    public static let version: UInt8 = 1
    /// Bytes added to the UTF-8 contact: version, nonce and tag.
    public static let overhead = 1 + 12 + 16

    private let key: SymmetricKey
    private let tokens: any TokenSource

    /// - Parameters:
    ///   - key: a 256-bit key (see ``loadOrCreateKey(at:tokens:)``).
    ///   - tokens: where nonces come from.
    /// - Throws: ``ContactSealerError/wrongKeySize(_:)`` for a key of another size.
    public init(key: SymmetricKey, tokens: any TokenSource = SystemTokenSource()) throws(ContactSealerError) {
        guard key.bitCount == 256 else { throw .wrongKeySize(key.bitCount) }
        self.key = key
        self.tokens = tokens
    }

    /// A sealer from the key's 32 raw bytes (callers need not import Crypto).
    /// - Throws: ``ContactSealerError/wrongKeySize(_:)`` unless `rawKey` has 32 bytes.
    public init(rawKey: Data, tokens: any TokenSource = SystemTokenSource()) throws(ContactSealerError) {
        try self.init(key: SymmetricKey(data: rawKey), tokens: tokens)
    }

    /// A key for another purpose (`"csrf"`), derived from this one with HKDF-SHA-256, so the data folder holds one
    /// secret and every process of an installation derives the same keys.
    public func derivedKey(purpose: String) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(
            inputKeyMaterial: key, info: Data("vigil \(purpose)".utf8), outputByteCount: 32)
    }

    /// Encrypts `contact` for the report `reportID`.
    public func seal(_ contact: String, reportID: String) throws(ContactSealerError) -> Data {
        do {
            let nonce = try AES.GCM.Nonce(data: tokens.randomBytes(12))
            let box = try AES.GCM.seal(
                Data(contact.utf8), using: key, nonce: nonce, authenticating: Data(reportID.utf8))
            var out = Data([Self.version])
            out.append(contentsOf: nonce)
            out.append(box.ciphertext)
            out.append(box.tag)
            return out
        } catch {
            throw .sealFailed
        }
    }

    /// Decrypts a value sealed for the report `reportID`.
    /// - Throws: ``ContactSealerError/malformed`` for a value too short or of an unknown version,
    ///   ``ContactSealerError/authenticationFailed`` when the key, the report or the bytes do not match.
    public func open(_ sealed: Data, reportID: String) throws(ContactSealerError) -> String {
        let bytes = [UInt8](sealed)
        guard bytes.count >= Self.overhead, bytes[0] == Self.version else { throw .malformed }
        do {
            let box = try AES.GCM.SealedBox(
                nonce: AES.GCM.Nonce(data: bytes[1..<13]), ciphertext: bytes[13..<(bytes.count - 16)],
                tag: bytes[(bytes.count - 16)...])
            let plain = try AES.GCM.open(box, using: key, authenticating: Data(reportID.utf8))
            guard let text = String(data: plain, encoding: .utf8) else { throw ContactSealerError.malformed }
            return text
        } catch {
            throw .authenticationFailed
        }
    }

    /// Loads the contact key at `path` (base64 between marker lines), or creates a random one there, readable by the
    /// owner only (mode 0600), creating the folder if needed.
    /// - Returns: the key and whether it was created now.
    /// - Throws: ``ContactSealerError/unreadableKey(_:)`` or ``ContactSealerError/unwritableKey(_:)``.
    public static func loadOrCreateKey(
        at path: String, tokens: any TokenSource = SystemTokenSource()
    ) throws(ContactSealerError) -> (key: SymmetricKey, created: Bool) {
        let fm = FileManager.default
        if let data = fm.contents(atPath: path) {
            let text = String(decoding: data, as: UTF8.self)
            let body = text.split(whereSeparator: \.isNewline).filter { !$0.hasPrefix("-----") }.joined()
            guard let raw = Data(base64Encoded: body), raw.count == 32 else { throw .unreadableKey(path) }
            return (SymmetricKey(data: raw), false)
        }
        let raw = tokens.randomBytes(32)
        guard raw.count == 32 else { throw .unwritableKey(path) }
        let pem =
            "-----BEGIN VIGIL CONTACT KEY-----\n\(Data(raw).base64EncodedString())\n-----END VIGIL CONTACT KEY-----\n"
        let dir = (path as NSString).deletingLastPathComponent
        do {
            if !dir.isEmpty { try fm.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        } catch {
            throw .unwritableKey(path)
        }
        guard fm.createFile(atPath: path, contents: Data(pem.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw .unwritableKey(path)
        }
        return (SymmetricKey(data: raw), true)
    }
}

/// Contact details could not be sealed or opened, or the key could not be loaded.
public enum ContactSealerError: Error, Sendable, Equatable, CustomStringConvertible {
    case wrongKeySize(Int)
    case sealFailed
    case malformed
    case authenticationFailed
    case unreadableKey(String)
    case unwritableKey(String)

    /// A message for the operator; it never contains contact details.
    public var description: String {
        switch self {
        case .wrongKeySize(let bits): "the contact key must have 256 bits, not \(bits)"
        case .sealFailed: "contact details could not be encrypted"
        case .malformed: "the sealed contact details are damaged or of an unknown version"
        case .authenticationFailed:
            "the sealed contact details do not open with this key for this report (wrong key, report or damaged data)"
        case .unreadableKey(let p):
            "the contact key at \(p) cannot be read; restore it from backup (without it no stored contact opens)"
        case .unwritableKey(let p): "cannot write the contact key to \(p); check the data folder's permissions"
        }
    }
}

/// How long reporters' contact details are kept: by default until 90 days after their case closes.
public struct ContactRetention: Sendable, Equatable {
    /// The default period: 90 days.
    public static let defaultPeriod: TimeInterval = 90 * 86_400

    /// Time after closing before contact details are deleted.
    public var period: TimeInterval

    /// A rule keeping contact details `period` seconds after the case closes.
    public init(period: TimeInterval = ContactRetention.defaultPeriod) { self.period = period }

    /// When contact details of a case closed at `closedAt` must be deleted; nil while the case is open.
    public func deletionDue(closedAt: Date?) -> Date? { closedAt.map { $0.addingTimeInterval(period) } }

    /// Whether contact details of a case closed at `closedAt` must be deleted by `time`.
    public func mustDelete(closedAt: Date?, at time: Date) -> Bool {
        guard let due = deletionDue(closedAt: closedAt) else { return false }
        return due <= time
    }
}
