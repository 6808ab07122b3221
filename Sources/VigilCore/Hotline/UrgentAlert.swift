import Foundation

/// One shift of the on-call rota: who is on duty on which days, from when to when, in the hotline's time zone.
/// A shift whose end is before its start runs past midnight (22:00–06:00 on Friday covers Friday night until Saturday
/// 06:00); one whose end equals its start covers the whole day.
public struct RotaShift: Sendable, Equatable, Codable {
    /// The staff member's user name, shown in alerts and the audit log.
    public var username: String
    /// Where their alerts go.
    public var email: String
    /// ISO weekdays the shift starts on: 1 Monday … 7 Sunday.
    public var days: Set<Int>
    /// Minutes after local midnight.
    public var start: Int
    public var end: Int

    public init(username: String, email: String, days: Set<Int>, start: Int, end: Int) {
        self.username = username
        self.email = email
        self.days = days
        self.start = start
        self.end = end
    }

    /// Checks a shift as an admin typed it; the sentence says what is wrong.
    public static func problem(username: String, email: String, days: Set<Int>, start: Int?, end: Int?) -> String? {
        if username.trimmingCharacters(in: .whitespaces).isEmpty { return "the shift needs a person's user name" }
        if !EmailAddress.isPlausible(email) { return "the alert address must be an e-mail address" }
        if days.isEmpty || !days.allSatisfy({ (1...7).contains($0) }) { return "choose at least one day" }
        guard let start, let end, (0..<1440).contains(start), (0..<1440).contains(end) else {
            return "start and end are times of day (HH:MM)"
        }
        return nil
    }

    /// Reads `HH:MM` as minutes after midnight.
    public static func minutes(_ text: String) -> Int? {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: ":")
        guard parts.count == 2, let h = Int(parts[0]), let m = Int(parts[1]), (0..<24).contains(h), (0..<60).contains(m)
        else { return nil }
        return h * 60 + m
    }

    /// `HH:MM` for minutes after midnight.
    public static func clock(_ minutes: Int) -> String { String(format: "%02d:%02d", minutes / 60, minutes % 60) }

    /// Whether the shift covers `date` in `timeZone`.
    public func covers(_ date: Date, in timeZone: TimeZone) -> Bool {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let c = calendar.dateComponents([.weekday, .hour, .minute], from: date)
        // Calendar weekdays run 1 Sunday … 7 Saturday; ISO's 1 Monday … 7 Sunday.
        let day = ((c.weekday ?? 1) + 5) % 7 + 1
        let previous = day == 1 ? 7 : day - 1
        let m = (c.hour ?? 0) * 60 + (c.minute ?? 0)
        if start == end { return days.contains(day) }
        if start < end { return days.contains(day) && m >= start && m < end }
        return (days.contains(day) && m >= start) || (days.contains(previous) && m < end)
    }
}

/// The on-call rota: shifts in the order people are alerted (the first on duty first, then the next).
public struct OnCallRota: Sendable, Equatable {
    public var shifts: [RotaShift]
    public var timeZone: TimeZone

    public init(shifts: [RotaShift], timeZone: TimeZone) {
        self.shifts = shifts
        self.timeZone = timeZone
    }

    /// Who is on duty at `date`, in rota order, each person once.
    public func onDuty(at date: Date) -> [RotaShift] {
        var seen: Set<String> = []
        return shifts.filter { $0.covers(date, in: timeZone) && seen.insert($0.username.lowercased()).inserted }
    }
}

/// An alert about a report saying a child is in immediate danger, as a value: who is told in turn, who has been,
/// and whether someone acknowledged it. Each step waits `urgent_ack_minutes` for an acknowledgement (one click on
/// the one-time link in the alert, or opening the case) before the next is told; the last step is law enforcement's
/// 24/7 contact.
public struct UrgentAlert: Sendable, Equatable, Codable {
    /// One step of the escalation: who is told together.
    public struct Step: Sendable, Equatable, Codable {
        public enum Kind: String, Sendable, Codable {
            /// A person on duty in the rota.
            case onCall = "on-call"
            /// Nobody is on duty: the `urgent_alert_to` addresses.
            case fallback
            /// The law-enforcement liaison's 24/7 contact (`urgent_le_contact`).
            case lawEnforcement = "law-enforcement"
        }
        public let kind: Kind
        /// The person's user name, or a description for the other kinds.
        public let name: String
        public let addresses: [String]

