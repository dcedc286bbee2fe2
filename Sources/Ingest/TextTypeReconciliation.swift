import Foundation

/// libmagic tells text formats apart by guesswork: one comma per line makes prose `text/csv`, and
/// a CSV file without enough commas is `text/plain`. Within that family the client knows better,
/// so when libmagic and the declared type — or, declared as nothing useful, the filename's
/// extension — disagree only about which of these kinds of plain text it is, the declared kind
/// wins. Types the content decides (HTML, XML and JSON, which libmagic recognises by their syntax)
/// and everything outside the family are left as detected: a client can never turn bytes into a
/// type the policy treats differently.
public enum TextTypeReconciliation {
    /// Plain-text kinds that only a guess tells apart.
    static let family: Set<String> = ["text/plain", "text/csv", "text/tab-separated-values", "text/markdown"]

    static let byExtension: [String: String] = [
        "txt": "text/plain", "text": "text/plain", "log": "text/plain", "md": "text/markdown", "markdown": "text/markdown",
        "csv": "text/csv", "tsv": "text/tab-separated-values", "tab": "text/tab-separated-values",
    ]

    /// `detected`, or the declared kind of plain text when both are in the family.
    public static func reconcile(_ detected: SniffedType, declaredType: String?, filename: String?) -> SniffedType {
        guard family.contains(detected.mimeType) else { return detected }
        let declared = declaredType.map(Self.mediaType).flatMap { family.contains($0) ? $0 : nil }
        guard let claimed = declared ?? filename.flatMap(Self.typeOfExtension), claimed != detected.mimeType else { return detected }
        return SniffedType(mimeType: claimed, charset: detected.charset)
    }

    /// `value` without parameters, lowercased (`text/plain; charset=utf-8` → `text/plain`).
    static func mediaType(_ value: String) -> String {
        String(value.prefix { $0 != ";" }).trimmingCharacters(in: .whitespaces).lowercased()
    }

    static func typeOfExtension(_ filename: String) -> String? {
        guard let dot = filename.lastIndex(of: "."), dot != filename.startIndex else { return nil }
        return byExtension[filename[filename.index(after: dot)...].lowercased()]
    }
}
