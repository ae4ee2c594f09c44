import EHRAPI
import Foundation
import HTTPTypes

@testable import EHRServer

/// The operations `openapi.yaml` declares, read from its text (paths at two spaces, methods at four).
struct ContractOperations {
    struct Operation {
        var method: HTTPRequest.Method
        var template: String
        var isPublic: Bool
        var isList: Bool
        var bodyRequired = false
        var key: String { "\(method.rawValue) \(template)" }
    }

    static func parse() throws -> [Operation] {
        let yaml = String(decoding: APIContract.document ?? Data(), as: UTF8.self)
        var operations: [Operation] = []
        var path: String?
        var inOperation = false
        var inRequestBody = false
        func indent(_ line: Substring) -> Int { line.prefix { $0 == " " }.count }
        for line in yaml.split(separator: "\n", omittingEmptySubsequences: false) where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            let depth = indent(line)
            if depth == 2 || depth == 0 {
                path = depth == 2 && line.hasPrefix("  /") && line.hasSuffix(":") ? String(line.dropFirst(2).dropLast()) : nil
                inOperation = false
            } else if depth == 4 {
                let method = ["get", "post", "patch", "put", "delete"].first { line == "    \($0):" }
                inOperation = method != nil && path != nil
                inRequestBody = false
                if let method, let path {
                    operations.append(Operation(method: HTTPRequest.Method(method.uppercased())!, template: path, isPublic: false, isList: false))
                }
            } else if inOperation {
                if line == "      security: []" { operations[operations.count - 1].isPublic = true }
                if line.contains("#/components/parameters/Cursor'") { operations[operations.count - 1].isList = true }
                if depth == 6 { inRequestBody = line == "      requestBody:" }
                if inRequestBody, line == "        required: true" { operations[operations.count - 1].bodyRequired = true }
            }
        }
        return operations
    }
}

extension APIOperations {
    /// The operation a concrete path and method is (a test-side matcher: `{id}` matches any one segment).
    static func matching(_ method: HTTPRequest.Method, _ path: String) -> APIOperation? {
        let segments = path.split(separator: "/")
        return all.first { operation in
            let template = operation.template.split(separator: "/")
            return operation.method == method && template.count == segments.count
                && zip(template, segments).allSatisfy { $0 == "{id}" || $0 == $1 }
        }
    }
}
