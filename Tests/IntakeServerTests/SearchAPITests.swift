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

            // An image without text: read by OCR, found empty (without tesseract, its error names the package).
            let picture = try json(try await client.execute(uri: "/documents/\(image)", method: .get))
            if FileManager.default.isExecutableFile(atPath: "/usr/bin/tesseract") {
                #expect(picture["status"] as? String == "processed")
                #expect(picture["note"] as? String == "OCR found no text in the image")
            } else {
                #expect((picture["error"] as? String)?.contains("apt-get install tesseract-ocr") == true)
            }

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

    /// Runs `tool` with `arguments`; whether it exited 0.
    private func run(_ tool: String, _ arguments: [String]) throws -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus == 0
    }

    @Test(.enabled(if: ["/usr/bin/tesseract", "/usr/bin/pdftoppm", "/usr/bin/img2pdf"].allSatisfy(FileManager.default.isExecutableFile(atPath:))))
    func wordsInAnImageAndInAScannedPDFAreFoundBySearch() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("intake-ocr-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // A picture of the multipage fixture's second page, and the whole fixture as a scan.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let pdf = root.appendingPathComponent("Fixtures/documents/multipage.pdf").path
        #expect(try run("pdftoppm", ["-r", "150", "-png", pdf, directory + "/page"]))
        let pages = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".png") }.sorted().map { directory + "/" + $0 }
        #expect(pages.count == 3)
        #expect(try run("img2pdf", pages + ["-o", directory + "/scan.pdf"]))
        let live = try LiveService()
        try await live.test { client in
            func send(_ path: String, as name: String) async throws -> String {
                let (body, contentType) = uploadBody(file: name, type: nil, data: [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
                let created = try await client.execute(uri: "/uploads", method: .post, headers: [.contentType: contentType], body: body)
                #expect(created.status == .created)
                return try #require((try json(created)["documents"] as? [[String: Any]])?.first?["id"] as? String)
            }
            let picture = try await send(pages[1], as: "whiteboard.png")
            let scan = try await send(directory + "/scan.pdf", as: "scan.pdf")
            try await processAll(live)
            let scanned = try json(try await client.execute(uri: "/documents/\(scan)", method: .get))
            #expect(scanned["status"] as? String == "processed")
            #expect(scanned["note"] as? String == "pages 1, 2, 3 read by OCR (eng)")
            let ranking = try json(try await client.execute(uri: "/search?q=search%20ranking", method: .get))
            #expect((ranking["results"] as? [[String: Any]])?.map { $0["document_id"] as? String } == [scan])
            // The passage is on the scan's third page, and says it was read by OCR.
            #expect((ranking["results"] as? [[String: Any]])?.first?["page"] as? Int == 3)
            let chunks = try json(try await client.execute(uri: "/documents/\(scan)/chunks", method: .get))
            #expect((chunks["chunks"] as? [[String: Any]])?.map { $0["page"] as? Int } == [1, 2, 3])
            #expect((chunks["chunks"] as? [[String: Any]])?.map { $0["source"] as? String } == ["ocr", "ocr", "ocr"])
            let chunking = try json(try await client.execute(uri: "/search?q=chunking", method: .get))
            let found = (chunking["results"] as? [[String: Any]]) ?? []
            #expect(Set(found.compactMap { $0["document_id"] as? String }) == [picture, scan])
            // The image is one page; the scan's passage is on its second.
            #expect(Set(found.compactMap { $0["page"] as? Int }) == [1, 2])
        }
    }

    @Test func everyPartOfOfficeDocumentsIsFoundBySearchWithTheSlide() async throws {
        let live = try LiveService()
        try await live.test { client in
            let word = try await upload(client, "sample-parts.docx")
            let deck = try await upload(client, "sample-notes.pptx")
            let workbook = try await upload(client, "sample-sheets.xlsx")
            let rich = try await upload(client, "sample.rtf")
            try await processAll(live)
            func hits(_ words: String) async throws -> [[String: Any]] {
                let query = words.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? words
                return try json(try await client.execute(uri: "/search?q=\(query)", method: .get))["results"] as? [[String: Any]] ?? []
            }
            for (words, document) in [
                ("footnote retention policy", word), ("endnote archive ledgers", word), ("reviewer comment", word),
                ("confidential handbook header", word), ("fire exit stairs", word), ("region north revenue", workbook),
                ("café opens", rich),
            ] {
                #expect(try await hits(words).first?["document_id"] as? String == document, "\(words)")
            }
            // Speaker notes, found on their slide.
            let notes = try await hits("travel budget training")
            #expect(notes.first?["document_id"] as? String == deck)
            #expect(notes.first?["page"] as? Int == 2)
        }
    }

    @Test func searchAndListingsAreNarrowedByUploadFieldsTypeAndDate() async throws {
        let live = try LiveService()
        try await live.test { client in
            func send(_ name: String, tag: String) async throws -> String {
                let (body, contentType) = uploadBody(file: name, type: nil, data: try fixture(name), field: ("tags", tag))
                let created = try await client.execute(uri: "/uploads", method: .post, headers: [.contentType: contentType], body: body)
                return try #require((try json(created)["documents"] as? [[String: Any]])?.first?["id"] as? String)
            }
            let text = try await send("sample.txt", tag: "hr")
            let pdf = try await send("sample.pdf", tag: "finance")
            try await processAll(live)
            func ids(_ uri: String, _ key: String) async throws -> Set<String> {
                let response = try await client.execute(uri: uri, method: .get)
                #expect(response.status == .ok, "\(uri)")
                return Set((try json(response)[key] as? [[String: Any]] ?? []).compactMap { ($0["document_id"] ?? $0["id"]) as? String })
            }
            #expect(try await ids("/search?q=intake%20sample", "results") == [text, pdf])
            #expect(try await ids("/search?q=intake%20sample&filter%5Btags%5D=hr", "results") == [text])
            #expect(try await ids("/search?q=intake%20sample&filter[tags]=finance&type=application/pdf", "results") == [pdf])
            #expect(try await ids("/search?q=intake%20sample&filter[tags]=finance&type=text/plain", "results").isEmpty)
            #expect(try await ids("/documents?filter[tags]=finance", "documents") == [pdf])
            // A document shows its metadata: the fields of its upload.
            let detail = try json(try await client.execute(uri: "/documents/\(pdf)", method: .get))
            #expect((detail["fields"] as? [String: [String]]) == ["tags": ["finance"]])
            #expect(try await ids("/documents?type=text/plain", "documents") == [text])
            #expect(try await ids("/documents?uploaded_after=2000-01-01&uploaded_before=2999-01-01T00:00:00Z", "documents") == [text, pdf])
            #expect(try await ids("/documents?uploaded_before=2000-01-01", "documents").isEmpty)
            for bad in ["/documents?uploaded_after=yesterday", "/search?q=x&type=pdf", "/search?q=x&filter[]=a"] {
                let refused = try await client.execute(uri: bad, method: .get)
                #expect(refused.status == .badRequest, "\(bad)")
            }
            let many = (0...DocumentFilter.maximumFields).map { "filter[f\($0)]=v" }.joined(separator: "&")
            #expect(try await client.execute(uri: "/documents?" + many, method: .get).status == .badRequest)
        }
    }
}
