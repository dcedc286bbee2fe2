import Foundation
import Ingest

/// The JSON shapes of the API, with the names clients rely on.
enum APIModels {
    struct Document: Encodable {
        let id: String
        let uploadID: String
        let field: String
        let filename: String?
        let filenameStar: String?
        let size: Int
        let sha256: String
        let declaredType: String?
        let detectedType: String
        let charset: String?
        let status: String
        let createdAt: Date
        // Only in GET /documents/{id}:
        let error: String?
        let note: String?
        let attempts: Int?
        let updatedAt: Date?
        /// The fields its upload was sent with (its metadata, which filters match), by name.
        var fields: [String: [String]]?

        enum CodingKeys: String, CodingKey {
            case id, field, filename, size, sha256, charset, status, error, note, attempts, fields
            case uploadID = "upload_id", filenameStar = "filename_star", declaredType = "declared_type"
            case detectedType = "detected_type", createdAt = "created_at", updatedAt = "updated_at"
        }

        init(_ record: DocumentRecord, detail: JobRecord? = nil, detailed: Bool = false) {
            id = record.id
            uploadID = record.uploadID
            field = record.fieldName
            filename = record.filename
            filenameStar = record.filenameStar
            size = record.size
            sha256 = record.sha256
            declaredType = record.declaredType
            detectedType = record.detectedType
            charset = record.charset
            status = record.status.rawValue
            createdAt = record.createdAt
            error = detailed ? record.error : nil
            note = detailed ? record.note : nil
            attempts = detailed ? (detail?.attempts ?? 0) : nil
            updatedAt = detailed ? record.updatedAt : nil
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(uploadID, forKey: .uploadID)
            try container.encode(field, forKey: .field)
            try container.encode(filename, forKey: .filename)
            if let filenameStar { try container.encode(filenameStar, forKey: .filenameStar) }
            try container.encode(size, forKey: .size)
            try container.encode(sha256, forKey: .sha256)
            try container.encode(declaredType, forKey: .declaredType)
            try container.encode(detectedType, forKey: .detectedType)
            try container.encode(charset, forKey: .charset)
            try container.encode(status, forKey: .status)
            try container.encode(createdAt, forKey: .createdAt)
            if let attempts {
                try container.encode(error, forKey: .error)
                try container.encode(note, forKey: .note)
                try container.encode(attempts, forKey: .attempts)
                try container.encode(updatedAt, forKey: .updatedAt)
            }
            if let fields { try container.encode(fields, forKey: .fields) }
        }
    }

    struct Upload: Encodable {
        let id: String
        let createdAt: Date
        let knowledgeBase: String
        /// Field values by name, in the order sent (a name may repeat).
        let fields: [String: [String]]
        let documents: [Document]

        enum CodingKeys: String, CodingKey {
            case id, fields, documents
            case createdAt = "created_at", knowledgeBase = "knowledge_base"
        }

        init(_ receipt: UploadReceipt) {
            id = receipt.id
            createdAt = receipt.createdAt
            knowledgeBase = receipt.knowledgeBase
            fields = Dictionary(grouping: receipt.fields, by: \.name).mapValues { $0.map(\.value) }
            documents = receipt.documents.map { Document($0) }
        }
    }

    struct DocumentList: Encodable {
        let documents: [Document]
        let nextCursor: String?

        enum CodingKeys: String, CodingKey {
            case documents
            case nextCursor = "next_cursor"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(documents, forKey: .documents)
            try container.encode(nextCursor, forKey: .nextCursor)  // null on the last page
        }
    }

    /// A time as the API writes it: ISO 8601 in UTC with milliseconds (`2026-12-03T04:01:52.123Z`).
    static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(timestamp(date))
        }
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    struct Chunk: Encodable {
        let ordinal: Int
        let start: Int
        let end: Int
        let text: String
        let page: Int?
        let source: String?
        init(_ record: ChunkRecord) {
            ordinal = record.ordinal
            start = record.start
            end = record.end
            text = record.text
            page = record.page
            source = record.source
        }

        enum CodingKeys: String, CodingKey { case ordinal, start, end, text, page, source }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(ordinal, forKey: .ordinal)
            try container.encode(start, forKey: .start)
            try container.encode(end, forKey: .end)
            try container.encode(text, forKey: .text)
            try container.encode(page, forKey: .page)  // null when the format has no pages
            try container.encode(source, forKey: .source)  // "ocr", or null for the document's own text
        }
    }

    struct ChunkList: Encodable {
        let chunks: [Chunk]
    }

    struct SearchResult: Encodable {
        let documentID: String
        let filename: String?
        let chunk: Int
        let score: Double
        let snippet: String
        let page: Int?

        enum CodingKeys: String, CodingKey {
            case documentID = "document_id", filename, chunk, score, snippet, page
        }

        init(_ hit: SearchHit) {
            documentID = hit.documentID
            filename = hit.filename
            chunk = hit.chunk
            score = (hit.score * 1000).rounded() / 1000
            snippet = hit.snippet
            page = hit.page
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(documentID, forKey: .documentID)
            try container.encode(filename, forKey: .filename)
            try container.encode(chunk, forKey: .chunk)
            try container.encode(score, forKey: .score)
            try container.encode(snippet, forKey: .snippet)
            try container.encode(page, forKey: .page)  // null when the document has no pages
        }
    }

    struct SearchResults: Encodable {
        let results: [SearchResult]
    }

    struct WebhookEvent: Encodable {
        let eventID: Int64
        let type: String
        let state: String
        let time: Date
        let document: Document?

        enum CodingKeys: String, CodingKey {
            case eventID = "event_id", type, state, time, document
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(eventID, forKey: .eventID)
            try container.encode(type, forKey: .type)
            try container.encode(state, forKey: .state)
            try container.encode(time, forKey: .time)
            try container.encode(document, forKey: .document)
        }
    }
}
