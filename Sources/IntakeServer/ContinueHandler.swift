import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Answers `Expect: 100-continue` with `100 Continue` (which Hummingbird does not do: curl and
/// other clients wait a second for it before sending a large body) — but only once the route has
/// decided to read the body (``SendContinue``, sent by ``IntakeRequestContext/expectBody()``):
/// a request refused first (no valid key, a Content-Length over the limit) never gets it, so its
/// client never sends the body.
///
/// And a response with `Connection: close` to a request whose body has not been read to its end
/// closes the connection as soon as it is written, instead of reading (and waiting for) the rest.
final class ContinueHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// The event that makes the handler answer `100 Continue` to the request in progress, if it
    /// asked for one and has had no response yet.
    struct SendContinue: Sendable {}

    /// The event that makes the handler send an informational (1xx) response to the request in
    /// progress, if its final response has not begun (`104 Upload Resumption Supported`).
    struct SendInterim: Sendable {
        var response: HTTPResponse
    }

    private var continuePending = false
    /// Whether the final response to the request in progress has begun.
    private var finalResponseBegun = false
    /// Whether the request in progress has been read to its end.
    private var requestEnded = true
    /// Whether the response in progress says `Connection: close`.
    private var responseCloses = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let request):
            continuePending = request.headerFields[.expect]?.lowercased() == "100-continue"
            requestEnded = false
            finalResponseBegun = false
        case .end:
            requestEnded = true
        case .body:
            break
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let response) where response.status.kind != .informational:
            continuePending = false  // the final response: no 100 after it
            finalResponseBegun = true
            responseCloses = response.headerFields[.connection]?.lowercased() == "close"
            context.write(data, promise: promise)
        case .end where responseCloses && !requestEnded:
            responseCloses = false
            let written = context.eventLoop.makePromise(of: Void.self)
            written.futureResult.cascade(to: promise)
            context.writeAndFlush(data, promise: written)
            let channel = context.channel
            written.futureResult.whenComplete { _ in channel.close(promise: nil) }
        default:
            context.write(data, promise: promise)
        }
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        if let interim = event as? SendInterim {
            if !finalResponseBegun && interim.response.status.kind == .informational {
                context.writeAndFlush(wrapOutboundOut(.head(interim.response)), promise: nil)
            }
            promise?.succeed()
            return
        }
        guard event is SendContinue else { return context.triggerUserOutboundEvent(event, promise: promise) }
        if continuePending {
            continuePending = false
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponse(status: .continue))), promise: nil)
        }
        promise?.succeed()
    }
}
