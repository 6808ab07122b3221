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
    /// The national legal provisions analysts choose from (empty: free text).
    public var legalProvisions: [String] = []
    /// The operator's content categories analysts choose from (empty: free text).
    public var contentCategories: [String] = []
    /// Decisions that need a second analyst's confirmation (raw values of `CaseDecision.Kind`).
    public var fourEyes: [String] = ["list-entry"]
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
        ("--secure-cookies", "VIGIL_SECURE_COOKIES", "secure_cookies", "true/false; default: true when public URL is https"),
        ("--session-idle-minutes", "VIGIL_SESSION_IDLE_MINUTES", "session_idle_minutes", "sign out after inactivity (default 30)"),
        ("--session-max-hours", "VIGIL_SESSION_MAX_HOURS", "session_max_hours", "sign out after this long regardless (default 12)"),
        ("--lockout-threshold", "VIGIL_LOCKOUT_THRESHOLD", "lockout_threshold", "failed sign-ins before an account locks (default 5)"),
        ("--lockout-minutes", "VIGIL_LOCKOUT_MINUTES", "lockout_minutes", "how long a locked account stays locked (default 15)"),
        ("--api-requests-per-minute", "VIGIL_API_REQUESTS_PER_MINUTE", "api_requests_per_minute", "requests per minute per partner API key (default 600)"),
        ("--max-body-kb", "VIGIL_MAX_BODY_KB", "max_body_kb", "largest request body in KiB (default 1024)"),
        ("--log-level", "VIGIL_LOG_LEVEL", "log_level", "trace|debug|info|notice|warning|error (default info)"),
        ("--site-name", "VIGIL_SITE_NAME", "site_name", "name in page titles and authenticator apps (default Vigil)"),
        ("--emergency-number", "VIGIL_EMERGENCY_NUMBER", "emergency_number", "emergency number on public pages (default 112)"),
        ("--helpline-name", "VIGIL_HELPLINE_NAME", "helpline_name", "child helpline named on public pages"),
        ("--helpline-number", "VIGIL_HELPLINE_NUMBER", "helpline_number", "child helpline number (default 116 111)"),
        ("--public-reports-per-hour", "VIGIL_PUBLIC_REPORTS_PER_HOUR", "public_reports_per_hour", "reports one address may send per hour (default 30)"),
        ("--standard-assessment-days", "VIGIL_STANDARD_ASSESSMENT_DAYS", "standard_assessment_days", "working days to assess public reports, 3-10 (default 5)"),
        ("--legal-provisions", "VIGIL_LEGAL_PROVISIONS", "legal_provisions", "national legal provisions, separated by ';'"),
        ("--content-categories", "VIGIL_CONTENT_CATEGORIES", "content_categories", "content categories, separated by ';'"),
        ("--four-eyes", "VIGIL_FOUR_EYES", "four_eyes", "decisions needing a second analyst: list-entry,notice,le-referral,partner-referral, all or none (default list-entry)"),
        ("--demo-data", "VIGIL_DEMO_DATA", "demo_data", "true to add demonstration data on first start"),
        ("--country", "VIGIL_COUNTRY", "country", "the operator's country, ISO 3166-1 alpha-2 (e.g. FR), for the policy pages"),
        ("--country-name", "VIGIL_COUNTRY_NAME", "country_name", "the country's name as the global legislation review spells it (e.g. France)"),
    ]
}
