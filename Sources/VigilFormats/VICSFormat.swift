import Foundation
import VigilCore

/// The two forms of Project VIC's VICS JSON.
public enum VICSVersion: String, Sendable, Hashable, CaseIterable {
    /// VICS 1.2/1.3: `{"odata.metadata": "…1.3.xml#Cases", "value": [{ …case…, "Media": [ … ] }]}`.
    case v1_3 = "1.3"
    /// VICS 2.0: `{"@odata.context": "…2.0.xml/Default/$metadata#Media", "value": [ …media… ]}`.
    case v2_0 = "2.0"

    /// The category scheme VICS files of this version use unless told otherwise.
    public var defaultCategoryScheme: CategoryScheme { self == .v2_0 ? .projectVIC : .legacy }
}

/// An incremental scanner over VICS JSON that hands out the raw bytes of one Media object at a time.
///
/// It tracks the JSON structure byte by byte (strings, escapes, nesting) and never holds more than the Media object
/// being read. Media objects are the elements of any array under a `Media` key, and the elements of the top-level
/// `value` array unless such an element turns out to be a case holding a `Media` array (VICS 1.x).
final class VICSScanner {
    private let input: ByteInput
    private var chunk: [UInt8] = []
    private var state = VICSScanState()

    /// The version announced by the header, once seen.
    var version: VICSVersion? { state.version }

    init(input: ByteInput) { self.input = input }

    /// The next Media object's bytes and the line it starts on, or `nil` at the end.
    func nextMedia() throws(HashSetFormatError) -> (bytes: [UInt8], line: Int)? {
        while true {
            if state.position >= chunk.count {
                state.keepCapturedPart(of: chunk)
                guard try input.nextChunk(into: &chunk) else {
                    try state.finish()
                    return nil
                }
                state.startChunk()
            }
            let found = try chunk.withUnsafeBufferPointer {
                (buffer) throws(HashSetFormatError) -> (bytes: [UInt8], line: Int)? in try state.scan(buffer)
            }
            if let found { return found }
        }
    }
}

/// The scanner's state, a value type so that the byte loop runs without per-access exclusivity checks.
private struct VICSScanState {
    private enum Role { case none, root, topValueArray, candidate, caseObject, mediaArray, media }
    private enum KeyKind { case other, media, value, context, metadata }
    private enum StringRole { case plain, key, header }

    private struct Frame {
        var isObject: Bool
        var role: Role
        var expectingKey: Bool
        var lastKey: KeyKind
    }

    /// The deepest nesting accepted, and the largest Media object kept (larger ones are rejected, not buffered).
    static let maxDepth = 256
    static let maxMediaBytes = 16 << 20

    var position = 0
    private(set) var version: VICSVersion?
    private var captureOverflow = false
    private var stack: [Frame] = []
    private var inString = false
    private var escaped = false
    private var stringRole: StringRole = .plain
    private var keyBytes: [UInt8] = []
    private var headerBytes: [UInt8] = []
    private var capture: [UInt8] = []
    private var captureFrom: Int?
    private var captureDepth = 0
    private var captureLine = 0
    private var capturing = false
    private var line = 1
    private var sawRoot = false

    /// Before the chunk is replaced: keeps the part of the Media object being captured.
    mutating func keepCapturedPart(of chunk: [UInt8]) {
        if capturing, !captureOverflow, let from = captureFrom, from < chunk.count {
            capture.append(contentsOf: chunk[from..<chunk.count])
            if capture.count > Self.maxMediaBytes {
                captureOverflow = true
                capture = []
            }
        }
    }

    mutating func startChunk() {
        position = 0
        if capturing { captureFrom = 0 }
    }

    func finish() throws(HashSetFormatError) {
        guard sawRoot else { throw .malformed("empty VICS file") }
        guard stack.isEmpty, !inString else { throw .malformed("VICS JSON ends inside a value") }
    }

