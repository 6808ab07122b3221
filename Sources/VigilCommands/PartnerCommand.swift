import ArgumentParser
import Foundation
import VigilApp
import VigilCore
import VigilStore

/// `vigil partner …`: partner hotlines in other countries (the federation protocol, docs/federation).
struct PartnerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "partner",
        abstract: "Register partner hotlines in other countries, their keys, and switch them on or off.",
        discussion: """
            Two hotlines exchange out of band: their base URLs, their public keys (`vigil partner self`) and an API \
            key each issues to the other (`vigil apikey create --partner NAME --scopes federation:send`). Every \
            change is audited. The protocol is described in docs/federation/README.md.
            """,
        subcommands: [Self_.self, List.self, Add.self, Enable.self, Disable.self, RotateKey.self, SetAPIKey.self])

    static let header = ["PARTNER", "COUNTRIES", "STATE", "KEYS", "API KEY", "URL", "LABEL"]

    static func row(_ p: FederationPartner, now: Date) -> [String] {
        let current = p.keys.filter { $0.isCurrent(at: now) }
        let keys = current.map { k in k.id + (k.retireAfter.map { " (until \($0.formatted(.iso8601)))" } ?? "") }
        return [
            p.name, p.countries.joined(separator: ","), p.enabled ? "on" : "off",
            keys.isEmpty ? "none current" : keys.joined(separator: "; "), p.hasAPIKey ? "stored" : "missing",
            p.baseURL, p.label,
        ]
    }

    /// Reads an API key from `--api-key` or a file (so it stays out of shell history).
    static func apiKey(_ value: String?, file: String?) throws -> String? {
        if let value { return value }
        guard let file else { return nil }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ValidationError("cannot read the API key file \(file)")
        }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func switchPartner(_ options: DatabaseOptions, _ name: String, on: Bool) async throws {
        try await runStoreCommand(options) { ctx in
            try await FederationStore(db: ctx.database, clock: ctx.clock).setEnabled(name, on, actor: .system)
        }
        print("\(name): \(on ? "on" : "off")")
    }

    struct Self_: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "self", abstract: "Show this installation's public key and key id, to give to partners.")
        @OptionGroup var options: DatabaseOptions
        func run() async throws {
            let config = try options.resolve()
            let path = (config.dataDirectory as NSString).appendingPathComponent("signing-key.pem")
            let (key, created) = try SigningKey.loadOrCreate(at: path)
            let raw = key.privateKey.publicKey.rawRepresentation
            if created { print("Created a new signing key in \(path) — back it up.") }
            print("public key: \(raw.base64EncodedString())")
            print("key id:     \(FederationKeyID.of(raw))")
            print("inbox:      <this server's base URL>/api/v1/federation/inbox")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the partners and their keys.")
        @OptionGroup var options: DatabaseOptions
        func run() async throws {
            let partners = try await runStoreCommand(options) { ctx in
                try await FederationStore(db: ctx.database, clock: ctx.clock).partners()
            }
            let now = Date()
            printTable(header: PartnerCommand.header, rows: partners.map { PartnerCommand.row($0, now: now) })
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Register a partner hotline.")
        @OptionGroup var options: DatabaseOptions
        @Argument(help: "Its name: lower case letters, digits and dashes (hotline-fr).") var name: String
        @Option(name: .customLong("country"), help: "A country it covers, ISO 3166-1 alpha-2 (repeatable).")
        var countries: [String] = []
        @Option(help: "Its base URL (messages go to URL/api/v1/federation/inbox).") var url: String
        @Option(help: "Its Ed25519 public key, base64 (its `vigil partner self`).") var publicKey: String
        @Option(help: "The API key it issued to us (or --api-key-file).") var apiKey: String?
        @Option(help: "A file holding the API key it issued to us.") var apiKeyFile: String?
        @Option(help: "What staff see (default: the name).") var label: String?
        func run() async throws {
            let partner = FederationPartner(
                name: name, label: label ?? name, countries: countries.map { $0.uppercased() }, baseURL: url)
            let key = try PartnerCommand.apiKey(apiKey, file: apiKeyFile)
            let (pk, stored) = (publicKey, partner)
            let added = try await runStoreCommand(options) { ctx in
                let store = FederationStore(db: ctx.database, clock: ctx.clock, secrets: ctx.secrets)
                try await store.addPartner(stored, publicKey: pk, apiKey: key, actor: .system)
                return try await store.partner(named: stored.name)
            }
            printTable(header: PartnerCommand.header, rows: [PartnerCommand.row(added, now: Date())])
            if key == nil { print("No API key stored yet: messages wait until `vigil partner set-api-key`.") }
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Switch a partner on.")
        @OptionGroup var options: DatabaseOptions
        @Argument(help: "The partner.") var name: String
        func run() async throws { try await PartnerCommand.switchPartner(options, name, on: true) }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Switch a partner off: its messages are refused at once, and nothing is sent to it.")
        @OptionGroup var options: DatabaseOptions
        @Argument(help: "The partner.") var name: String
        func run() async throws { try await PartnerCommand.switchPartner(options, name, on: false) }
    }

    struct RotateKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-key",
            abstract: "The partner has a new key: it verifies now, its old keys until the overlap ends.")
        @OptionGroup var options: DatabaseOptions
        @Argument(help: "The partner.") var name: String
        @Option(help: "Its new Ed25519 public key, base64.") var publicKey: String
        @Option(help: "Hours its old keys keep verifying (0: stop now).") var overlapHours = 168.0
        func validate() throws {
            guard overlapHours >= 0, overlapHours <= 24 * 90 else {
                throw ValidationError("--overlap-hours must be between 0 and 2160 (90 days)")
            }
        }
        func run() async throws {
            let (n, pk, overlap) = (name, publicKey, overlapHours * 3600)
            let retire = try await runStoreCommand(options) { ctx in
                try await FederationStore(db: ctx.database, clock: ctx.clock).rotateKey(
                    n, newPublicKey: pk, overlap: overlap, actor: .system)
            }
            print("\(name): new key added; older keys verify until \(retire.formatted(.iso8601))")
        }
    }

    struct SetAPIKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-api-key", abstract: "Store (or replace) the API key the partner issued to us.")
        @OptionGroup var options: DatabaseOptions
        @Argument(help: "The partner.") var name: String
        @Option(help: "The API key.") var apiKey: String?
        @Option(help: "A file holding the API key.") var apiKeyFile: String?
        func run() async throws {
            guard let key = try PartnerCommand.apiKey(apiKey, file: apiKeyFile) else {
                throw ValidationError("give --api-key or --api-key-file")
            }
            let n = name
            try await runStoreCommand(options) { ctx in
                try await FederationStore(db: ctx.database, clock: ctx.clock, secrets: ctx.secrets).setAPIKey(
                    n, apiKey: key, actor: .system)
            }
            print("\(name): API key stored (sealed)")
        }
    }
}
