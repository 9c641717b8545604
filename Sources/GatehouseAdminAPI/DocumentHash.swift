// swift-format-ignore-file
// Written by scripts/generate-admin-api: the SHA-256 of openapi/admin.yaml this code was generated from.
public enum AdminAPIDocument {
    public static let sha256 = "a150e86da7c720b753c472142497f8a178bbe7b236aded4de66ea25f7c3c7e76"
}