    mutating func scan(_ chunk: UnsafeBufferPointer<UInt8>) throws(HashSetFormatError) -> (bytes: [UInt8], line: Int)? {
        let count = chunk.count
        while position < count {
            let byte = chunk[position]
            if byte == 0x0A { line += 1 }
            if inString {
                if escaped {
                    escaped = false
                    if stringRole != .plain { appendStringByte(byte) }
                } else if byte == 0x5C {
                    escaped = true
                    if stringRole != .plain { appendStringByte(byte) }
                } else if byte == 0x22 {
                    inString = false
                    if stringRole != .plain { endString() }
                } else if stringRole != .plain {
                    appendStringByte(byte)
                }
                position += 1
                continue
            }
            switch byte {
            case 0x22:
                inString = true
                if let top = stack.last, top.isObject, top.expectingKey {
                    stringRole = .key
                    keyBytes.removeAll(keepingCapacity: true)
                } else if stack.count == 1, let top = stack.last, top.lastKey == .context || top.lastKey == .metadata {
                    stringRole = .header
                    headerBytes.removeAll(keepingCapacity: true)
                } else {
                    stringRole = .plain
                }
            case 0x3A:
                if !stack.isEmpty { stack[stack.count - 1].expectingKey = false }
            case 0x2C:
                if let top = stack.last, top.isObject { stack[stack.count - 1].expectingKey = true }
            case 0x7B, 0x5B:
                try open(isObject: byte == 0x7B)
            case 0x7D, 0x5D:
                if let media = try close(isObject: byte == 0x7D, chunk: chunk) {
                    position += 1
                    return media
                }
            case 0x20, 0x09, 0x0D, 0x0A:
                break
            default:
                if stack.isEmpty { throw .malformed("not a JSON object at line \(line)") }
            }
            position += 1
        }
        return nil
    }

    private mutating func appendStringByte(_ byte: UInt8) {
        switch stringRole {
        case .key: if keyBytes.count < 64 { keyBytes.append(byte) }
        case .header: if headerBytes.count < 1024 { headerBytes.append(byte) }
        case .plain: break
        }
    }

    private mutating func endString() {
        switch stringRole {
        case .key:
            let kind: KeyKind
            switch keyBytes.count {
            case 5 where Self.equalsIgnoringCase(keyBytes, "media"): kind = .media
            case 5 where Self.equalsIgnoringCase(keyBytes, "value"): kind = .value
            case 14 where Self.equalsIgnoringCase(keyBytes, "@odata.context"): kind = .context
            case 14 where Self.equalsIgnoringCase(keyBytes, "odata.metadata"): kind = .metadata
            default: kind = .other
            }
            stack[stack.count - 1].lastKey = kind
        case .header:
            let header = String(decoding: headerBytes, as: UTF8.self)
            if stack.last?.lastKey == .context || header.contains("2.0") {
                version = .v2_0
            } else {
                version = .v1_3
            }
        case .plain: break
        }
        stringRole = .plain
    }

    private static func equalsIgnoringCase(_ bytes: [UInt8], _ word: StaticString) -> Bool {
        guard bytes.count == word.utf8CodeUnitCount else { return false }
        for index in 0..<bytes.count where bytes[index] | 0x20 != word.utf8Start[index] | 0x20 { return false }
        return true
    }

    private mutating func open(isObject: Bool) throws(HashSetFormatError) {
        guard let parent = stack.last else {
            guard isObject else { throw .malformed("VICS JSON must be an object") }
            sawRoot = true
            stack.append(Frame(isObject: true, role: .root, expectingKey: true, lastKey: .other))
            return
        }
        var role = Role.none
        if !capturing || parent.role == .candidate {
            if isObject {
                if !parent.isObject && parent.role == .mediaArray {
                    role = .media
                } else if !parent.isObject && parent.role == .topValueArray {
                    role = .candidate
                }
            } else if parent.isObject {
                if parent.lastKey == .media && parent.role != .media {
                    role = .mediaArray
                    if parent.role == .candidate {
                        // a VICS 1.x case: stop capturing it, its Media elements are the records
                        capturing = false
                        captureFrom = nil
                        capture.removeAll(keepingCapacity: true)
                        stack[stack.count - 1].role = .caseObject
                    }
                } else if parent.role == .root && parent.lastKey == .value {
                    role = .topValueArray
                }
            }
        }
        guard stack.count < Self.maxDepth else {
            throw .malformed("nesting deeper than \(Self.maxDepth) at line \(line)")
        }
        stack.append(Frame(isObject: isObject, role: role, expectingKey: isObject, lastKey: .other))
        if role == .media || role == .candidate {
            capturing = true
            captureOverflow = false
            captureFrom = position
            captureDepth = stack.count
            captureLine = line
            capture.removeAll(keepingCapacity: true)
        }
    }

