/// What the parser reports, in body order.
///
/// For each part: one ``partBegin(_:)``, any number of body events, one ``partEnd``. After the
/// last part (at the close delimiter): ``end``.
public enum MultipartEvent: Sendable, Hashable {
    /// A part's header block is complete.
    case partBegin(MultipartPart)
    /// `chunk[range]` of the chunk just passed to the parser is data of the current part (wire
    /// bytes, before any Content-Transfer-Encoding is decoded). Never copied.
    case body(Range<Int>)
    /// `parser.lookbehind[range]` is data of the current part: bytes at the end of an earlier chunk
    /// that could have begun a delimiter and turned out to be data. They are at most a delimiter
    /// plus its transport padding long, are always delimiter bytes (CR, LF, `--`, the boundary,
    /// padding), and stay valid until the parser is next called.
    case bodyLookbehind(Range<Int>)
    /// The current part's data is complete.
    case partEnd
    /// The close delimiter was read: the body has no more parts. Anything after it is epilogue.
    case end
}
