import Foundation
import HTTPTypes
import HummingbirdTesting
import IntakeServer
import Testing

/// Runs blocking `body` on a thread of its own.
func onThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread.detachNewThread { continuation.resume(returning: body()) }
    }
}

/// A socket connected to 127.0.0.1:`port` whose receives give up after 30 s (so a server that
/// never answers fails the test instead of hanging it), with a receive buffer of
/// `receiveBuffer` bytes when given.
func connectedSocket(port: Int, receiveBuffer: Int32? = nil) -> Int32 {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    if var size = receiveBuffer {
        setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    }
    var timeout = timeval(tv_sec: 30, tv_usec: 0)
    setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    _ = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    return descriptor
}

/// Runs `body` with a connected socket on a thread of its own, then closes the socket.
func withRawSocket<T: Sendable>(port: Int, _ body: @escaping @Sendable (Int32) -> T) async -> T {
    await onThread {
        let descriptor = connectedSocket(port: port)
        defer { close(descriptor) }
        return body(descriptor)
    }
}

/// Sends `text`; false if the connection is gone.
func send(_ descriptor: Int32, _ text: String) -> Bool {
    Array(text.utf8).withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == text.utf8.count
}

/// Reads until the end of a response head (true) or the connection's end (false).
func receivesResponseHead(_ descriptor: Int32) -> Bool {
    var received: [UInt8] = []
    var byte: UInt8 = 0
    while recv(descriptor, &byte, 1, 0) == 1 {
        received.append(byte)
        if received.count >= 4, Array(received.suffix(4)) == Array("\r\n\r\n".utf8) { return true }
    }
    return false
}

@Suite struct ConnectionLimitTests {
    @Test(.timeLimit(.minutes(1))) func connectionsPastTheLimitAreClosedAndTheHeldOnesStillServed() async throws {
        let live = try LiveService { $0.maximumConnections = 3 }
        try await live.test { client in
            let port = try #require(client.port)
            let health = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
            let service = live.service
            let (answers, heldCount) = await onThread { () -> ([Bool], Int) in
                // Clients that hold their connections (served once, then idle), one after the
                // other, past the limit (the test client may hold one of the three places itself).
                var sockets: [Int32] = []
                defer { sockets.forEach { close($0) } }
                var answers: [Bool] = []
                for _ in 0..<5 {  // each served (or refused) before the next connects
                    sockets.append(connectedSocket(port: port))
                    answers.append(send(sockets.last!, health) && receivesResponseHead(sockets.last!))
                }
                return (answers, service.connections.count)
            }
            let served = answers.prefix { $0 }.count
            #expect((2...3).contains(served), "\(answers)")
            #expect(answers.dropFirst(served).allSatisfy { !$0 }, "past the limit every connection is closed: \(answers)")
            #expect(heldCount == 3)
            // Once they are gone there is room again (the server notices the closes as it can).
            var answered = false
            for _ in 0..<200 where !answered {
                answered = await withRawSocket(port: port) { descriptor in send(descriptor, health) && receivesResponseHead(descriptor) }
                if !answered { try await Task.sleep(for: .milliseconds(10)) }
            }
            #expect(answered)
        }
    }

    @Test(.timeLimit(.minutes(1))) func aClientTricklingItsBodyIsDisconnectedAndItsUploadLeavesNothing() async throws {
        let live = try LiveService { configuration in
            configuration.minimumUploadRate = 1000
            configuration.uploadRateWindow = .milliseconds(500)
        }
        try await live.test { client in
            let port = try #require(client.port)
            // One byte every 50 ms (20 bytes a second) of a 100 kB body: it would take 80 minutes.
            let sent = await withRawSocket(port: port) { descriptor -> Int in
                let head =
                    "POST /uploads HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: 100000\r\n\r\n"
                    + "--B\r\nContent-Disposition: form-data; name=\"doc\"; filename=\"slow.txt\"\r\n\r\n"
                guard send(descriptor, head) else { return -1 }
                for count in 0..<1200 {  // at most a minute
                    usleep(50_000)
                    if !send(descriptor, "x") { return count }
                }
                return 1200
            }
            #expect(sent >= 0 && sent < 1200, "the server kept the connection for \(sent) bytes")
            #expect(live.files(under: "tmp").isEmpty)
        }
    }

    @Test(.timeLimit(.minutes(1))) func aClientThatStopsReadingADownloadIsDisconnected() async throws {
        let live = try LiveService { $0.uploadRateWindow = .milliseconds(300) }
        try await live.test { client in
            let port = try #require(client.port)
            let size = 32 << 20
            let (body, contentType) = uploadBody(file: "big.txt", type: "text/plain", data: Array(repeating: UInt8(ascii: "a"), count: size))
            let created = try await client.execute(uri: "/uploads", method: .post, headers: [.contentType: contentType], body: body)
            let id = try #require(((try json(created))["documents"] as? [[String: Any]])?.first?["id"] as? String)
            let received = await onThread { () -> Int in
                let descriptor = connectedSocket(port: port, receiveBuffer: 64 << 10)
                defer { close(descriptor) }
                guard send(descriptor, "GET /documents/\(id)/content HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n") else { return -1 }
                sleep(3)  // a client that stopped reading
                var total = 0
                var buffer = [UInt8](repeating: 0, count: 1 << 16)
                while true {
                    let count = recv(descriptor, &buffer, buffer.count, 0)
                    if count <= 0 { break }
                    total += count
                }
                return total
            }
            #expect(received > 0 && received < size, "received \(received) of \(size) bytes")
        }
    }
}
