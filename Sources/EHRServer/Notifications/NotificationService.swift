import Foundation
import Logging
import ServiceLifecycle

/// Runs the ``NotificationScheduler`` inside `ehr serve`: at start (what was due while no instance ran) and then
/// every `EHR_NOTIFY_INTERVAL` seconds, until the graceful shutdown.
struct NotificationService: Service {
    let scheduler: NotificationScheduler
    let interval: TimeInterval
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await pass()
                try? await Task.sleep(for: .milliseconds(Int(interval * 1000)))
            }
        }
    }

    private func pass() async {
        do {
            try await scheduler.reconcile()
            try await scheduler.dispatchDue()
        } catch is CancellationError {
        } catch {
            // The outbox keeps everything; the next pass tries again.
            logger.error("notification pass failed", metadata: ["error.type": "\(type(of: error))"])
        }
    }
}

extension AppServices {
    /// The scheduler `ehr serve` runs, on the real clock.
    var notificationScheduler: NotificationScheduler {
        NotificationScheduler(services: self, push: pushSender, email: emailSender)
    }
}
