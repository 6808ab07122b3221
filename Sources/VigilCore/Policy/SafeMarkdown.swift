import Foundation

/// A small, strict Markdown subset for texts staff write for the public (awareness pages), rendered to HTML that
/// cannot carry markup of its own.
///
/// Understood: headings (`#` … `######`), paragraphs, bulleted (`-`, `*`) and numbered (`1.`) lists, `**strong**`,
/// `*emphasis*` / `_emphasis_`, `` `code` ``, backslash escapes and links `[text](target)` whose target is
/// `http:`, `https:`, `mailto:` or relative (`/report`, `#top`, `page`). Everything else is text: `<`, `>`, `&` and
/// quotation marks are escaped, raw HTML is shown as written, and a link to any other scheme (`javascript:`,
/// `data:`, `vbscript:`, …) keeps only its text.
public enum SafeMarkdown {
    /// The HTML for `markdown`.
    public static func render(_ markdown: String) -> String {
        var out = ""
        var paragraph: [Substring] = []
        var list: (ordered: Bool, items: [Substring])?

        func flushParagraph() {
            guard !paragraph.isEmpty else { return }
            out +=
                "<p>" + inline(paragraph.map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: "\n"))
                + "</p>\n"
            paragraph = []
        }
        func flushList() {
            guard let l = list else { return }
            let tag = l.ordered ? "ol" : "ul"
            out += "<\(tag)>\n" + l.items.map { "<li>" + inline(String($0)) + "</li>\n" }.joined() + "</\(tag)>\n"
            list = nil
        }

