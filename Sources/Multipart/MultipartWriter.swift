/// Encodes a multipart/form-data body, part by part, the way browsers do.
///
/// ```swift
/// var writer = MultipartWriter()
/// var body = writer.field(name: "title", value: "Q3")
/// body += writer.fileHead(name: "doc", filename: "q3.pdf", contentType: "application/pdf")
/// body += pdfBytes
/// body += writer.end()
/// request.headers["Content-Type"] = writer.contentType
/// ```
///
/// Names and filenames are escaped as browsers escape them (WHATWG HTML, "multipart/form-data
/// encoding algorithm"): `"` becomes `%22`, CR `%0D` and LF `%0A`; a parser reports them in that
/// escaped form (``escapeParameter(_:)``). A backslash is written as the quoted-pair `\\`, which
/// browsers do not do, so that a value ending in a backslash still round-trips. No header ever
/// gets a CR or LF: other header values have them replaced by spaces.
/// ``MultipartBody`` streams a whole form from parts whose data comes from any async sequence.
public struct MultipartWriter: Sendable {
    /// The boundary between parts.
    public let boundary: MultipartBoundary
    private var wrotePart = false

    /// A writer with a random boundary (``randomBoundary()``).
    public init() {
        // A random boundary is made of letters and digits, so it is always valid.
        self.boundary = try! MultipartBoundary(Self.randomBoundary())
    }

    /// A writer with a boundary of your choice.
    public init(boundary: MultipartBoundary) {
        self.boundary = boundary
    }

    /// `----IntakeFormBoundary` and 24 random letters and digits (about 143 bits), from the
    /// system's secure random generator.
    public static func randomBoundary() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)
        var generator = SystemRandomNumberGenerator()
        let random = (0..<24).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] }
        return "----IntakeFormBoundary" + String(decoding: random, as: UTF8.self)
    }

    /// The Content-Type header value for the body.
    public var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    /// The bytes that open a part: its delimiter line, headers and the empty line. Its data follows.
    ///
    /// - Parameters:
    ///   - filename: makes the part a file part (`""` is a file part with an empty name, as
    ///     browsers send for an empty file input).
    ///   - headers: more headers, written after Content-Disposition and Content-Type.
    public mutating func partHead(name: String, filename: String? = nil, contentType: String? = nil, headers: [MultipartHeader] = []) -> [UInt8] {
        var text = wrotePart ? "\r\n--" : "--"
        wrotePart = true
        text += boundary.description
        text += "\r\nContent-Disposition: form-data; name=\(Self.quoted(name))"
        if let filename {
            text += "; filename=\(Self.quoted(filename))"
        }
        text += "\r\n"
        if let contentType {
            text += "Content-Type: \(Self.headerValue(contentType))\r\n"
        }
        for header in headers {
            let name = header.name.utf8.allSatisfy(ByteClass.isToken) && !header.name.isEmpty ? header.name : "X-Invalid-Header-Name"
            text += "\(name): \(Self.headerValue(header.value))\r\n"
        }
        text += "\r\n"
        return Array(text.utf8)
    }

    /// A whole text field.
    public mutating func field(name: String, value: String) -> [UInt8] {
        partHead(name: name) + Array(value.utf8)
    }

    /// The bytes that open a file part; write its data after them.
    public mutating func fileHead(name: String, filename: String, contentType: String = "application/octet-stream") -> [UInt8] {
        partHead(name: name, filename: filename, contentType: contentType)
    }

    /// The close delimiter that ends the body (for a form with no parts, the whole body).
    public mutating func end() -> [UInt8] {
        let text = (wrotePart ? "\r\n--" : "--") + boundary.description + "--\r\n"
        wrotePart = false
        return Array(text.utf8)
    }

    /// `value` with `"`, CR and LF percent-encoded, as browsers encode names and filenames: what a
    /// parser reports for a name or filename written as `value`.
    public static func escapeParameter(_ value: String) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count)
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "%22"
            case "\r": out += "%0D"
            case "\n": out += "%0A"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// `value` escaped and quoted for a Content-Disposition parameter.
    static func quoted(_ value: String) -> String {
        var escaped = escapeParameter(value)
        if escaped.utf8.contains(UInt8(ascii: "\\")) {
            escaped = String(escaped.unicodeScalars.flatMap { $0 == "\\" ? ["\\", "\\"] : [Character($0)] })
        }
        return "\"" + escaped + "\""
    }

    /// `value` with every CR and LF replaced by a space.
    static func headerValue(_ value: String) -> String {
        guard value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A }) else { return value }
        return String(value.unicodeScalars.map { $0 == "\r" || $0 == "\n" ? " " : Character($0) })
    }
}
