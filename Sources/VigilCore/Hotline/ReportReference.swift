import Foundation

/// The reference a reporter is given once a report is committed, such as `R-7KQ4-M2XD`.
///
/// Eight symbols of Crockford's base-32 alphabet (`0-9` and `A-Z` without `I`, `L`, `O` and `U`) carry 40 random
/// bits, so a reference is short enough to copy from a phone by hand and too many to guess: with a million reports
/// on file, one random guess finds one with a chance of about one in a million.
///
/// Parsing is forgiving in the ways people mistype: lower case, missing or extra dashes and spaces, a missing `R-`
/// prefix, and the look-alike letters `O` (read as `0`) and `I`/`L` (read as `1`). Anything else is refused with a
/// ``ReportReferenceError``.
public struct ReportReference: Sendable, Hashable, Codable, CustomStringConvertible, LosslessStringConvertible {
    /// The 32 symbols, in value order.
    public static let alphabet: [UInt8] = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)
    /// The number of symbols after the prefix.
    public static let symbolCount = 8
    /// The number of random bits.
    public static let bitCount = 40
    /// The longest text ``init(parsing:)`` looks at; longer input is refused before any other work.
    public static let maxInputLength = 64

    /// The 40-bit value.
    public let value: UInt64

    /// A reference from its 40-bit value.
    /// - Throws: ``ReportReferenceError/outOfRange`` when `value` has bits above the 40th.
    public init(value: UInt64) throws(ReportReferenceError) {
        guard value >> Self.bitCount == 0 else { throw .outOfRange }
        self.value = value
    }

    /// A fresh random reference: five bytes from `source`.
    ///
    /// The caller checks the reference is not already used (a unique index in the store) and draws again if it is.
    public init(randomFrom source: any TokenSource) {
        var v: UInt64 = 0
        let bytes = source.randomBytes(5)
        for i in 0..<5 { v = v << 8 | UInt64(i < bytes.count ? bytes[i] : 0) }
        value = v
    }

    /// Reads a reference as a person typed it.
    /// - Throws: ``ReportReferenceError`` saying what is wrong.
    public init(parsing text: String) throws(ReportReferenceError) {
        guard text.utf8.count <= Self.maxInputLength else { throw .wrongLength(text.utf8.count) }
        var symbols: [UInt8] = []
        // "R-…" or "R …": an R set apart from what follows is the prefix, whatever the length.
        var separatedPrefix = false
        for scalar in text.unicodeScalars {
            switch scalar {
            case " ", "\t", "\n", "\r", "-", "\u{2010}", "\u{2011}", "\u{2012}", "\u{2013}", "\u{2014}", "\u{2212}",
                "\u{00A0}":
                if symbols.count == 1 && symbols[0] | 0x20 == UInt8(ascii: "r") { separatedPrefix = true }
                continue
            default:
                guard scalar.isASCII else { throw .invalidCharacter(Character(scalar)) }
                symbols.append(UInt8(ascii: scalar))
            }
        }
        if symbols.isEmpty { throw .empty }
        if separatedPrefix || (symbols.count == Self.symbolCount + 1 && symbols[0] | 0x20 == UInt8(ascii: "r")) {
            symbols.removeFirst()
        }
        guard symbols.count == Self.symbolCount else { throw .wrongLength(symbols.count) }
        var v: UInt64 = 0
        for byte in symbols {
            guard let digit = Self.digit(of: byte) else { throw .invalidCharacter(Character(Unicode.Scalar(byte))) }
            v = v << 5 | UInt64(digit)
        }
        value = v
    }

    /// Reads a reference, or nil when the text is not one.
    public init?(_ description: String) {
        guard let parsed = try? ReportReference(parsing: description) else { return nil }
        self = parsed
    }

    /// Whether a text reads as a reference (see ``init(parsing:)``).
    public static func isValid(_ text: String) -> Bool { (try? ReportReference(parsing: text)) != nil }

    /// The eight symbols without prefix or dash, as stored: `7KQ4M2XD`.
    public var compact: String {
        var out = [UInt8](repeating: 0, count: Self.symbolCount)
        for i in 0..<Self.symbolCount {
            out[i] = Self.alphabet[Int(value >> UInt64(5 * (Self.symbolCount - 1 - i)) & 31)]
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The form shown to people: `R-7KQ4-M2XD`.
    public var description: String {
        let c = compact
        return "R-\(c.prefix(4))-\(c.suffix(4))"
    }

    /// The value of a symbol, reading lower case and the look-alikes `O`, `I` and `L`; nil for anything else.
    static func digit(of byte: UInt8) -> UInt8? {
        var b = byte
        if b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z") { b -= 0x20 }
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
        case UInt8(ascii: "O"): return 0
        case UInt8(ascii: "I"), UInt8(ascii: "L"): return 1
        default:
            guard let index = alphabet.firstIndex(of: b) else { return nil }
            return UInt8(index)
        }
    }

    /// Decodes the text form, read as ``init(parsing:)`` reads it.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            self = try ReportReference(parsing: text)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    /// Encodes the display form, `R-7KQ4-M2XD`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// Why a text is not a report reference. The messages never repeat the whole input.
public enum ReportReferenceError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Nothing but spaces and dashes.
    case empty
    /// The wrong number of symbols (after removing dashes, spaces and the `R` prefix).
    case wrongLength(Int)
    /// A character that is not a symbol (for example `U`, punctuation or a non-Latin letter).
    case invalidCharacter(Character)
    /// A value with more than 40 bits.
    case outOfRange

    /// A message fit for the status page's log and the API.
    public var description: String {
        switch self {
        case .empty: "no reference given"
        case .wrongLength(let n): "a reference has 8 letters and digits after R-, not \(n)"
        case .invalidCharacter(let c): "\"\(c)\" cannot appear in a reference"
        case .outOfRange: "the value does not fit in 40 bits"
        }
    }
}
