import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import VigilCore

/// Turns a host name into the addresses a connection would go to.
public protocol NameResolver: Sendable {
    /// The A and AAAA addresses of `name`.
    /// - Throws: ``OutboundRefusal/noSuchName`` when the name does not exist, ``OutboundRefusal/unresolved`` when
    ///   the resolver could not say.
    func addresses(of name: String) async throws(OutboundRefusal) -> [IPAddress]
}

extension DNSClient: NameResolver {
    /// Whether the resolver runs on this machine (a lab's or a test's): only such a resolver is asked about names
    /// that cannot exist on the internet.
    public var isOnThisMachine: Bool { server.hasPrefix("127.") || server == "::1" }

    public func addresses(of name: String) async throws(OutboundRefusal) -> [IPAddress] {
        // Reserved names (demo data, tests) are never asked of the network's resolver: nothing leaves the machine.
        if ReservedNames.contains(name), !isOnThisMachine {
            throw .unresolved(host: name, why: "reserved name (RFC 6761): not looked up outside this machine")
        }
        let answer: Answer
        do { answer = try resolve(name) } catch {
            switch error {
            case .network(let why): throw .unresolved(host: name, why: why)
            case .malformed: throw .unresolved(host: name, why: "malformed answer from the resolver")
            }
        }
        let addresses = answer.addresses.compactMap { IPAddress(host: $0) }
        guard !addresses.isEmpty else {
            if answer.nxdomain { throw .noSuchName(name) }
            throw .unresolved(host: name, why: "no address")
        }
        return addresses
    }
}

/// Why Vigil did not (or could not) connect where some data pointed it.
public enum OutboundRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    /// The address (given or resolved) is not public and the operator did not allow its range.
    case forbidden(host: String, address: IPAddress, why: String)
    /// The name does not exist (NXDOMAIN).
    case noSuchName(String)
    /// The resolver gave no usable answer.
    case unresolved(host: String, why: String)
    /// Not an http(s) URL with a host.
    case badURL(String)

    public var description: String {
        switch self {
        case .forbidden(let host, let address, let why):
            host == address.description
                ? "not fetched: \(address) is \(why) (outbound-fetch policy)"
                : "not fetched: \(host) resolves to \(address), which is \(why) (outbound-fetch policy)"
        case .noSuchName(let host): "no such domain: \(host)"
        case .unresolved(let host, let why): "cannot resolve \(host): \(why)"
        case .badURL(let url): "not an http(s) address: \(url)"
        }
    }
}

/// Every request Vigil makes on behalf of data it was given (list checks, rechecks, attribution's RDAP, webhooks
/// to providers) goes through here. The host is resolved through the configured resolver, each address is checked
/// against the ``OutboundAddressPolicy`` (loopback, private, link-local, CGNAT, multicast, reserved and their
/// IPv4-mapped, NAT64 and 6to4 forms are refused unless the operator allowed the range), and the connection is
/// pinned to the checked address, so a name cannot resolve differently between the check and the connect (DNS
/// rebinding). Redirects are never followed here: a caller that follows one calls again, and the next hop is
/// checked the same way.
public struct OutboundFetcher: Sendable {
    public let policy: OutboundAddressPolicy
    public let resolver: any NameResolver
    /// `http://host:port` of a proxy every request goes through (the proxy then connects; the address is still
    /// checked here first).
    public let proxy: String?
    public let connectTimeout: TimeAmount
    public let readTimeout: TimeAmount

    public init(
        policy: OutboundAddressPolicy, resolver: any NameResolver, proxy: String? = nil,
        connectTimeout: TimeAmount = .seconds(10), readTimeout: TimeAmount = .seconds(20)
    ) {
        self.policy = policy
        self.resolver = resolver
        self.proxy = proxy
        self.connectTimeout = connectTimeout
        self.readTimeout = readTimeout
    }

    /// The fetcher the configuration describes: its policy, its resolver and (for list checks) its proxy.
    public init(_ configuration: VigilConfiguration, proxy: String? = nil) {
        self.init(
            policy: configuration.fetchPolicy, resolver: DNSClient.configured(configuration.dnsResolver), proxy: proxy)
    }

    /// Where a request to `url` would connect: the host, and the one address it is pinned to.
    public struct Target: Sendable, Equatable {
        public let host: String
        public let address: IPAddress
    }

    /// Checks `url` against the policy: parses the host (every IPv4 spelling included), resolves a name, and
    /// refuses when any address is not allowed.
    public func vet(_ url: String) async throws(OutboundRefusal) -> Target {
        guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(),
            scheme == "http" || scheme == "https", var host = parsed.host, !host.isEmpty
        else { throw .badURL(url) }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let addresses: [IPAddress]
        if let literal = IPAddress(host: host) {
            addresses = [literal]
        } else {
            let name = host.lowercased().hasSuffix(".") ? String(host.dropLast()) : host.lowercased()
            // RFC 6761: localhost names are loopback wherever they are looked up.
            if name == "localhost" || name.hasSuffix(".localhost") {
                addresses = [IPAddress(v4: 0x7F00_0001)]
            } else {
                addresses = try await resolver.addresses(of: name)
            }
        }
        for address in addresses {
            if let why = policy.refusal(for: address) { throw .forbidden(host: host, address: address, why: why) }
        }
        let chosen = addresses.first(where: \.isV4) ?? addresses[0]
        return Target(host: host, address: chosen)
    }

    /// Sends `request` (no redirects followed) to the address ``vet(_:)`` approved, and hands the response to
    /// `body` while the connection is open.
    /// - Throws: ``OutboundRefusal`` before any connection, or the client's error.
    public func execute<T: Sendable>(
        _ request: HTTPClientRequest, timeout: TimeAmount,
        _ body: (HTTPClientResponse) async throws -> T
    ) async throws -> T {
        let target = try await vet(request.url)
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow, timeout: .init(connect: connectTimeout, read: readTimeout))
        if let proxy, let url = URL(string: proxy), let host = url.host {
            configuration.proxy = .server(host: host, port: url.port ?? 3128)
        } else {
            configuration.dnsOverride = [target.host: target.address.description]
        }
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            let response = try await client.execute(request, timeout: timeout)
            let result = try await body(response)
            try await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// A whole (bounded) response.
    public struct Response: Sendable {
        public let status: UInt
        /// The URL that answered (the last hop of any redirects followed).
        public let url: String
        public let headers: HTTPHeaders
        public let body: ByteBuffer
    }

    /// Sends `request` and reads the body (at most `maxBytes`; more is an error), following up to `maxRedirects`
    /// redirects for GET requests, each hop checked against the policy as the first was.
    public func fetch(
        _ request: HTTPClientRequest, timeout: TimeAmount, maxBytes: Int, maxRedirects: Int = 0
    ) async throws -> Response {
        var request = request
        for hop in 0...maxRedirects {
            let url = request.url
            let response = try await execute(request, timeout: timeout) { response in
                Response(
                    status: UInt(response.status.code), url: url, headers: response.headers,
                    body: try await response.body.collect(upTo: maxBytes))
            }
            guard [301, 302, 303, 307, 308].contains(response.status), request.method == .GET, hop < maxRedirects,
                let location = response.headers.first(name: "Location"),
                let next = URL(string: location, relativeTo: URL(string: url))?.absoluteURL.absoluteString
            else { return response }
            request.url = next
        }
        preconditionFailure("the loop returns on its last hop")
    }
}
