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
    /// Where urgent alerts go when no one on the rota is on duty (`urgent_alert_to`).
    public var urgentAlertTo: [String] = []
    /// A paging service's webhook called with every urgent alert and escalation (`urgent_alert_webhook`).
    public var urgentAlertWebhook: String?
    /// The HMAC key the webhook's `X-Vigil-Signature` is made with (`urgent_webhook_secret`).
    public var urgentWebhookSecret: String?
    /// How long an urgent alert waits for an acknowledgement before the next person is alerted (`urgent_ack_minutes`).
    public var urgentAckMinutes: Double = 15
    /// The law-enforcement liaison's 24/7 contact, the last step of an urgent alert (`urgent_le_contact`).
    public var urgentLEContact: String?
    /// The hotline's time zone, for the on-call rota (`time_zone`, IANA name).
    public var timeZone: String = "UTC"
    /// The child helpline named on public pages.
    public var helplineName: String = "the national child helpline"
    public var helplineNumber: String = "116 111"
    /// Reports one address may send per hour through the public form and API (kept in memory only).
    public var publicReportsPerHour: Int = 30
    /// Working days to assess a report from the public (reports from hotlines, police and platforms: 1).
    public var standardAssessmentDays: Int = 5
    /// Days after a case closes before its reporters' contact details are deleted (default 90; 0: at once).
    public var contactRetentionDays: Int = Int(ContactRetention.defaultPeriod / 86_400)
    /// Confirmations a new hash set record needs before it is known (`hash_reviews_required`).
    public var hashReviewsRequired: Int = 3
    /// Partner disputes that send a known record back to review (`hash_dispute_threshold`).
    public var hashDisputeThreshold: Int = 2
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

    /// Every setting with its environment variable, TOML key and help, for `--help` and the README (from
    /// ``Settings/all``, where each is declared once).
    public static var settings: [(flag: String, env: String, toml: String, help: String)] {
        Settings.all.map { ($0.flag, $0.env, $0.key, $0.help) }
    }
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
