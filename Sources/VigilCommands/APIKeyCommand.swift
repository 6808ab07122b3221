import ArgumentParser
import Foundation
import VigilApp
import VigilCore
import VigilStore

/// `vigil apikey …`: partners' API keys.
struct APIKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apikey", abstract: "Manage partners' API keys.",
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a key; it is printed once and stored only as a hash.")
        @OptionGroup var options: LinkedDatabaseOptions
        @Option(help: "Partner name (ISP, platform, partner hotline).") var partner: String
        @Option(help: "Comma-separated: \(APIScope.allCases.map(\.rawValue).joined(separator: ",")).") var scopes:
            String

        func validate() throws {
            do { _ = try APIScope.parseList(scopes) } catch { throw ValidationError(error.description) }
        }

        func run() async throws {
            let list = try APIScope.parseList(scopes)
            let name = partner
            let (id, secret) = try await runStoreCommand(options) { ctx in
                let (row, secret) = try await ctx.apiKeys.create(partner: name, scopes: list, actor: .system)
                return (row.id.uuidString, secret)
            }
            print("Created key \(id) for \(name) (\(list.map(\.rawValue).joined(separator: ","))).")
            print("Give the partner this key now; it cannot be shown again:\n  \(secret)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys (never the keys themselves).")
        @OptionGroup var options: LinkedDatabaseOptions
        func run() async throws {
            let rows = try await runStoreCommand(options) { ctx in
                try await ctx.apiKeys.list().map {
                    [
                        $0.id.uuidString, $0.partner, $0.prefix + "…", $0.scopeNames,
                        $0.revokedAt == nil ? "active" : "revoked",
                        $0.lastUsedAt.map { ISO8601DateFormatter().string(from: $0) } ?? "never",
                    ]
                }
            }
            printTable(header: ["ID", "PARTNER", "KEY", "SCOPES", "STATUS", "LAST USED"], rows: rows)
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a key by its ID or its first characters as listed.")
        @OptionGroup var options: LinkedDatabaseOptions
        @Argument(help: "Key ID or prefix.") var key: String
        func run() async throws {
            let k = key
            try await runStoreCommand(options) { try await $0.apiKeys.revoke(k, actor: .system) }
            print("Revoked \(k).")
        }
    }
}
