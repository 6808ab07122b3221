import Foundation

/// Which way text runs in a language.
public enum TextDirection: String, Sendable, Codable {
    case ltr
    case rtl

    /// Languages written right to left (by primary subtag), unless a script subtag says otherwise.
    public static let rightToLeftLanguages: Set<String> = [
        "ar", "arc", "ckb", "dv", "fa", "he", "iw", "ks", "ku-arab", "ps", "sd", "ug", "ur", "yi",
    ]
    /// Right-to-left scripts (ISO 15924, lower case).
    public static let rightToLeftScripts: Set<String> = ["arab", "hebr", "syrc", "thaa", "nkoo", "adlm", "rohg"]

    /// The direction of a language tag: `ar`, `ar-EG`, `he`, `fa`, `ur` and tags with an Arabic or Hebrew script
    /// subtag (`az-Arab`) are right to left; `ku-Latn` and everything else left to right.
    public static func of(language tag: String) -> TextDirection {
        let parts = tag.lowercased().split(whereSeparator: { $0 == "-" || $0 == "_" }).map(String.init)
        guard let primary = parts.first else { return .ltr }
        if parts.count > 1, parts[1].count == 4 {
            return rightToLeftScripts.contains(parts[1]) ? .rtl : .ltr
        }
        return rightToLeftLanguages.contains(primary) ? .rtl : .ltr
    }
}

/// Language tags (BCP 47), as far as the hotline needs them.
public enum LanguageTag {
    /// The tag in its usual case (`fr-CA`, `zh-Hant-TW`, `es-419`), with `_` read as `-`; nil when it is not made of
    /// 1 to 8 ASCII letters and digits per subtag with a 2–3 letter (or `i`/`x`) primary subtag.
    public static func normalize(_ text: String) -> String? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, trimmed.utf8.count <= 35 else { return nil }
        let parts = trimmed.split(separator: "-", omittingEmptySubsequences: false).flatMap {
            $0.split(separator: "_", omittingEmptySubsequences: false)
        }
        var out: [String] = []
        for (i, part) in parts.enumerated() {
            guard (1...8).contains(part.count), part.utf8.allSatisfy({ isAlnum($0) }) else { return nil }
            if i == 0 {
                let privateOrIrregular = part == "x" || part == "X" || part == "i" || part == "I"
                guard part.utf8.allSatisfy({ !isDigit($0) }), (2...3).contains(part.count) || privateOrIrregular
                else { return nil }
                out.append(part.lowercased())
            } else if part.count == 2 && part.utf8.allSatisfy({ !isDigit($0) }) {
                out.append(part.uppercased())
            } else if part.count == 4 && part.utf8.allSatisfy({ !isDigit($0) }) {
                out.append(part.prefix(1).uppercased() + part.dropFirst().lowercased())
            } else {
                out.append(part.lowercased())
            }
        }
        return out.joined(separator: "-")
    }

    /// The tag and its shorter forms, then the fallback: `fr-CA` → `fr-CA`, `fr`, `en`.
    public static func fallbackChain(_ tag: String, fallback: String) -> [String] {
        var chain: [String] = []
        var parts = tag.split(separator: "-").map(String.init)
        while !parts.isEmpty {
            chain.append(parts.joined(separator: "-"))
            parts.removeLast()
        }
        if !chain.contains(fallback) { chain.append(fallback) }
        return chain
    }

    private static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
    private static func isAlnum(_ b: UInt8) -> Bool {
        isDigit(b) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
    }
}

/// The `Accept-Language` request header (RFC 9110 §12.5.4).
public enum AcceptLanguage {
    /// The longest header read; the rest is ignored.
    public static let maxLength = 4_096
    /// The most language ranges read.
    public static let maxRanges = 32

