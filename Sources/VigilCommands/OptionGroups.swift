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
    @Option(
        name: .customLong("config"),
        help: "Configuration file (TOML). Default: ./vigil.toml when present. Env: VIGIL_CONFIG.")
    var configFile: String?
    @Option(
        name: .customLong("data-dir"),
        help: "Folder for the SQLite database and keys (default ./vigil-data). Env: VIGIL_DATA_DIR.")
    var dataDir: String?
    @Option(
        name: .customLong("database-url"),
        help: "postgres://user:pass@host:port/db to use PostgreSQL instead of SQLite. Env: VIGIL_DATABASE_URL.")
    var databaseURL: String?
    @Option(
        name: .customLong("log-level"),
        help: "trace|debug|info|notice|warning|error (default info). Env: VIGIL_LOG_LEVEL.")
    var logLevel: String?

    func resolve() throws -> VigilConfiguration { try full().resolve() }

    /// The server's options with this group's flags set, the rest unset (taken from the environment and file).
    func full() throws -> ServerOptions {
        var options = try ServerOptions.parse([])
        options.configFile = configFile
        options.dataDir = dataDir
        options.databaseURL = databaseURL
        options.logLevel = logLevel
        return options
    }
}

/// The database options and the address links are built from, for commands that print links (`vigil user`).
struct LinkedDatabaseOptions: ParsableArguments, ConfigurationSource {
    @OptionGroup var database: DatabaseOptions
    @Option(help: "Address the server listens on, for links (default 127.0.0.1). Env: VIGIL_HOST.")
    var host: String?
    @Option(help: "Port the server listens on, for links (default 8080). Env: VIGIL_PORT.")
    var port: Int?
    @Option(
        name: .customLong("public-url"),
        help: "Address people use to reach Vigil, for links (default http://HOST:PORT). Env: VIGIL_PUBLIC_URL.")
    var publicURL: String?

    func resolve() throws -> VigilConfiguration {
        var options = try database.full()
        options.host = host
        options.port = port
        options.publicURL = publicURL
        return try options.resolve()
    }
}
