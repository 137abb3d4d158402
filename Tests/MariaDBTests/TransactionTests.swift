import Foundation
import MariaDB
import TestSupport
import Testing

struct Boom: Error {}

@Suite struct TransactionTests {
    @Test func commitsOnSuccess() throws {
        let db = try freshConnection()
        try db.execute("CREATE TABLE t (n INT) ENGINE=InnoDB")
        let value = try db.transaction {
            try db.execute("INSERT INTO t VALUES (?)", [1])
            try db.execute("INSERT INTO t VALUES (?)", [2])
            return 7
        }
        #expect(value == 7)
        let other = Connection(configuration: db.configuration)
        #expect(try other.query("SELECT COUNT(*) AS n FROM t")[0].get("n", as: Int.self) == 2)
    }

    @Test func aTransactionThatThrowsLeavesNothing() throws {
        let db = try freshConnection()
        try db.execute("CREATE TABLE t (n INT) ENGINE=InnoDB")
        #expect(throws: Boom.self) {
            try db.transaction {
                try db.execute("INSERT INTO t VALUES (?)", [1])
                try db.execute("UPDATE t SET n = n + 1")
                throw Boom()
            }
        }
        #expect(try db.query("SELECT COUNT(*) AS n FROM t")[0].get("n", as: Int.self) == 0)
        // A database error inside rolls back too.
        try db.execute("CREATE TABLE u (n INT PRIMARY KEY) ENGINE=InnoDB")
        #expect(throws: DatabaseError.duplicateKey(key: "PRIMARY")) {
            try db.transaction {
                try db.execute("INSERT INTO u VALUES (?)", [1])
                try db.execute("INSERT INTO u VALUES (?)", [1])
            }
        }
        #expect(try db.query("SELECT COUNT(*) AS n FROM u")[0].get("n", as: Int.self) == 0)
    }

    @Test func transactionsDoNotNest() throws {
        let db = try freshConnection()
        #expect(throws: DatabaseError.usage("transactions do not nest")) {
            try db.transaction { try db.transaction { 1 } }
        }
    }

    @Test func aDeadlockBetweenTwoConnectionsIsRetriedAndSucceeds() throws {
        let configuration = try PrivateMariaDB.shared.makeDatabase()
        let setup = Connection(configuration: configuration)
        try setup.execute("CREATE TABLE t (id INT PRIMARY KEY, n INT NOT NULL) ENGINE=InnoDB")
        try setup.execute("INSERT INTO t VALUES (1, 0), (2, 0)")

        // Each thread locks its first row, waits until the other has too, then wants the other's row.
        let lockedFirst = [DispatchSemaphore(value: 0), DispatchSemaphore(value: 0)]
        let attempts = Locked([0, 0])
        let failures = Locked([String]())
        let finished = onThreads(2) { me in
            let db = Connection(configuration: configuration)
            let (first, second) = me == 0 ? (1, 2) : (2, 1)
            do {
                try db.transaction(maxAttempts: 3) {
                    let attempt = attempts.withLock {
                        $0[me] += 1
                        return $0[me]
                    }
                    try db.execute("UPDATE t SET n = n + 1 WHERE id = ?", [.integer(first)])
                    if attempt == 1 {
                        lockedFirst[me].signal()
                        _ = lockedFirst[1 - me].wait(timeout: .now() + 10)
                    }
                    try db.execute("UPDATE t SET n = n + 1 WHERE id = ?", [.integer(second)])
                }
            } catch {
                failures.withLock { $0.append("\(error)") }
            }
        }
        #expect(finished)
        #expect(failures.current.isEmpty)
        // Exactly one of them was the deadlock victim and ran again.
        #expect(attempts.current.sorted() == [1, 2])
        let rows = try setup.query("SELECT id, n FROM t ORDER BY id")
        #expect(try rows.map { try $0.get("n", as: Int.self) } == [2, 2])
    }

    @Test func retriesAreBounded() throws {
        let db = try freshConnection()
        var runs = 0
        #expect(throws: DatabaseError.deadlock) {
            try db.transaction(maxAttempts: 3) {
                runs += 1
                throw DatabaseError.deadlock
            }
        }
        #expect(runs == 3)
    }
}
