import ArgumentParser
import Foundation
import VigilApp
import VigilCore
import VigilFormats
import VigilStore

extension FeedFormat: ExpressibleByArgument {}

/// `vigil feed export`: the same signed feeds the server serves, written to a file.
struct FeedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "feed", abstract: "Write block-list feeds (RPZ, hashed URLs, hosts, domains, newsgroups, JSON).",
        subcommands: [Export.self])

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Write one feed of the current (or a given) list version to a file, with its Ed25519 signature beside it (FILE.sig).",
            discussion: """
                Formats: rpz (DNS resolvers), hashed (proxies and vigil squid-helper; the signature is also inside), \
                hosts, domains (Pi-hole, AdGuard Home, dnsmasq), newsgroups (news servers), json.
                Verify a file with the key served at /api/v1/feeds/public-key.
                """)
        @Option(help: "Feed format: \(FeedFormat.allCases.map(\.rawValue).joined(separator: ", ")).")
        var format: FeedFormat
        @Option(help: "File to write ('-' for standard output, with no .sig file).")
        var out: String
        @Option(name: .customLong("list-version"), help: "A published version to write instead of the current one.")
        var listVersion: Int64?
        @OptionGroup var options: ServerOptions

        func run() async throws {
            let format = format, version = listVersion
            let result = try await runStoreCommand(options) { ctx in
                try await BlockListService.exportFeed(ctx, format: format, version: version)
            }
            guard let result else {
                FileHandle.standardError.write(
                    Data(
                        "vigil feed: \(version.map { "there is no version \($0)" } ?? "no version of the list has been published yet")\n"
                            .utf8))
                throw ExitCode(1)
            }
            if out == "-" {
                FileHandle.standardOutput.write(Data(result.bytes))
                return
            }
            do {
                try Data(result.bytes).write(to: URL(fileURLWithPath: out), options: .atomic)
                try Data("ed25519=\(result.signature)\n".utf8).write(
                    to: URL(fileURLWithPath: out + ".sig"), options: .atomic)
            } catch {
                FileHandle.standardError.write(
                    Data("vigil feed: cannot write \(out): \(error.localizedDescription)\n".utf8))
                throw ExitCode(1)
            }
            FileHandle.standardError.write(
                Data(
                    "wrote \(format.rawValue) feed of version \(result.version) (\(result.bytes.count) bytes) to \(out), signature in \(out).sig\n"
                        .utf8))
        }
    }
}
