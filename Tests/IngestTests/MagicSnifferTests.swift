import Ingest
import IntakeTesting
import Testing

@Suite struct MagicSnifferTests {
    static let sniffer = try! MagicSniffer(handles: 2)

    @Test(arguments: [
        ("sample.pdf", "application/pdf"),
        ("sample.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("sample.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("sample.odt", "application/vnd.oasis.opendocument.text"),
        ("sample.epub", "application/epub+zip"),
        ("sample.html", "text/html"),
        ("sample.csv", "text/csv"),
        ("sample.json", "application/json"),
        ("sample.png", "image/png"),
        ("sample.jpg", "image/jpeg"),
        ("sample.txt", "text/plain"),
        ("sample.sh", "text/x-shellscript"),
        ("sample.pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
        ("sample.md", "text/plain"),
        ("sample.xml", "text/xml"),
        ("sample-rich.html", "text/html"),
        ("sample-utf16.txt", "text/plain"),
        ("sample-latin1.txt", "text/plain"),
        ("multipage.pdf", "application/pdf"),
        // From a buffer, libmagic cannot tell a PIE executable from a shared library.
        ("sample.elf", "application/x-sharedlib"),
    ])
    func detectsTheTypeOfEachFixtureDocument(_ name: String, _ expected: String) async throws {
        let bytes = try DocumentFixtures.bytes(name)
        let sniffed = await Self.sniffer.sniff(Array(bytes.prefix(MagicSniffer.maximumSniffLength)))
        #expect(sniffed.mimeType == expected, "\(name)")
    }

    @Test func reportsTheCharsetOfUTF16AndLatin1Text() async throws {
        #expect(await Self.sniffer.sniff(try DocumentFixtures.bytes("sample-utf16.txt")).charset == "utf-16le")
        #expect(await Self.sniffer.sniff(try DocumentFixtures.bytes("sample-latin1.txt")).charset == "iso-8859-1")
    }

    @Test func reportsTheCharsetOfText() async throws {
        let sniffed = await Self.sniffer.sniff(Array("naïve café\n".utf8))
        #expect(sniffed.mimeType == "text/plain")
        #expect(sniffed.charset == "utf-8")
    }

    @Test func emptyDataIsSniffedWithoutCrashing() async {
        let sniffed = await Self.sniffer.sniff([])
        #expect(sniffed.mimeType == "application/x-empty")
    }

    @Test func manyConcurrentCallersShareTwoHandles() async throws {
        let pdf = try DocumentFixtures.bytes("sample.pdf")
        let png = try DocumentFixtures.bytes("sample.png")
        let results = await withTaskGroup(of: (Int, String).self) { group in
            for index in 0..<64 {
                group.addTask { (index, await Self.sniffer.sniff(index % 2 == 0 ? pdf : png).mimeType) }
            }
            var all: [Int: String] = [:]
            for await (index, type) in group { all[index] = type }
            return all
        }
        #expect(results.count == 64)
        #expect(results.allSatisfy { $0.value == ($0.key % 2 == 0 ? "application/pdf" : "image/png") })
    }

    @Test func missingDatabaseFailsAtCreationWithAClearMessage() {
        do {
            _ = try MagicSniffer(handles: 1, databasePath: "/nonexistent/magic.mgc")
            Issue.record("a sniffer was made without a database")
        } catch {
            #expect(error.message.contains("could not load its database"))
        }
    }
}

@Suite struct TypePolicyTests {
    let policy = TypePolicy.knowledgeBase

    @Test(arguments: [
        "application/pdf", "text/plain", "text/csv", "text/html", "text/markdown", "application/json",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.oasis.opendocument.text", "application/epub+zip", "image/png", "image/jpeg",
    ])
    func acceptsKnowledgeBaseDocuments(_ type: String) {
        #expect(policy.accepts(SniffedType(mimeType: type), prefix: [UInt8]("%PDF".utf8)))
    }

    @Test(arguments: [
        "application/x-executable", "application/x-pie-executable", "application/x-sharedlib",
        "application/x-dosexec", "application/x-mach-binary", "text/x-shellscript", "text/x-script.python",
        "application/zip", "application/octet-stream", "video/mp4",
    ])
    func refusesExecutablesScriptsAndUnknownTypes(_ type: String) {
        #expect(!policy.accepts(SniffedType(mimeType: type), prefix: [0x7F, 0x45]))
    }

    @Test func refusesAnythingStartingWithShebangEvenAsText() {
        #expect(!policy.accepts(SniffedType(mimeType: "text/plain"), prefix: [UInt8]("#!/usr/bin/env node\n".utf8)))
    }

    @Test func executablesAreRefusedEvenWhenAPolicyListsThem() {
        let permissive = TypePolicy(acceptedTypes: ["application/x-executable"], acceptedPrefixes: ["application/"])
        #expect(!permissive.accepts(SniffedType(mimeType: "application/x-executable"), prefix: [0x7F]))
    }
}

@Suite struct MagicSnifferOrderTests {
    let sniffer = MagicSnifferTests.sniffer

    /// Fixed seeds: fresh random bytes now and then start with some format's magic number, and
    /// the test failed at random.
    @Test(arguments: [1, 2, 3, 42] as [UInt64])
    func randomBytesAreUnknownBinary(seed: UInt64) async {
        var generator = SeededGenerator(seed: seed)
        let bytes = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) }
        #expect(await sniffer.sniff(bytes).mimeType == "application/octet-stream")
    }

