import Foundation

/// Where a sign-in may send someone afterwards: only a path on this site. Browsers forgive a great deal in a
/// `Location` (a tab or newline is dropped, a backslash is a slash, `/\t/evil.example/` is another host), so the
/// path is refused when, raw or percent-decoded, it starts with anything but one slash, holds `//` or a backslash,
/// or holds a control or whitespace character.
public enum LocalRedirect {
    public static func path(_ next: String?) -> String? {
        guard let raw = next, raw.hasPrefix("/"), let decoded = raw.removingPercentEncoding else { return nil }
        for text in [raw, decoded] {
            guard !text.contains("//"), !text.contains("\\"),
                !text.unicodeScalars.contains(where: {
                    $0.value < 0x21 || $0.value == 0x7F || $0.properties.isWhitespace
                        || $0.properties.generalCategory == .format || $0.properties.generalCategory == .control
                })
            else { return nil }
        }
        return raw
    }
}
