import Foundation
@_exported import OpenAPIRuntime

/// The API contract itself, as shipped with the library.
public enum APIContract {
    /// The bytes of `openapi.yaml`, the single source the server and client are generated from.
    public static let document: Data? = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml") else { return nil }
        return try? Data(contentsOf: url)
    }()
}
