import ArgumentParser
import Foundation
import Logging
import TOMLKit
import VigilCore

/// Options shared by every command that reaches the database or runs the server.
/// Precedence: flags > `VIGIL_*` environment > `vigil.toml` > defaults, resolved once into `VigilConfiguration`.
struct ServerOptions: ParsableArguments {
    @Option(
        name: .customLong("config"),
        help: "Configuration file (TOML). Default: ./vigil.toml when present. Env: VIGIL_CONFIG.")
    var configFile: String?
    @Option(
        name: .customLong("data-dir"),
        help: "Folder for the SQLite database and keys (default ./vigil-data). Env: VIGIL_DATA_DIR.")
    var dataDir: String?
    @Option(
        name: .customLong("database-url"),
        help: "postgres://user:pass@host:port/db to use PostgreSQL instead of SQLite. Env: VIGIL_DATABASE_URL.")
    var databaseURL: String?
    @Option(help: "Address to listen on (default 127.0.0.1). Env: VIGIL_HOST.")
    var host: String?
    @Option(help: "Port to listen on (default 8080). Env: VIGIL_PORT.")
    var port: Int?
    @Option(
        name: .customLong("public-url"),
        help: "Address people use to reach Vigil, for links (default http://HOST:PORT). Env: VIGIL_PUBLIC_URL.")
    var publicURL: String?
    @Option(
        name: .customLong("secure-cookies"),
        help: "true/false: mark cookies Secure (default: true when the public URL is https). Env: VIGIL_SECURE_COOKIES."
    )
    var secureCookies: Bool?
    @Option(
        name: .customLong("session-idle-minutes"),
        help: "Sign staff out after this much inactivity (default 30). Env: VIGIL_SESSION_IDLE_MINUTES.")
    var sessionIdleMinutes: Int?
    @Option(
        name: .customLong("session-max-hours"),
        help: "Sign staff out this long after sign-in (default 12). Env: VIGIL_SESSION_MAX_HOURS.")
    var sessionMaxHours: Int?
    @Option(
        name: .customLong("lockout-threshold"),
        help: "Failed sign-ins before an account locks (default 5). Env: VIGIL_LOCKOUT_THRESHOLD.")
    var lockoutThreshold: Int?
    @Option(
        name: .customLong("lockout-minutes"),
        help: "How long a locked account stays locked (default 15). Env: VIGIL_LOCKOUT_MINUTES.")
    var lockoutMinutes: Int?
    @Option(
        name: .customLong("api-requests-per-minute"),
        help: "Requests per minute per partner API key (default 600). Env: VIGIL_API_REQUESTS_PER_MINUTE.")
    var apiRequestsPerMinute: Int?
    @Option(
        name: .customLong("max-body-kb"), help: "Largest request body in KiB (default 1024). Env: VIGIL_MAX_BODY_KB.")
    var maxBodyKB: Int?
    @Option(
        name: .customLong("log-level"),
        help: "trace|debug|info|notice|warning|error (default info). Env: VIGIL_LOG_LEVEL.")
    var logLevel: String?
    @Option(
        name: .customLong("site-name"),
        help: "Name in page titles and authenticator apps (default Vigil). Env: VIGIL_SITE_NAME.")
    var siteName: String?
    @Option(
        name: .customLong("emergency-number"),
        help: "Emergency number on public pages (default 112). Env: VIGIL_EMERGENCY_NUMBER.")
    var emergencyNumber: String?
    @Option(name: .customLong("helpline-name"), help: "Child helpline named on public pages. Env: VIGIL_HELPLINE_NAME.")
    var helplineName: String?
    @Option(
        name: .customLong("helpline-number"),
        help: "Child helpline number (default 116 111). Env: VIGIL_HELPLINE_NUMBER.")
    var helplineNumber: String?
    @Option(
        name: .customLong("public-reports-per-hour"),
        help: "Reports one address may send per hour (default 30). Env: VIGIL_PUBLIC_REPORTS_PER_HOUR.")
    var publicReportsPerHour: Int?
    @Option(
        name: .customLong("standard-assessment-days"),
        help: "Working days to assess public reports, 3-10 (default 5). Env: VIGIL_STANDARD_ASSESSMENT_DAYS.")
    var standardAssessmentDays: Int?
    @Option(
        name: .customLong("contact-retention-days"),
        help:
            "Days after a case closes before its reporters' contact details are deleted, 0-3650 (default 90). Env: VIGIL_CONTACT_RETENTION_DAYS."
    )
    var contactRetentionDays: Int?
    @Option(
        name: .customLong("legal-provisions"),
        help: "National legal provisions analysts choose from, separated by ';'. Env: VIGIL_LEGAL_PROVISIONS.")
    var legalProvisions: String?
    @Option(
        name: .customLong("content-categories"),
        help: "Content categories analysts choose from, separated by ';'. Env: VIGIL_CONTENT_CATEGORIES.")
    var contentCategories: String?
    @Option(
        name: .customLong("four-eyes"),
        help:
            "Decisions needing a second analyst: list-entry,notice,le-referral,partner-referral, all or none (default list-entry). Env: VIGIL_FOUR_EYES."
    )
    var fourEyes: String?
    @Option(
        name: .customLong("list-verification-days"),
        help: "Days a block-list verification lasts (default 7). Env: VIGIL_LIST_VERIFICATION_DAYS.")
    var listVerificationDays: Int?
    @Option(
        name: .customLong("list-criteria"),
        help: "Published block-list criteria, each 'CODE: text', separated by ';'. Env: VIGIL_LIST_CRITERIA.")
    var listCriteria: String?
    @Option(
        name: .customLong("list-check-hours"),
        help: "Hours between automated checks of listed addresses (default 12). Env: VIGIL_LIST_CHECK_HOURS.")
    var listCheckHours: Int?
    @Option(
        name: .customLong("list-check-proxy"),
        help: "http://host:port proxy for the automated checks. Env: VIGIL_LIST_CHECK_PROXY.")
    var listCheckProxy: String?
    @Option(
        name: .customLong("list-check-images"),
        help:
            "true to also fetch a listed page's images (same outbound policy) and match them (default false). Env: VIGIL_LIST_CHECK_IMAGES."
    )
    var listCheckImages: Bool?
    @Option(
        name: .customLong("list-drop-gone"),
        help:
            "true to remove entries whose content the checks find gone (default false: mark them). Env: VIGIL_LIST_DROP_GONE."
    )
    var listDropGone: Bool?
    @Option(
        name: .customLong("stop-ipv4"),
        help: "STOP page IPv4 address for RPZ and hosts feeds (default: the listen address). Env: VIGIL_STOP_IPV4.")
    var stopIPv4: String?
    @Option(
        name: .customLong("stop-ipv6"), help: "STOP page IPv6 address for RPZ and hosts feeds. Env: VIGIL_STOP_IPV6.")
    var stopIPv6: String?
    @Option(
        name: .customLong("stop-legal-basis"), help: "Legal basis named on the STOP page. Env: VIGIL_STOP_LEGAL_BASIS.")
    var stopLegalBasis: String?
    @Option(
        name: .customLong("stop-help-name"),
        help: "Help offered on the STOP page to people worried about their own behaviour. Env: VIGIL_STOP_HELP_NAME.")
    var stopHelpName: String?
    @Option(
        name: .customLong("stop-help-contact"),
        help: "That help's phone number or address. Env: VIGIL_STOP_HELP_CONTACT.")
    var stopHelpContact: String?
    @Option(
        name: .customLong("canary-domain"),
        help: "Harmless canary domain published in every feed and served by Vigil. Env: VIGIL_CANARY_DOMAIN.")
    var canaryDomain: String?
    @Option(name: .customLong("smtp-host"), help: "SMTP relay for notices (none: notices wait). Env: VIGIL_SMTP_HOST.")
    var smtpHost: String?
    @Option(name: .customLong("smtp-port"), help: "SMTP relay port (default 25). Env: VIGIL_SMTP_PORT.")
    var smtpPort: Int?
    @Option(name: .customLong("smtp-from"), help: "Sender address of notices. Env: VIGIL_SMTP_FROM.")
    var smtpFrom: String?
    @Option(name: .customLong("smtp-username"), help: "SMTP AUTH user. Env: VIGIL_SMTP_USERNAME.")
    var smtpUsername: String?
    @Option(
        name: .customLong("smtp-password"),
        help: "SMTP AUTH password (prefer the environment). Env: VIGIL_SMTP_PASSWORD.")
    var smtpPassword: String?
    @Option(
        name: .customLong("smtp-tls"),
        help:
            "starttls (default; required off loopback, on loopback only with smtp_ca_file), tls (port 465) or none. Env: VIGIL_SMTP_TLS."
    )
    var smtpTLS: String?
    @Option(
        name: .customLong("smtp-ca-file"),
        help: "PEM certificate authorities to trust for the relay, besides the system's. Env: VIGIL_SMTP_CA_FILE.")
    var smtpCAFile: String?
    @Option(
        name: .customLong("notice-bounce-address"),
        help:
            "Envelope sender of notices, e.g. bounces@hotline.example; each notice uses bounces+TOKEN@… Env: VIGIL_NOTICE_BOUNCE_ADDRESS."
    )
    var noticeBounceAddress: String?
    @Option(
        name: .customLong("notice-registrar"),
        help: "true to also notify the domain's registrar (abuse contact from RDAP). Env: VIGIL_NOTICE_REGISTRAR.")
    var noticeRegistrar: Bool?
    @Option(
        name: .customLong("notice-renotify-hours"),
        help:
            "Hours before re-notifying a host while content stays online (default 24). Env: VIGIL_NOTICE_RENOTIFY_HOURS."
    )
    var noticeRenotifyHours: Int?
    @Option(
        name: .customLong("notice-max-sends"),
        help: "Sends before a notice is escalated to supervisors (default 3). Env: VIGIL_NOTICE_MAX_SENDS.")
    var noticeMaxSends: Int?
    @Option(
        name: .customLong("notice-recheck-minutes"),
        help: "Minutes between rechecks of noticed URLs (default 60). Env: VIGIL_NOTICE_RECHECK_MINUTES.")
    var noticeRecheckMinutes: Int?
    @Option(
        name: .customLong("job-lease-seconds"),
        help:
            "How long a process holds a claimed job before another may take it (default 300). Env: VIGIL_JOB_LEASE_SECONDS."
    )
    var jobLeaseSeconds: Int?
    @Option(
        name: .customLong("fetch-allow-cidrs"),
        help:
            "Address ranges list checks, rechecks, RDAP and webhooks may reach although not public (comma-separated CIDRs; default none). Env: VIGIL_FETCH_ALLOW_CIDRS."
    )
    var fetchAllowCIDRs: String?
    @Option(
        name: .customLong("trusted-proxies"),
        help:
            "Reverse proxies (comma-separated CIDRs) whose X-Forwarded-For/Forwarded is believed (default none). Env: VIGIL_TRUSTED_PROXIES."
    )
    var trustedProxies: String?
    @Option(
        name: .customLong("dns-resolver"),
        help: "Resolver attribution asks, host:port (default: /etc/resolv.conf). Env: VIGIL_DNS_RESOLVER.")
    var dnsResolver: String?
    @Option(
        name: .customLong("geoip-country-db"), help: "MaxMind-format country database. Env: VIGIL_GEOIP_COUNTRY_DB.")
    var geoipCountryDB: String?
    @Option(name: .customLong("geoip-asn-db"), help: "MaxMind-format ASN database. Env: VIGIL_GEOIP_ASN_DB.")
    var geoipASNDB: String?
    @Option(
        name: .customLong("rdap-url"),
        help: "RDAP service for abuse contacts, e.g. https://rdap.org. Env: VIGIL_RDAP_URL.")
    var rdapURL: String?
    @Flag(name: .customLong("demo-data"), help: "Add demonstration data on first start. Env: VIGIL_DEMO_DATA=true.")
    var demoData = false
    @Option(
        name: .customLong("country"),
        help: "The operator's country, ISO 3166-1 alpha-2 (e.g. FR), for the policy pages. Env: VIGIL_COUNTRY.")
    var country: String?
    @Option(
        name: .customLong("country-name"),
        help: "The country's name as the global legislation review spells it (e.g. France). Env: VIGIL_COUNTRY_NAME.")
    var countryName: String?

