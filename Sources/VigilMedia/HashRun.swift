import Foundation

/// Everything one `vigil hash` run produced, sorted by path.
public struct HashReport: Sendable, Equatable {
    /// One record per file that could be read (images that failed to decode keep their digests).
    public var records: [HashRecord]
    /// One problem per file or entry that failed; the batch went on.
    public var problems: [HashProblem]

    /// A report with the given parts.
    public init(records: [HashRecord], problems: [HashProblem]) {
        self.records = records
        self.problems = problems
    }
}

/// Runs `vigil hash`: walks the paths, fingerprints every file on `options.jobs` threads, and returns the
/// records and problems in path order, so the output is the same whatever the number of jobs.
public enum HashRun {
    /// Progress callback: files finished so far and the total; called from worker threads.
    public typealias Progress = @Sendable (_ done: Int, _ total: Int) -> Void

    /// Hashes every file under `paths`.
    /// - Parameters:
    ///   - paths: files and directories (walked recursively).
    ///   - options: what to compute; `jobs` is clamped to at least 1.
    ///   - progress: optional callback after each file.
    public static func run(paths: [String], options: HashOptions, progress: Progress? = nil) async -> HashReport {
        await withCheckedContinuation { continuation in
            let thread = Thread {
                continuation.resume(returning: runBlocking(paths: paths, options: options, progress: progress))
            }
            thread.start()
        }
    }

    /// The same as `run`, blocking the calling thread.
    public static func runBlocking(paths: [String], options: HashOptions, progress: Progress? = nil) -> HashReport {
        let walk = FileWalker.walk(paths)
        let outcomes = hash(files: walk.files, options: options, progress: progress)
        var records: [HashRecord] = []
        records.reserveCapacity(outcomes.count)
        var problems = walk.problems
        for outcome in outcomes {
            if let record = outcome.record { records.append(record) }
            if let problem = outcome.problem { problems.append(problem) }
        }
        problems.sort { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
        return HashReport(records: records, problems: problems)
    }

    /// Called from worker threads as soon as a file is done, with its index in `files` and its outcome (for
    /// journals and byte-rate progress).
    public typealias Finished = @Sendable (_ index: Int, _ outcome: FileOutcome) -> Void

    /// Hashes `files` in parallel; the outcome at index i belongs to `files[i]`.
    public static func hash(
        files: [String], options: HashOptions, progress: Progress? = nil, finished: Finished? = nil
    ) -> [FileOutcome] {
        let slots = Slots(count: files.count)
        let queue = WorkQueue(total: files.count)
        let workers = max(1, min(options.jobs, files.count))
        // Fewer files than jobs: each video decodes on the cores no worker takes.
        var options = options
        options.videoThreads = max(1, options.jobs / workers)
        let group = DispatchGroup()
        for _ in 0..<workers {
            group.enter()
            let thread = Thread { [options] in
                let hasher = FileHasher(options: options)
                while let index = queue.next() {
                    let outcome = hasher.hash(path: files[index])
                    finished?(index, outcome)
                    slots.set(index, outcome)
                    if let progress { progress(queue.finish(), files.count) }
                }
                Vips.threadShutdown()
                group.leave()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        group.wait()
        return slots.take()
    }
}

/// Hands out indexes 0..<total once each.
private final class WorkQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var nextIndex = 0
    private var finished = 0
    private let total: Int

    init(total: Int) { self.total = total }

    func next() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard nextIndex < total else { return nil }
        nextIndex += 1
        return nextIndex - 1
    }

    func finish() -> Int {
        lock.lock()
        defer { lock.unlock() }
        finished += 1
        return finished
    }
}

/// One result slot per file; each is written by exactly one worker, read after all have joined.
private final class Slots: @unchecked Sendable {
    private let storage: UnsafeMutableBufferPointer<FileOutcome>

    init(count: Int) {
        storage = .allocate(capacity: count)
        storage.initialize(repeating: FileOutcome())
    }

    deinit {
        storage.deinitialize()
        storage.deallocate()
    }

    func set(_ index: Int, _ outcome: FileOutcome) { storage[index] = outcome }

    func take() -> [FileOutcome] { Array(storage) }
}
