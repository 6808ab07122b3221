#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The regular files under some roots, and one problem for everything that was not walked.
public struct WalkResult: Sendable, Equatable {
    /// Regular files, sorted by the bytes of their path, without duplicates.
    public var files: [String]
    /// Unwalkable entries (unreadable directories, refused symbolic links, FIFOs, …), sorted by path.
    public var problems: [HashProblem]
}

/// Walks files and directories without recursion (any depth) and without following symbolic links met inside
/// a tree: a link to something inside the same tree is skipped (its target is walked under its own path);
/// a dangling link, a link loop, a link to an ancestor directory or a link leading outside the tree each
/// give one problem. Directories are remembered by device and inode, so bind-mount loops end too.
/// Roots named on the command line are followed if they are links, as the user asked for them.
public enum FileWalker {
    /// Lists the regular files under `roots` (files or directories).
    public static func walk(_ roots: [String]) -> WalkResult {
        var files: [String] = []
        var problems: [HashProblem] = []
        for rawRoot in roots {
            let root = normalise(rawRoot)
            var info = stat()
            guard RawPath.statFile(root, &info) == 0 else {
                let code = errno
                let error: MediaError =
                    code == ELOOP
                    ? .symbolicLink("loop (too many levels of symbolic links)") : systemError("open", code)
                problems.append(HashProblem(path: root, error: error))
                continue
            }
            switch info.st_mode & S_IFMT {
            case S_IFREG:
                files.append(root)
            case S_IFDIR:
                walkTree(root, rootInfo: info, files: &files, problems: &problems)
            default:
                problems.append(HashProblem(path: root, error: .notRegularFile(kind: fileKind(info.st_mode))))
            }
        }
        files.sort { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        var unique: [String] = []
        unique.reserveCapacity(files.count)
        for file in files where unique.last != file { unique.append(file) }
        problems.sort { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
        return WalkResult(files: unique, problems: problems)
    }

    private struct DirectoryID: Hashable {
        var device: UInt64
        var inode: UInt64
        init(_ info: stat) {
            device = UInt64(info.st_dev)
            inode = UInt64(info.st_ino)
        }
    }

    private static func walkTree(_ root: String, rootInfo: stat, files: inout [String], problems: inout [HashProblem]) {
        let rootReal = realPath(root) ?? root
        var visited: Set<DirectoryID> = [DirectoryID(rootInfo)]
        var pending: [String] = [root]
        while let directory = pending.popLast() {
            // Opened with O_NOATIME where allowed, so listing does not move the directory's access time.
            let fd = openReadOnly(directory, O_DIRECTORY | (directory == root ? 0 : O_NOFOLLOW))
            guard fd >= 0 else {
                problems.append(HashProblem(path: directory, error: systemError("list directory")))
                continue
            }
            guard let stream = fdopendir(fd) else {
                let code = errno
                close(fd)
                problems.append(HashProblem(path: directory, error: systemError("list directory", code)))
                continue
            }
            defer { closedir(stream) }
            while let entry = readdir(stream) {
                // Names are bytes: any encoding is examined and kept exactly (``RawPath``).
                let nameBytes = withUnsafeBytes(of: entry.pointee.d_name) { raw -> [UInt8] in
                    Array(raw.prefix(while: { $0 != 0 }))
                }
                if nameBytes == [0x2E] || nameBytes == [0x2E, 0x2E] { continue }
                let name = RawPath.decode(nameBytes)
                let path = directory == "/" ? "/" + name : directory + "/" + name
                #if canImport(Glibc)
                    if entry.pointee.d_type == UInt8(DT_REG) {
                        files.append(path)
                        continue
                    }
                #endif
                // Relative to the open folder, so depth never makes the path too long to look at.
                var info = stat()
                let found = RawPath.withCString(nameBytes) { fstatat(dirfd(stream), $0, &info, AT_SYMLINK_NOFOLLOW) }
                guard found == 0 else {
                    problems.append(HashProblem(path: path, error: systemError("stat")))
                    continue
                }
                switch info.st_mode & S_IFMT {
                case S_IFREG:
                    files.append(path)
                case S_IFDIR:
                    if visited.insert(DirectoryID(info)).inserted {
                        pending.append(path)
                    } else {
                        problems.append(HashProblem(path: path, error: .directoryLoop))
                    }
                case S_IFLNK:
                    if let refusal = refusal(ofLink: path, in: directory, rootReal: rootReal, root: root) {
                        problems.append(HashProblem(path: path, error: refusal))
                    }
                default:
                    problems.append(HashProblem(path: path, error: .notRegularFile(kind: fileKind(info.st_mode))))
                }
            }
        }
    }

    /// Why a symbolic link inside a tree is worth reporting, or `nil` when it is harmless (its target is
    /// inside the tree and is walked under its own path).
    private static func refusal(ofLink path: String, in directory: String, rootReal: String, root: String)
        -> MediaError?
    {
        var target = stat()
        guard RawPath.statFile(path, &target) == 0 else {
            let code = errno
            switch code {
            case ELOOP: return .symbolicLink("loop (too many levels of symbolic links)")
            case ENOENT: return .symbolicLink("dangling (its target does not exist)")
            default: return systemError("follow symbolic link", code)
            }
        }
        guard let resolved = realPath(path) else { return systemError("resolve symbolic link") }
        guard isInside(resolved, rootReal) else {
            return .symbolicLink("leads outside \(root) (to \(resolved))")
        }
        if (target.st_mode & S_IFMT) == S_IFDIR, let here = realPath(directory), isInside(here, resolved) {
            return .symbolicLink("loop (points to its own ancestor directory \(resolved))")
        }
        return nil
    }

    private static func isInside(_ path: String, _ ancestor: String) -> Bool {
        if ancestor == "/" || path == ancestor { return true }
        return path.hasPrefix(ancestor + "/")
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = RawPath.withCString(RawPath.bytes(path), { realpath($0, nil) }) else { return nil }
        defer { free(resolved) }
        return RawPath.decode(UnsafeRawBufferPointer(start: resolved, count: strlen(resolved)))
    }

    private static func normalise(_ path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        return String(trimmed)
    }
}
