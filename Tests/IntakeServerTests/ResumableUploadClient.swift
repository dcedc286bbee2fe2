import Foundation

/// A client of the IETF resumable-upload protocol for the tests, on a raw socket: it sees the
/// interim (1xx) responses an HTTP library hides, and can cut a request midway through its body.
struct ResumableUploadClient: Sendable {
    let port: Int

    /// One response head: its status and fields (names lowercased).
    struct Head: Sendable {
        var status: Int
        var fields: [(name: String, value: String)]

        subscript(_ name: String) -> String? {
            fields.first { $0.name == name.lowercased() }?.value
        }
    }

    /// What came back for one request: the interim responses, then the final one and its body
    /// (nil when the connection ended before it).
    struct Exchange: Sendable {
        var interim: [Head] = []
        var final: Head?
        var body: [UInt8] = []

        var status: Int? { final?.status }
        subscript(_ name: String) -> String? { final?[name] }
        var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] }
    }

    /// Sends a request and reads its responses. With `cutAfter`, only that many bytes of `body`
    /// are sent; the client then waits for the first interim response (the server has the
    /// request by then) and closes the connection without reading a final one.
    func send(
        _ method: String, _ path: String, _ fields: [(String, String)] = [], body: [UInt8] = [], cutAfter: Int? = nil
    ) async -> Exchange {
        await onThread {
            let descriptor = connectedSocket(port: port)
            defer { close(descriptor) }
            var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            for (name, value) in fields { head += "\(name): \(value)\r\n" }
            if method != "HEAD" && method != "GET" && method != "DELETE" || !body.isEmpty { head += "Content-Length: \(body.count)\r\n" }
            head += "\r\n"
            let bytes = Array(head.utf8) + body.prefix(cutAfter ?? body.count)
            guard Self.sendAll(descriptor, bytes) else { return Exchange() }
            var reader = Reader(descriptor: descriptor)
            return Self.read(&reader, method: method, stopAtInterim: cutAfter != nil)
        }
    }

    /// A request whose body has been sent only in part, its connection held open.
    final class HeldRequest: @unchecked Sendable {
        let descriptor: Int32
        let method: String
        /// What has been read from the connection so far (interim responses before the rest is sent).
        private var reader: Reader

        init(descriptor: Int32, method: String) {
            self.descriptor = descriptor
            self.method = method
            reader = Reader(descriptor: descriptor)
        }

        /// Reads interim responses until one satisfies `wanted` (or the connection ends); returns
        /// them all. Not to be called while another call on this request runs.
        func interims(until wanted: @escaping @Sendable (Head) -> Bool) async -> [Head] {
            await onThread {
                var heads: [Head] = []
                while let head = self.reader.head(), (100..<200).contains(head.status) {
                    heads.append(head)
                    if wanted(head) { break }
                }
                return heads
            }
        }

        /// Sends the rest of the body and reads the answer, then closes the connection.
        func finish(_ rest: [UInt8]) async -> Exchange {
            await onThread {
                defer { close(self.descriptor) }
                _ = ResumableUploadClient.sendAll(self.descriptor, rest)
                return ResumableUploadClient.read(&self.reader, method: self.method, stopAtInterim: false)
            }
        }
    }

    /// Sends a request's head and the first `count` bytes of `body` (whose whole length it
    /// declares), and holds the connection for ``HeldRequest/finish(_:)``.
    func begin(_ method: String, _ path: String, _ fields: [(String, String)], body: [UInt8], sending count: Int) async -> HeldRequest {
        await onThread {
            let descriptor = connectedSocket(port: port)
            var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            for (name, value) in fields { head += "\(name): \(value)\r\n" }
            head += "Content-Length: \(body.count)\r\n\r\n"
            _ = Self.sendAll(descriptor, Array(head.utf8) + body.prefix(count))
            return HeldRequest(descriptor: descriptor, method: method)
        }
    }

    fileprivate static func read(_ reader: inout Reader, method: String, stopAtInterim: Bool) -> Exchange {
        var exchange = Exchange()
        while let response = reader.head() {
            if (100..<200).contains(response.status) {
                exchange.interim.append(response)
                if stopAtInterim { return exchange }
                continue
            }
            exchange.final = response
            let length = Int(response["content-length"] ?? "0") ?? 0
            if method != "HEAD" && length > 0 { exchange.body = reader.bytes(length) }
            return exchange
        }
        return exchange
    }

    fileprivate static func sendAll(_ descriptor: Int32, _ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let count = bytes.withUnsafeBytes { Foundation.send(descriptor, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { return false }
            sent += count
        }
        return true
    }

    /// Buffered reads from the socket.
    fileprivate struct Reader {
        let descriptor: Int32
        var buffer: [UInt8] = []

        mutating func fill() -> Bool {
            var chunk = [UInt8](repeating: 0, count: 64 << 10)
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return false }
            buffer.append(contentsOf: chunk[0..<count])
            return true
        }

        mutating func head() -> Head? {
            let end = Array("\r\n\r\n".utf8)
            while true {
                if let range = buffer.firstRange(of: end) {
                    let text = String(decoding: buffer[..<range.lowerBound], as: UTF8.self)
                    buffer.removeSubrange(..<range.upperBound)
                    var lines = text.components(separatedBy: "\r\n")
                    let statusLine = lines.removeFirst().split(separator: " ")
                    guard statusLine.count >= 2, let status = Int(statusLine[1]) else { return nil }
                    let fields = lines.compactMap { line -> (name: String, value: String)? in
                        guard let colon = line.firstIndex(of: ":") else { return nil }
                        return (line[..<colon].lowercased(), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
                    }
                    return Head(status: status, fields: fields)
                }
                guard fill() else { return nil }
            }
        }

        mutating func bytes(_ count: Int) -> [UInt8] {
            while buffer.count < count, fill() {}
            let taken = Array(buffer.prefix(count))
            buffer.removeFirst(taken.count)
            return taken
        }
    }
}
