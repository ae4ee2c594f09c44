import EHRSecurity
import Foundation

/// 256-bit secrets (the master key, the audit key) given as base64 in the environment or a file; in
/// development only, generated on first run into `<data>/keys/<name>` with mode 0600 and reused.
enum SecretKeyFiles {
    /// The base64 text of the secret named by `variable` (or `<variable>_FILE`), else the development file.
    /// - Throws: ``ConfigurationError`` when production lacks the secret or a file cannot be read or written.
    static func load(
        variable: String, fileName: String, env: [String: String], environment: AppConfiguration.Environment,
        dataDirectory: String
    ) throws -> String {
        // Secret managers and shells often add a trailing newline; a key never contains whitespace.
        if let value = env[variable]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty { return value }
        if let path = env[variable + "_FILE"], !path.isEmpty {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ConfigurationError.invalid(variable + "_FILE", "cannot be read")
            }
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard environment == .development else {
            throw ConfigurationError.missing("\(variable) or \(variable)_FILE", "production never generates its own keys")
        }
        let folder = URL(fileURLWithPath: dataDirectory).appendingPathComponent("keys")
        let file = folder.appendingPathComponent(fileName)
        if let existing = try? String(contentsOf: file, encoding: .utf8) {
            return existing.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let generated = LocalKeyProvider.generateMasterKeyBase64()
        // Created 0600 before anything is written, so the key is never readable by others.
        guard FileManager.default.createFile(atPath: file.path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw ConfigurationError.invalid("EHR_DATA_DIR", "is not writable (cannot store the generated \(fileName))")
        }
        try Data((generated + "\n").utf8).write(to: file)
        return generated
    }
}
