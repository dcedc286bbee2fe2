import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Answers `Expect: 100-continue` with `100 Continue`, which Hummingbird does not do: curl and
/// other clients wait a second for it before sending a large body.
///
/// The answer is not sent when the request's Content-Length already exceeds the body limit: the
/// route answers 413 instead and the client never sends the body.
final class ContinueHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let bodyLimit: Int?

    init(bodyLimit: Int?) {
        self.bodyLimit = bodyLimit
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let request) = unwrapInboundIn(data),
           request.headerFields[.expect]?.lowercased() == "100-continue"
        {
            let declared = request.headerFields[.contentLength].flatMap(Int.init)
            let tooLarge = declared.map { declared in bodyLimit.map { declared > $0 } ?? false } ?? false
            if !tooLarge {
                context.writeAndFlush(wrapOutboundOut(.head(HTTPResponse(status: .continue))), promise: nil)
            }
        }
        context.fireChannelRead(data)
    }
}
