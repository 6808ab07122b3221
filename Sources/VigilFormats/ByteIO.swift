#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads a file descriptor in fixed-size chunks and splits it into lines, in memory bounded by ``maxLineLength``.
///
/// A UTF-8 byte-order mark at the start is skipped; `\r\n` and `\n` both end a line. A line longer than
/// ``maxLineLength`` is skipped whole and reported through ``lastLineWasTooLong``, so hostile input cannot make the
/// buffer grow without bound.
final class ByteInput {
    private let fd: Int32
    private let closeWhenDone: Bool
    private var closed = false
    /// The buffer; bytes `start..<end` are not yet consumed.
    private(set) var buffer: [UInt8]
    private var start = 0
    private var end = 0
    private var atEOF = false
    private var checkedBOM = false
    /// The 1-based number of the line last returned by ``nextLine()``.
    private(set) var lineNumber = 0
    /// Whether the line last returned was longer than ``maxLineLength`` (its range is then empty).
    private(set) var lastLineWasTooLong = false
    private var skippingLongLine = false
    /// The longest line kept; longer lines are skipped.
    let maxLineLength: Int

    static let chunkSize = 1 << 20
    static let defaultMaxLineLength = 8 << 20

    init(path: String, maxLineLength: Int = ByteInput.defaultMaxLineLength) throws(HashSetFormatError) {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw .cannotOpen(path: path, errno: errno) }
        self.fd = fd
        self.closeWhenDone = true
        self.maxLineLength = maxLineLength
        self.buffer = [UInt8](repeating: 0, count: Self.chunkSize)
    }

    init(fileDescriptor: Int32, closeWhenDone: Bool, maxLineLength: Int = ByteInput.defaultMaxLineLength) {
        self.fd = fileDescriptor
        self.closeWhenDone = closeWhenDone
        self.maxLineLength = maxLineLength
        self.buffer = [UInt8](repeating: 0, count: Self.chunkSize)
    }

    deinit {
        if closeWhenDone && !closed { close(fd) }
    }

    /// Reads more bytes after compacting; returns `false` at end of file.
    private func fill() throws(HashSetFormatError) -> Bool {
        if atEOF { return false }
        if start > 0 {
            let pending = end - start
            if pending > 0 {
                buffer.withUnsafeMutableBytes { raw in
                    guard let base = raw.baseAddress else { return }
                    memmove(base, base + start, pending)
                }
            }
            start = 0
            end = pending
        }
        if end == buffer.count { buffer.append(contentsOf: repeatElement(0, count: buffer.count)) }
        while true {
            let readCount = buffer.withUnsafeMutableBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return read(fd, base + end, raw.count - end)
            }
            if readCount < 0 {
                if errno == EINTR { continue }
                throw .readFailed(errno: errno)
            }
            if readCount == 0 {
                atEOF = true
                return false
            }
            end += readCount
            return true
        }
    }

    /// Skips a UTF-8 byte-order mark at the very start, reading enough bytes to recognise one.
    private func skipBOMOnce() throws(HashSetFormatError) {
        guard !checkedBOM else { return }
        checkedBOM = true
        while end - start < 3, try fill() {}
        if end - start >= 3, buffer[start] == 0xEF, buffer[start + 1] == 0xBB, buffer[start + 2] == 0xBF {
            start += 3
        }
    }

    /// Advances to the next line and returns its byte range in ``buffer`` (without the line ending),
    /// or `nil` at end of input. The range is valid until the next call.
    func nextLine() throws(HashSetFormatError) -> Range<Int>? {
        try skipBOMOnce()
        lastLineWasTooLong = false
        var scanFrom = start
        while true {
            let found: Int? = buffer.withUnsafeBytes { raw -> Int? in
                guard let base = raw.baseAddress, end > scanFrom else { return nil }
                guard let hit = memchr(base + scanFrom, 0x0A, end - scanFrom) else { return nil }
                return base.distance(to: UnsafeRawPointer(hit))
            }
            if skippingLongLine {
                if let newline = found {
                    start = newline + 1
                    return endLongLine()
                }
                start = end
                if try !fill() { return endLongLine() }
                scanFrom = start
                continue
            }
            if found == nil && end - start > maxLineLength {
                skippingLongLine = true
                continue
            }
            if let newline = found {
                if newline - start > maxLineLength {
                    start = newline + 1
                    return endLongLine()
                }
                var lineEnd = newline
                if lineEnd > start && buffer[lineEnd - 1] == 0x0D { lineEnd -= 1 }
                let range = start..<lineEnd
                start = newline + 1
                lineNumber += 1
                return range
            }
            let scanned = end - start
            if try !fill() {
                guard end > start else { return nil }
                if end - start > maxLineLength {
                    start = end
                    return endLongLine()
                }
                var lineEnd = end
                if buffer[lineEnd - 1] == 0x0D { lineEnd -= 1 }
                let range = start..<lineEnd
                start = end
                lineNumber += 1
                return range
            }
            // fill() moved the pending bytes to the front; do not rescan what was already scanned.
            scanFrom = start + scanned
        }
    }

    /// The rejection reason for a line that was too long.
    var tooLongReason: String { "line longer than \(maxLineLength) bytes" }

    private func endLongLine() -> Range<Int> {
        skippingLongLine = false
        lastLineWasTooLong = true
        lineNumber += 1
        return start..<start
    }

    /// Calls `body` with the bytes of a range returned by ``nextLine()``.
    func withBytes<R, E: Error>(
        _ range: Range<Int>, _ body: (UnsafeBufferPointer<UInt8>) throws(E) -> R
    ) throws(E) -> R {
        try buffer.withUnsafeBufferPointer { (all: UnsafeBufferPointer<UInt8>) throws(E) -> R in
            try body(UnsafeBufferPointer(rebasing: all[range]))
        }
    }

    /// Fills `chunk` with the next raw bytes (BOM skipped), for byte-level scanners. Returns `false` at end.
    func nextChunk(into chunk: inout [UInt8]) throws(HashSetFormatError) -> Bool {
        try skipBOMOnce()
        if end == start {
            start = 0
            end = 0
            if try !fill() { return false }
        }
        chunk.removeAll(keepingCapacity: true)
        chunk.append(contentsOf: buffer[start..<end])
        start = end
        return !chunk.isEmpty
    }
}

