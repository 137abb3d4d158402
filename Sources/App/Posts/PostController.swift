import FoundationEssentials
import Web

/// Posts: anyone reads published posts; authors (with `posts:write`) write theirs and moderators
/// (`posts:moderate`) anyone's; drafts are invisible (404) to everyone else; ETags guard against lost updates.
struct PostController {
    func register(on router: Router<AppContext>) {
        let posts = router.group("/api/v1/posts", tags: ["posts"], responses: [.rateLimited])
        let unauthorized = ResponseDoc.error(.unauthorized, "Not authenticated")
        let notFound = ResponseDoc.error(.notFound, "No such post, or a draft you may not see")
        let written = [
            ResponseDoc.json(.ok, PostPublic.self, headers: [("ETag", "The new version")]), unauthorized,
            .error(.forbidden, "Not the author, or not enough permissions"), notFound, .error(.preconditionFailed, "If-Match is stale")
        ]

        posts.post(
            "", .permission(.postsWrite), .json(PostCreate.self),
            RouteDoc(
                summary: "Create a post",
                responses: [
                    .json(
                        .created, PostPublic.self,
                        headers: [
                            ("Location", "URL of the new post"), ("ETag", "Its version"),
                            ("Idempotent-Replayed", "`true` when this is the stored answer to an earlier request with the same Idempotency-Key")
                        ]), unauthorized
                ] + IdempotentCreation.responses, headers: [IdempotentCreation.headerDoc]),
            use: create)
        posts.get(
            "", .query(PostListQuery.self),
            RouteDoc(
                summary: "List published posts", description: "Newest first; `next_cursor` continues the list.",
                responses: [.json(.ok, PostPage.self)]), use: list)
        posts.get(
            "/{id:id}", .optionalBearer,
            RouteDoc(
                summary: "Read a post",
                responses: [.json(.ok, PostPublic.self, headers: [("ETag", "Its version")]), .empty(.notModified), unauthorized, notFound]),
            use: read)
        posts.put("/{id:id}", .bearer, .json(PostReplace.self), RouteDoc(summary: "Replace a post", responses: written), use: replace)
        posts.patch("/{id:id}", .bearer, .json(PostPatch.self), RouteDoc(summary: "Change some fields of a post", responses: written), use: patch)
        posts.delete(
            "/{id:id}", .bearer,
            RouteDoc(
                summary: "Delete a post",
                responses: [
                    .empty(.noContent), unauthorized, .error(.forbidden, "Not the author, or not enough permissions"), notFound,
                    .error(.preconditionFailed, "If-Match is stale")
                ]),
            use: delete)
        router.group("/api/v1/users", tags: ["users"], responses: [.rateLimited]).get(
            "/me/posts", .bearer, .query(PageQuery.self),
            RouteDoc(
                summary: "The caller's posts, drafts included", responses: [.json(.ok, PostPage.self), unauthorized]), use: listMine)
    }

    func create(_ request: Request, _ context: AppContext, _ caller: CurrentUser, _ body: PostCreate) throws -> Response {
        try IdempotentCreation.user(caller).run(request, context) { record in
            let post = try PostRepository(db: try context.database()).create(
                authorID: caller.id, title: body.title, content: body.content, published: body.published, now: context.now
            ) { post in try record(Self.created(post)) }
            return Self.created(post)
        }
    }

    private static func created(_ post: Post) -> Response {
        Response.json(PostPublic(post), status: .created, headers: [.location: "/api/v1/posts/\(post.id)"]).with(etag: post.etag)
    }

    func list(_ request: Request, _ context: AppContext, _ query: PostListQuery) throws -> Response {
        try Self.page(.published(authorID: query.authorID), limit: query.limit, after: query.cursor, context)
    }

    func listMine(_ request: Request, _ context: AppContext, _ caller: CurrentUser, _ query: PageQuery) throws -> Response {
        try Self.page(.author(caller.id), limit: query.limit, after: query.cursor, context)
    }

    func read(_ request: Request, _ context: AppContext, _ caller: CurrentUser?) throws -> Response {
        let post = try Self.visiblePost(request, context, caller: caller)
        let etag = post.etag  // once: it is built from the id and version each time it is read
        if let notModified = Conditional.notModified(request, etag: etag) { return notModified }
        return Response.json(PostPublic(post)).with(etag: etag)
    }

    func replace(_ request: Request, _ context: AppContext, _ caller: CurrentUser, _ body: PostReplace) throws -> Response {
        try Self.update(request, context, caller) { _ in (body.title, body.content, body.published) }
    }

    func patch(_ request: Request, _ context: AppContext, _ caller: CurrentUser, _ body: PostPatch) throws -> Response {
        try Self.update(request, context, caller) { post in (body.title ?? post.title, body.content ?? post.content, body.published ?? post.published) }
    }

    func delete(_ request: Request, _ context: AppContext, _ caller: CurrentUser) throws -> Response {
        let post = try Self.editablePost(request, context, caller: caller)
        guard try PostRepository(db: try context.database()).delete(id: post.id, version: post.version) else { throw HTTPError.preconditionFailed }
        return .noContent
    }

    private static func page(_ scope: PostRepository.Scope, limit: Int, after cursor: PageCursor?, _ context: AppContext) throws -> Response {
        let rows = try PostRepository(db: try context.database()).page(scope, limit: limit + 1, after: cursor)
        let page = KeysetPage(rows, limit: limit) { ($0.createdAt, $0.id) }
        return .json(PostPage(items: page.items.map(PostPublic.init), nextCursor: page.nextCursor))
    }

    private static func visiblePost(_ request: Request, _ context: AppContext, caller: CurrentUser?) throws -> Post {
        let id = try request.parameters.int64("id")
        guard let post = try PostRepository(db: try context.database()).find(id: id), post.isVisible(to: caller) else {
            throw HTTPError(.notFound, detail: "Post not found")
        }
        return post
    }

    /// 404 for those who may not see it, 403 for those who see it but may not change it, 412 on a stale If-Match.
    private static func editablePost(_ request: Request, _ context: AppContext, caller: CurrentUser) throws -> Post {
        let post = try visiblePost(request, context, caller: caller)
        guard post.isEditable(by: caller) else {
            // The author without `posts:write` lacks a scope; anyone else lacks the moderator's.
            throw HTTPError.insufficientScope([post.authorID == caller.id ? .postsWrite : .postsModerate])
        }
        try Conditional.checkIfMatch(request, current: post.etag)
        return post
    }

    private static func update(
        _ request: Request, _ context: AppContext, _ caller: CurrentUser,
        _ change: (Post) -> (title: String, content: String, published: Bool)
    ) throws -> Response {
        let post = try editablePost(request, context, caller: caller)
        let new = change(post)
        let repository = PostRepository(db: try context.database())
        // The version in the WHERE clause makes check-and-write one step: a concurrent editor gets 412.
        guard
            try repository.update(
                id: post.id, version: post.version, title: new.title, content: new.content,
                published: new.published, now: context.now),
            let updated = try repository.find(id: post.id)
        else { throw HTTPError.preconditionFailed }
        return Response.json(PostPublic(updated)).with(etag: updated.etag)
    }
}
