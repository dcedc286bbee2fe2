// swift-tools-version:6.2
import PackageDescription

let package = Package(
    name: "intake",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Multipart", targets: ["Multipart"]),
        .library(name: "MultipartNIO", targets: ["MultipartNIO"]),
        .library(name: "Ingest", targets: ["Ingest"]),
        .library(name: "IngestSQLite", targets: ["IngestSQLite"]),
        .library(name: "IngestPostgres", targets: ["IngestPostgres"]),
        .library(name: "IntakeRuntime", targets: ["IntakeRuntime"]),
        .library(name: "IntakeServer", targets: ["IntakeServer"]),
        .library(name: "IntakeClient", targets: ["IntakeClient"]),
        .library(name: "S3", targets: ["S3"]),
        .library(name: "IngestS3", targets: ["IngestS3"]),
        .library(name: "KnowledgeBase", targets: ["KnowledgeBase"]),
        .executable(name: "intake", targets: ["intake"]),
        .executable(name: "multipart-bench", targets: ["multipart-bench"]),
        .executable(name: "ingest-bench", targets: ["ingest-bench"]),
        .executable(name: "services-peer", targets: ["services-peer"]),
        .executable(name: "kb-bench", targets: ["kb-bench"]),
        .executable(name: "store-bench", targets: ["store-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation.git", from: "0.9.20"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        // Light to heavy: the parser needs nothing but the standard library.
        .target(name: "Multipart"),
        .target(
            name: "MultipartNIO",
            dependencies: [
                "Multipart",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // libmagic, the C library behind file(1), as GRDB wraps SQLite.
        .systemLibrary(
            name: "CMagic",
            pkgConfig: "libmagic",
            providers: [.apt(["libmagic-dev"])]
        ),
        // What Glibc's Swift module does not export: sync_file_range, renameat2, posix_spawn's
        // attributes in one call, pidfd_open.
        .target(name: "CIngestShims"),
        .target(
            name: "Ingest",
            dependencies: [
                "Multipart", "MultipartNIO",
                .product(name: "NIOCore", package: "swift-nio"),
                "CMagic",
                "CIngestShims",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "IngestSQLite",
            dependencies: [
                "Ingest",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The store of many nodes: PostgreSQL through postgres-nio's pool.
        .target(
            name: "IngestPostgres",
            dependencies: [
                "Ingest",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The composition root of a node (data directory, store, ingestor, sweeps, workers), with
        // no backend: the executable chooses the store.
        .target(
            name: "IntakeRuntime",
            dependencies: [
                "Ingest", "KnowledgeBase", "Multipart",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // HTTP in front of a node. It sees stores only through Ingest's `IntakeStore`: no backend
        // module is among its dependencies (IntakeServerTests checks it).
        .target(
            name: "IntakeServer",
            dependencies: [
                "KnowledgeBase", "IntakeRuntime",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                "Ingest", "Multipart", "MultipartNIO",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            // The page served at GET /: HTML, CSS and JavaScript as they are written, no build step.
            resources: [.copy("Resources/web")]
        ),
        // Our S3 client: Signature Version 4 and the object operations a blob store needs.
        .target(
            name: "S3",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // Blobs in an S3-compatible bucket, through the S3 module.
        .target(
            name: "IngestS3",
            dependencies: [
                "Ingest", "S3", "MultipartNIO",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .target(
            name: "KnowledgeBase",
            dependencies: [
                "Ingest", "CIngestShims",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ]
        ),
        .target(
            name: "IntakeClient",
            dependencies: [
                "Multipart", "MultipartNIO",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .executableTarget(
            name: "intake",
            dependencies: [
                "IntakeServer", "IntakeRuntime", "IntakeClient", "Ingest", "IngestSQLite", "IngestPostgres", "IngestS3", "S3",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                "KnowledgeBase",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                "Multipart",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .executableTarget(
            name: "multipart-bench",
            dependencies: ["Multipart"],
            path: "Benchmarks/multipart-bench"
        ),
        .executableTarget(
            name: "services-peer",
            dependencies: [
                "IntakeServer", "IntakeRuntime", "Ingest", "IngestSQLite",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/services-peer"
        ),
        .executableTarget(
            name: "kb-bench",
            dependencies: [
                "KnowledgeBase", "Ingest", "IngestSQLite", "Multipart",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/kb-bench"
        ),
        .executableTarget(
            name: "store-bench",
            dependencies: ["Ingest", "IngestSQLite", "IngestPostgres"],
            path: "Benchmarks/store-bench"
        ),
        .executableTarget(
            name: "ingest-bench",
            dependencies: ["Ingest", "IngestSQLite", "Multipart"],
            path: "Benchmarks/ingest-bench"
        ),
        // What several test targets share: a clock tests move by hand, hostile documents, the built `intake`.
        .target(
            name: "IntakeTesting",
            dependencies: [
                "Ingest", "KnowledgeBase",
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            path: "Tests/IntakeTesting"
        ),
        .testTarget(
            name: "MultipartTests",
            dependencies: [
                "Multipart", "IntakeTesting",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "IngestTests",
            dependencies: [
                "Ingest", "IngestSQLite", "Multipart", "IntakeTesting",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "IntakeServerTests",
            dependencies: [
                "IntakeServer", "IntakeRuntime", "Ingest", "IngestSQLite", "Multipart", "KnowledgeBase", "IntakeTesting",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "IntakeClientTests",
            dependencies: [
                "IntakeClient", "IntakeServer", "IntakeRuntime", "Ingest", "IngestSQLite", "Multipart", "MultipartNIO", "IntakeTesting",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
        // One set of store behaviours, run against every backend (PostgreSQL when
        // INTAKE_TEST_DATABASE_URL names a server).
        .testTarget(
            name: "StoreContractTests",
            dependencies: [
                "Ingest", "IngestSQLite", "IngestPostgres", "KnowledgeBase", "IntakeTesting",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "KnowledgeBaseTests",
            dependencies: [
                "KnowledgeBase", "Ingest", "IngestSQLite", "Multipart", "IntakeTesting",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // One set of blob-store behaviours, run against every backend (SeaweedFS when
        // INTAKE_TEST_S3_ENDPOINT names it).
        .testTarget(
            name: "BlobContractTests",
            dependencies: [
                "Ingest", "IngestS3", "S3", "IntakeTesting",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "S3Tests",
            dependencies: [
                "S3", "IntakeTesting",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "MultipartNIOTests",
            dependencies: [
                "MultipartNIO",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
    ]
)

let upcomingFeatures: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]
// C and system-library targets (named C…) take no Swift settings.
for target in package.targets where !target.name.hasPrefix("C") {
    target.swiftSettings = (target.swiftSettings ?? []) + upcomingFeatures
}
