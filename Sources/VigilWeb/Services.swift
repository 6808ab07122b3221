import Fluent
import Foundation
import Prometheus
import Vapor
import VigilCore
import VigilStore

/// Everything request handlers need, built once in `configure` from the typed configuration.
public struct VigilServices: Sendable {
    public let configuration: VigilConfiguration
    public let clock: any VigilClock
    public let tokens: any TokenSource
    public let passwords: any PasswordHashing
    public let metrics: Metrics
    public let addressThrottle: AddressThrottle
    let keyLimiter: KeyRateLimiter

    public init(
        configuration: VigilConfiguration, clock: any VigilClock = SystemClock(),
        tokens: any TokenSource = SystemTokenSource(), passwords: any PasswordHashing = BcryptPasswords()
    ) {
        self.configuration = configuration
        self.clock = clock
        self.tokens = tokens
        self.passwords = passwords
        self.metrics = Metrics()
        self.keyLimiter = KeyRateLimiter(perMinute: configuration.apiRequestsPerMinute)
        self.addressThrottle = AddressThrottle(
            limit: configuration.addressFailureLimit, window: configuration.addressWindow, clock: clock)
    }
}

/// bcrypt through Vapor's implementation (cost 12).
public struct BcryptPasswords: PasswordHashing {
    public let cost: Int
    public init(cost: Int = 12) { self.cost = cost }
    public func hash(_ password: String) throws -> String { try Bcrypt.hash(password, cost: cost) }
    public func verify(_ password: String, against hash: String) throws -> Bool {
        try Bcrypt.verify(password, created: hash)
    }
}

/// Prometheus metrics for requests, sign-ins and jobs.
public final class Metrics: Sendable {
    public let registry = PrometheusCollectorRegistry()

    func requestCounter(route: String, method: String, status: UInt) -> Counter {
        registry.makeCounter(
            descriptor: .init(
                namespace: "vigil", metricName: "http_requests", unitName: "total",
                helpText: "HTTP requests by route, method and status"),
            labels: [("route", route), ("method", method), ("status", String(status))])
    }

    func requestDuration(route: String, method: String) -> DurationHistogram {
        registry.makeDurationHistogram(
            descriptor: .init(
                namespace: "vigil", metricName: "http_request_duration", unitName: "seconds",
                helpText: "HTTP request latency by route"),
            labels: [("route", route), ("method", method)],
            buckets: [
                .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
                .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5),
            ])
    }

    /// Counts a sign-in attempt by result (`success`, `failure`, `locked`).
    public func login(_ result: String) {
        registry.makeCounter(
            descriptor: .init(
                namespace: "vigil", metricName: "logins", unitName: "total", helpText: "Sign-in attempts by result"),
            labels: [("result", result)]
        ).increment()
    }

    /// Counts a job run by name and outcome.
    /// Sets the job-queue gauges: jobs per name and state, and the age of the oldest due one.
    func jobQueue(_ depths: [JobQueue.Depth]) {
        for state in JobQueue.State.allCases where state != .done {
            for name in Set(depths.map(\.name)) {
                let d = depths.first { $0.name == name && $0.state == state }
                registry.makeGauge(
                    descriptor: .init(
                        namespace: "vigil", metricName: "job_queue_depth", unitName: "jobs",
                        helpText: "Jobs in the shared queue by name and state"),
                    labels: [("job", name), ("state", state.rawValue)]
                ).set(Double(d?.count ?? 0))
                registry.makeGauge(
                    descriptor: .init(
                        namespace: "vigil", metricName: "job_queue_oldest_age", unitName: "seconds",
                        helpText: "Age of the oldest due job by name and state"),
                    labels: [("job", name), ("state", state.rawValue)]
                ).set(d?.oldestAge ?? 0)
            }
        }
    }

    /// Each partner hotline's link, read at scrape time: messages waiting and given up, and seconds since the last
    /// message each way (absent until there is one).
    /// Urgent alerts nobody has acknowledged yet (a child said to be in immediate danger): alert on anything above 0.
    func urgent(unacknowledged: Int) {
        registry.makeGauge(
            descriptor: .init(
                namespace: "vigil", metricName: "urgent_alerts_unacknowledged", unitName: "alerts",
                helpText: "Urgent alerts (a child in immediate danger) that nobody has acknowledged yet")
        ).set(Double(unacknowledged))
    }

    func federation(_ health: [String: FederationStore.Health], now: Date) {
        for (partner, h) in health {
            for (metric, help, value) in [
                (
                    "federation_outbox_pending", "Messages waiting to be delivered to a partner hotline",
                    Double(h.pending)
                ),
                ("federation_outbox_failed", "Messages a partner hotline refused for good", Double(h.failed)),
            ] {
                registry.makeGauge(
                    descriptor: .init(namespace: "vigil", metricName: metric, unitName: "messages", helpText: help),
                    labels: [("partner", partner)]
                ).set(value)
            }
            for (direction, last) in [("sent", h.lastDelivered), ("received", h.lastReceived)] {
                guard let last else { continue }
                registry.makeGauge(
                    descriptor: .init(
                        namespace: "vigil", metricName: "federation_last_message_age", unitName: "seconds",
                        helpText: "Seconds since the last message to or from a partner hotline"),
                    labels: [("partner", partner), ("direction", direction)]
                ).set(now.timeIntervalSince(last))
            }
        }
    }

    public func job(_ name: String, outcome: String) {
        registry.makeCounter(
            descriptor: .init(
                namespace: "vigil", metricName: "jobs", unitName: "total",
                helpText: "Background job runs by job and outcome"),
            labels: [("job", name), ("outcome", outcome)]
        ).increment()
    }
}

