import Foundation
import Testing
import VigilCore

/// Each setting is declared once: its names are derived, its checks run wherever the value comes from.
@Suite("Settings table")
struct SettingsTests {
    @Test("names are derived from the key, and every key is unique and snake_case")
    func names() throws {
        let smtp = try #require(Settings.named("smtp_host"))
        #expect(smtp.flag == "--smtp-host" && smtp.env == "VIGIL_SMTP_HOST")
        #expect(smtp.flagHelp.hasSuffix("Env: VIGIL_SMTP_HOST."))
        let keys = Settings.all.map(\.key)
        #expect(Set(keys).count == keys.count)
        for key in keys {
            #expect(key.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "_" }, "\(key)")
            #expect(Settings.named(key)?.help.hasSuffix(".") == true, "\(key): its help is a sentence")
        }
        #expect(VigilConfiguration.settings.count == keys.count)
    }

    @Test("values are checked and stored; the first source that has a value wins")
    func resolve() throws {
        let given: [String: String] = [
            "port": "8443", "secure_cookies": "yes", "four_eyes": "all", "country": " fr ",
            "legal_provisions": "Penal Code s. 1; ; Penal Code s. 2", "contact_retention_days": "0",
            "database_url": "", "max_body_kb": "0", "demo_data": "on",
        ]
        let c = try Settings.resolve { given[$0.key] }
        #expect(c.port == 8443 && c.secureCookies == true && c.country == "FR" && c.demoData)
        #expect(c.fourEyes == ["list-entry", "notice", "le-referral", "partner-referral"])
        #expect(c.legalProvisions == ["Penal Code s. 1", "Penal Code s. 2"])
        #expect(c.contactRetentionDays == 0 && c.databaseURL == nil && c.maxBodyBytes == 1024)
        let defaults = try Settings.resolve { _ in nil }
        #expect(defaults.port == 8080 && defaults.contactRetentionDays == 90 && defaults.fourEyes == ["list-entry"])
    }

    @Test(
        "a bad value is refused with a sentence that names the setting",
        arguments: [
            ("port", "70000", "port must be between 1 and 65535"),
            ("port", "eighty", "VIGIL_PORT / port must be a whole number, got 'eighty'"),
            ("secure_cookies", "maybe", "VIGIL_SECURE_COOKIES / secure_cookies must be true or false, got 'maybe'"),
            ("four_eyes", "notice,coffee", "four-eyes: unknown decision 'coffee'"),
            ("list_criteria", "A: fine; no code", "list criteria: 'no code' must read 'CODE: text'"),
            ("country", "France", "country must be a two-letter ISO 3166-1 code such as FR, got 'France'"),
            ("smtp_tls", "ssl", "smtp_tls must be starttls, tls or none, got 'ssl'"),
            ("log_level", "loud", "log level must be one of trace, debug, info, notice, warning, error, critical"),
            ("standard_assessment_days", "2", "standard assessment days must be between 3 and 10"),
            ("smtp_ca_file", "/nonexistent/ca.pem", "smtp_ca_file: cannot read /nonexistent/ca.pem"),
            ("trusted_proxies", "not-a-range", "trusted_proxies"),
        ])
    func refusals(key: String, value: String, message: String) throws {
        let setting = try #require(Settings.named(key))
        var c = VigilConfiguration()
        #expect {
            try setting.apply(value, to: &c)
        } throws: { error in
            (error as? SettingError)?.description.contains(message) == true
        }
    }
}
