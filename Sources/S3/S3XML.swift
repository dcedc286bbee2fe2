#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Just enough XML for S3's answers: the text of named elements, which S3 never nests in
/// themselves, with the five predefined entities and numeric references decoded.
enum S3XML {
    /// The inner text of every `<tag>…</tag>` in `document`, in order.
    static func elements(_ tag: String, in document: Substring) -> [Substring] {
        let open = "<\(tag)>"
        let close = "</\(tag)>"
        var found: [Substring] = []
        var rest = document[...]
        while let start = rest.firstRange(of: open) {
            guard let end = rest[start.upperBound...].firstRange(of: close) else { break }
            found.append(rest[start.upperBound..<end.lowerBound])
            rest = rest[end.upperBound...]
        }
        return found
    }

    /// The decoded text of the first `<tag>` in `document`.
    static func text(_ tag: String, in document: Substring) -> String? {
        elements(tag, in: document).first.map { decode($0) }
    }

    static func decode(_ text: Substring) -> String {
        guard text.contains("&") else { return String(text) }
        var decoded = ""
        var rest = text[...]
        while let ampersand = rest.firstIndex(of: "&") {
            decoded += rest[..<ampersand]
            guard let semicolon = rest[ampersand...].firstIndex(of: ";") else { break }
            let name = rest[rest.index(after: ampersand)..<semicolon]
            switch name {
            case "amp": decoded += "&"
            case "lt": decoded += "<"
            case "gt": decoded += ">"
            case "quot": decoded += "\""
            case "apos": decoded += "'"
            default:
                let number = name.hasPrefix("#x") ? UInt32(name.dropFirst(2), radix: 16) : name.hasPrefix("#") ? UInt32(name.dropFirst()) : nil
                if let number, let scalar = Unicode.Scalar(number) {
                    decoded.unicodeScalars.append(scalar)
                } else {
                    decoded += rest[ampersand...semicolon]
                }
            }
            rest = rest[rest.index(after: semicolon)...]
        }
        return decoded + rest
    }

    /// `text` with `& < > " '` escaped, for the request bodies we write.
    static func escape(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&apos;"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// Seconds since 1970 of an ISO 8601 time as S3 writes it (`2026-12-02T23:26:14.000Z`).
    static func seconds(iso8601 text: String) -> Int? {
        let digits = text.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        guard digits.count >= 6, text.hasSuffix("Z") else { return nil }
        return utcSeconds(year: digits[0], month: digits[1], day: digits[2], hour: digits[3], minute: digits[4], second: digits[5])
    }

    /// Seconds since 1970 of an HTTP date (`Wed, 02 Dec 2026 23:26:14 GMT`), as in `Last-Modified`.
    static func seconds(httpDate text: String) -> Int? {
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let fields = text.split(whereSeparator: { $0 == " " || $0 == ":" || $0 == "," })
        guard fields.count >= 7, let day = Int(fields[1]), let month = months.firstIndex(of: String(fields[2])),
            let year = Int(fields[3]), let hour = Int(fields[4]), let minute = Int(fields[5]), let second = Int(fields[6])
        else { return nil }
        return utcSeconds(year: year, month: month + 1, day: day, hour: hour, minute: minute, second: second)
    }

    /// Seconds since 1970 of a UTC calendar time (`month` 1…12).
    private static func utcSeconds(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) -> Int {
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        return Int(timegm(&parts))
    }
}
