import Multipart

/// One file's upload, encoded the same way on every attempt: the boundary and the
/// `Idempotency-Key` come from the file's content hash and canonical path, so a retry sends the
/// very same bytes and the server recognises it.
public struct UploadRequest: Sendable {
    public let file: SourceFile
    public let sha256: String
    /// Text fields sent before the file.
    public let fields: [(name: String, value: String)]
    public let idempotencyKey: String
    /// The declared type of the file part, guessed from its extension.
    public let declaredType: String
    let head: [UInt8]
    let tail: [UInt8]
    let writer: MultipartWriter

    /// The form field that carries the file.
    public static let fileFieldName = "file"

    public init(file: SourceFile, sha256: String, fields: [(name: String, value: String)]) {
        self.file = file
        self.sha256 = sha256
        self.fields = fields
        let key = FileDigest.sha256(of: sha256 + "\n" + file.canonicalPath)
        idempotencyKey = "intake-ingest-" + key
        declaredType = DeclaredType.guess(filename: file.filename)
        // Boundary characters are hex digits and '-': a token, 46 characters.
        var writer = MultipartWriter(boundary: try! MultipartBoundary("intake-" + String(key.prefix(39))))
        var head: [UInt8] = []
        for field in fields { head += writer.field(name: field.name, value: field.value) }
        head += writer.fileHead(name: Self.fileFieldName, filename: file.filename, contentType: declaredType)
        self.head = head
        tail = writer.end()
        self.writer = writer
    }

    /// `multipart/form-data; boundary=…`.
    public var contentType: String { writer.contentType }

    /// The body length when the file still has `file.size` bytes.
    public var contentLength: Int64 { Int64(head.count) + file.size + Int64(tail.count) }
}
