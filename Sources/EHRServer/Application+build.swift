import EHRPersistence
import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import OpenAPIHummingbird
import OpenAPIRuntime

/// Builds the HTTP application from ready services: the same function serves `ehr serve` and the tests.
public func buildApplication(services: AppServices) throws -> some ApplicationProtocol {
    let router = try buildRouter(services: services)
    let live = LiveSocket(services: services)
    let televisit = TelevisitSocket(services: services)
    var app = Application(
        router: router,
        // Browsers send a message as one frame, and a session description with its candidates passes 16 KiB.
        server: .http1WebSocketUpgrade(configuration: .init(maxFrameSize: LiveSocket.maximumInboundFrame, validateUTF8: true)) { request, channel, _ in
            request.path == TelevisitSocket.path ? televisit.shouldUpgrade(request, channel: channel) : live.shouldUpgrade(request, channel: channel)
        },
        configuration: .init(address: .hostname(services.configuration.hostname, port: services.configuration.port), serverName: "mentalspace-ehr"),
        logger: services.logger)
    // Shut down in reverse order: the HTTP server stops, the sealer seals what is left, then the pools close.
    app.addServices(DatabaseService(database: services.database))
    app.addServices(AuditSealerService(log: services.auditLog, database: services.database, logger: services.logger))
    app.addServices(SQLiteCheckpointService(database: services.database, logger: services.logger))
    app.addServices(LiveListenerService(services: services))
    if services.configuration.runsNotificationScheduler {
        app.addServices(
            NotificationService(scheduler: services.notificationScheduler, interval: services.configuration.notificationInterval, logger: services.logger))
    }
    return app
}

/// The router with every middleware and every generated route. Exposed for in-process tests.
public func buildRouter(services: AppServices) throws -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self)
    router.add(middleware: ConnectionLoopMiddleware())
    // Router middleware runs after the router matched a route, so OperationMiddleware classifies each request
    // by the operation it will reach (trailing and doubled slashes match the same route); everything after it
    // reads that classification instead of the path.
    router.add(middleware: RequestLogMiddleware())
    router.add(middleware: OperationMiddleware(strictTransportSecurity: services.configuration.environment == .production))
    let renderer = try WebRenderer()
    let webGate = WebGate(sessions: WebSessions(services: services), renderer: renderer)
    router.add(middleware: RequestScopeMiddleware(tokens: services.tokens, trustedProxies: services.configuration.trustedProxies, web: webGate))
    router.add(middleware: AuditMiddleware(writer: services.auditWriter))
    router.add(middleware: ErrorMiddleware())
    router.add(middleware: BodyLimitMiddleware())
    router.add(middleware: NullCursorMiddleware())
    router.add(middleware: SingleWriteResponseMiddleware())
    let handler = APIHandler(services: services)
    WebApp(services: services, renderer: renderer).register(on: router)
    router.get("/metrics") { request, _ in try MetricsEndpoint.respond(request, token: services.configuration.metricsToken) }
    let transport = HotRouteTransport(base: router, handler: handler)
    try handler.registerHandlers(on: transport, configuration: APIHandler.configuration)
    precondition(transport.wrappedList, "the appointment list's route was not registered under \(HotRouteTransport.listAppointmentsPath)")
    precondition(transport.wrappedNoteCreation, "note creation's route was not registered under \(HotRouteTransport.createNotePath)")
    // Undeclared methods on known paths reach OperationMiddleware (405 with Allow) instead of the 404 of no route.
    for (template, methods) in APIOperations.undeclared {
        for method in methods {
            router.on(RouterPath(template), method: method) { _, _ -> Response in throw HTTPError(.methodNotAllowed) }
        }
    }
    return router
}

/// Prepares the database for serving: migrations, then the demo practice when configured.
public func prepareDatabase(services: AppServices) async throws {
    try await DatabaseScope.system(.administration) { try await prepare(services) }
}

private func prepare(_ services: AppServices) async throws {
    try await services.database.migrate()
    // Practices created before field encryption get keys, and their rows are sealed, before anything is served.
    try await services.keyMaintenance.encryptLegacyTenants()
    if services.configuration.seedDemoData {
        if try await services.demoSeed.seed() {
            services.logger.info("seeded the demo practice (slug 'demo'); see README for its accounts")
        }
    }
}
