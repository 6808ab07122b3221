import FluentKit
import VigilCore

/// Every migration, in order. Migrations are frozen: change the schema only by adding one.
public enum VigilMigrations {
    /// - Parameter secrets: the data folder's key, for the migrations that encrypt what was stored in clear.
    public static func all(secrets: ContactSealer) -> [any Migration] {
        [
            CreateUsers(),
            CreateAuthentication(),
            CreateAPIKeys(),
            CreateAuditLog(),
            CreateHashSet(),
            CreateHotline(),
            CreateBlockList(),
            CreatePolicy(),
            CreateJobs(),
            CreateNotices(),
            CreateChannels(),
            CreateBounces(),
            IndexListExpiry(),
            IndexReferrals(),
            NoticeItemsSent(),
            EncryptTOTPSecrets(secrets: secrets),
            ListEntryOrigin(),
            HoldColumns(),
            HashBanks(),
            CreateFederation(),
            FederationLinks(),
            UrgentAlerts(),
            HashVideos(),
        ]
    }
}
