/// A pull reader for JSON documents of a known layout, for hot paths where `JSONDecoder`'s generality costs more
/// than the work: callers read the members they expect and return `false` (or `nil`) at the first surprise, then
/// fall back to `JSONDecoder`, so their answer is always the one `JSONDecoder` would give.
public struct JSONReader {
    public let bytes: UnsafeBufferPointer<UInt8>
    public var index = 0

    public init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    /// Whether only white space is left.
    public mutating func atEnd() -> Bool {
        skipWhitespace()
        return index == bytes.count
    }

    /// The keys an object has named so far (a handful: a small array beats a set).
    public struct KeysSeen {
        public init() {}
        private var keys: [String] = []
        /// Whether `key` is new, remembering it.
        public mutating func first(_ key: String) -> Bool {
            guard !keys.contains(key) else { return false }
            keys.append(key)
            return true
        }
        public func contains(_ key: String) -> Bool { keys.contains(key) }
    }

    // MARK: tokens

    public mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    public mutating func take(_ byte: UInt8) -> Bool {
        skipWhitespace()
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    /// `{ "key": value, … }`, each member's value read by `member` (false stops with failure).
    public mutating func object(_ member: (String, inout JSONReader) -> Bool) -> Bool {
        guard take(UInt8(ascii: "{")) else { return false }
        if take(UInt8(ascii: "}")) { return true }
        while true {
            guard let key = string(), take(UInt8(ascii: ":")), member(key, &self) else { return false }
            if take(UInt8(ascii: ",")) { continue }
            return take(UInt8(ascii: "}"))
        }
    }

    /// `[ value, … ]`, each element read by `element`.
    public mutating func array(_ element: (inout JSONReader) -> Bool) -> Bool {
        guard take(UInt8(ascii: "[")) else { return false }
        if take(UInt8(ascii: "]")) { return true }
        while true {
            guard element(&self) else { return false }
            if take(UInt8(ascii: ",")) { continue }
            return take(UInt8(ascii: "]"))
        }
    }

    public mutating func literal(_ word: StaticString) -> Bool {
        skipWhitespace()
        return literalRaw(word)
    }

    public mutating func null() -> Bool { literal("null") }

    public mutating func bool() -> Bool? {
        if literal("true") { return true }
        if literal("false") { return false }
        return nil
    }

    public mutating func optionalBool(_ out: inout Bool?) -> Bool {
        if null() { return true }
        guard let v = bool() else { return false }
        out = v
        return true
    }

    public mutating func optionalString(_ out: inout String?) -> Bool {
        if null() { return true }
        guard let v = string() else { return false }
        out = v
        return true
    }

    /// The text of a JSON number (RFC 8259 grammar), or nil.
    public mutating func numberText() -> Substring? {
        skipWhitespace()
        let start = index
        func digits() -> Int {
            let s = index
            while index < bytes.count, (0x30...0x39).contains(bytes[index]) { index += 1 }
            return index - s
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        let intStart = index
        guard digits() > 0 else { return nil }
        if bytes[intStart] == 0x30, index - intStart > 1 { return nil }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { return nil }
        }
        if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                index += 1
            }
            guard digits() > 0 else { return nil }
        }
        return Substring(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
    }

    /// A whole number written without fraction or exponent (anything else is left to `JSONDecoder`).
    public mutating func integer() -> Int64? {
        guard let text = numberText() else { return nil }
        return Int64(text)
    }

    public mutating func double() -> Double? {
        guard let text = numberText(), let v = Double(text), v.isFinite else { return nil }
        return v
    }

    /// A JSON string, escapes resolved; nil for anything malformed (a raw control character, a bad escape, a lone
    /// surrogate).
    public mutating func string() -> String? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        let start = index
        var ascii = true
        while index < bytes.count {
            let b = bytes[index]
            if b == UInt8(ascii: "\"") {
                let slice = UnsafeBufferPointer(rebasing: bytes[start..<index])
                // Invalid UTF-8 would be repaired by String(decoding:); JSONDecoder refuses it, so leave it to it.
                guard let s = ascii ? String(decoding: slice, as: UTF8.self) : String(validating: slice, as: UTF8.self)
                else { return nil }
                index += 1
                return s
            }
            if b >= 0x80 { ascii = false }
            if b == UInt8(ascii: "\\") { return escapedString(from: start) }
            if b < 0x20 { return nil }
            index += 1
        }
        return nil
    }

    private mutating func escapedString(from start: Int) -> String? {
        var out = Array(bytes[start..<index])
        while index < bytes.count {
            let b = bytes[index]
            index += 1
            switch b {
            case UInt8(ascii: "\""):
                // Invalid UTF-8 would be repaired by String(decoding:); JSONDecoder refuses it, so leave it to it.
                guard let s = String(validating: out, as: UTF8.self) else { return nil }
                return s
            case 0..<0x20: return nil
            case UInt8(ascii: "\\"):
                guard index < bytes.count else { return nil }
                let e = bytes[index]
                index += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    guard var scalar = hex4() else { return nil }
                    if (0xD800..<0xDC00).contains(scalar) {
                        guard literalRaw("\\u"), let low = hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let u = Unicode.Scalar(scalar) else { return nil }
                    out.append(contentsOf: Array(String(Character(u)).utf8))
                default: return nil
                }
            default: out.append(b)
            }
        }
        return nil
    }

    private mutating func literalRaw(_ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard index + n <= bytes.count else { return false }
        for k in 0..<n where bytes[index + k] != word.utf8Start[k] { return false }
        index += n
        return true
    }

    private mutating func hex4() -> UInt32? {
        guard index + 4 <= bytes.count else { return nil }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[index]
            index += 1
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            default: return nil
            }
            v = v << 4 | d
        }
        return v
    }
}