        public init(kind: Kind, name: String, addresses: [String]) {
            self.kind = kind
            self.name = name
            self.addresses = addresses
        }
    }

    public enum State: String, Sendable, Codable {
        /// Waiting for an acknowledgement.
        case open
        case acknowledged
        /// Every step was told and nobody acknowledged: it stays on the queue's top and on `/metrics`.
        case unanswered
    }

    public enum Event: Sendable, Equatable {
        /// The alert goes out to its first step.
        case raise
        /// The current step's wait (`ackAfter` seconds) may have ended without an acknowledgement; nothing happens
        /// before it has (two processes asking at once move the alert one step, not two).
        case deadlinePassed(ackAfter: TimeInterval)
        /// Someone took it: `via` is `link` (the one-time link) or `case-page` (opened the case).
        case acknowledge(by: String, via: String)
    }

    public enum Action: Sendable, Equatable {
        /// Tell the step's addresses (e-mail) and the paging webhook.
        case notify(step: Int)
        case audit(String, [String: String])
    }

    public enum Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        case alreadyAcknowledged(by: String)
        case notRaised
        public var description: String {
            switch self {
            case .alreadyAcknowledged(let by): "the alert was already acknowledged by \(by)"
            case .notRaised: "the alert has not gone out yet"
            }
        }
    }

    public private(set) var steps: [Step]
    /// The step told last; -1 before the alert is raised.
    public private(set) var step = -1
    public private(set) var stepStarted: Date?
    public private(set) var state = State.open
    public private(set) var acknowledgedBy: String?
    public private(set) var acknowledgedAt: Date?

    /// The escalation for an alert raised now: each person on duty in rota order, else the fallback addresses, then
    /// law enforcement's contact. Empty when nothing is configured (the paging webhook, if any, is still called).
    public init(onDuty: [RotaShift], fallback: [String], lawEnforcement: String?) {
        var steps = onDuty.map { Step(kind: .onCall, name: $0.username, addresses: [$0.email]) }
        if steps.isEmpty, !fallback.isEmpty {
            steps.append(Step(kind: .fallback, name: "urgent_alert_to", addresses: fallback))
        }
        if let le = lawEnforcement, !le.isEmpty {
            steps.append(Step(kind: .lawEnforcement, name: "law enforcement 24/7", addresses: [le]))
        }
        self.steps = steps
    }

    /// When the current step's wait ends.
    public func deadline(ackAfter: TimeInterval) -> Date? {
        state == .open ? stepStarted.map { $0 + ackAfter } : nil
    }

    public mutating func handle(_ event: Event, at time: Date) throws(Refusal) -> [Action] {
        switch event {
        case .raise:
            guard step < 0 else { return [] }
            step = 0
            stepStarted = time
            guard !steps.isEmpty else {
                return [
                    .notify(step: 0),
                    .audit("urgent.no-recipient", ["why": "no one on duty, no urgent_alert_to, no urgent_le_contact"]),
                ]
            }
            return [.notify(step: 0), .audit("urgent.alerted", Self.details(steps[0], step: 0))]
        case .deadlinePassed(let ackAfter):
            guard state == .open, step >= 0, let due = deadline(ackAfter: ackAfter), due <= time else { return [] }
            guard step + 1 < steps.count else {
                state = .unanswered
                return [.audit("urgent.unanswered", ["steps": String(steps.count)])]
            }
            step += 1
            stepStarted = time
            return [.notify(step: step), .audit("urgent.escalated", Self.details(steps[step], step: step))]
        case .acknowledge(let by, let via):
            if let acknowledgedBy { throw .alreadyAcknowledged(by: acknowledgedBy) }
            guard step >= 0 else { throw .notRaised }
            state = .acknowledged
            acknowledgedBy = by
            acknowledgedAt = time
            return [.audit("urgent.acknowledged", ["by": by, "via": via, "step": String(step)])]
        }
    }

    /// Minutes as people read them: `15`, or `0.05` for a shortened test wait.
    public static func minutes(_ m: Double) -> String {
        m == m.rounded() ? String(Int(m)) : String(format: "%g", m)
    }

    static func details(_ s: Step, step: Int) -> [String: String] {
        ["step": String(step), "kind": s.kind.rawValue, "to": s.name]
    }
}
