import Foundation
import Hummingbird
import Ingest

/// A ``DocumentFilter`` from a request's query (`GET /search`, `GET /documents`):
/// `filter[FIELD]=VALUE` (repeatable, every one must match the fields the upload was sent with),
/// `type=MIME` (the detected type), `uploaded_after=` and `uploaded_before=` (a date such as
/// `2026-12-01`, midnight UTC, or a time such as `2026-12-01T09:30:00Z`).
enum DocumentFilterParameters {
    static func filter(_ request: Request) throws -> DocumentFilter {
        var filter = DocumentFilter()
        for (rawKey, value) in request.uri.queryParameters {
            // The brackets may come percent-encoded (`filter%5Btitle%5D`), as URL libraries send them.
            let key = String(rawKey).removingPercentEncoding ?? String(rawKey)
            guard key.hasPrefix("filter[") && key.hasSuffix("]") else { continue }
            let name = String(key.dropFirst("filter[".count).dropLast())
            guard !name.isEmpty, name.utf8.count <= 256, value.utf8.count <= 4096 else {
                throw APIError(.badRequest, code: "invalid_query", message: "filter[FIELD]=VALUE needs a field name (at most 256 bytes) and a value of at most 4,096 bytes")
            }
            filter.fields.append(UploadField(name: name, value: String(value)))
        }
        guard filter.fields.count <= DocumentFilter.maximumFields else {
            throw APIError(.badRequest, code: "invalid_query", message: "at most \(DocumentFilter.maximumFields) filter[FIELD] parameters")
        }
        let parameters = request.uri.queryParameters
        if let type = parameters.get("type") {
            guard !type.isEmpty, type.utf8.count <= 255, type.contains("/") else {
                throw APIError(.badRequest, code: "invalid_query", message: "type must be a media type such as application/pdf")
            }
            filter.detectedType = type
        }
        filter.uploadedAfter = try time(parameters.get("uploaded_after"), named: "uploaded_after")
        filter.uploadedBefore = try time(parameters.get("uploaded_before"), named: "uploaded_before")
        return filter
    }

    /// ``DocumentFilter/time(_:)``, or 400 naming the parameter.
    private static func time(_ text: String?, named name: String) throws -> Date? {
        guard let text else { return nil }
        guard let date = DocumentFilter.time(text) else {
            throw APIError(.badRequest, code: "invalid_query", message: "\(name) must be a date (2026-12-01) or a time (2026-12-01T09:30:00Z)")
        }
        return date
    }
}
