import FluentKit
import VigilCore

/// TOTP secrets were stored in clear beside the password hashes; from here on they are sealed with the data
/// folder's key (``TOTPSecretStorage``). This encrypts the rows written before; reverting decrypts them.
struct EncryptTOTPSecrets: AsyncMigration {
    var name: String { "0016_EncryptTOTPSecrets" }
    let secrets: ContactSealer

    func prepare(on database: any Database) async throws {
        for user in try await UserModel.query(on: database).filter(\.$totpSecret != nil).all() {
            guard let stored = user.totpSecret, !TOTPSecretStorage.isSealed(stored), let id = user.id else { continue }
            user.totpSecret = try TOTPSecretStorage.seal(stored, userID: id, with: secrets)
            try await user.update(on: database)
        }
    }

    func revert(on database: any Database) async throws {
        for user in try await UserModel.query(on: database).filter(\.$totpSecret != nil).all() {
            guard let stored = user.totpSecret, let id = user.id else { continue }
            user.totpSecret = try TOTPSecretStorage.open(stored, userID: id, with: secrets)
            try await user.update(on: database)
        }
    }
}