/// A buffered writer to a file descriptor.
final class ByteOutput {
    private let fd: Int32
    private let closeWhenDone: Bool
    private var closed = false
    private var buffer: [UInt8] = []
    private static let flushThreshold = 1 << 20

    init(path: String) throws(HashSetFormatError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw .cannotOpen(path: path, errno: errno) }
        self.fd = fd
        self.closeWhenDone = true
        buffer.reserveCapacity(Self.flushThreshold + 4096)
    }

    init(fileDescriptor: Int32, closeWhenDone: Bool) {
        self.fd = fileDescriptor
        self.closeWhenDone = closeWhenDone
        buffer.reserveCapacity(Self.flushThreshold + 4096)
    }

    deinit {
        if closeWhenDone && !closed { close(fd) }
    }

    func append(_ text: String) throws(HashSetFormatError) {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= Self.flushThreshold { try flush() }
    }

    func append(byte: UInt8) { buffer.append(byte) }

    func append(bytes: some Sequence<UInt8>) { buffer.append(contentsOf: bytes) }

    /// Appends a newline and flushes when the buffer is full.
    func endLine() throws(HashSetFormatError) {
        buffer.append(0x0A)
        if buffer.count >= Self.flushThreshold { try flush() }
    }

    /// Flushes when the buffer has grown past its threshold.
    func flushIfFull() throws(HashSetFormatError) {
        if buffer.count >= Self.flushThreshold { try flush() }
    }

    func flush() throws(HashSetFormatError) {
        var offset = 0
        while offset < buffer.count {
            let written = buffer.withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return write(fd, base + offset, raw.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw .writeFailed(errno: errno)
            }
            offset += written
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes and, when this output owns the descriptor, closes it.
    func finish() throws(HashSetFormatError) {
        try flush()
        if closeWhenDone && !closed {
            closed = true
            if close(fd) != 0 { throw .writeFailed(errno: errno) }
        }
    }
}
