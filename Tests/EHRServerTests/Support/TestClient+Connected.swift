import HummingbirdTesting

extension TestClientProtocol {
    /// Returns once the live test client's connection is open, by sending it one request (`GET /health`: no
    /// database, no audit event).
    ///
    /// HummingbirdTesting's live client starts connecting in the background. When the test ends before that
    /// connection completes (a body that sends no request through the client), its shutdown fails the pending
    /// connection instead of closing it; the connection then opens anyway, is never closed, and the server's graceful
    /// shutdown waits for it forever. Two worlds of `DatabaseErrorCodeTests` hung the full suite that way (about one
    /// run in 75 of that suite while the whole suite ran beside it; a CI run hit it and was stopped at its time limit).
    func waitUntilConnected() async throws {
        _ = try await executeRequest(uri: "/health", method: .get, headers: [:], body: nil)
    }
}
