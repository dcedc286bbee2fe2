import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Ingest
import IntakeServer
import Testing

/// The page for people at `GET /`: served by the service itself, under a policy that allows
/// only its own files, and written so that nothing a client sent can become markup.
@Suite struct WebPageTests {
    static let pageFiles: [(path: String, type: String)] = [
        ("/", "text/html; charset=utf-8"), ("/app.js", "text/javascript; charset=utf-8"),
        ("/app.css", "text/css; charset=utf-8"), ("/favicon.svg", "image/svg+xml"),
    ]

    /// The page's source files, read from the package.
    private func source(_ name: String) throws -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return try String(contentsOf: root.appendingPathComponent("Sources/IntakeServer/Resources/web/\(name)"), encoding: .utf8)
    }

    @Test func thePageAndItsFilesAreServedUnderAStrictPolicy() async throws {
        let live = try LiveService()
        try await live.test { client in
            for (path, type) in Self.pageFiles {
                let response = try await client.execute(uri: path, method: .get)
                #expect(response.status == .ok, "\(path)")
                #expect(response.headers[.contentType] == type)
                #expect(response.body.readableBytes > 0)
                let policy = try #require(response.headers[HTTPField.Name("Content-Security-Policy")!])
                #expect(policy.contains("default-src 'self'"))
                #expect(policy.contains("frame-ancestors 'none'"))
                #expect(!policy.contains("unsafe-inline") && !policy.contains("unsafe-eval"))
                #expect(response.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
                #expect(response.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer")
            }
            let page = try await client.execute(uri: "/", method: .get)
            #expect(String(buffer: page.body).contains("<script src=\"/app.js\" defer></script>"))
        }
    }

    @Test func thePageIsServedWithoutAKeyWhileTheAPINeedsOne() async throws {
        let live = try LiveService()
        _ = try await live.service.database.createKey(knowledgeBase: KnowledgeBaseName("a")!)
        try await live.test { (client) async throws in
            for (path, _) in Self.pageFiles {
                #expect(try await client.execute(uri: path, method: .get).status == .ok, "\(path)")
            }
            #expect(try await client.execute(uri: "/documents", method: .get).status == .unauthorized)
            // Only GET: the page's paths are no way around the key for anything else.
            #expect(try await client.execute(uri: "/", method: .post).status == .unauthorized)
        }
    }

    /// No inline script or style (the policy would block it) and no way for text to become
    /// markup: the script builds every element itself and sets text as text.
    @Test func thePageHasNoInlineCodeAndTheScriptNeverWritesMarkup() throws {
        let html = try source("index.html")
        #expect(html.components(separatedBy: "<script").count - 1 == 1, "one script element: the external app.js")
        #expect(!html.contains("<style"))
        #expect(html.range(of: #"\s(on[a-z]+|style)\s*="#, options: .regularExpression) == nil, "no inline handlers or styles")
        #expect(html.range(of: #"(src|href)="(https?:)?//"#, options: .regularExpression) == nil, "nothing from another site")
        let script = try source("app.js")
        for sink in ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "setAttribute(\"on"] {
            #expect(!script.contains(sink), "app.js uses \(sink)")
        }
    }

    @Test func documentsCanBeListedNewestFirst() async throws {
        let live = try LiveService()
        try await live.test { client in
            var ids: [String] = []
            for index in 0..<3 {
                let (body, contentType) = uploadBody(file: "note-\(index).txt", type: "text/plain", data: Array("note \(index)\n".utf8))
                let created = try json(try await client.execute(uri: "/uploads", method: .post, headers: [.contentType: contentType], body: body))
                ids.append(try #require((created["documents"] as? [[String: Any]])?.first?["id"] as? String))
            }
            let newest = try json(try await client.execute(uri: "/documents?order=newest&limit=2", method: .get))
            #expect((newest["documents"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [ids[2], ids[1]])
            let cursor = try #require(newest["next_cursor"] as? String)
            let older = try json(try await client.execute(uri: "/documents?order=newest&limit=2&cursor=\(cursor)", method: .get))
            #expect((older["documents"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [ids[0]])
            #expect(try await client.execute(uri: "/documents?order=sideways", method: .get).status == .badRequest)
        }
    }
}