    private mutating func close(
        isObject: Bool, chunk: UnsafeBufferPointer<UInt8>
    ) throws(HashSetFormatError) -> (bytes: [UInt8], line: Int)? {
        guard let top = stack.popLast(), top.isObject == isObject else {
            throw .malformed("mismatched bracket at line \(line)")
        }
        guard capturing, stack.count + 1 == captureDepth else { return nil }
        capturing = false
        if captureOverflow { return ([], captureLine) }
        if let from = captureFrom { capture.append(contentsOf: chunk[from...position]) }
        captureFrom = nil
        return (capture, captureLine)
    }
}

/// Reads Project VIC VICS JSON (1.2/1.3 and 2.0), one Media object at a time.
final class VICSReader: HashSetReader {
    private let scanner: VICSScanner
    private let options: HashSetImportOptions

    init(input: ByteInput, options: HashSetImportOptions) {
        self.scanner = VICSScanner(input: input)
        self.options = options
    }

    func next() throws(HashSetFormatError) -> HashSetReadItem? {
        guard let (bytes, line) = try scanner.nextMedia() else { return nil }
        if bytes.isEmpty {
            return .rejected(
                LineRejection(line: line, reason: "Media larger than \(VICSScanState.maxMediaBytes) bytes"))
        }
        guard case .object(let object) = try? JSONValue.parse(bytes) else {
            return .rejected(LineRejection(line: line, reason: "Media is not a valid JSON object"))
        }
        let scheme = options.vicsCategoryScheme ?? (scanner.version ?? .v2_0).defaultCategoryScheme
        switch Self.record(from: object, scheme: scheme, options: options) {
        case .success(let record): return .record(record, line: line)
        case .failure(let reason): return .rejected(LineRejection(line: line, reason: reason.text))
        }
    }

