import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Ingest
import IngestSQLite
import IntakeServer
import Testing

/// Sends `request` as raw bytes to 127.0.0.1:`port` and returns what came back until the server
/// closed the connection (or, `untilHeadEnds`, until the end of the first response head).
func rawExchange(port: Int, _ request: String, untilHeadEnds: Bool = false) async -> String {
    await withRawSocket(port: port) { descriptor in
        guard send(descriptor, request) else { return "" }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count <= 0 { break }
            received += buffer[0..<count]
            if untilHeadEnds, String(decoding: received, as: UTF8.self).contains("\r\n\r\n") { break }
        }
        return String(decoding: received, as: UTF8.self)
    }
}

/// What a web page in a browser can make the local service do.
@Suite struct BrowserBoundaryTests {
    @Test func aFormPostedByAPageOfAnotherSiteIsRefusedAndKeepsNothing() async throws {
        let live = try LiveService()
        try await live.test { client in
            let (body, contentType) = uploadBody(file: "a.txt", type: "text/plain", data: try fixture("sample.txt"))
            let response = try await client.execute(
                uri: "/uploads", method: .post, headers: [.contentType: contentType, .origin: "https://evil.example"], body: body)
            #expect(response.status == .forbidden)
            #expect((try json(response)["error"] as? [String: String])?["code"] == "origin_not_allowed")
            #expect(try await live.service.database.documents(.init()).documents.isEmpty)
        }
    }

    @Test func aRequestNamingAnotherHostIsRefusedAsDNSRebinding() async throws {
        let live = try LiveService()
        try await live.test { client in
            let port = try #require(client.port)
            let rebound = await rawExchange(port: port, "GET /documents HTTP/1.1\r\nHost: rebind.evil.example:8080\r\nConnection: close\r\n\r\n")
            #expect(rebound.hasPrefix("HTTP/1.1 403"))
            #expect(rebound.contains("host_not_allowed"))
            let localhost = await rawExchange(port: port, "GET /documents HTTP/1.1\r\nHost: localhost:\(port)\r\nConnection: close\r\n\r\n")
            #expect(localhost.hasPrefix("HTTP/1.1 200"))
        }
    }

    @Test func anAllowedHostIsAnsweredBesideLoopback() async throws {
        let live = try LiveService { $0.allowedHosts = ["intake.internal"] }
        try await live.test { client in
            let response = await rawExchange(port: try #require(client.port), "GET /documents HTTP/1.1\r\nHost: intake.internal\r\nConnection: close\r\n\r\n")
            #expect(response.hasPrefix("HTTP/1.1 200"))
        }
    }

    @Test func aListedOriginGetsItsPreflightAnsweredAndItsUploadAccepted() async throws {
        let live = try LiveService { $0.corsOrigins = ["https://app.example.com"] }
        try await live.test { client in
            let preflight = try await client.execute(
                uri: "/uploads", method: .options,
                headers: [
                    .origin: "https://app.example.com", HTTPField.Name("Access-Control-Request-Method")!: "POST",
                ])
            #expect(preflight.status == .noContent)
            #expect(preflight.headers[HTTPField.Name("Access-Control-Allow-Origin")!] == "https://app.example.com")
            let (body, contentType) = uploadBody(file: "a.txt", type: "text/plain", data: try fixture("sample.txt"))
            let created = try await client.execute(
                uri: "/uploads", method: .post, headers: [.contentType: contentType, .origin: "https://app.example.com"], body: body)
            #expect(created.status == .created)
            #expect(created.headers[HTTPField.Name("Access-Control-Allow-Origin")!] == "https://app.example.com")
        }
    }

    @Test func requestsWithoutOriginOrFromTheServersOwnPagesAreUnaffected() async throws {
        let live = try LiveService()
        try await live.test { client in
            let port = try #require(client.port)
            let (body, contentType) = uploadBody(file: "a.txt", type: "text/plain", data: try fixture("sample.txt"))
            let request =
                "POST /uploads HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nOrigin: http://127.0.0.1:\(port)\r\nContent-Type: \(contentType)\r\n"
                + "Content-Length: \(body.readableBytes)\r\nConnection: close\r\n\r\n" + String(buffer: body)
            #expect(await rawExchange(port: port, request).hasPrefix("HTTP/1.1 201"))
            let withoutOrigin = try await client.execute(uri: "/uploads", method: .post, headers: [.contentType: contentType], body: body)
            #expect(withoutOrigin.status == .created)
        }
    }
}
