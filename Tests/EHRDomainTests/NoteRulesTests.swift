import EHRDomain
import Foundation
import Testing

@Suite("NoteRules: sections")
struct NoteSectionTests {
    @Test(
        "each note type accepts its own section keys",
        arguments: [
            (NoteType.soap, ["subjective", "objective", "assessment", "plan"]),
            (.dap, ["data", "assessment", "plan"]),
            (.birp, ["behavior", "intervention", "response", "plan"]),
            (.progress, ["narrative"]),
            (.intake, ["narrative"]),
        ])
    func sectionKeys(_ type: NoteType, _ keys: [String]) {
        #expect(NoteRules.sectionKeys(for: type) == keys)
    }

    @Test("a note filling every section of its type has no problems", arguments: NoteType.allCases)
    func allKnownSectionsAccepted(_ type: NoteType) {
        let sections = Dictionary(uniqueKeysWithValues: NoteRules.sectionKeys(for: type).map { ($0, "text") })
        #expect(NoteRules.problems(type: type, sections: sections).isEmpty)
    }

    @Test("one non-blank section is enough")
    func oneSectionEnough() {
        #expect(NoteRules.problems(type: .soap, sections: ["plan": "Follow up in two weeks."]).isEmpty)
    }

    @Test(
        "an unknown section key is rejected, naming sections.<key>",
        arguments: [(NoteType.soap, "narrative"), (.dap, "subjective"), (.progress, "plan"), (.birp, "Plan"), (.intake, "notes")])
    func unknownKeyRejected(_ type: NoteType, _ key: String) {
        let problems = NoteRules.problems(type: type, sections: [key: "text"])
        #expect(problems.map(\.field) == ["sections.\(key)"])
    }

    @Test("every unknown key is reported, not just the first")
    func everyUnknownKeyReported() {
        let problems = NoteRules.problems(type: .dap, sections: ["data": "ok", "zeta": "x", "alpha": "y"])
        #expect(Set(problems.map(\.field)) == ["sections.alpha", "sections.zeta"])
    }

    @Test("a section of exactly the maximum length is accepted")
    func maximumLengthAccepted() {
        let text = String(repeating: "a", count: NoteRules.maximumSectionLength)
        #expect(NoteRules.problems(type: .progress, sections: ["narrative": text]).isEmpty)
    }

    @Test("a section one character over the maximum is rejected, naming the section")
    func tooLongRejected() {
        let text = String(repeating: "a", count: NoteRules.maximumSectionLength + 1)
        let problems = NoteRules.problems(type: .soap, sections: ["plan": text, "subjective": "fine"])
        #expect(problems.map(\.field) == ["sections.plan"])
    }

    @Test(
        "a note whose sections are all blank is rejected",
        arguments: [[:], ["narrative": ""], ["narrative": "  \n\t "]] as [[String: String]])
    func allBlankRejected(_ sections: [String: String]) {
        let problems = NoteRules.problems(type: .progress, sections: sections)
        #expect(problems.map(\.field) == ["sections"])
    }

    @Test("blank sections are fine when another has text")
    func blankBesideTextAccepted() {
        #expect(NoteRules.problems(type: .soap, sections: ["subjective": " ", "plan": "Continue CBT."]).isEmpty)
    }
}

@Suite("NoteRules: content hash")
struct NoteHashTests {
    static let signer = UUID()
    static let signedAt = Date(timeIntervalSince1970: 1_750_000_000.123)
    static let note = ClinicalNote(
        tenantID: UUID(), patientID: UUID(), authorID: signer, appointmentID: UUID(), type: .soap,
        sections: ["subjective": "Feels anxious.", "plan": "Weekly sessions."])

    static func hash(_ note: ClinicalNote = note, signedBy: UUID = signer, signedAt: Date = signedAt) -> String {
        NoteRules.contentHash(of: note, signedBy: signedBy, signedAt: signedAt)
    }

    static func hash(sections: [String: String]) -> String {
        var n = note
        n.sections = sections
        return hash(n)
    }

    @Test("the hash is 64 lowercase hex characters")
    func hexFormat() {
        let h = Self.hash()
        #expect(h.count == 64)
        #expect(h.allSatisfy { "0123456789abcdef".contains($0) })
    }

    @Test("the hash is deterministic")
    func deterministic() {
        #expect(Self.hash() == Self.hash())
    }

    @Test("the hash does not depend on how the sections dictionary was built")
    func independentOfDictionaryOrder() {
        var big = [String: String](minimumCapacity: 64)
        for (k, v) in Self.note.sections.sorted(by: { $0.key > $1.key }) { big[k] = v }
        #expect(Self.hash(sections: big) == Self.hash())
    }

