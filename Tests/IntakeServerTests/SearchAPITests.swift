import Foundation
import Hummingbird
import HummingbirdTesting
import Ingest
import IngestSQLite
import IntakeRuntime
import IntakeServer
import KnowledgeBase
import Testing

@Suite struct SearchAPITests {
    /// Uploads `name` into `knowledgeBase`; returns the document id.
    private func upload(_ client: any TestClientProtocol, _ name: String, knowledgeBase: String = "default") async throws -> String {
        let (body, contentType) = uploadBody(file: name, type: nil, data: try fixture(name))
        let created = try await client.execute(uri: "/uploads?knowledge_base=\(knowledgeBase)", method: .post, headers: [.contentType: contentType], body: body)
        #expect(created.status == .created)
        return try #require((try json(created)["documents"] as? [[String: Any]])?.first?["id"] as? String)
    }

    /// Runs the service's first worker until the queue is empty.
    private func processAll(_ live: LiveService) async throws {
        let worker = try #require(live.service.node.workers().first).worker
        while try await worker.processNext() {}
    }

    @Test func processedDocumentsAreSearchableAndTheirChunksListed() async throws {
        let live = try LiveService()
        try await live.test { client in
            let guide = try await upload(client, "sample.md", knowledgeBase: "docs")
            let notes = try await upload(client, "sample-rich.html", knowledgeBase: "docs")
            let image = try await upload(client, "sample.png", knowledgeBase: "docs")
            _ = try await upload(client, "sample.txt", knowledgeBase: "other")
            try await processAll(live)

            let response = try await client.execute(uri: "/search?q=port%20taken&knowledge_base=docs", method: .get)
            #expect(response.status == .ok)
            let results = try #require(try json(response)["results"] as? [[String: Any]])
            #expect(results.first?["document_id"] as? String == guide)
            #expect(results.first?["filename"] as? String == "sample.md")
            #expect((results.first?["snippet"] as? String)?.contains("«port»") == true)
            #expect((results.first?["score"] as? Double ?? 0) > 0)

            let release = try json(try await client.execute(uri: "/search?q=release%20notes&limit=1", method: .get))
            #expect((release["results"] as? [[String: Any]])?.map { $0["document_id"] as? String } == [notes])

            // Another knowledge base's words are not found from this one.
            let scoped = try json(try await client.execute(uri: "/search?q=intake%20sample&knowledge_base=docs", method: .get))
            #expect((scoped["results"] as? [[String: Any]])?.isEmpty == true)

            let chunks = try json(try await client.execute(uri: "/documents/\(guide)/chunks", method: .get))
            let list = try #require(chunks["chunks"] as? [[String: Any]])
            #expect(list.first?["ordinal"] as? Int == 0)
            #expect((list.first?["text"] as? String)?.hasPrefix("# Setup guide") == true)

            let picture = try json(try await client.execute(uri: "/documents/\(image)", method: .get))
            #expect(picture["status"] as? String == "processed")
            #expect(picture["note"] as? String == "image/png has no text to extract (images are not read by OCR)")

            #expect(try await client.execute(uri: "/search", method: .get).status == .badRequest)
            #expect(try await client.execute(uri: "/search?q=x&limit=0", method: .get).status == .badRequest)
            #expect(try await client.execute(uri: "/documents/nope/chunks", method: .get).status == .notFound)

            // Deleting a document takes its passages out of the index.
            #expect(try await client.execute(uri: "/documents/\(guide)", method: .delete).status == .noContent)
            let after = try json(try await client.execute(uri: "/search?q=port%20taken", method: .get))
            #expect((after["results"] as? [[String: Any]])?.contains { $0["document_id"] as? String == guide } == false)
        }
    }

    @Test func aKeySearchesOnlyItsKnowledgeBase() async throws {
        let live = try LiveService()
        let legal = try await live.service.database.createKey(knowledgeBase: KnowledgeBaseName("legal")!)
        let sales = try await live.service.database.createKey(knowledgeBase: KnowledgeBaseName("sales")!)
        try await live.test { client in
            for (key, name) in [(legal.secret, "sample.md"), (sales.secret, "sample-rich.html")] {
                let (body, contentType) = uploadBody(file: name, type: nil, data: try fixture(name))
                let created = try await client.execute(uri: "/uploads", method: .post, headers: [.contentType: contentType, .authorization: "Bearer \(key)"], body: body)
                #expect(created.status == .created)
            }
            try await processAll(live)
            let mine = try json(try await client.execute(uri: "/search?q=setup%20release", method: .get, headers: [.authorization: "Bearer \(legal.secret)"]))
            #expect((mine["results"] as? [[String: Any]])?.map { $0["filename"] as? String } == ["sample.md"])
            let forbidden = try await client.execute(uri: "/search?q=setup&knowledge_base=sales", method: .get, headers: [.authorization: "Bearer \(legal.secret)"])
            #expect(forbidden.status == .forbidden)
        }
    }
}
