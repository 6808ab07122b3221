import Foundation

/// Hashes and checks passwords (bcrypt in the server). Injected so the store stays framework-free.
public protocol PasswordHashing: Sendable {
    func hash(_ password: String) throws -> String
    func verify(_ password: String, against hash: String) throws -> Bool
}

/// Rules for names and passwords, checked at the edge.
public enum AccountRules {
    /// Lower-case letters, digits, dot, dash and underscore; 2 to 32 characters, starting with a letter or digit.
    public static func validateUsername(_ name: String) -> String? {
        let ok =
            name.count >= 2 && name.count <= 32
            && name.unicodeScalars.allSatisfy {
                ("a"..."z").contains($0) || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0)
            }
            && name.unicodeScalars.first.map { ("a"..."z").contains($0) || ("0"..."9").contains($0) } == true
        return ok
            ? nil
            : "username must be 2–32 characters: lower-case letters, digits, '.', '-' or '_', starting with a letter or digit"
    }

    /// At least 12 characters and not all the same character; at most 256.
    public static func validatePassword(_ password: String) -> String? {
        if password.count < 12 { return "password must be at least 12 characters long" }
        if password.count > 256 { return "password must be at most 256 characters long" }
        if Set(password).count < 4 { return "password is too simple" }
        return nil
    }

    /// Ten recovery codes shown once at enrolment, like `7kq4-m2xd-9fhp`.
    public static func recoveryCodes(using tokens: some TokenSource, count: Int = 10) -> [String] {
        let alphabet = Array("abcdefghjkmnpqrstuvwxyz23456789")
        return (0..<count).map { _ in
            let bytes = tokens.randomBytes(12)
            let chars = bytes.map { alphabet[Int($0) % alphabet.count] }
            return [chars[0..<4], chars[4..<8], chars[8..<12]].map { String($0) }.joined(separator: "-")
        }
    }

    /// Normalises a typed recovery code (case, spaces) before hashing.
    public static func normaliseRecoveryCode(_ code: String) -> String {
        let c = code.lowercased().filter { $0.isLetter || $0.isNumber }
        guard c.count == 12 else { return c }
        let a = Array(c)
        return String(a[0..<4]) + "-" + String(a[4..<8]) + "-" + String(a[8..<12])
    }
}
