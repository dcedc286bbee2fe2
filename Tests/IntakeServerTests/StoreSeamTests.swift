import Foundation
import Testing

/// The HTTP module knows stores only through `Ingest`'s `IntakeStore` and `BlobStore`: no backend
/// module, nor the database and S3 libraries behind them, is among its dependencies or its imports.
@Suite struct StoreSeamTests {
    static let backends = ["IngestSQLite", "IngestPostgres", "GRDB", "PostgresNIO", "IngestS3", "S3"]
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func intakeServerSourcesImportNoBackend() throws {
        let sources = Self.root.appendingPathComponent("Sources/IntakeServer")
        let files = try #require(FileManager.default.enumerator(atPath: sources.path)?.allObjects as? [String]).filter { $0.hasSuffix(".swift") }
        #expect(files.count > 10)
        for file in files {
            let text = try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8)
            for line in text.split(separator: "\n") where line.contains("import ") {
                let words = line.split(separator: " ")
                guard let module = words.last, words.contains("import") else { continue }
                #expect(!Self.backends.contains(String(module)), "\(file) imports \(module)")
            }
        }
    }

    @Test func intakeServerTargetDependsOnNoBackend() throws {
        let manifest = try String(contentsOf: Self.root.appendingPathComponent("Package.swift"), encoding: .utf8)
        // The target's declaration, from its name to the next target.
        let start = try #require(manifest.range(of: #"name: "IntakeServer",\s*dependencies:"#, options: .regularExpression))
        let rest = manifest[start.upperBound...]
        let end = rest.range(of: ".target(")?.lowerBound ?? rest.endIndex
        let declaration = rest[..<end]
        #expect(declaration.contains("\"IntakeRuntime\""), "found the IntakeServer target's dependency list")
        for backend in Self.backends { #expect(!declaration.contains("\"\(backend)\""), "IntakeServer depends on \(backend)") }
    }
}
