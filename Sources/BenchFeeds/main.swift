// Renders every block-list feed format for N entries, and measures the hashed-list lookup `vigil squid-helper`
// does per request, on one core.
//
//   swift run -c release BenchFeeds [ENTRIES] [LOOKUPS]
import Foundation
import VigilCore
import VigilFormats

let entries = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 1_000_000 : 1_000_000
let lookups = CommandLine.arguments.count > 2 ? Int(CommandLine.arguments[2]) ?? 2_000_000 : 2_000_000

func seconds(_ body: () -> Void) -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

// 70% exact URLs, 20% prefixes, 9% domains, 1% newsgroups, over 50,000 hosts.
var targets: [ListTarget] = []
targets.reserveCapacity(entries)
for i in 0..<entries {
    let host = "host\(i % 50_000).example\(i % 97).test"
    switch i % 100 {
    case 0..<70: targets.append(ListTarget(kind: .url, value: "\(host)/gallery/\(i)/image\(i).jpg"))
    case 70..<90: targets.append(ListTarget(kind: .prefix, value: "\(host)/share\(i)/"))
    case 90..<99: targets.append(ListTarget(kind: .domain, value: "d\(i).example.test"))
    default: targets.append(ListTarget(kind: .newsgroup, value: "alt.group\(i).pictures"))
    }
}
let list = PublishedList(version: 1, publishedAt: Date(), targets: targets)
let options = FeedOptions(stopIPv4: "192.0.2.1", stopIPv6: "2001:db8::1", stopURL: "https://vigil.example/stop")
var total = 0.0
var hashedBytes: [UInt8] = []
print("feed\tentries\tbytes\tseconds")
for format in FeedFormat.allCases {
    var bytes: [UInt8] = []
    let t = seconds { bytes = FeedRenderer.render(list, as: format, options: options) }
    total += t
    if format == .hashed { hashedBytes = bytes }
    print("\(format.rawValue)\t\(entries)\t\(bytes.count)\t\(String(format: "%.3f", t))")
}
print(
    "all formats\t\(entries)\t-\t\(String(format: "%.3f", total))\t(goal: under 5 s; ratio to goal \(String(format: "%.2f", total / 5)))"
)

var hashed: HashedList?
let parse = seconds { hashed = try? HashedList(parsing: hashedBytes, publicKey: nil) }
print("hashed list parse\t\(hashed?.count ?? 0)\t-\t\(String(format: "%.3f", parse))")

// Requests: 1 in 10 listed (exact URLs, URLs under prefixes, subdomains of domains), the rest unlisted hosts.
var requests: [String] = []
for i in 0..<10_000 {
    switch i % 10 {
    case 0: requests.append("http://HOST\(i % 50_000).example\(i % 97).test/gallery/\(i)/image\(i).jpg")
    case 1: requests.append("http://unlisted\(i).example.org/path/to/page\(i).html?q=\(i)")
    default: requests.append("https://www.site\(i).example.com/articles/\(i)/index.html")
    }
}
var listed = 0
let lookupTime = seconds {
    for i in 0..<lookups where hashed!.isListed(requests[i % requests.count]) { listed += 1 }
}
print(
    "lookups\t\(lookups)\tlisted \(listed)\t\(String(format: "%.3f", lookupTime))\t\(Int(Double(lookups) / lookupTime)) per second on one core (goal 200,000; ratio \(String(format: "%.2f", Double(lookups) / lookupTime / 200_000)))"
)
