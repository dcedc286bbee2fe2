import ArgumentParser
import Multipart

/// The parser limits as command-line flags, defaulting to ``MultipartLimits``' defaults.
struct LimitOptions: ParsableArguments {
    @Option(name: .customLong("max-header-bytes"), help: ArgumentHelp("Bytes of one part's header block.", valueName: "bytes"))
    var headerBytes: Int = EnvironmentDefaults.int("INTAKE_MAX_HEADER_BYTES", MultipartLimits().headerBytes)

    @Option(name: .customLong("max-headers"), help: ArgumentHelp("Header lines in one part.", valueName: "count"))
    var headerCount: Int = EnvironmentDefaults.int("INTAKE_MAX_HEADERS", MultipartLimits().headerCount)

    @Option(name: .customLong("max-parts"), help: ArgumentHelp("Parts in the body.", valueName: "count"))
    var parts: Int = EnvironmentDefaults.int("INTAKE_MAX_PARTS", MultipartLimits().parts)

    @Option(name: .customLong("max-field-bytes"), help: ArgumentHelp("Data bytes of one part that is not a file.", valueName: "bytes"))
    var fieldBytes: Int = EnvironmentDefaults.int("INTAKE_MAX_FIELD_BYTES", MultipartLimits().fieldBytes)

    @Option(name: .customLong("max-fields-bytes"), help: ArgumentHelp("Data bytes of all parts that are not files, together.", valueName: "bytes"))
    var fieldsBytes: Int = EnvironmentDefaults.int("INTAKE_MAX_FIELDS_BYTES", MultipartLimits().fieldsBytes)

    @Option(name: [.customLong("max-file-bytes"), .customLong("max-file-size")], help: ArgumentHelp("Data bytes of one file part (default: INTAKE_MAX_FILE_SIZE, else 1 GiB).", valueName: "bytes"))
    var fileBytes: Int?

    @Option(name: [.customLong("max-body-bytes"), .customLong("max-upload-size")], help: ArgumentHelp("Bytes of the whole body (default: INTAKE_MAX_UPLOAD_SIZE, else 2 GiB).", valueName: "bytes"))
    var bodyBytes: Int?

    @Option(name: .customLong("max-preamble-bytes"), help: ArgumentHelp("Bytes before the first boundary line.", valueName: "bytes"))
    var preambleBytes: Int = EnvironmentDefaults.int("INTAKE_MAX_PREAMBLE_BYTES", MultipartLimits().preambleBytes)

    @Option(name: .customLong("max-epilogue-bytes"), help: ArgumentHelp("Bytes after the close delimiter.", valueName: "bytes"))
    var epilogueBytes: Int = EnvironmentDefaults.int("INTAKE_MAX_EPILOGUE_BYTES", MultipartLimits().epilogueBytes)

    func validate() throws {
        let values: [(String, Int?)] = [
            ("--max-header-bytes", headerBytes), ("--max-headers", headerCount), ("--max-parts", parts),
            ("--max-field-bytes", fieldBytes), ("--max-fields-bytes", fieldsBytes), ("--max-file-bytes", limits.fileBytes), ("--max-body-bytes", limits.bodyBytes),
            ("--max-preamble-bytes", preambleBytes), ("--max-epilogue-bytes", epilogueBytes),
        ]
        for case (let flag, let value?) in values where value < 0 {
            throw ValidationError("\(flag) must be 0 or more, not \(value).")
        }
    }

    var limits: MultipartLimits {
        var limits = MultipartLimits()
        limits.headerBytes = headerBytes
        limits.headerCount = headerCount
        limits.parts = parts
        limits.fieldBytes = fieldBytes
        limits.fieldsBytes = fieldsBytes
        // Optional options cannot have a default, so the environment is read here.
        limits.fileBytes = fileBytes ?? EnvironmentDefaults.int("INTAKE_MAX_FILE_SIZE") ?? MultipartLimits().fileBytes
        limits.bodyBytes = bodyBytes ?? EnvironmentDefaults.int("INTAKE_MAX_UPLOAD_SIZE") ?? MultipartLimits().bodyBytes
        limits.preambleBytes = preambleBytes
        limits.epilogueBytes = epilogueBytes
        return limits
    }
}
