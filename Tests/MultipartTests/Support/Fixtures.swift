import Foundation

/// Paths of the committed test data, found from this file's place in the package.
enum Fixtures {
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Support
        .deletingLastPathComponent()  // MultipartTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // package root
        .appendingPathComponent("Fixtures")

    static var conformance: URL { root.appendingPathComponent("conformance") }
}
