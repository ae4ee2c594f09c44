import Testing

/// Asserts an RFC 9457 problem answer: status, media type, members, and optionally the named field.
func expectProblem(
    _ reply: TestWorld.Reply, _ code: Int, field: String? = nil, _ what: String = "",
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(reply.status.code == code, "\(what): expected \(code), got \(reply.status.code) \(reply.text)", sourceLocation: sourceLocation)
    #expect(
        reply.headers[.contentType]?.hasPrefix("application/problem+json") == true,
        "\(what): content-type \(reply.headers[.contentType] ?? "none")", sourceLocation: sourceLocation)
    #expect(reply.json["status"] as? Int == reply.status.code, "\(what): problem status", sourceLocation: sourceLocation)
    #expect(reply.json["title"] is String, "\(what): problem title", sourceLocation: sourceLocation)
    #expect(reply.json["type"] is String, "\(what): problem type", sourceLocation: sourceLocation)
    if let field {
        #expect(
            reply.problemFields.contains(field), "\(what): expected errors[].field \(field), got \(reply.problemFields)",
            sourceLocation: sourceLocation)
    }
}
