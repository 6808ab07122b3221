import ArgumentParser
import Foundation
import VigilApp
import VigilCore
import VigilStore

/// `vigil jobs`: what the server's jobs are doing, and running one by hand.
struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "List the server's jobs and the shared queue; run a job once; retry failed ones.",
        subcommands: [List.self, Run.self, Retry.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Scheduled jobs, and queued, running and failed jobs with their age.")
        @OptionGroup var options: ServerOptions

        func run() async throws {
            let text: String = try await runStoreCommand(options) { ctx in
                var lines = ["scheduled (inside vigil serve):"]
                for job in try ScheduledJobs.forCommandLine(ctx).jobs {
                    lines.append(
                        "  \(job.name.padding(toLength: 18, withPad: " ", startingAt: 0)) every \(job.everyMinutes) min  \(job.summary)"
                    )
                }
                let depths = try await JobQueue(db: ctx.database, clock: SystemClock(), owner: "cli").depths()
                lines.append(depths.isEmpty ? "queue: empty" : "queue:")
                for d in depths {
                    lines.append(
                        "  \(d.name.padding(toLength: 18, withPad: " ", startingAt: 0)) \(d.state.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)) \(d.count) (oldest due \(Int(d.oldestAge)) s ago)"
                    )
                }
                for job in try await JobQueue(db: ctx.database, clock: SystemClock(), owner: "cli").jobs(
                    state: .failed, limit: 20)
                {
                    lines.append(
                        "  failed #\(job.id) \(job.name) after \(job.attempts) attempts: \(job.lastError ?? "")")
                }
                return lines.joined(separator: "\n")
            }
            print(text)
        }
    }

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run one scheduled job once, now (for operators and debugging).")
        @Argument(help: "The job's name (see `vigil jobs list`).")
        var name: String
        @Option(help: "At most this many items (default 500).")
        var limit: Int = 500
        @OptionGroup var options: ServerOptions

        func run() async throws {
            let name = name, limit = limit
            let outcome: Result<Int, ValidationError> = try await runStoreCommand(options) { ctx in
                let jobs = try ScheduledJobs.forCommandLine(ctx)
                guard let job = jobs.job(named: name) else {
                    return .failure(
                        ValidationError(
                            "no job named '\(name)'; jobs: \(jobs.jobs.map(\.name).joined(separator: ", "))"))
                }
                return .success(try await job.run(max(1, limit)))
            }
            switch outcome {
            case .success(let n): print("\(name): \(n) done")
            case .failure(let e):
                FileHandle.standardError.write(Data("vigil jobs: \(e.message)\n".utf8))
                throw ExitCode(2)
            }
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Put failed queued jobs (of one name, or all) back in the queue, due now.")
        @Argument(help: "Only jobs of this name.")
        var name: String?
        @OptionGroup var options: ServerOptions

        func run() async throws {
            let name = name
            let n = try await runStoreCommand(options) { ctx in
                try await JobQueue(db: ctx.database, clock: SystemClock(), owner: "cli").retryFailed(name)
            }
            print("\(n) failed jobs queued again")
        }
    }
}
