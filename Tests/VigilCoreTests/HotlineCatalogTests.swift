import Foundation
import Testing
import VigilCore

@Suite("Hotline: translations, fallbacks and Accept-Language")
struct HotlineCatalogTests {
    /// The shipped translation files: `Sources/VigilApp/Resources/Translations` (the repo root is three levels up).
    static let translationsDirectory: String = {
        var url = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("Sources/VigilApp/Resources/Translations").path
    }()

    static func shipped() throws -> Catalog { try Catalog.load(directory: translationsDirectory) }

    static func small() throws -> Catalog {
        try Catalog(tables: [
            "en": ["greeting": "Hello {name}", "only.en": "English only", "bye": "Bye"],
            "fr": ["greeting": "Bonjour {name}", "bye": "Au revoir"],
            "fr-CA": ["bye": "Bonjour-hi"],
            "ar": ["greeting": "مرحبًا {name}"],
        ])
    }

    // MARK: shipped files

    @Test("the shipped languages are English, French, Spanish and Arabic, and Arabic is right to left")
    func shippedLanguages() throws {
        let catalog = try Self.shipped()
        #expect(catalog.languages == ["ar", "en", "es", "fr"])
        #expect(catalog.localizer(for: "ar").direction == .rtl)
        for language in ["en", "es", "fr"] { #expect(catalog.localizer(for: language).direction == .ltr) }
        #expect(catalog.localizer(for: "ar")("language.name") == "العربية")
        #expect(catalog.localizer(for: "fr")("language.name") == "Français")
        #expect(catalog.localizer(for: "es")("language.name") == "Español")
    }

    @Test("every language file has exactly the keys of English, with the same placeholders")
    func completeness() throws {
        let catalog = try Self.shipped()
        #expect(catalog.problems() == [])
        let english = try #require(catalog.tables["en"])
        for language in catalog.languages {
            let table = try #require(catalog.tables[language])
            #expect(Set(table.keys) == Set(english.keys), "\(language)")
            for (key, text) in table {
                #expect(
                    Catalog.placeholders(in: text) == Catalog.placeholders(in: english[key] ?? ""), "\(language) \(key)"
                )
            }
        }
    }

