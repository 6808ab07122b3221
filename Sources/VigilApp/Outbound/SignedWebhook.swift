import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import VigilStore

/// A JSON POST signed `X-Vigil-Signature: sha256=HEX` (HMAC-SHA-256 of the body with a shared secret), through the
/// outbound fetcher (its address policy applies). Notice webhooks and the urgent path's paging webhook use it.
enum SignedWebhook {
    /// The signature header's value for `body`.
    static func signature(_ body: Data, secret: String?) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data((secret ?? "").utf8)))
        return "sha256=" + mac.map { String(format: "%02x", $0) }.joined()
    }

    /// POSTs `body`; a 2xx answer is delivery.
    /// - Throws: ``StoreError/unreachable(_:)`` naming the URL when it was refused or answered otherwise.
    static func post(_ url: String, body: Data, secret: String?, fetcher: OutboundFetcher) async throws
        -> OutboundFetcher.Response
    {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "X-Vigil-Signature", value: signature(body, secret: secret))
        request.body = .bytes(ByteBuffer(data: body))
        let response: OutboundFetcher.Response
        do {
            response = try await fetcher.fetch(request, timeout: .seconds(30), maxBytes: 64 << 10)
        } catch let refusal as OutboundRefusal {
            throw StoreError.unreachable("the webhook \(url): \(refusal)")
        }
        guard (200..<300).contains(response.status) else {
            throw StoreError.unreachable("the webhook \(url) answered HTTP \(response.status)")
        }
        return response
    }
}
