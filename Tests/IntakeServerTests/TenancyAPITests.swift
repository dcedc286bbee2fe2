import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Ingest
import IngestSQLite
import IntakeRuntime
import IntakeServer
import Multipart
import Testing

@Suite struct TenancyAPITests {
    func bearer(_ key: String) -> HTTPFields { [.authorization: "Bearer \(key)"] }

    @Test func withoutKeysEveryRequestIsAnonymous() async throws {
        let live = try LiveService()
        try await live.test { client in
            let response = try await client.execute(uri: "/documents", method: .get)
            #expect(response.status == .ok)
        }
    }

    @Test func onceAKeyExistsRequestsNeedOneExceptHealthz() async throws {
        let live = try LiveService()
        let (_, secret) = try await live.service.database.createKey(knowledgeBase: KnowledgeBaseName("a")!)
        try await live.test { client in
            let missing = try await client.execute(uri: "/documents", method: .get)
            #expect(missing.status == .unauthorized)
            #expect(missing.headers[.wwwAuthenticate] == "Bearer")
            let wrong = try await client.execute(uri: "/documents", method: .get, headers: bearer("intake_nope_nope"))
            #expect(wrong.status == .unauthorized)
            let right = try await client.execute(uri: "/documents", method: .get, headers: bearer(secret))
            #expect(right.status == .ok)
            let health = try await client.execute(uri: "/healthz", method: .get)
            #expect(health.status == .ok)
        }
    }

    @Test func onceAKeyExistsMetricsAcrossTenantsAreForNoKeyOnTheAPIAddress() async throws {
        let live = try LiveService()
        let (_, secret) = try await live.service.database.createKey(knowledgeBase: KnowledgeBaseName("a")!)
        try await live.test { client in
            #expect(try await client.execute(uri: "/metrics", method: .get).status == .forbidden)
            let withKey = try await client.execute(uri: "/metrics", method: .get, headers: bearer(secret))
            #expect(withKey.status == .forbidden)
            let message = (try json(withKey)["error"] as? [String: String])?["message"]
            #expect(message?.contains("--metrics-address") == true)
        }
    }

    @Test func metricsOnTheirOwnAddressAreServedThereAndNotOnTheAPIs() async throws {
        let live = try LiveService { $0.metricsAddress = ("127.0.0.1", 0) }
        try await live.test { client in
            let response = try await client.execute(uri: "/metrics", method: .get)
            #expect(response.status == .notFound)
        }
        let router = Router()
        live.service.addMetrics(to: router)
        try await Application(router: router).test(.router) { client in
            let response = try await client.execute(uri: "/metrics", method: .get)
            #expect(response.status == .ok)
            #expect(String(buffer: response.body).contains("intake_"))
        }
    }

    @Test func anUploadWithoutAValidKeyGets401Not100ContinueAndItsConnectionClosed() async throws {
        let live = try LiveService()
        let (_, secret) = try await live.service.database.createKey(knowledgeBase: KnowledgeBaseName("a")!)
        try await live.test { client in
            let port = try #require(client.port)
            let head = { (authorization: String) in
                "POST /uploads HTTP/1.1\r\nHost: 127.0.0.1\r\n\(authorization)Content-Type: multipart/form-data; boundary=B\r\n"
                    + "Content-Length: 1000000\r\nExpect: 100-continue\r\n\r\n"
            }
            // Read to the end: the server answers 401 at once and closes, the body never sent.
            let refused = await rawExchange(port: port, head("Authorization: Bearer intake_wrong_key\r\n"))
            #expect(refused.hasPrefix("HTTP/1.1 401"), "\(refused.prefix(80))")
            #expect(!refused.contains("100 Continue"))
            #expect(refused.lowercased().contains("connection: close"))
            let welcome = await rawExchange(port: port, head("Authorization: Bearer \(secret)\r\n"), untilHeadEnds: true)
            #expect(welcome.hasPrefix("HTTP/1.1 100 Continue"), "\(welcome.prefix(80))")
        }
    }

