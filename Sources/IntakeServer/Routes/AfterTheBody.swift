/// A refusal made after the request's body was read (or partly read): it closes the
/// connection or not as it says, and is not drained again.
struct AfterTheBody: Error {
    var error: APIError
    init(_ error: APIError) { self.error = error }
}
