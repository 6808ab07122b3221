import Foundation

/// Everything `vigil serve` and the database commands need, read once at start
/// (flags > `VIGIL_*` environment > `vigil.toml` > defaults) and passed down as a value.
public struct VigilConfiguration: Sendable, Equatable {
    /// Folder for the SQLite database, the signing key and other local state.
    public var dataDirectory: String = "./vigil-data"
    /// `postgres://user:pass@host:port/db`; nil means SQLite in the data directory.
    public var databaseURL: String?
    public var host: String = "127.0.0.1"
    public var port: Int = 8080
    /// The address people use to reach this server; links in e-mails and on the console use it.
    public var publicURL: String?
    /// Mark cookies Secure. Defaults to on when `publicURL` is https.
    public var secureCookies: Bool?
    /// Sign staff out after this much inactivity.
    public var sessionIdleTimeout: TimeInterval = 30 * 60
    /// Sign staff out this long after sign-in, whatever they do.
    public var sessionAbsoluteTimeout: TimeInterval = 12 * 3600
    /// Failed sign-ins (password or code) before an account is locked.
    public var lockoutThreshold: Int = 5
    /// How long a locked account stays locked.
    public var lockoutDuration: TimeInterval = 15 * 60
    /// Failed sign-ins from one address within `addressWindow` before that address is refused.
    public var addressFailureLimit: Int = 20
    public var addressWindow: TimeInterval = 15 * 60
    /// Requests per minute one partner API key may make.
    public var apiRequestsPerMinute: Int = 600
    /// Largest request body accepted, in bytes.
    public var maxBodyBytes: Int = 1 << 20
    /// How long a setup link stays valid.
    public var setupLinkLifetime: TimeInterval = 24 * 3600
    /// Log level: trace, debug, info, notice, warning, error, critical.
    public var logLevel: String = "info"
    /// Name shown in page titles and in authenticator apps.
    public var siteName: String = "Vigil"
    /// The emergency number shown on public pages.
    public var emergencyNumber: String = "112"
    /// The child helpline named on public pages.
    public var helplineName: String = "the national child helpline"
    public var helplineNumber: String = "116 111"
    /// Reports one address may send per hour through the public form and API (kept in memory only).
    public var publicReportsPerHour: Int = 30
    /// Working days to assess a report from the public (reports from hotlines, police and platforms: 1).
    public var standardAssessmentDays: Int = 5
    /// Days after a case closes before its reporters' contact details are deleted (default 90; 0: at once).
    public var contactRetentionDays: Int = Int(ContactRetention.defaultPeriod / 86_400)
    /// The retention rule for reporters' contact details.
    public var contactRetention: ContactRetention {
        ContactRetention(period: TimeInterval(contactRetentionDays) * 86_400)
    }
    /// The national legal provisions analysts choose from (empty: free text).
    public var legalProvisions: [String] = []
    /// The operator's content categories analysts choose from (empty: free text).
    public var contentCategories: [String] = []
    /// Decisions that need a second analyst's confirmation (raw values of `CaseDecision.Kind`).
    public var fourEyes: [String] = ["list-entry"]
    /// Days a block-list verification lasts; an entry not re-verified in time leaves the list (default 7).
    public var listVerificationDays: Int = 7
    /// The published criteria a block-list entry must meet, each `CODE: text`.
    public var listCriteria: [String] = [
        "A: The address shows, or links directly to, images or videos of the sexual abuse of a child, illegal under the legal basis named on the STOP page.",
        "B: The whole host (domain) is dedicated to such material; nothing legitimate is served from it.",
        "N: The newsgroup is dedicated to distributing such material.",
    ]
    /// Hours between automated checks of each active entry (default 12).
    public var listCheckHours: Int = 12
    /// HTTP proxy the automated checks go through (`http://host:port`), if any.
    public var listCheckProxy: String?
    /// Also fetch a listed page's images (under the same outbound-fetch policy) and count those in the national
    /// hash set (default off: only the listed address itself is fetched).
    public var listCheckImages: Bool = false
    /// Remove entries automatically once repeated checks find the content gone (default: mark them for an analyst).
    public var listDropGone: Bool = false
    /// The STOP page's IPv4 and IPv6 addresses that RPZ and hosts feeds answer with (default: the listen address
    /// when it is an IP literal other than 0.0.0.0).
    public var stopIPv4: String?
    public var stopIPv6: String?
    /// The legal basis the STOP page names.
    public var stopLegalBasis: String = "the national law against child sexual abuse material"
    /// Help offered on the STOP page to anyone worried about their own thoughts or behaviour.
    public var stopHelpName: String =
        "a confidential, anonymous helpline for people worried about their own thoughts or behaviour"
    public var stopHelpContact: String = ""
    /// A harmless canary domain Vigil publishes in every feed (served by Vigil itself), so partners can check that
    /// their resolver or proxy applies the current list; none when empty.
    public var canaryDomain: String?
    /// The SMTP relay notices go through (none: notices wait, with that reason shown).
    public var smtpHost: String?
    public var smtpPort: Int = 25
    public var smtpFrom: String = "hotline@localhost"
    public var smtpUsername: String?
    public var smtpPassword: String?
    /// How the SMTP connection is protected (default ``SMTPSecurity/starttls``).
    public var smtpTLS: SMTPSecurity = .starttls
    /// PEM file of certificate authorities the relay's certificate is checked against, besides the system's.
    public var smtpCAFile: String?
    /// Where bounces of notices go (the envelope sender, e.g. `bounces@hotline.example`); each notice uses
    /// `bounces+TOKEN@hotline.example` so a bounce names its notice. None: the `smtp_from` address.
    public var noticeBounceAddress: String?
    /// Also notify the registrar of the domain (its abuse contact from RDAP) of content hosted in the country.
    public var noticeRegistrar: Bool = false
    /// Hours after a notice before the host is notified again while the content stays online (default 24).
    public var noticeRenotifyHours: Int = 24
    /// Sends of one notice before it is escalated to the supervisors (default 3).
    public var noticeMaxSends: Int = 3
    /// Minutes between rechecks of noticed URLs (default 60).
    public var noticeRecheckMinutes: Int = 60
    /// How long a process holds a claimed job before another process may take it up (default 300 s): a process
    /// that dies mid-job delays that job by at most this long.
    public var jobLeaseSeconds: Int = 300
    /// Which addresses Vigil may fetch on behalf of data it was given: public ones, and the ranges the operator
    /// allowed (`fetch_allow_cidrs`, for a lab or the tests).
    public var fetchPolicy = OutboundAddressPolicy()
    /// Reverse proxies whose `X-Forwarded-For` / `Forwarded` headers are believed (`trusted_proxies`; none by
    /// default: the socket's peer is the client).
    public var trustedProxies: [IPRange] = []
    /// The DNS resolver attribution asks (`host:port`; default: the first nameserver in /etc/resolv.conf).
    public var dnsResolver: String?
    /// MaxMind-format databases for attribution: country (GeoLite2-Country/City, DB-IP) and ASN (GeoLite2-ASN).
    public var geoipCountryDB: String?
    public var geoipASNDB: String?
    /// RDAP service for abuse contacts (for example https://rdap.org); none: the analyst records the contact.
    public var rdapURL: String?
    /// Insert demonstration data on first start (used by `make run`).
    public var demoData: Bool = false
    /// The operator's country (ISO 3166-1 alpha-2, upper case), for the policy pages; nil when not set.
    public var country: String?
    /// The operator's country as the global legislation review spells it (`France`, `South Africa`).
    public var countryName: String?

