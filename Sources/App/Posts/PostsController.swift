import FoundationEssentials
import Web

/// Posts: anyone reads published posts; authors (and superusers) write theirs; drafts are invisible
/// (404) to everyone else; ETags guard against lost updates.
struct PostsController {
    func register(on router: Router<AppContext>) {
        let posts = router.group("/api/v1/posts", tags: ["posts"])
        let unauthorized = ResponseDoc.error(.unauthorized, "Not authenticated")
        let notFound = ResponseDoc.error(.notFound, "No such post, or a draft you may not see")

        posts.post("", .json(PostCreate.self), RouteDoc(
            summary: "Create a post", security: .bearer,
            responses: [.json(.created, PostPublic.self, headers: [("Location", "URL of the new post"), ("ETag", "Its version")]), unauthorized]
        )) { request, context, body in
            let user = try context.requireUser(request)
            let post = try PostsRepository(db: try context.database())
                .create(authorID: user.id, title: body.title, content: body.content, published: body.published, now: context.now)
            return Response.json(PostPublic(post), status: .created, headers: [.location: "/api/v1/posts/\(post.id)"]).with(etag: post.etag)
        }

        posts.get("", .query(PostListQuery.self), RouteDoc(
            summary: "List published posts", description: "Newest first; `next_cursor` continues the list.",
            responses: [.json(.ok, PostPage.self)]
        )) { _, context, query in
            try Self.page(.published(authorID: query.authorID), query, context)
        }

        posts.get("/{id:id}", RouteDoc(
            summary: "Read a post", security: .optionalBearer,
            responses: [.json(.ok, PostPublic.self, headers: [("ETag", "Its version")]), .empty(.notModified), unauthorized, notFound]
        )) { request, context in
            let post = try Self.visiblePost(request, context, user: try context.optionalUser(request))
            if let notModified = Conditional.notModified(request, etag: post.etag) { return notModified }
            return Response.json(PostPublic(post)).with(etag: post.etag)
        }

        let writeResponses = [ResponseDoc.json(.ok, PostPublic.self, headers: [("ETag", "The new version")]), unauthorized,
                              .error(.forbidden, "Not the author"), notFound, .error(.preconditionFailed, "If-Match is stale")]
        posts.put("/{id:id}", .json(PostReplace.self), RouteDoc(summary: "Replace a post", security: .bearer, responses: writeResponses)) { request, context, body in
            try Self.update(request, context) { _ in (body.title, body.content, body.published) }
        }
        posts.patch("/{id:id}", .json(PostPatch.self), RouteDoc(summary: "Change some fields of a post", security: .bearer, responses: writeResponses)) { request, context, body in
            try Self.update(request, context) { post in (body.title ?? post.title, body.content ?? post.content, body.published ?? post.published) }
        }

        posts.delete("/{id:id}", RouteDoc(
            summary: "Delete a post", security: .bearer,
            responses: [.empty(.noContent), unauthorized, .error(.forbidden, "Not the author"), notFound, .error(.preconditionFailed, "If-Match is stale")]
        )) { request, context in
            let post = try Self.editablePost(request, context)
            guard try PostsRepository(db: try context.database()).delete(id: post.id, version: post.version) else { throw HTTPError.preconditionFailed }
            return .noContent
        }

        router.group("/api/v1/users", tags: ["users"]).get("/me/posts", .query(PageQuery.self), RouteDoc(
            summary: "The caller's posts, drafts included", security: .bearer, responses: [.json(.ok, PostPage.self), unauthorized]
        )) { request, context, query in
            let user = try context.requireUser(request)
            return try Self.page(.author(user.id), PostListQuery(limit: query.limit, cursor: query.cursor), context)
        }
    }

    private static func page(_ scope: PostsRepository.Scope, _ query: PostListQuery, _ context: AppContext) throws -> Response {
        let rows = try PostsRepository(db: try context.database()).page(scope, limit: query.limit + 1, after: query.cursor)
        let items = Array(rows.prefix(query.limit))
        let next = rows.count > query.limit ? items.last.map { PageCursor(createdAt: $0.createdAt, id: $0.id).encoded } : nil
        return .json(PostPage(items: items.map(PostPublic.init), nextCursor: next))
    }

    private static func visiblePost(_ request: Request, _ context: AppContext, user: CurrentUser?) throws -> Post {
        let id = try request.parameters.int64("id")
        guard let post = try PostsRepository(db: try context.database()).find(id: id), post.isVisible(to: user) else {
            throw HTTPError(.notFound, detail: "Post not found")
        }
        return post
    }

    /// 404 for those who may not see it, 403 for those who see it but may not change it, 412 on a stale If-Match.
    private static func editablePost(_ request: Request, _ context: AppContext) throws -> Post {
        let user = try context.requireUser(request)
        let post = try visiblePost(request, context, user: user)
        guard post.isEditable(by: user) else { throw HTTPError(.forbidden, detail: "Not enough permissions") }
        try Conditional.checkIfMatch(request, current: post.etag)
        return post
    }

    private static func update(_ request: Request, _ context: AppContext,
                               _ change: (Post) -> (title: String, content: String, published: Bool)) throws -> Response {
        let post = try editablePost(request, context)
        let new = change(post)
        let repository = PostsRepository(db: try context.database())
        // The version in the WHERE clause makes check-and-write one step: a concurrent editor gets 412.
        guard try repository.update(id: post.id, version: post.version, title: new.title, content: new.content,
                                    published: new.published, now: context.now),
              let updated = try repository.find(id: post.id) else { throw HTTPError.preconditionFailed }
        return Response.json(PostPublic(updated)).with(etag: updated.etag)
    }
}

extension PostListQuery {
    init(limit: Int, cursor: PageCursor?) {
        self.limit = limit
        self.cursor = cursor
        self.authorID = nil
    }
}
