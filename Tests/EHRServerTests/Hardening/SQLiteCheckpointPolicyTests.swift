import Testing

@testable import EHRServer

/// A reader that holds up a restarting checkpoint makes the next passes copy without waiting, for the back-off
/// only; a whole copy keeps the checkpoint restarting.
@Suite("SQLite checkpoint policy") struct SQLiteCheckpointPolicyTests {
    @Test func restartsUntilAReaderHoldsAPassUp() {
        var policy = SQLiteCheckpointPolicy(backOff: .seconds(10))
        let start = ContinuousClock.now
        #expect(policy.restarts(at: start))
        policy.record((logFrames: 500, checkpointedFrames: 500), at: start)
        #expect(policy.restarts(at: start + .seconds(1)))
        policy.record((logFrames: 0, checkpointedFrames: 0), at: start + .seconds(1))
        #expect(policy.restarts(at: start + .seconds(2)))
    }

    @Test func backsOffAfterAPassAReaderHeldUp() {
        var policy = SQLiteCheckpointPolicy(backOff: .seconds(10))
        let start = ContinuousClock.now
        policy.record((logFrames: 500, checkpointedFrames: 120), at: start)
        #expect(!policy.restarts(at: start + .seconds(1)))
        #expect(!policy.restarts(at: start + .milliseconds(9_999)))
        #expect(policy.restarts(at: start + .seconds(10)))
        // Held up again: another back-off from then; a whole copy ends it.
        policy.record((logFrames: 800, checkpointedFrames: 790), at: start + .seconds(10))
        #expect(!policy.restarts(at: start + .seconds(15)))
        #expect(policy.restarts(at: start + .seconds(20)))
        policy.record((logFrames: 800, checkpointedFrames: 800), at: start + .seconds(20))
        #expect(policy.restarts(at: start + .seconds(21)))
    }
}
