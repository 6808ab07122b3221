import Crypto
import Foundation
import VigilMedia

/// manifest.json, the chain of custody of a scan: who examined what, where, when and with which tool and hash set;
/// every examined file's path, size and SHA-256; every output file's size and SHA-256; and the manifest's own
/// SHA-256 as its last member (`manifest_sha256`, computed over the file with that value written as 64 zeros).
public enum Manifest {
    /// The manifest's bytes and its own SHA-256.
    public struct Written: Sendable {
        public var bytes: [UInt8]
        public var sha256: String
    }

    static let selfKey = "\"manifest_sha256\":\""

    /// The SHA-256 of `data` as lowercase hex.
    public static func sha256Hex(_ data: Data) -> String { hex(SHA256.hash(data: data)) }

    /// Builds the manifest for a finished scan whose `outputs` (file names) are already in `outputDirectory`.
    static func make(context: ReportContext, outputDirectory: String, outputs: [String]) throws -> Written {
        let c = context.configuration
        var outputList: [[String: Any]] = []
        for name in outputs {
            let path = outputDirectory + "/" + name
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ScanError.cannotWrite(path, "written but cannot be read back")
            }
            outputList.append(["name": name, "size": data.count, "sha256": hex(SHA256.hash(data: data))])
        }
        let examined = context.results.map { r -> [String: Any] in
            var o: [String: Any] = ["path": RawPath.display(r.file.path), "size": r.file.size]
            if let raw = RawPath.base64(r.file.path) { o["path_base64"] = raw }
            o["sha256"] = r.file.sha256 ?? NSNull()
            return o
        }
        let body: [String: Any] = [
            "manifest_version": 1, "tool": c.tool, "tool_version": c.toolVersion, "case": c.caseID,
            "examiner": c.examiner, "host": c.host, "started": ReportContext.timestamp(context.started),
            "finished": ReportContext.timestamp(context.finished), "path": c.root, "hash_set": c.hashSet,
            "hash_set_details": c.hashSetDetails, "files_examined": examined.count,
            "bytes_examined": context.summary.bytes,
            "examined": examined, "outputs": outputList,
        ]
        var json = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys, .withoutEscapingSlashes])
        guard json.last == UInt8(ascii: "}") else { throw ScanError.cannotWrite("manifest.json", "bad JSON") }
        json.removeLast()
        var bytes = [UInt8](json)
        bytes += Array(",\(selfKey)".utf8)
        let hashAt = bytes.count
        bytes += Array(String(repeating: "0", count: 64).utf8)
        bytes += Array("\"}\n".utf8)
        let digest = hex(SHA256.hash(data: bytes))
        bytes.replaceSubrange(hashAt..<(hashAt + 64), with: Array(digest.utf8))
        return Written(bytes: bytes, sha256: digest)
    }

    /// The outcome of `vigil scan verify`.
    public struct Verification: Sendable {
        /// Everything checked out.
        public var passed: Bool { failures.isEmpty }
        /// One line per discrepancy.
        public var failures: [String]
        /// One line per thing checked successfully.
        public var checked: [String]
        /// The manifest's own SHA-256, as recorded.
        public var manifestSHA256: String?
    }

    /// Re-checks a scan's output folder against its manifest: the manifest's own SHA-256, then every output file's
    /// size and SHA-256; with `examinedFiles`, also every examined file that had a SHA-256 (the evidence itself).
    public static func verify(directory: String, examinedFiles: Bool = false) -> Verification {
        var v = Verification(failures: [], checked: [])
        let path = directory + "/" + ScanRun.manifestFile
        guard let data = FileManager.default.contents(atPath: path) else {
            v.failures.append("\(path): missing or unreadable")
            return v
        }
        var bytes = [UInt8](data)
        let key = Array(selfKey.utf8)
        guard let at = lastIndex(of: key, in: bytes), at + key.count + 64 <= bytes.count else {
            v.failures.append("manifest.json: no manifest_sha256 member; not a Vigil scan manifest")
            return v
        }
        let start = at + key.count
        let recorded = String(decoding: bytes[start..<(start + 64)], as: UTF8.self)
        v.manifestSHA256 = recorded
        bytes.replaceSubrange(start..<(start + 64), with: Array(String(repeating: "0", count: 64).utf8))
        let actual = hex(SHA256.hash(data: bytes))
        if actual != recorded {
            v.failures.append("manifest.json: its SHA-256 is \(actual) but it records \(recorded); it was changed")
        } else {
            v.checked.append("manifest.json: own SHA-256 \(recorded)")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let outputs = object["outputs"] as? [[String: Any]]
        else {
            v.failures.append("manifest.json: not valid JSON")
            return v
        }
        for o in outputs {
            guard let name = o["name"] as? String, let size = o["size"] as? Int, let sha = o["sha256"] as? String,
                !name.contains("/")
            else {
                v.failures.append("manifest.json: malformed output entry")
                continue
            }
            guard let file = FileManager.default.contents(atPath: directory + "/" + name) else {
                v.failures.append("\(name): missing")
                continue
            }
            let digest = hex(SHA256.hash(data: file))
            if file.count != size || digest != sha {
                v.failures.append(
                    "\(name): SHA-256 \(digest) (\(file.count) bytes) differs from the manifest's \(sha) (\(size) bytes)"
                )
            } else {
                v.checked.append("\(name): \(size) bytes, SHA-256 \(sha)")
            }
        }
        if examinedFiles, let examined = object["examined"] as? [[String: Any]] {
            let hasher = FileHasher(options: HashOptions(content: .digestsOnly))
            var same = 0
            for e in examined {
                guard let shown = e["path"] as? String, let sha = e["sha256"] as? String else { continue }
                // A name that is not UTF-8 is re-opened from its exact bytes.
                let p = (e["path_base64"] as? String).flatMap(RawPath.fromBase64) ?? shown
                let outcome = hasher.hash(path: p)
                if let now = outcome.record?.digests?.sha256 {
                    if now == sha {
                        same += 1
                    } else {
                        v.failures.append("examined \(shown): SHA-256 now \(now), was \(sha)")
                    }
                } else {
                    v.failures.append("examined \(shown): \(outcome.problem?.error.description ?? "cannot be read")")
                }
            }
            v.checked.append("\(same) examined files unchanged")
        }
        return v
    }

    private static func lastIndex(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        var i = haystack.count - needle.count
        while i >= 0 {
            if haystack[i] == needle[0], Array(haystack[i..<(i + needle.count)]) == needle { return i }
            i -= 1
        }
        return nil
    }
}

private let hexDigits = Array("0123456789abcdef".utf8)

func hex(_ digest: some Digest) -> String {
    var out: [UInt8] = []
    for byte in digest {
        out.append(hexDigits[Int(byte >> 4)])
        out.append(hexDigits[Int(byte & 0x0F)])
    }
    return String(decoding: out, as: UTF8.self)
}

extension Manifest {
    /// The MD5 of a text's UTF-8 bytes as lowercase hex (tests and tools).
    static func md5Hex(_ text: String) -> String { hex(Insecure.MD5.hash(data: Data(text.utf8))) }
}
