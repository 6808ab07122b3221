import ArgumentParser
import Foundation
import VigilCore

/// What a command's options resolve to: the one typed configuration (flags > `VIGIL_*` > `vigil.toml` > defaults).
protocol ConfigurationSource {
    func resolve() throws -> VigilConfiguration
}

extension ServerOptions: ConfigurationSource {
    func resolve() throws -> VigilConfiguration { try resolve(environment: ProcessInfo.processInfo.environment) }
}

/// The options of a command that only reads or writes the database (`vigil match`, `vigil hashset`, `vigil audit`,
/// `vigil scan`): where the data is, and how much to log. Every other setting still comes from `VIGIL_*` variables
/// and `vigil.toml`, so `--help` lists only what matters to the command.
struct DatabaseOptions: ParsableArguments, ConfigurationSource {
    @Option(name: .customLong("config"), help: .configFile) var configFile: String?
    @Option(help: .setting("data_dir")) var dataDir: String?
    @Option(help: .setting("database_url")) var databaseUrl: String?
    @Option(help: .setting("log_level")) var logLevel: String?

    func resolve() throws -> VigilConfiguration { try full().resolve() }

    /// The server's options with this group's flags set, the rest unset (taken from the environment and file).
    func full() throws -> ServerOptions {
        var options = try ServerOptions.parse([])
        options.configFile = configFile
        options.dataDir = dataDir
        options.databaseUrl = databaseUrl
        options.logLevel = logLevel
        return options
    }
}

/// The database options and the address links are built from, for commands that print links (`vigil user`).
struct LinkedDatabaseOptions: ParsableArguments, ConfigurationSource {
    @OptionGroup var database: DatabaseOptions
    @Option(help: .setting("host")) var host: String?
    @Option(help: .setting("port")) var port: String?
    @Option(help: .setting("public_url")) var publicUrl: String?

    func resolve() throws -> VigilConfiguration {
        var options = try database.full()
        options.host = host
        options.port = port
        options.publicUrl = publicUrl
        return try options.resolve()
    }
}
