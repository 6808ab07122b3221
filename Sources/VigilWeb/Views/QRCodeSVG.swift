import CQRencode
import Foundation

/// Renders text as a QR code in SVG using libqrencode (error correction M, UTF-8 8-bit mode).
enum QRCodeSVG {
    /// An SVG element; nil if libqrencode cannot encode the text.
    static func render(_ text: String, moduleSize: Int = 6, quietZone: Int = 4) -> String? {
        guard let code = QRcode_encodeString8bit(text, 0, QR_ECLEVEL_M) else { return nil }
        defer { QRcode_free(code) }
        let width = Int(code.pointee.width)
        let data = code.pointee.data!
        let total = (width + 2 * quietZone) * moduleSize
        var path = ""
        path.reserveCapacity(width * width * 8)
        for y in 0..<width {
            for x in 0..<width where data[y * width + x] & 1 == 1 {
                path +=
                    "M\((x + quietZone) * moduleSize) \((y + quietZone) * moduleSize)h\(moduleSize)v\(moduleSize)h-\(moduleSize)z"
            }
        }
        return """
            <svg xmlns="http://www.w3.org/2000/svg" class="qr" role="img" aria-label="QR code for your authenticator app" \
            viewBox="0 0 \(total) \(total)" width="\(total)" height="\(total)" shape-rendering="crispEdges">\
            <rect width="100%" height="100%" fill="#fff"/><path fill="#000" d="\(path)"/></svg>
            """
    }
}
