import Foundation
import Vapor
import VigilCore
import VigilStore

/// What the policy pages need, loaded once at start: the checklist's items, the global review table and the
/// default awareness texts. Shipped files come from `Resources/Policy/`; an operator's files in
/// `<data-dir>/policy/` translate or extend them without code.
public struct PolicyServices: Sendable {
    /// The checklist items (shipped `checklist.json`, then the operator's).
    public let checklist: ChecklistDefinition
    /// The 2009 review as printed.
    public let review: GlobalReview
    /// Default awareness texts: `slug/lang` → Markdown (the operator's files replace the shipped ones).
    public let defaultPages: [String: String]
    /// The order pages are listed in: the shipped ones first, then the rest alphabetically.
    public static let shippedOrder = ["young-people", "parents", "teachers"]

    /// Loads everything from the shipped resources and the operator's data folder.
    /// - Throws: a readable error naming the file that does not load.
    init(resources: String, dataDirectory: String) throws {
        let shipped = resources + "Policy/"
        let own = (dataDirectory as NSString).appendingPathComponent("policy") + "/"
        checklist = try ChecklistDefinition.load(files: [shipped + "checklist.json", own + "checklist.json"])
        guard let tsv = FileManager.default.contents(atPath: shipped + "global-review-2009.tsv") else {
            throw Abort(.internalServerError, reason: "the global review table is missing from the resources")
        }
        review = try GlobalReview.parse(tsv: String(decoding: tsv, as: UTF8.self))
        var pages: [String: String] = [:]
        for base in [shipped + "learn", own + "learn"] {
            guard let languages = try? FileManager.default.contentsOfDirectory(atPath: base) else { continue }
            for lang in languages.sorted() {
                guard let tag = LanguageTag.normalize(lang),
                    let files = try? FileManager.default.contentsOfDirectory(atPath: base + "/" + lang)
                else { continue }
                for f in files.sorted() where f.hasSuffix(".md") {
                    let slug = String(f.dropLast(3))
                    guard PolicyStore.isValidSlug(slug),
                        let data = FileManager.default.contents(atPath: base + "/" + lang + "/" + f)
                    else { continue }
                    pages["\(slug)/\(tag)"] = String(decoding: data, as: UTF8.self)
                }
            }
        }
        defaultPages = pages
    }
}

extension PolicyServices {
    /// The operator's country's row in the review: by `country_name`, else by the English name of `country`.
    func ownRow(_ config: VigilConfiguration) -> GlobalReview.Row? {
        if let name = config.countryName, let row = review.row(named: name) { return row }
        guard let code = config.country, let name = Locale(identifier: "en").localizedString(forRegionCode: code) else {
            return nil
        }
        return review.row(named: name)
    }
}

struct PolicyServicesKey: StorageKey { typealias Value = PolicyServices }

/// The public transparency page's figures, kept for a few minutes per period so that visitors (or a crawler trying
/// every period) do not recount the same reports on every request. Bounded: the oldest entries go first.
actor TransparencyCache {
    let lifetime: TimeInterval
    let capacity: Int
    private var entries: [String: (at: Date, value: [TransparencyFigure: FigureValue])] = [:]

    init(lifetime: TimeInterval = 300, capacity: Int = 64) {
        self.lifetime = lifetime
        self.capacity = capacity
    }

    func figures(
        for key: String, now: Date, compute: @Sendable () async throws -> [TransparencyFigure: FigureValue]
    ) async throws -> [TransparencyFigure: FigureValue] {
        if let e = entries[key], now.timeIntervalSince(e.at) < lifetime, now >= e.at { return e.value }
        let value = try await compute()
        entries[key] = (now, value)
        while entries.count > capacity, let oldest = entries.min(by: { $0.value.at < $1.value.at })?.key {
            entries[oldest] = nil
        }
        return value
    }
}

struct TransparencyCacheKey: StorageKey { typealias Value = TransparencyCache }

/// Makes a transparency source for a request (sources read the request's database).
public typealias TransparencySourceFactory = @Sendable (Request) throws -> any TransparencySource

struct TransparencySourcesKey: StorageKey { typealias Value = [TransparencySourceFactory] }

extension Application {
    var policy: PolicyServices {
        get throws {
            try service(PolicyServicesKey.self, "configure did not set up the policy pages")
        }
    }

    /// The sources of the transparency figures and of the checklist's live evidence. The hotline and the hash set
    /// are registered at start; the block list and notice-and-takedown append theirs when they are in use, and
    /// every figure no source gives is shown as not in use.
    public var transparencySources: [TransparencySourceFactory] {
        get { storage[TransparencySourcesKey.self] ?? [] }
        set { storage[TransparencySourcesKey.self] = newValue }
    }
}

extension Request {
    var policy: PolicyServices { get throws { try application.policy } }
    var policyStore: PolicyStore { get throws { PolicyStore(db: db, clock: try vigil.clock) } }

    /// Every registered transparency figure for `period`; figures without a source are not in use.
    func transparencyFigures(_ wanted: [TransparencyFigure] = TransparencyFigure.allCases, period: ReportingPeriod)
        async throws
        -> [TransparencyFigure: FigureValue]
    {
        try await Transparency.collect(
            wanted, from: application.transparencySources.map { try $0(self) }, period: period)
    }
}

extension VigilServer {
    /// Loads the policy pages' data and registers the hotline's and the hash set's transparency figures.
    static func configurePolicy(_ app: Application) throws {
        let config = try app.vigil.configuration
        app.storage[PolicyServicesKey.self] = try PolicyServices(
            resources: resourcesDirectory, dataDirectory: config.dataDirectory)
        app.storage[TransparencyCacheKey.self] = TransparencyCache()
        app.transparencySources += [
            { req in HotlineTransparency(db: req.db, country: try req.vigil.configuration.country) },
            { req in HashSetTransparency(db: req.db) },
            { req in BlockListTransparency(db: req.db) },
            { req in TakedownTransparency(db: req.db) },
            { req in FederationTransparency(db: req.db) },
        ]
    }
}

extension Rules {
    /// Who keeps the national checklist up to date.
    static let checklistEditors = AccessRule.roles([.supervisor, .admin])
    /// Who may read it (auditors check it).
    static let checklistReaders = AccessRule.roles([.supervisor, .admin, .auditor])
}
