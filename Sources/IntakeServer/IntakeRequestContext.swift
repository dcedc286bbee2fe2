import HTTPTypes
public import Hummingbird
import NIOCore

/// The context of one request: Hummingbird's core context and the knowledge base of the request's
/// API key (nil while the server has no keys, when every request is anonymous).
public struct IntakeRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var knowledgeBase: String?
    /// The connection, to tell it when the body is wanted.
    private let channel: (any Channel)?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        knowledgeBase = nil
        channel = source.channel
    }

    /// Says that the route will read the request's body: a client waiting on
    /// `Expect: 100-continue` is told to send it now (and only now: a request refused before this
    /// never is).
    public func expectBody() async {
        guard let channel else { return }
        try? await channel.triggerUserOutboundEvent(ContinueHandler.SendContinue())
    }

    /// Sends the informational (1xx) `response` now, ahead of the final one (which has not begun).
    func sendInterim(_ response: HTTPResponse) async {
        guard let channel else { return }
        try? await channel.triggerUserOutboundEvent(ContinueHandler.SendInterim(response: response))
    }
}
