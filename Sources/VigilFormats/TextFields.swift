import Foundation

/// Small text helpers shared by the readers and writers.
public enum TextFields {
    /// Parses a yes/no flag as the field writes it; `nil` for an empty field, `.failure` for anything else.
    static func flag(_ text: String) -> Result<Bool?, FlagError> {
        let trimmed = trim(text)
        if trimmed.isEmpty { return .success(nil) }
        switch trimmed.lowercased() {
        case "true", "yes", "y", "1", "t": return .success(true)
        case "false", "no", "n", "0", "f": return .success(false)
        default: return .failure(FlagError())
        }
    }

    struct FlagError: Error {}

    /// `true`/`false`/empty.
    static func flagText(_ value: Bool?) -> String {
        switch value {
        case .some(true): "true"
        case .some(false): "false"
        case nil: ""
        }
    }

    /// Splits one CSV record (RFC 4180 quoting) on `separator`; `nil` when a quoted field is not closed
    /// (the record continues on the next line).
    public static func splitCSV(_ bytes: UnsafeBufferPointer<UInt8>, separator: UInt8) -> [String]? {
        var fields: [String] = []
        var field: [UInt8] = []
        var index = 0
        let count = bytes.count
        var inQuotes = false
        var quotedField = false
        while index < count {
            let byte = bytes[index]
            if inQuotes {
                if byte == 0x22 {
                    if index + 1 < count && bytes[index + 1] == 0x22 {
                        field.append(0x22)
                        index += 1
                    } else {
                        inQuotes = false
                    }
                } else {
                    field.append(byte)
                }
            } else if byte == separator {
                fields.append(String(decoding: field, as: UTF8.self))
                field.removeAll(keepingCapacity: true)
                quotedField = false
            } else if byte == 0x22 && field.isEmpty && !quotedField {
                inQuotes = true
                quotedField = true
            } else {
                field.append(byte)
            }
            index += 1
        }
        if inQuotes { return nil }
        fields.append(String(decoding: field, as: UTF8.self))
        return fields
    }

    /// Escapes `%`, the given characters and line breaks as `%XX`.
    static func percentEscape(_ text: String, reserved: Set<Character>) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            if character == "%" || character == "\n" || character == "\r" || reserved.contains(character) {
                for byte in String(character).utf8 { out += "%" + String(byte, radix: 16, uppercase: true).leftPad(2) }
            } else {
                out.append(character)
            }
        }
        return out
    }

    /// Reverses ``percentEscape(_:reserved:)``.
    static func percentUnescape(_ text: String) -> String {
        guard text.contains("%") else { return text }
        var bytes: [UInt8] = []
        let utf8 = Array(text.utf8)
        var index = 0
        while index < utf8.count {
            if utf8[index] == 0x25, index + 2 < utf8.count,
                let value = UInt8(String(decoding: utf8[(index + 1)...(index + 2)], as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                index += 3
            } else {
                bytes.append(utf8[index])
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `text` as a JSON string literal (with quotes) to `out`, escaped as RFC 8785 (canonical JSON) writes
    /// it: `"` and `\`, the short escapes for b f n r t, other controls as `\u00xx`, everything else as UTF-8.
    public static func appendJSONString(_ text: String, to out: inout [UInt8]) {
        out.append(0x22)
        for byte in text.utf8 {
            switch byte {
            case 0x22: out.append(contentsOf: [0x5C, 0x22])
            case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: out.append(contentsOf: [0x5C, 0x6E])
            case 0x0D: out.append(contentsOf: [0x5C, 0x72])
            case 0x09: out.append(contentsOf: [0x5C, 0x74])
            case 0x08: out.append(contentsOf: [0x5C, 0x62])
            case 0x0C: out.append(contentsOf: [0x5C, 0x66])
            case 0..<0x20:
                out.append(contentsOf: Array("\\u00".utf8))
                let hex = Array("0123456789abcdef".utf8)
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xF)])
            default: out.append(byte)
            }
        }
        out.append(0x22)
    }

    /// Trims spaces and tabs; `nil` when nothing is left.
    static func nonEmpty(_ text: String?) -> String? {
        guard let text else { return nil }
        let trimmed = trim(text)
        return trimmed.isEmpty ? nil : trimmed
    }

    /// Trims leading and trailing spaces and tabs (without Foundation's UTF-16 round trip; the common case of
    /// nothing to trim returns the string itself).
    static func trim(_ text: String) -> String {
        let utf8 = text.utf8
        guard let first = utf8.first, let last = utf8.last else { return text }
        if first != 0x20 && first != 0x09 && last != 0x20 && last != 0x09 { return text }
        var slice = Substring(text)
        while let character = slice.first, character == " " || character == "\t" { slice.removeFirst() }
        while let character = slice.last, character == " " || character == "\t" { slice.removeLast() }
        return String(slice)
    }
}

