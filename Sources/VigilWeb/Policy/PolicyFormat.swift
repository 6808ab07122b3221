import Foundation
import Vapor
import VigilCore

/// Small shared pieces of the policy pages: dates as staff and the public read them, and CSV downloads.
enum PolicyFormat {
    /// `2027-01-15` (UTC).
    static func day(_ date: Date) -> String { String(ISO8601DateFormatter().string(from: date).prefix(10)) }

    /// `2027-01-15 08:00` (UTC).
    static func minute(_ date: Date) -> String {
        String(ISO8601DateFormatter().string(from: date).prefix(16)).replacingOccurrences(of: "T", with: " ")
    }

    /// A CSV download named `filename`.
    static func csv(_ text: String, filename: String) -> Response {
        var headers = HTTPHeaders()
        headers.contentType = HTTPMediaType(type: "text", subType: "csv", parameters: ["charset": "utf-8"])
        headers.replaceOrAdd(name: .contentDisposition, value: "attachment; filename=\"\(filename)\"")
        return Response(status: .ok, headers: headers, body: .init(string: text))
    }
}
