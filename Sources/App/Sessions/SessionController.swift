import Web

/// The caller's sessions (one per login): list them, end one; `users:admin` ends all of a user's.
/// (POST /auth/logout-all, the caller ending all of theirs, belongs to the auth controller.)
struct SessionController {
    func register(on router: Router<AppContext>) {
        let users = router.group("/api/v1/users", tags: ["sessions"], sensitive: true, responses: [.rateLimited])
        let unauthorized = ResponseDoc.error(.unauthorized, "Not authenticated")
        users.get(
            "/me/sessions", .bearer,
            RouteDoc(
                summary: "The caller's live sessions", description: "Newest first; `current` marks the session of this request's token.",
                responses: [.json(.ok, SessionList.self), unauthorized]), use: list)
        users.delete(
            "/me/sessions/{id:id}", .bearer,
            RouteDoc(
                summary: "End one of the caller's sessions",
                responses: [
                    .empty(.noContent, "Its access and refresh tokens stop working"), unauthorized,
                    .error(.notFound, "Not a live session of the caller")
                ]), use: end)
        users.delete(
            "/{id:id}/sessions", .permission(.usersAdmin),
            RouteDoc(
                summary: "End every session of a user (users:admin)",
                responses: [.empty(.noContent), unauthorized, .error(.forbidden), .error(.notFound, "User not found")]), use: endAllOfUser)
    }

    func list(_ request: Request, _ context: AppContext, _ caller: CurrentUser) throws -> Response {
        let sessions = try AuthRepository(try context.database()).liveSessions(of: caller.user, now: context.now)
        return .json(SessionList(items: sessions.map { SessionPublic($0, currentID: caller.sessionID) }))
    }

    func end(_ request: Request, _ context: AppContext, _ caller: CurrentUser) throws -> Response {
        let id = try request.parameters.int64("id")
        guard try AuthRepository(try context.database()).revoke(sessionID: id, ofUser: caller.id, now: context.now) else {
            throw HTTPError(.notFound, detail: "Session not found")
        }
        return .noContent
    }

    func endAllOfUser(_ request: Request, _ context: AppContext, _ caller: CurrentUser) throws -> Response {
        let id = try request.parameters.int64("id")
        let db = try context.database()
        guard try UserRepository(db).find(id: id) != nil else { throw HTTPError(.notFound, detail: "User not found") }
        try AuthRepository(db).revokeAll(userID: id, now: context.now)
        return .noContent
    }
}