extension String {
    fileprivate func leftPad(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

/// ISO 8601 timestamps (`2024-05-06T07:08:09Z`, with optional fraction and offset, or a bare date), parsed and
/// written without a formatter object, so they are fast and exact to the millisecond.
enum ISOTimestamp {
    /// Parses a timestamp; `nil` when it is not ISO 8601.
    static func parse(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        var index = 0
        func number(_ digits: Int) -> Int? {
            guard index + digits <= bytes.count else { return nil }
            var value = 0
            for offset in 0..<digits {
                let byte = bytes[index + offset]
                guard byte >= 0x30 && byte <= 0x39 else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            index += digits
            return value
        }
        func expect(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect(0x2D), let month = number(2), expect(0x2D), let day = number(2),
            (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        var seconds = 0
        var fraction = 0.0
        var offset = 0
        if index < bytes.count && (bytes[index] == 0x54 || bytes[index] == 0x20) {
            index += 1
            guard let hour = number(2), expect(0x3A), let minute = number(2) else { return nil }
            var second = 0
            if expect(0x3A) {
                guard let value = number(2) else { return nil }
                second = value
                if expect(0x2E) || expect(0x2C) {
                    var digits = 0
                    var value = 0
                    while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
                        if digits < 9 {
                            value = value * 10 + Int(bytes[index] - 0x30)
                            digits += 1
                        }
                        index += 1
                    }
                    guard digits > 0 else { return nil }
                    var scale = 1
                    for _ in 0..<digits { scale *= 10 }
                    fraction = Double(value) / Double(scale)
                }
            }
            guard hour < 24, minute < 60, second < 61 else { return nil }
            seconds = hour * 3600 + minute * 60 + second
            if expect(0x5A) || expect(0x7A) {
                offset = 0
            } else if index < bytes.count && (bytes[index] == 0x2B || bytes[index] == 0x2D) {
                let sign = bytes[index] == 0x2D ? -1 : 1
                index += 1
                guard let offsetHours = number(2) else { return nil }
                _ = expect(0x3A)
                let offsetMinutes = number(2) ?? 0
                offset = sign * (offsetHours * 3600 + offsetMinutes * 60)
            }
        }
        guard index == bytes.count else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let whole = days * 86_400 + seconds - offset
        return Date(timeIntervalSince1970: Double(whole) + fraction)
    }

    /// Writes a UTC timestamp, with milliseconds when the time has a fraction.
    static func format(_ date: Date) -> String {
        let interval = date.timeIntervalSince1970
        var whole = Int(interval.rounded(.down))
        var millis = Int(((interval - Double(whole)) * 1000).rounded())
        if millis == 1000 {
            whole += 1
            millis = 0
        }
        var days = whole / 86_400
        var seconds = whole % 86_400
        if seconds < 0 {
            seconds += 86_400
            days -= 1
        }
        let (year, month, day) = civilFromDays(days)
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
        }
        var out = "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T"
        out += "\(pad(seconds / 3600, 2)):\(pad(seconds / 60 % 60, 2)):\(pad(seconds % 60, 2))"
        if millis != 0 { out += "." + pad(millis, 3) }
        return out + "Z"
    }

    // Howard Hinnant's days_from_civil / civil_from_days.
    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    private static func civilFromDays(_ days: Int) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp + (mp < 10 ? 3 : -9)
        return (m <= 2 ? y + 1 : y, m, d)
    }
}
