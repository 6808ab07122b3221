import Foundation
import VigilCore
import VigilMatch
import VigilMedia

/// report.html: one self-contained page (inline CSS, no script, no external resource; a Content-Security-Policy
/// forbids any), readable offline and on a phone. It shows no imagery unless the scan embedded thumbnails; those
/// are greyscale and blurred until the examiner ticks one (CSS only, so it works with scripts off).
enum HTMLReport {
    static func render(_ context: ReportContext) -> String {
        let s = context.summary
        var h = """
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
            <title>Vigil scan \(esc(context.configuration.caseID))</title>
            <style>\(css)</style>
            </head>
            <body>
            <header><h1>Seized-media triage: case \(esc(context.configuration.caseID))</h1>
            <p>Examined \(esc(context.configuration.root)) for \(esc(context.configuration.examiner)), \
            \(esc(ReportContext.timestamp(context.started))) to \(esc(ReportContext.timestamp(context.finished))).</p>
            </header>
            <nav aria-label="Sections"><ul>
            <li><a href="#summary">Summary</a></li><li><a href="#review">Review first</a></li>
            """
        for c in [FileClass.known, .nearMatch, .newMedia, .other] {
            h += "<li><a href=\"#\(c.rawValue)\">\(c.title)</a></li>"
        }
        h += """
            <li><a href="#duplicates">Duplicates</a></li><li><a href="#similar">Similar pictures</a></li>\
            <li><a href="#problems">Problems</a></li>\
            <li><a href="#parameters">Parameters</a></li></ul></nav>
            <main>
            <section id="summary"><h2>Summary</h2>
            <dl class="figures">
            """
        func figure(_ id: String, _ label: String, _ value: String) {
            h += "<div><dt>\(esc(label))</dt><dd id=\"figure-\(id)\">\(esc(value))</dd></div>\n"
        }
        figure("files", "Files examined", String(s.files))
        figure("bytes", "Bytes examined", "\(s.bytes) (\(humanBytes(s.bytes)))")
        figure("seconds", "Time taken", String(format: "%.1f s", s.seconds))
        for c in FileClass.allCases { figure(c.rawValue, c.title, String(s.count(c))) }
        figure("duplicate-groups", "Duplicate groups", String(s.duplicateGroups))
        figure("similar-groups", "Similar-picture groups", String(s.similarGroups))
        figure("problems", "Problems", String(s.problems))
        h += "</dl>\n"
        if !s.categories.isEmpty {
            h += "<table><caption>Known and near-match files per category</caption>"
            h += "<thead><tr><th scope=\"col\">Category</th><th scope=\"col\">Files</th></tr></thead><tbody>"
            for (k, v) in s.categories.sorted(by: { $0.key < $1.key }) {
                h += "<tr><td>\(esc(k))</td><td>\(v)</td></tr>"
            }
            h += "</tbody></table>\n"
        }
        h += "</section>\n"

        let review = Classifier.reviewOrder(context.results)
        h += "<section id=\"review\"><h2>Review first (\(review.count))</h2>"
        h += "<p>Near matches first (likely new items of a known series), then new media in folders that also hold"
        h += " known items, then the other new media.</p>"
        h += fileTable(review.prefix(500), context: context, showReason: true)
        if review.count > 500 { h += "<p>The first 500 of \(review.count); results.csv lists all.</p>" }
        h += "</section>\n"

        for c in [FileClass.known, .nearMatch, .newMedia] {
            let list = context.results.filter { $0.fileClass == c }
            h += "<section id=\"\(c.rawValue)\"><h2>\(c.title) (\(list.count))</h2>"
            h += list.isEmpty ? "<p>None.</p>" : fileTable(list[...], context: context, showReason: false)
            h += "</section>\n"
        }
        h += "<section id=\"known-benign\"><h2>\(FileClass.knownBenign.title)</h2><p>"
        h +=
            "\(s.count(.knownBenign)) files on a known-benign list were set aside; results.csv lists them.</p></section>\n"
        let others = context.results.filter { $0.fileClass == .other }
        h += "<section id=\"other\"><h2>\(FileClass.other.title) (\(others.count))</h2>"
        h += "<p>Documents, archives, programs, and images that could not be decoded (see the problems).</p>"
        if !others.isEmpty {
            h += "<div class=\"table\"><table><thead><tr><th scope=\"col\">File</th><th scope=\"col\">Bytes</th>"
            h += "<th scope=\"col\">SHA-256</th></tr></thead><tbody>\n"
            for r in others.prefix(5000) {
                h += "<tr><td class=\"path\">\(esc(RawPath.display(r.file.path)))</td><td>\(r.file.size)</td>"
                h += "<td class=\"hash\">\(r.file.sha256 ?? "—")</td></tr>\n"
            }
            h += "</tbody></table></div>"
            if others.count > 5000 { h += "<p>The first 5000 of \(others.count); results.csv lists all.</p>" }
        }
        h += "</section>\n"

        var groups: [Int: [ScanResult]] = [:]
        for r in context.results { if let g = r.duplicateGroup { groups[g, default: []].append(r) } }
        h += "<section id=\"duplicates\"><h2>Duplicate groups (\(groups.count))</h2>"
        if groups.isEmpty { h += "<p>None.</p>" } else { h += "<ol>" }
        for g in groups.keys.sorted() {
            let members = groups[g]!
            h += "<li id=\"dup-\(g)\"><span class=\"hash\">SHA-256 \(esc(members[0].file.sha256 ?? ""))</span> ("
            h += "\(esc(members[0].fileClass.title.lowercased()))): <ul>"
            for m in members { h += "<li>\(esc(RawPath.display(m.file.path)))</li>" }
            h += "</ul></li>"
        }
        if !groups.isEmpty { h += "</ol>" }
        h += "</section>\n"

        var similar: [Int: [ScanResult]] = [:]
        for r in context.results { if let g = r.similarGroup { similar[g, default: []].append(r) } }
        h += "<section id=\"similar\"><h2>Similar pictures (\(similar.count))</h2>"
        h += "<p>New media and near matches whose PDQ hashes lie within a few bits of each other: the same picture"
        h += " re-encoded, resized or renamed.</p>"
        if similar.isEmpty { h += "<p>None.</p>" } else { h += "<ol>" }
        for g in similar.keys.sorted() {
            h += "<li id=\"similar-\(g)\"><ul>"
            for m in similar[g]! { h += "<li>\(esc(RawPath.display(m.file.path)))</li>" }
            h += "</ul></li>"
        }
        if !similar.isEmpty { h += "</ol>" }
        h += "</section>\n"

        h += "<section id=\"problems\"><h2>Problems (\(context.problems.count))</h2>"
        h += context.problems.isEmpty ? "<p>None.</p>" : "<ul class=\"problems\">"
        for p in context.problems {
            h += "<li><span class=\"path\">\(esc(RawPath.display(p.path)))</span>: \(esc(p.reason))</li>"
        }
        if !context.problems.isEmpty { h += "</ul>" }
        h += "</section>\n"

        h += "<section id=\"parameters\"><h2>Parameters</h2><dl class=\"params\">"
        for (k, v) in context.parameters { h += "<div><dt>\(esc(k))</dt><dd>\(esc(v))</dd></div>" }
        h += "</dl><p>manifest.json fixes every examined file's SHA-256 and these outputs; "
        h += "<code>vigil scan verify</code> re-checks them.</p></section>\n</main>\n</body>\n</html>\n"
        return h
    }

