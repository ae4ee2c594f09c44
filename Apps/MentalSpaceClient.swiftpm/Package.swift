// swift-tools-version: 6.0

// The MentalSpace iOS app: a Swift Playgrounds app package (`.swiftpm`) over the EHRClient core at the
// repository root. AppleProductTypes and SwiftUI exist only in Xcode / Swift Playgrounds on Apple
// platforms, so this manifest does not load on Linux. See ../README.md.

import PackageDescription
import AppleProductTypes

let package = Package(
    name: "MentalSpaceClient",
    platforms: [
        .iOS("17.0")
    ],
    products: [
        .iOSApplication(
            name: "MentalSpace",
            targets: ["AppModule"],
            bundleIdentifier: "com.mentalspace.client",
            teamIdentifier: "",
            displayVersion: "1.0",
            bundleVersion: "1",
            appIcon: .placeholder(icon: .heart),
            accentColor: .presetColor(.teal),
            supportedDeviceFamilies: [
                .pad,
                .phone
            ],
            supportedInterfaceOrientations: [
                .portrait,
                .landscapeRight,
                .landscapeLeft,
                .portraitUpsideDown(.when(deviceFamilies: [.pad]))
            ],
            capabilities: [
                .outgoingNetworkConnections()
            ],
            appCategory: .medical,
            // Lets a development build reach `swift run ehr serve` on http://127.0.0.1:8080.
            additionalInfoPlistContentFilePath: "AdditionalInfo.plist"
        )
    ],
    dependencies: [
        // The repository root (package "mentalspace-ehr"); only its EHRClient library is linked into the app.
        // The explicit name keeps `.product(package:)` working whatever the clone's folder is called.
        .package(name: "mentalspace-ehr", path: "../..")
    ],
    targets: [
        .executableTarget(
            name: "AppModule",
            dependencies: [
                .product(name: "EHRClient", package: "mentalspace-ehr")
            ],
            path: "Sources"
        )
    ],
    swiftLanguageModes: [.v6]
)
