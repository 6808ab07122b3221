import Crypto
import Fluent
import Foundation
import Synchronization
import Vapor
import VigilCore
import VigilFormats
import VigilStore

/// The published block list as the server holds it: the signing key, the feeds of the current version rendered
/// once and signed, and the listed domains the STOP page answers for. Built in `configure`; the key is loaded in
/// `prepare`.
public final class BlockListService: Sendable {
    struct Rendered: Sendable {
        let version: Int64
        let bytes: [UInt8]
        let signature: String
        var etag: String { "\"v\(version)-\(bytes.count)\"" }
    }

    struct State: Sendable {
        var key: Curve25519.Signing.PrivateKey?
        var rendered: [FeedFormat: Rendered] = [:]
        var version: Int64 = 0
        var domains: Set<String> = []
        var canary: String?
    }

    private let state = Mutex(State())
    let options: FeedOptions
    let policy: ListPolicy
    let criteria: [String]
    let configuration: VigilConfiguration

    init(configuration c: VigilConfiguration) {
        configuration = c
        options = FeedOptions(stopIPv4: c.effectiveStopIPv4, stopIPv6: c.stopIPv6, stopURL: c.baseURL + "/stop")
        policy = ListPolicy(verificationLifetime: TimeInterval(c.listVerificationDays) * 86_400)
        criteria = c.listCriteria.map {
            String($0.split(separator: ":", maxSplits: 1)[0]).trimmingCharacters(in: .whitespaces)
        }
    }

    func setKey(_ key: Curve25519.Signing.PrivateKey) { state.withLock { $0.key = key } }

    func sign(_ bytes: [UInt8]) -> String? {
        guard let key = state.withLock({ $0.key }) else { return nil }
        return FeedSignature.sign(bytes, with: key)
    }

    var publicKeyBase64: String? { state.withLock { $0.key?.publicKey.rawRepresentation.base64EncodedString() } }

    func store(_ db: any Database, clock: any VigilClock) -> BlockListStore {
        BlockListStore(db: db, clock: clock, policy: policy, criteria: criteria)
    }

    /// Whether a request's host is a listed domain (or under one) in the current version.
    func isListedHost(_ host: String) -> Bool {
        let domains = state.withLock { $0.domains }
        guard !domains.isEmpty else { return false }
        var name = Substring(host.lowercased())
        while true {
            if domains.contains(String(name)) { return true }
            guard let dot = name.firstIndex(of: ".") else { return false }
            name = name[name.index(after: dot)...]
        }
    }

    var canaryDomain: String? { configuration.canaryDomain }
    var currentVersion: Int64 { state.withLock { $0.version } }

    /// Publishes a new version if the publishable set changed, and refreshes what the server serves.
    @discardableResult
    func publish(_ db: any Database, clock: any VigilClock, actor: AuditActor = .job("list-publish")) async throws
        -> BlockListStore.VersionInfo?
    {
        let store = store(db, clock: clock)
        let info = try await store.publish(actor: actor)
        // Another process (a second server on PostgreSQL, `vigil feed export`) may have published too.
        var latest = info?.version ?? 0
        if info == nil { latest = try await store.versions(limit: 1).first?.version ?? 0 }
        if latest != state.withLock({ $0.version }) { try await refresh(db, clock: clock) }
        return info
    }

    /// Reloads the current version's domains and forgets rendered feeds of older versions.
    func refresh(_ db: any Database, clock: any VigilClock) async throws {
        guard let (info, targets) = try await store(db, clock: clock).targets() else { return }
        let domains = Set(targets.filter { $0.kind == .domain }.map(\.value))
        state.withLock {
            if $0.version != info.version { $0.rendered = [:] }
            $0.version = info.version
            $0.domains = domains
        }
    }

    /// One version in one format, signed (the hashed list also carries its signature inside): the same bytes for
    /// the server and `vigil feed export`.
    static func signed(
        _ list: PublishedList, as format: FeedFormat, options: FeedOptions, key: Curve25519.Signing.PrivateKey
    ) -> ([UInt8], String) {
        var bytes = FeedRenderer.render(list, as: format, options: options)
        if format == .hashed { bytes = FeedSignature.signedHashedList(bytes, with: key) }
        return (bytes, FeedSignature.sign(bytes, with: key))
    }

    /// The current version in one format, rendered and signed once per version.
    func feed(_ format: FeedFormat, db: any Database, clock: any VigilClock) async throws -> Rendered? {
        let (cached, key) = state.withLock { s in (s.rendered[format], s.key) }
        guard let key else { throw Abort(.serviceUnavailable, reason: "The signing key is not loaded yet.") }
        let store = store(db, clock: clock)
        // The version number is one row; the targets are every published entry: read them only for a new version.
        guard let latest = try await store.versions(limit: 1).first else { return nil }
        if let cached, cached.version == latest.version { return cached }
        guard let (info, targets) = try await store.targets() else { return nil }
        let list = PublishedList(version: info.version, publishedAt: info.createdAt, targets: targets)
        let (bytes, signature) = Self.signed(list, as: format, options: options, key: key)
        let rendered = Rendered(version: info.version, bytes: bytes, signature: signature)
        state.withLock { $0.rendered[format] = rendered }
        return rendered
    }
}

struct BlockListServiceKey: StorageKey { typealias Value = BlockListService }

extension Application {
    var blockList: BlockListService {
        guard let s = storage[BlockListServiceKey.self] else { fatalError("configure did not set up the block list") }
        return s
    }
}

extension Request {
    var blockList: BlockListService { application.blockList }
    var blockListStore: BlockListStore { application.blockList.store(db, clock: vigil.clock) }
}

extension VigilServer {
    /// Publishes a new block-list version if one is due and brings the STOP page's domains up to date, as the
    /// server's one-minute job does.
    public static func publishBlockList(_ app: Application) async throws {
        try await app.blockList.publish(app.db, clock: app.vigil.clock)
    }

    /// One feed of a published version (the current one when `version` is `nil`), rendered and signed exactly as
    /// the server serves it, for `vigil feed export`. Publishes first, as the server's job would, so the file is
    /// not staler than the feed.
    /// - Returns: the bytes, the Ed25519 signature (base64) and the version; `nil` when nothing was published yet.
    public static func exportFeed(_ ctx: StoreContext, format: FeedFormat, version: Int64?) async throws -> (
        bytes: [UInt8], signature: String, version: Int64
    )? {
        let config = ctx.configuration
        let service = BlockListService(configuration: config)
        let key = try SigningKey.loadOrCreate(
            at: (config.dataDirectory as NSString).appendingPathComponent("signing-key.pem")
        ).0.privateKey
        service.setKey(key)
        let store = service.store(ctx.database, clock: SystemClock())
        if version == nil {
            try await store.ensureCanary(config.canaryDomain)
            try await store.publish(actor: .job("list-publish"))
        }
        guard let (info, targets) = try await store.targets(at: version) else { return nil }
        let list = PublishedList(version: info.version, publishedAt: info.createdAt, targets: targets)
        let (bytes, signature) = BlockListService.signed(list, as: format, options: service.options, key: key)
        return (bytes, signature, info.version)
    }
}