    /// The language ranges with their weights, best first (ties keep header order). Ranges with `q=0` are dropped,
    /// malformed ones are skipped, `*` is kept.
    public static func parse(_ header: String) -> [(range: String, quality: Double)] {
        var items: [(range: String, quality: Double, order: Int)] = []
        for (order, item) in header.prefix(maxLength).split(separator: ",").prefix(maxRanges).enumerated() {
            let fields = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let first = fields.first, !first.isEmpty else { continue }
            let range: String
            if first == "*" {
                range = "*"
            } else if let tag = LanguageTag.normalize(first) {
                range = tag
            } else {
                continue
            }
            var quality = 1.0
            var valid = true
            for parameter in fields.dropFirst() {
                let pair = parameter.split(separator: "=", maxSplits: 1).map {
                    $0.trimmingCharacters(in: .whitespaces)
                }
                guard pair.count == 2, pair[0].lowercased() == "q" else { continue }
                if let q = Double(pair[1]), q >= 0, q <= 1, pair[1].utf8.count <= 5 {
                    quality = q
                } else {
                    valid = false
                }
            }
            if valid && quality > 0 { items.append((range, quality, order)) }
        }
        return items.sorted { $0.quality != $1.quality ? $0.quality > $1.quality : $0.order < $1.order }
            .map { ($0.range, $0.quality) }
    }

    /// The best of `available` for a header: for each range, best first, an exact match, then the range's shorter
    /// forms (`fr-CA` → `fr`), then an available language the range is a prefix of (`fr` → `fr-BE`); `*` takes the
    /// default. Nothing acceptable, an empty or a missing header gives `defaultLanguage`.
    public static func negotiate(_ header: String?, available: [String], defaultLanguage: String) -> String {
        guard let header else { return defaultLanguage }
        var byLower: [String: String] = [:]
        for tag in available { byLower[tag.lowercased()] = tag }
        for (range, _) in parse(header) {
            if range == "*" { return defaultLanguage }
            for candidate in LanguageTag.fallbackChain(range, fallback: "") where !candidate.isEmpty {
                if let match = byLower[candidate.lowercased()] { return match }
            }
            let prefix = range.lowercased() + "-"
            if let match = available.sorted().first(where: { $0.lowercased().hasPrefix(prefix) }) { return match }
        }
        return defaultLanguage
    }
}

/// The texts of the public pages in every language, loaded from translation files a translator edits without
/// touching code.
///
/// One file per language, named after its tag (`en.strings`, `fr.strings`, `pt-BR.strings`), each line
/// `key = "text"`; `#` starts a comment line; inside the quotes `\"` is a quotation mark, `\\` a backslash and `\n`
/// a new line; `{name}` is a placeholder the server fills in. An operator adds a language by adding a file.
/// A key missing from a language falls back along its tag (`fr-CA` → `fr`) and then to the fallback language.
public struct Catalog: Sendable {
    /// The translation file extension.
    public static let fileExtension = "strings"

    /// Every language's table: tag → key → text.
    public let tables: [String: [String: String]]
    /// The language used when nothing else fits and whose keys every file must have (`en`).
    public let fallbackLanguage: String

    /// - Throws: ``CatalogError/missingFallback(_:)`` unless `tables` has the fallback language.
    public init(tables: [String: [String: String]], fallbackLanguage: String = "en") throws(CatalogError) {
        var normalized: [String: [String: String]] = [:]
        for (tag, table) in tables { normalized[LanguageTag.normalize(tag) ?? tag] = table }
        guard normalized[fallbackLanguage] != nil else { throw .missingFallback(fallbackLanguage) }
        self.tables = normalized
        self.fallbackLanguage = fallbackLanguage
    }

    /// Loads every `*.strings` file in `directory`.
    /// - Throws: ``CatalogError`` naming the file (and line) that does not read.
    public static func load(directory: String, fallbackLanguage: String = "en") throws(CatalogError) -> Catalog {
        try load(directories: [directory], fallbackLanguage: fallbackLanguage)
    }

