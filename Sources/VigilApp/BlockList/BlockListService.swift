import Crypto
import FluentKit
import Foundation
import Synchronization
import VigilCore
import VigilFormats
import VigilStore

/// The published block list as the server holds it: the signing key, the feeds of the current version rendered
/// once and signed, and the listed domains the STOP page answers for. Built in `configure`; the key is loaded in
/// `prepare`.
public final class BlockListService: Sendable {
    public struct Rendered: Sendable {
        public let version: Int64
        public let bytes: [UInt8]
        public let signature: String
        public var etag: String { "\"v\(version)-\(bytes.count)\"" }
    }

    struct State: Sendable {
        var key: Curve25519.Signing.PrivateKey?
        var rendered: [FeedFormat: Rendered] = [:]
        var version: Int64 = 0
        var domains: Set<String> = []
        var canary: String?
    }

    private let state = Mutex(State())
    public let options: FeedOptions
    public let policy: ListPolicy
    public let criteria: [String]
    public let configuration: VigilConfiguration

    public init(configuration c: VigilConfiguration) {
        configuration = c
        options = FeedOptions(stopIPv4: c.effectiveStopIPv4, stopIPv6: c.stopIPv6, stopURL: c.baseURL + "/stop")
        policy = ListPolicy(verificationLifetime: TimeInterval(c.listVerificationDays) * 86_400)
        criteria = c.listCriteria.map {
            String($0.split(separator: ":", maxSplits: 1)[0]).trimmingCharacters(in: .whitespaces)
        }
    }

    /// A service with the data folder's signing key loaded (created on first use), for the command line.
    public static func withSigningKey(_ configuration: VigilConfiguration) throws -> BlockListService {
        let service = BlockListService(configuration: configuration)
        service.setKey(
            try SigningKey.loadOrCreate(
                at: (configuration.dataDirectory as NSString).appendingPathComponent("signing-key.pem")
            ).0.privateKey)
        return service
    }

    public func setKey(_ key: Curve25519.Signing.PrivateKey) { state.withLock { $0.key = key } }

    /// The key feeds are signed with, once loaded.
    public var signingKey: Curve25519.Signing.PrivateKey? { state.withLock { $0.key } }

    public func sign(_ bytes: [UInt8]) -> String? {
        guard let key = state.withLock({ $0.key }) else { return nil }
        return FeedSignature.sign(bytes, with: key)
    }

    public var publicKeyBase64: String? { state.withLock { $0.key?.publicKey.rawRepresentation.base64EncodedString() } }

    public func store(_ db: any Database, clock: any VigilClock) -> BlockListStore {
        BlockListStore(db: db, clock: clock, policy: policy, criteria: criteria)
    }

    /// Whether a request's host is a listed domain (or under one) in the current version.
    public func isListedHost(_ host: String) -> Bool {
        let domains = state.withLock { $0.domains }
        guard !domains.isEmpty else { return false }
        var name = Substring(host.lowercased())
        while true {
            if domains.contains(String(name)) { return true }
            guard let dot = name.firstIndex(of: ".") else { return false }
            name = name[name.index(after: dot)...]
        }
    }

    public var canaryDomain: String? { configuration.canaryDomain }
    public var currentVersion: Int64 { state.withLock { $0.version } }

    /// The one way a version of the list is made: publishes a new version if the publishable set changed (with the
    /// canary entry in place), satisfies the publication requests that are due, and refreshes what the server
    /// serves. The list desk and appeal decisions call it after their change; the case workflow, verifications that
    /// run out and the one-minute safety net request it through the `list-publish` job, which calls it. A feed
    /// download never publishes.
    @discardableResult
    public func publish(_ db: any Database, clock: any VigilClock, actor: AuditActor = .job("list-publish"))
        async throws
        -> BlockListStore.VersionInfo?
    {
        let store = store(db, clock: clock)
        try await store.ensureCanary(configuration.canaryDomain)
        let info = try await store.publish(actor: actor)
        try await store.satisfyPublicationRequests()
        // Another process (a second server on PostgreSQL, `vigil feed export`) may have published too.
        var latest = info?.version ?? 0
        if info == nil { latest = try await store.versions(limit: 1).first?.version ?? 0 }
        if latest != state.withLock({ $0.version }) { try await refresh(db, clock: clock) }
        return info
    }

    /// Reloads the current version's domains and forgets rendered feeds of older versions.
    public func refresh(_ db: any Database, clock: any VigilClock) async throws {
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
    public static func signed(
        _ list: PublishedList, as format: FeedFormat, options: FeedOptions, key: Curve25519.Signing.PrivateKey
    ) -> ([UInt8], String) {
        var bytes = FeedRenderer.render(list, as: format, options: options)
        if format == .hashed { bytes = FeedSignature.signedHashedList(bytes, with: key) }
        return (bytes, FeedSignature.sign(bytes, with: key))
    }

    /// The current version in one format, rendered and signed once per version.
    public func feed(_ format: FeedFormat, db: any Database, clock: any VigilClock) async throws -> Rendered? {
        let (cached, key) = state.withLock { s in (s.rendered[format], s.key) }
        guard let key else { throw StoreError.unreachable("the signing key is not loaded yet") }
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