    @Test func longHTMLIsHTML() async {
        let html = "<!DOCTYPE html>\n<html><head><title>t</title></head><body>\n" + String(repeating: "<p>paragraph of text</p>\n", count: 400) + "</body></html>\n"
        let sniffed = await sniffer.sniff(Array(html.utf8))
        #expect(sniffed.mimeType == "text/html")
        #expect(sniffed.charset == "us-ascii")
    }

    @Test func binaryFormatsThatAreAllASCIIAreFoundInTextToo() async {
        // Text to the built-in tests, which now come first: the rules pass still runs the binary rules.
        let pdf = "%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n" + String(repeating: "% comment line\n", count: 200) + "%%EOF\n"
        let sniffed = await sniffer.sniff(Array(pdf.utf8))
        #expect(sniffed.mimeType == "application/pdf")
        #expect(sniffed.charset == "binary")
        let postscript = "%!PS-Adobe-3.0\n%%Title: t\n" + String(repeating: "newpath 0 0 moveto 10 10 lineto stroke\n", count: 100)
        #expect(await sniffer.sniff(Array(postscript.utf8)).mimeType == "application/postscript")
    }

    @Test func longJSONIsJSON() async {
        let json = "{\"items\": [" + (0..<500).map { "{\"id\": \($0), \"name\": \"item \($0)\"}" }.joined(separator: ", ") + "]}\n"
        #expect(await sniffer.sniff(Array(json.utf8)).mimeType == "application/json")
    }

    @Test func xmlIsXML() async {
        let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<root>" + String(repeating: "<item>é</item>", count: 200) + "</root>\n"
        let sniffed = await sniffer.sniff(Array(xml.utf8))
        #expect(sniffed.mimeType == "text/xml")
        #expect(sniffed.charset == "utf-8")
    }

    @Test func pythonScriptIsAScript() async {
        let script = "#!/usr/bin/env python3\nimport os\nprint(os.getcwd())\n"
        let sniffed = await sniffer.sniff(Array(script.utf8))
        #expect(sniffed.mimeType == "text/x-script.python")
        #expect(!TypePolicy.knowledgeBase.accepts(sniffed, prefix: Array(script.utf8)))
    }

    @Test func plainTextLongerThanTheRulesWindowKeepsItsCharset() async {
        let text = String(repeating: "plain words ", count: 200) + "naïve\n"
        let sniffed = await sniffer.sniff(Array(text.utf8))
        #expect(sniffed.mimeType == "text/plain")
        #expect(sniffed.charset == "utf-8")
    }
}
