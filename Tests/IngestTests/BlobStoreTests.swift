import Crypto
import Foundation
import Ingest
import Testing

@Suite struct BlobStoreTests {
    func hex(_ bytes: [UInt8]) -> String { SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined() }

    func mode(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as! NSNumber).intValue
    }

    @Test func committedBlobIsNamedByItsDigestWithRestrictedModes() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try DirectoryBlobStore(root: directory.path)
        let content = [UInt8]((0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 13) })
        let writer = try store.makeWriter()
        for start in stride(from: 0, to: content.count, by: 4096) {
            try content[start..<min(start + 4096, content.count)].withUnsafeBytes { try writer.write($0) }
        }
        let blob = try store.commit(writer)
        let digest = hex(content)
        #expect(blob.sha256 == digest)
        #expect(blob.size == content.count)
        let path = store.path(of: blob.sha256)
        #expect(path == "\(directory.path)/blobs/\(digest.prefix(2))/\(digest.dropFirst(2).prefix(2))/\(digest)")
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: path))) == content)
        #expect(try mode(path) == 0o640)
        #expect(try mode(directory.path + "/blobs/" + digest.prefix(2)) == 0o750)
        #expect(try mode(directory.path + "/tmp") == 0o750)
        #expect(directory.files(under: "tmp").isEmpty)
        #expect(store.contains(digest))
        #expect(try store.allDigests() == [digest])
    }

    @Test func identicalContentIsStoredOnce() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try DirectoryBlobStore(root: directory.path)
        var blobs: [StoredBlob] = []
        for _ in 0..<3 {
            let writer = try store.makeWriter()
            try Array("same bytes".utf8).withUnsafeBytes { try writer.write($0) }
            blobs.append(try store.commit(writer))
        }
        #expect(blobs.map(\.wasAlreadyStored) == [false, true, true])
        #expect(Set(blobs.map { store.path(of: $0.sha256) }).count == 1)
        #expect(directory.files(under: "blobs").count == 1)
        #expect(directory.files(under: "tmp").isEmpty)
    }

    @Test func discardedOrDroppedWriterLeavesNothing() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try DirectoryBlobStore(root: directory.path)
        let discarded = try store.makeWriter()
        try Array("abc".utf8).withUnsafeBytes { try discarded.write($0) }
        #expect(directory.files(under: "tmp").count == 1)
        discarded.discard()
        do {
            let dropped = try store.makeWriter()
            try Array("abc".utf8).withUnsafeBytes { try dropped.write($0) }
        }
        #expect(directory.files(under: "tmp").isEmpty)
        #expect(directory.files(under: "blobs").isEmpty)
    }

    @Test func fileSizeLimitIsEnforcedBeforeWriting() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try DirectoryBlobStore(root: directory.path)
        let writer = try store.makeWriter(fileSizeLimit: 5)
        try Array("12345".utf8).withUnsafeBytes { try writer.write($0) }
        do {
            try Array("6".utf8).withUnsafeBytes { try writer.write($0) }
            Issue.record("wrote past the limit")
        } catch let error as StorageError {
            #expect(error.code == .fileTooLarge)
        }
        #expect(writer.size == 5)
    }

    @Test func startUpRemovesTemporaryFilesLeftByACrash() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        _ = try DirectoryBlobStore(root: directory.path)
        for name in ["a.part", "b.part", "stray"] {
            #expect(FileManager.default.createFile(atPath: directory.path + "/tmp/" + name, contents: Data("left over".utf8)))
        }
        _ = try DirectoryBlobStore(root: directory.path)
        #expect(directory.files(under: "tmp").isEmpty)
    }

    @Test func pathsAreMadeFromDigestsOnly() throws {
        #expect(BlobDigest.isValid(String(repeating: "a", count: 64)))
        #expect(!BlobDigest.isValid("../../etc/passwd"))
        #expect(!BlobDigest.isValid(String(repeating: "A", count: 64)))
        #expect(!BlobDigest.isValid(String(repeating: "a", count: 63)))
    }

    /// Runs as root only (CI does): mounts a 256 KiB tmpfs and fills it.
    @Test(.enabled(if: getuid() == 0, "mounting a small tmpfs needs root"))
    func fullDiskIsReportedAsDiskFullAndLeavesNothing() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try run("/bin/mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", directory.path)
        defer { try? run("/bin/umount", directory.path) }
        let store = try DirectoryBlobStore(root: directory.path)
        let writer = try store.makeWriter()
        let chunk = [UInt8](repeating: 0x5A, count: 64 * 1024)
        var failure: StorageError?
        do {
            for _ in 0..<16 { try chunk.withUnsafeBytes { try writer.write($0) } }
            _ = try store.commit(writer)
        } catch let error as StorageError {
            failure = error
            writer.discard()
        }
        #expect(failure?.code == .diskFull)
        #expect(failure?.errno == ENOSPC)
        #expect(directory.files(under: "tmp").isEmpty)
        #expect(directory.files(under: "blobs").isEmpty)
    }

    func run(_ command: String, _ arguments: String...) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command)
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        if process.terminationStatus != 0 {
            throw StorageError(.io, operation: command, message: "\(command) \(arguments) exited \(process.terminationStatus)")
        }
    }
}
