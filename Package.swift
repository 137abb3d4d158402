// swift-tools-version:6.0
import PackageDescription

// perch: a JSON API served as a pre-forked FastCGI pool behind nginx.
// Module arrows (Sources/README.md): shims <- FastCGI/MariaDB/Sodium, JSON <- Web/Sodium, App uses all, perch uses App.
let package = Package(
    name: "perch",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "perch", targets: ["perch"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.3.0")
    ],
    targets: [
        .systemLibrary(name: "CFastCGI", pkgConfig: "fcgi", providers: [.apt(["libfcgi-dev"])]),
        .systemLibrary(name: "CMariaDB", pkgConfig: "libmariadb", providers: [.apt(["libmariadb-dev"])]),
        .systemLibrary(name: "CSodium", pkgConfig: "libsodium", providers: [.apt(["libsodium-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),

        .target(
            name: "FastCGI",
            dependencies: [
                "CFastCGI",
                .product(name: "Logging", package: "swift-log")
            ]),
        .target(name: "JSON"),
        .target(
            name: "Web",
            dependencies: [
                "JSON",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log")
            ]),
        .target(
            name: "MariaDB",
            dependencies: [
                "CMariaDB",
                .product(name: "Logging", package: "swift-log")
            ]),
        .target(name: "Sodium", dependencies: ["CSodium", "JSON"]),
        .target(
            name: "App",
            dependencies: [
                "FastCGI", "Web", "MariaDB", "Sodium", "CCurl",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log")
            ]),
        .executableTarget(
            name: "perch",
            dependencies: [
                "App",
                .product(name: "ArgumentParser", package: "swift-argument-parser")
            ]),

        // Shared by the test targets: private MariaDB and nginx instances, a pool launcher, a live HTTP client.
        .target(name: "TestSupport", dependencies: ["App", "Web", "MariaDB", "Sodium"], path: "Tests/TestSupport"),
        .testTarget(name: "FastCGITests", dependencies: ["FastCGI", "TestSupport"]),
        .testTarget(name: "WebTests", dependencies: ["Web", "TestSupport"]),
        .testTarget(name: "MariaDBTests", dependencies: ["MariaDB", "TestSupport"]),
        .testTarget(name: "SodiumTests", dependencies: ["Sodium"]),
        .testTarget(name: "AppTests", dependencies: ["App", "TestSupport"]),
        .testTarget(name: "EndToEndTests", dependencies: ["App", "TestSupport"])
    ],
    swiftLanguageModes: [.v5]
)

// Release builds optimize across our modules: the app's routes, schemas and rows are generic code of Web and
// MariaDB, which without it runs unspecialized (metadata looked up at run time). One GET /api/v1/posts/{id}
// went from 143,900 to 128,600 instructions (deploy/bench/callgrind.sh).
for target in package.targets where [.regular, .executable].contains(target.type) {
    target.swiftSettings = (target.swiftSettings ?? []) + [.unsafeFlags(["-cross-module-optimization"], .when(configuration: .release))]
}
