import Foundation
import PDQ

/// Paths and helpers shared by the PDQ tests.
enum Fixtures {
    /// The repository root: three levels above this file (Tests/PDQTests/Support.swift).
    static let repoRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `../shared/pdq-vectors` beside the clone.
    static let vectors: URL = repoRoot.deletingLastPathComponent().appendingPathComponent("shared/pdq-vectors")

    static func text(_ relative: String) throws -> String {
        try String(contentsOf: vectors.appendingPathComponent(relative), encoding: .utf8)
    }

    /// Rows of a CSV file with a header and no quoted fields, as dictionaries.
    static func csv(_ relative: String) throws -> [[String: String]] {
        let lines = try text(relative).split(whereSeparator: \.isNewline).map(String.init)
        guard let header = lines.first?.split(separator: ",").map(String.init) else { return [] }
        return lines.dropFirst().map { line in
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            return Dictionary(uniqueKeysWithValues: zip(header, fields))
        }
    }

    /// Non-empty lines of a file.
    static func lines(_ relative: String) throws -> [String] {
        try text(relative).split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
    }

    /// A fresh temporary directory, removed by the caller.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pdq-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// The system `python3`, used only by tests to decode PNGs (Pillow) and to run Meta's reference (`pdqhash`).
enum Python {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Runs `python3 -c script args...`; throws with stderr when it exits non-zero.
    @discardableResult
    static func run(_ script: String, _ args: [String] = []) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script] + args
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "python3 failed: " + String(decoding: errData, as: UTF8.self))
        }
        return String(decoding: outData, as: UTF8.self)
    }

    /// Whether `python3` can import every module named.
    static func has(_ modules: String...) -> Bool {
        (try? run("import " + modules.joined(separator: ", "))) != nil
    }

    static let hasPillow = has("PIL")
    static let hasReference = has("PIL", "numpy", "pdqhash")
}

/// One generated or decoded image: raw interleaved 8-bit pixels and the reference's answers.
struct RawCase: Decodable {
    let file: String
    let name: String
    let width: Int
    let height: Int
    let channels: Int
    let quality: Int
    let hashes: [String]
}

extension PDQHasher {
    /// Hashes raw pixels read from `url`.
    func hash(rawFile url: URL, width: Int, height: Int, channels: Int, dihedral: Bool) throws
        -> (PDQResult, [PDQHash])
    {
        let data = try Data(contentsOf: url)
        return data.withUnsafeBytes { raw in
            let pixels = raw.bindMemory(to: UInt8.self)
            if dihedral {
                let (r, d) = hashWithDihedral(pixels: pixels, width: width, height: height, channels: channels)
                return (r, d)
            }
            return (hash(pixels: pixels, width: width, height: height, channels: channels), [])
        }
    }
}