    @Test("the translations are translated: texts differ from English, and every Arabic text has Arabic letters")
    func translated() throws {
        let catalog = try Self.shipped()
        let english = try #require(catalog.tables["en"])
        for language in ["fr", "es", "ar"] {
            let table = try #require(catalog.tables[language])
            let same = english.keys.filter { table[$0] == english[$0] }
            #expect(same.isEmpty, "\(language): untranslated \(same.sorted())")
        }
        for (key, text) in try #require(catalog.tables["ar"]) {
            #expect(text.unicodeScalars.contains { (0x0600...0x06FF).contains($0.value) }, "ar \(key)")
        }
    }

    @Test("every message key the core hands out exists in the shipped files")
    func coreKeysExist() throws {
        let english = try #require(try Self.shipped().tables["en"])
        var keys = PublicCaseStatus.allCases.map(\.messageKey)
        keys += ReportKind.allCases.map { "form.kind.\($0.rawValue)" }
        keys += BehaviourConcern.allCases.map { "form.concern.\($0.rawValue)" }
        keys += ProfileService.allCases.map { "form.service_kind.\($0.rawValue)" }
        keys += ["error.required", "error.too_long", "error.invalid_characters"]
        keys += [ReportField.url, .newsgroup, .messageID, .p2p, .profile, .contact].map {
            ReportFieldIssue(field: $0, problem: .invalid(reason: "")).messageKey
        }
        for key in keys { #expect(english[key] != nil, "\(key)") }
        let tooLong = ReportFieldIssue(field: .details, problem: .tooLong(limit: 5_000))
        #expect(
            try Self.shipped().localizer(for: "fr")(tooLong.messageKey, tooLong.messageArguments)
                == "Ce texte est trop long. Utilisez au plus 5000 caractères.")
    }

    @Test("the home page fills in the operator's emergency number and helpline in each language")
    func placeholdersFilled() throws {
        let catalog = try Self.shipped()
        let arguments = ["emergency_number": "112", "helpline_name": "Childline", "helpline_number": "116 111"]
        for language in catalog.languages {
            let text = catalog.localizer(for: language)("home.danger.text", arguments)
            #expect(text.contains("112") && !text.contains("{"), "\(language)")
            let help = catalog.localizer(for: language)("home.helpline.text", arguments)
            #expect(help.contains("Childline") && help.contains("116 111"), "\(language)")
        }
        #expect(
            catalog.localizer(for: "en")("thanks.reference", ["reference": "R-7KQ4-M2XD"])
                == "Your reference is R-7KQ4-M2XD.")
    }

    // MARK: file format

    @Test("the file format: comments, blank lines, escapes, a byte-order mark and Windows line ends are read")
    func parse() throws {
        let text =
            "\u{FEFF}# comment\r\n\r\n  a.b = \"He said \\\"hi\\\"\\nC:\\\\\"  # trailing comment\r\nc_d-e=\"x\"\n"
        #expect(try Catalog.parse(text) == ["a.b": "He said \"hi\"\nC:\\", "c_d-e": "x"])
    }

    @Test("a bad line is refused with its file and line number")
    func parseErrors() {
        let cases: [(String, Int)] = [
            ("a = \"ok\"\nno equals sign", 2),
            ("a = unquoted", 1),
            ("a = \"never closed", 1),
            ("\n\na = \"x\" extra", 3),
            ("a = \"bad \\t escape\"", 1),
            ("a = \"x\"\na = \"y\"", 2),
            ("bad key = \"x\"", 1),
            (" = \"x\"", 1),
        ]
        for (text, line) in cases {
            #expect(throws: CatalogError.self, "\(text)") { try Catalog.parse(text, file: "xx.strings") }
            do {
                _ = try Catalog.parse(text, file: "xx.strings")
            } catch {
                if case .syntax(let file, let l, _) = error {
                    #expect(file == "xx.strings" && l == line, "\(text)")
                } else {
                    Issue.record("unexpected \(error)")
                }
            }
        }
    }

    @Test("loading names the problem: missing English file, a badly named file, no folder")
    func loadErrors() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-catalog-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        #expect(throws: CatalogError.unreadableDirectory(dir.path + "/none")) {
            try Catalog.load(directory: dir.path + "/none")
        }
        try Data("a = \"b\"\n".utf8).write(to: dir.appendingPathComponent("fr.strings"))
        try Data("ignored".utf8).write(to: dir.appendingPathComponent("README.txt"))
        #expect(throws: CatalogError.missingFallback("en")) { try Catalog.load(directory: dir.path) }
        try Data("a = \"b\"\n".utf8).write(to: dir.appendingPathComponent("en.strings"))
        #expect(try Catalog.load(directory: dir.path).languages == ["en", "fr"])
        try Data("a = \"b\"\n".utf8).write(to: dir.appendingPathComponent("not a tag.strings"))
        #expect(throws: CatalogError.badFileName("not a tag.strings")) { try Catalog.load(directory: dir.path) }
    }

    @Test("an operator's folder loaded after the shipped one adds a language and rewords texts")
    func operatorOverrides() throws {
        // given an operator folder with German and one English text changed
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-operator-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Data("language.name = \"Deutsch\"\n".utf8).write(to: dir.appendingPathComponent("de.strings"))
        try Data("nav.home = \"Start\"\n".utf8).write(to: dir.appendingPathComponent("en.strings"))
        // when both folders are loaded
        let catalog = try Catalog.load(directories: [Self.translationsDirectory, dir.path])
        // then German is offered, falls back to English for the rest, and the reworded text wins
        #expect(catalog.languages == ["ar", "de", "en", "es", "fr"])
        #expect(catalog.negotiate(acceptLanguage: "de-AT") == "de")
        #expect(catalog.localizer(for: "de")("language.name") == "Deutsch")
        #expect(catalog.localizer(for: "de")("nav.status") == "Check a report")
        #expect(catalog.localizer(for: "en")("nav.home") == "Start")
        #expect(catalog.localizer(for: "en")("nav.report") == "Make a report")
        #expect(catalog.problems().contains("de: missing nav.report"))
    }

    // MARK: lookups

    @Test("fallbacks: fr-CA, then fr, then English; an unknown language gets English; a missing key shows itself")
    func fallbacks() throws {
        let catalog = try Self.small()
        let canadian = catalog.localizer(for: "fr-ca")
        #expect(canadian.language == "fr-CA")
        #expect(canadian("bye") == "Bonjour-hi")
        #expect(canadian("greeting", ["name": "Ana"]) == "Bonjour Ana")
        #expect(canadian("only.en") == "English only")
        #expect(catalog.localizer(for: "fr-BE").language == "fr")
        #expect(catalog.localizer(for: "de")("bye") == "Bye")
        #expect(catalog.localizer(for: "de").language == "en")
        #expect(catalog.localizer(for: "%%")("bye") == "Bye")
        #expect(catalog.localizer(for: "ar")("bye") == "Bye")
        #expect(catalog.localizer(for: "en")("no.such.key") == "no.such.key")
        #expect(!catalog.localizer(for: "en").has("no.such.key"))
        #expect(catalog.language(forChoice: "fr-CH") == "fr")
        #expect(catalog.language(forChoice: "de") == "en")
        #expect(catalog.language(forChoice: "<script>") == nil)
    }

    @Test("placeholders are filled once; unknown ones and stray braces stay as written")
    func fill() {
        #expect(Localizer.fill("{a} and {b}", ["a": "{b}", "b": "B"]) == "{b} and B")
        #expect(Localizer.fill("{missing} {a}", ["a": "A"]) == "{missing} A")
        #expect(Localizer.fill("{ {a}} {", ["a": "A"]) == "{ A} {")
        #expect(Localizer.fill("no placeholders", [:]) == "no placeholders")
        #expect(Catalog.placeholders(in: "{a} {b_c} {not valid} {} {d") == ["a", "b_c"])
    }

    @Test("text direction: Arabic, Hebrew, Persian and Urdu are right to left, a script subtag decides")
    func direction() {
        for tag in ["ar", "ar-EG", "he", "fa", "ur", "az-Arab", "ps", "yi"] {
            #expect(TextDirection.of(language: tag) == .rtl, "\(tag)")
        }
        for tag in ["en", "fr-CA", "es-419", "ku-Latn", "zh-Hant-TW", "", "uz-Cyrl"] {
            #expect(TextDirection.of(language: tag) == .ltr, "\(tag)")
        }
    }

    @Test("language tags are normalised and junk is refused")
    func tags() {
        #expect(LanguageTag.normalize("FR_ca") == "fr-CA")
        #expect(LanguageTag.normalize("zh-hant-tw") == "zh-Hant-TW")
        #expect(LanguageTag.normalize("es-419") == "es-419")
        #expect(LanguageTag.normalize(" en ") == "en")
        for bad in [
            "", "e", "english", "en-", "-en", "12", "en-toolongsubtag", "ar;q=1", "é",
            String(repeating: "a-", count: 30),
        ] {
            #expect(LanguageTag.normalize(bad) == nil, "\(bad)")
        }
        #expect(LanguageTag.fallbackChain("zh-Hant-TW", fallback: "en") == ["zh-Hant-TW", "zh-Hant", "zh", "en"])
        #expect(LanguageTag.fallbackChain("en-GB", fallback: "en") == ["en-GB", "en"])
    }

    @Test("Accept-Language: weights, shorter forms, wildcards, refusals and malformed headers")
    func negotiate() throws {
        let catalog = try Self.shipped()
        let cases: [(String?, String)] = [
            ("fr-CA,fr;q=0.9,en;q=0.8", "fr"),
            ("de-DE, de;q=0.9, ar;q=0.5, en;q=0.4", "ar"),
            ("es-419", "es"),
            ("ES-mx;q=0.7, fr;q=0.7", "es"),
            ("en;q=0.1, fr", "fr"),
            ("*", "en"),
            ("de, *;q=0.5, ar;q=0.4", "en"),
            ("fr;q=0, ar;q=0.1", "ar"),
            ("fr;q=abc, ar", "ar"),
            ("fr;q=2, ar;q=0.3", "ar"),
            ("fr;q=1.0000001, es;q=0.3", "es"),
            (";;;,,,%%%", "en"),
            ("", "en"),
            (nil, "en"),
            ("de", "en"),
            ("ar-SA;level=1, en", "ar"),
            (String(repeating: "xx, ", count: 5_000) + "fr", "en"),
        ]
        for (header, expected) in cases {
            #expect(catalog.negotiate(acceptLanguage: header) == expected, "\(header ?? "nil")")
        }
        // a range that is a prefix of an available tag takes it
        #expect(AcceptLanguage.negotiate("pt", available: ["en", "pt-BR"], defaultLanguage: "en") == "pt-BR")
        #expect(AcceptLanguage.parse("a;q=0.5, en;q=0.8, fr").map(\.range) == ["fr", "en"])
    }
}
