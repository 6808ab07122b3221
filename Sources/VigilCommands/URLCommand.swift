import ArgumentParser
import Foundation
import VigilCore

/// `vigil url canon URL…` and `vigil url expressions URL…`: Safe Browsing URL canonicalisation from the shell.
/// All the work is in `VigilCore.CanonicalURL`; this type only reads inputs and prints.
struct URLCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "url",
        abstract: "Canonicalise URLs the way reports and block-list entries are matched.",
        discussion: """
            The rules are Google Safe Browsing's: fragments removed, escapes undone, host lowercased with its \
            IP address or international name normalised, path resolved, port and user name dropped.
            """,
        subcommands: [Canon.self, Expressions.self]
    )

    /// `vigil url canon`: one canonical form per line.
    struct Canon: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the canonical form of each URL, one per line.",
            discussion: """
                With no URL arguments, reads one URL per line from standard input (blank lines are skipped). \
                An input that cannot be canonicalised is named on standard error and the others go on.
                Exit status: 0 all inputs canonicalised, 1 some were not URLs.
                """
        )

        @Argument(help: "URLs to canonicalise (default: read lines from standard input).")
        var urls: [String] = []

        @Flag(help: "Also accept newsgroups (news:…) and P2P links (magnet:, ed2k:, info-hashes) and print their keys.")
        var anyTarget = false

        func run() async throws {
            let anyTarget = anyTarget
            try URLInputs.process(urls) { input throws(URLCanonicalizationError) in
                (anyTarget ? try ReportTarget(detecting: input).canonicalKey : try CanonicalURL.canonicalize(input))
                    + "\n"
            }
        }
    }

    /// `vigil url expressions`: the host-suffix / path-prefix expressions a block list is looked up with.
    struct Expressions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the Safe Browsing lookup expressions of a URL, one per line, most specific first.",
            discussion: """
                At most 5 host suffixes times 6 path prefixes. With several URLs (or none, reading standard \
                input), each URL's expressions are followed by an empty line.
                Exit status: 0 all inputs were URLs, 1 some were not.
                """
        )

        @Argument(help: "URLs to expand (default: read lines from standard input).")
        var urls: [String] = []

        func run() async throws {
            let separator = urls.count == 1 ? "" : "\n"
            try URLInputs.process(urls) { input throws(URLCanonicalizationError) in
                try CanonicalURL.lookupExpressions(input).map { $0 + "\n" }.joined() + separator
            }
        }
    }
}

/// The command-line arguments, or the non-blank lines of standard input when there are none.
private struct URLInputs: Sequence, IteratorProtocol {
    private var arguments: IndexingIterator<[String]>
    private let fromStandardInput: Bool

    init(arguments: [String]) {
        self.arguments = arguments.makeIterator()
        self.fromStandardInput = arguments.isEmpty
    }

    mutating func next() -> String? {
        guard fromStandardInput else { return arguments.next() }
        while let line = readLine(strippingNewline: true) {
            if !line.allSatisfy(\.isWhitespace) { return line }
        }
        return nil
    }

    /// Prints `transform` of each input (arguments, or standard input's lines); names each failure on standard
    /// error and goes on; exits 1 at the end when any failed.
    static func process(
        _ arguments: [String], _ transform: (String) throws(URLCanonicalizationError) -> String
    ) throws {
        var failed = false
        var output = ""
        for input in URLInputs(arguments: arguments) {
            do {
                output += try transform(input)
            } catch {
                failed = true
                flush(&output)
                reportFailure(input, error)
            }
            if output.utf8.count >= 1 << 16 { flush(&output) }
        }
        flush(&output)
        if failed { throw ExitCode(1) }
    }

    private static func flush(_ output: inout String) {
        guard !output.isEmpty else { return }
        FileHandle.standardOutput.write(Data(output.utf8))
        output = ""
    }

    /// `vigil url: cannot canonicalise "INPUT": REASON`, with control characters shown as `\xNN` and long inputs cut.
    private static func reportFailure(_ input: String, _ error: any Error) {
        var shown = ""
        for scalar in input.unicodeScalars.prefix(200) {
            if scalar.value < 0x20 || scalar.value == 0x7F {
                shown += "\\x" + String(scalar.value, radix: 16, uppercase: true).leftPadded(to: 2)
            } else if scalar == "\"" || scalar == "\\" {
                shown += "\\" + String(scalar)
            } else {
                shown.unicodeScalars.append(scalar)
            }
        }
        if input.unicodeScalars.count > 200 { shown += "…" }
        FileHandle.standardError.write(Data("vigil url: cannot canonicalise \"\(shown)\": \(error)\n".utf8))
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
