import CMagic
import Synchronization

/// A media type and charset as libmagic reports them, e.g. `text/plain` and `utf-8`.
public struct SniffedType: Sendable, Hashable, CustomStringConvertible {
    /// The MIME type, lowercased, without parameters (`application/pdf`).
    public var mimeType: String
    /// The charset libmagic reports (`us-ascii`, `utf-8`, `binary`, …), if any.
    public var charset: String?

    public init(mimeType: String, charset: String? = nil) {
        self.mimeType = mimeType
        self.charset = charset
    }

    public var description: String { charset.map { "\(mimeType); charset=\($0)" } ?? mimeType }

    /// Parses libmagic's `MAGIC_MIME` answer: `type/subtype; charset=name`.
    init(magicAnswer: String) {
        let pieces = magicAnswer.split(separator: ";", maxSplits: 1)
        mimeType = pieces.first.map { $0.trimmingSpaces.lowercased() } ?? "application/octet-stream"
        charset = nil
        if pieces.count == 2 {
            let parameter = pieces[1].trimmingSpaces
            if parameter.lowercased().hasPrefix("charset=") {
                charset = String(parameter.dropFirst("charset=".count)).lowercased()
            }
        }
    }
}

/// The database could not be opened or loaded.
public struct MagicError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// Detects a file's type from its first bytes with libmagic.
///
/// libmagic's text rules are regular expressions that cost 1–3 ms a call, so a sniff asks in the
/// cheapest order that decides: first libmagic's built-in tests over all the bytes (charset, JSON,
/// CSV; about 10 µs for 4 KiB), which say whether the bytes are text; text that is not yet decided
/// then goes through all the rules (HTML, XML, scripts…, and binary formats that can be all ASCII,
/// such as PDF) over the first ``textRulesLength`` bytes, where those formats announce themselves;
/// anything else through the binary rules only (about 0.2 ms: PDF, images, Office and OpenDocument
/// containers, executables…).
///
/// libmagic handles are not thread-safe, and loading the database costs milliseconds: the sniffer
/// opens a pool of handles once, each with the database loaded, and lends one to each caller.
/// Callers beyond the pool's size wait (without blocking a thread) for a handle to come back.
/// Creating a sniffer fails with a clear message when libmagic or its database cannot be loaded,
/// so a service finds out at start-up, not at its first upload.
public final class MagicSniffer: Sendable {
    /// The most bytes worth sniffing: libmagic's own default read size (`MAGIC_PARAM_BYTES_MAX`
    /// is 1 MiB, but every magic rule this project relies on decides within 64 KiB).
    public static let maximumSniffLength = 64 * 1024

    /// How much of a text file the text rules see.
    public static let textRulesLength = 1024

    private static let mime = MAGIC_MIME_TYPE | MAGIC_MIME_ENCODING | MAGIC_ERROR

    private struct Handle: @unchecked Sendable {
        // A magic_t, used by one caller at a time: the pool hands it out and takes it back.
        let raw: OpaquePointer
    }

    private struct Pool {
        var idle: [Handle]
        var waiters: [CheckedContinuation<Handle, Never>] = []
    }

    private let pool: Mutex<Pool>
    private let all: [Handle]

    /// Opens `handles` libmagic handles and loads the database into each.
    ///
    /// - Parameter databasePath: a compiled magic file; `nil` for the system's default.
    public init(handles: Int = 4, databasePath: String? = nil) throws(MagicError) {
        precondition(handles > 0, "a sniffer needs at least one handle")
        var opened: [Handle] = []
        for _ in 0..<handles {
            guard let raw = magic_open(Self.mime) else {
                opened.forEach { magic_close($0.raw) }
                throw MagicError(message: "libmagic: magic_open failed (out of memory?)")
            }
            let status = databasePath.map { magic_load(raw, $0) } ?? magic_load(raw, nil)
            if status != 0 {
                let reason = magic_error(raw).map { String(cString: $0) } ?? "unknown error"
                magic_close(raw)
                opened.forEach { magic_close($0.raw) }
                throw MagicError(message: "libmagic could not load its database (\(databasePath ?? "the system default")): \(reason). Install libmagic-mgc (Debian) or pass a magic file.")
            }
            opened.append(Handle(raw: raw))
        }
        all = opened
        pool = Mutex(Pool(idle: opened))
    }

    deinit {
        all.forEach { magic_close($0.raw) }
    }

    /// The type of the data that starts with `prefix` (pass at most ``maximumSniffLength`` bytes:
    /// the first bytes of a file, or all of a shorter one).
    public func sniff(_ prefix: [UInt8]) async -> SniffedType {
        let handle = await acquire()
        defer { release(handle) }
        return prefix.withUnsafeBytes { bytes in
            let bytes = UnsafeRawBufferPointer(rebasing: bytes.prefix(Self.maximumSniffLength))
            // libmagic's built-in tests first (about 10 µs for 4 KiB): the encoding says whether this is text.
            let builtIn = Self.ask(handle, Self.mime | MAGIC_NO_CHECK_SOFT, bytes)
            guard bytes.isEmpty || builtIn.charset == nil || builtIn.charset == "binary" else {
                // Text: JSON, CSV… are decided; for the rest the rules (text and binary: a PDF may be
                // all ASCII) over the start, where such formats announce themselves.
                guard builtIn.mimeType == "text/plain" else { return builtIn }
                let rules = Self.ask(handle, Self.mime, UnsafeRawBufferPointer(rebasing: bytes.prefix(Self.textRulesLength)))
                guard rules.mimeType.hasPrefix("text/") || rules.mimeType.hasPrefix("application/") else { return builtIn }
                return Self.isTextual(rules.mimeType)
                    ? SniffedType(mimeType: rules.mimeType, charset: builtIn.charset) : SniffedType(mimeType: rules.mimeType, charset: "binary")
            }
            // Not text (or empty): the binary rules over everything.
            let binary = Self.ask(handle, Self.mime | MAGIC_NO_CHECK_TEXT, bytes)
            // A charset means nothing for a binary format (libmagic says "unknown-8bit" for a PDF
            // with high bytes); keep it only for textual formats such as JSON or XML.
            return Self.isTextual(binary.mimeType) ? binary : SniffedType(mimeType: binary.mimeType, charset: "binary")
        }
    }

    private static func isTextual(_ mimeType: String) -> Bool {
        mimeType.hasPrefix("text/") || mimeType.hasSuffix("json") || mimeType.hasSuffix("xml")
    }

    private static func ask(_ handle: Handle, _ flags: Int32, _ bytes: UnsafeRawBufferPointer) -> SniffedType {
        magic_setflags(handle.raw, flags)
        // An empty buffer has no base address; libmagic wants one all the same.
        let base = bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
        guard let answer = magic_buffer(handle.raw, base, bytes.count) else {
            return SniffedType(mimeType: "application/octet-stream")
        }
        return SniffedType(magicAnswer: String(cString: answer))
    }

    private func acquire() async -> Handle {
        await withCheckedContinuation { continuation in
            let handle = pool.withLock { pool -> Handle? in
                if let handle = pool.idle.popLast() { return handle }
                pool.waiters.append(continuation)
                return nil
            }
            if let handle { continuation.resume(returning: handle) }
        }
    }

    private func release(_ handle: Handle) {
        let waiter = pool.withLock { pool -> CheckedContinuation<Handle, Never>? in
            if pool.waiters.isEmpty {
                pool.idle.append(handle)
                return nil
            }
            return pool.waiters.removeFirst()
        }
        waiter?.resume(returning: handle)
    }
}

extension Substring {
    var trimmingSpaces: String {
        String(drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
    }
}
