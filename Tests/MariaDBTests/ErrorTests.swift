import Foundation
import MariaDB
import TestSupport
import Testing

@Suite struct ErrorTests {
    @Test func duplicateKeyIsTypedWithTheKeyNameAndWithoutTheValue() throws {
        let db = try freshConnection()
        try db.execute(
            """
            CREATE TABLE users (id INT PRIMARY KEY AUTO_INCREMENT, email VARCHAR(100) NOT NULL,
                                UNIQUE KEY users_email_unique (email))
            """)
        try db.execute("INSERT INTO users (email) VALUES (?)", ["secret-address@example.com"])
        do {
            try db.execute("INSERT INTO users (email) VALUES (?)", ["secret-address@example.com"])
            Issue.record("duplicate accepted")
        } catch let error as DatabaseError {
            #expect(error == .duplicateKey(key: "users_email_unique"))
            #expect(!"\(error)".contains("secret-address"))
        }
        #expect(throws: DatabaseError.duplicateKey(key: "PRIMARY")) {
            try db.execute("INSERT INTO users (id, email) VALUES (?, ?)", [1, "other@example.com"])
        }
    }

    @Test func foreignKeyViolationIsTyped() throws {
        let db = try freshConnection()
        try db.execute("CREATE TABLE parent (id INT PRIMARY KEY) ENGINE=InnoDB")
        try db.execute("CREATE TABLE child (id INT PRIMARY KEY, parent_id INT NOT NULL, FOREIGN KEY (parent_id) REFERENCES parent (id)) ENGINE=InnoDB")
        do {
            try db.execute("INSERT INTO child VALUES (?, ?)", [1, 99])
            Issue.record("orphan accepted")
        } catch let error as DatabaseError {
            guard case .foreignKeyViolation = error else {
                Issue.record("got \(error)")
                return
            }
        }
    }

    @Test func valueEchoingServerMessagesAreRedacted() throws {
        let db = try freshConnection()
        try db.execute("CREATE TABLE t (n INT NOT NULL)")
        do {
            try db.execute("INSERT INTO t VALUES (?)", ["hunter2-not-a-number"])
            Issue.record("accepted")
        } catch let error as DatabaseError {
            guard case .server(let code, _) = error else {
                Issue.record("got \(error)")
                return
            }
            #expect(code == 1366)
            #expect(!"\(error)".contains("hunter2"))
        }
    }

    @Test func syntaxErrorsAreServerErrors() throws {
        let db = try freshConnection()
        #expect {
            try db.query("SELEC 1")
        } throws: { error in
            guard case .server(let code, let message) = error as? DatabaseError else { return false }
            return code == 1064 && message.contains("syntax")
        }
    }

    @Test func thePasswordNeverAppearsInErrorsOrDescriptions() throws {
        var configuration = try PrivateMariaDB.shared.makeDatabase()
        configuration.password = "hunter2-wrong-password"
        #expect(!configuration.description.contains("hunter2"))
        let db = Connection(configuration: configuration)
        do {
            _ = try db.query("SELECT 1")
            Issue.record("connected with a wrong password")
        } catch {
            #expect(!"\(error)".contains("hunter2"))
            #expect(!String(reflecting: error).contains("hunter2"))
            guard case .server(let code, _) = error as? DatabaseError else {
                Issue.record("got \(error)")
                return
            }
            #expect(code == 1045)  // access denied
        }
        #expect(db.ping(timeout: 1) == false)
    }

    @Test func pingAnswersOnAHealthyServer() throws {
        let db = try freshConnection()
        #expect(db.ping())
        #expect(db.isConnected)
    }
}
