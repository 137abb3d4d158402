import Foundation
import MariaDB
import TestSupport
import Testing

/// These stop and restart a server, so they use their own private instance and run one at a time.
@Suite(.serialized) struct OutageTests {
    static let server = PrivateMariaDB()

    @Test func aRestartBetweenTwoQueriesIsInvisible() throws {
        let db = Connection(configuration: try Self.server.makeDatabase())
        try db.execute("CREATE TABLE t (n INT) ENGINE=InnoDB")
        try db.execute("INSERT INTO t VALUES (?)", [1])
        let prepares = db.prepareCount
        #expect(db.connectCount == 1)

        try Self.server.restart()

        // Same SQL as before: the cached statement died with the old connection and is prepared again.
        try db.execute("INSERT INTO t VALUES (?)", [2])
        #expect(db.connectCount == 2)
        #expect(db.prepareCount == prepares + 1)
        #expect(try db.query("SELECT COUNT(*) AS n FROM t")[0].get("n", as: Int.self) == 2)
    }

    @Test func aQueryDuringTheOutageFailsTypedThenRecovers() throws {
        let db = Connection(configuration: try Self.server.makeDatabase())
        #expect(try db.query("SELECT 1 AS one")[0].get("one", as: Int.self) == 1)

        try Self.server.stop()
        for _ in 0..<3 {  // repeated failures stay typed and nothing crashes
            #expect {
                try db.query("SELECT 1 AS one")
            } throws: { error in
                if case .connectionLost = error as? DatabaseError { return true }
                return false
            }
        }
        #expect(db.ping(timeout: 1) == false)
        try Self.server.start()

        #expect(try db.query("SELECT 1 AS one")[0].get("one", as: Int.self) == 1)
        #expect(db.ping())
    }

    @Test func aConnectionLostInsideATransactionRunsItAgainWhole() throws {
        let db = Connection(configuration: try Self.server.makeDatabase())
        try db.execute("CREATE TABLE t (n INT) ENGINE=InnoDB")
        var runs = 0
        try db.transaction {
            runs += 1
            try db.execute("INSERT INTO t VALUES (?)", [1])
            if runs == 1 { try Self.server.restart() }
            try db.execute("INSERT INTO t VALUES (?)", [2])  // must not silently run on a new connection
        }
        // The first run broke before COMMIT and left nothing; the second ran whole on a new connection.
        #expect(runs == 2)
        #expect(db.transactionRetries == 1)
        #expect(try db.query("SELECT n FROM t ORDER BY n").map { try $0.get("n", as: Int.self) } == [1, 2])
    }

    @Test func aConnectionLostInEveryAttemptSurfaces() throws {
        let db = Connection(configuration: try Self.server.makeDatabase())
        try db.execute("CREATE TABLE t (n INT) ENGINE=InnoDB")
        var runs = 0
        #expect {
            try db.transaction(maxAttempts: 2) {
                runs += 1
                try db.execute("INSERT INTO t VALUES (?)", [1])
                try Self.server.restart()
                try db.execute("INSERT INTO t VALUES (?)", [2])
            }
        } throws: { error in
            if case .connectionLost = error as? DatabaseError { return true }
            return false
        }
        #expect(runs == 2)
        #expect(try db.query("SELECT COUNT(*) AS n FROM t")[0].get("n", as: Int.self) == 0)
    }

    @Test func pingGivesUpOnAFrozenServerWithinItsTimeout() throws {
        let db = Connection(configuration: try Self.server.makeDatabase())
        #expect(db.ping(timeout: 1))
        try Self.server.suspend()
        let started = Date()
        let answered = db.ping(timeout: 1)
        let waited = Date().timeIntervalSince(started)
        try Self.server.resume()
        #expect(answered == false)
        #expect(waited < 5, "waited \(waited)s")  // far below the 30s read timeout
        #expect(db.ping(timeout: 2))
        #expect(try db.query("SELECT 1 AS one")[0].get("one", as: Int.self) == 1)
    }

    @Test func aConnectionKilledByTheServerIsReplaced() throws {
        let configuration = try Self.server.makeDatabase()
        let db = Connection(configuration: configuration)
        let id = try db.query("SELECT CONNECTION_ID() AS id")[0].get("id", as: Int64.self)
        let admin = Connection(configuration: configuration)
        try admin.execute("KILL ?", [.int(id)])
        usleep(100_000)
        let newID = try db.query("SELECT CONNECTION_ID() AS id")[0].get("id", as: Int64.self)
        #expect(newID != id)
    }

    /// A read whose connection dies while it runs (a killed node, a KILL) runs again on a new connection;
    /// a write does not: it may have been applied.
    @Test func aReadCutOffOutsideATransactionRunsAgainAndAWriteDoesNot() throws {
        let configuration = try Self.server.makeDatabase()
        let db = Connection(configuration: configuration)
        for isRead in [true, false] {
            let id = try db.query("SELECT CONNECTION_ID() AS id")[0].get("id", as: Int64.self)
            // Long on this connection (so the KILL surely finds it running), instant on a new one.
            let sql = isRead ? "SELECT SLEEP(IF(CONNECTION_ID() = \(id), 10, 0)) AS s" : "DO SLEEP(10)"
            let connects = db.connectCount
            let killer = BackgroundLoad {
                usleep(300_000)
                let admin = Connection(configuration: configuration)
                defer { admin.close() }
                try admin.execute("KILL ?", [.int(id)])
            }
            let outcome = Result { try db.execute(sql) }
            try killer.result(seconds: 10)
            if isRead {
                #expect((try? outcome.get()) != nil, "\(outcome)")
                #expect(db.connectCount == connects + 1)
            } else {
                #expect {
                    try outcome.get()
                } throws: { error in
                    if case .connectionLost = error as? DatabaseError { return true }
                    return false
                }
            }
        }
    }
}
