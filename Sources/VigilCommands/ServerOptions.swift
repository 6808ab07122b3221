import ArgumentParser
import Foundation
import TOMLKit
import VigilCore

/// Every setting as a flag, for `vigil serve` and the commands that run the server's jobs. Each flag is declared
/// here by name only: its spelling (`--smtp-host`), help line, variable (`VIGIL_SMTP_HOST`), TOML key and checks
/// come from `Settings.all` in VigilCore, where each setting is declared once. A property is the setting's key in
/// camel case (a test checks that every setting has one and every property a setting).
/// Precedence: flags > `VIGIL_*` environment > `vigil.toml` > defaults, resolved once into `VigilConfiguration`.
struct ServerOptions: ParsableArguments {
    @Option(name: .customLong("config"), help: .configFile) var configFile: String?
    @Option(help: .setting("data_dir")) var dataDir: String?
    @Option(help: .setting("database_url")) var databaseUrl: String?
    @Option(help: .setting("host")) var host: String?
    @Option(help: .setting("port")) var port: String?
    @Option(help: .setting("public_url")) var publicUrl: String?
    @Option(help: .setting("secure_cookies")) var secureCookies: String?
    @Option(help: .setting("session_idle_minutes")) var sessionIdleMinutes: String?
    @Option(help: .setting("session_max_hours")) var sessionMaxHours: String?
    @Option(help: .setting("lockout_threshold")) var lockoutThreshold: String?
    @Option(help: .setting("lockout_minutes")) var lockoutMinutes: String?
    @Option(help: .setting("api_requests_per_minute")) var apiRequestsPerMinute: String?
    @Option(help: .setting("max_body_kb")) var maxBodyKb: String?
    @Option(help: .setting("log_level")) var logLevel: String?
    @Option(help: .setting("site_name")) var siteName: String?
    @Option(help: .setting("emergency_number")) var emergencyNumber: String?
    @Option(help: .setting("urgent_alert_to")) var urgentAlertTo: String?
    @Option(help: .setting("urgent_alert_webhook")) var urgentAlertWebhook: String?
    @Option(help: .setting("urgent_webhook_secret")) var urgentWebhookSecret: String?
    @Option(help: .setting("urgent_ack_minutes")) var urgentAckMinutes: String?
    @Option(help: .setting("urgent_le_contact")) var urgentLeContact: String?
    @Option(help: .setting("time_zone")) var timeZone: String?
    @Option(help: .setting("helpline_name")) var helplineName: String?
    @Option(help: .setting("helpline_number")) var helplineNumber: String?
    @Option(help: .setting("public_reports_per_hour")) var publicReportsPerHour: String?
    @Option(help: .setting("standard_assessment_days")) var standardAssessmentDays: String?
    @Option(help: .setting("contact_retention_days")) var contactRetentionDays: String?
    @Option(help: .setting("hash_reviews_required")) var hashReviewsRequired: String?
    @Option(help: .setting("hash_dispute_threshold")) var hashDisputeThreshold: String?
    @Option(help: .setting("legal_provisions")) var legalProvisions: String?
    @Option(help: .setting("content_categories")) var contentCategories: String?
    @Option(help: .setting("four_eyes")) var fourEyes: String?
    @Option(help: .setting("list_verification_days")) var listVerificationDays: String?
    @Option(help: .setting("list_criteria")) var listCriteria: String?
    @Option(help: .setting("list_check_hours")) var listCheckHours: String?
    @Option(help: .setting("list_check_proxy")) var listCheckProxy: String?
    @Option(help: .setting("list_check_images")) var listCheckImages: String?
    @Option(help: .setting("list_drop_gone")) var listDropGone: String?
    @Option(help: .setting("stop_ipv4")) var stopIpv4: String?
    @Option(help: .setting("stop_ipv6")) var stopIpv6: String?
    @Option(help: .setting("stop_legal_basis")) var stopLegalBasis: String?
    @Option(help: .setting("stop_help_name")) var stopHelpName: String?
    @Option(help: .setting("stop_help_contact")) var stopHelpContact: String?
    @Option(help: .setting("canary_domain")) var canaryDomain: String?
    @Option(help: .setting("smtp_host")) var smtpHost: String?
    @Option(help: .setting("smtp_port")) var smtpPort: String?
    @Option(help: .setting("smtp_from")) var smtpFrom: String?
    @Option(help: .setting("smtp_username")) var smtpUsername: String?
    @Option(help: .setting("smtp_password")) var smtpPassword: String?
    @Option(help: .setting("smtp_tls")) var smtpTls: String?
    @Option(help: .setting("smtp_ca_file")) var smtpCaFile: String?
    @Option(help: .setting("notice_bounce_address")) var noticeBounceAddress: String?
    @Option(help: .setting("notice_registrar")) var noticeRegistrar: String?
    @Option(help: .setting("notice_renotify_hours")) var noticeRenotifyHours: String?
    @Option(help: .setting("notice_max_sends")) var noticeMaxSends: String?
    @Option(help: .setting("notice_recheck_minutes")) var noticeRecheckMinutes: String?
    @Option(help: .setting("job_lease_seconds")) var jobLeaseSeconds: String?
    @Option(help: .setting("fetch_allow_cidrs")) var fetchAllowCidrs: String?
    @Option(help: .setting("trusted_proxies")) var trustedProxies: String?
    @Option(help: .setting("dns_resolver")) var dnsResolver: String?
    @Option(help: .setting("geoip_country_db")) var geoipCountryDb: String?
    @Option(help: .setting("geoip_asn_db")) var geoipAsnDb: String?
    @Option(help: .setting("rdap_url")) var rdapUrl: String?
    @Flag(help: .setting("demo_data")) var demoData = false
    @Option(help: .setting("country")) var country: String?
    @Option(help: .setting("country_name")) var countryName: String?

