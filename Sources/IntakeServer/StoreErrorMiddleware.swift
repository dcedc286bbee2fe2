import Hummingbird
import Ingest

/// Answers what the store throws when it cannot do its part, on every route: 503 with
/// `Retry-After` while it cannot be reached (a database that is down or restarting), 507 when
/// its disk is full. Anything else stays a 500.
struct StoreErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch is StoreUnavailable {
            throw APIError.storeUnavailable
        } catch CatalogError.storageFull {
            throw APIError(IngestError.catalogFull)
        }
    }
}