    /// Vigil's video keys, beside VICS's own: `vPDQ`, the frames as the reference writes them (an array of lines,
    /// or one string of lines), and `VideoDuration` in seconds.
    static func video(from object: [String: JSONValue]) -> Result<VideoFingerprint?, Reason> {
        let lines: [String]
        switch object["vPDQ"] {
        case nil, .null?: return .success(nil)
        case .array(let values)?:
            var out: [String] = []
            for (n, value) in values.enumerated() {
                guard case .string(let line) = value else {
                    return .failure(Reason(text: "vPDQ: frame \(n + 1) is not a string"))
                }
                out.append(line)
            }
            lines = out
        case .string(let text)?:
            lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
                $0.hasSuffix("\r") ? String($0.dropLast()) : String($0)
            }
        default: return .failure(Reason(text: "vPDQ: expected an array of frame lines"))
        }
        let frames: [String]
        switch VideoFingerprint.normalised(lines) {
        case .success(let normalised): frames = normalised
        case .failure(let failure): return .failure(Reason(text: "vPDQ \(failure.description)"))
        }
        // An empty list is no fingerprint: the record is still its file digests.
        guard !frames.isEmpty else { return .success(nil) }
        var duration: Double?
        switch object["VideoDuration"] {
        case nil, .null?: break
        case .number(let text)?, .string(let text)?:
            guard let seconds = Double(text), seconds >= 0, seconds.isFinite else {
                return .failure(Reason(text: "VideoDuration: '\(text)' is not a number of seconds"))
            }
            duration = seconds
        default: return .failure(Reason(text: "VideoDuration: not a number of seconds"))
        }
        return .success(VideoFingerprint(frames: frames, duration: duration))
    }

    private static let digestKeys: [(String, HashAlgorithm)] = [
        ("MD5", .md5), ("SHA1", .sha1), ("SHA256", .sha256), ("PhotoDNA", .photodna),
    ]
    nonisolated(unsafe) private static let flagKeys: [(String, WritableKeyPath<HashSetRecord, Bool?>)] = [
        ("VictimIdentified", \.victimIdentified), ("OffenderIdentified", \.offenderIdentified),
        ("IsDistributed", \.distributed),
    ]

    struct Reason: Error {
        let text: String
    }

    static func record(
        from object: [String: JSONValue], scheme: CategoryScheme, options: HashSetImportOptions
    ) -> Result<HashSetRecord, Reason> {
        func text(_ key: String) -> String? { object[key]?.text }
        var digests: [HashDigest] = []
        for (key, algorithm) in digestKeys {
            guard let value = text(key) else { continue }
            do {
                digests.append(try HashDigest(algorithm, value))
            } catch {
                return .failure(Reason(text: "\(key): \(error.description)"))
            }
        }
        guard !digests.isEmpty else { return .failure(Reason(text: "Media has no MD5, SHA1 or PhotoDNA")) }
        if let value = text("PDQ") {
            do {
                digests.append(try HashDigest(.pdq, value))
            } catch {
                return .failure(Reason(text: "PDQ: \(error.description)"))
            }
        }
        var record = HashSetRecord(digests: digests)
        switch video(from: object) {
        case .success(let fingerprint):
            if fingerprint != nil, ![.md5, .sha1, .sha256].contains(digests[0].algorithm) {
                return .failure(Reason(text: "vPDQ: a video record needs the file's MD5, SHA1 or SHA256"))
            }
            record.video = fingerprint
        case .failure(let reason): return .failure(reason)
        }
        if let code = text("Category") {
            let source = text("PrecategorizationSource") ?? options.source
            record.categories.append(options.categoryMapping.category(scheme: scheme, code: code, source: source))
        }
        record.provenance = HashProvenance(contributor: options.source, mediaID: text("MediaID"))
        record.seriesName = text("Series")
        record.mediaType = text("MimeType")
        for (key, keyPath) in flagKeys {
            switch object[key] {
            case .bool(let flag): record[keyPath: keyPath] = flag
            case .string(let string):
                guard case .success(let flag) = TextFields.flag(string) else {
                    return .failure(Reason(text: "\(key): '\(string)' is not true/false"))
                }
                record[keyPath: keyPath] = flag
            default: break
            }
        }
        if let size = text("MediaSize") {
            guard let value = Int64(size), value >= 0 else {
                return .failure(Reason(text: "MediaSize: '\(size)' is not a size"))
            }
            record.fileSize = value
        }
        if case .array(let files) = object["MediaFiles"] {
            for case .object(let file) in files {
                if case .string(let name) = file["FileName"], !name.isEmpty {
                    record.fileName = name
                    break
                }
            }
        }
        return .success(record)
    }
}

/// Writes VICS JSON in the 2.0 or 1.3 form. Each Media carries MediaID, Category (the record's first category in
/// the chosen scheme), MD5, SHA1, SHA256, PhotoDNA, the identification and distribution flags, Series, MediaSize,
/// MimeType, the category's source as PrecategorizationSource, and the file name under MediaFiles. Beside VICS's
/// own keys, as ThreatExchange names its signal types: PDQ (64 hexadecimal digits) and, for a video, vPDQ (its
/// frame lines as Meta's reference writes them) and VideoDuration (seconds). Tools that do not know them skip
/// them, as OData readers skip properties they were not told of.
final class VICSWriter: HashSetWriter {
    private let output: ByteOutput
    private let version: VICSVersion
    private let scheme: CategoryScheme
    private var first = true
    private var object: [UInt8] = []

