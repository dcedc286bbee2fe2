import Foundation
import HTTPTypes
import Hummingbird
import Ingest

/// `GET /search`.
struct SearchRoutes {
    let service: IntakeService

    func add(to router: Router<IntakeRequestContext>) {
        router.get("search") { request, context in try await search(request, context) }
    }

    /// `?q=words&limit=N[&knowledge_base=NAME]`: the caller's knowledge base only when it has a key;
    /// narrowed by ``DocumentFilterParameters`` (`filter[FIELD]=`, `type=`, `uploaded_after=`, `uploaded_before=`).
    private func search(_ request: Request, _ context: IntakeRequestContext) async throws -> Response {
        let parameters = request.uri.queryParameters
        guard let text = parameters.get("q"), !text.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw APIError(.badRequest, code: "invalid_query", message: "q (the words to search for) is required")
        }
        guard text.utf8.count <= 1000 else {
            throw APIError(.badRequest, code: "invalid_query", message: "q is at most 1,000 bytes")
        }
        var query = SearchQuery(text: text, knowledgeBase: context.knowledgeBase)
        if parameters.get("knowledge_base") != nil {
            query.knowledgeBase = try UploadRoutes.knowledgeBase(request, key: context.knowledgeBase)
        }
        if let limit = parameters.get("limit") {
            guard let parsed = Int(limit), (1...100).contains(parsed) else {
                throw APIError(.badRequest, code: "invalid_query", message: "limit must be a number from 1 to 100")
            }
            query.limit = parsed
        }
        query.filter = try DocumentFilterParameters.filter(request)
        let hits = try await service.database.search(query)
        return try jsonResponse(.ok, APIModels.SearchResults(results: hits.map(APIModels.SearchResult.init)))
    }
}
