import Foundation

/// How a resumable upload's fields are kept in a text column: a JSON array of `{name, value}`, in order.
public enum ResumableUploadFields {
    public static func encoded(_ fields: [UploadField]) -> String {
        // Encoding an array of two-string objects cannot fail.
        String(decoding: (try? JSONEncoder().encode(fields)) ?? Data("[]".utf8), as: UTF8.self)
    }

    public static func decoded(_ text: String) throws -> [UploadField] {
        try JSONDecoder().decode([UploadField].self, from: Data(text.utf8))
    }
}
