// swift-tools-version:6.0
import PackageDescription

/// Library targets that are framework-free are held to the strictest settings.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]
let standard: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "vigil",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "vigil", targets: ["vigil"]),
        .library(name: "PDQ", targets: ["PDQ"]),
        .library(name: "VigilMatch", targets: ["VigilMatch"]),
    ],
    dependencies: [
        .package(url: "https://github.com/vapor/vapor.git", from: "4.115.0"),
        .package(url: "https://github.com/vapor/fluent.git", from: "4.12.0"),
        .package(url: "https://github.com/vapor/fluent-kit.git", from: "1.50.0"),
        .package(url: "https://github.com/vapor/sql-kit.git", from: "3.30.0"),
        .package(url: "https://github.com/vapor/fluent-sqlite-driver.git", from: "4.8.0"),
        .package(url: "https://github.com/vapor/fluent-postgres-driver.git", from: "2.10.0"),
        .package(url: "https://github.com/vapor/leaf.git", from: "4.4.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.0.0"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.1.0"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.24.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.27.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
    ],
    targets: [
        // MARK: executable
        .executableTarget(
            name: "vigil",
            dependencies: ["VigilCommands"],
            swiftSettings: standard
        ),
        .target(
            name: "VigilCommands",
            dependencies: [
                "VigilCore", "VigilApp", "VigilStore", "VigilWeb", "VigilFormats", "VigilMatch", "VigilMedia", "VigilScan", "PDQ",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: standard
        ),
        // MARK: server
        .target(
            name: "VigilWeb",
            dependencies: [
                "VigilCore", "VigilApp", "VigilStore", "VigilMatch", "VigilFormats", "VigilMedia", "CQRencode",
                "CMaxMindDB",
                .product(name: "Vapor", package: "vapor"),
                .product(name: "Fluent", package: "fluent"),
                .product(name: "Leaf", package: "leaf"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            resources: [.copy("Resources")],
            swiftSettings: standard
        ),
        // MARK: application (no web framework)
        .target(
            name: "VigilApp",
            dependencies: [
                "VigilCore", "VigilStore", "VigilMatch", "VigilMedia", "VigilFormats", "CMaxMindDB",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "FluentKit", package: "fluent-kit"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            resources: [.copy("Resources")],
            swiftSettings: standard
        ),
        .target(
            name: "VigilStore",
            dependencies: [
                "VigilCore",
                .product(name: "FluentKit", package: "fluent-kit"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "FluentSQLiteDriver", package: "fluent-sqlite-driver"),
                .product(name: "FluentPostgresDriver", package: "fluent-postgres-driver"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: standard
        ),
        // MARK: libraries
        .target(
            name: "VigilFormats",
            dependencies: ["VigilCore", "CSQLite3", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),
        .target(name: "VigilMatch", swiftSettings: strict),
        .target(
            name: "VigilMedia",
            dependencies: [
                "VigilCore", "VigilMatch", "PDQ", "CVips", "CTurboJPEG", "CFFmpeg",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "VigilScan",
            dependencies: [
                "VigilCore", "VigilMedia", "VigilMatch", "PDQ", .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .target(name: "PDQ", swiftSettings: strict),
        .target(
            name: "VigilCore",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),
        .systemLibrary(name: "CVips", pkgConfig: "vips", providers: [.apt(["libvips-dev"])]),
        .systemLibrary(name: "CTurboJPEG", pkgConfig: "libturbojpeg", providers: [.apt(["libturbojpeg0-dev"])]),
        .systemLibrary(name: "CSQLite3", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .target(name: "CMaxMindDB", linkerSettings: [.linkedLibrary("maxminddb")]),
        // FFmpeg's libraries (Debian libavformat-dev libavcodec-dev libswscale-dev libavutil-dev) behind a small C face.
        .target(
            name: "CFFmpeg",
            linkerSettings: [
                .linkedLibrary("avformat"), .linkedLibrary("avcodec"), .linkedLibrary("swscale"), .linkedLibrary("avutil"),
            ]),
        .systemLibrary(name: "CQRencode", pkgConfig: "libqrencode", providers: [.apt(["libqrencode-dev"])]),
        // MARK: benchmark drivers (run by `make bench`, built in release only there)
        .executableTarget(name: "BenchMatch", dependencies: ["VigilMatch"], path: "Sources/BenchMatch", swiftSettings: standard),
        .executableTarget(name: "BenchFeeds", dependencies: ["VigilFormats", "VigilCore"], path: "Sources/BenchFeeds", swiftSettings: standard),
        .executableTarget(name: "BenchPDQ", dependencies: ["PDQ", "VigilMedia"], path: "Sources/BenchPDQ", swiftSettings: standard),
        // MARK: tests
        .target(
            name: "VigilTestSupport",
            dependencies: ["VigilCore", "VigilStore", "VigilWeb", .product(name: "VaporTesting", package: "vapor")],
            path: "Tests/VigilTestSupport"
        ),
        .testTarget(name: "PDQTests", dependencies: ["PDQ"]),
        .testTarget(name: "VigilCoreTests", dependencies: ["VigilCore"]),
        .testTarget(name: "VigilMatchTests", dependencies: ["VigilMatch", "PDQ"]),
        .testTarget(name: "VigilFormatsTests", dependencies: ["VigilFormats", "VigilCore"]),
        .testTarget(name: "VigilMediaTests", dependencies: ["VigilMedia", "PDQ"]),
        .testTarget(name: "VigilScanTests", dependencies: ["VigilScan", "VigilMedia", "VigilCore", "VigilMatch"]),
        .testTarget(name: "VigilStoreTests", dependencies: ["VigilStore", "VigilCore", "VigilTestSupport"]),
        .testTarget(
            name: "VigilWebTests",
            dependencies: [
                "VigilWeb", "VigilApp", "VigilTestSupport", .product(name: "VaporTesting", package: "vapor"),
            ]
        ),
    ]
)
