import EHRPersistence
import Logging
import ServiceLifecycle

/// Listens on PostgreSQL for the live events every instance publishes (``LiveSignal``) and delivers them to this
/// process's sockets. When the listening connection fails it reconnects (after a second, then up to 10 s) and
/// tells every open socket to `resync`: events sent while nobody listened are not replayed, so clients fetch
/// what they missed by cursor, as after any reconnect. SQLite (one process) delivers directly and waits here
/// for the shutdown.
struct LiveListenerService: Service {
    let services: AppServices

    func run() async throws {
        guard services.database.dialect == .postgres else {
            try? await gracefulShutdown()
            return
        }
        let delivery = LiveDelivery(services: services)
        let logger = services.logger
        await cancelWhenGracefulShutdown {
            var failures = 0
            while !Task.isCancelled {
                do {
                    try await services.database.listen(
                        channel: LiveSignal.channel, logger: logger,
                        listening: { [failures] in
                            if failures > 0 { for socket in services.live.all { socket.send(#"{"type":"resync"}"#) } }
                        },
                        consume: { payload in
                            guard let signal = LiveSignal.decode(payload) else { return }
                            if let envelope = signal.televisit {
                                await services.televisit.receive(envelope, vault: services.vault)
                            } else {
                                await delivery.deliver(signal)
                            }
                        })
                } catch is CancellationError {
                    return
                } catch {
                    if Task.isCancelled { return }
                    logger.error("live listener lost its connection; reconnecting", metadata: ["error.type": "\(type(of: error))"])
                }
                failures += 1
                try? await Task.sleep(for: .seconds(min(10, failures)))
            }
        }
    }
}
