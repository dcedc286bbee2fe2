import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Ingest
import Crypto
import IntakeServer
import IntakeTesting
import Multipart
import Testing

/// tus 1.0.0 at /files/: creation, offsets, appends one at a time, completion through the upload
/// pipeline, termination, tenancy.
@Suite struct TusTests {
    static func name(_ text: String) -> HTTPField.Name { HTTPField.Name(text)! }
    static let tus: HTTPFields = [name("Tus-Resumable"): "1.0.0"]

    private func headers(_ extra: HTTPFields) -> HTTPFields {
        var all = Self.tus
        all.append(contentsOf: extra)
        return all
    }

    private func metadata(_ pairs: [(String, String)]) -> String {
        pairs.map { "\($0.0) \(Data($0.1.utf8).base64EncodedString())" }.joined(separator: ",")
    }

    private func create(_ client: some TestClientProtocol, length: Int?, metadata: String = "", extra: HTTPFields = [:]) async throws -> String {
        var fields: HTTPFields = [Self.name("Upload-Metadata"): metadata]
        if let length { fields[Self.name("Upload-Length")] = "\(length)" } else { fields[Self.name("Upload-Defer-Length")] = "1" }
        fields.append(contentsOf: extra)
        let created = try await client.execute(uri: "/files/", method: .post, headers: headers(fields))
        #expect(created.status == .created)
        #expect(created.headers[Self.name("Upload-Expires")]?.hasSuffix(" GMT") == true)
        return try #require(created.headers[.location])
    }

    private func patch(_ client: some TestClientProtocol, _ location: String, at offset: Int, _ bytes: [UInt8], extra: HTTPFields = [:]) async throws -> TestResponse {
        var fields: HTTPFields = [.contentType: "application/offset+octet-stream", Self.name("Upload-Offset"): "\(offset)"]
        fields.append(contentsOf: extra)
        return try await client.execute(uri: location, method: .patch, headers: headers(fields), body: ByteBuffer(bytes: bytes))
    }

    @Test func aFileSentInPiecesBecomesADocumentWithItsNameTypeAndFields() async throws {
        let live = try LiveService()
        let text = Array(String(repeating: "Resumable uploads survive bad connections.\n", count: 100).utf8)
        try await live.test { client in
            let options = try await client.execute(uri: "/files/", method: .options)
            #expect(options.status == .noContent)
            #expect(options.headers[Self.name("Tus-Version")] == "1.0.0")
            #expect(options.headers[Self.name("Tus-Extension")]?.contains("creation-defer-length") == true)
            let location = try await create(client, length: text.count, metadata: metadata([("filename", "notes ünï.txt"), ("filetype", "text/plain"), ("title", "Field notes")]))
            #expect(location.hasPrefix("/files/"))
            let first = try await patch(client, location, at: 0, Array(text[0..<1000]))
            #expect(first.status == .noContent)
            #expect(first.headers[Self.name("Upload-Offset")] == "1000")
            let head = try await client.execute(uri: location, method: .head, headers: Self.tus)
            #expect(head.headers[Self.name("Upload-Offset")] == "1000")
            #expect(head.headers[Self.name("Upload-Length")] == "\(text.count)")
            #expect(head.headers[.cacheControl] == "no-store")
            // A piece at another offset is refused with the offset to send from.
            let stale = try await patch(client, location, at: 0, Array(text[0..<1000]))
            #expect(stale.status == .conflict)
            #expect(stale.headers[Self.name("Upload-Offset")] == "1000")
            let last = try await patch(client, location, at: 1000, Array(text[1000...]))
            #expect(last.status == .noContent)
            #expect(last.headers[Self.name("Upload-Offset")] == "\(text.count)")
            let uploadLocation = try #require(last.headers[.location])
            let upload = try json(try await client.execute(uri: uploadLocation, method: .get))
            #expect((upload["fields"] as? [String: [String]])?["title"] == ["Field notes"])
            let document = try #require((upload["documents"] as? [[String: Any]])?.first)
            #expect(document["filename"] as? String == "notes ünï.txt")
            #expect(document["declared_type"] as? String == "text/plain")
            #expect(document["size"] as? Int == text.count)
            let content = try await client.execute(uri: "/documents/\(try #require(document["id"] as? String))/content", method: .get)
            #expect(Array(buffer: content.body) == text)
            // Done with: the upload and its file are gone.
            #expect(try await client.execute(uri: location, method: .head, headers: Self.tus).status == .notFound)
            #expect(live.files(under: "resumable").isEmpty)
        }
    }

    @Test func aDeferredLengthIsGivenByALaterPieceAndCreationCanCarryTheFirst() async throws {
        let live = try LiveService()
        try await live.test { client in
            let created = try await client.execute(
                uri: "/files/", method: .post,
                headers: headers([
                    Self.name("Upload-Defer-Length"): "1", .contentType: "application/offset+octet-stream",
                ]), body: ByteBuffer(string: "first half, "))
            #expect(created.status == .created)
            #expect(created.headers[Self.name("Upload-Offset")] == "12")
            let location = try #require(created.headers[.location])
            let head = try await client.execute(uri: location, method: .head, headers: Self.tus)
            #expect(head.headers[Self.name("Upload-Defer-Length")] == "1")
            let last = try await patch(client, location, at: 12, Array("second half\n".utf8), extra: [Self.name("Upload-Length"): "24"])
            #expect(last.status == .noContent)
            #expect(last.headers[.location]?.hasPrefix("/uploads/") == true)
        }
    }

