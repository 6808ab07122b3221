import AsyncHTTPClient
import CMaxMindDB
import Foundation
import NIOCore
import Synchronization
import VigilApp
import VigilCore
import VigilStore

#if canImport(Glibc)
    import Glibc
#endif

/// Country and network of an address from MaxMind-format databases (GeoLite2, DB-IP) the operator installs.
public final class GeoDatabase: @unchecked Sendable {
    private let handle: UnsafeMutableRawPointer
    private let lock = NSLock()

    public init?(path: String) {
        guard let h = vigil_mmdb_open(path) else { return nil }
        handle = h
    }

    deinit { vigil_mmdb_close(handle) }

    /// A string or unsigned value at a path (up to three keys), for one address.
    public func value(_ address: String, _ path: [String]) -> String? {
        lock.withLock {
            var out = [CChar](repeating: 0, count: 512)
            let p = path + Array(repeating: "", count: max(0, 3 - path.count))
            let found = p[0].withCString { a in
                p[1].withCString { b in
                    p[2].withCString { c in
                        vigil_mmdb_value(
                            handle, address, a, path.count > 1 ? b : nil, path.count > 2 ? c : nil, &out, out.count)
                    }
                }
            }
            return found == 1 ? String(cString: out) : nil
        }
    }
}

/// Where a URL is hosted: DNS through the configured resolver, country and network from the MaxMind databases,
/// the abuse contact from RDAP (cached), CDNs flagged. Every fact keeps its source.
public struct Attribution: Sendable {
    public let dns: DNSClient
    public let country: GeoDatabase?
    public let asn: GeoDatabase?
    public let rdapBase: String?
    public let cache: RDAPCache
    /// RDAP requests go through the outbound-fetch policy like every other request made for data given.
    public let fetcher: OutboundFetcher

    public struct Result: Sendable, Equatable, Codable {
        var host: String
        var cnames: [String] = []
        var addresses: [String] = []
        var country: String?
        var asn: String?
        var organisation: String?
        var abuseContact: String?
        /// The domain's registrar and its abuse contact (RDAP domain lookup).
        var registrar: String?
        var registrarAbuseContact: String?
        var cdn: String?
        var sources: [String] = []
        var problems: [String] = []
    }

    /// Known CDNs by ASN and by CNAME suffix: behind them the real host is unknown, and the notice goes to the CDN.
    public static let cdnASNs: [String: String] = [
        "13335": "Cloudflare", "20940": "Akamai", "16625": "Akamai", "54113": "Fastly",
        "16509": "Amazon CloudFront", "15169": "Google", "8075": "Microsoft Azure CDN", "60068": "CDN77",
    ]
    public static let cdnSuffixes: [String: String] = [
        "cloudfront.net": "Amazon CloudFront", "akamaiedge.net": "Akamai", "akamai.net": "Akamai",
        "fastly.net": "Fastly", "cdn.cloudflare.net": "Cloudflare", "azureedge.net": "Microsoft Azure CDN",
    ]

    /// Names that can never resolve on the internet (RFC 2606, RFC 6761): demo data and tests use them.
    public static func isReserved(_ host: String) -> Bool { ReservedNames.contains(host) }

    public func attribute(url: String) async -> Result {
        let host = URL(string: url)?.host ?? (CanonicalURL.host(of: (try? CanonicalURL.canonicalize(url)) ?? "") ?? "")
        var r = Result(host: host)
        let isIP = host.allSatisfy { $0.isNumber || $0 == "." } || host.contains(":")
        if !isIP, Self.isReserved(host), !dns.isOnThisMachine {
            // Reserved names are looked up only through a resolver on this machine (a lab or a test): asking the
            // network's resolver about them leaks nothing useful and answers nothing.
            r.problems.append("reserved name (RFC 6761): not looked up outside this machine")
            return r
        }
        if isIP {
            r.addresses = [host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))]
        } else {
            do {
                let a = try dns.resolve(host)
                r.cnames = a.cnames
                r.addresses = a.addresses
                r.sources.append("dns \(dns.server):\(dns.port)")
                if a.nxdomain { r.problems.append("no such domain") }
            } catch { r.problems.append("DNS: \(error)") }
        }
        guard let first = r.addresses.first else { return r }
        if let country {
            r.country = country.value(first, ["country", "iso_code"])
            r.sources.append("country database")
        }
        if let asn {
            r.asn = asn.value(first, ["autonomous_system_number"])
            r.organisation = asn.value(first, ["autonomous_system_organization"])
            r.sources.append("ASN database")
        }
        r.cdn =
            r.asn.flatMap { Self.cdnASNs[$0] }
            ?? r.cnames.lazy.compactMap { c in Self.cdnSuffixes.first { c.hasSuffix($0.key) }?.value }.first
        if let rdapBase {
            switch await cache.abuseContact(for: first, base: rdapBase, fetcher: fetcher) {
            case .success(let contact):
                r.abuseContact = contact
                r.sources.append("RDAP \(rdapBase)")
            case .failure(let why): r.problems.append("RDAP: \(why)")
            }
            if !isIP {
                switch await cache.registrar(for: host, base: rdapBase, fetcher: fetcher) {
                case .success(nil): break
                case .success(let found?):
                    r.registrar = found.name
                    r.registrarAbuseContact = found.abuseContact
                    r.sources.append("RDAP domain \(found.domain)")
                case .failure(let why): r.problems.append("RDAP domain: \(why)")
                }
            }
        }
        return r
    }
}