/// Failed sign-ins per client address, kept in memory only (addresses are never stored).
public actor AddressThrottle {
    private let limit: Int
    private let window: TimeInterval
    private let clock: any VigilClock
    private var failures: [String: [Date]] = [:]

    public init(limit: Int, window: TimeInterval, clock: any VigilClock) {
        self.limit = limit
        self.window = window
        self.clock = clock
    }

    /// Whether this address may try again now.
    public func allows(_ address: String) -> Bool {
        prune(address)
        return (failures[address]?.count ?? 0) < limit
    }

    /// Records one failure for this address.
    public func recordFailure(_ address: String) {
        prune(address)
        failures[address, default: []].append(clock.now())
        if failures.count > 100_000 { failures.removeAll() }  // bound memory under a flood
    }

    private func prune(_ address: String) {
        let cutoff = clock.now() - window
        if let list = failures[address] {
            let kept = list.filter { $0 > cutoff }
            failures[address] = kept.isEmpty ? nil : kept
        }
    }
}

struct ServicesKey: StorageKey {
    typealias Value = VigilServices
}

extension Application {
    /// The services `configure` installed.
    public var vigil: VigilServices {
        get throws { try service(ServicesKey.self, "configure(_:services:) was not called") }
    }

    /// A service `configure` installed. A server whose composition root skipped it answers that request with a
    /// 500 and logs which one, instead of stopping every other request with it.
    func service<Key: StorageKey>(_ key: Key.Type, _ missing: String) throws -> Key.Value {
        guard let value = storage[key] else { throw ServerNotConfigured(missing: missing) }
        return value
    }
}

/// A service the composition root (`VigilServer.configure`) did not install: a programming error, answered as a
/// fault on our side (500) for the request that met it.
public struct ServerNotConfigured: VigilFailure {
    public let missing: String
    public var kind: FailureKind { .internalFailure }
    public var code: String { "server.not-configured" }
    public var description: String { "The server is not configured: \(missing)." }
}

extension Request {
    var vigil: VigilServices { get throws { try application.vigil } }

    var accounts: Accounts {
        get throws {
            Accounts(
                db: db, clock: try vigil.clock, tokens: try vigil.tokens, passwords: try vigil.passwords,
                configuration: try vigil.configuration, secrets: try application.hotline.sealer)
        }
    }

    var apiKeys: APIKeys { get throws { APIKeys(db: db, clock: try vigil.clock, tokens: try vigil.tokens) } }

    /// The client's address for throttles, audit and logs: the peer, or, when the peer is one of the operator's
    /// `trusted_proxies`, the right-most untrusted address it forwards for (``ClientAddress``).
    var clientAddress: String {
        get throws {
            ClientAddress.resolve(
                peer: remoteAddress?.ipAddress, forwarded: headers[.forwarded], forwardedFor: headers[.xForwardedFor],
                trusted: try vigil.configuration.trustedProxies)
        }
    }
}
