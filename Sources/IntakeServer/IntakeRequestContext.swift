public import Hummingbird

/// The context of one request: Hummingbird's core context and the knowledge base of the request's
/// API key (nil while the server has no keys, when every request is anonymous).
public struct IntakeRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var knowledgeBase: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        knowledgeBase = nil
    }
}