    /// Resolves the configuration from flags, the environment and the file.
    func resolve(environment env: [String: String] = ProcessInfo.processInfo.environment) throws -> VigilConfiguration {
        var file: [String: String] = [:]
        let path =
            configFile ?? env["VIGIL_CONFIG"]
            ?? (FileManager.default.fileExists(atPath: "vigil.toml") ? "vigil.toml" : nil)
        if let path {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ValidationError("cannot read the configuration file \(path)")
            }
            file = try Self.parseTOML(text, path: path)
        }
        func value(_ flag: String?, _ envKey: String, _ tomlKey: String) -> String? {
            flag ?? env[envKey] ?? file[tomlKey]
        }
        func int(_ flag: Int?, _ envKey: String, _ tomlKey: String) throws -> Int? {
            if let flag { return flag }
            guard let s = env[envKey] ?? file[tomlKey] else { return nil }
            guard let v = Int(s), v >= 0 else {
                throw ValidationError("\(envKey) / \(tomlKey) must be a whole number, got '\(s)'")
            }
            return v
        }
        func bool(_ flag: Bool?, _ envKey: String, _ tomlKey: String) throws -> Bool? {
            if let flag { return flag }
            guard let s = (env[envKey] ?? file[tomlKey])?.lowercased() else { return nil }
            switch s {
            case "1", "true", "yes", "on": return true
            case "0", "false", "no", "off": return false
            default: throw ValidationError("\(envKey) / \(tomlKey) must be true or false, got '\(s)'")
            }
        }
        var c = VigilConfiguration()
        if let v = value(dataDir, "VIGIL_DATA_DIR", "data_dir") { c.dataDirectory = v }
        c.databaseURL = value(databaseURL, "VIGIL_DATABASE_URL", "database_url").flatMap { $0.isEmpty ? nil : $0 }
        if let v = value(host, "VIGIL_HOST", "host") { c.host = v }
        if let v = try int(port, "VIGIL_PORT", "port") {
            guard (1...65535).contains(v) else { throw ValidationError("port must be between 1 and 65535") }
            c.port = v
        }
        c.publicURL = value(publicURL, "VIGIL_PUBLIC_URL", "public_url")
        c.secureCookies = try bool(secureCookies, "VIGIL_SECURE_COOKIES", "secure_cookies")
        if let v = try int(sessionIdleMinutes, "VIGIL_SESSION_IDLE_MINUTES", "session_idle_minutes") {
            c.sessionIdleTimeout = TimeInterval(v * 60)
        }
        if let v = try int(sessionMaxHours, "VIGIL_SESSION_MAX_HOURS", "session_max_hours") {
            c.sessionAbsoluteTimeout = TimeInterval(v * 3600)
        }
        if let v = try int(lockoutThreshold, "VIGIL_LOCKOUT_THRESHOLD", "lockout_threshold") {
            c.lockoutThreshold = max(1, v)
        }
        if let v = try int(lockoutMinutes, "VIGIL_LOCKOUT_MINUTES", "lockout_minutes") {
            c.lockoutDuration = TimeInterval(v * 60)
        }
        if let v = try int(apiRequestsPerMinute, "VIGIL_API_REQUESTS_PER_MINUTE", "api_requests_per_minute") {
            c.apiRequestsPerMinute = max(1, v)
        }
        if let v = try int(maxBodyKB, "VIGIL_MAX_BODY_KB", "max_body_kb") { c.maxBodyBytes = max(1, v) * 1024 }
        if let v = value(logLevel, "VIGIL_LOG_LEVEL", "log_level") {
            guard Logger.Level(rawValue: v) != nil else {
                throw ValidationError("log level must be one of trace, debug, info, notice, warning, error, critical")
            }
            c.logLevel = v
        }
        if let v = value(siteName, "VIGIL_SITE_NAME", "site_name") { c.siteName = v }
        if let v = value(emergencyNumber, "VIGIL_EMERGENCY_NUMBER", "emergency_number") { c.emergencyNumber = v }
        if let v = value(helplineName, "VIGIL_HELPLINE_NAME", "helpline_name") { c.helplineName = v }
        if let v = value(helplineNumber, "VIGIL_HELPLINE_NUMBER", "helpline_number") { c.helplineNumber = v }
        if let v = try int(publicReportsPerHour, "VIGIL_PUBLIC_REPORTS_PER_HOUR", "public_reports_per_hour") {
            c.publicReportsPerHour = max(1, v)
        }
        if let v = try int(standardAssessmentDays, "VIGIL_STANDARD_ASSESSMENT_DAYS", "standard_assessment_days") {
            guard (3...10).contains(v) else {
                throw ValidationError("standard assessment days must be between 3 and 10")
            }
            c.standardAssessmentDays = v
        }
        if let v = try int(contactRetentionDays, "VIGIL_CONTACT_RETENTION_DAYS", "contact_retention_days") {
            guard (0...3650).contains(v) else {
                throw ValidationError("contact retention days must be between 0 and 3650")
            }
            c.contactRetentionDays = v
        }
        func list(_ text: String?, separator: Character) -> [String]? {
            text.map {
                $0.split(separator: separator).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            }
        }
        if let v = list(value(legalProvisions, "VIGIL_LEGAL_PROVISIONS", "legal_provisions"), separator: ";") {
            c.legalProvisions = v
        }
        if let v = list(value(contentCategories, "VIGIL_CONTENT_CATEGORIES", "content_categories"), separator: ";") {
            c.contentCategories = v
        }
        if let v = list(value(fourEyes, "VIGIL_FOUR_EYES", "four_eyes"), separator: ",") {
            let known = ["list-entry", "notice", "le-referral", "partner-referral"]
            if v == ["all"] {
                c.fourEyes = known
            } else if v == ["none"] {
                c.fourEyes = []
            } else {
                for k in v where !known.contains(k) {
                    throw ValidationError(
                        "four-eyes: unknown decision '\(k)'; use \(known.joined(separator: ", ")), all or none")
                }
                c.fourEyes = v
            }
        }
        if let v = try int(listVerificationDays, "VIGIL_LIST_VERIFICATION_DAYS", "list_verification_days") {
            guard (1...90).contains(v) else { throw ValidationError("list verification days must be between 1 and 90") }
            c.listVerificationDays = v
        }
        if let v = list(value(listCriteria, "VIGIL_LIST_CRITERIA", "list_criteria"), separator: ";") {
            for k in v where !k.contains(":") { throw ValidationError("list criteria: '\(k)' must read 'CODE: text'") }
            c.listCriteria = v
        }
        if let v = try int(listCheckHours, "VIGIL_LIST_CHECK_HOURS", "list_check_hours") {
            c.listCheckHours = max(1, v)
        }
        c.listCheckProxy = value(listCheckProxy, "VIGIL_LIST_CHECK_PROXY", "list_check_proxy").flatMap {
            $0.isEmpty ? nil : $0
        }
        c.listCheckImages = try bool(listCheckImages, "VIGIL_LIST_CHECK_IMAGES", "list_check_images") ?? false
        c.listDropGone = try bool(listDropGone, "VIGIL_LIST_DROP_GONE", "list_drop_gone") ?? false
        c.stopIPv4 = value(stopIPv4, "VIGIL_STOP_IPV4", "stop_ipv4").flatMap { $0.isEmpty ? nil : $0 }
        c.stopIPv6 = value(stopIPv6, "VIGIL_STOP_IPV6", "stop_ipv6").flatMap { $0.isEmpty ? nil : $0 }
        if let v = value(stopLegalBasis, "VIGIL_STOP_LEGAL_BASIS", "stop_legal_basis") { c.stopLegalBasis = v }
        if let v = value(stopHelpName, "VIGIL_STOP_HELP_NAME", "stop_help_name") { c.stopHelpName = v }
        if let v = value(stopHelpContact, "VIGIL_STOP_HELP_CONTACT", "stop_help_contact") { c.stopHelpContact = v }
        if let v = value(canaryDomain, "VIGIL_CANARY_DOMAIN", "canary_domain"), !v.isEmpty {
            guard let t = try? ListTarget(kind: .domain, parsing: v) else {
                throw ValidationError("canary domain '\(v)' is not a host name")
            }
            c.canaryDomain = t.value
        }
        c.smtpHost = value(smtpHost, "VIGIL_SMTP_HOST", "smtp_host").flatMap { $0.isEmpty ? nil : $0 }
        if let v = try int(smtpPort, "VIGIL_SMTP_PORT", "smtp_port") {
            guard (1...65535).contains(v) else { throw ValidationError("smtp port must be between 1 and 65535") }
            c.smtpPort = v
        }
        if let v = value(smtpFrom, "VIGIL_SMTP_FROM", "smtp_from") { c.smtpFrom = v }
        c.smtpUsername = value(smtpUsername, "VIGIL_SMTP_USERNAME", "smtp_username").flatMap { $0.isEmpty ? nil : $0 }
        c.smtpPassword = value(smtpPassword, "VIGIL_SMTP_PASSWORD", "smtp_password").flatMap { $0.isEmpty ? nil : $0 }
        if let v = value(smtpTLS, "VIGIL_SMTP_TLS", "smtp_tls"), !v.isEmpty {
            guard let mode = SMTPSecurity(rawValue: v.lowercased()) else {
                throw ValidationError("smtp_tls must be starttls, tls or none, got '\(v)'")
            }
            c.smtpTLS = mode
        }
        if let v = value(smtpCAFile, "VIGIL_SMTP_CA_FILE", "smtp_ca_file"), !v.isEmpty {
            guard FileManager.default.isReadableFile(atPath: v) else {
                throw ValidationError("smtp_ca_file: cannot read \(v)")
            }
            c.smtpCAFile = v
        }
        if let v = value(noticeBounceAddress, "VIGIL_NOTICE_BOUNCE_ADDRESS", "notice_bounce_address"), !v.isEmpty {
            let parts = v.split(separator: "@")
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, !v.contains(" "), !parts[0].contains("+")
            else {
                throw ValidationError(
                    "notice_bounce_address must be an e-mail address without '+', such as bounces@hotline.example, got '\(v)'"
                )
            }
            c.noticeBounceAddress = v
        }
        c.noticeRegistrar = try bool(noticeRegistrar, "VIGIL_NOTICE_REGISTRAR", "notice_registrar") ?? false
        if let v = try int(noticeRenotifyHours, "VIGIL_NOTICE_RENOTIFY_HOURS", "notice_renotify_hours") {
            c.noticeRenotifyHours = max(1, v)
        }
        if let v = try int(noticeMaxSends, "VIGIL_NOTICE_MAX_SENDS", "notice_max_sends") {
            c.noticeMaxSends = max(1, v)
        }
        if let v = try int(noticeRecheckMinutes, "VIGIL_NOTICE_RECHECK_MINUTES", "notice_recheck_minutes") {
            c.noticeRecheckMinutes = max(1, v)
        }
        if let v = try int(jobLeaseSeconds, "VIGIL_JOB_LEASE_SECONDS", "job_lease_seconds") {
            c.jobLeaseSeconds = max(1, v)
        }
        do {
            c.fetchPolicy = try OutboundAddressPolicy(
                allowing: value(fetchAllowCIDRs, "VIGIL_FETCH_ALLOW_CIDRS", "fetch_allow_cidrs"))
            c.trustedProxies = try OutboundAddressPolicy(
                allowing: value(trustedProxies, "VIGIL_TRUSTED_PROXIES", "trusted_proxies"), setting: "trusted_proxies"
            ).allowed
        } catch {
            throw ValidationError(error.description)
        }
        c.dnsResolver = value(dnsResolver, "VIGIL_DNS_RESOLVER", "dns_resolver").flatMap { $0.isEmpty ? nil : $0 }
        for (flag, env, key, path) in [
            (geoipCountryDB, "VIGIL_GEOIP_COUNTRY_DB", "geoip_country_db", \VigilConfiguration.geoipCountryDB),
            (geoipASNDB, "VIGIL_GEOIP_ASN_DB", "geoip_asn_db", \VigilConfiguration.geoipASNDB),
        ] {
            if let v = value(flag, env, key), !v.isEmpty {
                guard FileManager.default.isReadableFile(atPath: v) else {
                    throw ValidationError("\(key): cannot read \(v)")
                }
                c[keyPath: path] = v
            }
        }
        c.rdapURL = value(rdapURL, "VIGIL_RDAP_URL", "rdap_url").flatMap { $0.isEmpty ? nil : $0 }
        c.demoData = try bool(demoData ? true : nil, "VIGIL_DEMO_DATA", "demo_data") ?? false
        if let v = value(country, "VIGIL_COUNTRY", "country")?.trimmingCharacters(in: .whitespaces), !v.isEmpty {
            let code = v.uppercased()
            guard code.utf8.count == 2, code.utf8.allSatisfy({ $0 >= 0x41 && $0 <= 0x5A }) else {
                throw ValidationError("country must be a two-letter ISO 3166-1 code such as FR, got '\(v)'")
            }
            c.country = code
        }
        if let v = value(countryName, "VIGIL_COUNTRY_NAME", "country_name")?.trimmingCharacters(in: .whitespaces),
            !v.isEmpty
        {
            c.countryName = v
        }
        return c
    }

    /// Reads a flat TOML file into strings.
    static func parseTOML(_ text: String, path: String) throws -> [String: String] {
        let table: TOMLTable
        do { table = try TOMLTable(string: text) } catch {
            throw ValidationError("\(path) is not valid TOML: \(error)")
        }
        var out: [String: String] = [:]
        let known = Set(VigilConfiguration.settings.map(\.toml))
        for (key, value) in table {
            guard known.contains(key) else {
                throw ValidationError(
                    "\(path): unknown setting '\(key)'; known: \(known.sorted().joined(separator: ", "))")
            }
            if let s = value.string {
                out[key] = s
            } else if let i = value.int {
                out[key] = String(i)
            } else if let b = value.bool {
                out[key] = String(b)
            } else {
                throw ValidationError("\(path): '\(key)' must be a string, number or boolean")
            }
        }
        return out
    }
}
