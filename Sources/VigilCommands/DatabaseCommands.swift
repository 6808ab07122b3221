import ArgumentParser
import Foundation
import Logging
import VigilApp
import VigilCore
import VigilStore

/// Sets up structured logging once, for the executable only.
func bootstrapLogging(level: String) {
    let lvl = Logger.Level(rawValue: level) ?? .info
    LoggingSystem.bootstrap { label in
        var h = StreamLogHandler.standardError(label: label)
        h.logLevel = lvl
        return h
    }
}

/// Runs a database command, turning store errors into one line on stderr and exit code 1.
func runStoreCommand<T: Sendable>(
    _ options: some ConfigurationSource, migrate: Bool = true,
    _ body: @Sendable (VigilEnvironment) async throws -> T
) async throws -> T {
    let config = try options.resolve()
    bootstrapLogging(level: "error")
    do {
        return try await VigilEnvironment.withDatabase(configuration: config, migrate: migrate, body)
    } catch let e as any VigilFailure {
        FileHandle.standardError.write(Data("vigil: \(e.description)\n".utf8))
        throw ExitCode(e.kind.exitCode)
    }
}

/// `vigil migrate [--revert]`.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate", abstract: "Apply pending database migrations (or revert them all with --revert).")

    @OptionGroup var options: ServerOptions
    @Flag(help: "Revert every migration (drops Vigil's tables).") var revert = false

    func run() async throws {
        let config = try options.resolve()
        bootstrapLogging(level: "error")
        do {
            try await VigilEnvironment.migrate(configuration: config, revert: revert)
            print(
                revert
                    ? "Reverted all migrations on \(DatabaseTarget(config))."
                    : "Migrations applied on \(DatabaseTarget(config)).")
        } catch let e as any VigilFailure {
            FileHandle.standardError.write(Data("vigil: \(e.description)\n".utf8))
            throw ExitCode(e.kind.exitCode)
        }
    }
}

extension FailureKind {
    /// The one mapping from a domain error's kind to an exit code. Every failure of the command's own work (bad
    /// input, nothing by that name, refused in this state, the database out of reach, a corrupt record) exits 1
    /// after one line on stderr; 2 stays the usage error ArgumentParser reports, 0 success.
    var exitCode: Int32 {
        switch self {
        case .invalid, .notFound, .conflict, .forbidden, .unavailable, .internalFailure: 1
        }
    }
}
