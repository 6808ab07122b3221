import ArgumentParser
import Foundation

/// The `vigil` command: the server, the operators' tools and the examiners' tools in one binary.
public struct VigilCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "vigil",
        abstract: "Vigil: the technical side of child online protection — hotline, block list, hash set, triage.",
        discussion: """
            Start the server with no configuration at all: `vigil serve` (SQLite in ./vigil-data, 127.0.0.1:8080).
            The first start prints a one-time link to set up the `admin` account.
            """,
        version: VigilVersion.current,
        subcommands: VigilCommand.all
    )

    public init() {}
}

/// The version printed by `vigil --version` and recorded in manifests.
public enum VigilVersion {
    public static let current = "0.1.0"
}

extension VigilCommand {
    /// Parses the arguments and runs the chosen subcommand, async or not; exits with its code.
    public static func runMain() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            // Usage errors exit 2 (like grep), not the argument parser's 64; help and --version still exit 0.
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                exit(withError: ExitCode(2))
            }
            exit(withError: error)
        }
    }
}
