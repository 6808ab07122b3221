import Foundation
import Testing
import Vapor
import VigilCore
import VigilStore
import VigilTestSupport

@testable import VigilWeb

/// Domain errors keep their type to the edge, where one mapping turns their kind into a status: bad input is never a
/// 500, and API callers get the stable code.
@Suite("Failure mapping")
struct FailureMappingTests {
    @Test(
        "an uncaught domain error answers by its kind: 422, 404, 409, 503; JSON carries its code; a fault stays a quiet 500"
    )
    func kinds() async throws {
        try await withVigilApp { app, _ in
            let failures: [String: any VigilFailure] = [
                "invalid": StoreError.invalid("the field 'x' is wrong"),
                "missing": StoreError.notFound("no case 9"),
                "refused": CaseWorkflowError.notAllowed(event: "close", state: .claimed),
                "away": StoreError.unreachable("the database is out of reach"),
                "broken": StoreError.corrupt("row 3"),
                "list": ListEntryError.sameAsProposer,
            ]
            for (path, failure) in failures {
                app.on(.GET, ["test-failure", .constant(path)], access: .publicAccess) { _ -> String in throw failure }
            }
            let browser = TestBrowser(app)
            let json: HTTPHeaders = ["Accept": "application/json"]
            for (path, status, code) in [
                ("invalid", 422, "store.invalid"), ("missing", 404, "store.not-found"),
                ("refused", 409, "case.not-allowed"), ("away", 503, "store.unreachable"),
                ("broken", 500, "store.corrupt"), ("list", 409, "list.same-as-proposer"),
            ] {
                let page = try await browser.get("/test-failure/\(path)", headers: json)
                #expect(page.status.code == UInt(status), "\(path)")
                #expect(page.body.contains("\"code\":\"\(code)\""), "\(path): \(page.body)")
            }
            let refused = try await browser.get("/test-failure/refused", headers: json)
            #expect(refused.body.contains("Close is not possible while the case is claimed."))
            let broken = try await browser.get("/test-failure/broken", headers: json)
            #expect(!broken.body.contains("row 3"), "a fault's detail stays in the log")
            let page = try await browser.get("/test-failure/invalid")
            #expect(page.status == .unprocessableEntity && page.body.contains("The field &#39;x&#39; is wrong."))
        }
    }

    @Test("a service the composition root did not install fails that request with a 500, and the server goes on")
    func missingService() async throws {
        try await withVigilApp { app, _ in
            app.storage[BlockListServiceKey.self] = nil
            app.on(.GET, ["test-service"], access: .publicAccess) { req -> String in
                try req.blockList.canaryDomain ?? "none"
            }
            let browser = TestBrowser(app)
            let page = try await browser.get("/test-service", headers: ["Accept": "application/json"])
            #expect(page.status == .internalServerError)
            #expect(page.body.contains("\"code\":\"server.not-configured\""), "\(page.body)")
            #expect(!page.body.contains("block list"), "which service is missing stays in the log")
            let after = try await browser.get("/report")
            #expect(after.status == .ok, "other requests are still served")
        }
    }

    @Test("a member of the public reads a failure in their language by its message key; API callers get the detail")
    func translatedForThePublic() async throws {
        try await withVigilApp { app, _ in
            app.on(.GET, ["test-missing"], access: .publicAccess) { _ -> String in
                throw StoreError.notFound("no appeal ABC-123 in table appeals")
            }
            let browser = TestBrowser(app)
            let fr = try await browser.get("/test-missing?lang=fr")
            #expect(fr.status == .notFound)
            #expect(
                fr.body.contains("Nous n&#39;avons pas trouvé") || fr.body.contains("Nous n'avons pas trouvé"),
                "\(fr.body)")
            #expect(!fr.body.contains("table appeals"))
            let api = try await browser.get("/test-missing", headers: ["Accept": "application/json"])
            #expect(api.body.contains("No appeal ABC-123") && api.body.contains("store.not-found"))
            #expect(StoreError.notFound("x").messageKey == "failure.store.not-found")
        }
    }
}
