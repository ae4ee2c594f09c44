import Foundation
import HTTPTypes
import Testing

@testable import EHRServer

/// Executes every request of the Postman collection, in order, against the running service: variables,
/// bearer tokens and saved ids as Postman would, and each request's expected status from its test script.
@Suite("Postman collection", .serialized)
struct PostmanCollectionTests {
    struct Step {
        let name: String
        let method: HTTPRequest.Method
        let url: String
        let headers: [(String, String)]
        let body: String?
        let expectedStatus: Int
        let saves: [(variable: String, path: String)]
    }

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The collection's requests in run order (folders flattened).
    static func steps() throws -> [Step] {
        let data = try Data(contentsOf: root.appendingPathComponent("postman/mentalspace-ehr.postman_collection.json"))
        let collection = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect((collection["info"] as? [String: Any])?["schema"] as? String == "https://schema.getpostman.com/json/collection/v2.1.0/collection.json")
        var steps: [Step] = []
        func walk(_ items: [[String: Any]]) throws {
            for item in items {
                if let children = item["item"] as? [[String: Any]] {
                    try walk(children)
                    continue
                }
                let name = item["name"] as? String ?? "?"
                let request = try #require(item["request"] as? [String: Any], "\(name)")
                let script = ((item["event"] as? [[String: Any]])?.first?["script"] as? [String: Any])?["exec"] as? [String] ?? []
                let lines = script.joined(separator: "\n")
                let status = try #require(lines.firstMatch(of: /to\.have\.status\((\d+)\)/).flatMap { Int($0.1) }, "\(name): no expected status")
                let saves = lines.matches(of: /pm\.environment\.set\("(\w+)", pm\.response\.json\(\)\.([\w\[\]\.]+)\)/).map { (String($0.1), String($0.2)) }
                let headers = (request["header"] as? [[String: Any]] ?? []).compactMap { h in
                    (h["key"] as? String).flatMap { key in (h["value"] as? String).map { (key, $0) } }
                }
                steps.append(
                    Step(
                        name: name, method: HTTPRequest.Method(rawValue: try #require(request["method"] as? String))!,
                        url: try #require((request["url"] as? [String: Any])?["raw"] as? String), headers: headers,
                        body: (request["body"] as? [String: Any])?["raw"] as? String, expectedStatus: status, saves: saves))
            }
        }
        try walk(try #require(collection["item"] as? [[String: Any]]))
        return steps
    }

    static func environment() throws -> [String: String] {
        let data = try Data(contentsOf: root.appendingPathComponent("postman/local.postman_environment.json"))
        let env = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        var values: [String: String] = [:]
        for entry in env["values"] as? [[String: Any]] ?? [] {
            if let key = entry["key"] as? String, let value = entry["value"] as? String { values[key] = value }
        }
        return values
    }

    static func substitute(_ text: String, _ variables: [String: String]) throws -> String {
        var result = text
        for match in text.matches(of: /\{\{(\w+)\}\}/) {
            let value = try #require(variables[String(match.1)], "unset variable \(match.1)")
            result = result.replacingOccurrences(of: String(match.0), with: value)
        }
        return result
    }

    /// `items[0].id`, `user.id`, `accessToken` in a JSON answer.
    static func value(at path: String, in json: Any) -> String? {
        var current: Any? = json
        for part in path.split(separator: ".") {
            var key = String(part)
            var index: Int?
            if let match = key.firstMatch(of: /^(\w+)\[(\d+)\]$/) {
                key = String(match.1)
                index = Int(match.2)
            }
            current = (current as? [String: Any])?[key]
            if let index { current = (current as? [Any]).flatMap { index < $0.count ? $0[index] : nil } }
        }
        return current as? String
    }

    @Test(arguments: TestBackend.all)
    func everyRequestAnswersAsTheCollectionExpects(_ backend: TestBackend) async throws {
        let steps = try Self.steps()
        #expect(steps.count >= 15)
        try await withWorld(backend) { world in
            var variables = try Self.environment()
            let baseURL = try #require(variables["baseUrl"])
            for step in steps {
                let url = try Self.substitute(step.url, variables)
                let path = String(try #require(url.hasPrefix(baseURL) ? url.dropFirst(baseURL.count) : nil, "\(step.name): not under baseUrl"))
                var token: String?
                for (key, value) in step.headers where key.lowercased() == "authorization" {
                    token = try Self.substitute(value, variables).replacingOccurrences(of: "Bearer ", with: "")
                }
                let reply = try await world.call(step.method, path, token: token, raw: try step.body.map { try Self.substitute($0, variables) })
                try #require(
                    Int(reply.status.code) == step.expectedStatus,
                    "\(step.name): \(reply.status.code), expected \(step.expectedStatus): \(reply.text.prefix(300))")
                let json: Any = (try? JSONSerialization.jsonObject(with: Data(buffer: reply.body))) ?? [:]
                for save in step.saves {
                    guard let saved = Self.value(at: save.path, in: json) else {
                        Issue.record("\(step.name): no \(save.path) in the answer")
                        return
                    }
                    variables[save.variable] = saved
                }
            }
            print("postman collection (\(backend.testDescription)): \(steps.count) requests, each answered with its expected status")
        }
    }
}