    init(output: ByteOutput, options: HashSetExportOptions) throws(HashSetFormatError) {
        self.output = output
        self.version = options.vicsVersion
        self.scheme = options.vicsCategoryScheme ?? options.vicsVersion.defaultCategoryScheme
        switch version {
        case .v2_0:
            try output.append(
                "{\"@odata.context\":\"http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/Default/"
                    + "$metadata#Media\",\"value\":[")
        case .v1_3:
            try output.append(
                "{\"odata.metadata\":\"http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml#Cases\","
                    + "\"value\":[{\"Media\":[")
        }
    }

    func write(_ record: HashSetRecord) throws(HashSetFormatError) -> Bool {
        guard record.digests.contains(where: { $0.algorithm != .pdq }) else { return false }
        object.removeAll(keepingCapacity: true)
        if !first { object.append(0x2C) }
        first = false
        object.append(contentsOf: "\n{".utf8)
        var needsComma = false
        func key(_ name: String) {
            if needsComma { object.append(0x2C) }
            needsComma = true
            TextFields.appendJSONString(name, to: &object)
            object.append(0x3A)
        }
        func string(_ name: String, _ value: String?) {
            guard let value else { return }
            key(name)
            TextFields.appendJSONString(value, to: &object)
        }
        func flag(_ name: String, _ value: Bool?) {
            guard let value else { return }
            key(name)
            object.append(contentsOf: (value ? "true" : "false").utf8)
        }
        if let mediaID = record.provenance.mediaID {
            key("MediaID")
            if let number = Int(mediaID), String(number) == mediaID {
                object.append(contentsOf: mediaID.utf8)
            } else {
                TextFields.appendJSONString(mediaID, to: &object)
            }
        }
        let category = record.categories.first { $0.scheme == scheme }
        if let category {
            key("Category")
            if let number = Int(category.code), String(number) == category.code {
                object.append(contentsOf: category.code.utf8)
            } else {
                TextFields.appendJSONString(category.code, to: &object)
            }
        }
        string("MD5", record.digest(.md5)?.value.uppercased())
        string("SHA1", record.digest(.sha1)?.value.uppercased())
        string("SHA256", record.digest(.sha256)?.value.uppercased())
        string("PhotoDNA", record.digest(.photodna)?.value)
        string("PDQ", record.digest(.pdq)?.value)
        if let video = record.video {
            key("vPDQ")
            object.append(0x5B)
            for (n, line) in video.frames.enumerated() {
                if n > 0 { object.append(0x2C) }
                TextFields.appendJSONString(line, to: &object)
            }
            object.append(0x5D)
            if let duration = video.duration {
                key("VideoDuration")
                object.append(contentsOf: String(format: "%.3f", duration).utf8)
            }
        }
        flag("VictimIdentified", record.victimIdentified)
        flag("OffenderIdentified", record.offenderIdentified)
        flag("IsDistributed", record.distributed)
        string("Series", record.seriesName)
        if let size = record.fileSize {
            key("MediaSize")
            object.append(contentsOf: String(size).utf8)
        }
        string("MimeType", record.mediaType)
        if let source = category?.source {
            flag("IsPrecategorized", true)
            string("PrecategorizationSource", source)
        }
        if let name = record.fileName {
            key("MediaFiles")
            object.append(contentsOf: "[{".utf8)
            TextFields.appendJSONString("FileName", to: &object)
            object.append(0x3A)
            TextFields.appendJSONString(name, to: &object)
            object.append(contentsOf: "}]".utf8)
        }
        object.append(0x7D)
        output.append(bytes: object)
        try output.flushIfFull()
        return true
    }

    func finish() throws(HashSetFormatError) {
        switch version {
        case .v2_0: try output.append("\n]}\n")
        case .v1_3: try output.append("\n]}]}\n")
        }
        try output.finish()
    }
}
