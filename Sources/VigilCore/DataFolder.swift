import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The data folder holds the database, the signing key and the key that seals reporters' contacts and staff TOTP
/// secrets: only its owner reads it. Files Vigil creates there are 0600 in a 0700 folder.
public enum DataFolder {
    /// Makes new files private to this process's user (umask 077) for the rest of the process.
    public static func restrictNewFiles() { umask(0o077) }

    /// Creates the folder (0700) if needed, and takes group and other permissions off it and everything in it (an
    /// installation made before, with 0644 files in a 0755 folder).
    /// - Returns: the paths whose permissions were tightened, for the log.
    @discardableResult
    public static func secure(_ path: String) throws -> [String] {
        let fm = FileManager.default
        if !fm.fileExists(atPath: path) {
            try fm.createDirectory(
                atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        var tightened: [String] = []
        func tighten(_ item: String) {
            var st = stat()
            // lstat: a link is not followed out of the folder.
            guard lstat(item, &st) == 0, st.st_mode & 0o170000 != 0o120000, st.st_mode & 0o077 != 0 else { return }
            if chmod(item, st.st_mode & 0o7700) == 0 { tightened.append(item) }
        }
        tighten(path)
        if let walker = fm.enumerator(atPath: path) {
            for case let name as String in walker { tighten((path as NSString).appendingPathComponent(name)) }
        }
        return tightened
    }
}