/// RDAP answers (the IP network's abuse contact, the domain registrar's), kept for a day (registries rate-limit
/// lookups).
public final class RDAPCache: Sendable {
    private let entries = Mutex<[String: (contact: String?, expires: Date)]>([:])
    private let registrars = Mutex<[String: (found: Registrar?, expires: Date)]>([:])
    public let lifetime: TimeInterval = 86_400
    let clock: any VigilClock

    public init(clock: any VigilClock = SystemClock()) { self.clock = clock }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// A domain's registrar as RDAP names it.
    public struct Registrar: Sendable, Equatable {
        let domain: String
        let name: String?
        let abuseContact: String?
    }

    public func abuseContact(for address: String, base: String, fetcher: OutboundFetcher) async
        -> Swift.Result<String?, Failure>
    {
        let now = clock.now()
        if let hit = entries.withLock({ $0[address] }), hit.expires > now { return .success(hit.contact) }
        switch await Self.fetch(base: base, path: "ip/" + address, fetcher: fetcher) {
        case .failure(let f): return .failure(f)
        case .success(let json):
            let contact = json.flatMap(Self.abuseEmail(in:))
            entries.withLock { $0[address] = (contact, now + lifetime) }
            return .success(contact)
        }
    }

    /// The registrar of the domain `host` is in: RDAP domain lookups for the host's last three labels, then its last
    /// two (the registry answers for the registered name only; without a public-suffix list this finds
    /// `example.co.uk` and `example.com` in at most two requests, and never asks about a suffix such as `co.uk`
    /// first).
    public func registrar(for host: String, base: String, fetcher: OutboundFetcher) async
        -> Swift.Result<Registrar?, Failure>
    {
        let now = clock.now()
        let labels = host.lowercased().split(separator: ".")
        guard labels.count >= 2 else { return .success(nil) }
        if let hit = registrars.withLock({ $0[host.lowercased()] }), hit.expires > now { return .success(hit.found) }
        var found: Registrar?
        for count in [3, 2] where labels.count >= count {
            let domain = labels.suffix(count).joined(separator: ".")
            switch await Self.fetch(base: base, path: "domain/" + domain, fetcher: fetcher) {
            case .failure(let f): return .failure(f)
            case .success(nil): continue  // not a registered name: try the parent
            case .success(let json?):
                let entity = Self.entity(withRole: "registrar", in: json)
                found = Registrar(
                    domain: domain, name: entity.flatMap(Self.vcardName(of:)),
                    abuseContact: entity.flatMap(Self.abuseEmail(in:)))
            }
            if found != nil { break }
        }
        registrars.withLock { $0[host.lowercased()] = (found, now + lifetime) }
        return .success(found)
    }

    /// One RDAP object, nil when the service says there is none (404; some registries answer 400 or 422 for a name
    /// below a registered one).
    public static func fetch(base: String, path: String, fetcher: OutboundFetcher) async -> Swift.Result<Any?, Failure>
    {
        let url = (base.hasSuffix("/") ? String(base.dropLast()) : base) + "/" + path
        do {
            var request = HTTPClientRequest(url: url)
            request.headers.add(name: "Accept", value: "application/rdap+json")
            // rdap.org and other bootstrap services redirect to the registry that holds the answer.
            let response = try await fetcher.fetch(request, timeout: .seconds(20), maxBytes: 2 << 20, maxRedirects: 5)
            if [404, 400, 422].contains(response.status) { return .success(nil) }
            guard response.status == 200 else {
                return .failure(Failure(description: "HTTP \(response.status) from \(response.url)"))
            }
            return .success(try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)))
        } catch {
            return .failure(Failure(description: "\(error)"))
        }
    }

    /// The first entity (depth-first) with `role`.
    public static func entity(withRole role: String, in json: Any) -> [String: Any]? {
        guard let object = json as? [String: Any] else { return nil }
        for entity in object["entities"] as? [[String: Any]] ?? [] {
            if (entity["roles"] as? [String] ?? []).contains(role) { return entity }
            if let nested = Self.entity(withRole: role, in: entity) { return nested }
        }
        return nil
    }

    /// The `fn` (formatted name) of an entity's vCard.
    public static func vcardName(of entity: [String: Any]) -> String? {
        let vcard = (entity["vcardArray"] as? [Any])?.dropFirst().first as? [[Any]]
        return vcard?.first(where: { ($0.first as? String) == "fn" })?.last as? String
    }

    /// The e-mail of the first entity with the `abuse` role, searched depth-first through nested entities.
    public static func abuseEmail(in json: Any) -> String? {
        guard let object = json as? [String: Any] else { return nil }
        for entity in object["entities"] as? [[String: Any]] ?? [] {
            if (entity["roles"] as? [String] ?? []).contains("abuse"),
                let vcard = (entity["vcardArray"] as? [Any])?.dropFirst().first as? [[Any]],
                let email = vcard.first(where: { ($0.first as? String) == "email" })?.last as? String,
                EmailAddress.isPlausible(email)
            {
                return email
            }
            if let nested = abuseEmail(in: entity) { return nested }
        }
        return nil
    }
}
