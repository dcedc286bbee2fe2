import Foundation
import Ingest

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The child side of ``IsolatedExtractor``: bounds itself (`RLIMIT_CPU`, `RLIMIT_AS`, no core
/// files, no files written), extracts one document with the built-in processors, and writes a
/// header line and the text to standard output, or the error to standard error with an exit
/// status that says whether retrying can help. `intake extract` calls ``run(request:)``.
public enum ExtractionChild {
    /// Extracts the document `request` (JSON, as ``IsolatedExtractor`` writes it) names; returns
    /// the exit status.
    public static func run(request json: String) async -> Int32 {
        guard let request = try? JSONDecoder().decode(ExtractionRequest.self, from: Data(json.utf8)) else {
            report("the extraction request cannot be read")
            return ExtractionExit.badRequest
        }
        if let failure = applyLimits(request.limits) {
            report("the extraction limits cannot be applied: \(failure)")
            return ExtractionExit.failed
        }
        let record = DocumentRecord(
            id: "", uploadID: "", fieldName: "", filename: nil, filenameStar: nil, declaredType: nil,
            detectedType: request.detectedType, charset: request.charset, size: request.size, sha256: request.sha256,
            status: .processing, error: nil, createdAt: Date(), updatedAt: Date())
        let input = ProcessingInput(record: record, path: request.path, maximumTextBytes: request.maximumTextBytes)
        guard let processor = ProcessorRegistry.builtIn(limits: request.limits).processor(for: request.detectedType) else {
            report("no processor reads \(request.detectedType)")
            return ExtractionExit.failedPermanently
        }
        do {
            var extracted = try await processor.extract(input)
            if extracted.text.utf8.count > request.maximumTextBytes {
                extracted.text = extracted.text.utf8Prefix(request.maximumTextBytes)
                extracted.isTruncated = true
            }
            var output = try JSONEncoder().encode(ExtractionHeader(note: extracted.note, isTruncated: extracted.isTruncated, pages: extracted.pages))
            output.append(0x0A)
            output.append(contentsOf: extracted.text.utf8)
            try FileHandle.standardOutput.write(contentsOf: output)
            return ExtractionExit.success
        } catch let error as ProcessingError {
            report(error.message)
            return error.isPermanent ? ExtractionExit.failedPermanently : ExtractionExit.failed
        } catch {
            report("\(error)")
            return ExtractionExit.failed
        }
    }

    private static func report(_ message: String) {
        FileHandle.standardError.write(Data((message.replacingOccurrences(of: "\n", with: " ") + "\n").utf8))
    }

    /// Applies `limits` to this process (and so to every program it starts); returns what failed.
    /// The memory bound is address space beyond what this process has reserved before reading a
    /// byte of the document (thread stacks and allocator arenas, which grow with the core count),
    /// so that it means the same on a 2-core and a 64-core machine.
    private static func applyLimits(_ limits: ExtractionLimits) -> String? {
        let cpu = rlim_t(max(limits.cpuSeconds, 1))
        let addressSpace = rlim_t(reservedAddressSpace() + limits.memoryBytes)
        let bounds: [(String, Int32, rlim_t, rlim_t)] = [
            ("RLIMIT_CPU", Int32(RLIMIT_CPU.rawValue), cpu, cpu + 1),
            ("RLIMIT_AS", Int32(RLIMIT_AS.rawValue), addressSpace, addressSpace),
            ("RLIMIT_CORE", Int32(RLIMIT_CORE.rawValue), 0, 0),
            ("RLIMIT_FSIZE", Int32(RLIMIT_FSIZE.rawValue), 0, 0),
        ]
        for (name, resource, soft, hard) in bounds {
            var limit = rlimit(rlim_cur: soft, rlim_max: hard)
            if setrlimit(__rlimit_resource_t(resource), &limit) != 0 {
                return "\(name): \(String(cString: strerror(errno)))"
            }
        }
        return nil
    }
}

/// This process's virtual memory size (`VmSize` in `/proc/self/status`), or 0 where unknown.
private func reservedAddressSpace() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmSize:") }),
        let kibibytes = Int(line.dropFirst("VmSize:".count).trimmingCharacters(in: .whitespaces).dropLast(3).trimmingCharacters(in: .whitespaces))
    else { return 0 }
    return kibibytes * 1024
}

extension String {
    /// The longest prefix of at most `bytes` UTF-8 bytes that ends on a character.
    func utf8Prefix(_ bytes: Int) -> String {
        let utf8 = self.utf8
        guard utf8.count > bytes else { return self }
        var end = utf8.index(utf8.startIndex, offsetBy: bytes)
        while end > utf8.startIndex, String.Index(end, within: self) == nil { end = utf8.index(before: end) }
        return String(self[..<end])
    }
}
