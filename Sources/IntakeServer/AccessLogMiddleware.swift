import HTTPTypes
import Ingest
import Hummingbird
import Logging

/// One log line per request, when it is answered: a request id (also sent back as
/// `X-Request-ID`), method, path, status, response bytes when known, duration, and the
/// `Location` of what it created (`/uploads/<id>`), so that an upload needs no second line.
/// Values go in metadata, not in the message.
struct AccessLogMiddleware<Context: RequestContext>: RouterMiddleware {
    let logger: Logger
    let metrics: IntakeMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let id = RandomIdentifier.hex(8)
        let start = ContinuousClock.now
        func log(_ status: HTTPResponse.Status, bytes: Int?, location: String? = nil) {
            let elapsed = ContinuousClock.now - start
            let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
            var metadata: Logger.Metadata = [
                "request": "\(id)", "method": "\(request.method)", "path": "\(request.uri.path)", "status": "\(status.code)",
                "duration_ms": "\((milliseconds * 10).rounded() / 10)",
            ]
            if let bytes { metadata["bytes"] = "\(bytes)" }
            if let location { metadata["location"] = "\(location)" }
            logger.info("request", metadata: metadata)
            metrics.request(method: "\(request.method)", status: status.code, duration: elapsed)
        }
        do {
            var response = try await next(request, context)
            response.headers[HTTPField.Name("X-Request-ID")!] = String(id)
            log(response.status, bytes: response.body.contentLength, location: response.headers[.location])
            return response
        } catch let error as any HTTPResponseError {
            log(error.status, bytes: nil)
            throw error
        } catch {
            log(.internalServerError, bytes: nil)
            throw error
        }
    }
}
