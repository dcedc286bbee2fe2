import Crypto
import Foundation
import Ingest
import Synchronization
import Testing

/// What a store that sends a blob on while it is written (an object store's multipart upload)
/// learns from the writer.
@Suite struct BlobWriterObserverTests {
    final class Recorder: BlobWriteObserver {
        struct Seen: Sendable, Equatable {
            var segment: BlobSegment
            var bytesInFileThen: [UInt8]
        }
        let seen = Mutex<[Seen]>([])
        let abandoned = Atomic<Int>(0)

        func segmentWritten(_ segment: BlobSegment) {
            let handle = FileHandle(forReadingAtPath: segment.path)!
            defer { try? handle.close() }
            try? handle.seek(toOffset: UInt64(segment.range.lowerBound))
            let bytes = [UInt8](handle.readData(ofLength: segment.range.count))
            seen.withLock { $0.append(Seen(segment: segment, bytesInFileThen: bytes)) }
        }

        func writeAbandoned() {
            abandoned.add(1, ordering: .relaxed)
        }
    }

    private func content(_ count: Int) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) } }

    @Test func eachFullSegmentIsReportedOnceItsBytesAreInTheFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let spool = try BlobSpool(directory: directory.path + "/tmp")
        let recorder = Recorder()
        let writer = try spool.makeWriter(segmentSize: 1000, observer: recorder)
        let bytes = content(3500)
        // Writes that end inside a segment, exactly at its end, and across two.
        for piece in [0..<999, 999..<1000, 1000..<3300, 3300..<3500] {
            try bytes[piece].withUnsafeBytes { try writer.write($0) }
        }
        let seen = recorder.seen.withLock { $0 }
        #expect(seen.map(\.segment.index) == [0, 1, 2], "the last 500 bytes are not a full segment")
        #expect(seen.map(\.segment.range) == [0..<1000, 1000..<2000, 2000..<3000])
        for entry in seen {
            #expect(entry.bytesInFileThen == Array(bytes[entry.segment.range]))
            #expect(entry.segment.sha256 == SHA256.hash(data: bytes[entry.segment.range]))
        }
        let written = try writer.close()
        #expect(written.segmentDigests.count == 4)
        #expect(written.segmentDigests.prefix(3) == ArraySlice(seen.map(\.segment.sha256)))
        #expect(written.segmentDigests.last == SHA256.hash(data: bytes[3000...]))
        #expect(recorder.abandoned.load(ordering: .relaxed) == 0, "a closed writer is not abandoned")
        spool.discard(written)
    }

    @Test func aDiscardedDroppedOrRefusedWriterIsReportedAbandoned() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let spool = try BlobSpool(directory: directory.path + "/tmp")
        let recorder = Recorder()
        let discarded = try spool.makeWriter(segmentSize: 10, observer: recorder)
        try content(25).withUnsafeBytes { try discarded.write($0) }
        discarded.discard()
        #expect(recorder.abandoned.load(ordering: .relaxed) == 1)
        do {
            let dropped = try spool.makeWriter(segmentSize: 10, observer: recorder)
            try content(5).withUnsafeBytes { try dropped.write($0) }
        }
        #expect(recorder.abandoned.load(ordering: .relaxed) == 2)
        let limited = try spool.makeWriter(fileSizeLimit: 15, segmentSize: 10, observer: recorder)
        #expect(throws: StorageError.self) { try content(20).withUnsafeBytes { try limited.write($0) } }
        limited.discard()
        #expect(recorder.abandoned.load(ordering: .relaxed) == 3)
        #expect(recorder.seen.withLock { $0.map(\.segment.index) } == [0, 1], "only the discarded writer's two full segments")
        #expect(directory.files(under: "tmp").isEmpty)
    }
}
