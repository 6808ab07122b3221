import ArgumentParser
import Foundation
import VigilApp
import VigilCore
import VigilStore

/// `vigil audit verify`: proves the audit log's hash chain is intact.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Check the audit log.", subcommands: [Verify.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Walk the hash chain; exit 0 when every event verifies, 1 naming the first one that does not.")
        @OptionGroup var options: DatabaseOptions

        func run() async throws {
            let outcome: Result<Int64, AuditChain.Failure> = try await runStoreCommand(options, migrate: false) { ctx in
                do { return .success(try await AuditLog.verify(on: ctx.database)) } catch let f as AuditChain.Failure {
                    return .failure(f)
                }
            }
            switch outcome {
            case .success(let n):
                print("audit log verified: \(n) events, chain intact")
            case .failure(let f):
                FileHandle.standardError.write(Data("audit log does NOT verify: \(f.description)\n".utf8))
                throw ExitCode(1)
            }
        }
    }
}
