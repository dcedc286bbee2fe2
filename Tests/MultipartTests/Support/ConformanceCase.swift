import Foundation

/// One case of `Fixtures/conformance`: a body, its Content-Type, and what parsing it must give.
struct ConformanceCase: CustomStringConvertible, Sendable {
    struct ExpectedPart: Equatable, Sendable {
        var name: String?
        var filename: String?
        var contentType: String?
        var size: Int
        var sha256: String
    }

    var source: String
    var name: String
    var body: [UInt8]
    var contentType: String
    /// The parts, or nil when the body must be rejected.
    var expectedParts: [ExpectedPart]?
    /// Whether the case carries source limits (its `parts` are the unlimited result).
    var hasLimits: Bool

    var description: String { "\(source)/\(name)" }

    static func all() throws -> [ConformanceCase] {
        let manager = FileManager.default
        var cases: [ConformanceCase] = []
        for source in try manager.contentsOfDirectory(atPath: Fixtures.conformance.path).sorted() where source != "LICENSES" {
            let sourceURL = Fixtures.conformance.appendingPathComponent(source)
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: sourceURL.path, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
            for name in try manager.contentsOfDirectory(atPath: sourceURL.path).sorted() {
                let caseURL = sourceURL.appendingPathComponent(name)
                let expectedURL = caseURL.appendingPathComponent("expected.json")
                guard manager.fileExists(atPath: expectedURL.path) else { continue }
                cases.append(try load(source: source, name: name, at: caseURL))
            }
        }
        return cases
    }

    private static func load(source: String, name: String, at url: URL) throws -> ConformanceCase {
        let body = try [UInt8](Data(contentsOf: url.appendingPathComponent("body.bin")))
        var contentType = try String(contentsOf: url.appendingPathComponent("content-type.txt"), encoding: .utf8)
        while contentType.hasSuffix("\n") || contentType.hasSuffix("\r") { contentType.removeLast() }
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: url.appendingPathComponent("expected.json"))) as! [String: Any]
        let hasLimits = json["limits"] != nil
        let target = hasLimits ? json["without_limits"] as! [String: Any] : json
        var expected: [ExpectedPart]? = nil
        if target["error"] == nil, let parts = target["parts"] as? [[String: Any]] {
            expected = parts.map { part in
                ExpectedPart(
                    name: part["name"] as? String,
                    filename: part["filename"] as? String,
                    contentType: part["content_type"] as? String,
                    size: part["size"] as! Int,
                    sha256: part["sha256"] as! String
                )
            }
        }
        return ConformanceCase(source: source, name: name, body: body, contentType: contentType, expectedParts: expected, hasLimits: hasLimits)
    }
}
