import ArgumentParser
import KnowledgeBase

/// How workers cut documents into passages, as flags of `intake serve` and `intake worker`.
struct ChunkOptions: ParsableArguments {
    @Option(name: .customLong("chunk-characters"), help: ArgumentHelp("Characters per passage (about 4 per token; the default is about 800 tokens).", valueName: "count"))
    var characters = EnvironmentDefaults.int("INTAKE_CHUNK_CHARACTERS", 3200)

    @Option(name: .customLong("chunk-overlap"), help: ArgumentHelp("Characters of a passage repeated at the start of the next.", valueName: "count"))
    var overlap = EnvironmentDefaults.int("INTAKE_CHUNK_OVERLAP", 400)

    func validate() throws {
        guard characters >= 100 else { throw ValidationError("--chunk-characters must be at least 100.") }
        guard overlap >= 0, overlap < characters / 2 else { throw ValidationError("--chunk-overlap must be 0 or more and under half of --chunk-characters.") }
    }

    var chunker: Chunker { Chunker(targetCharacters: characters, overlapCharacters: overlap) }
}
