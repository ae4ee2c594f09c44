import EHRAPI
import Foundation
import OpenAPIRuntime

extension APIHandler {
    func getHealth(_ input: Operations.GetHealth.Input) async throws -> Operations.GetHealth.Output {
        .ok(.init(body: .json(.init(status: "ok"))))
    }

    func getReady(_ input: Operations.GetReady.Input) async throws -> Operations.GetReady.Output {
        if await services.database.ping() {
            return .ok(.init(body: .json(.init(status: "ready", database: "reachable"))))
        }
        return .serviceUnavailable(.init(body: .json(.init(status: "unavailable", database: "unreachable"))))
    }

    func getJWKS(_ input: Operations.GetJWKS.Input) async throws -> Operations.GetJWKS.Output {
        let (x, y) = services.tokens.jwk
        let key = Components.Schemas.Jwk(kty: "EC", crv: "P-256", x: x, y: y, kid: services.tokens.keyID, alg: TokenService.algorithm, use: "sig")
        return .ok(.init(body: .json(.init(keys: [key]))))
    }

    func getOpenAPIDocument(_ input: Operations.GetOpenAPIDocument.Input) async throws -> Operations.GetOpenAPIDocument.Output {
        .ok(.init(body: .yaml(HTTPBody(OpenAPIDocument.bytes))))
    }
}

/// The contract itself, bundled with `EHRAPI` and served at `/openapi.yaml`.
enum OpenAPIDocument {
    static let bytes: [UInt8] = APIContract.document.map(Array.init) ?? Array("openapi document not bundled\n".utf8)
}
