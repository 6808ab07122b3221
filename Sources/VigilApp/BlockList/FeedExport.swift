import Foundation
import VigilCore
import VigilFormats
import VigilStore

extension BlockListService {
    /// One feed of a published version (the current one when `version` is `nil`), rendered and signed exactly as
    /// the server serves it, for `vigil feed export`. Publishes first, as the server's job would, so the file is
    /// not staler than the feed.
    /// - Returns: the bytes, the Ed25519 signature (base64) and the version; `nil` when nothing was published yet.
    public static func exportFeed(_ env: VigilEnvironment, format: FeedFormat, version: Int64?) async throws -> (
        bytes: [UInt8], signature: String, version: Int64
    )? {
        let config = env.configuration
        let service = try BlockListService.withSigningKey(config)
        let store = service.store(env.database, clock: env.clock)
        if version == nil {
            try await service.publish(env.database, clock: env.clock)
        }
        guard let (info, targets) = try await store.targets(at: version) else { return nil }
        let list = PublishedList(version: info.version, publishedAt: info.createdAt, targets: targets)
        guard let key = service.signingKey else { throw StoreError.unreachable("the signing key is not loaded") }
        let (bytes, signature) = BlockListService.signed(list, as: format, options: service.options, key: key)
        return (bytes, signature, info.version)
    }
}