    @Test func revokedKeyIsRefused() async throws {
        let live = try LiveService()
        let (record, secret) = try await live.service.database.createKey(knowledgeBase: KnowledgeBaseName("a")!)
        #expect(try await live.service.database.revokeKey(id: record.id))
        try await live.test { client in
            let response = try await client.execute(uri: "/documents", method: .get, headers: bearer(secret))
            #expect(response.status == .unauthorized)
        }
    }

    @Test func eachKeySeesOnlyItsKnowledgeBase() async throws {
        let live = try LiveService()
        let (_, alice) = try await live.service.database.createKey(knowledgeBase: KnowledgeBaseName("alice")!)
        let (_, bob) = try await live.service.database.createKey(knowledgeBase: KnowledgeBaseName("bob")!)
        let pdf = try fixture("sample.pdf")
        try await live.test { client in
            let (body, contentType) = uploadBody(file: "alice.pdf", type: nil, data: pdf)
            var headers = bearer(alice)
            headers[.contentType] = contentType
            let created = try await client.execute(uri: "/uploads", method: .post, headers: headers, body: body)
            #expect(created.status == .created)
            let upload = try json(created)
            #expect(upload["knowledge_base"] as? String == "alice")
            let uploadID = upload["id"] as! String
            let documentID = (upload["documents"] as! [[String: Any]])[0]["id"] as! String

            let ownList = try json(try await client.execute(uri: "/documents", method: .get, headers: bearer(alice)))
            #expect((ownList["documents"] as! [Any]).count == 1)
            let otherList = try json(try await client.execute(uri: "/documents", method: .get, headers: bearer(bob)))
            #expect((otherList["documents"] as! [Any]).isEmpty)
            for uri in ["/uploads/\(uploadID)", "/documents/\(documentID)", "/documents/\(documentID)/content"] {
                let hidden = try await client.execute(uri: uri, method: .get, headers: bearer(bob))
                #expect(hidden.status == .notFound, "\(uri)")
                let visible = try await client.execute(uri: uri, method: .get, headers: bearer(alice))
                #expect(visible.status == .ok, "\(uri)")
            }
            let deleteByOther = try await client.execute(uri: "/documents/\(documentID)", method: .delete, headers: bearer(bob))
            #expect(deleteByOther.status == .notFound)
        }
    }

    @Test func aKeyCannotUploadIntoAnotherKnowledgeBase() async throws {
        let live = try LiveService()
        let (_, alice) = try await live.service.database.createKey(knowledgeBase: KnowledgeBaseName("alice")!)
        try await live.test { client in
            let (body, contentType) = uploadBody(file: "a.txt", type: nil, data: Array("text".utf8))
            var headers = bearer(alice)
            headers[.contentType] = contentType
            let response = try await client.execute(uri: "/uploads?knowledge_base=bob", method: .post, headers: headers, body: body)
            #expect(response.status == .forbidden)
        }
    }

    @Test func keysAreStoredOnlyAsHashes() async throws {
        let live = try LiveService()
        let (_, secret) = try await live.service.database.createKey(knowledgeBase: KnowledgeBaseName("a")!)
        let file = try Data(contentsOf: URL(fileURLWithPath: live.directory + "/intake.sqlite"))
        let wal = (try? Data(contentsOf: URL(fileURLWithPath: live.directory + "/intake.sqlite-wal"))) ?? Data()
        #expect(file.range(of: Data(secret.utf8)) == nil)
        #expect(wal.range(of: Data(secret.utf8)) == nil)
        try? FileManager.default.removeItem(atPath: live.directory)
    }
}

@Suite struct IdempotencyAPITests {
    func post(_ client: any TestClientProtocol, key: String, body: ByteBuffer, contentType: String) async throws -> TestResponse {
        try await client.execute(uri: "/uploads", method: .post, headers: [.contentType: contentType, HTTPField.Name("Idempotency-Key")!: key], body: body)
    }

