import App
import Logging
import MariaDB
import TestSupport
import Testing
import Web

@Suite struct HealthTests {
    @Test(arguments: TestTransport.allCases)
    func livenessTouchesNoDatabase(_ transport: TestTransport) throws {
        let app = try TestApp(transport)
        let response = try app.client().get("/api/v1/health")
        #expect(response.status == .ok)
        #expect(response.text == #"{"status":"ok"}"#)
    }

    @Test(arguments: TestTransport.allCases)
    func readinessAnswersWhenTheDatabaseDoes(_ transport: TestTransport) throws {
        let app = try TestApp(transport)
        let response = try app.client().get("/api/v1/health/ready")
        #expect(response.status == .ok)
        #expect(response.text == #"{"status":"ok","database":"ok"}"#)
    }

    @Test func readinessIs503WithoutADatabase() throws {
        let logger = Logger(label: "test")
        var config = try AppConfiguration.load(environment: ["PERCH_ENV": "development"])
        config.database = DatabaseConfiguration(endpoint: .socket(path: "/nonexistent/mysqld.sock"), user: "nobody", database: "none")
        let app = PerchApp.makeApplication(services: AppServices(config: config, logger: logger), logger: logger)
        let response = try InProcessTestClient(app).get("/api/v1/health/ready")
        #expect(response.status == .serviceUnavailable)
        #expect(try response.json()["detail"] != nil)
    }
}
