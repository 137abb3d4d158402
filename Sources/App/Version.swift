/// The one place the service's version is written: `perch --version`, the start-up log line,
/// the status page and OpenAPI's `info.version` all read it from here.
public enum PerchVersion {
    public static let current = "0.1.0"
}
