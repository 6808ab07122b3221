import Foundation
import Testing
import Vapor
import VigilCore
import VigilStore
import VigilTestSupport
import VigilWeb

/// The report link platforms put beside their content, and the page that explains it.
@Suite("Report link for platforms")
struct ReportLinkTests {
    @Test("a report link fills the form in, checked as the form checks it, and sends nothing")
    func prefilled() async throws {
        try await withVigilApp { app, _ in
            let browser = TestBrowser(app)
            let page = try await browser.get(
                "/report?kind=url&url=http%3A%2F%2Fvideos.example.test%2Fwatch%2F1&service=Example%20Videos&lang=fr")
            #expect(page.status == .ok)
            #expect(page.body.contains(#"value="http://videos.example.test/watch/1""#))
            #expect(page.body.contains(#"id="prefilled""#) && page.body.contains("(Example Videos)"))
            #expect(page.body.contains("prérempli"), "in the language the link asked for")
            #expect(
                try await app.hotlineStoreForTests.queue(includeClosed: true).total == 0,
                "nothing is sent without the reporter")
            let bad = try await browser.get("/report?kind=url&url=not%20a%20web%20address&lang=en")
            #expect(bad.status == .ok && bad.body.contains(#"id="url-error""#))
            let profile = try await browser.get("/report?kind=profile&service=Chat%20Example&profile=someone&lang=en")
            #expect(profile.body.contains(#"value="Chat Example""#) && profile.body.contains(#"value="someone""#))
            let hostile = try await browser.get(
                "/report?kind=url&url=%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E&service=%3Cb%3E")
            #expect(!hostile.body.contains("<script>alert(1)") && !hostile.body.contains("<b>"), "escaped")
            let plain = try await browser.get("/report")
            #expect(!plain.body.contains(#"id="prefilled""#))
        }
    }

    @Test("the page for platforms gives the link format and a script-free snippet in every language")
    func buttonPage() async throws {
        try await withVigilApp { app, _ in
            let page = try await TestBrowser(app).get("/report/button?lang=en")
            #expect(page.status == .ok)
            #expect(page.body.contains("/report?kind=url&amp;url=PAGE_ADDRESS&amp;service=YOUR_SITE&amp;lang=LANGUAGE"))
            for code in ["en", "fr", "es", "ar"] {
                #expect(page.body.contains(#"id="snippet-\#(code)""#), "\(code)")
                // the snippet's own `&amp;` is shown escaped, as the text to copy
                #expect(page.body.contains("&amp;amp;lang=\(code)"), "\(code)")
            }
            #expect(page.body.contains("Signaler un contenu illégal"))
            #expect(!page.body.contains("&lt;script"), "the snippet holds no script")
        }
    }
}
