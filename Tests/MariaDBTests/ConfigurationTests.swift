import Foundation
import MariaDB
import Testing

@Suite struct ConfigurationTests {
    @Test func parsesTCPURL() throws {
        let c = try DatabaseConfiguration(url: "mariadb://app:s3cret@db.example:3307/perch?connect_timeout=3&read_timeout=10")
        #expect(c.endpoint == .tcp(host: "db.example", port: 3307))
        #expect(c.user == "app")
        #expect(c.password == "s3cret")
        #expect(c.database == "perch")
        #expect(c.connectTimeout == 3)
        #expect(c.readTimeout == 10)
        #expect(c.tls == nil)
    }

    @Test func parsesSocketURLWithSeparatePassword() throws {
        let c = try DatabaseConfiguration(
            url: "mariadb://app@localhost/perch?socket=/run/mysqld/mysqld.sock",
            password: "from-env")
        #expect(c.endpoint == .socket(path: "/run/mysqld/mysqld.sock"))
        #expect(c.password == "from-env")
        #expect(c.database == "perch")
    }

    @Test func percentEscapesAreDecoded() throws {
        let c = try DatabaseConfiguration(url: "mariadb://%61pp:p%40ss%2Fw%C3%A9rd+@db/my%2Ddb?socket=%2Frun%2Fdb.sock")
        #expect(c.user == "app")
        #expect(c.password == "p@ss/wérd+")  // '+' stays a plus in a URL's user info
        #expect(c.database == "my-db")
        #expect(c.endpoint == .socket(path: "/run/db.sock"))
    }

    @Test func parsesAListOfNodes() throws {
        let c = try DatabaseConfiguration(url: "mariadb://app@10.0.0.21:3306,10.0.0.22,[fd00::23]:3307/perch")
        #expect(c.endpoints == [.tcp(host: "10.0.0.21", port: 3306), .tcp(host: "10.0.0.22", port: 3306), .tcp(host: "fd00::23", port: 3307)])
        #expect(c.endpoint == .tcp(host: "10.0.0.21", port: 3306))
        #expect(c.nodeChoice == .first)
        #expect(c.description == "mariadb://app@10.0.0.21:3306,10.0.0.22:3306,[fd00::23]:3307/perch")
        #expect(throws: DatabaseError.self) { try DatabaseConfiguration(url: "mariadb://app@a,,b/perch") }
        #expect(throws: DatabaseError.self) { try DatabaseConfiguration(url: "mariadb://app@a,b/perch?socket=/run/db.sock") }
    }

    @Test func defaultPortAndTLS() throws {
        let c = try DatabaseConfiguration(url: "mariadb://app@db/perch?tls=verify&tls_ca=/etc/ca.pem")
        #expect(c.endpoint == .tcp(host: "db", port: 3306))
        #expect(c.tls == .init(caFile: "/etc/ca.pem", verifyServerCertificate: true))
    }

    @Test(arguments: [
        ("postgres://u@h/db", "scheme"),
        ("mariadb://h/db", "missing user"),
        ("mariadb://u@h:99999/db", "port"),
        ("mariadb://u@h:abc/db", "port"),
        ("mariadb://u@/db", "missing host"),
        ("mariadb://u@h/db?bogus=1", "unknown option"),
        ("mariadb://u@h/db?read_timeout=-1", "whole seconds"),
        ("mariadb://u@h/db?socket=relative.sock", "absolute"),
        ("mariadb://u@h/a/b", "'/'"),
        ("just text", "scheme"),
        ("mariadb://u:p%zz@h/db", "percent-encoding in password"),
        ("mariadb://u:p%+1@h/db", "percent-encoding in password"),  // no sign allowed in an escape
        ("mariadb://u:p%4@h/db", "percent-encoding in password"),
        ("mariadb://u@h/d%FFb", "percent-encoding in database")  // not UTF-8
    ])
    func malformedURLsGiveClearErrors(url: String, fragment: String) {
        do {
            _ = try DatabaseConfiguration(url: url)
            Issue.record("accepted \(url)")
        } catch let error as DatabaseError {
            guard case .configuration(let message) = error else {
                Issue.record("wrong error \(error)")
                return
            }
            #expect(message.contains("malformed database URL"))
            #expect(message.contains(fragment), "\(message)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func malformedURLErrorNeverRepeatsThePassword() {
        do {
            _ = try DatabaseConfiguration(url: "mariadb://u:hunter2@h:port/db")
            Issue.record("accepted")
        } catch {
            #expect(!"\(error)".contains("hunter2"))
        }
    }

    @Test func descriptionHidesPassword() throws {
        let c = try DatabaseConfiguration(url: "mariadb://app:hunter2@db:3306/perch")
        #expect(!c.description.contains("hunter2"))
        #expect(!"\(c)".contains("hunter2"))
        #expect(c.description == "mariadb://app:***@db:3306/perch")
    }
}
