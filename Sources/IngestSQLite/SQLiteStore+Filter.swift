import Foundation
import GRDB
import Ingest

extension SQLiteStore {
    /// `filter` as SQL conditions on `documents` and `uploads` (joined in the query), and their
    /// arguments; nothing for an empty filter.
    static func conditions(_ filter: DocumentFilter) -> (sql: [String], arguments: StatementArguments) {
        var sql: [String] = []
        var arguments: StatementArguments = []
        for field in filter.fields.prefix(DocumentFilter.maximumFields) {
            sql.append("EXISTS (SELECT 1 FROM upload_fields WHERE upload_fields.upload_id = uploads.id AND upload_fields.name = ? AND upload_fields.value = ?)")
            _ = arguments.append(contentsOf: [field.name, field.value])
        }
        if let type = filter.detectedType {
            sql.append("documents.detected_type = ?")
            _ = arguments.append(contentsOf: [type])
        }
        if let after = filter.uploadedAfter {
            sql.append("uploads.created_at >= ?")
            _ = arguments.append(contentsOf: [after.timeIntervalSince1970])
        }
        if let before = filter.uploadedBefore {
            sql.append("uploads.created_at < ?")
            _ = arguments.append(contentsOf: [before.timeIntervalSince1970])
        }
        return (sql, arguments)
    }
}
