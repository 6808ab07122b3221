import ArgumentParser
import Foundation
import VigilApp
import VigilCore

/// `vigil mail test --to ADDRESS`: checks the SMTP settings the way notices use them.
struct MailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mail", abstract: "Check the mail settings notices go out with.", subcommands: [Test.self])

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send a test message through the configured SMTP relay (smtp_host, smtp_tls, smtp_username, …).",
            discussion:
                "Exit 0 when the relay accepted it, 1 when it refused or could not be reached (the reason is printed).")
        @Option(help: "Where to send the test message.")
        var to: String
        @OptionGroup var options: ServerOptions

        func validate() throws {
            guard EmailAddress.isPlausible(to) else {
                throw ValidationError("--to must be an e-mail address, got '\(to)'")
            }
        }

        func run() async throws {
            let c = try options.resolve()
            do {
                print(try await NoticeService.sendTestMail(c, to: to, at: SystemClock().now()))
            } catch {
                FileHandle.standardError.write(Data("vigil mail test: \(error)\n".utf8))
                throw ExitCode(1)
            }
        }
    }
}