    @Test func retryWithTheSameKeyAndBodyReplaysWithoutCreatingAgain() async throws {
        let live = try LiveService()
        let (body, contentType) = uploadBody(file: "a.pdf", type: nil, data: try fixture("sample.pdf"))
        try await live.test { client in
            let first = try await post(client, key: "k-1", body: body, contentType: contentType)
            #expect(first.status == .created)
            let second = try await post(client, key: "k-1", body: body, contentType: contentType)
            #expect(second.status == .created)
            #expect(second.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
            #expect(second.headers[.location] == first.headers[.location])
            #expect(try json(second)["id"] as? String == json(first)["id"] as? String)
            #expect(try await live.service.database.documents(DocumentQuery()).documents.count == 1)
        }
    }

    @Test func sameKeyWithAnotherBodyIs422() async throws {
        let live = try LiveService()
        let (first, contentType) = uploadBody(file: "a.txt", type: nil, data: Array("one".utf8))
        try await live.test { client in
            let created = try await post(client, key: "k-2", body: first, contentType: contentType)
            #expect(created.status == .created)
            var writer = MultipartWriter()
            var other = writer.partHead(name: "doc", filename: "b.txt")
            other += Array("two".utf8)
            other += writer.end()
            let response = try await post(client, key: "k-2", body: ByteBuffer(bytes: other), contentType: writer.contentType)
            #expect(response.status == .unprocessableContent)
        }
    }

    @Test func aRetryOfTheSameFormWithANewBoundaryReplaysAndAnotherFormIs422() async throws {
        let live = try LiveService()
        /// The form curl -F or a browser sends, each time with a boundary of its own.
        @Sendable func form(boundary: String, title: String, file: [UInt8]) -> (ByteBuffer, String) {
            var writer = MultipartWriter(boundary: try! MultipartBoundary(boundary))
            let bytes =
                writer.field(name: "title", value: title) + writer.partHead(name: "doc", filename: "notes.txt", contentType: "text/plain")
                + file + writer.end()
            return (ByteBuffer(bytes: bytes), writer.contentType)
        }
        let text = Array("Minutes of the meeting.\n".utf8)
        try await live.test { client in
            let (first, firstType) = form(boundary: "------------------------a1b2c3", title: "Minutes", file: text)
            let created = try await post(client, key: "k-form", body: first, contentType: firstType)
            #expect(created.status == .created)
            let (retry, retryType) = form(boundary: "----WebKitFormBoundaryZ9y8X7", title: "Minutes", file: text)
            let replayed = try await post(client, key: "k-form", body: retry, contentType: retryType)
            #expect(replayed.status == .created)
            #expect(replayed.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
            #expect(try json(replayed)["id"] as? String == json(created)["id"] as? String)
            for (title, file) in [("Other title", text), ("Minutes", Array("Other minutes.\n".utf8))] {
                let (other, otherType) = form(boundary: "x-\(title.count)-\(file.count)", title: title, file: file)
                #expect(try await post(client, key: "k-form", body: other, contentType: otherType).status == .unprocessableContent)
            }
            #expect(try await live.service.database.documents(DocumentQuery()).documents.count == 1)
        }
    }

    @Test func aFailedRequestFreesItsKeyForTheRetry() async throws {
        let live = try LiveService()
        let (good, contentType) = uploadBody(file: "a.txt", type: nil, data: Array("text".utf8))
        var cut = good
        cut.moveWriterIndex(to: cut.writerIndex - 8)
        let truncated = cut
        try await live.test { client in
            let failed = try await post(client, key: "k-3", body: truncated, contentType: contentType)
            #expect(failed.status == .badRequest)
        }
        let claim = try await live.service.database.claimIdempotency(knowledgeBase: "default", key: "k-3", owner: live.service.configuration.node.name)
        #expect(claim == .acquired)
    }

    @Test func keyStillInFlightIs409() async throws {
        let live = try LiveService()
        #expect(try await live.service.database.claimIdempotency(knowledgeBase: "default", key: "busy", owner: live.service.configuration.node.name) == .acquired)
        let (body, contentType) = uploadBody(file: "a.txt", type: nil, data: Array("text".utf8))
        try await live.test { client in
            let response = try await post(client, key: "busy", body: body, contentType: contentType)
            #expect(response.status == .conflict)
        }
    }
}
