import Foundation
import Testing
import Vapor
import VigilCore
import VigilStore
import VigilTestSupport
import VigilWeb

@Suite("Accounts")
struct AccountsTests {
    func accounts(_ app: Application, _ clock: ManualClock) throws -> Accounts {
        try Accounts(
            db: app.db, clock: clock, tokens: SystemTokenSource(), passwords: BcryptPasswords(cost: 4),
            configuration: app.vigil.configuration, secrets: app.secretSealer)
    }

    /// Creates a fully enrolled user and returns their TOTP.
    func enrolled(_ a: Accounts, _ clock: ManualClock, name: String, password: String) async throws -> VigilCore.TOTP {
        let (_, token) = try await a.createUser(username: name, role: .analyst, actor: .system)
        let totp = try await a.setInitialPassword(token: token, password: password)
        _ = try await a.confirmEnrolment(token: token, code: totp.code(at: clock.now()))
        return totp
    }

    @Test("a setup link works once and expires after 24 hours")
    func setupLink() async throws {
        try await withVigilApp { app, clock in
            let a = try accounts(app, clock)
            let (_, token) = try await a.createUser(username: "bob", role: .analyst, actor: .system)
            #expect(try await a.userForSetup(token: token)?.username == "bob")
            clock.advance(by: 24 * 3600 + 1)
            #expect(try await a.userForSetup(token: token) == nil)
            let fresh = try await a.issueSetupLink(username: "bob", actor: .system)
            let totp = try await a.setInitialPassword(token: fresh, password: "correct horse battery")
            let codes = try await a.confirmEnrolment(token: fresh, code: totp.code(at: clock.now()))
            #expect(codes.count == 10)
            #expect(Set(codes).count == 10)
            #expect(try await a.userForSetup(token: fresh) == nil)
        }
    }

    @Test("repeated bad passwords lock the account until the lockout ends")
    func lockout() async throws {
        try await withVigilApp { app, clock in
            let a = try accounts(app, clock)
            let totp = try await enrolled(a, clock, name: "carol", password: "a long enough password")
            for _ in 0..<4 {
                #expect(
                    try await a.signIn(username: "carol", password: "wrong password!!")
                        == .refused(message: Accounts.refusal))
            }
            guard case .locked = try await a.signIn(username: "carol", password: "wrong password!!") else {
                Issue.record("fifth failure should lock"); return
            }
            // even the right password is refused while locked
            guard case .locked = try await a.signIn(username: "carol", password: "a long enough password") else {
                Issue.record("locked account accepted a password"); return
            }
            clock.advance(by: 15 * 60 + 1)
            guard
                case .needsCode(let pending) = try await a.signIn(username: "carol", password: "a long enough password")
            else {
                Issue.record("lock did not expire"); return
            }
            clock.advance(by: 30)
            guard case .signedIn = try await a.verifyCode(sessionToken: pending, code: totp.code(at: clock.now()))
            else {
                Issue.record("right code refused"); return
            }
        }
    }

    @Test("a code cannot be used twice, and a recovery code works once")
    func replayAndRecovery() async throws {
        try await withVigilApp { app, clock in
            let a = try accounts(app, clock)
            let (_, token) = try await a.createUser(username: "dave", role: .auditor, actor: .system)
            let totp = try await a.setInitialPassword(token: token, password: "another good password")
            let codes = try await a.confirmEnrolment(token: token, code: totp.code(at: clock.now()))
            // the enrolment code's time step is used up
            guard case .needsCode(let p1) = try await a.signIn(username: "dave", password: "another good password")
            else { Issue.record("password"); return }
            guard case .refused = try await a.verifyCode(sessionToken: p1, code: totp.code(at: clock.now())) else {
                Issue.record("replayed code accepted"); return
            }
            guard case .needsCode(let p2) = try await a.signIn(username: "dave", password: "another good password")
            else { Issue.record("password"); return }
            guard case .signedIn = try await a.verifyCode(sessionToken: p2, code: codes[0].uppercased()) else {
                Issue.record("recovery code refused"); return
            }
            guard case .needsCode(let p3) = try await a.signIn(username: "dave", password: "another good password")
            else { Issue.record("password"); return }
            guard case .refused = try await a.verifyCode(sessionToken: p3, code: codes[0]) else {
                Issue.record("recovery code reused"); return
            }
        }
    }

    @Test("sessions end after the idle timeout and after the absolute timeout")
    func sessionTimeouts() async throws {
        try await withVigilApp { app, clock in
            let a = try accounts(app, clock)
            let totp = try await enrolled(a, clock, name: "erin", password: "erin's password ok")
            func signIn() async throws -> String {
                guard case .needsCode(let p) = try await a.signIn(username: "erin", password: "erin's password ok")
                else { throw JourneyError.step("pw") }
                clock.advance(by: 30)
                guard case .signedIn(let s) = try await a.verifyCode(sessionToken: p, code: totp.code(at: clock.now()))
                else { throw JourneyError.step("code") }
                return s
            }
            let s1 = try await signIn()
            clock.advance(by: 29 * 60)
            #expect(try await a.user(forSession: s1) != nil)
            clock.advance(by: 31 * 60)
            #expect(try await a.user(forSession: s1) == nil)
            let s2 = try await signIn()
            for _ in 0..<25 {  // active every 29 minutes for over 12 hours
                clock.advance(by: 29 * 60)
                _ = try await a.user(forSession: s2)
            }
            #expect(try await a.user(forSession: s2) == nil)
        }
    }

    @Test("the last administrator cannot be disabled or demoted")
    func lastAdmin() async throws {
        try await withVigilApp { app, clock in
            let a = try accounts(app, clock)
            await #expect(throws: StoreError.self) { try await a.setDisabled(true, username: "admin", actor: .system) }
            await #expect(throws: StoreError.self) { try await a.setRole(.analyst, username: "admin", actor: .system) }
            await #expect(throws: StoreError.conflict("a user named 'admin' already exists")) {
                _ = try await a.createUser(username: "admin", role: .admin, actor: .system)
            }
        }
    }
}
