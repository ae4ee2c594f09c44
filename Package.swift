// swift-tools-version:6.1
import Foundation
import PackageDescription

let package = Package(
    name: "mentalspace-ehr",
    platforms: [.macOS(.v14), .iOS(.v17)],
    products: [
        .executable(name: "ehr", targets: ["ehr"]),
        .library(name: "EHRDomain", targets: ["EHRDomain"]),
        .library(name: "EHRAPI", targets: ["EHRAPI"]),
        .library(name: "EHRClient", targets: ["EHRClient"]),
        .executable(name: "ehr-client", targets: ["ehr-client"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/swift-openapi-hummingbird.git", from: "2.1.0"),
        .package(url: "https://github.com/apple/swift-openapi-generator.git", from: "1.14.3"),
        .package(url: "https://github.com/apple/swift-openapi-runtime.git", from: "1.13.4"),
        .package(url: "https://github.com/vapor/fluent-kit.git", from: "1.57.0"),
        .package(url: "https://github.com/vapor/async-kit.git", from: "1.22.0"),
        .package(url: "https://github.com/vapor/fluent-sqlite-driver.git", from: "4.9.0"),
        .package(url: "https://github.com/vapor/fluent-postgres-driver.git", from: "2.14.0"),
        .package(url: "https://github.com/vapor/sql-kit.git", from: "3.36.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-openapi-urlsession.git", from: "1.4.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
    ],
    targets: [
        // Pure domain: entities, policy, workflow rules. No server or database imports.
        .target(
            name: "EHRDomain",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")]
        ),
        // Cryptographic building blocks (field encryption, key wrapping, blind indexes, audit chain MACs). No server or database imports.
        .target(
            name: "EHRSecurity",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")]
        ),
        // What the server reads from untrusted bytes before generated code sees them: list cursors, the strict JSON
        // scan, RFC 3339 dates. No NIO or OpenAPI imports, so the fuzz targets (Fuzz/) build it with sanitizers quickly.
        .target(
            name: "EHRWire",
            dependencies: ["EHRDomain", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // Types generated from the single OpenAPI contract, shared by server and client.
        .target(
            name: "EHRAPI",
            dependencies: [.product(name: "OpenAPIRuntime", package: "swift-openapi-runtime")],
            resources: [.copy("openapi.yaml")],
            plugins: [.plugin(name: "OpenAPIGenerator", package: "swift-openapi-generator")]
        ),
        .target(
            name: "EHRPersistence",
            dependencies: [
                "EHRDomain", "EHRSecurity",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "FluentKit", package: "fluent-kit"),
                .product(name: "AsyncKit", package: "async-kit"),
                .product(name: "FluentSQLiteDriver", package: "fluent-sqlite-driver"),
                .product(name: "FluentPostgresDriver", package: "fluent-postgres-driver"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .target(
            name: "EHRServer",
            dependencies: [
                "EHRDomain", "EHRAPI", "EHRPersistence", "EHRSecurity", "EHRWire", "CEHRAllocator",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "OpenAPIHummingbird", package: "swift-openapi-hummingbird"),
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ],
            // The web app's templates and stylesheet, loaded once at start-up.
            resources: [.copy("Web/Templates"), .copy("Web/Static")],
            plugins: [.plugin(name: "OpenAPIGenerator", package: "swift-openapi-generator")]
        ),
        .executableTarget(
            name: "ehr",
            dependencies: [
                "EHRServer", "EHRDomain", "EHRSecurity", "EHRPersistence", "CEHRConcurrencyHook",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // The Swift runtime's global-executor hook, reached at link time (see its header): NIO's dlsym cannot see it in
        // the statically linked build that ships.
        .target(name: "CEHRConcurrencyHook", linkerSettings: [.linkedLibrary("dl")]),
        // glibc's allocator thresholds for the embedded SQLite default (see EHRServer's AllocatorTuning).
        .target(name: "CEHRAllocator"),
        // The client core an iOS app links: generated client, session, offline store, view models. No NIO or server imports.
        .target(
            name: "EHRClient",
            dependencies: [
                "EHRAPI",
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "OpenAPIURLSession", package: "swift-openapi-urlsession"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            plugins: [.plugin(name: "OpenAPIGenerator", package: "swift-openapi-generator")]
        ),
        .executableTarget(
            name: "ehr-client",
            dependencies: [
                "EHRClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "EHRDomainTests", dependencies: ["EHRDomain"]),
        .testTarget(
            name: "EHRClientTests",
            dependencies: ["EHRClient", "EHRServer", .product(name: "HummingbirdWSClient", package: "hummingbird-websocket")]
        ),
        .testTarget(name: "EHRSecurityTests", dependencies: ["EHRSecurity"]),
        .testTarget(
            name: "EHRServerTests",
            dependencies: [
                "EHRServer", "EHRWire", "CEHRAllocator",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)

// libFuzzer targets (Fuzz/README.md), only with EHR_FUZZ=1: scripts/fuzz builds them with -sanitize=fuzzer,address.
// The package then holds only the targets they need, so no build tool plugin (the OpenAPI generator) and none of
// the server's dependencies is compiled with sanitizers. The dependency list stays whole: Package.resolved is the same.
if ProcessInfo.processInfo.environment["EHR_FUZZ"] == "1" {
    let fuzzTargets: [(name: String, dependencies: [Target.Dependency])] = [
        ("FuzzCursorCodec", ["EHRWire", "EHRDomain"]),
        ("FuzzStrictJSON", ["EHRWire"]),
        ("FuzzRFC3339", ["EHRWire"]),
        ("FuzzFieldCipher", ["EHRSecurity", .product(name: "Crypto", package: "swift-crypto")]),
        ("FuzzAuditCheckpoint", ["EHRSecurity", .product(name: "Crypto", package: "swift-crypto")]),
    ]
    let libraries: Set<String> = ["EHRDomain", "EHRSecurity", "EHRWire"]
    package.targets.removeAll { !libraries.contains($0.name) }
    package.products = fuzzTargets.map { .executable(name: $0.name, targets: [$0.name]) }
    package.targets += [
        .systemLibrary(name: "CFuzzerDriver", path: "Fuzz/CFuzzerDriver"),
        .target(name: "FuzzSupport", dependencies: ["CFuzzerDriver"], path: "Fuzz/FuzzSupport"),
    ]
    package.targets += fuzzTargets.map {
        .executableTarget(name: $0.name, dependencies: $0.dependencies + ["FuzzSupport"], path: "Fuzz/\($0.name)")
    }
}
