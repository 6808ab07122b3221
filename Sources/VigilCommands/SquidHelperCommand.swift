import ArgumentParser
import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import Synchronization
import VigilCore
import VigilFormats

/// `vigil squid-helper`: Squid's url_rewrite_program or external_acl_type helper for the national block list.
struct SquidHelperCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "squid-helper",
        abstract: "Answer Squid's helper protocol from the signed hashed block list: listed URLs go to the STOP page.",
        discussion: """
            The list comes from the server (--server and --api-key, a key with feeds:read) or a file (--file, as \
            written by `vigil feed export --format hashed`). Its Ed25519 signature is checked with --public-key (the \
            text served at /api/v1/feeds/public-key); a list that does not verify, or is older than the one in use, is \
            refused and the last good list is kept. The list is reloaded every --reload-seconds.

            squid.conf, as a URL rewriter (listed URLs are redirected to the STOP page):
              url_rewrite_program /usr/bin/vigil squid-helper --server https://vigil.example --api-key KEY --public-key PUB
              url_rewrite_children 5 startup=1 idle=1 concurrency=50

            or as an ACL (use deny_info to show the STOP page):
              external_acl_type vigil concurrency=50 %URI /usr/bin/vigil squid-helper --mode acl ...
              acl vigil_listed external vigil
              deny_info http://vigil.example/stop vigil_listed
              http_access deny vigil_listed

            Each request line is `[channel-ID] URL [extras]`; the answer is `[channel-ID] OK status=302 url="STOP"` (rewrite, \
            listed), `OK` (acl, listed) or `ERR` (not listed, or not a web URL). URLs are canonicalised exactly as the \
            server canonicalises entries, so case, percent-encoding and dot segments do not matter. Diagnostics go to \
            standard error (Squid's cache.log).
            """)

    enum Mode: String, ExpressibleByArgument { case rewrite, acl }

    @Option(help: "Vigil's address, e.g. https://vigil.example (with --api-key).")
    var server: String?
    @Option(name: .customLong("api-key"), help: "API key with feeds:read. Env: VIGIL_API_KEY.")
    var apiKey: String?
    @Option(help: "Read the hashed list from this file instead of the server.")
    var file: String?
    @Option(
        name: .customLong("public-key"),
        help: "The server's Ed25519 public key (base64), from /api/v1/feeds/public-key.")
    var publicKey: String?
    @Option(name: .customLong("public-key-file"), help: "A file holding that key.")
    var publicKeyFile: String?
    @Option(help: "rewrite (url_rewrite_program) or acl (external_acl_type). Default rewrite.")
    var mode: Mode = .rewrite
    @Option(name: .customLong("reload-seconds"), help: "How often to look for a newer list (default 60).")
    var reloadSeconds: Int = 60
    @Option(
        name: .customLong("stop-url"), help: "Where to send listed requests (default: the STOP address the list names)."
    )
    var stopURL: String?

    func validate() throws {
        if (server == nil) == (file == nil) { throw ValidationError("give either --server (with --api-key) or --file") }
        if server != nil, apiKey ?? ProcessInfo.processInfo.environment["VIGIL_API_KEY"] == nil {
            throw ValidationError("--server needs --api-key (or VIGIL_API_KEY)")
        }
        if publicKey == nil, publicKeyFile == nil {
            throw ValidationError("give --public-key or --public-key-file: an unverified list is never used")
        }
        if reloadSeconds < 1 { throw ValidationError("--reload-seconds must be at least 1") }
    }

    func run() throws {
        let keyText = try publicKey ?? String(contentsOfFile: publicKeyFile!, encoding: .utf8)
        guard let key = FeedSignature.publicKey(base64: keyText) else {
            throw ValidationError("the public key is not a base64 Ed25519 key")
        }
        let source: HashedListSource =
            if let file { .file(file) } else {
                .server(base: server!, apiKey: apiKey ?? ProcessInfo.processInfo.environment["VIGIL_API_KEY"]!)
            }
        let loader = HashedListLoader(source: source, publicKey: key)
        loader.reload()
        let interval = reloadSeconds
        let thread = Thread {
            while true {
                Thread.sleep(forTimeInterval: TimeInterval(interval))
                loader.reload()
            }
        }
        thread.start()
        let answerer = SquidAnswerer(mode: mode, stopOverride: stopURL)
        while let line = readLine(strippingNewline: true) {
            let answer = answerer.answer(line, list: loader.current)
            FileHandle.standardOutput.write(Data((answer + "\n").utf8))
        }
    }
}

