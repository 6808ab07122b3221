import ArgumentParser
import Foundation
import Logging
import VigilCore
import VigilStore
import VigilWeb

/// The settings as `vigil serve --help` lists them: flag and variable, in columns as wide as the longest (the
/// TOML key is the flag's name with `_`, which the text says once, so lines stay under 80 columns).
let settingsTable: String = {
    let flagWidth = Settings.all.map(\.flag.count).max() ?? 0
    return Settings.all.map { "  " + $0.flag.padding(toLength: flagWidth, withPad: " ", startingAt: 0) + " " + $0.env }
        .joined(separator: "\n")
}()

/// `vigil serve`: the server, with no configuration needed.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the Vigil server (SQLite in ./vigil-data on 127.0.0.1:8080 unless configured otherwise).",
        discussion: """
            Settings come from flags, then VIGIL_* environment variables, then vigil.toml, then defaults. A
            setting's vigil.toml key is its flag's name with _ for - (--smtp-host: smtp_host).
            \(settingsTable)
            SIGTERM or Ctrl-C finishes the requests in flight and exits 0.
            """
    )

    @OptionGroup var options: ServerOptions

    func run() async throws {
        let config = try options.resolve()
        bootstrapLogging(level: config.logLevel)
        do {
            try await VigilServer.serve(services: VigilServices(configuration: config)) { report in
                var lines = ["Vigil \(VigilVersion.current) listening on \(config.baseURL) (\(DatabaseTarget(config)))"]
                if report.signingKeyCreated {
                    lines.append("Created a new signing key in \(config.dataDirectory)/signing-key.pem — back it up.")
                }
                if let key = report.demoAPIKey {
                    lines.append(
                        "Demo data added: 200 generated hashes (labelled DEMO) and a partner key for the match API:")
                    lines.append(
                        "  curl -H 'Authorization: Bearer \(key)' \(config.baseURL)/api/v1/match/md5/\(String(sha256Hex("vigil-demo-0").prefix(32)))"
                    )
                }
                if let link = report.adminSetupLink {
                    lines.append("")
                    lines.append(
                        "First start: set up the administrator account with this one-time link (valid 24 hours):")
                    lines.append("  \(link)")
                    lines.append("")
                }
                // Unbuffered, so the link reaches a log file or pipe at once.
                FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8))
            }
        } catch let e as any VigilFailure {
            FileHandle.standardError.write(Data("vigil: \(e.description)\n".utf8))
            throw ExitCode(e.kind.exitCode)
        }
    }
}
