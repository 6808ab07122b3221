import Foundation
import Testing
import VigilCore

@testable import VigilFormats

/// A temporary directory per test, removed when the test ends.
final class TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-formats-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    /// Writes `text` (optionally after a UTF-8 byte-order mark) and returns the path.
    func file(_ name: String, _ text: String, bom: Bool = false) throws -> String {
        let path = url.appendingPathComponent(name).path
        var data = Data(bom ? [0xEF, 0xBB, 0xBF] : [])
        data.append(Data(text.utf8))
        try data.write(to: URL(fileURLWithPath: path))
        return path
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
}

/// Reads a whole file in `format`.
func importAll(
    _ format: HashSetFormat, _ path: String, options: HashSetImportOptions = HashSetImportOptions()
) throws -> (records: [HashSetRecord], rejections: [LineRejection]) {
    try format.makeReader(path: path, options: options).readAll()
}

/// Writes `records` in `format` and returns the path.
@discardableResult
func exportAll(
    _ format: HashSetFormat, _ records: [HashSetRecord], to path: String,
    options: HashSetExportOptions = HashSetExportOptions()
) throws -> Int {
    let writer = try format.makeWriter(path: path, options: options)
    var written = 0
    for record in records where try writer.write(record) { written += 1 }
    try writer.finish()
    return written
}

/// Import → export → import; returns the first and second imports.
func roundTrip(
    _ format: HashSetFormat, _ path: String, in directory: TemporaryDirectory,
    importOptions: HashSetImportOptions = HashSetImportOptions(),
    exportOptions: HashSetExportOptions = HashSetExportOptions()
) throws -> (first: [HashSetRecord], second: [HashSetRecord]) {
    let first = try importAll(format, path, options: importOptions).records
    let exported = directory.path("export-\(format.rawValue)")
    try exportAll(format, first, to: exported, options: exportOptions)
    let second = try importAll(format, exported, options: importOptions)
    #expect(second.rejections.isEmpty)
    return (first, second.records)
}

func digest(_ algorithm: HashAlgorithm, _ value: String) -> HashDigest {
    // test literals are valid by construction
    (try? HashDigest(algorithm, value)) ?? { preconditionFailure("bad test digest \(value)") }()
}

let md5A = "adebf3fa3c9be7f73825e1cb9e2dea09"
let md5B = "0123456789abcdef0123456789abcdef"
let sha1A = "2b037f69c566dfdb3a5a79e5360d085959bdde4c"
let sha256A = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
let pdqA = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
