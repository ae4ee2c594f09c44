import Foundation
import HTTPTypes
import NIOCore

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// HTTP over a pool of connections with a 120-second timeout, so that requests sent at once run eight at a time (as many as
/// connections), without a deadline that a busy two-core machine running the rest of the suite would miss.
struct ConcurrentClient: Sendable {
    let port: Int
    let session: URLSession

    init(port: Int) {
        self.port = port
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpMaximumConnectionsPerHost = 8
        configuration.timeoutIntervalForRequest = 120
        configuration.timeoutIntervalForResource = 120
        configuration.httpShouldSetCookies = false
        configuration.urlCache = nil
        session = URLSession(configuration: configuration)
    }

    func send(_ method: HTTPRequest.Method, _ path: String, headers: HTTPFields, body: ByteBuffer?) async throws -> TestWorld.Reply {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method.rawValue
        for field in headers { request.addValue(field.value, forHTTPHeaderField: field.name.rawName) }
        if let body { request.httpBody = Data(buffer: body) }
        let (data, response) = try await session.data(for: request)
        let http = response as! HTTPURLResponse
        var fields = HTTPFields()
        for (name, value) in http.allHeaderFields {
            if let name = name as? String, let value = value as? String, let key = HTTPField.Name(name) { fields.append(HTTPField(name: key, value: value)) }
        }
        return TestWorld.Reply(status: HTTPResponse.Status(code: http.statusCode), headers: fields, body: ByteBuffer(data: data))
    }
}
