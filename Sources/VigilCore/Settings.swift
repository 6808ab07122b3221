import Foundation

/// One setting, declared once in ``Settings/all``: its TOML key, its `VIGIL_*` variable, its command-line flag and
/// its help line are derived from the key and the text, and `apply` checks a value and stores it in the
/// configuration. `vigil serve --help`, the TOML reader and the README's table all read the same list.
public struct Setting: Sendable {
    /// The TOML key, `snake_case`.
    public let key: String
    /// One line for `--help` and the README, with the default.
    public let help: String
    let apply: @Sendable (inout VigilConfiguration, String) throws(SettingError) -> Void

    /// `--smtp-host` for `smtp_host`.
    public var flag: String { "--" + key.replacingOccurrences(of: "_", with: "-") }
    /// `VIGIL_SMTP_HOST` for `smtp_host`.
    public var env: String { "VIGIL_" + key.uppercased() }
    /// The help line a flag shows: the text and the variable that sets it too.
    public var flagHelp: String { "\(help) Env: \(env)." }

    /// Checks `text` and stores it.
    public func apply(_ text: String, to configuration: inout VigilConfiguration) throws(SettingError) {
        try apply(&configuration, text)
    }
}

/// A value a setting refuses, with the sentence an operator reads.
public struct SettingError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension Setting {
    /// A text stored as given.
    static func text(
        _ key: String, _ help: String, _ path: any WritableKeyPath<VigilConfiguration, String> & Sendable
    ) -> Setting {
        Setting(key: key, help: help) { c, v throws(SettingError) in c[keyPath: path] = v }
    }

    /// A text where empty means none.
    static func optional(
        _ key: String, _ help: String, _ path: any WritableKeyPath<VigilConfiguration, String?> & Sendable
    ) -> Setting {
        Setting(key: key, help: help) { c, v throws(SettingError) in c[keyPath: path] = v.isEmpty ? nil : v }
    }

    /// A whole number (0 or more), within `range` when given (`what` names it in the refusal).
    static func number(
        _ key: String, _ help: String, range: ClosedRange<Int>? = nil, what: String? = nil,
        _ set: @escaping @Sendable (inout VigilConfiguration, Int) -> Void
    ) -> Setting {
        Setting(key: key, help: help) { c, text throws(SettingError) in
            let env = "VIGIL_" + key.uppercased()
            guard let v = Int(text.trimmingCharacters(in: .whitespaces)), v >= 0 else {
                throw SettingError("\(env) / \(key) must be a whole number, got '\(text)'")
            }
            if let range, !range.contains(v) {
                throw SettingError(
                    "\(what ?? key.replacingOccurrences(of: "_", with: " ")) must be between \(range.lowerBound) and \(range.upperBound)"
                )
            }
            set(&c, v)
        }
    }

    /// true/false (also 1/0, yes/no, on/off).
    static func boolean(
        _ key: String, _ help: String, _ path: any WritableKeyPath<VigilConfiguration, Bool> & Sendable
    ) -> Setting {
        Setting(key: key, help: help) { c, v throws(SettingError) in c[keyPath: path] = try parseBool(key, v) }
    }

    static func parseBool(_ key: String, _ text: String) throws(SettingError) -> Bool {
        switch text.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw SettingError("VIGIL_\(key.uppercased()) / \(key) must be true or false, got '\(text)'")
        }
    }

    /// A list separated by `separator`, blanks dropped.
    static func list(
        _ key: String, _ help: String, separator: Character,
        _ set: @escaping @Sendable (inout VigilConfiguration, [String]) throws(SettingError) -> Void
    ) -> Setting {
        Setting(key: key, help: help) { c, text throws(SettingError) in
            try set(
                &c,
                text.split(separator: separator).map { $0.trimmingCharacters(in: .whitespaces) }.filter {
                    !$0.isEmpty
                })
        }
    }

    /// A path to a file this process can read; empty means none.
    static func readableFile(
        _ key: String, _ help: String, _ path: any WritableKeyPath<VigilConfiguration, String?> & Sendable
    ) -> Setting {
        Setting(key: key, help: help) { c, v throws(SettingError) in
            guard !v.isEmpty else { return }
            guard FileManager.default.isReadableFile(atPath: v) else { throw SettingError("\(key): cannot read \(v)") }
            c[keyPath: path] = v
        }
    }
}

