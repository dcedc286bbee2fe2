import ArgumentParser
import Foundation
import Ingest

/// Which documents a command looks at, as flags: the fields their upload was sent with, their
/// detected type, when they were uploaded (``DocumentFilter``). Shared by `intake search` and
/// `intake reprocess`; sent to a server as `filter[FIELD]=`, `type=`, `uploaded_after=`, `uploaded_before=`.
struct FilterOptions: ParsableArguments {
    @Option(name: .customLong("filter"), help: ArgumentHelp("Only documents whose upload had this field with this value (repeatable: all must match).", valueName: "field=value"))
    var fields: [String] = []

    @Option(help: ArgumentHelp("Only documents of this detected type, e.g. application/pdf.", valueName: "type"))
    var type: String?

    @Option(name: .customLong("uploaded-after"), help: ArgumentHelp("Only documents uploaded at or after this date (2026-12-01) or time (2026-12-01T09:30:00Z).", valueName: "date"))
    var uploadedAfter: String?

    @Option(name: .customLong("uploaded-before"), help: ArgumentHelp("Only documents uploaded before this date or time.", valueName: "date"))
    var uploadedBefore: String?

    func validate() throws {
        _ = try filter
    }

    var filter: DocumentFilter {
        get throws {
            let pairs = try fields.map { pair -> UploadField in
                guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                    throw ValidationError("--filter takes FIELD=VALUE, not '\(pair)'.")
                }
                return UploadField(name: String(pair[..<equals]), value: String(pair[pair.index(after: equals)...]))
            }
            guard pairs.count <= DocumentFilter.maximumFields else { throw ValidationError("at most \(DocumentFilter.maximumFields) --filter") }
            if let type, !type.contains("/") { throw ValidationError("--type takes a media type such as application/pdf, not '\(type)'.") }
            return DocumentFilter(
                fields: pairs, detectedType: type, uploadedAfter: try Self.time(uploadedAfter, "--uploaded-after"),
                uploadedBefore: try Self.time(uploadedBefore, "--uploaded-before"))
        }
    }

    /// The filter as a server's query parameters.
    var queryItems: [URLQueryItem] {
        get throws {
            let filter = try self.filter
            var items = filter.fields.map { URLQueryItem(name: "filter[\($0.name)]", value: $0.value) }
            if let type = filter.detectedType { items.append(URLQueryItem(name: "type", value: type)) }
            if let uploadedAfter { items.append(URLQueryItem(name: "uploaded_after", value: uploadedAfter)) }
            if let uploadedBefore { items.append(URLQueryItem(name: "uploaded_before", value: uploadedBefore)) }
            return items
        }
    }

    private static func time(_ text: String?, _ flag: String) throws -> Date? {
        guard let text else { return nil }
        guard let date = DocumentFilter.time(text) else {
            throw ValidationError("\(flag) takes a date (2026-12-01) or a time (2026-12-01T09:30:00Z), not '\(text)'.")
        }
        return date
    }
}
