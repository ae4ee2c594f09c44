import EHRAPI
import Foundation
import HTTPTypes
import NIOCore
@_spi(Generated) import OpenAPIRuntime
import Testing

@testable import EHRServer

/// ``NoteJSON`` must write exactly what the generated `Note` writes through the server's own configuration.
@Suite("Note JSON")
struct NoteJSONTests {
    private func generated(_ note: Components.Schemas.Note) async throws -> String {
        var headers = HTTPFields()
        let body = try Converter(configuration: APIHandler.configuration).setResponseBodyAsJSON(
            note, headerFields: &headers, contentType: "application/json; charset=utf-8")
        return try await String(collecting: body, upTo: 1 << 20)
    }

    private static let awkward = [
        "", "plain", "quote \" backslash \\ slash / end", "tab\tnew\nline\rcr", "ünïcödé ☂︎ 🧠 こんにちは", "\u{7F}\u{2028}\u{2029}",
        String(decoding: (0..<0x20).map { UInt8($0) }, as: UTF8.self),
    ]

    private static func note(
        sections: [String: String]?, appointment: Bool = false, signed: Bool = false, voided: Bool = false,
        addenda: [Components.Schemas.Addendum] = [], reason: String = "entered in error"
    ) -> Components.Schemas.Note {
        let id = { UUID().uuidString.lowercased() }
        return Components.Schemas.Note(
            id: id(), tenantId: id(), patientId: id(), appointmentId: appointment ? id() : nil, authorId: id(), _type: .soap,
            sections: sections.map { .init(additionalProperties: $0) }, status: voided ? .voided : signed ? .signed : .draft,
            signedAt: signed ? Date(timeIntervalSince1970: 1_796_115_507.408) : nil, signedBy: signed ? id() : nil,
            contentHash: signed ? String(repeating: "ab", count: 32) : nil, voidedAt: voided ? Date(timeIntervalSince1970: 1_796_200_000) : nil,
            voidReason: voided ? reason : nil, addenda: addenda, createdAt: Date(timeIntervalSince1970: 1_796_000_000.001),
            updatedAt: Date(timeIntervalSince1970: 1_796_100_000.999))
    }

    private static func addendum(_ text: String?) -> Components.Schemas.Addendum {
        .init(
            id: UUID().uuidString.lowercased(), noteId: UUID().uuidString.lowercased(), authorId: UUID().uuidString.lowercased(), text: text,
            signedAt: Date(timeIntervalSince1970: 1_796_300_000.5), contentHash: String(repeating: "0f", count: 32))
    }

    @Test func sameBytesAsTheGeneratedEncoder() async throws {
        let soap = ["subjective": "Reports steady mood this week.", "plan": "Continue weekly sessions.", "objective": "Calm", "assessment": "Stable"]
        let notes = [
            Self.note(sections: soap), Self.note(sections: ["narrative": "x"], appointment: true),
            Self.note(sections: soap, appointment: true, signed: true, addenda: [Self.addendum("Later: called the client."), Self.addendum(nil)]),
            Self.note(sections: nil, signed: true, addenda: [Self.addendum(nil)]), Self.note(sections: [:]),
            Self.note(sections: soap, signed: true, voided: true, reason: "wrong patient / \"duplicate\""), Self.note(sections: nil, voided: true),
        ]
        for note in notes {
            let written = String(buffer: try #require(NoteJSON.encode(note)))
            let expected = try await generated(note)
            #expect(written == expected)
        }
    }

    @Test func sameBytesOnAwkwardText() async throws {
        for text in Self.awkward {
            let note = Self.note(
                sections: ["subjective": text, "plan": text + "!"], appointment: true, signed: true, voided: true,
                addenda: [Self.addendum(text)], reason: text)
            let written = String(buffer: try #require(NoteJSON.encode(note)))
            let expected = try await generated(note)
            #expect(written == expected, "\(text.debugDescription)")
        }
    }

    /// Keys Foundation might order otherwise than byte order (capitals, digits, punctuation) are left to it.
    @Test func leavesOtherSectionKeysToTheGeneratedEncoder() {
        for key in ["Plan", "plan2", "a_b", "", "é", "PLAN"] {
            #expect(NoteJSON.encode(Self.note(sections: ["plan": "x", key: "y"])) == nil, "\(key)")
        }
    }

    /// Random notes: every optional present or not, texts from the awkward ones, up to nine sections.
    @Test func randomNotesEncodeAlike() async throws {
        let keys = ["subjective", "objective", "assessment", "plan", "data", "behavior", "intervention", "response", "narrative"]
        var random = SystemRandomNumberGenerator()
        for _ in 0..<300 {
            let sections = Dictionary(
                uniqueKeysWithValues: keys.shuffled(using: &random).prefix(Int.random(in: 0...9, using: &random)).map {
                    ($0, Self.awkward.randomElement(using: &random)!)
                })
            let addenda = (0..<Int.random(in: 0...3, using: &random)).map { _ in
                Self.addendum(Bool.random(using: &random) ? Self.awkward.randomElement(using: &random)! : nil)
            }
            let note = Self.note(
                sections: Bool.random(using: &random) ? sections : nil, appointment: .random(using: &random), signed: .random(using: &random),
                voided: .random(using: &random), addenda: addenda, reason: Self.awkward.randomElement(using: &random)!)
            let written = String(buffer: try #require(NoteJSON.encode(note)))
            let expected = try await generated(note)
            #expect(written == expected)
        }
    }
}