/// Every setting of Vigil, in the order `--help` and the README list them.
public enum Settings {
    /// The log levels `log_level` accepts (swift-log's).
    public static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    public static let all: [Setting] = [
        .text("data_dir", "Folder for the SQLite database and keys (default ./vigil-data).", \.dataDirectory),
        .optional(
            "database_url", "postgres://user:pass@host:port/db to use PostgreSQL instead of SQLite.", \.databaseURL),
        .text("host", "Address to listen on (default 127.0.0.1).", \.host),
        .number("port", "Port to listen on (default 8080).", range: 1...65535) { $0.port = $1 },
        .optional(
            "public_url", "Address people use to reach Vigil, for links (default http://HOST:PORT).", \.publicURL),
        Setting(
            key: "secure_cookies",
            help: "true/false: mark cookies Secure (default: true when the public URL is https)."
        ) { c, v throws(SettingError) in c.secureCookies = try Setting.parseBool("secure_cookies", v) },
        .number("session_idle_minutes", "Sign staff out after this much inactivity (default 30).") {
            $0.sessionIdleTimeout = TimeInterval($1 * 60)
        },
        .number("session_max_hours", "Sign staff out this long after sign-in (default 12).") {
            $0.sessionAbsoluteTimeout = TimeInterval($1 * 3600)
        },
        .number("lockout_threshold", "Failed sign-ins before an account locks (default 5).") {
            $0.lockoutThreshold = max(1, $1)
        },
        .number("lockout_minutes", "How long a locked account stays locked (default 15).") {
            $0.lockoutDuration = TimeInterval($1 * 60)
        },
        .number("api_requests_per_minute", "Requests per minute per partner API key (default 600).") {
            $0.apiRequestsPerMinute = max(1, $1)
        },
        .number("max_body_kb", "Largest request body in KiB (default 1024).") { $0.maxBodyBytes = max(1, $1) * 1024 },
        Setting(key: "log_level", help: "trace|debug|info|notice|warning|error (default info).") {
            c, v throws(SettingError) in
            guard logLevels.contains(v) else {
                throw SettingError("log level must be one of \(logLevels.joined(separator: ", "))")
            }
            c.logLevel = v
        },
        .text("site_name", "Name in page titles and authenticator apps (default Vigil).", \.siteName),
        .text("emergency_number", "Emergency number on the public pages (default 112).", \.emergencyNumber),
        .list(
            "urgent_alert_to",
            "Addresses alerted about a child in immediate danger when no one on the rota is on duty (comma-separated).",
            separator: ","
        ) { c, v throws(SettingError) in
            for a in v where !EmailAddress.isPlausible(a) {
                throw SettingError("urgent_alert_to: '\(a)' is not an e-mail address")
            }
            c.urgentAlertTo = v
        },
        .optional(
            "urgent_alert_webhook", "A paging service's URL, POSTed every urgent alert and escalation (signed JSON).",
            \.urgentAlertWebhook),
        .optional(
            "urgent_webhook_secret", "Key of the urgent webhook's X-Vigil-Signature (HMAC-SHA-256 of the body).",
            \.urgentWebhookSecret),
        Setting(
            key: "urgent_ack_minutes",
            help: "Minutes an urgent alert waits for an acknowledgement before the next person is alerted (default 15)."
        ) { c, v throws(SettingError) in
            guard let m = Double(v.trimmingCharacters(in: .whitespaces)), m >= 0.05, m <= 1440 else {
                throw SettingError("urgent_ack_minutes must be a number of minutes from 0.05 to 1440, got '\(v)'")
            }
            c.urgentAckMinutes = m
        },
        Setting(
            key: "urgent_le_contact",
            help: "The law-enforcement liaison's 24/7 e-mail address: the last step of an unacknowledged urgent alert."
        ) { c, v throws(SettingError) in
            guard !v.isEmpty else { return }
            guard EmailAddress.isPlausible(v) else { throw SettingError("urgent_le_contact must be an e-mail address") }
            c.urgentLEContact = v
        },
        Setting(key: "time_zone", help: "The hotline's time zone for the on-call rota (IANA name, default UTC).") {
            c, v throws(SettingError) in
            guard !v.isEmpty else { return }
            guard TimeZone(identifier: v) != nil else {
                throw SettingError("time_zone: '\(v)' is not a time zone name such as Europe/Paris")
            }
            c.timeZone = v
        },
        .text("helpline_name", "The child helpline named on the public pages.", \.helplineName),
        .text("helpline_number", "The child helpline's number (default 116 111).", \.helplineNumber),
        .number("public_reports_per_hour", "Reports one address may send per hour (default 30).") {
            $0.publicReportsPerHour = max(1, $1)
        },
        .number(
            "standard_assessment_days", "Working days to assess public reports, 3-10 (default 5).", range: 3...10,
            what: "standard assessment days"
        ) { $0.standardAssessmentDays = $1 },
        .number(
            "contact_retention_days",
            "Days after a case closes before its reporters' contact details are deleted, 0-3650 (default 90).",
            range: 0...3650, what: "contact retention days"
        ) { $0.contactRetentionDays = $1 },
        .number(
            "hash_reviews_required",
            "Independent confirmations a new hash set record needs before it matches as known, 1-9 (default 3, as the IWF and CAID do); records of a bank marked reviewed need 1.",
            range: 1...9, what: "hash reviews required"
        ) { $0.hashReviewsRequired = $1 },
        .number(
            "hash_dispute_threshold",
            "Partner disputes that send a known hash set record back to review, 1-100 (default 2).",
            range: 1...100, what: "hash dispute threshold"
        ) { $0.hashDisputeThreshold = $1 },
        .list(
            "legal_provisions", "National legal provisions analysts choose from, separated by ';'.", separator: ";"
        ) { c, v throws(SettingError) in c.legalProvisions = v },
        .list(
            "content_categories", "Content categories analysts choose from, separated by ';'.", separator: ";"
        ) { c, v throws(SettingError) in c.contentCategories = v },
        .list(
            "four_eyes",
            "Decisions needing a second analyst: list-entry, notice, le-referral, partner-referral, all or none (default list-entry).",
            separator: ","
        ) { c, v throws(SettingError) in
            let known = ["list-entry", "notice", "le-referral", "partner-referral"]
            if v == ["all"] {
                c.fourEyes = known
            } else if v == ["none"] {
                c.fourEyes = []
            } else {
                for k in v where !known.contains(k) {
                    throw SettingError(
                        "four-eyes: unknown decision '\(k)'; use \(known.joined(separator: ", ")), all or none")
                }
                c.fourEyes = v
            }
        },
        .number(
            "list_verification_days", "Days a block-list verification lasts, 1-90 (default 7).", range: 1...90,
            what: "list verification days"
        ) { $0.listVerificationDays = $1 },
        .list(
            "list_criteria", "The block list's published criteria, each 'CODE: text', separated by ';'.",
            separator: ";"
        ) { c, v throws(SettingError) in
            for k in v where !k.contains(":") { throw SettingError("list criteria: '\(k)' must read 'CODE: text'") }
            c.listCriteria = v
        },
        .number("list_check_hours", "Hours between automated checks of each listed address (default 12).") {
            $0.listCheckHours = max(1, $1)
        },
        .optional(
            "list_check_proxy", "HTTP proxy the automated checks go through (http://host:port).", \.listCheckProxy),
        .boolean(
            "list_check_images",
            "true/false: a check also fetches the page's images and counts those in the hash set (default false).",
            \.listCheckImages),
        .boolean(
            "list_drop_gone", "true/false: remove entries found gone twice instead of flagging them (default false).",
            \.listDropGone),
        .optional("stop_ipv4", "IPv4 address of the STOP page for RPZ and hosts feeds.", \.stopIPv4),
        .optional("stop_ipv6", "IPv6 address of the STOP page for RPZ and hosts feeds.", \.stopIPv6),
        .text("stop_legal_basis", "The legal basis named on the STOP page.", \.stopLegalBasis),
        .text(
            "stop_help_name", "The help for people worried about their own behaviour, on the STOP page.", \.stopHelpName
        ),
        .text("stop_help_contact", "How to reach that help (number or address).", \.stopHelpContact),
        Setting(
            key: "canary_domain",
            help: "A harmless domain published in every feed, for partners to test their filtering (default none)."
        ) { c, v throws(SettingError) in
            guard !v.isEmpty else { return }
            guard let t = try? ListTarget(kind: .domain, parsing: v) else {
                throw SettingError("canary domain '\(v)' is not a host name")
            }
            c.canaryDomain = t.value
        },
        .optional("smtp_host", "SMTP relay notices are sent through (default none: notices wait).", \.smtpHost),
        .number("smtp_port", "SMTP relay port (default 25).", range: 1...65535, what: "smtp port") { $0.smtpPort = $1 },
        .text("smtp_from", "Sender address of notices (default hotline@localhost).", \.smtpFrom),
        .optional("smtp_username", "SMTP login (AUTH PLAIN, only over TLS).", \.smtpUsername),
        .optional("smtp_password", "SMTP password (prefer the environment variable).", \.smtpPassword),
        Setting(
            key: "smtp_tls",
            help:
                "starttls (default: upgrade, required off this machine), tls (implicit, port 465) or none (loopback relays only)."
        ) { c, v throws(SettingError) in
            guard !v.isEmpty else { return }
            guard let mode = SMTPSecurity(rawValue: v.lowercased()) else {
                throw SettingError("smtp_tls must be starttls, tls or none, got '\(v)'")
            }
            c.smtpTLS = mode
        },
        .readableFile(
            "smtp_ca_file", "PEM file of authorities the relay's certificate is checked against, besides the system's.",
            \.smtpCAFile),
        Setting(
            key: "notice_bounce_address",
            help: "Where notices' bounces go, e.g. bounces@hotline.example (each notice sends from bounces+TOKEN@…)."
        ) { c, v throws(SettingError) in
            guard !v.isEmpty else { return }
            let parts = v.split(separator: "@")
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, !v.contains(" "), !parts[0].contains("+")
            else {
                throw SettingError(
                    "notice_bounce_address must be an e-mail address without '+', such as bounces@hotline.example, got '\(v)'"
                )
            }
            c.noticeBounceAddress = v
        },
        .boolean(
            "notice_registrar",
            "true/false: also notify the domain's registrar of content hosted in the country (default false).",
            \.noticeRegistrar),
        .number(
            "notice_renotify_hours", "Hours before a host is notified again while content stays online (default 24)."
        ) { $0.noticeRenotifyHours = max(1, $1) },
        .number("notice_max_sends", "Sends of one notice before it is escalated (default 3).") {
            $0.noticeMaxSends = max(1, $1)
        },
        .number("notice_recheck_minutes", "Minutes between rechecks of noticed URLs (default 60).") {
            $0.noticeRecheckMinutes = max(1, $1)
        },
        .number(
            "job_lease_seconds", "How long a process holds a claimed job before another may take it (default 300)."
        ) { $0.jobLeaseSeconds = max(1, $1) },
        Setting(
            key: "fetch_allow_cidrs",
            help:
                "Address ranges list checks, rechecks, RDAP and webhooks may reach although not public (comma-separated CIDRs; default none)."
        ) { c, v throws(SettingError) in
            do throws(RangeListError) { c.fetchPolicy = try OutboundAddressPolicy(allowing: v) } catch {
                throw SettingError(error.description)
            }
        },
        Setting(
            key: "trusted_proxies",
            help:
                "Reverse proxies (comma-separated CIDRs) whose X-Forwarded-For/Forwarded is believed (default none)."
        ) { c, v throws(SettingError) in
            do throws(RangeListError) {
                c.trustedProxies = try OutboundAddressPolicy(allowing: v, setting: "trusted_proxies").allowed
            } catch { throw SettingError(error.description) }
        },
        .optional("dns_resolver", "Resolver attribution asks, host:port (default: /etc/resolv.conf).", \.dnsResolver),
        .readableFile("geoip_country_db", "MaxMind-format country database.", \.geoipCountryDB),
        .readableFile("geoip_asn_db", "MaxMind-format ASN database.", \.geoipASNDB),
        .optional("rdap_url", "RDAP service for abuse contacts, e.g. https://rdap.org.", \.rdapURL),
        .boolean(
            "demo_data",
            "Add demonstration data on first start (in the environment or file: true/false; default false).",
            \.demoData),
        Setting(
            key: "country", help: "The operator's country, ISO 3166-1 alpha-2 (e.g. FR), for the policy pages."
        ) { c, text throws(SettingError) in
            let v = text.trimmingCharacters(in: .whitespaces)
            guard !v.isEmpty else { return }
            let code = v.uppercased()
            guard code.utf8.count == 2, code.utf8.allSatisfy({ $0 >= 0x41 && $0 <= 0x5A }) else {
                throw SettingError("country must be a two-letter ISO 3166-1 code such as FR, got '\(v)'")
            }
            c.country = code
        },
        Setting(
            key: "country_name",
            help: "The country's name as the global legislation review spells it (e.g. France)."
        ) { c, text throws(SettingError) in
            let v = text.trimmingCharacters(in: .whitespaces)
            if !v.isEmpty { c.countryName = v }
        },
    ]

    /// The setting with this TOML key.
    public static func named(_ key: String) -> Setting? { all.first { $0.key == key } }

    /// The configuration from the first value each setting has in `sources` (highest precedence first: flags,
    /// the environment, the file); settings with none keep their defaults.
    public static func resolve(_ value: (Setting) -> String?) throws(SettingError) -> VigilConfiguration {
        var c = VigilConfiguration()
        for setting in all {
            if let v = value(setting) { try setting.apply(v, to: &c) }
        }
        return c
    }
}
