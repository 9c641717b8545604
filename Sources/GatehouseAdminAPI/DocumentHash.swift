// swift-format-ignore-file
// Written by scripts/generate-admin-api: the SHA-256 of openapi/admin.yaml this code was generated from.
public enum AdminAPIDocument {
    public static let sha256 = "71cc74f85113a4ecef518165567754ecd9268b47fe157c62862115290ce06009"
}
