import Crypto
import Foundation

/// What makes two upload requests the same for `Idempotency-Key`: the form, not its bytes on the
/// wire. Browsers, curl `-F` and most HTTP libraries choose a new random boundary for every
/// attempt, so a retry of the same form has another body; its fingerprint is the same. It is the
/// SHA-256 of, in order, each field's name and value, then each file's field name, filename,
/// `filename*`, declared type and content SHA-256 (each string length-prefixed, so no two forms
/// encode alike).
public struct FormFingerprint: Sendable {
    private var hasher = SHA256()

    public init() {}

    /// The fingerprint of `upload` as the ingestor recorded it.
    public static func of(_ upload: NewUpload) -> String {
        var fingerprint = FormFingerprint()
        for field in upload.fields { fingerprint.addField(name: field.name, value: field.value) }
        for document in upload.documents {
            fingerprint.addFile(
                fieldName: document.fieldName, filename: document.filename, filenameStar: document.filenameStar,
                declaredType: document.declaredType, sha256: document.sha256)
        }
        return fingerprint.hex
    }

    public mutating func addField(name: String, value: String) {
        add(tag: 0x46, [name, value])
    }

    public mutating func addFile(fieldName: String, filename: String?, filenameStar: String?, declaredType: String?, sha256: String) {
        add(tag: 0x44, [fieldName, filename, filenameStar, declaredType, sha256])
    }

    public var hex: String {
        hasher.finalize().lowercaseHex
    }

    private mutating func add(tag: UInt8, _ strings: [String?]) {
        var bytes: [UInt8] = [tag]
        for string in strings {
            guard let string else {
                bytes.append(0)
                continue
            }
            bytes.append(1)
            let utf8 = Array(string.utf8)
            withUnsafeBytes(of: UInt64(utf8.count).littleEndian) { bytes.append(contentsOf: $0) }
            bytes += utf8
        }
        hasher.update(data: bytes)
    }
}
