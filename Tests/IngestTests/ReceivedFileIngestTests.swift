import Crypto
import Foundation
import Ingest
import Multipart
import Testing

/// A file that arrived whole on disk (an upload sent in pieces) goes through the same checks as
/// a part of a form, and into the store by a link of its own: no copy, and the file stays.
@Suite struct ReceivedFileIngestTests {
    private func write(_ bytes: [UInt8], in harness: IngestHarness, named name: String) throws -> String {
        let path = harness.directory.path + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test(arguments: [false, true])
    func aReceivedFileBecomesADocumentWithItsDigestAndStaysWhereItWas(digestKnown: Bool) async throws {
        let harness = try IngestHarness()
        defer { harness.remove() }
        let data = try DocumentFixtures.bytes("sample.pdf")
        let path = try write(data, in: harness, named: "received.pdf")
        let digest = SHA256.hash(data: data)
        let file = ReceivedFile(path: path, size: data.count, sha256: digestKnown ? digest : nil, filename: "report.pdf", declaredType: "application/pdf")
        let receipt = try await harness.ingestor.ingest(file, fields: [UploadField(name: "title", value: "Report")], knowledgeBase: "kb")
        let document = try #require(receipt.documents.first)
        #expect(receipt.fields == [UploadField(name: "title", value: "Report")])
        #expect(document.filename == "report.pdf")
        #expect(document.detectedType == "application/pdf")
        #expect(document.sha256 == digest.map { String(format: "%02x", $0) }.joined())
        #expect(document.status == .queued)
        #expect(try Data(contentsOf: URL(fileURLWithPath: harness.store.path(of: document.sha256))) == Data(data))
        // The caller's file is untouched; the spool's link is gone.
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(data))
        #expect(harness.directory.files(under: "tmp").isEmpty)
    }

    @Test func aRefusedOrOversizedReceivedFileLeavesNothingInTheStore() async throws {
        var limits = MultipartLimits()
        limits.fileBytes = 100
        let harness = try IngestHarness(limits: limits)
        defer { harness.remove() }
        let script = Array("#!/bin/sh\nrm -rf /\n".utf8)
        let scriptPath = try write(script, in: harness, named: "script")
        await #expect(throws: IngestError.self) {
            try await harness.ingestor.ingest(ReceivedFile(path: scriptPath, size: script.count, sha256: nil, filename: "notes.txt", declaredType: "text/plain"), fields: [], knowledgeBase: "kb")
        }
        let big = [UInt8](repeating: 0x61, count: 200)
        let bigPath = try write(big, in: harness, named: "big.txt")
        do {
            _ = try await harness.ingestor.ingest(ReceivedFile(path: bigPath, size: big.count, sha256: nil, filename: "big.txt", declaredType: "text/plain"), fields: [], knowledgeBase: "kb")
            Issue.record("a file over the limit was taken")
        } catch {
            guard case .fileTooLarge(_, let limit) = error else { Issue.record("\(error)"); return }
            #expect(limit == 100)
        }
        #expect(try await harness.isEmpty())
        #expect(FileManager.default.fileExists(atPath: scriptPath))
    }
}
