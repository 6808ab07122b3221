import ArgumentParser

extension VigilCommand {
    /// Every subcommand, in the order `vigil --help` lists them.
    static let all: [any ParsableCommand.Type] = [
        ServeCommand.self,
        MigrateCommand.self,
        UserCommand.self,
        APIKeyCommand.self,
        AuditCommand.self,
        URLCommand.self,
        HashCommand.self,
        HashSetCommand.self,
        BankCommand.self,
        PartnerCommand.self,
        MatchCommand.self,
        MatchVideoCommand.self,
        ScanCommand.self,
        FeedCommand.self,
        SquidHelperCommand.self,
        JobsCommand.self,
        MailCommand.self,
    ]
}
