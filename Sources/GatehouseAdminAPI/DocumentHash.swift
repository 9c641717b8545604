// swift-format-ignore-file
// Written by scripts/generate-admin-api: the SHA-256 of openapi/admin.yaml this code was generated from.
public enum AdminAPIDocument {
    public static let sha256 = "dced2313e462b08aeb98e4c854b9f55f1f0ddc64d0f5881b715240f61aa1e251"
}