    private static func fileTable(_ list: ArraySlice<ScanResult>, context: ReportContext, showReason: Bool) -> String {
        var h = "<div class=\"table\"><table><thead><tr>"
        if showReason { h += "<th scope=\"col\">#</th>" }
        h += "<th scope=\"col\">File</th><th scope=\"col\">Match</th><th scope=\"col\">Clues</th>"
        h += "<th scope=\"col\">Hashes</th></tr></thead><tbody>\n"
        for r in list {
            let f = r.file
            h += "<tr>"
            if showReason { h += "<td>\(r.reviewRank ?? 0)</td>" }
            h += "<td>"
            if showReason, let thumb = r.thumbnail {  // once per file: in the review list
                h += "<label class=\"thumb\"><input type=\"checkbox\" aria-label=\"Reveal the thumbnail\">"
                h += "<img alt=\"greyscale thumbnail, blurred until revealed\" src=\"data:image/jpeg;base64,"
                h += Data(thumb).base64EncodedString() + "\"></label>"
            }
            if showReason, let sheet = r.contactSheet {  // a video: its frames behind one checkbox
                h += "<label class=\"thumb sheet\"><input type=\"checkbox\" aria-label=\"Reveal the video's frames\">"
                h += "<span>"
                for still in sheet {
                    h += "<img alt=\"greyscale video frame, blurred until revealed\" src=\"data:image/jpeg;base64,"
                    h += Data(still).base64EncodedString() + "\">"
                }
                h += "</span></label>"
            }
            h +=
                "<span class=\"path\">\(esc(RawPath.display(f.path)))</span><br><small>\(esc(f.video ?? f.type)), \(f.size) bytes"
            if let g = r.duplicateGroup { h += ", <a href=\"#dup-\(g)\">duplicate group \(g)</a>" }
            if let g = r.similarGroup { h += ", <a href=\"#similar-\(g)\">similar group \(g)</a>" }
            if showReason, let why = r.priorityReason { h += "; \(esc(why))" }
            h += "</small></td><td>"
            for hit in r.videoHits.prefix(3) {
                h += "\(esc(hit.item)) (vPDQ)<br><small>\(esc(hit.summary))<br>\(esc(hit.categoryLabel))"
                if !hit.provenanceLabel.isEmpty { h += "; \(esc(hit.provenanceLabel))" }
                h += "</small><br>"
            }
            if r.hits.isEmpty {
                if r.videoHits.isEmpty { h += "—" }
            } else {
                for hit in r.hits.prefix(3) {
                    h += "\(esc(hit.item)) "
                    h +=
                        hit.matched.algorithm == .pdq
                        ? "(PDQ distance \(hit.distance))" : "(\(hit.matched.algorithm.rawValue))"
                    h += "<br><small>\(esc(hit.categoryLabel))"
                    if !hit.provenanceLabel.isEmpty { h += "; \(esc(hit.provenanceLabel))" }
                    h += "</small><br>"
                }
            }
            h += "</td><td>"
            var clues = f.clues?.fields.map { "\($0.name): \($0.value)" } ?? []
            if let t = f.times {
                clues.append("modified \(ReportContext.timestamp(Date(timeIntervalSince1970: t.modified)))")
            }
            clues.append("folder \(f.folder)")
            h += clues.map(esc).joined(separator: "<br>")
            h += "</td><td class=\"hash\">"
            if let md5 = f.md5 { h += "MD5 \(md5)<br>" }
            if let sha = f.sha256 { h += "SHA-256 \(sha)<br>" }
            if let pdq = f.pdq { h += "PDQ \(pdq) (quality \(f.pdqQuality ?? 0))" }
            h += "</td></tr>\n"
        }
        h += "</tbody></table></div>"
        return h
    }