    /// Loads every `*.strings` file in each folder in turn; a later folder's texts replace an earlier one's key by
    /// key. So the shipped files can come first and an operator's folder after, to add a language or reword a text
    /// without rebuilding.
    /// - Throws: ``CatalogError`` naming the file (and line) that does not read.
    public static func load(directories: [String], fallbackLanguage: String = "en") throws(CatalogError) -> Catalog {
        var tables: [String: [String: String]] = [:]
        for directory in directories {
            let names: [String]
            do {
                names = try FileManager.default.contentsOfDirectory(atPath: directory)
            } catch {
                throw .unreadableDirectory(directory)
            }
            for name in names.sorted() where name.hasSuffix(".\(fileExtension)") {
                let stem = String(name.dropLast(fileExtension.count + 1))
                guard let tag = LanguageTag.normalize(stem) else { throw .badFileName(name) }
                let path = (directory as NSString).appendingPathComponent(name)
                guard let data = FileManager.default.contents(atPath: path),
                    let text = String(data: data, encoding: .utf8)
                else { throw .unreadableFile(name) }
                tables[tag, default: [:]].merge(try parse(text, file: name)) { _, new in new }
            }
        }
        return try Catalog(tables: tables, fallbackLanguage: fallbackLanguage)
    }

    /// Reads one translation file's text.
    /// - Throws: ``CatalogError/syntax(file:line:reason:)`` at the first bad line.
    public static func parse(_ text: String, file: String = "") throws(CatalogError) -> [String: String] {
        var table: [String: String] = [:]
        var lineNumber = 0
        // "\r\n" is one Character in Swift, so it is a separator of its own.
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            lineNumber += 1
            var line = Substring(rawLine)
            if line.hasSuffix("\r") { line = line.dropLast() }
            if lineNumber == 1, line.hasPrefix("\u{FEFF}") { line = line.dropFirst() }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            func fail(_ reason: String) -> CatalogError { .syntax(file: file, line: lineNumber, reason: reason) }
            guard let equals = trimmed.firstIndex(of: "=") else { throw fail("expected key = \"text\"") }
            let key = trimmed[..<equals].trimmingCharacters(in: .whitespaces)
            guard !key.isEmpty,
                key.unicodeScalars.allSatisfy({
                    CharacterSet.alphanumerics.contains($0) && $0.isASCII || $0 == "." || $0 == "_" || $0 == "-"
                })
            else { throw fail("a key is made of letters, digits, dots, dashes and underscores") }
            var rest = Substring(trimmed[trimmed.index(after: equals)...]).drop(while: { $0 == " " || $0 == "\t" })
            guard rest.first == "\"" else { throw fail("the text must start with a quotation mark") }
            rest = rest.dropFirst()
            var value = ""
            var closed = false
            var iterator = rest.makeIterator()
            while let c = iterator.next() {
                if c == "\\" {
                    switch iterator.next() {
                    case "\"": value.append("\"")
                    case "\\": value.append("\\")
                    case "n": value.append("\n")
                    default: throw fail("after a backslash only \\\", \\\\ or \\n")
                    }
                } else if c == "\"" {
                    closed = true
                    let tail = String(iterator.map { $0 }).trimmingCharacters(in: .whitespaces)
                    guard tail.isEmpty || tail.hasPrefix("#") else {
                        throw fail("unexpected text after the closing quotation mark (write \\\" inside the text)")
                    }
                    break
                } else {
                    value.append(c)
                }
            }
            guard closed else { throw fail("the text has no closing quotation mark") }
            guard table[key] == nil else { throw fail("the key \(key) appears twice") }
            table[key] = value
        }
        return table
    }

    /// The languages, sorted by tag.
    public var languages: [String] { tables.keys.sorted() }

    /// The best language for an `Accept-Language` header (see ``AcceptLanguage/negotiate(_:available:defaultLanguage:)``).
    public func negotiate(acceptLanguage header: String?) -> String {
        AcceptLanguage.negotiate(header, available: languages, defaultLanguage: fallbackLanguage)
    }

    /// The language to use for a picker choice or cookie value: the normalised tag when its chain reaches a
    /// language of the catalog, else nil (so an unknown value is ignored).
    public func language(forChoice choice: String) -> String? {
        guard let tag = LanguageTag.normalize(choice) else { return nil }
        for candidate in LanguageTag.fallbackChain(tag, fallback: fallbackLanguage) where tables[candidate] != nil {
            return candidate
        }
        return nil
    }

    /// The texts for one language, with fallbacks.
    public func localizer(for language: String) -> Localizer {
        let tag = LanguageTag.normalize(language) ?? fallbackLanguage
        let chain = LanguageTag.fallbackChain(tag, fallback: fallbackLanguage).compactMap { tables[$0] }
        let resolved =
            LanguageTag.fallbackChain(tag, fallback: fallbackLanguage).first { tables[$0] != nil } ?? fallbackLanguage
        return Localizer(language: resolved, tables: chain)
    }

    /// The placeholder names in a text: `"Reference {reference}"` → `["reference"]`.
    public static func placeholders(in text: String) -> Set<String> {
        var names: Set<String> = []
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{") {
            let after = rest[rest.index(after: open)...]
            guard let close = after.firstIndex(of: "}") else { break }
            let name = after[..<close]
            if !name.isEmpty,
                name.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "_") })
            {
                names.insert(String(name))
            }
            rest = after[after.index(after: close)...]
        }
        return names
    }

    /// What is wrong with the translations compared with the fallback language: keys missing or extra, and texts
    /// whose placeholders differ. Empty when every file is complete.
    public func problems() -> [String] {
        guard let reference = tables[fallbackLanguage] else { return ["no \(fallbackLanguage) file"] }
        var out: [String] = []
        for language in languages where language != fallbackLanguage {
            let table = tables[language] ?? [:]
            for key in reference.keys.sorted() {
                guard let text = table[key] else {
                    out.append("\(language): missing \(key)")
                    continue
                }
                let want = Self.placeholders(in: reference[key] ?? "")
                let have = Self.placeholders(in: text)
                if want != have {
                    out.append("\(language): \(key) has placeholders \(have.sorted()) instead of \(want.sorted())")
                }
            }
            for key in table.keys.sorted() where reference[key] == nil {
                out.append("\(language): unknown key \(key)")
            }
        }
        return out
    }
}

