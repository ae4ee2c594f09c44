import EHRAPI
import HTTPTypes
import NIOCore
// The generated code's own serializer, for the answers NoteJSON leaves to it (so they are the generated ones).
@_spi(Generated) import OpenAPIRuntime

/// Registers the generated routes on `base`, except that the two busiest operations first try a direct reading of
/// their input and a direct writing of their answer: the appointment list (a therapist's busiest read), whose
/// generated code decodes each of its eight parameters by parsing the whole query string again (4% of the server's
/// CPU under `bench/profile`), and note creation (the busiest write), whose body and answer went through
/// Foundation's JSON coders (about 6% of its samples per note). The direct readings accept only input whose meaning is beyond
/// doubt (``ListAppointmentsQuery``, ``CreateNoteBody``) and then call the same handler the generated code calls,
/// under the same middleware; anything else takes the generated path. Errors are the handler's own, answered by
/// the same middleware as the generated route's.
final class HotRouteTransport: ServerTransport {
    let base: any ServerTransport
    let handler: APIHandler
    /// Whether the two routes went through here (``buildRouter(services:)`` refuses to start without them).
    private(set) var wrappedList = false
    private(set) var wrappedNoteCreation = false
    /// The contract's path of the list (the generated code registers it under this name).
    static let listAppointmentsPath = "/api/v1/appointments"
    /// The contract's path of note creation.
    static let createNotePath = "/api/v1/notes"

    init(base: any ServerTransport, handler: APIHandler) {
        self.base = base
        self.handler = handler
    }

    func register(
        _ generated: @Sendable @escaping (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?),
        method: HTTPRequest.Method, path: String
    ) throws {
        let handler = self.handler
        switch (method, path) {
        case (.get, Self.listAppointmentsPath):
            wrappedList = true
            try base.register(
                { request, body, metadata in
                    // The page goes out through HotListBody (NullCursorMiddleware); without one, the generated path answers.
                    guard HotListBody.current != nil, Self.acceptsJSON(request.headerFields), let query = ListAppointmentsQuery.parse(request.path)
                    else { return try await generated(request, body, metadata) }
                    _ = try await handler.listAppointments(.init(query: query))
                    return (HTTPResponse(status: .ok, headerFields: [.contentType: "application/json; charset=utf-8"]), nil)
                }, method: method, path: path)
        case (.post, Self.createNotePath):
            wrappedNoteCreation = true
            try base.register(
                { request, body, metadata in
                    guard let body, Self.sendsPlainJSON(request.headerFields), Self.acceptsJSON(request.headerFields) else {
                        return try await generated(request, body, metadata)
                    }
                    // BodyLimitMiddleware has read and limited the body already; a body read here is handed on whole.
                    let bytes = try await ArraySlice<UInt8>(collecting: body, upTo: RequestLimits.maximumBodySize)
                    guard let input = bytes.withUnsafeBytes(CreateNoteBody.parse) else {
                        return try await generated(request, HTTPBody(bytes), metadata)
                    }
                    return try await Self.created(try await handler.createdNote(input))
                }, method: method, path: path)
        default:
            try base.register(generated, method: method, path: path)
        }
    }

    /// One Content-Type, JSON as the contract's clients write it: `application/json`, or with the UTF-8 charset the
    /// generated client (and so the phone app) adds. Any other is the generated code's to judge.
    static func sendsPlainJSON(_ fields: HTTPFields) -> Bool {
        let types = fields[values: .contentType]
        return types.count == 1 && (types[0] == "application/json" || types[0] == "application/json; charset=utf-8")
    }

    /// No Accept header, or only forms that plainly take JSON; any other Accept is the generated code's to judge.
    static func acceptsJSON(_ fields: HTTPFields) -> Bool {
        fields[values: .accept].allSatisfy { $0 == "application/json" || $0 == "*/*" }
    }

    /// The generated code's answer to a created note: 201 with the note as JSON (``NoteJSON``, or the generated
    /// encoder for the rare note it leaves to it).
    static func created(_ note: Components.Schemas.Note) async throws -> (HTTPResponse, HTTPBody?) {
        var headers: HTTPFields = [:]
        let contentType = "application/json; charset=utf-8"
        let body: HTTPBody
        if let json = NoteJSON.encode(note) {
            headers[.contentType] = contentType
            body = HTTPBody(json.readableBytesView)
        } else {
            body = try Converter(configuration: APIHandler.configuration).setResponseBodyAsJSON(note, headerFields: &headers, contentType: contentType)
        }
        return (HTTPResponse(status: .created, headerFields: headers), body)
    }
}
