import MariaDB

extension DatabaseConfiguration {
    /// The pool's environment for this database (a private server's unix socket, or the TCP server that
    /// PERCH_TEST_DATABASE_URL names).
    public var perchEnvironment: [String: String] {
        let url: String
        switch endpoint {
        case .socket(let path): url = "mariadb://\(user)@localhost/\(database ?? "")?socket=\(path)"
        case .tcp(let host, let port): url = "mariadb://\(user)@\(host):\(port)/\(database ?? "")"
        }
        return ["PERCH_DATABASE_URL": url, "PERCH_DATABASE_PASSWORD": password ?? ""]
    }
}
