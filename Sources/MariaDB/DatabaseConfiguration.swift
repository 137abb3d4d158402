/// Where and how to connect. Parsed from a URL; the password is supplied separately (environment or file,
/// read by the app) or in the URL's user info. `description` never shows the password.
///
/// URL forms:
///   mariadb://user[:password]@host[:port]/database[?options]
///   mariadb://user@localhost/database?socket=/run/mysqld/mysqld.sock
///   mariadb://user@db1:3306,db2:3306,db3:3306/database   (the nodes of a Galera cluster, see `Connection`)
/// Options: socket, connect_timeout, read_timeout, write_timeout (whole seconds),
///          tls=off|on|verify (verify = check the server certificate and host name), tls_ca=/path/ca.pem.
public struct DatabaseConfiguration: Sendable, Equatable, CustomStringConvertible {
    public enum Endpoint: Sendable, Equatable {
        case tcp(host: String, port: Int)
        case socket(path: String)
    }

    public struct TLS: Sendable, Equatable {
        /// PEM file of the certificate authority; nil uses the system's default trust store.
        public var caFile: String?
        /// Check the server certificate chain and host name; refuse to connect when it does not match.
        public var verifyServerCertificate: Bool

        public init(caFile: String? = nil, verifyServerCertificate: Bool = true) {
            self.caFile = caFile
            self.verifyServerCertificate = verifyServerCertificate
        }
    }

    /// Where to connect: one server, or the nodes of a cluster (tried as `nodeChoice` says).
    public var endpoints: [Endpoint]
    /// The first of `endpoints` (the only one for a single server).
    public var endpoint: Endpoint {
        get { endpoints[0] }
        set { endpoints = [newValue] }
    }
    /// Which node a connection tries first when there are several.
    public var nodeChoice: NodeChoice = .first
    /// While connected to another node than its first choice, a connection tries its first choice again
    /// this often (seconds), so a node that came back is used again.
    public var failbackInterval: Int = 10
    public var user: String
    public var password: String?
    /// nil connects without selecting a database (administrative use, e.g. CREATE DATABASE).
    public var database: String?
    /// Timeouts in whole seconds (libmariadb's unit).
    public var connectTimeout: Int
    public var readTimeout: Int
    public var writeTimeout: Int
    /// nil: no TLS.
    public var tls: TLS?

    public static let defaultPort = 3306

    /// Where the connections of a pool go when there are several nodes.
    public enum NodeChoice: String, Sendable, Equatable, CaseIterable {
        /// Every worker on the first usable node of the list: one writer node, no certification conflicts
        /// between this pool's own transactions (Galera's advice).
        case first
        /// Each worker starts at another node (by its process id), spreading the pool over the nodes.
        case spread
    }

    public init(
        endpoint: Endpoint, user: String, password: String? = nil, database: String?,
        connectTimeout: Int = 5, readTimeout: Int = 30, writeTimeout: Int = 30, tls: TLS? = nil
    ) {
        self.endpoints = [endpoint]
        self.user = user
        self.password = password
        self.database = database
        self.connectTimeout = connectTimeout
        self.readTimeout = readTimeout
        self.writeTimeout = writeTimeout
        self.tls = tls
    }

