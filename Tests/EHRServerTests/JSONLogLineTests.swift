import Foundation
import Logging
import NIOConcurrencyHelpers
import Testing

@testable import EHRServer

/// The production log's lines are written by hand: each must read back, with `JSONSerialization`, as exactly the
/// fields it was given, keys in order, and a request line is byte for byte what `JSONSerialization` wrote before.
@Suite("JSON log lines")
struct JSONLogLineTests {
    @Test func aRequestLineIsWhatJSONSerializationWrote() throws {
        let fields = [
            "http.method": "GET", "http.route": "/api/v1/appointments", "http.status": "200", "duration_ms": "3.07",
            "request.id": "a0d49755796689b2ce3519395bdd1993", "tenant.id": UUID().uuidString.lowercased(), "time": "2026-12-03T08:37:12.626Z",
            "level": "info", "label": "ehr.serve", "message": "request", "source": "EHRServer",
        ]
        let before = String(decoding: try JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys]), as: UTF8.self)
        #expect(JSONLogHandler.line(fields) == before)
    }

    @Test func randomFieldsReadBackExactly() throws {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("aZ09._-/ \"\\\n\t\u{01}\u{1F}\u{7F}é☂🧠\u{2028}".unicodeScalars)
        func text() -> String {
            var value = String.UnicodeScalarView()
            for _ in 0..<Int.random(in: 0...12, using: &generator) { value.append(alphabet.randomElement(using: &generator)!) }
            return String(value)
        }
        for _ in 0..<1000 {
            var fields: [String: String] = [:]
            for _ in 0..<Int.random(in: 0...8, using: &generator) { fields[text()] = text() }
            let line = JSONLogHandler.line(fields)
            #expect(!line.contains("\n"))
            let read = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String], "\(line)")
            #expect(read == fields, "\(line)")
        }
    }

    @Test func laterFieldsReplaceEarlierOnesAsInADictionaryFilledInTurn() throws {
        var generator = SystemRandomNumberGenerator()
        let keys = ["a", "b", "B", "a.b", "_", "time", "level", "message"]
        for _ in 0..<500 {
            var fields: [(key: String, value: String)] = []
            var filled: [String: String] = [:]
            for _ in 0..<Int.random(in: 0...14, using: &generator) {
                let key = keys.randomElement(using: &generator)!
                let value = String(Int.random(in: 0...999, using: &generator))
                fields.append((key, value))
                filled[key] = value
            }
            let line = JSONLogHandler.line(fields)
            #expect(line == JSONLogHandler.line(filled), "\(fields)")
            let read = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String], "\(line)")
            #expect(read == filled, "\(line)")
            #expect(line.components(separatedBy: "\":\"").count - 1 == filled.count, "each key once: \(line)")
        }
    }

    @Test func theHandlerWritesMetadataErrorTypeAndTime() throws {
        struct Failure: Error {}
        let lines = NIOLockedValueBox<[String]>([])
        var handler = JSONLogHandler(label: "ehr.test", level: .info) { line in lines.withLockedValue { $0.append(line) } }
        handler[metadataKey: "request.id"] = "r-1"
        handler[metadataKey: "level"] = "overridden by the event's level"
        let before = Date()
        handler.log(
            event: LogEvent(
                level: .error, message: "went wrong", error: Failure(), metadata: ["request.id": "r-2", "count": .stringConvertible(3)],
                source: "EHRServer", file: #file, function: #function, line: #line))
        let line = try #require(lines.withLockedValue { $0.first })
        let fields = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(fields["request.id"] == "r-2" && fields["count"] == "3" && fields["level"] == "error" && fields["message"] == "went wrong")
        #expect(fields["error.type"] == "Failure" && fields["label"] == "ehr.test" && fields["source"] == "EHRServer")
        let time = try #require(fields["time"].flatMap { try? Date($0, strategy: .iso8601) })
        #expect(abs(time.timeIntervalSince(before)) < 5)
    }

    @Test func linesReachTheDescriptorWholeAndAClosedOneIsNoCrash() throws {
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        let line = Array(String(repeating: "é", count: 3_000).utf8) + [UInt8(ascii: "\n")]
        JSONLogHandler.writeAll(line, to: ends[1])
        close(ends[1])
        var read: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4_096)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(ends[0], $0.baseAddress, $0.count) }
            if count <= 0 { break }
            read += chunk[..<count]
        }
        close(ends[0])
        #expect(read == line)
        JSONLogHandler.writeAll(line, to: ends[1])  // closed now: the line is dropped, the process goes on
    }
}
