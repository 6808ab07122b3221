import FluentKit

/// Every migration, in order. Migrations are frozen: change the schema only by adding one.
public enum VigilMigrations {
    public static let all: [any Migration] = [
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
    ]
}
