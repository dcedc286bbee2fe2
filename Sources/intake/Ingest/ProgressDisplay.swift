import Foundation
import IntakeClient

/// Shows an ingest run as it goes, in one of three ways:
/// - `--json`: one JSON object per file on stdout, then `{"summary": {…}}`;
/// - a terminal on stderr: one live line (files, bytes, MB/s, ETA, skipped, failed) and a line
///   per failure;
/// - otherwise: one plain line per file on stdout.
actor ProgressDisplay {
    enum Style { case json, live, plain }

    private let style: Style
    private let sent: ByteCounter
    private let clock = ContinuousClock()
    private let start: ContinuousClock.Instant
    private var totalFiles = 0
    private var totalBytes: Int64 = 0
    private var doneFiles = 0
    private var doneBytes: Int64 = 0
    private var skipped = 0
    private var failed = 0
    private var lineShown = false

    init(style: Style, sent: ByteCounter) {
        self.style = style
        self.sent = sent
        start = clock.now
    }

    func handle(_ event: BulkIngest.Event) {
        switch event {
        case .started(let files, let bytes):
            totalFiles = files
            totalBytes = bytes
            refresh()
        case .finished(let report):
            doneFiles += 1
            doneBytes += report.bytes
            if report.status == .skipped { skipped += 1 }
            if report.status == .failed { failed += 1 }
            switch style {
            case .json: Self.write(Self.json(report) + "\n", to: .standardOutput)
            case .plain: Self.write(Self.plain(report) + "\n", to: .standardOutput)
            case .live:
                if report.status == .failed { printAboveLine(Self.plain(report)) }
                refresh()
            }
        }
    }

    /// Redraws the live line (no-op in other styles); called on every event and by a timer.
    func refresh() {
        guard style == .live else { return }
        let elapsed = max((clock.now - start) / .seconds(1), 0.001)
        let rate = Double(sent.value) / elapsed / 1e6
        var line = "\(doneFiles)/\(totalFiles) files · \(Self.megabytes(sent.value)) sent · \(String(format: "%.1f", rate)) MB/s"
        if doneBytes > 0, doneBytes < totalBytes {
            let remaining = Double(totalBytes - doneBytes) / (Double(doneBytes) / elapsed)
            line += " · ETA \(Self.duration(remaining))"
        }
        line += " · \(skipped) skipped · \(failed) failed"
        Self.write("\r\u{1B}[2K" + line, to: .standardError)
        lineShown = true
    }

    /// Ends the live line and prints the summary.
    func finish(_ summary: IngestSummary) {
        if style == .live, lineShown { Self.write("\r\u{1B}[2K", to: .standardError) }
        switch style {
        case .json:
            Self.write(Self.json(summary, sent: sent.value) + "\n", to: .standardOutput)
        case .plain, .live:
            var text =
                "\(summary.files) files: \(summary.uploaded) uploaded (\(Self.megabytes(summary.bytesUploaded))), \(summary.skipped) skipped, \(summary.failed) failed in \(String(format: "%.1f", summary.seconds)) s"
            if summary.interrupted { text += "; interrupted, \(summary.notStarted) not started (run again to resume)" }
            text += "\n"
            for failure in summary.failures { text += "  failed: \(failure.path): \(failure.error ?? "unknown error")\n" }
            Self.write(text, to: style == .live ? .standardError : .standardOutput)
        }
    }

    private func printAboveLine(_ text: String) {
        Self.write("\r\u{1B}[2K" + text + "\n", to: .standardError)
    }

    static func plain(_ report: FileReport) -> String {
        switch report.status {
        case .uploaded:
            return "uploaded \(report.path) → \(report.documentID ?? "?") (\(report.bytes) bytes)"
        case .skipped:
            return "skipped  \(report.path) (\(report.note ?? "already stored")\(report.documentID.map { ": \($0)" } ?? ""))"
        case .failed:
            return "failed   \(report.path): \(report.error ?? "unknown error")"
        }
    }

    static func json(_ report: FileReport) -> String {
        JSONText.object([
            ("path", JSONText.string(report.path)),
            ("status", JSONText.string(report.status.rawValue)),
            ("document_id", JSONText.optionalString(report.documentID)),
            ("sha256", JSONText.optionalString(report.sha256)),
            ("bytes", "\(report.bytes)"),
            ("error", JSONText.optionalString(report.error)),
            ("note", JSONText.optionalString(report.note)),
            ("attempts", "\(report.attempts)"),
        ])
    }

    static func json(_ summary: IngestSummary, sent: Int64) -> String {
        let failures = summary.failures.map { JSONText.object([("path", JSONText.string($0.path)), ("error", JSONText.optionalString($0.error))]) }
        return JSONText.object([
            (
                "summary",
                JSONText.object([
                    ("files", "\(summary.files)"),
                    ("uploaded", "\(summary.uploaded)"),
                    ("skipped", "\(summary.skipped)"),
                    ("failed", "\(summary.failed)"),
                    ("bytes_uploaded", "\(summary.bytesUploaded)"),
                    ("bytes_sent", "\(sent)"),
                    ("seconds", String(format: "%.3f", summary.seconds)),
                    ("interrupted", summary.interrupted ? "true" : "false"),
                    ("not_started", "\(summary.notStarted)"),
                    ("failures", "[" + failures.joined(separator: ",") + "]"),
                ])
            )
        ])
    }

    private static func megabytes(_ bytes: Int64) -> String {
        bytes < 1_000_000 ? String(format: "%.1f kB", Double(bytes) / 1e3) : String(format: "%.1f MB", Double(bytes) / 1e6)
    }

    private static func duration(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        return total >= 3600 ? String(format: "%d:%02d:%02d", total / 3600, total / 60 % 60, total % 60) : String(format: "%d:%02d", total / 60, total % 60)
    }

    private static func write(_ text: String, to handle: FileHandle) {
        handle.write(Data(text.utf8))
    }
}