    public init() {}

    /// The base URL for links.
    public var baseURL: String {
        if let p = publicURL, !p.isEmpty { return p.hasSuffix("/") ? String(p.dropLast()) : p }
        let h = host.contains(":") ? "[\(host)]" : host
        return "http://\(h == "0.0.0.0" ? "127.0.0.1" : h):\(port)"
    }

    /// Whether cookies carry the Secure attribute.
    /// The STOP address for DNS feeds: the configured one, else the listen address when it is a usable IPv4.
    public var effectiveStopIPv4: String? {
        if let stopIPv4, !stopIPv4.isEmpty { return stopIPv4 }
        let parts = host.split(separator: ".")
        guard parts.count == 4, parts.allSatisfy({ UInt8($0) != nil }), host != "0.0.0.0" else { return nil }
        return host
    }

    public var cookiesAreSecure: Bool { secureCookies ?? baseURL.lowercased().hasPrefix("https://") }

    /// The SQLite file used when no database URL is set.
    public var sqlitePath: String { (dataDirectory as NSString).appendingPathComponent("vigil.sqlite") }

    /// Every setting with its environment variable, TOML key and help, for `--help` and the README.
    public static let settings: [(flag: String, env: String, toml: String, help: String)] = [
        ("--data-dir", "VIGIL_DATA_DIR", "data_dir", "folder for the SQLite database and keys (default ./vigil-data)"),
        ("--database-url", "VIGIL_DATABASE_URL", "database_url", "postgres://… to use PostgreSQL instead of SQLite"),
        ("--host", "VIGIL_HOST", "host", "address to listen on (default 127.0.0.1)"),
        ("--port", "VIGIL_PORT", "port", "port to listen on (default 8080)"),
        ("--public-url", "VIGIL_PUBLIC_URL", "public_url", "address people use to reach Vigil, for links"),
        (
            "--secure-cookies", "VIGIL_SECURE_COOKIES", "secure_cookies",
            "true/false; default: true when public URL is https"
        ),
        (
            "--session-idle-minutes", "VIGIL_SESSION_IDLE_MINUTES", "session_idle_minutes",
            "sign out after inactivity (default 30)"
        ),
        (
            "--session-max-hours", "VIGIL_SESSION_MAX_HOURS", "session_max_hours",
            "sign out after this long regardless (default 12)"
        ),
        (
            "--lockout-threshold", "VIGIL_LOCKOUT_THRESHOLD", "lockout_threshold",
            "failed sign-ins before an account locks (default 5)"
        ),
        (
            "--lockout-minutes", "VIGIL_LOCKOUT_MINUTES", "lockout_minutes",
            "how long a locked account stays locked (default 15)"
        ),
        (
            "--api-requests-per-minute", "VIGIL_API_REQUESTS_PER_MINUTE", "api_requests_per_minute",
            "requests per minute per partner API key (default 600)"
        ),
        ("--max-body-kb", "VIGIL_MAX_BODY_KB", "max_body_kb", "largest request body in KiB (default 1024)"),
        ("--log-level", "VIGIL_LOG_LEVEL", "log_level", "trace|debug|info|notice|warning|error (default info)"),
        ("--site-name", "VIGIL_SITE_NAME", "site_name", "name in page titles and authenticator apps (default Vigil)"),
        (
            "--emergency-number", "VIGIL_EMERGENCY_NUMBER", "emergency_number",
            "emergency number on public pages (default 112)"
        ),
        ("--helpline-name", "VIGIL_HELPLINE_NAME", "helpline_name", "child helpline named on public pages"),
        ("--helpline-number", "VIGIL_HELPLINE_NUMBER", "helpline_number", "child helpline number (default 116 111)"),
        (
            "--public-reports-per-hour", "VIGIL_PUBLIC_REPORTS_PER_HOUR", "public_reports_per_hour",
            "reports one address may send per hour (default 30)"
        ),
        (
            "--standard-assessment-days", "VIGIL_STANDARD_ASSESSMENT_DAYS", "standard_assessment_days",
            "working days to assess public reports, 3-10 (default 5)"
        ),
        (
            "--contact-retention-days", "VIGIL_CONTACT_RETENTION_DAYS", "contact_retention_days",
            "days after closing before reporters' contacts are deleted, 0-3650 (default 90)"
        ),
        (
            "--legal-provisions", "VIGIL_LEGAL_PROVISIONS", "legal_provisions",
            "national legal provisions, separated by ';'"
        ),
        (
            "--content-categories", "VIGIL_CONTENT_CATEGORIES", "content_categories",
            "content categories, separated by ';'"
        ),
        (
            "--four-eyes", "VIGIL_FOUR_EYES", "four_eyes",
            "decisions needing a second analyst: list-entry,notice,le-referral,partner-referral, all or none (default list-entry)"
        ),
        (
            "--list-verification-days", "VIGIL_LIST_VERIFICATION_DAYS", "list_verification_days",
            "days a block-list verification lasts (default 7)"
        ),
        (
            "--list-criteria", "VIGIL_LIST_CRITERIA", "list_criteria",
            "published block-list criteria, each 'CODE: text', separated by ';'"
        ),
        (
            "--list-check-hours", "VIGIL_LIST_CHECK_HOURS", "list_check_hours",
            "hours between automated checks of listed addresses (default 12)"
        ),
        (
            "--list-check-proxy", "VIGIL_LIST_CHECK_PROXY", "list_check_proxy",
            "http://host:port proxy for the automated checks"
        ),
        (
            "--list-check-images", "VIGIL_LIST_CHECK_IMAGES", "list_check_images",
            "true to also fetch a listed page's images and match them against the hash set (default false)"
        ),
        (
            "--list-drop-gone", "VIGIL_LIST_DROP_GONE", "list_drop_gone",
            "true to remove entries whose content checks find gone (default: mark them)"
        ),
        (
            "--stop-ipv4", "VIGIL_STOP_IPV4", "stop_ipv4",
            "STOP page IPv4 address for RPZ and hosts feeds (default: the listen address)"
        ),
        ("--stop-ipv6", "VIGIL_STOP_IPV6", "stop_ipv6", "STOP page IPv6 address for RPZ and hosts feeds"),
        ("--stop-legal-basis", "VIGIL_STOP_LEGAL_BASIS", "stop_legal_basis", "legal basis named on the STOP page"),
        (
            "--stop-help-name", "VIGIL_STOP_HELP_NAME", "stop_help_name",
            "help offered on the STOP page to people worried about their own behaviour"
        ),
        ("--stop-help-contact", "VIGIL_STOP_HELP_CONTACT", "stop_help_contact", "that help's phone number or address"),
        (
            "--canary-domain", "VIGIL_CANARY_DOMAIN", "canary_domain",
            "harmless canary domain published in every feed (served by Vigil)"
        ),
        ("--smtp-host", "VIGIL_SMTP_HOST", "smtp_host", "SMTP relay for notices (none: notices wait)"),
        ("--smtp-port", "VIGIL_SMTP_PORT", "smtp_port", "SMTP relay port (default 25)"),
        ("--smtp-from", "VIGIL_SMTP_FROM", "smtp_from", "sender address of notices"),
        ("--smtp-username", "VIGIL_SMTP_USERNAME", "smtp_username", "SMTP AUTH user, if the relay needs one"),
        ("--smtp-password", "VIGIL_SMTP_PASSWORD", "smtp_password", "SMTP AUTH password"),
        (
            "--smtp-tls", "VIGIL_SMTP_TLS", "smtp_tls",
            "starttls (default: required off loopback; on loopback only with smtp_ca_file), tls (port 465) or none"
        ),
        (
            "--smtp-ca-file", "VIGIL_SMTP_CA_FILE", "smtp_ca_file",
            "PEM certificate authorities to trust for the relay, besides the system's"
        ),
        (
            "--notice-bounce-address", "VIGIL_NOTICE_BOUNCE_ADDRESS", "notice_bounce_address",
            "envelope sender for notices, e.g. bounces@hotline.example (bounces+TOKEN@…)"
        ),
        (
            "--notice-registrar", "VIGIL_NOTICE_REGISTRAR", "notice_registrar",
            "true to also notify the domain's registrar (abuse contact from RDAP)"
        ),
        (
            "--notice-renotify-hours", "VIGIL_NOTICE_RENOTIFY_HOURS", "notice_renotify_hours",
            "hours before re-notifying while content stays online (default 24)"
        ),
        (
            "--notice-max-sends", "VIGIL_NOTICE_MAX_SENDS", "notice_max_sends",
            "sends before a notice is escalated to supervisors (default 3)"
        ),
        (
            "--notice-recheck-minutes", "VIGIL_NOTICE_RECHECK_MINUTES", "notice_recheck_minutes",
            "minutes between rechecks of noticed URLs (default 60)"
        ),
        (
            "--job-lease-seconds", "VIGIL_JOB_LEASE_SECONDS", "job_lease_seconds",
            "how long a process holds a claimed job before another may take it (default 300)"
        ),
        (
            "--fetch-allow-cidrs", "VIGIL_FETCH_ALLOW_CIDRS", "fetch_allow_cidrs",
            "address ranges checks and webhooks may reach although not public, e.g. 10.9.0.0/16 (default none)"
        ),
        (
            "--trusted-proxies", "VIGIL_TRUSTED_PROXIES", "trusted_proxies",
            "reverse proxies (CIDRs) whose X-Forwarded-For is believed, e.g. 127.0.0.1/32 (default none)"
        ),
        (
            "--dns-resolver", "VIGIL_DNS_RESOLVER", "dns_resolver",
            "resolver attribution asks, host:port (default: /etc/resolv.conf)"
        ),
        (
            "--geoip-country-db", "VIGIL_GEOIP_COUNTRY_DB", "geoip_country_db",
            "MaxMind-format country database (GeoLite2-Country, DB-IP)"
        ),
        ("--geoip-asn-db", "VIGIL_GEOIP_ASN_DB", "geoip_asn_db", "MaxMind-format ASN database (GeoLite2-ASN)"),
        (
            "--rdap-url", "VIGIL_RDAP_URL", "rdap_url",
            "RDAP service for abuse contacts, e.g. https://rdap.org (none: analysts record them)"
        ),
        ("--demo-data", "VIGIL_DEMO_DATA", "demo_data", "true to add demonstration data on first start"),
        (
            "--country", "VIGIL_COUNTRY", "country",
            "the operator's country, ISO 3166-1 alpha-2 (e.g. FR), for the policy pages"
        ),
        (
            "--country-name", "VIGIL_COUNTRY_NAME", "country_name",
            "the country's name as the global legislation review spells it (e.g. France)"
        ),
    ]
}

/// How Vigil protects its connection to the SMTP relay.
public enum SMTPSecurity: String, Sendable, CaseIterable {
    /// Upgrade with STARTTLS and check the relay's certificate. Required, except for a relay on loopback (the same
    /// machine: there is no wire to protect), which is upgraded only when `smtp_ca_file` names its authority.
    case starttls
    /// TLS from the first byte (SMTPS, usually port 465).
    case tls
    /// Plain SMTP: only for a relay on a network the operator trusts.
    case none
}
