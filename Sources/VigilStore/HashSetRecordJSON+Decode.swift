import Foundation
import VigilCore

extension HashSetRecordJSON {
    /// Decodes a stored record. What ``encode(_:)`` writes is read by hand, several times faster than
    /// `JSONDecoder` (a match answer decodes the record of every hit); anything the reader does not expect (an
    /// older layout, an unknown key, a duplicate, a value that fails validation) goes through `JSONDecoder`, so the
    /// result, or the error, is always the one `JSONDecoder` gives.
    static func decode(_ text: String) throws -> HashSetRecord {
        var copy = text
        if let record = copy.withUTF8({ bytes -> HashSetRecord? in
            var reader = JSONReader(bytes: bytes)
            return reader.hashSetRecord()
        }) {
            return record
        }
        return try HashSetStore.decoder.decode(HashSetRecord.self, from: Data(text.utf8))
    }
}

/// Reading the one JSON layout of a stored ``HashSetRecord``: `nil` at the first thing it does not expect.
extension JSONReader {
    mutating func hashSetRecord() -> HashSetRecord? {
        var r = HashSetRecord(digests: [])
        var seen = JSONReader.KeysSeen()
        var ok = object { key, reader in
            guard seen.first(key) else { return false }
            switch key {
            case "baseline": return reader.optionalBool(&r.baseline)
            case "distributed": return reader.optionalBool(&r.distributed)
            case "fileAvailable": return reader.optionalBool(&r.fileAvailable)
            case "offenderIdentified": return reader.optionalBool(&r.offenderIdentified)
            case "victimIdentified": return reader.optionalBool(&r.victimIdentified)
            case "knownBenign":
                guard let v = reader.bool() else { return false }
                r.knownBenign = v
                return true
            case "fileName": return reader.optionalString(&r.fileName)
            case "mediaType": return reader.optionalString(&r.mediaType)
            case "seriesName": return reader.optionalString(&r.seriesName)
            case "fileSize":
                if reader.null() { return true }
                guard let v = reader.integer() else { return false }
                r.fileSize = v
                return true
            case "submissionCount":
                if reader.null() { return true }
                guard let v = reader.integer(), let n = Int(exactly: v) else { return false }
                r.submissionCount = n
                return true
            case "digests":
                return reader.array { reader in
                    guard let d = reader.digest() else { return false }
                    r.digests.append(d)
                    return true
                }
            case "categories":
                return reader.array { reader in
                    guard let c = reader.category() else { return false }
                    r.categories.append(c)
                    return true
                }
            case "provenance":
                guard let p = reader.provenance() else { return false }
                r.provenance = p
                return true
            default: return false
            }
        }
        ok = ok && atEnd() && ["digests", "categories", "provenance", "knownBenign"].allSatisfy(seen.contains)
        return ok ? r : nil
    }

    mutating func digest() -> HashDigest? {
        var algorithm: HashAlgorithm?
        var value: String?
        guard
            object({ key, reader in
                switch key {
                case "algorithm" where algorithm == nil:
                    guard let s = reader.string(), let a = HashAlgorithm(rawValue: s) else { return false }
                    algorithm = a
                case "value" where value == nil:
                    guard let s = reader.string() else { return false }
                    value = s
                default: return false
                }
                return true
            }), let algorithm, let value,
            let d = try? HashDigest(algorithm, value), d.value == value
        else { return nil }
        return d
    }

    mutating func category() -> HashCategory? {
        var scheme: String?
        var code: String?
        var national: String?
        var source: String?
        var seen = JSONReader.KeysSeen()
        guard
            object({ key, reader in
                guard seen.first(key) else { return false }
                switch key {
                case "scheme":
                    scheme = reader.string()
                    return scheme != nil
                case "code":
                    code = reader.string()
                    return code != nil
                case "nationalCategory": return reader.optionalString(&national)
                case "source": return reader.optionalString(&source)
                default: return false
                }
            }), let scheme, let code
        else { return nil }
        return HashCategory(
            scheme: CategoryScheme(rawValue: scheme), code: code, nationalCategory: national, source: source)
    }

    mutating func provenance() -> HashProvenance? {
        var p = HashProvenance()
        var seen = JSONReader.KeysSeen()
        let ok = object { key, reader in
            guard seen.first(key) else { return false }
            switch key {
            case "caseID": return reader.optionalString(&p.caseID)
            case "contributor": return reader.optionalString(&p.contributor)
            case "foundWhere": return reader.optionalString(&p.foundWhere)
            case "mediaID": return reader.optionalString(&p.mediaID)
            case "foundAt":
                if reader.null() { return true }
                guard let v = reader.double() else { return false }
                p.foundAt = Date(timeIntervalSince1970: v)
                return true
            default: return false
            }
        }
        return ok ? p : nil
    }
}
