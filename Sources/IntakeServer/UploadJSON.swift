import Foundation

extension APIModels.Upload {
    /// The upload's JSON, written straight into bytes: the same value ``APIModels/encoder`` makes
    /// (keys sorted, `null` for a missing value), without its generic machinery, since this
    /// answer is on the path of every upload. Strings are escaped as RFC 8259 requires.
    var jsonBytes: [UInt8] {
        var json = JSONBytes()
        json.append("{\"created_at\":")
        json.append(string: APIModels.timestamp(createdAt))
        json.append(",\"documents\":[")
        for (index, document) in documents.enumerated() {
            if index > 0 { json.append(",") }
            document.write(into: &json)
        }
        json.append("],\"fields\":{")
        for (index, name) in fields.keys.sorted().enumerated() {
            if index > 0 { json.append(",") }
            json.append(string: name)
            json.append(":[")
            for (position, value) in fields[name, default: []].enumerated() {
                if position > 0 { json.append(",") }
                json.append(string: value)
            }
            json.append("]")
        }
        json.append("},\"id\":")
        json.append(string: id)
        json.append(",\"knowledge_base\":")
        json.append(string: knowledgeBase)
        json.append("}")
        return json.bytes
    }
}

extension APIModels.Document {
    /// The document as an upload's answer lists it (no detail fields).
    fileprivate func write(into json: inout JSONBytes) {
        json.append("{\"charset\":")
        json.append(optional: charset)
        json.append(",\"created_at\":")
        json.append(string: APIModels.timestamp(createdAt))
        json.append(",\"declared_type\":")
        json.append(optional: declaredType)
        json.append(",\"detected_type\":")
        json.append(string: detectedType)
        json.append(",\"field\":")
        json.append(string: field)
        json.append(",\"filename\":")
        json.append(optional: filename)
        if let filenameStar {
            json.append(",\"filename_star\":")
            json.append(string: filenameStar)
        }
        json.append(",\"id\":")
        json.append(string: id)
        json.append(",\"sha256\":")
        json.append(string: sha256)
        json.append(",\"size\":")
        json.append(String(size))
        json.append(",\"status\":")
        json.append(string: status)
        json.append(",\"upload_id\":")
        json.append(string: uploadID)
        json.append("}")
    }
}

/// JSON text being written: literal pieces, and strings escaped.
struct JSONBytes {
    private(set) var bytes: [UInt8] = []

    init() { bytes.reserveCapacity(1024) }

    /// Appends `text` as is (JSON punctuation, keys, numbers).
    mutating func append(_ text: String) { bytes.append(contentsOf: text.utf8) }

    /// Appends `value` or `null`.
    mutating func append(optional value: String?) {
        if let value { append(string: value) } else { append("null") }
    }

    /// Appends `value` as a JSON string: quotation mark, reverse solidus and the control
    /// characters escaped, everything else as its UTF-8.
    mutating func append(string value: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0A: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x08: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0x00..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