    @Test func aRefusedFileAnswersAsPostUploadsDoesAndNothingIsKept() async throws {
        let live = try LiveService()
        let script = Array("#!/bin/sh\necho not a document\n".utf8)
        try await live.test { client in
            let location = try await create(client, length: script.count, metadata: metadata([("filename", "install.sh")]))
            let last = try await patch(client, location, at: 0, script)
            #expect(last.status == .unsupportedMediaType)
            let error = try json(last)["error"] as? [String: Any]
            #expect(error?["code"] as? String == "type_rejected")
            #expect(try await client.execute(uri: location, method: .head, headers: Self.tus).status == .notFound)
            #expect((try json(try await client.execute(uri: "/documents", method: .get))["documents"] as? [Any])?.isEmpty == true)
            #expect(live.files(under: "resumable").isEmpty)
            #expect(live.files(under: "blobs").isEmpty)
        }
    }

    @Test func aPieceWhoseChecksumIsWrongIsDroppedWith460() async throws {
        let live = try LiveService()
        let piece = Array("a piece with a checksum\n".utf8)
        let sha256 = Data(SHA256.hash(data: piece)).base64EncodedString()
        try await live.test { client in
            let options = try await client.execute(uri: "/files/", method: .options)
            #expect(options.headers[Self.name("Tus-Checksum-Algorithm")] == "sha1,sha256")
            let location = try await create(client, length: piece.count * 2)
            let wrong = try await patch(client, location, at: 0, piece, extra: [Self.name("Upload-Checksum"): "sha256 \(Data(SHA256.hash(data: [0])).base64EncodedString())"])
            #expect(wrong.status.code == 460)
            #expect(try await client.execute(uri: location, method: .head, headers: Self.tus).headers[Self.name("Upload-Offset")] == "0")
            let unknown = try await patch(client, location, at: 0, piece, extra: [Self.name("Upload-Checksum"): "md5 AAAA"])
            #expect(unknown.status == .badRequest)
            let right = try await patch(client, location, at: 0, piece, extra: [Self.name("Upload-Checksum"): "sha256 \(sha256)"])
            #expect(right.status == .noContent)
            #expect(right.headers[Self.name("Upload-Offset")] == "\(piece.count)")
            let sha1 = Data(Insecure.SHA1.hash(data: piece)).base64EncodedString()
            let last = try await patch(client, location, at: piece.count, piece, extra: [Self.name("Upload-Checksum"): "sha1 \(sha1)"])
            #expect(last.headers[.location]?.hasPrefix("/uploads/") == true)
        }
    }

    @Test func anUploadPastItsExpiryIsGoneAndTheSweepRemovesItsFile() async throws {
        let clock = TestClock()
        let live = try LiveService { $0.clock = clock.dates }
        try await live.test { client in
            let location = try await create(client, length: 100)
            #expect(try await patch(client, location, at: 0, Array(repeating: 65, count: 40)).status == .noContent)
            #expect(try await live.service.sweepExpiredResumableUploads() == 0)
            clock.advance(by: .seconds(24 * 3600 + 1))
            #expect(try await client.execute(uri: location, method: .head, headers: Self.tus).status == .notFound)
            #expect(try await live.service.sweepExpiredResumableUploads() == 1)
            #expect(live.files(under: "resumable").isEmpty)
        }
    }

    @Test func limitsVersionsTerminationAndTenancy() async throws {
        let live = try LiveService(
            limits: {
                var limits = MultipartLimits(); limits.fileBytes = 1000; return limits
            }())
        let (_, alice) = try await live.service.database.createKey(knowledgeBase: KnowledgeBaseName("alice")!)
        let (_, bob) = try await live.service.database.createKey(knowledgeBase: KnowledgeBaseName("bob")!)
        let location = try await live.test(keepData: true) { (client) async throws -> String in
            let asAlice: HTTPFields = [.authorization: "Bearer \(alice)"]
            // Another protocol version: 412 with the one spoken here.
            let wrongVersion = try await client.execute(
                uri: "/files/", method: .post,
                headers: [
                    Self.name("Tus-Resumable"): "0.2.2", Self.name("Upload-Length"): "10", .authorization: "Bearer \(alice)",
                ])
            #expect(wrongVersion.status == .preconditionFailed)
            #expect(wrongVersion.headers[Self.name("Tus-Version")] == "1.0.0")
            // A declared length over the file limit: 413 at creation.
            let tooLong = try await client.execute(uri: "/files/", method: .post, headers: headers(asAlice + [Self.name("Upload-Length"): "1001"]))
            #expect(tooLong.status == .contentTooLarge)
            let location = try await create(client, length: 100, extra: asAlice)
            // Bob's key does not see Alice's upload; without a key nothing is seen.
            #expect(try await client.execute(uri: location, method: .head, headers: headers([.authorization: "Bearer \(bob)"])).status == .notFound)
            #expect(try await client.execute(uri: location, method: .head, headers: Self.tus).status == .unauthorized)
            #expect(try await patch(client, location, at: 0, [1, 2, 3], extra: [.authorization: "Bearer \(bob)"]).status == .notFound)
            // More bytes than the upload has room for: 413 (the connection closes, the rest unread).
            let over = try await patch(client, location, at: 0, Array(repeating: 65, count: 101), extra: asAlice)
            #expect(over.status == .contentTooLarge)
            return location
        }
        try await live.test { (client) async throws in
            let asAlice: HTTPFields = [.authorization: "Bearer \(alice)"]
            let head = try await client.execute(uri: location, method: .head, headers: headers(asAlice))
            #expect(head.headers[Self.name("Upload-Offset")] == "0", "no byte of the refused piece counts")
            // Termination.
            #expect(try await client.execute(uri: location, method: .delete, headers: headers(asAlice)).status == .noContent)
            #expect(try await client.execute(uri: location, method: .head, headers: headers(asAlice)).status == .notFound)
            #expect(live.files(under: "resumable").isEmpty)
        }
    }
}
