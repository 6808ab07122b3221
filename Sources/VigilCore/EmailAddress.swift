/// E-mail addresses as Vigil stores and sends to them.
public enum EmailAddress {
    /// Whether `text` can be an address: one `@` with something on each side, at most 320 characters, and nothing
    /// that could break out of an SMTP command or a header (line breaks, controls, spaces, angle brackets, quotes,
    /// backslashes). Deliverability is the relay's to judge.
    public static func isPlausible(_ text: String) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 320 else { return false }
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return false }
        return !text.unicodeScalars.contains {
            $0.value < 0x21 || $0.value == 0x7F || "<>\\\"".unicodeScalars.contains($0)
        }
    }
}