        let lines = markdown.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
            .split(separator: "\n", omittingEmptySubsequences: false)
        for raw in lines {
            let line = raw.drop(while: { $0 == " " || $0 == "\t" })
            if line.isEmpty {
                flushParagraph()
                flushList()
                continue
            }
            if let (level, text) = heading(line) {
                flushParagraph()
                flushList()
                out += "<h\(level)>" + inline(String(text)) + "</h\(level)>\n"
                continue
            }
            if let (ordered, text) = listItem(line) {
                flushParagraph()
                if let l = list, l.ordered != ordered { flushList() }
                if list == nil { list = (ordered, []) }
                list?.items.append(text)
                continue
            }
            if var l = list, raw.first == " " || raw.first == "\t", let last = l.items.popLast() {
                // An indented line continues the list item above it.
                l.items.append(Substring(String(last) + "\n" + line))
                list = l
                continue
            }
            flushList()
            paragraph.append(line)
        }
        flushParagraph()
        flushList()
        return out
    }

    /// Escapes text for HTML element content and attribute values.
    public static func escape(_ text: some StringProtocol) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for c in text.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// Whether a link target is allowed: `http:`, `https:`, `mailto:` or relative, with no spaces or control
    /// characters (which browsers strip, so that `java\tscript:` would otherwise slip through).
    public static func isSafeLink(_ target: String) -> Bool {
        guard !target.isEmpty, target.utf8.count <= 2048 else { return false }
        guard target.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F && $0 != "\\" }) else {
            return false
        }
        // A scheme is what comes before the first ':' when no '/', '?' or '#' precedes it.
        if let colon = target.firstIndex(of: ":"),
            !target[..<colon].contains(where: { $0 == "/" || $0 == "?" || $0 == "#" })
        {
            let scheme = target[..<colon].lowercased()
            return scheme == "http" || scheme == "https" || scheme == "mailto"
        }
        // "//host/…" is another site with the page's scheme: allowed only as an explicit http(s) link.
        return !target.hasPrefix("//")
    }

    // MARK: - blocks

    private static func heading(_ line: Substring) -> (Int, Substring)? {
        let hashes = line.prefix(while: { $0 == "#" })
        guard (1...6).contains(hashes.count) else { return nil }
        let rest = line.dropFirst(hashes.count)
        guard rest.first == " " || rest.first == "\t" else { return nil }
        var text = rest.trimmingCharacters(in: .whitespaces)[...]
        while text.hasSuffix("#") { text = text.dropLast() }
        return (hashes.count, Substring(text.trimmingCharacters(in: .whitespaces)))
    }

    private static func listItem(_ line: Substring) -> (Bool, Substring)? {
        if (line.hasPrefix("- ") || line.hasPrefix("* ") || line.hasPrefix("+ ")) && line.count > 2 {
            return (false, line.dropFirst(2))
        }
        let digits = line.prefix(while: { $0.isASCII && $0.isNumber })
        guard (1...9).contains(digits.count) else { return nil }
        let rest = line.dropFirst(digits.count)
        guard rest.hasPrefix(". ") || rest.hasPrefix(") ") else { return nil }
        return (true, rest.dropFirst(2))
    }

    // MARK: - inline

    private static let escapable: Set<Character> = [
        "\\", "`", "*", "_", "[", "]", "(", ")", "#", "-", "+", ".", "!", "{", "}",
    ]

    static func inline(_ text: String, links: Bool = true) -> String {
        let chars = Array(text)
        var out = ""
        var i = 0
        func find(_ marker: [Character], from start: Int) -> Int? {
            var j = start
            while j + marker.count <= chars.count {
                if chars[j] == "\\" { j += 2; continue }
                if Array(chars[j..<(j + marker.count)]) == marker { return j }
                j += 1
            }
            return nil
        }
        while i < chars.count {
            let c = chars[i]
            if c == "\\", i + 1 < chars.count, escapable.contains(chars[i + 1]) {
                out += escape(String(chars[i + 1]))
                i += 2
                continue
            }
            if c == "`", let end = find(["`"], from: i + 1), end > i + 1 {
                out += "<code>" + escape(String(chars[(i + 1)..<end])) + "</code>"
                i = end + 1
                continue
            }
            if c == "*", i + 1 < chars.count, chars[i + 1] == "*", let end = find(["*", "*"], from: i + 2), end > i + 2
            {
                out += "<strong>" + inline(String(chars[(i + 2)..<end]), links: links) + "</strong>"
                i = end + 2
                continue
            }
            if c == "*" || c == "_" {
                let wordBefore = i > 0 && (chars[i - 1].isLetter || chars[i - 1].isNumber)
                if !(c == "_" && wordBefore), i + 1 < chars.count, chars[i + 1] != " ",
                    let end = find([c], from: i + 1), end > i + 1, chars[end - 1] != " ",
                    !(c == "_" && end + 1 < chars.count && (chars[end + 1].isLetter || chars[end + 1].isNumber))
                {
                    out += "<em>" + inline(String(chars[(i + 1)..<end]), links: links) + "</em>"
                    i = end + 1
                    continue
                }
            }
            if c == "[", links, let close = find(["]"], from: i + 1), close + 1 < chars.count, chars[close + 1] == "(",
                let paren = find([")"], from: close + 2)
            {
                let label = inline(String(chars[(i + 1)..<close]), links: false)
                let target = String(chars[(close + 2)..<paren]).trimmingCharacters(in: .whitespaces)
                if isSafeLink(target) {
                    let external = target.lowercased().hasPrefix("http")
                    out +=
                        "<a href=\"\(escape(target))\"" + (external ? " rel=\"noopener noreferrer\"" : "")
                        + ">\(label)</a>"
                } else {
                    out += label
                }
                i = paren + 1
                continue
            }
            out += escape(String(c))
            i += 1
        }
        return out
    }

    /// The text of the first level-1 heading, for a page title.
    public static func title(of markdown: String) -> String? {
        for raw in markdown.split(separator: "\n") {
            let line = raw.drop(while: { $0 == " " })
            if let (level, text) = heading(line), level == 1 { return plain(String(text)) }
        }
        return nil
    }

    /// Text without Markdown markers (for titles and summaries).
    public static func plain(_ text: String) -> String {
        var s = text
        for m in ["**", "`"] { s = s.replacingOccurrences(of: m, with: "") }
        return s
    }
}
