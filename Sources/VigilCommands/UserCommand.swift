import ArgumentParser
import Foundation
import VigilApp
import VigilCore
import VigilStore

/// `vigil user …`: staff accounts from the command line.
struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Manage staff accounts.",
        subcommands: [Add.self, List.self, Disable.self, Enable.self, SetupLink.self, ResetMFA.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a user and print their one-time setup link.")
        @OptionGroup var options: LinkedDatabaseOptions
        @Option(help: "Lower-case user name.") var username: String
        @Option(help: "One of: \(Role.allCases.map(\.rawValue).joined(separator: ", ")).") var role: String

        func validate() throws {
            guard Role(rawValue: role) != nil else {
                throw ValidationError(
                    "unknown role '\(role)'; choose one of \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if let problem = AccountRules.validateUsername(username) { throw ValidationError(problem) }
        }

        func run() async throws {
            let (name, role) = (username, Role(rawValue: role)!)
            let link = try await runStoreCommand(options) { ctx in
                let (_, token) = try await ctx.accounts.createUser(username: name, role: role, actor: .system)
                return "\(ctx.configuration.baseURL)/setup/\(token)"
            }
            print("Added \(name) (\(role.rawValue)). One-time setup link, valid 24 hours:\n  \(link)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List users.")
        @OptionGroup var options: LinkedDatabaseOptions

        func run() async throws {
            let rows = try await runStoreCommand(options) { ctx in
                let now = ctx.clock.now()
                return try await ctx.accounts.listUsers().map { u in
                    [
                        u.username, u.roleName, u.standing(at: now).rawValue,
                        u.lastLoginAt.map { ISO8601DateFormatter().string(from: $0) } ?? "never",
                    ]
                }
            }
            printTable(header: ["USER", "ROLE", "STATUS", "LAST SIGN-IN"], rows: rows)
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disable a user and end their sessions.")
        @OptionGroup var options: LinkedDatabaseOptions
        @Argument(help: "User name.") var username: String
        func run() async throws {
            let name = username
            try await runStoreCommand(options) {
                try await $0.accounts.setDisabled(true, username: name, actor: .system)
            }
            print("Disabled \(name).")
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Re-enable a disabled or locked user.")
        @OptionGroup var options: LinkedDatabaseOptions
        @Argument(help: "User name.") var username: String
        func run() async throws {
            let name = username
            try await runStoreCommand(options) {
                try await $0.accounts.setDisabled(false, username: name, actor: .system)
            }
            print("Re-enabled \(name).")
        }
    }

    struct SetupLink: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "setup-link", abstract: "Print a fresh setup link for a user who has not finished setting up.")
        @OptionGroup var options: LinkedDatabaseOptions
        @Argument(help: "User name.") var username: String
        func run() async throws {
            let name = username
            let link = try await runStoreCommand(options) { ctx in
                "\(ctx.configuration.baseURL)/setup/\(try await ctx.accounts.issueSetupLink(username: name, actor: .system))"
            }
            print(link)
        }
    }

    struct ResetMFA: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reset-mfa", abstract: "Clear a user's two-step sign-in and print a new setup link.")
        @OptionGroup var options: LinkedDatabaseOptions
        @Argument(help: "User name.") var username: String
        func run() async throws {
            let name = username
            let link = try await runStoreCommand(options) { ctx in
                "\(ctx.configuration.baseURL)/setup/\(try await ctx.accounts.resetMFA(username: name, actor: .system))"
            }
            print(link)
        }
    }
}

/// Prints aligned columns.
func printTable(header: [String], rows: [[String]]) {
    var widths = header.map(\.count)
    for r in rows { for (i, c) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) } }
    func line(_ cells: [String]) -> String {
        cells.enumerated().map { i, c in
            i == cells.count - 1 ? c : c.padding(toLength: widths[i], withPad: " ", startingAt: 0)
        }
        .joined(separator: "  ")
    }
    print(line(header))
    for r in rows { print(line(r)) }
}
