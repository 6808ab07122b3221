/// A streaming JSON writer for the scan's large outputs (one object per file): an order of magnitude faster than
/// building `[String: Any]` trees for `JSONSerialization`, and the keys come out in the order written.
struct JSONOut {
    private(set) var bytes: [UInt8] = []
    /// One entry per open object or array: whether it has a member yet.
    private var hasMember: [Bool] = []
    private var afterKey = false

    init(capacity: Int = 1 << 16) { bytes.reserveCapacity(capacity) }

    private mutating func separate() {
        if afterKey {
            afterKey = false
            return
        }
        if let last = hasMember.last {
            if last { bytes.append(0x2C) }
            hasMember[hasMember.count - 1] = true
        }
    }

    mutating func beginObject() {
        separate()
        bytes.append(0x7B)
        hasMember.append(false)
    }

    mutating func endObject() {
        hasMember.removeLast()
        bytes.append(0x7D)
    }

    mutating func beginArray() {
        separate()
        bytes.append(0x5B)
        hasMember.append(false)
    }

    mutating func endArray() {
        hasMember.removeLast()
        bytes.append(0x5D)
    }

    mutating func key(_ name: String) {
        separate()
        appendString(name)
        bytes.append(0x3A)
        afterKey = true
    }

    mutating func string(_ value: String) {
        separate()
        appendString(value)
    }

    mutating func number(_ value: Int) {
        separate()
        bytes.append(contentsOf: String(value).utf8)
    }

    mutating func number(_ value: Double) {
        separate()
        bytes.append(contentsOf: (value.isFinite ? "\(value)" : "null").utf8)
    }

    mutating func bool(_ value: Bool) {
        separate()
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
    }

    mutating func null() {
        separate()
        bytes.append(contentsOf: "null".utf8)
    }

    /// `"key": value` members; a `nil` value writes nothing.
    mutating func member(_ name: String, _ value: String?) {
        guard let value else { return }
        key(name)
        string(value)
    }

    mutating func member(_ name: String, _ value: Int?) {
        guard let value else { return }
        key(name)
        number(value)
    }

    mutating func member(_ name: String, _ value: Double?) {
        guard let value else { return }
        key(name)
        number(value)
    }

    mutating func member(_ name: String, _ value: Bool?) {
        guard let value else { return }
        key(name)
        bool(value)
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// A string literal with the escapes RFC 8259 requires (and `/` left alone).
    private mutating func appendString(_ s: String) {
        bytes.append(0x22)
        for byte in s.utf8 {
            switch byte {
            case 0x22: bytes += [0x5C, 0x22]
            case 0x5C: bytes += [0x5C, 0x5C]
            case 0x0A: bytes += [0x5C, 0x6E]
            case 0x0D: bytes += [0x5C, 0x72]
            case 0x09: bytes += [0x5C, 0x74]
            case 0..<0x20:
                bytes += [0x5C, 0x75, 0x30, 0x30, Self.hexDigits[Int(byte >> 4)], Self.hexDigits[Int(byte & 0xF)]]
            default: bytes.append(byte)
            }
        }
        bytes.append(0x22)
    }

    /// The text written.
    var text: String { String(decoding: bytes, as: UTF8.self) }
}