    /// Parses `url`. A non-nil `password` wins over one in the URL.
    /// Errors are `DatabaseError.configuration` and never repeat the URL (it may hold a password).
    public init(url: String, password: String? = nil) throws {
        func bad(_ why: String) -> DatabaseError {
            .configuration("malformed database URL: \(why) (expected mariadb://user[:password]@host[:port]/database)")
        }
        guard let schemeEnd = url.firstRange(of: "://") else { throw bad("missing scheme") }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "mariadb" || scheme == "mysql" else { throw bad("scheme must be mariadb://") }
        var rest = Substring(url[schemeEnd.upperBound...])

        // Split off the query first: everything after '?'.
        var query: Substring = ""
        if let q = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: q)...]
            rest = rest[..<q]
        }
        guard let at = rest.lastIndex(of: "@") else { throw bad("missing user (user@host)") }
        let userInfo = rest[..<at]
        let hostAndPath = rest[rest.index(after: at)...]

        var urlPassword: String?
        let userPart: Substring
        if let colon = userInfo.firstIndex(of: ":") {
            userPart = userInfo[..<colon]
            guard let p = percentDecoded(userInfo[userInfo.index(after: colon)...]) else {
                throw bad("bad percent-encoding in password")
            }
            urlPassword = p
        } else {
            userPart = userInfo
        }
        guard let user = percentDecoded(userPart), !user.isEmpty else { throw bad("missing user") }

        let hostPort: Substring
        var databaseName: String?
        if let slash = hostAndPath.firstIndex(of: "/") {
            hostPort = hostAndPath[..<slash]
            let path = hostAndPath[hostAndPath.index(after: slash)...]
            guard let db = percentDecoded(path) else { throw bad("bad percent-encoding in database") }
            guard !db.contains("/") else { throw bad("database name must not contain '/'") }
            databaseName = db.isEmpty ? nil : db
        } else {
            hostPort = hostAndPath
        }

        var nodes: [(host: String, port: Int)] = []
        for node in hostPort.split(separator: ",", omittingEmptySubsequences: false) {
            nodes.append(try Self.hostAndPort(node, bad: bad))
        }
        var socket: String?
        var timeouts = (connect: 5, read: 30, write: 30)
        var tlsMode = "off"
        var tlsCA: String?
        for pair in query.split(separator: "&") where !pair.isEmpty {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(kv[0])
            guard kv.count == 2, let value = percentDecoded(kv[1]), !value.isEmpty else {
                throw bad("option '\(key)' needs a value")
            }
            func seconds() throws -> Int {
                guard let s = Int(value), s > 0, s <= 86_400 else { throw bad("option '\(key)' must be whole seconds") }
                return s
            }
            switch key {
            case "socket": socket = value
            case "connect_timeout": timeouts.connect = try seconds()
            case "read_timeout": timeouts.read = try seconds()
            case "write_timeout": timeouts.write = try seconds()
            case "tls":
                guard ["off", "on", "verify"].contains(value) else { throw bad("tls must be off, on or verify") }
                tlsMode = value
            case "tls_ca": tlsCA = value
            default: throw bad("unknown option '\(key)'")
            }
        }

        let endpoint: Endpoint
        if let socket {
            guard socket.hasPrefix("/") else { throw bad("socket must be an absolute path") }
            guard nodes.count == 1 else { throw bad("socket takes one host, not a list") }
            endpoint = .socket(path: socket)
        } else {
            guard nodes.allSatisfy({ !$0.host.isEmpty }) else { throw bad("missing host") }
            endpoint = .tcp(host: nodes[0].host, port: nodes[0].port)
        }
        var tls: TLS?
        switch tlsMode {
        case "on": tls = TLS(caFile: tlsCA, verifyServerCertificate: false)
        case "verify": tls = TLS(caFile: tlsCA, verifyServerCertificate: true)
        default:
            if tlsCA != nil { throw bad("tls_ca needs tls=on or tls=verify") }
        }
        self.init(
            endpoint: endpoint, user: user, password: password ?? urlPassword, database: databaseName,
            connectTimeout: timeouts.connect, readTimeout: timeouts.read, writeTimeout: timeouts.write, tls: tls)
        if socket == nil { endpoints = nodes.map { .tcp(host: $0.host, port: $0.port) } }
    }

    /// "host", "host:port" or "[v6]:port".
    private static func hostAndPort(_ text: Substring, bad: (String) -> DatabaseError) throws -> (host: String, port: Int) {
        var host = String(text)
        var port = Self.defaultPort
        if host.hasPrefix("[") {  // [IPv6]:port
            guard let close = host.firstIndex(of: "]") else { throw bad("unclosed '[' in host") }
            let after = host[host.index(after: close)...]
            if after.hasPrefix(":") {
                guard let p = Int(after.dropFirst()), (1...65535).contains(p) else { throw bad("port must be 1-65535") }
                port = p
            } else if !after.isEmpty {
                throw bad("unexpected text after host")
            }
            host = String(host[host.index(after: host.startIndex)..<close])
        } else if let colon = host.lastIndex(of: ":") {
            guard let p = Int(host[host.index(after: colon)...]), (1...65535).contains(p) else {
                throw bad("port must be 1-65535")
            }
            port = p
            host = String(host[..<colon])
        }
        return (host, port)
    }

    /// The same connection with another database selected (tests create fresh databases this way).
    public func with(database: String?) -> DatabaseConfiguration {
        var copy = self
        copy.database = database
        return copy
    }

    /// A URL-like text for logs: never contains the password.
    public var description: String {
        var text = "mariadb://\(user)"
        if password != nil { text += ":***" }
        switch endpoint {
        case .tcp:
            text +=
                "@"
                + endpoints.map { node in
                    guard case .tcp(let host, let port) = node else { return "" }
                    return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
                }.joined(separator: ",")
            text += "/\(database ?? "")"
        case .socket(let path):
            text += "@localhost/\(database ?? "")?socket=\(path)"
        }
        if let tls { text += (text.contains("?") ? "&" : "?") + (tls.verifyServerCertificate ? "tls=verify" : "tls=on") }
        return text
    }
}

/// `%XX` escapes decoded (no `+` for space, as in a URL's user, path and query values); nil when an escape is
/// malformed or the bytes are not UTF-8.
private func percentDecoded(_ text: Substring) -> String? {
    func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
    let utf8 = Array(text.utf8)
    var bytes: [UInt8] = []
    var i = 0
    while i < utf8.count {
        guard utf8[i] == UInt8(ascii: "%") else {
            bytes.append(utf8[i])
            i += 1
            continue
        }
        guard i + 2 < utf8.count, let high = hexValue(utf8[i + 1]), let low = hexValue(utf8[i + 2]) else { return nil }
        bytes.append(high << 4 | low)
        i += 3
    }
    return String(validating: bytes, as: UTF8.self)
}
