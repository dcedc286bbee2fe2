// multipart-bench FILE BOUNDARY
//
// The peer contract of ../shared/peers/README.md: read FILE into memory (untimed), feed it to
// MultipartParser in 64 KiB chunks (timed), fold every data slice into a cheap checksum, and
// print one JSON line: {"parser":"intake","parts":N,"bytes":B,"seconds":S}.
// The parts limit is raised so the 50,000-field corpus is admitted; every other limit keeps its default.
import Multipart

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

func fail(_ message: String, status: Int32) -> Never {
    let line = "multipart-bench: " + message + "\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
    exit(status)
}

func readWholeFile(_ path: String) -> [UInt8] {
    guard let file = fopen(path, "rb") else {
        fail("cannot open \(path)", status: 2)
    }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 1 << 20)
    while true {
        let count = fread(&buffer, 1, buffer.count, file)
        if count == 0 { break }
        bytes.append(contentsOf: buffer[0..<count])
    }
    return bytes
}

let arguments = CommandLine.arguments
guard arguments.count == 3 else {
    fail("usage: multipart-bench FILE BOUNDARY", status: 2)
}
let body = readWholeFile(arguments[1])
let boundary: MultipartBoundary
do {
    boundary = try MultipartBoundary(arguments[2])
} catch {
    fail("\(error)", status: 2)
}
var limits = MultipartLimits()
limits.parts = 1_000_000

/// The contract's consumer: counts bytes and folds each slice in O(1).
struct Consumer {
    var parts = 0
    var bytes = 0
    var checksum: UInt32 = 0

    @inline(__always)
    mutating func fold(_ slice: UnsafeRawBufferPointer) {
        guard let first = slice.first, let last = slice.last else { return }
        bytes &+= slice.count
        checksum = checksum &* 31 &+ UInt32(truncatingIfNeeded: slice.count) &+ UInt32(first) &* 256 &+ UInt32(last)
    }
}

func parse(_ body: [UInt8], boundary: MultipartBoundary, limits: MultipartLimits, chunkSize: Int) throws(MultipartError) -> Consumer {
    var consumer = Consumer()
    var parser = MultipartParser(boundary: boundary, limits: limits)
    let outcome = body.withUnsafeBytes { whole in
        Result { () throws(MultipartError) in
            var offset = 0
            while offset < whole.count {
                let chunk = UnsafeRawBufferPointer(rebasing: whole[offset..<min(offset + chunkSize, whole.count)])
                var position = 0
                while let event = try parser.next(in: chunk, at: &position) {
                    switch event {
                    case .body(let range): consumer.fold(UnsafeRawBufferPointer(rebasing: chunk[range]))
                    case .bodyLookbehind(let range): parser.withLookbehindBytes(range) { consumer.fold($0) }
                    case .partEnd: consumer.parts += 1
                    case .partBegin, .end: break
                    }
                }
                offset += chunkSize
            }
        }
    }
    try outcome.get()
    try parser.finish()
    return consumer
}

// MULTIPART_BENCH_REPEAT=N parses N times and reports the fastest run (for profiling on a noisy
// machine); the peer contract's single run is the default.
let repeats = max(1, Int(getenv("MULTIPART_BENCH_REPEAT").map { String(cString: $0) } ?? "1") ?? 1)
let clock = ContinuousClock()
var consumer = Consumer()
var seconds = Double.infinity
for _ in 0..<repeats {
    let start = clock.now
    do {
        consumer = try parse(body, boundary: boundary, limits: limits, chunkSize: 64 * 1024)
    } catch {
        fail("\(error)", status: 1)
    }
    let elapsed = clock.now - start
    seconds = min(seconds, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
}
_ = "checksum=\(consumer.checksum)\n".withCString { write(2, $0, strlen($0)) }
print("{\"parser\":\"intake\",\"parts\":\(consumer.parts),\"bytes\":\(consumer.bytes),\"seconds\":\(seconds)}")
