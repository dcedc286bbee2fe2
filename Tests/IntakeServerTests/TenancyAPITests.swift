import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Ingest
import IngestSQLite
import IntakeServer
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
        let (_, secret) = try await live.service.database.createKey(knowledgeBase: "a")
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

    @Test func revokedKeyIsRefused() async throws {
        let live = try LiveService()
        let (record, secret) = try await live.service.database.createKey(knowledgeBase: "a")
        #expect(try await live.service.database.revokeKey(id: record.id))
        try await live.test { client in
            let response = try await client.execute(uri: "/documents", method: .get, headers: bearer(secret))
            #expect(response.status == .unauthorized)
        }
    }

    @Test func eachKeySeesOnlyItsKnowledgeBase() async throws {
        let live = try LiveService()
        let (_, alice) = try await live.service.database.createKey(knowledgeBase: "alice")
        let (_, bob) = try await live.service.database.createKey(knowledgeBase: "bob")
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
        let (_, alice) = try await live.service.database.createKey(knowledgeBase: "alice")
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
        let (_, secret) = try await live.service.database.createKey(knowledgeBase: "a")
        let file = try Data(contentsOf: URL(fileURLWithPath: live.directory + "/intake.sqlite"))
        let wal = (try? Data(contentsOf: URL(fileURLWithPath: live.directory + "/intake.sqlite-wal"))) ?? Data()
        #expect(file.range(of: Data(secret.utf8)) == nil)
        #expect(wal.range(of: Data(secret.utf8)) == nil)
        try? FileManager.default.removeItem(atPath: live.directory)
    }
}
