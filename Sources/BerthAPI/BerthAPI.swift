import Foundation

/// Berth's REST API: the types, client and server protocol generated from `openapi.yaml`, which is
/// also served verbatim at `/api/openapi.yaml`.
public enum BerthAPIDocument {
    /// The OpenAPI document as shipped with this build.
    public static func yaml() throws -> Data {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml") else {
            throw CocoaError(.fileNoSuchFile)
        }
        return try Data(contentsOf: url)
    }
}
