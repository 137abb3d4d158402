import FoundationEssentials
import Web

/// The Swagger UI and ReDoc files for /docs and /redoc, read from the folder the package installs them in
/// (deploy/docs-assets.sh fills it with pinned, checksummed copies), so the pages work without the internet.
enum DocsAssets {
    /// PERCH_DOCS_ASSETS_DIR when set, else share/perch/docs-assets next to the binary's prefix
    /// (/usr/share/perch/docs-assets for /usr/bin/perch).
    static func directory(configured: String?) -> String {
        if let configured { return configured }
        return shareFolder("docs-assets").path
    }

    enum Found {
        case found([String: DocsAsset])
        /// Some of the files, not all: their names.
        case incomplete([String])
        case none
    }

    static func load(directory: String) -> Found {
        var assets: [String: DocsAsset] = [:]
        var missing: [String] = []
        for name in DocsConfiguration.assetNames + ["favicon.png"] {
            if let data = FileManager.default.contents(atPath: directory + "/" + name) {
                assets[name] = DocsAsset(contentType: DocsAsset.contentType(for: name), bytes: Array(data))
            } else if name != "favicon.png" {
                missing.append(name)
            }
        }
        if assets.isEmpty { return .none }
        return missing.isEmpty ? .found(assets) : .incomplete(missing)
    }
}
