import Foundation
import VigilCore

/// The texts the application ships: the translation files every face (web pages, e-mails) reads.
public enum AppResources {
    /// Where the shipped translations are: `VIGIL_RESOURCES/Translations` when the packager set that folder, else
    /// this module's bundle.
    public static var translationsDirectory: String {
        if let override = ProcessInfo.processInfo.environment["VIGIL_RESOURCES"], !override.isEmpty {
            return (override.hasSuffix("/") ? override : override + "/") + "Translations"
        }
        // On Linux the bundle is a plain folder; `resourcePath` may already point inside it.
        for base in [Bundle.module.bundlePath, Bundle.module.resourcePath].compactMap({ $0 }) {
            for candidate in [base + "/Resources/Translations", base + "/Translations"]
            where FileManager.default.fileExists(atPath: candidate + "/en.strings") {
                return candidate
            }
        }
        return Bundle.module.bundlePath + "/Resources/Translations"
    }

    /// The shipped texts, then the operator's `DATA_DIR/translations/` (which may add languages or reword).
    public static func catalog(_ configuration: VigilConfiguration) throws -> Catalog {
        try Catalog.load(
            directories: [
                translationsDirectory, (configuration.dataDirectory as NSString).appendingPathComponent("translations"),
            ].filter { FileManager.default.fileExists(atPath: $0) })
    }
}
