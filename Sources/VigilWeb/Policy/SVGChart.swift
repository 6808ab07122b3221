import Foundation
import VigilCore

/// Horizontal bar charts drawn on the server as SVG: no script, every label escaped, each bar's number written at
/// its end in the same format as the table beside the chart and the CSV download.
enum SVGChart {
    static let palette = ["#1f5fa8", "#d9822b", "#2e8540", "#8c4799", "#b8412a"]

    /// The chart of `table`, with `rowLabels` and `columnTitles` already translated.
    static func bars(_ table: FigureTable, title: String, rowLabels: [String], columnTitles: [String]) -> String {
        let labelWidth = 200.0, barArea = 380.0, valueWidth = 60.0
        let width = labelWidth + barArea + valueWidth
        let barHeight = 14.0, gap = 2.0, groupGap = 10.0
        let columns = table.columns.count
        let legendHeight = columns > 1 ? 22.0 : 0
        let groupHeight = Double(columns) * (barHeight + gap) - gap
        let height = legendHeight + Double(table.rows.count) * (groupHeight + groupGap) + 4
        let maximum = max(table.maximum, table.unit == .percent ? 100 : 1)
        var s =
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" role=\"img\" viewBox=\"0 0 \(fmt(width)) \(fmt(height))\""
            + " width=\"100%\" preserveAspectRatio=\"xMinYMin meet\" direction=\"ltr\" aria-label=\"\(esc(title))\">"
        s += "<title>\(esc(title))</title>"
        if columns > 1 {
            var x = labelWidth
            for (i, t) in columnTitles.enumerated() {
                s += "<rect x=\"\(fmt(x))\" y=\"4\" width=\"12\" height=\"12\" fill=\"\(palette[i % palette.count])\"/>"
                s += "<text x=\"\(fmt(x + 16))\" y=\"14\" font-size=\"12\">\(esc(t))</text>"
                x += 20 + Double(t.count) * 7.5
            }
        }
        for (r, row) in table.rows.enumerated() {
            let y0 = legendHeight + Double(r) * (groupHeight + groupGap)
            let label = r < rowLabels.count ? rowLabels[r] : row.label
            s +=
                "<text class=\"label\" x=\"\(fmt(labelWidth - 6))\" y=\"\(fmt(y0 + groupHeight / 2 + 4))\" text-anchor=\"end\" font-size=\"11\">\(esc(truncate(label)))</text>"
            for (c, v) in row.values.enumerated() {
                let y = y0 + Double(c) * (barHeight + gap)
                let w = maximum > 0 ? max(0, v) / maximum * barArea : 0
                let shown = table.unit.format(v)
                s +=
                    "<rect x=\"\(fmt(labelWidth))\" y=\"\(fmt(y))\" width=\"\(fmt(w))\" height=\"\(fmt(barHeight))\" fill=\"\(palette[c % palette.count])\" data-value=\"\(shown)\"/>"
                s +=
                    "<text class=\"value\" x=\"\(fmt(labelWidth + w + 4))\" y=\"\(fmt(y + barHeight - 3))\" font-size=\"11\">\(shown)</text>"
            }
        }
        return s + "</svg>"
    }

    static func truncate(_ s: String) -> String { s.count > 30 ? String(s.prefix(29)) + "…" : s }
    static func fmt(_ v: Double) -> String { String(format: "%.1f", v) }
    static func esc(_ s: String) -> String { SafeMarkdown.escape(s) }
}
