import Foundation
import Vapor
import VigilApp
import VigilCore
import VigilStore

/// What the public hotline needs, built once at configure: translations, the contact sealer, triage policy,
/// and the in-memory per-address limit for public reports (addresses are never stored).
public struct HotlineServices: Sendable {
    public let catalog: Catalog
    public let sealer: ContactSealer
    public let triage: TriagePolicy
    public let fourEyes: FourEyesPolicy
    /// The list criterion an analyst's decision to list a case's URL proposes it under: the first of `list_criteria`.
    public let listCriterion: String
    let reportLimiter: KeyRateLimiter
    /// Status lookups by reference, per address (references are random, but guessing should still be slow).
    let lookupLimiter: KeyRateLimiter
    static let lookupsPerMinute = 30

    init(configuration c: VigilConfiguration, tokens: any TokenSource) throws {
        catalog = try AppResources.catalog(c)
        sealer = try VigilEnvironment.loadSecrets(c, tokens: tokens)
        triage = try TriagePolicy(standardDays: c.standardAssessmentDays)
        listCriterion =
            c.listCriteria.first.map {
                String($0.split(separator: ":", maxSplits: 1)[0]).trimmingCharacters(in: .whitespaces)
            } ?? "A"
        fourEyes = FourEyesPolicy(required: Set(c.fourEyes.compactMap(CaseDecision.Kind.init(rawValue:))))
        reportLimiter = KeyRateLimiter(perMinute: max(1, c.publicReportsPerHour), windowSeconds: 3600)
        lookupLimiter = KeyRateLimiter(perMinute: Self.lookupsPerMinute)
    }
}

struct HotlineServicesKey: StorageKey { typealias Value = HotlineServices }

extension Application {
    var hotline: HotlineServices {
        get throws { try service(HotlineServicesKey.self, "configure did not set up the hotline") }
    }

    /// Refuses a reference lookup beyond the per-address limit with 429 and `Retry-After`.
    func limitLookups(_ req: Request) async throws {
        let (address, now) = try (req.clientAddress, req.vigil.clock.now())
        let limiter = try hotline.lookupLimiter
        guard await limiter.allow(address, now: now) else {
            throw Abort(
                .tooManyRequests, headers: ["Retry-After": "60"],
                reason: "Too many status lookups from this address; wait a minute and try again.")
        }
    }

    /// The data folder's key, which seals reporters' contacts and staff TOTP secrets.
    public var secretSealer: ContactSealer { get throws { try hotline.sealer } }
}

extension Request {
    var hotline: HotlineServices { get throws { try application.hotline } }

    var hotlineStore: HotlineStore {
        get throws {
            var store = HotlineStore(
                db: db, clock: try vigil.clock, tokens: try vigil.tokens, sealer: try hotline.sealer,
                triage: try hotline.triage,
                fourEyes: try hotline.fourEyes)
            store.listCriterion = try hotline.listCriterion
            return store
        }
    }

    /// The visitor's language: `?lang=` (remembered in a cookie), then the cookie, then Accept-Language.
    var language: String {
        get throws {
            let catalog = try hotline.catalog
            if let choice = query[String.self, at: "lang"], let l = catalog.language(forChoice: choice) { return l }
            if let c = cookies["vigil_lang"]?.string, let l = catalog.language(forChoice: c) { return l }
            return catalog.negotiate(acceptLanguage: headers.first(name: .acceptLanguage))
        }
    }

    var localizer: Localizer { get throws { try hotline.catalog.localizer(for: language) } }
}
