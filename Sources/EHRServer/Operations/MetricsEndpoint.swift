import Foundation
import HTTPTypes
import Hummingbird

/// `GET /metrics`: Prometheus text format. With a token configured (always in production) the caller must
/// send it as a bearer token; the comparison takes the same time whatever the token.
enum MetricsEndpoint {
    static func respond(_ request: Request, token: String?) throws -> Response {
        if let token {
            let given = request.headers[.authorization].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil } ?? ""
            guard Secrets.constantTimeEquals(token, given) else {
                var response = ProblemError(.unauthenticated("send Authorization: Bearer <metrics token>")).response(instance: "/metrics")
                response.headers[.wwwAuthenticate] = "Bearer"
                return response
            }
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: EHRMetrics.exposition())))
    }
}
