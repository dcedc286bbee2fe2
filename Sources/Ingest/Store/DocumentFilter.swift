public import Foundation

/// What narrows a search or a listing of documents: the fields their upload was sent with
/// (`title`, `tags`, anything; every one given must be there with that value), their detected
/// type, and when they were uploaded. An empty filter keeps every document.
public struct DocumentFilter: Sendable, Hashable {
    /// Fields the document's upload must have had, each with exactly this value.
    public var fields: [UploadField]
    /// The type libmagic detected (`application/pdf`).
    public var detectedType: String?
    /// Uploaded at or after this time.
    public var uploadedAfter: Date?
    /// Uploaded before this time.
    public var uploadedBefore: Date?

    public init(fields: [UploadField] = [], detectedType: String? = nil, uploadedAfter: Date? = nil, uploadedBefore: Date? = nil) {
        self.fields = fields
        self.detectedType = detectedType
        self.uploadedAfter = uploadedAfter
        self.uploadedBefore = uploadedBefore
    }

    /// The most fields one filter may name.
    public static let maximumFields = 16

    public var isEmpty: Bool {
        fields.isEmpty && detectedType == nil && uploadedAfter == nil && uploadedBefore == nil
    }

    /// The time `text` names, as the upload bounds take it: a date (`2026-12-01`, midnight UTC)
    /// or an ISO 8601 time with its offset (`2026-12-01T09:30:00Z`, fractional seconds allowed).
    public static func time(_ text: String) -> Date? {
        let day = ISO8601DateFormatter()
        day.formatOptions = [.withFullDate]
        let plain = ISO8601DateFormatter()
        let precise = ISO8601DateFormatter()
        precise.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return (text.count == 10 ? day.date(from: text) : nil) ?? plain.date(from: text) ?? precise.date(from: text)
    }
}
