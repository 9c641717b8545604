// swift-format-ignore-file
// Written by scripts/generate-admin-api: the SHA-256 of openapi/admin.yaml this code was generated from.
public enum AdminAPIDocument {
    public static let sha256 = "a6eb25202a14128ce410f6187456079a0eb9753e9e3fb774d58a639d01d57cb1"
}
