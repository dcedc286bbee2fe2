import Crypto
import Foundation
import HummingbirdTesting
import Ingest
import IntakeServer
import IntakeTesting
import Multipart
import Testing

/// The IETF resumable-upload protocol (draft-ietf-httpbis-resumable-upload, interop versions 10 and 9) at
/// /files/, spoken by a client of the tests' own on a raw socket: creation with part of the body,
/// `104 (Upload Resumption Supported)`, a cut, offset retrieval, append, completion,
/// cancellation, limits.
@Suite struct IETFUploadTests {
    static let interop = ("Upload-Draft-Interop-Version", "10")

    /// The upload's offset once the server has ended the append that was cut (it holds the
    /// upload until it has synced what arrived): HEAD until the offset is `expected`, a bounded
    /// number of times.
    private func offsetAfterCut(_ client: ResumableUploadClient, _ location: String, expected: Int) async throws -> ResumableUploadClient.Exchange {
        for _ in 0..<500 {
            let head = await client.send("HEAD", location)
            if head["upload-offset"] == "\(expected)" { return head }
            try await Task.sleep(for: .milliseconds(20))
        }
        return await client.send("HEAD", location)
    }

    @Test func anUploadCutMidwayIsResumedFromItsOffsetAndCompletesAsADocument() async throws {
        let live = try LiveService()
        let text = Array(String(repeating: "Interrupted uploads resume where the server's offset says.\n", count: 2000).utf8)
        let cut = 40_000
        try await live.test { http in
            let client = ResumableUploadClient(port: try #require(http.port))
            let options = await client.send("OPTIONS", "/files")
            #expect(options["upload-limit"]?.contains("max-age=86400") == true)
            // Creation with the whole file announced (Upload-Complete: ?1) but cut after 40 000 bytes.
            let created = await client.send(
                "POST", "/files",
                [
                    Self.interop, ("Upload-Complete", "?1"), ("Content-Type", "text/plain"),
                    ("Content-Disposition", "attachment; filename=\"resume.txt\"; filename*=UTF-8''r%C3%A9sum%C3%A9.txt"),
                ],
                body: text, cutAfter: cut)
            let interim = try #require(created.interim.first)
            #expect(interim.status == 104)
            #expect(interim["upload-draft-interop-version"] == "10")
            #expect(interim["upload-limit"]?.contains("max-age=") == true)
            let location = try #require(interim["location"])
            #expect(location.hasPrefix("/files/"))
            #expect(created.final == nil)
            // Offset retrieval: what arrived before the cut is the offset, synced.
            let head = try await offsetAfterCut(client, location, expected: cut)
            #expect(head.status == 204)
            #expect(head["upload-offset"] == "\(cut)")
            #expect(head["upload-complete"] == "?0")
            #expect(head["upload-length"] == "\(text.count)")
            #expect(head["cache-control"] == "no-store")
            // An append from another offset is refused with the right one.
            let partial = [("Content-Type", "application/partial-upload"), Self.interop]
            let stale = await client.send("PATCH", location, partial + [("Upload-Offset", "0"), ("Upload-Complete", "?1")], body: text)
            #expect(stale.status == 409)
            #expect(stale["upload-offset"] == "\(cut)")
            #expect(stale["upload-complete"] == "?0")
            // The rest completes it: the answer of POST /uploads, marked complete.
            let last = await client.send("PATCH", location, partial + [("Upload-Offset", "\(cut)"), ("Upload-Complete", "?1")], body: Array(text[cut...]))
            #expect(last.status == 201)
            #expect(last["upload-complete"] == "?1")
            let uploadLocation = try #require(last["location"])
            #expect(uploadLocation.hasPrefix("/uploads/"))
            let document = try #require((last.json?["documents"] as? [[String: Any]])?.first)
            #expect(document["filename"] as? String == "résumé.txt")
            #expect(document["declared_type"] as? String == "text/plain")
            #expect(document["sha256"] as? String == SHA256.hash(data: text).map { String(format: "%02x", $0) }.joined())
            let content = await client.send("GET", "/documents/\(try #require(document["id"] as? String))/content")
            #expect(content.body == text)
            #expect(await client.send("GET", uploadLocation).status == 200)
            #expect(await client.send("HEAD", location).status == 404)
            #expect(live.files(under: "resumable").isEmpty)
        }
    }

    @Test func piecesOfUnknownLengthCompleteOnlyWhenTheClientSaysSo() async throws {
        let live = try LiveService()
        let text = Array(String(repeating: "A stream of unknown length.\n", count: 300).utf8)
        try await live.test { http in
            let client = ResumableUploadClient(port: try #require(http.port))
            // Interop version 9 (draft 12) gets its 104 too, naming its version; one not spoken here gets none.
            let nine = await client.send("POST", "/files", [("Upload-Draft-Interop-Version", "9"), ("Upload-Complete", "?0")], body: [0x41])
            #expect(nine.interim.first?.status == 104 && nine.interim.first?["upload-draft-interop-version"] == "9")
            let eight = await client.send("POST", "/files", [("Upload-Draft-Interop-Version", "8"), ("Upload-Complete", "?0")], body: [0x41])
            #expect(eight.interim.isEmpty && eight.status == 201)
            // No interop version: no 104 (the draft's rule), and the creation answers 201 for the upload.
            let created = await client.send("POST", "/files", [("Upload-Complete", "?0"), ("Content-Type", "text/plain")], body: Array(text[0..<3000]))
            #expect(created.interim.isEmpty)
            #expect(created.status == 201)
            #expect(created["upload-complete"] == "?0")
            #expect(created["upload-offset"] == "3000")
            let location = try #require(created["location"])
            let partial = [("Content-Type", "application/partial-upload")]
            // Every byte is in, but the client has not said it is the end: the upload waits.
            let rest = await client.send("PATCH", location, partial + [("Upload-Offset", "3000"), ("Upload-Complete", "?0")], body: Array(text[3000...]))
            #expect(rest.status == 204)
            #expect(rest["upload-complete"] == "?0")
            let head = await client.send("HEAD", location)
            #expect(head["upload-offset"] == "\(text.count)")
            #expect(head["upload-length"] == nil)
            #expect(head["upload-defer-length"] == "1")
            // An empty append that says so completes it.
            let end = await client.send("PATCH", location, partial + [("Upload-Offset", "\(text.count)"), ("Upload-Complete", "?1")])
            #expect(end.status == 201)
            #expect(end["upload-complete"] == "?1")
            #expect((end.json?["documents"] as? [[String: Any]])?.first?["size"] as? Int == text.count)
            // A request that says neither Upload-Offset nor Upload-Complete is refused.
            let again = await client.send("POST", "/files", [("Upload-Complete", "?0")])
            let bare = await client.send("PATCH", try #require(again["location"]), partial, body: [1, 2, 3])
            #expect(bare.status == 400)
        }
    }

    @Test func cancellationFreesTheUploadAndItsBytes() async throws {
        let live = try LiveService()
        try await live.test { http in
            let client = ResumableUploadClient(port: try #require(http.port))
            let created = await client.send("POST", "/files", [("Upload-Complete", "?0"), ("Upload-Length", "100000")], body: [UInt8](repeating: 0x41, count: 50_000))
            #expect(created.status == 201)
            let location = try #require(created["location"])
            #expect(!live.files(under: "resumable").isEmpty)
            #expect(await client.send("DELETE", location).status == 204)
            #expect(await client.send("HEAD", location).status == 404)
            let late = await client.send(
                "PATCH", location, [("Content-Type", "application/partial-upload"), ("Upload-Offset", "50000"), ("Upload-Complete", "?1")],
                body: [UInt8](repeating: 0x41, count: 50_000))
            #expect(late.status == 404)
            #expect(live.files(under: "resumable").isEmpty)
            #expect(live.files(under: "blobs").isEmpty)
        }
    }

    @Test func aRefusedTypeAnswers415AtCompletionAndNothingIsKept() async throws {
        let live = try LiveService()
        let script = Array("#!/bin/sh\necho 'not a document'\n".utf8)
        try await live.test { http in
            let client = ResumableUploadClient(port: try #require(http.port))
            let created = await client.send("POST", "/files", [("Upload-Complete", "?0"), ("Content-Type", "text/plain")], body: Array(script[0..<10]))
            let location = try #require(created["location"])
            let last = await client.send(
                "PATCH", location, [("Content-Type", "application/partial-upload"), ("Upload-Offset", "10"), ("Upload-Complete", "?1")], body: Array(script[10...]))
            #expect(last.status == 415)
            #expect(last["upload-complete"] == "?1")
            #expect((last.json?["error"] as? [String: Any])?["code"] as? String == "type_rejected")
            #expect(await client.send("HEAD", location).status == 404)
            #expect(live.files(under: "resumable").isEmpty)
            #expect(live.files(under: "blobs").isEmpty)
        }
    }

    @Test func aCompletionTheDiskRefusesLeavesTheUploadWhereItWasToSendTheLastPieceAgain() async throws {
        let live = try LiveService()
        let text = Array(String(repeating: "The last piece arrives, the blob store fails, the client sends it again.\n", count: 200).utf8)
        let digest = SHA256.hash(data: text).map { String(format: "%02x", $0) }.joined()
        try await live.test { http in
            let client = ResumableUploadClient(port: try #require(http.port))
            let created = await client.send("POST", "/files", [("Upload-Complete", "?0"), ("Content-Type", "text/plain")], body: Array(text[0..<5000]))
            let location = try #require(created["location"])
            // A file where the blob's shard directory has to go: publishing it fails (even for root).
            let blocker = live.directory + "/blobs/" + digest.prefix(2)
            try FileManager.default.createDirectory(atPath: live.directory + "/blobs", withIntermediateDirectories: true)
            #expect(FileManager.default.createFile(atPath: blocker, contents: Data("not a directory".utf8)))
            let partial = [("Content-Type", "application/partial-upload")]
            let last = [("Upload-Offset", "5000"), ("Upload-Complete", "?1")]
            let failed = await client.send("PATCH", location, partial + last, body: Array(text[5000...]))
            #expect(failed.status == 500)
            #expect(failed["upload-complete"] == "?0")
            // Nothing was recorded, and the upload waits at its offset before the last piece.
            #expect(try await live.service.database.documents(DocumentQuery()).documents.isEmpty)
            #expect(await client.send("HEAD", location)["upload-offset"] == "5000")
            #expect(live.files(under: "tmp").isEmpty)
            try FileManager.default.removeItem(atPath: blocker)
            let again = await client.send("PATCH", location, partial + last, body: Array(text[5000...]))
            #expect(again.status == 201)
            #expect((again.json?["documents"] as? [[String: Any]])?.first?["sha256"] as? String == digest)
            #expect(live.files(under: "resumable").isEmpty)
        }
    }

    @Test func anAppendThatStallsPastItsHoldIsTakenOverAndWritesNoMore() async throws {
        let clock = TestClock()
        let live = try LiveService { $0.clock = clock.dates }
        let stalled = [UInt8](repeating: UInt8(ascii: "x"), count: 10_000)
        let text = Array(String(repeating: "The second client's bytes, whole and alone.\n", count: 200).utf8)
        try await live.test { http in
            let client = ResumableUploadClient(port: try #require(http.port))
            let created = await client.send("POST", "/files", [("Upload-Complete", "?0"), ("Content-Type", "text/plain")])
            let location = try #require(created["location"])
            let partial = [("Content-Type", "application/partial-upload")]
            // A sends 3,000 of the 10,000 bytes it announced, and stalls.
            let held = await client.begin("PATCH", location, partial + [("Upload-Offset", "0"), ("Upload-Complete", "?1")], body: stalled, sending: 3000)
            // A holds the upload once its bytes are in the upload's file (looked at a bounded number of times).
            let file = live.directory + "/resumable/" + location.dropFirst("/files/".count)
            for _ in 0..<500 where ((try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? Int ?? 0) < 3000 {
                try await Task.sleep(for: .milliseconds(10))
            }
            // While A holds it, B is refused.
            let refusal = await client.send("PATCH", location, partial + [("Upload-Offset", "0"), ("Upload-Complete", "?0")])
            #expect(refusal.status == 409)
            #expect((refusal.json?["error"] as? [String: Any])?["code"] as? String == "append_in_progress")
            // Past the hold's lease (15 minutes, on the server's clock), B takes the upload over.
            clock.advance(by: .seconds(16 * 60))
            let taken = await client.send("PATCH", location, partial + [("Upload-Offset", "0"), ("Upload-Complete", "?1")], body: text)
            #expect(taken.status == 201)
            // A's late bytes are refused and written nowhere: the document is B's bytes alone.
            let late = await held.finish(Array(stalled[3000...]))
            #expect(late.status != 201 && late.status != 204)
            let document = try #require((taken.json?["documents"] as? [[String: Any]])?.first)
            let content = await client.send("GET", "/documents/\(try #require(document["id"] as? String))/content")
            #expect(content.body == text)
        }
    }

    @Test func aLongAppendIsSyncedAndRecordedAsItGoesAndEachCheckpointIsSentIn104() async throws {
        // A checkpoint every 64 KiB (64 MiB by default).
        let live = try LiveService { $0.resumableCheckpointBytes = 64 << 10 }
        let body = (0..<(300 << 10)).map { UInt8(ascii: "a") + UInt8($0 % 26) }
        try await live.test { http in
            let client = ResumableUploadClient(port: try #require(http.port))
            // The whole file announced, 200 KiB of it sent, the rest held back.
            let held = await client.begin(
                "POST", "/files", [Self.interop, ("Upload-Complete", "?1"), ("Content-Type", "text/plain")], body: body, sending: 200 << 10)
            let heads = await held.interims { head in Int(head["upload-offset"] ?? "0") ?? 0 >= 128 << 10 }
            let location = try #require(heads.first?["location"])
            let offsets = heads.compactMap { $0["upload-offset"].flatMap(Int.init) }
            #expect(!offsets.isEmpty && offsets == offsets.sorted() && offsets.allSatisfy { $0 <= 200 << 10 }, "\(offsets)")
            #expect(heads.dropFirst().allSatisfy { $0["upload-draft-interop-version"] == "10" && $0["location"] == nil })
            // While the request still runs, the store has the last checkpoint: what a restarted server would resume from.
            let during = try #require(Int(await client.send("HEAD", location)["upload-offset"] ?? ""))
            #expect(during >= offsets.last! && during <= 200 << 10)
            let done = await held.finish(Array(body[(200 << 10)...]))
            #expect(done.status == 201)
            #expect(done["upload-complete"] == "?1")
        }
    }

    @Test func lengthsOverTheLimitOrInconsistentAreRefusedBeforeAnUploadIsMade() async throws {
        let live = try LiveService(
            limits: {
                var limits = MultipartLimits(); limits.fileBytes = 1000; return limits
            }())
        try await live.test { http in
            let client = ResumableUploadClient(port: try #require(http.port))
            let options = await client.send("OPTIONS", "/files")
            #expect(options["upload-limit"]?.contains("max-size=1000") == true)
            let declared = await client.send("POST", "/files", [("Upload-Complete", "?0"), ("Upload-Length", "5000")])
            #expect(declared.status == 413)
            #expect(declared["upload-limit"]?.contains("max-size=1000") == true)
            let whole = await client.send("POST", "/files", [("Upload-Complete", "?1")], body: [UInt8](repeating: 0x41, count: 2000))
            #expect(whole.status == 413)
            let inconsistent = await client.send("POST", "/files", [("Upload-Complete", "?1"), ("Upload-Length", "20")], body: [UInt8](repeating: 0x41, count: 10))
            #expect(inconsistent.status == 400)
            #expect((inconsistent.json?["error"] as? [String: Any])?["code"] as? String == "inconsistent_length")
            // Pieces that go past the limit are refused when they do.
            let created = await client.send("POST", "/files", [("Upload-Complete", "?0")], body: [UInt8](repeating: 0x41, count: 600))
            let location = try #require(created["location"])
            let over = await client.send(
                "PATCH", location, [("Content-Type", "application/partial-upload"), ("Upload-Offset", "600"), ("Upload-Complete", "?0")],
                body: [UInt8](repeating: 0x41, count: 600))
            #expect(over.status == 413)
            #expect(live.files(under: "resumable").count == 1)
        }
    }
}

/// Open uploads sent in pieces are bounded: past the limit, creation is refused in either protocol.
@Suite struct ResumableUploadLimitTests {
    @Test func creationsPastTheLimitAre429InBothProtocolsUntilOneEnds() async throws {
        let live = try LiveService { $0.resumableUploadLimits = ResumableUploadLimits(perKnowledgeBase: 3, total: 30) }
        try await live.test { http in
            let client = ResumableUploadClient(port: try #require(http.port))
            var locations: [String] = []
            for _ in 0..<3 {
                let created = await client.send("POST", "/files", [("Upload-Complete", "?0")])
                #expect(created.status == 201)
                locations.append(try #require(created["location"]))
            }
            let ietf = await client.send("POST", "/files", [("Upload-Complete", "?0")])
            #expect(ietf.status == 429)
            #expect((ietf.json?["error"] as? [String: Any])?["code"] as? String == "too_many_uploads")
            #expect(ietf["retry-after"] == "60")
            let tus = await client.send("POST", "/files", [("Tus-Resumable", "1.0.0"), ("Upload-Length", "10")])
            #expect(tus.status == 429)
            // Another knowledge base has room of its own.
            #expect(await client.send("POST", "/files?knowledge_base=other", [("Upload-Complete", "?0")]).status == 201)
            #expect(await client.send("DELETE", locations[0]).status == 204)
            #expect(await client.send("POST", "/files", [("Upload-Complete", "?0")]).status == 201)
            // Nothing is left of the refused creations: four open uploads, four files.
            #expect(live.files(under: "resumable").count == 4)
        }
    }
}
