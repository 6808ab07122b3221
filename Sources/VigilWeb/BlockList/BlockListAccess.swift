import Vapor
import VigilApp
import VigilCore
import VigilStore

struct BlockListServiceKey: StorageKey { typealias Value = BlockListService }

extension Application {
    var blockList: BlockListService {
        get throws {
            try service(BlockListServiceKey.self, "configure did not set up the block list")
        }
    }
}

extension Request {
    var blockList: BlockListService { get throws { try application.blockList } }
    var blockListStore: BlockListStore { get throws { try application.blockList.store(db, clock: try vigil.clock) } }
}

extension VigilServer {
    /// Publishes a new block-list version if one is due and brings the STOP page's domains up to date, as the
    /// server's one-minute job does.
    public static func publishBlockList(_ app: Application) async throws {
        try await app.blockList.publish(app.db, clock: app.vigil.clock)
    }
}