/// The texts for one language: looks a key up along the language's fallback chain and fills in placeholders.
public struct Localizer: Sendable {
    /// The catalog language the first lookup goes to (`fr` for a request for `fr-CA` when there is no `fr-CA` file).
    public let language: String
    private let tables: [[String: String]]

    init(language: String, tables: [[String: String]]) {
        self.language = language
        self.tables = tables
    }

    /// `ltr` or `rtl`, for the page's `dir` attribute.
    public var direction: TextDirection { TextDirection.of(language: language) }

    /// Whether some language in the chain has the key.
    public func has(_ key: String) -> Bool { tables.contains { $0[key] != nil } }

    /// The text for `key` with `{name}` placeholders replaced from `arguments`; placeholders without an argument stay
    /// as they are, and a key no language has is returned as itself so that a gap shows instead of failing.
    /// Arguments are inserted as they are: escape them for HTML where the text is used.
    public func callAsFunction(_ key: String, _ arguments: [String: String] = [:]) -> String {
        guard let template = tables.lazy.compactMap({ $0[key] }).first else { return key }
        return Self.fill(template, arguments)
    }

    /// Replaces `{name}` placeholders in one pass (inserted values are not read again).
    public static func fill(_ template: String, _ arguments: [String: String]) -> String {
        guard !arguments.isEmpty, template.contains("{") else { return template }
        var out = ""
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{") {
            out += rest[..<open]
            let after = rest[rest.index(after: open)...]
            guard let close = after.firstIndex(of: "}"), let value = arguments[String(after[..<close])] else {
                out.append("{")
                rest = after
                continue
            }
            out += value
            rest = after[after.index(after: close)...]
        }
        out += rest
        return out
    }
}

/// The translation files could not be loaded.
public enum CatalogError: Error, Sendable, Equatable, CustomStringConvertible {
    case unreadableDirectory(String)
    case unreadableFile(String)
    case badFileName(String)
    case syntax(file: String, line: Int, reason: String)
    case missingFallback(String)

    /// A message for the operator: which file or folder, and what to do.
    public var description: String {
        switch self {
        case .unreadableDirectory(let d): "cannot read the translations folder \(d)"
        case .unreadableFile(let f): "cannot read \(f) as UTF-8 text"
        case .badFileName(let f): "\(f): a translation file is named after its language tag, such as fr.strings"
        case .syntax(let file, let line, let reason): "\(file):\(line): \(reason)"
        case .missingFallback(let l):
            "there is no \(l).strings translation file, which every other language falls back to"
        }
    }
}
