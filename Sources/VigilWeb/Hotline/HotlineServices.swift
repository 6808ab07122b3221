import Foundation
import Vapor
import VigilCore
import VigilStore

/// What the public hotline needs, built once at configure: translations, the contact sealer, triage policy,
/// and the in-memory per-address limit for public reports (addresses are never stored).
public struct HotlineServices: Sendable {
    public let catalog: Catalog
    public let sealer: ContactSealer
    public let triage: TriagePolicy
    public let fourEyes: FourEyesPolicy
    let reportLimiter: KeyRateLimiter

    init(configuration c: VigilConfiguration, translations: String, tokens: any TokenSource) throws {
        catalog = try Catalog.load(
            directories: [translations, (c.dataDirectory as NSString).appendingPathComponent("translations")]
                .filter { FileManager.default.fileExists(atPath: $0) })
        let keyPath = (c.dataDirectory as NSString).appendingPathComponent("contact-key")
        let (key, _) = try ContactSealer.loadOrCreateKey(at: keyPath, tokens: tokens)
        sealer = try ContactSealer(key: key, tokens: tokens)
        triage = try TriagePolicy(standardDays: c.standardAssessmentDays)
        fourEyes = FourEyesPolicy(required: Set(c.fourEyes.compactMap(CaseDecision.Kind.init(rawValue:))))
        reportLimiter = KeyRateLimiter(perMinute: max(1, c.publicReportsPerHour), windowSeconds: 3600)
    }
}

struct HotlineServicesKey: StorageKey { typealias Value = HotlineServices }

extension Application {
    var hotline: HotlineServices {
        guard let h = storage[HotlineServicesKey.self] else { fatalError("configure did not set up the hotline") }
        return h
    }
}

extension Request {
    var hotline: HotlineServices { application.hotline }

    var hotlineStore: HotlineStore {
        HotlineStore(
            db: db, clock: vigil.clock, tokens: vigil.tokens, sealer: hotline.sealer, triage: hotline.triage,
            fourEyes: hotline.fourEyes)
    }

    /// The visitor's language: `?lang=` (remembered in a cookie), then the cookie, then Accept-Language.
    var language: String {
        let catalog = hotline.catalog
        if let choice = query[String.self, at: "lang"], let l = catalog.language(forChoice: choice) { return l }
        if let c = cookies["vigil_lang"]?.string, let l = catalog.language(forChoice: c) { return l }
        return catalog.negotiate(acceptLanguage: headers.first(name: .acceptLanguage))
    }

    var localizer: Localizer { hotline.catalog.localizer(for: language) }
}