    static func humanBytes(_ n: Int) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var v = Double(n)
        var u = 0
        while v >= 1000, u < units.count - 1 {
            v /= 1000
            u += 1
        }
        return u == 0 ? "\(n) B" : String(format: "%.1f", v) + " " + units[u]
    }

    /// Escapes text for HTML content and attribute values (paths and EXIF are attacker-controlled).
    static func esc(_ s: String) -> String { SafeMarkdown.escape(s) }

    static let css = """
        body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1b1b1b;background:#fff}
        header,main,nav{padding:0 1rem;max-width:80rem;margin:auto}
        h1{font-size:1.4rem}h2{font-size:1.2rem;border-bottom:1px solid #ccc;padding-top:1rem}
        nav ul{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.3rem 1rem}
        .figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(11rem,1fr));gap:.5rem}
        .figures div{border:1px solid #ccc;border-radius:4px;padding:.4rem .6rem}
        .figures dt{font-size:.85rem;color:#444}.figures dd{margin:0;font-size:1.3rem;font-weight:600}
        .params div{display:flex;gap:1rem}.params dt{min-width:10rem;font-weight:600}.params dd{margin:0}
        .table{overflow-x:auto}table{border-collapse:collapse;width:100%;margin:.5rem 0}
        th,td{border:1px solid #ccc;padding:.3rem .4rem;text-align:left;vertical-align:top}
        .hash,.path{font-family:ui-monospace,monospace;word-break:break-all;font-size:.85rem}
        .thumb{display:block;cursor:pointer;margin-bottom:.3rem}
        td.hash{min-width:14rem}
        .thumb input{position:absolute;opacity:0}
        .thumb img{filter:grayscale(1) blur(10px);max-width:128px;max-height:128px}
        .thumb input:checked+img{filter:grayscale(1)}
        .sheet span{display:flex;flex-wrap:wrap;gap:2px}
        .sheet img{max-width:96px;max-height:96px}
        .thumb input:checked+span img{filter:grayscale(1)}
        .thumb input:focus-visible+img,.thumb input:focus-visible+span{outline:2px solid #1b1b1b}
        .thumb input:focus-visible+img{outline:3px solid #005fcc}
        a{color:#005fcc}
        """
}