    /// Every part of the note the signer attests to.
    enum Change: String, CaseIterable, Sendable {
        case sectionText, sectionAdded, emptySectionAdded, sectionRemoved, sectionRenamed, type, noteID, tenant, patient, author, appointment,
            appointmentRemoved

        func apply(to n: inout ClinicalNote) {
            switch self {
            case .sectionText: n.sections["plan"] = "Weekly sessions!"
            case .sectionAdded: n.sections["objective"] = "Calm."
            case .emptySectionAdded: n.sections["objective"] = ""
            case .sectionRemoved: n.sections["plan"] = nil
            case .sectionRenamed: n.sections = ["subjective": "Feels anxious.", "assessment": "Weekly sessions."]
            case .type: n.type = .dap
            case .noteID: n.id = UUID()
            case .tenant: n.tenantID = UUID()
            case .patient: n.patientID = UUID()
            case .author: n.authorID = UUID()
            case .appointment: n.appointmentID = UUID()
            case .appointmentRemoved: n.appointmentID = nil
            }
        }
    }

    @Test("the hash changes when any attested part of the note changes", arguments: Change.allCases)
    func changesWithContent(_ change: Change) {
        var changed = Self.note
        change.apply(to: &changed)
        #expect(Self.hash(changed) != Self.hash())
    }

    @Test("the hash changes with the signer")
    func changesWithSigner() {
        #expect(Self.hash(signedBy: UUID()) != Self.hash())
    }

    @Test("the hash changes when the signing time moves by one millisecond")
    func changesWithSigningTime() {
        #expect(Self.hash(signedAt: Self.signedAt.addingTimeInterval(0.001)) != Self.hash())
    }

    @Test("the signing time is hashed at millisecond precision, as stored")
    func signingTimeAtMillisecondPrecision() {
        let precise = Date(timeIntervalSince1970: 1_750_000_000.123_4)
        #expect(Self.hash(signedAt: precise) == Self.hash(signedAt: millisecondPrecision(precise)))
    }

    @Test("the hash ignores status and stored signature fields (it hashes what is signed)")
    func ignoresLifecycleFields() {
        var signed = Self.note
        signed.status = .signed
        signed.signedAt = Date()
        signed.signedBy = UUID()
        signed.contentHash = "x"
        #expect(Self.hash(signed) == Self.hash())
    }

    @Test(
        "moving text across a key/value or field boundary changes the hash (length-prefixed encoding)",
        arguments: [
            (["a": "b:c"], ["a:b": "c"]),
            (["a": "bc"], ["ab": "c"]),
            // The second field's encoding smuggled into the first field's text.
            (["a": "b", "c": "d"], ["a": "b11:section:c=d"]),
        ] as [([String: String], [String: String])])
    func lengthPrefixingIsUnambiguous(_ one: [String: String], _ other: [String: String]) {
        #expect(Self.hash(sections: one) != Self.hash(sections: other))
    }
}

@Suite("NoteRules: addendum hash")
struct AddendumHashTests {
    static let noteHash = NoteRules.contentHash(of: NoteHashTests.note, signedBy: NoteHashTests.signer, signedAt: NoteHashTests.signedAt)
    static let addendumID = UUID()
    static let author = UUID()
    static let signedAt = Date(timeIntervalSince1970: 1_760_000_000.5)

    static func hash(noteHash: String = noteHash, id: UUID = addendumID, author: UUID = author, text: String = "Correction: dose is 20mg.", at: Date = signedAt)
        -> String
    {
        NoteRules.addendumHash(noteHash: noteHash, addendumID: id, authorID: author, text: text, signedAt: at)
    }

    @Test("the addendum hash is deterministic, 64 lowercase hex characters")
    func deterministicHex() {
        #expect(Self.hash() == Self.hash())
        #expect(Self.hash().count == 64)
        #expect(Self.hash().allSatisfy { "0123456789abcdef".contains($0) })
    }

    @Test("the addendum hash chains to the note's hash")
    func chainsToNoteHash() {
        var otherNote = NoteHashTests.note
        otherNote.sections["plan"] = "Biweekly sessions."
        let otherNoteHash = NoteRules.contentHash(of: otherNote, signedBy: NoteHashTests.signer, signedAt: NoteHashTests.signedAt)
        #expect(Self.hash(noteHash: otherNoteHash) != Self.hash())
    }

    @Test("the addendum hash changes with its id, author, text and signing time")
    func changesWithEachField() {
        let base = Self.hash()
        #expect(Self.hash(id: UUID()) != base)
        #expect(Self.hash(author: UUID()) != base)
        #expect(Self.hash(text: "Correction: dose is 25mg.") != base)
        #expect(Self.hash(at: Self.signedAt.addingTimeInterval(0.001)) != base)
    }

    @Test("an addendum hash differs from the note hash it chains to")
    func differsFromNoteHash() {
        #expect(Self.hash() != Self.noteHash)
    }
}
