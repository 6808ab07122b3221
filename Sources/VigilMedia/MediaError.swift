/// Why one file could not be (fully) fingerprinted. Each case renders as one short human-readable reason.
public enum MediaError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The operating system refused an operation (open, read, list); `operation` says which.
    case system(operation: String, errno: Int32, message: String)
    /// Not a regular file (FIFO, socket, device); never opened, so a FIFO cannot hang the batch.
    case notRegularFile(kind: String)
    /// A symbolic link that cannot be followed: a loop, dangling, or leading outside the walked tree.
    case symbolicLink(String)
    /// A directory already visited (a bind-mount or hard-link loop).
    case directoryLoop
    /// The image declares more pixels than the decompression-bomb cap allows.
    case tooManyPixels(width: Int, height: Int, cap: Int)
    /// The decoder rejected the data (truncated, corrupt, unsupported variant).
    case undecodable(format: MediaType, reason: String)
    /// The sniffed format has no decoder in the installed libvips.
    case unsupportedFormat(MediaType)
    /// A video that could not be fingerprinted (unreadable, over a limit, or damaged part-way).
    case video(String)

    public var description: String {
        switch self {
        case .system(let operation, _, let message):
            return "cannot \(operation): \(message)"
        case .notRegularFile(let kind):
            return "not a regular file (\(kind)); skipped"
        case .symbolicLink(let why):
            return "symbolic link not followed: \(why)"
        case .directoryLoop:
            return "directory loop; already visited, not descended again"
        case .tooManyPixels(let width, let height, let cap):
            return "image declares \(width)x\(height) = \(width * height) pixels, above the cap of \(cap)"
                + " (possible decompression bomb); not decoded"
        case .undecodable(let format, let reason):
            return "cannot decode \(format.rawValue.uppercased()): \(reason)"
        case .unsupportedFormat(let format):
            return "\(format.rawValue.uppercased()) is not supported by the installed libvips"
        case .video(let reason):
            return reason
        }
    }
}
