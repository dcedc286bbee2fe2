/// Builds raw multipart bodies for tests, byte-exact, so each test shows what it sends.
struct BodyBuilder {
    var boundary = "XyZzy0123456789abcdefBOUNDARY"
    var bytes: [UInt8] = []

    var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    /// A part: delimiter line, header lines, empty line, data, CRLF.
    mutating func part(headers: [String], data: [UInt8]) {
        raw("--\(boundary)\r\n")
        for header in headers { raw(header + "\r\n") }
        raw("\r\n")
        bytes += data
        raw("\r\n")
    }

    mutating func field(_ name: String, _ value: String) {
        part(headers: ["Content-Disposition: form-data; name=\"\(name)\""], data: Array(value.utf8))
    }

    mutating func file(_ name: String, filename: String, data: [UInt8]) {
        part(headers: ["Content-Disposition: form-data; name=\"\(name)\"; filename=\"\(filename)\"", "Content-Type: application/octet-stream"], data: data)
    }

    mutating func close() {
        raw("--\(boundary)--\r\n")
    }

    mutating func raw(_ text: String) {
        bytes += Array(text.utf8)
    }

    static func single(headers: [String], data: [UInt8] = Array("x".utf8), boundary: String = "XyZzy0123456789abcdefBOUNDARY") -> BodyBuilder {
        var body = BodyBuilder(boundary: boundary)
        body.part(headers: headers, data: data)
        body.close()
        return body
    }
}
