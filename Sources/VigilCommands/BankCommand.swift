import ArgumentParser
import Foundation
import VigilApp
import VigilCore
import VigilStore

extension HashBank.Kind: ExpressibleByArgument {}

/// `vigil bank …`: the banks of the national hash set.
struct BankCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bank",
        abstract: "List, add and configure the hash set's banks (match or negative, on or off, radius, sampling).",
        discussion: """
            Every hash set record belongs to a bank. A match bank answers queries; a negative bank (known-benign, \
            false-positive) suppresses near matches. Changes are audited and apply at every server's next query.
            """,
        subcommands: [List.self, Add.self, Enable.self, Disable.self, Set.self])

    static func row(_ b: HashBank) -> [String] {
        [
            b.name, b.kind.rawValue, b.enabled ? "on" : "off", String(b.pdqRadius),
            b.sampling >= 1 ? "all" : String(format: "%.0f%%", b.sampling * 100), b.reviewed ? "yes" : "no", b.label,
        ]
    }

    static let header = ["BANK", "KIND", "STATE", "RADIUS", "SAMPLING", "REVIEWED", "LABEL"]

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the banks.")
        @OptionGroup var options: DatabaseOptions
        func run() async throws {
            let banks = try await runStoreCommand(options) { ctx in
                try await HashSetStore(db: ctx.database, clock: ctx.clock).banks()
            }
            printTable(header: BankCommand.header, rows: banks.map(BankCommand.row))
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a bank.")
        @OptionGroup var options: DatabaseOptions
        @Argument(help: "Its name: lower case, e.g. icse-import, partner:fr, platform:example.") var name: String
        @Option(help: "What staff see (default: the name).") var label: String?
        @Option(help: "match (answers queries) or negative (suppresses near matches).") var kind = HashBank.Kind.match
        @Option(help: "PDQ radius for its hashes, 0-63.") var radius = 31
        @Option(help: "Share of queries it answers, above 0 and at most 1.") var sampling = 1.0
        @Flag(help: "Its source reviews every hash: records need one confirmation, and imports may confirm them.")
        var reviewed = false
        func run() async throws {
            let bank = HashBank(
                name: name, label: label ?? name, kind: kind, pdqRadius: radius, sampling: sampling, reviewed: reviewed)
            try await runStoreCommand(options) { ctx in
                try await HashSetStore(db: ctx.database, clock: ctx.clock).addBank(bank, actor: .system)
            }
            printTable(header: BankCommand.header, rows: [BankCommand.row(bank)])
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Switch a bank on.")
        @OptionGroup var options: DatabaseOptions
        @Argument(help: "The bank.") var name: String
        func run() async throws { try await BankCommand.change(options, name) { $0.enabled = true } }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Switch a bank off: its records neither match nor suppress.")
        @OptionGroup var options: DatabaseOptions
        @Argument(help: "The bank.") var name: String
        func run() async throws { try await BankCommand.change(options, name) { $0.enabled = false } }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change a bank's label, radius, sampling or review.")
        @OptionGroup var options: DatabaseOptions
        @Argument(help: "The bank.") var name: String
        @Option(help: "What staff see.") var label: String?
        @Option(help: "PDQ radius, 0-63.") var radius: Int?
        @Option(help: "Share of queries it answers, above 0 and at most 1.") var sampling: Double?
        @Option(help: "true when its source reviews every hash.") var reviewed: Bool?
        func run() async throws {
            let (label, radius, sampling, reviewed) = (label, radius, sampling, reviewed)
            guard label != nil || radius != nil || sampling != nil || reviewed != nil else {
                throw ValidationError("Give at least one of --label, --radius, --sampling, --reviewed.")
            }
            try await BankCommand.change(options, name) { b in
                if let label { b.label = label }
                if let radius { b.pdqRadius = radius }
                if let sampling { b.sampling = sampling }
                if let reviewed { b.reviewed = reviewed }
            }
        }
    }

    static func change(
        _ options: DatabaseOptions, _ name: String, _ body: @escaping @Sendable (inout HashBank) -> Void
    ) async throws {
        let bank = try await runStoreCommand(options) { ctx in
            try await HashSetStore(db: ctx.database, clock: ctx.clock).updateBank(name, actor: .system, body)
        }
        printTable(header: header, rows: [row(bank)])
    }
}
