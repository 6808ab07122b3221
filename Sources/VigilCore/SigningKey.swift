import Crypto
import Foundation

/// The server's Ed25519 key, which signs published list versions. Created on first start in the data folder
/// (`signing-key.pem`, readable by the owner only) and loaded on every start after.
public struct SigningKey: Sendable {
    public let privateKey: Curve25519.Signing.PrivateKey

    /// The public key as PEM-like base64 text for partners.
    public var publicKeyBase64: String { privateKey.publicKey.rawRepresentation.base64EncodedString() }

    /// Loads the key at `path`, or creates one there.
    /// - Returns: the key and whether it was created now.
    public static func loadOrCreate(at path: String) throws -> (SigningKey, created: Bool) {
        let fm = FileManager.default
        if let data = fm.contents(atPath: path) {
            let text = String(decoding: data, as: UTF8.self)
            let body = text.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
            guard let raw = Data(base64Encoded: body),
                let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw)
            else {
                throw SigningKeyError.unreadable(path)
            }
            return (SigningKey(privateKey: key), false)
        }
        let key = Curve25519.Signing.PrivateKey()
        let pem =
            "-----BEGIN VIGIL ED25519 PRIVATE KEY-----\n\(key.rawRepresentation.base64EncodedString())\n-----END VIGIL ED25519 PRIVATE KEY-----\n"
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try fm.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        guard fm.createFile(atPath: path, contents: Data(pem.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw SigningKeyError.unwritable(path)
        }
        return (SigningKey(privateKey: key), true)
    }
}

/// The signing key could not be loaded or saved.
public enum SigningKeyError: Error, CustomStringConvertible {
    case unreadable(String)
    case unwritable(String)

    public var description: String {
        switch self {
        case .unreadable(let p):
            "the signing key at \(p) cannot be read; restore it from backup (deleting it invalidates published feeds' signatures)"
        case .unwritable(let p): "cannot write the signing key to \(p); check the data folder's permissions"
        }
    }
}