    /// The flags given, by setting key (read from the properties, so a new setting needs only its property).
    var given: [String: String] {
        var out: [String: String] = [:]
        for child in Mirror(reflecting: self).children {
            guard let label = child.label, label.hasPrefix("_") else { continue }
            let key = Self.key(forProperty: String(label.dropFirst()))
            if let option = child.value as? Option<String?>, let value = option.wrappedValue {
                out[key] = value
            } else if let flag = child.value as? Flag<Bool>, flag.wrappedValue {
                out[key] = "true"
            }
        }
        return out
    }

    /// `smtp_host` for `smtpHost`, `max_body_kb` for `maxBodyKb`.
    static func key(forProperty name: String) -> String {
        var key = ""
        for ch in name {
            if ch.isUppercase {
                key += "_" + ch.lowercased()
            } else {
                key.append(ch)
            }
        }
        return key
    }

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
        let flags = given
        do {
            return try Settings.resolve { flags[$0.key] ?? env[$0.env] ?? file[$0.key] }
        } catch {
            throw ValidationError(error.description)
        }
    }

    /// Reads a flat TOML file into strings.
    static func parseTOML(_ text: String, path: String) throws -> [String: String] {
        let table: TOMLTable
        do { table = try TOMLTable(string: text) } catch {
            throw ValidationError("\(path) is not valid TOML: \(error)")
        }
        var out: [String: String] = [:]
        let known = Set(Settings.all.map(\.key))
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

extension ArgumentHelp {
    /// `--config`, which every command that reads settings takes.
    static let configFile = ArgumentHelp(
        "Configuration file (TOML). Default: ./vigil.toml when present. Env: VIGIL_CONFIG.")

    /// The help line of the setting with this key (`Settings.all`).
    static func setting(_ key: String) -> ArgumentHelp {
        guard let setting = Settings.named(key) else { preconditionFailure("no setting named \(key)") }
        return ArgumentHelp(setting.flagHelp)
    }
}