/// Turns one Squid request line into its answer.
struct SquidAnswerer: Sendable {
    let mode: SquidHelperCommand.Mode
    let stopOverride: String?

    func answer(_ line: String, list: HashedList?) -> String {
        var tokens = line.split(separator: " ", omittingEmptySubsequences: true)
        var prefix = ""
        if tokens.count > 1, tokens[0].allSatisfy(\.isNumber) {
            prefix = tokens[0] + " "
            tokens.removeFirst()
        }
        guard let list, let first = tokens.first else { return prefix + "ERR" }
        var url = String(first)
        // CONNECT requests name only host:port; domain and root-prefix entries still apply.
        if !url.contains("://"), tokens.contains("CONNECT") || url.hasSuffix(":443") {
            url = "https://" + url.split(separator: ":")[0] + "/"
        }
        guard list.isListed(url) else { return prefix + "ERR" }
        switch mode {
        case .acl: return prefix + "OK"
        case .rewrite:
            let stop = stopOverride ?? list.stopURL
            return prefix + "OK status=302 url=\"\(stop.replacingOccurrences(of: "\"", with: "%22"))\""
        }
    }
}

enum HashedListSource: Sendable {
    case file(String)
    case server(base: String, apiKey: String)
}

/// Keeps the last good list: a new one is used only when its signature verifies and it is not older.
final class HashedListLoader: Sendable {
    let source: HashedListSource
    let publicKey: Curve25519.Signing.PublicKey
    private let state = Mutex<(list: HashedList?, etag: String?)>((nil, nil))

    init(source: HashedListSource, publicKey: Curve25519.Signing.PublicKey) {
        self.source = source
        self.publicKey = publicKey
    }

    var current: HashedList? { state.withLock { $0.list } }

    static func log(_ message: String) { FileHandle.standardError.write(Data("vigil squid-helper: \(message)\n".utf8)) }

    func reload() {
        let bytes: [UInt8]
        switch source {
        case .file(let path):
            guard let data = FileManager.default.contents(atPath: path) else {
                return Self.log("cannot read \(path); keeping the list in use")
            }
            bytes = Array(data)
        case .server(let base, let key):
            guard let fetched = fetch(base: base, key: key) else { return }
            bytes = fetched
        }
        do throws(HashedListError) {
            let list = try HashedList(parsing: bytes, publicKey: publicKey)
            let accepted: Bool = state.withLock { s in
                if let old = s.list, old.version > list.version { return false }
                let changed = s.list?.version != list.version
                s.list = list
                return changed
            }
            if !accepted {
                Self.log("refused list version \(list.version): older than the one in use")
            }
        } catch {
            Self.log(
                "refused the new list (\(error.description)); keeping \(current.map { "version \($0.version)" } ?? "no list: nothing is blocked")"
            )
        }
    }

    /// Downloads the hashed feed; `nil` when unchanged (304) or on failure (logged).
    private func fetch(base: String, key: String) -> [UInt8]? {
        let url = (base.hasSuffix("/") ? String(base.dropLast()) : base) + "/api/v1/feeds/hashed"
        let etag = state.withLock { $0.etag }
        // Squid talks to the helper on a plain thread: the request's future is waited for here (no detached task).
        let outcome: Result<(Int, String?, [UInt8]), any Error>
        do {
            var request = try HTTPClient.Request(url: url)
            request.headers.add(name: "Authorization", value: "Bearer \(key)")
            if let etag { request.headers.add(name: "If-None-Match", value: etag) }
            let response: HTTPClient.Response = try HTTPClient.shared.execute(
                request: request, deadline: NIODeadline.now() + .seconds(60)
            ).wait()
            let bytes: [UInt8] = response.body.map { Array($0.readableBytesView) } ?? []
            outcome = .success((Int(response.status.code), response.headers.first(name: "ETag"), bytes))
        } catch {
            outcome = .failure(error)
        }
        switch outcome {
        case .failure(let error):
            Self.log("cannot fetch \(url): \(error); keeping the list in use")
            return nil
        case .success(let (status, newTag, bytes)):
            if status == 304 { return nil }
            guard status == 200 else {
                Self.log("fetching \(url) answered HTTP \(status); keeping the list in use")
                return nil
            }
            state.withLock { $0.etag = newTag }
            return bytes
        }
    }
}
